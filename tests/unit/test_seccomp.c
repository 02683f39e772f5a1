/*
 * The baseline seccomp filter. Each live case forks; the child sets no_new_privs, loads the
 * filter, makes one raw call and reports through its exit status whether the call failed
 * with the expected errno (or succeeded, when that is expected). Needs no privilege.
 *
 * The x32 ABI cannot be tried live on a kernel built without it (the call fails with ENOSYS
 * with or without a filter), so the exported BPF program is also run here on made-up
 * seccomp_data, which tests the x32 and i386 guards on any kernel. A kernel without the
 * i386 ABI is reported for the live i386 cases, and fails them in CI (lacks.h).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/seccomp.h"
#include "ldm/util.h"
#include "lacks.h"

#define FAM(f)           (UINT64_C(1) << (f))
#define DEFAULT_FAMILIES (FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK))
#define HIGH32           (UINT64_C(1) << 32)
#define X32_BIT          0x40000000UL
#define BADFD            UINT64_MAX /* fd -1: a call let through fails with EBADF, does nothing */
#define NO_NETLINK       (FAM(AF_UNIX) | FAM(AF_INET))

/* Exit codes of a child that did not get to compare the call's result. */
enum {
	CHILD_SUCCEEDED = 100, /* the call succeeded but should have failed */
	CHILD_NNP = 101,
	CHILD_LOAD = 102,
	CHILD_SEND = 103,
};

static int
call_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static void *
thread_main(void *arg)
{
	return arg;
}

static int
call_pthread(void)
{
	pthread_t t;
	void *res = NULL;
	int r = pthread_create(&t, NULL, thread_main, &r);

	if (r != 0)
		return -r;
	r = pthread_join(t, &res);
	return r != 0 ? -r : 0;
}

static int
call_socketpair_unix(void)
{
	int sv[2];

	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ? -errno : 0;
}

/* getpid through the i386 entry (int 0x80): syscall 20 there. Returns pid or -errno. */
static int
call_i386_getpid(void)
{
#if defined(__x86_64__)
	long r = 20;

	__asm__ volatile("int $0x80" : "+a"(r) : : "r8", "r9", "r10", "r11", "memory");
	return (int)r;
#else
	return -EOPNOTSUPP;
#endif
}

static int
call_i386(void)
{
	int r = call_i386_getpid();

	return r < 0 ? r : 0;
}

struct live_case {
	const char *name;
	long nr;
	uint64_t a[6];
	int want;          /* the errno the call must fail with; 0: it must succeed */
	uint64_t families; /* 0: DEFAULT_FAMILIES */
	bool multicast;
	bool deny_uname; /* the policy's deny list names uname */
	bool i386;       /* skipped where the kernel lacks the i386 ABI */
	int (*fn)(void); /* instead of NR: returns 0 or -errno */
};

static const struct live_case live_cases[] = {
	/* sockets */
	{ "socket(AF_PACKET)", __NR_socket, { AF_PACKET, SOCK_RAW, 0 }, EPERM },
	{ "socket(AF_PACKET) all listed",
	  __NR_socket,
	  { AF_PACKET, SOCK_DGRAM, 0 },
	  EPERM,
	  ~UINT64_C(0) },
	{ "socket(AF_INET, SOCK_RAW)", __NR_socket, { AF_INET, SOCK_RAW, IPPROTO_ICMP }, EPERM },
	{ "AF_INET, SOCK_RAW|SOCK_CLOEXEC",
	  __NR_socket,
	  { AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP },
	  EPERM },
	{ "AF_INET6, SOCK_RAW|SOCK_NONBLOCK",
	  __NR_socket,
	  { AF_INET6, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6 },
	  EPERM },
	{ "socket(AF_INET, SOCK_PACKET)", __NR_socket, { AF_INET, SOCK_PACKET, 0 }, EPERM },
	{ "socket(AF_BLUETOOTH)", __NR_socket, { AF_BLUETOOTH, SOCK_STREAM, 0 }, EAFNOSUPPORT },
	{ "socket(AF_NETLINK) unlisted",
	  __NR_socket,
	  { AF_NETLINK, SOCK_RAW, 0 },
	  EAFNOSUPPORT,
	  NO_NETLINK },
	{ "socket(AF_INET6) unlisted",
	  __NR_socket,
	  { AF_INET6, SOCK_DGRAM, 0 },
	  EAFNOSUPPORT,
	  NO_NETLINK },
	{ "socket(AF_INET | 1 << 32)",
	  __NR_socket,
	  { HIGH32 | AF_INET, SOCK_DGRAM, 0 },
	  EAFNOSUPPORT },
	{ "socket(AF_INET, SOCK_DGRAM)", __NR_socket, { AF_INET, SOCK_DGRAM, 0 }, 0 },
	{ "socket(AF_INET6, SOCK_STREAM)", __NR_socket, { AF_INET6, SOCK_STREAM, 0 }, 0 },
	{ "socket(AF_UNIX)", __NR_socket, { AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 }, 0 },
	{ "socket(AF_NETLINK, SOCK_RAW)", __NR_socket, { AF_NETLINK, SOCK_RAW, 0 }, 0 },
	{ "socketpair(AF_BLUETOOTH)",
	  __NR_socketpair,
	  { AF_BLUETOOTH, SOCK_STREAM, 0, 0 },
	  EAFNOSUPPORT },
	{ "socketpair(AF_UNIX)", .fn = call_socketpair_unix },
	/* calls with a fallback */
	{ "io_uring_setup", __NR_io_uring_setup, { 1, 0 }, ENOSYS },
	{ "io_uring_enter", __NR_io_uring_enter, { BADFD, 0, 0, 0, 0, 0 }, ENOSYS },
	{ "io_uring_register", __NR_io_uring_register, { BADFD, 0, 0, 0 }, ENOSYS },
	{ "clone3", __NR_clone3, { 0, 0 }, ENOSYS },
	/* namespaces */
	{ "unshare(CLONE_NEWNET)", __NR_unshare, { CLONE_NEWNET }, EPERM },
	{ "unshare(CLONE_NEWUSER)", __NR_unshare, { CLONE_NEWUSER }, EPERM },
	{ "unshare(CLONE_NEWNS|CLONE_FILES)", __NR_unshare, { CLONE_NEWNS | CLONE_FILES }, EPERM },
	{ "unshare(CLONE_NEWTIME)", __NR_unshare, { 0x80 }, EPERM },
	{ "unshare(CLONE_FILES)", __NR_unshare, { CLONE_FILES }, 0 },
	{ "clone(CLONE_NEWUSER)", __NR_clone, { CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0 }, EPERM },
	{ "clone(CLONE_NEWNET)", __NR_clone, { CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0 }, EPERM },
	{ "setns", __NR_setns, { BADFD, 0 }, EPERM },
	{ "fork", .fn = call_fork },
	{ "pthread_create", .fn = call_pthread },
	/* other processes, the kernel, mounts */
	{ "ptrace(PTRACE_TRACEME)", __NR_ptrace, { 0 }, EPERM },
	{ "process_vm_readv", __NR_process_vm_readv, { 1, 0, 0, 0, 0, 0 }, EPERM },
	{ "process_vm_writev", __NR_process_vm_writev, { 1, 0, 0, 0, 0, 0 }, EPERM },
	{ "pidfd_getfd", __NR_pidfd_getfd, { BADFD, 0, 0 }, EPERM },
	{ "bpf", __NR_bpf, { 0, 0, 0 }, EPERM },
	{ "perf_event_open", __NR_perf_event_open, { 0, 0, BADFD, BADFD, 0 }, EPERM },
	{ "mount", __NR_mount, { 0, 0, 0, 0, 0 }, EPERM },
	{ "umount2", __NR_umount2, { 0, 0 }, EPERM },
	{ "pivot_root", __NR_pivot_root, { 0, 0 }, EPERM },
	{ "fsopen", __NR_fsopen, { 0, 0 }, EPERM },
	{ "open_tree", __NR_open_tree, { BADFD, 0, 0 }, EPERM },
	{ "kexec_load", __NR_kexec_load, { 0, 0, 0, 0 }, EPERM },
	{ "finit_module", __NR_finit_module, { BADFD, 0, 0 }, EPERM },
	{ "delete_module", __NR_delete_module, { 0, 0 }, EPERM },
	{ "add_key", __NR_add_key, { 0, 0, 0, 0, 0 }, EPERM },
	{ "request_key", __NR_request_key, { 0, 0, 0, 0 }, EPERM },
	{ "keyctl", __NR_keyctl, { 0, 0 }, EPERM },
	/* terminal */
	{ "ioctl(TIOCSTI)", __NR_ioctl, { BADFD, TIOCSTI, 0 }, EPERM },
	{ "ioctl(TIOCSTI | 1 << 32)", __NR_ioctl, { BADFD, HIGH32 | TIOCSTI, 0 }, EPERM },
	{ "ioctl(TIOCLINUX)", __NR_ioctl, { BADFD, TIOCLINUX, 0 }, EPERM },
	{ "ioctl(TCGETS)", __NR_ioctl, { BADFD, TCGETS, 0 }, EBADF },
	/* multicast */
	{ "IP_ADD_MEMBERSHIP", __NR_setsockopt, { BADFD, IPPROTO_IP, IP_ADD_MEMBERSHIP }, EPERM },
	{ "IP_ADD_MEMBERSHIP allowed",
	  __NR_setsockopt,
	  { BADFD, IPPROTO_IP, IP_ADD_MEMBERSHIP },
	  EBADF,
	  .multicast = true },
	{ "MCAST_JOIN_SOURCE_GROUP",
	  __NR_setsockopt,
	  { BADFD, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP },
	  EPERM },
	{ "IPV6_ADD_MEMBERSHIP",
	  __NR_setsockopt,
	  { BADFD, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP },
	  EPERM },
	{ "IPV6 MCAST_JOIN_GROUP|1<<32",
	  __NR_setsockopt,
	  { BADFD, IPPROTO_IPV6, HIGH32 | MCAST_JOIN_GROUP },
	  EPERM },
	{ "IP_MULTICAST_TTL", __NR_setsockopt, { BADFD, IPPROTO_IP, IP_MULTICAST_TTL }, EBADF },
	/* the policy's deny list */
	{ "uname denied", __NR_uname, { 0 }, EPERM, .deny_uname = true },
	{ "uname", __NR_uname, { 0 }, EFAULT },
	/* foreign ABIs */
	{ "x32 getpid", (long)(X32_BIT | __NR_getpid), { 0 }, ENOSYS },
	{ "i386 getpid", .want = ENOSYS, .i386 = true, .fn = call_i386 },
};

static int
live_call(const struct live_case *c)
{
	long r;

	if (c->fn != NULL)
		return c->fn();
	r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
	return r < 0 ? -errno : 0;
}

/*
 * Loads the case's filter and makes its call. With SOCK >= 0, the notify variant: the
 * listener goes to the parent over SOCK, and our own copy is closed before the call; with
 * WAIT_GO, the call waits for a byte from the parent.
 */
static _Noreturn void
live_child(const struct live_case *c, int sock, bool wait_go)
{
	char go;
	static const int deny[] = { __NR_uname };
	uint64_t families = c->families != 0 ? c->families : DEFAULT_FAMILIES;
	struct ldm_seccomp_opts o = {
		.families = families,
		.allow_multicast = c->multicast,
		.notify = sock >= 0,
		.deny = deny,
		.n_deny = c->deny_uname ? 1 : 0,
	};
	int nfd, r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(CHILD_NNP);
	if (ldm_seccomp_load(&o, &nfd) < 0 || (nfd >= 0) != o.notify)
		_exit(CHILD_LOAD);
	if (sock >= 0) {
		if (ldm_seccomp_send_fd(sock, nfd) < 0)
			_exit(CHILD_SEND);
		close(nfd);
		if (wait_go && read(sock, &go, 1) != 1)
			_exit(CHILD_SEND);
		close(sock);
	}
	r = live_call(c);
	if (r == -c->want)
		_exit(0);
	_exit(r == 0 ? CHILD_SUCCEEDED : (-r < CHILD_SUCCEEDED ? -r : 99));
}

/* Tries int 0x80 in an unfiltered child: true when the i386 ABI answers getpid right. */
static bool
have_i386(void)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(call_i386_getpid() == getpid() ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_live(void **state)
{
	bool i386 = have_i386();

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(live_cases); i++) {
		const struct live_case *c = &live_cases[i];
		int status;
		pid_t pid;

		if (c->i386 && !i386) {
			ldm_test_lacks("'%s': the kernel has no i386 ABI (IA32 emulation)",
			               c->name);
			continue;
		}
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			live_child(c, -1, false);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status))
			fail_msg("'%s': child died with status %#x", c->name, status);
		if (WEXITSTATUS(status) != 0)
			fail_msg("'%s': want errno %d, child exited %d (errno, or %d succeeded, "
			         "%d no_new_privs, %d load)",
			         c->name, c->want, WEXITSTATUS(status), CHILD_SUCCEEDED, CHILD_NNP,
			         CHILD_LOAD);
	}
}

/*
 * The calls that the notify variant sends to the listener (and so reports): every baseline
 * denial but clone3 (libc tries it for every thread), the tty ioctls and multicast joins
 * (argument rules), and the policy's own deny list. Calls the kernel refuses by itself
 * (EFAULT, EBADF: want set, but allowed by the filter) are not notified either.
 */
static bool
notified_case(const struct live_case *c)
{
	static const long quiet[] = { __NR_clone3, __NR_ioctl, __NR_setsockopt, __NR_uname };

	if (c->want == 0 || c->fn != NULL || c->i386 || (c->nr & 0x40000000) != 0 ||
	    c->want == EFAULT || c->want == EBADF || c->want == EINVAL)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(quiet); i++)
		if (c->nr == quiet[i])
			return false;
	return true;
}

/* Acts as the listener on NFD until PID exits; counts notifications into *N. */
static int
serve_until_exit(int nfd, uint64_t families, pid_t pid, unsigned *n,
                 struct ldm_seccomp_denial *last)
{
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int status;

	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
	while (waitpid(pid, &status, WNOHANG) != pid) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };

		if (poll(&p, 1, 20) == 1 && (p.revents & POLLIN) != 0 &&
		    ldm_seccomp_notify_handle(nfd, families, req, resp, last) == 0)
			(*n)++;
	}
	seccomp_notify_free(req, resp);
	return status;
}

/* Forks a notify-variant child for C and serves it; checks errno and what was seen. */
static void
run_notify_case(const struct live_case *c)
{
	uint64_t families = c->families != 0 ? c->families : DEFAULT_FAMILIES;
	struct ldm_seccomp_denial last = { 0 };
	unsigned n = 0;
	int sv[2], nfd, status;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		live_child(c, sv[1], false);
	}
	close(sv[1]);
	nfd = ldm_seccomp_recv_fd(sv[0]);
	close(sv[0]);
	if (nfd < 0)
		fail_msg("'%s': no listener fd: %d", c->name, nfd);
	status = serve_until_exit(nfd, families, pid, &n, &last);
	close(nfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("'%s' (notify): want errno %d, child status %#x", c->name, c->want,
		         status);
	if (n != (notified_case(c) ? 1u : 0u))
		fail_msg("'%s': %u notifications", c->name, n);
	if (n == 1 && (last.nr != (int)c->nr || last.err != c->want || last.pid != (uint32_t)pid))
		fail_msg("'%s': saw nr %d err %d pid %u", c->name, last.nr, last.err, last.pid);
}

/* Every live case again with the notify variant: the listener gives the same answers. */
static void
test_live_notify(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(live_cases); i++)
		if (!live_cases[i].i386)
			run_notify_case(&live_cases[i]);
}

/* Without a listener, notified calls fail with ENOSYS: they never succeed. */
static void
test_notify_listener_gone(void **state)
{
	static const struct live_case cases[] = {
		{ "socket(AF_PACKET)", __NR_socket, { AF_PACKET, SOCK_RAW, 0 }, ENOSYS },
		{ "socket(AF_BLUETOOTH)", __NR_socket, { AF_BLUETOOTH, SOCK_STREAM, 0 }, ENOSYS },
		{ "unshare(CLONE_NEWUSER)", __NR_unshare, { CLONE_NEWUSER }, ENOSYS },
		{ "socket(AF_INET)", __NR_socket, { AF_INET, SOCK_DGRAM, 0 }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int sv[2], nfd, status;
		char go = 'g';
		pid_t pid;

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(sv[0]);
			live_child(&cases[i], sv[1], true);
		}
		close(sv[1]);
		nfd = ldm_seccomp_recv_fd(sv[0]);
		assert_true(nfd >= 0);
		close(nfd); /* the listener dies before the call is made */
		assert_int_equal(write(sv[0], &go, 1), 1);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		close(sv[0]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("'%s': want errno %d, child status %#x", cases[i].name,
			         cases[i].want, status);
	}
}

static void
test_denied_errno(void **state)
{
	static const struct {
		int nr;
		uint64_t a0, a1;
		uint64_t families;
		int want;
	} cases[] = {
		{ __NR_socket, AF_PACKET, SOCK_RAW, ~UINT64_C(0), EPERM },
		{ __NR_socket, AF_BLUETOOTH, SOCK_STREAM, DEFAULT_FAMILIES, EAFNOSUPPORT },
		{ __NR_socket, HIGH32 | AF_INET, SOCK_DGRAM, DEFAULT_FAMILIES, EAFNOSUPPORT },
		{ __NR_socket, 64, SOCK_DGRAM, ~UINT64_C(0), EAFNOSUPPORT },
		{ __NR_socket, AF_INET, SOCK_RAW | SOCK_CLOEXEC, DEFAULT_FAMILIES, EPERM },
		{ __NR_socket, AF_INET6, SOCK_PACKET, DEFAULT_FAMILIES, EPERM },
		{ __NR_socket, AF_INET6, SOCK_DGRAM, NO_NETLINK, EAFNOSUPPORT },
		{ __NR_socketpair, AF_INET, SOCK_RAW, DEFAULT_FAMILIES, EPERM },
		{ __NR_socketpair, AF_NETLINK, SOCK_RAW, NO_NETLINK, EAFNOSUPPORT },
		{ __NR_unshare, CLONE_NEWNET, 0, DEFAULT_FAMILIES, EPERM },
		{ __NR_clone, CLONE_NEWUSER, 0, DEFAULT_FAMILIES, EPERM },
		{ __NR_setns, 3, 0, DEFAULT_FAMILIES, EPERM },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t a[6] = { cases[i].a0, cases[i].a1 };
		int got = ldm_seccomp_denied_errno(cases[i].families, cases[i].nr, a);

		if (got != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
	}
}

#if defined(__x86_64__)
/* A classic BPF interpreter for the instructions libseccomp emits. */
static uint32_t
bpf_run(const struct sock_filter *prog, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *in = &prog[pc];

		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(in->k % 4 == 0 && in->k + 4 <= sizeof(*d));
			memcpy(&a, (const char *)d + in->k, sizeof(a));
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= in->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += in->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == in->k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > in->k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= in->k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & in->k) != 0 ? in->jt : in->jf;
			break;
		case BPF_RET | BPF_K:
			return in->k;
		default:
			fail_msg("BPF opcode %#x at %zu not interpreted", in->code, pc);
		}
	}
	fail_msg("BPF program ran off its end");
	return SECCOMP_RET_KILL_PROCESS; /* not reached: fail_msg() jumps out */
}

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

static const struct bpf_case {
	const char *name;
	uint32_t arch;
	uint32_t nr;
	uint64_t a[6];
	uint32_t want;
} bpf_cases[] = {
	{ "getpid", AUDIT_ARCH_X86_64, __NR_getpid, { 0 }, SECCOMP_RET_ALLOW },
	{ "x32 getpid", AUDIT_ARCH_X86_64, X32_BIT | __NR_getpid, { 0 }, RET_ERRNO(ENOSYS) },
	{ "x32 socket(AF_INET)",
	  AUDIT_ARCH_X86_64,
	  X32_BIT | 41,
	  { AF_INET, SOCK_DGRAM },
	  RET_ERRNO(ENOSYS) },
	{ "i386 socketcall", AUDIT_ARCH_I386, 102, { 1, 0 }, RET_ERRNO(ENOSYS) },
	{ "i386 getpid", AUDIT_ARCH_I386, 20, { 0 }, RET_ERRNO(ENOSYS) },
	{ "socket(AF_INET)",
	  AUDIT_ARCH_X86_64,
	  __NR_socket,
	  { AF_INET, SOCK_DGRAM },
	  SECCOMP_RET_ALLOW },
	{ "socket(AF_PACKET | 1 << 32)",
	  AUDIT_ARCH_X86_64,
	  __NR_socket,
	  { HIGH32 | AF_PACKET, SOCK_RAW },
	  RET_ERRNO(EAFNOSUPPORT) },
	{ "socket(AF_INET, SOCK_RAW | 1 << 32)",
	  AUDIT_ARCH_X86_64,
	  __NR_socket,
	  { AF_INET, HIGH32 | SOCK_RAW },
	  RET_ERRNO(EPERM) },
	{ "ioctl(TIOCSTI | 0xffffffff << 32)",
	  AUDIT_ARCH_X86_64,
	  __NR_ioctl,
	  { 0, UINT64_C(0xffffffff00000000) | TIOCSTI },
	  RET_ERRNO(EPERM) },
	{ "clone(CLONE_VM|CLONE_THREAD...)",
	  AUDIT_ARCH_X86_64,
	  __NR_clone,
	  { CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD },
	  SECCOMP_RET_ALLOW },
};

/* Exports the default filter's BPF into *RET_PROG (malloc'd). Returns the instruction count. */
static size_t
export_bpf(struct sock_filter **ret_prog)
{
	_cleanup_(ldm_seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int fd = -1;
	off_t size;

	struct ldm_seccomp_opts o = { .families = DEFAULT_FAMILIES };

	assert_int_equal(ldm_seccomp_build(&o, &ctx), 0);
	fd = memfd_create("bpf", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size > 0 && size % sizeof(struct sock_filter) == 0);
	*ret_prog = malloc((size_t)size);
	assert_non_null(*ret_prog);
	assert_int_equal(pread(fd, *ret_prog, (size_t)size, 0), size);
	return (size_t)size / sizeof(struct sock_filter);
}

static void
test_bpf(void **state)
{
	_cleanup_free_ struct sock_filter *prog = NULL;
	size_t n = export_bpf(&prog);

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bpf_cases); i++) {
		const struct bpf_case *c = &bpf_cases[i];
		struct seccomp_data d = { .nr = (int)c->nr, .arch = c->arch };
		uint32_t got;

		memcpy(d.args, c->a, sizeof(d.args));
		got = bpf_run(prog, n, &d);
		if (got != c->want)
			fail_msg("'%s': got action %#x, want %#x", c->name, got, c->want);
	}
}
#endif

static void
test_build_errors(void **state)
{
	static const int negative[] = { __NR_getpid, -10070 };
	static const struct {
		const char *name;
		const int *deny;
		size_t n;
		int rc;
	} cases[] = {
		{ "negative number", negative, ELEMENTSOF(negative), -EINVAL },
		{ "NULL list", NULL, 1, -EINVAL },
		{ "too many", negative, 1000000, -E2BIG },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		scmp_filter_ctx ctx = (scmp_filter_ctx)&ctx;
		struct ldm_seccomp_opts o = {
			.families = DEFAULT_FAMILIES,
			.deny = cases[i].deny,
			.n_deny = cases[i].n,
		};
		int rc = ldm_seccomp_build(&o, &ctx);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].name, rc, cases[i].rc);
		assert_ptr_equal(ctx, (scmp_filter_ctx)&ctx);
	}
}

/* No family at all, every family, multicast allowed: all still build. */
static void
test_build_variants(void **state)
{
	static const struct {
		uint64_t families;
		bool multicast;
	} cases[] = { { 0, false }, { UINT64_MAX, true }, { DEFAULT_FAMILIES, true } };
	static const int deny[] = { __NR_clone3, __NR_socket, __NR_ptrace, __NR_clone };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		for (int notify = 0; notify < 2; notify++) {
			_cleanup_(ldm_seccomp_releasep) scmp_filter_ctx ctx = NULL;
			struct ldm_seccomp_opts o = {
				.families = cases[i].families,
				.allow_multicast = cases[i].multicast,
				.notify = notify,
				.deny = deny,
				.n_deny = ELEMENTSOF(deny),
			};

			assert_int_equal(ldm_seccomp_build(&o, &ctx), 0);
			assert_non_null(ctx);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_variants),
#if defined(__x86_64__)
		cmocka_unit_test(test_bpf),
#endif
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_denied_errno),
		cmocka_unit_test(test_live_notify),
		cmocka_unit_test(test_notify_listener_gone),
	};

	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
