/*
 * The baseline seccomp filter: what it denies and why is in seccomp.h. Default ALLOW, native
 * ABI only; every rule that fails to add fails the build (STYLE rule 13).
 *
 * Syscall arguments arrive in 64-bit registers, but the kernel reads many of them as int or
 * unsigned int and ignores the upper half. Comparisons on such arguments mask them to 32
 * bits, or, for socket families, refuse every value of 64 and up (upper half set included)
 * before comparing exactly, so garbage in the upper half cannot slip a value past a rule.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/seccomp.h"
#include "ldm/policy.h"
#include "ldm/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6 */
#endif

/* The argument that holds clone()'s flags: the first one, except on s390 and CRIS. */
#if defined(__s390__) || defined(__CRIS__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

#define MASK32 UINT64_C(0xffffffff)

/* Other processes' memory, kernel attack surface, mounts, kexec, modules, keyrings. */
static const char *const deny_eperm[] = {
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"bpf",
	"perf_event_open",
	"mount",
	"umount",
	"umount2",
	"pivot_root",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"mount_setattr",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"add_key",
	"request_key",
	"keyctl",
};

/*
 * ENOSYS where the app has a fallback: libc retries clone3 as clone (clone3 passes its flags
 * in memory, out of seccomp's sight); io_uring would run socket operations that seccomp
 * never sees, and its users fall back to plain syscalls.
 */
static const char *const deny_enosys[] = {
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
};

/* clone3 is refused without a report: libc tries it for every thread and falls back to
 * clone, so reporting it would fill the log with nothing the app meant to do. */
static const char *const deny_enosys_quiet[] = { "clone3" };

static const uint64_t ns_flags[] = {
	CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, CLONE_NEWTIME,
};

/* Typing into the launching terminal (TIOCSTI) and the console's selection paste. */
static const uint64_t tty_ioctls[] = { TIOCSTI, TIOCLINUX };

/* Raw IP sockets; the kernel turns (AF_INET, SOCK_PACKET) into an AF_PACKET socket. */
static const int raw_types[] = { SOCK_RAW, SOCK_PACKET };
static const int ip_families[] = { AF_INET, AF_INET6 };

static const struct {
	int level;
	int optname;
} mcast_joins[] = {
	{ IPPROTO_IP, IP_ADD_MEMBERSHIP },         { IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP },
	{ IPPROTO_IP, MCAST_JOIN_GROUP },          { IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP },
	{ IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP },     { IPPROTO_IPV6, MCAST_JOIN_GROUP },
	{ IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP },
};

/*
 * Denies each named syscall with ACTION. A name libseccomp maps to a negative pseudo number
 * does not exist on this architecture (umount on x86_64): nothing to deny. A name it does
 * not know at all is an error: the kernel may have a call that we would then leave open.
 */
static int
add_named(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int r;

		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		if (nr < 0)
			continue;
		r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ERR, or the listener when NOTIFY: see ldm_seccomp_denied_errno() for the answers. */
static uint32_t
deny_action(bool notify, int err)
{
	return notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO((uint32_t)err);
}

/* Refuses families of SYSCALL (socket or socketpair) that FAMILIES does not allow. */
static int
add_family_rules(scmp_filter_ctx ctx, int syscall, uint64_t families, bool notify)
{
	int r;

	/* Also catches any value with the upper half set: the exact tests below are safe. */
	r = seccomp_rule_add(ctx, deny_action(notify, EAFNOSUPPORT), syscall, 1,
	                     SCMP_A0(SCMP_CMP_GE, 64));
	if (r < 0)
		return r;
	for (uint64_t af = 0; af < 64; af++) {
		uint32_t action = deny_action(notify, EAFNOSUPPORT);

		if (af == AF_PACKET)
			action = deny_action(notify, EPERM);
		else if ((families & (UINT64_C(1) << af)) != 0)
			continue;
		r = seccomp_rule_add(ctx, action, syscall, 1, SCMP_A0(SCMP_CMP_EQ, af));
		if (r < 0)
			return r;
	}
	return 0;
}

static int
add_socket_rules(scmp_filter_ctx ctx, uint64_t families, bool notify)
{
	int r;

	r = add_family_rules(ctx, SCMP_SYS(socket), families, notify);
	if (r < 0)
		return r;
	r = add_family_rules(ctx, SCMP_SYS(socketpair), families, notify);
	if (r < 0)
		return r;
	/* The type's low nibble; SOCK_NONBLOCK and SOCK_CLOEXEC sit above it. */
	for (size_t i = 0; i < ELEMENTSOF(ip_families); i++) {
		for (size_t j = 0; j < ELEMENTSOF(raw_types); j++) {
			r = seccomp_rule_add(ctx, deny_action(notify, EPERM), SCMP_SYS(socket), 2,
			                     SCMP_A0(SCMP_CMP_EQ, (uint64_t)ip_families[i]),
			                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, raw_types[j]));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * Local sockets (launcher/run/unixmed.c): every connect() goes to the supervisor, which
 * makes the call itself; the filter cannot see the address or the socket's family.
 * socket(AF_UNIX, SOCK_DGRAM) is refused (SOCK_RAW is SOCK_DGRAM there): a datagram
 * socket's sendto()/sendmsg() name any socket per message, out of the supervisor's sight,
 * and mediating every sendto() would put the aircraft link's UDP packets through it too.
 * socketpair() datagram sockets stay (socat, libraries signal their own threads with
 * them); their sendto() with an address is the gap README.md names.
 */
static int
add_unix_rules(scmp_filter_ctx ctx, bool notify)
{
	static const int dgram_types[] = { SOCK_DGRAM, SOCK_RAW };
	int r;

	if (!notify)
		return 0; /* no supervisor to make the calls: ldm_seccomp_build's callers notify */
	r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(dgram_types); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 2,
		                     SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, dgram_types[i]));
	}
	return r;
}

/* No namespaces: setns, and any CLONE_NEW* flag in clone() or unshare(), fail with EPERM. */
static int
add_ns_rules(scmp_filter_ctx ctx, bool notify)
{
	uint32_t action = deny_action(notify, EPERM);
	int r;

	r = seccomp_rule_add(ctx, action, SCMP_SYS(setns), 0);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++) {
		uint64_t f = ns_flags[i];

		r = seccomp_rule_add(ctx, action, SCMP_SYS(unshare), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (r < 0)
			return r;
		/* In clone() the CSIGNAL bits hold the exit signal: NEWTIME is unshare-only. */
		if ((f & CSIGNAL) != 0)
			continue;
		r = seccomp_rule_add(ctx, action, SCMP_SYS(clone), 1,
		                     SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, f, f));
		if (r < 0)
			return r;
	}
	return 0;
}

/* ioctl() takes an unsigned int request: compare its low 32 bits only. */
static int
add_ioctl_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < ELEMENTSOF(tty_ioctls); i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
		                         SCMP_A1(SCMP_CMP_MASKED_EQ, MASK32, tty_ioctls[i]));

		if (r < 0)
			return r;
	}
	return 0;
}

/* setsockopt(fd, level, optname, ...): level and optname are ints. */
static int
add_mcast_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < ELEMENTSOF(mcast_joins); i++) {
		uint64_t level = (uint32_t)mcast_joins[i].level;
		uint64_t opt = (uint32_t)mcast_joins[i].optname;
		int r;

		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 2,
		                     SCMP_A1(SCMP_CMP_MASKED_EQ, MASK32, level),
		                     SCMP_A2(SCMP_CMP_MASKED_EQ, MASK32, opt));
		if (r < 0)
			return r;
	}
	return 0;
}

/* The policy's own list, added last: an unconditional rule overrides the conditional ones. */
static int
add_deny_list(scmp_filter_ctx ctx, const int *deny, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), deny[i], 0);

		if (r < 0)
			return r;
	}
	return 0;
}

static int
check_deny_list(const int *deny, size_t n)
{
	if (n > LDM_MAX_LIST_ITEMS)
		return -E2BIG;
	if (n > 0 && deny == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		/* Negative numbers are libseccomp's pseudo syscalls, not native calls. */
		if (deny[i] < 0)
			return -EINVAL;
	}
	return 0;
}

/*
 * Foreign ABIs get ENOSYS, not a kill: DESIGN says denied calls never kill the app, and
 * ENOSYS is what a kernel built without the ABI answers. SYSRAWRC makes seccomp_load()
 * return the kernel's errno instead of -ECANCELED. NNP stays on: libseccomp sets
 * no_new_privs itself should the caller not have.
 */
static int
set_attrs(scmp_filter_ctx ctx)
{
	int r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (r < 0)
		return r;
	return seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
}

int
ldm_seccomp_build(const struct ldm_seccomp_opts *o, scmp_filter_ctx *ret)
{
	_cleanup_(ldm_seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r;

	r = check_deny_list(o->deny, o->n_deny);
	if (r < 0)
		return r;
	/* The native architecture only: x32 is left out on purpose, see seccomp.h. */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return -ENOMEM;
	r = set_attrs(ctx);
	if (r >= 0)
		r = add_named(ctx, deny_eperm, ELEMENTSOF(deny_eperm),
		              deny_action(o->notify, EPERM));
	if (r >= 0)
		r = add_named(ctx, deny_enosys, ELEMENTSOF(deny_enosys),
		              deny_action(o->notify, ENOSYS));
	if (r >= 0)
		r = add_named(ctx, deny_enosys_quiet, ELEMENTSOF(deny_enosys_quiet),
		              SCMP_ACT_ERRNO(ENOSYS));
	if (r >= 0)
		r = add_socket_rules(ctx, o->families, o->notify);
	if (r >= 0)
		r = add_unix_rules(ctx, o->notify);
	if (r >= 0)
		r = add_ns_rules(ctx, o->notify);
	if (r >= 0)
		r = add_ioctl_rules(ctx);
	if (r >= 0 && !o->allow_multicast)
		r = add_mcast_rules(ctx);
	if (r >= 0 && o->notify && o->notify_writes)
		r = ldm_seccomp_add_write_rules(ctx, o->deny, o->n_deny);
	if (r >= 0)
		r = add_deny_list(ctx, o->deny, o->n_deny);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

int
ldm_seccomp_load(const struct ldm_seccomp_opts *o, int *ret_notify_fd)
{
	_cleanup_(ldm_seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r, fd;

	r = ldm_seccomp_build(o, &ctx);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	if (r < 0)
		return r;
	if (!o->notify) {
		*ret_notify_fd = -1;
		return 0;
	}
	/*
	 * The kernel made the listener CLOEXEC. libseccomp remembers its number in global state
	 * but closes it only in seccomp_reset(NULL, ...), which we never call: the caller owns
	 * it, and must close it (or exec) for the listener to die with the supervisor.
	 */
	fd = seccomp_notify_fd(ctx);
	if (fd < 0)
		return fd;
	*ret_notify_fd = fd;
	return 0;
}

static bool
is_raw_inet(uint64_t af, uint64_t type)
{
	int t = (int)(type & 0xf);

	return (af == AF_INET || af == AF_INET6) && (t == SOCK_RAW || t == SOCK_PACKET);
}

/* Mirrors add_family_rules() and add_socket_rules(), in the order the filter decides. */
int
ldm_seccomp_denied_errno(uint64_t families, int nr, const uint64_t args[6])
{
	uint64_t af = args[0];

	if (nr == SCMP_SYS(io_uring_setup) || nr == SCMP_SYS(io_uring_enter) ||
	    nr == SCMP_SYS(io_uring_register))
		return ENOSYS; /* the app falls back to plain syscalls */
	if (nr != SCMP_SYS(socket) && nr != SCMP_SYS(socketpair))
		return EPERM; /* setns, clone, unshare, ptrace, bpf, mounts, modules, keys */
	if (af >= 64)
		return EAFNOSUPPORT;
	if (af == AF_PACKET)
		return EPERM;
	if ((families & (UINT64_C(1) << af)) == 0)
		return EAFNOSUPPORT;
	if (nr == SCMP_SYS(socket) && is_raw_inet(af, args[1]))
		return EPERM;
	return EPERM; /* not a call the filter notifies: refuse all the same */
}

int
ldm_seccomp_notify_handle(int fd, uint64_t families, struct seccomp_notif *req,
                          struct seccomp_notif_resp *resp, struct ldm_seccomp_denial *ret)
{
	int r;

	memset(req, 0, sizeof(*req));
	r = seccomp_notify_receive(fd, req);
	if (r < 0)
		return r;
	ldm_seccomp_notify_refuse(fd, families, req, resp, ret);
	return 0;
}

void
ldm_seccomp_notify_refuse(int fd, uint64_t families, const struct seccomp_notif *req,
                          struct seccomp_notif_resp *resp, struct ldm_seccomp_denial *ret)
{
	int err;

	err = ldm_seccomp_denied_errno(families, req->data.nr, (const uint64_t *)req->data.args);
	/* Never SECCOMP_USER_NOTIF_FLAG_CONTINUE: the one answer is a refusal. */
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->error = -err;
	(void)seccomp_notify_respond(fd, resp);
	*ret = (struct ldm_seccomp_denial){
		.pid = req->pid,
		.arch = req->data.arch,
		.nr = req->data.nr,
		.err = err,
	};
	memcpy(ret->args, req->data.args, sizeof(ret->args));
}

int
ldm_seccomp_send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		return -errno;
	return 0;
}

int
ldm_seccomp_recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (n == 0 || c == NULL)
		return -ENODATA;
	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC) != 0)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}
