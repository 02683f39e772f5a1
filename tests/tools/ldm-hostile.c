/*
 * A hostile app for the integration tests: run under ldm-run as an unprivileged
 * user, it tries each way out of the sandbox that the threat model (docs/threat-model.md)
 * names and prints one line per attempt:
 *
 *   ATTEMPT NAME: blocked (errno or why)
 *   ATTEMPT NAME: ESCAPED (what worked)
 *   ATTEMPT NAME: skipped (the option it needs was not given)
 *
 * and exits with the number of escapes (100 on a usage error). "blocked" for a network
 * attempt means what the app can see: refused, reset or no answer in time. Whether a packet
 * left anyway is for the test to check, with a capture on the far side.
 *
 *   ldm-hostile [--inet4 ADDR] [--inet6 ADDR] [--tcp-port P] [--udp-port P]
 *               [--outside PID] [--answer-port P --ready FILE] [--abstract NAME]
 *               [--wan-if IFACE --lan-peer ADDR]
 *       --inet4/--inet6  an internet host: TCP to --tcp-port (443), TCP Fast Open with data,
 *                        UDP to --udp-port (9999, expecting an echo), ICMP echo with data
 *       --outside        a process of the same user outside the sandbox: ptrace, its memory,
 *                        pidfd_getfd, process_vm_readv, setns into its network namespace
 *       --answer-port    bind this UDP port, create FILE, wait for an unsolicited datagram
 *                        (from "ldm-hostile peer") and try to answer it
 *       --abstract       connect to this abstract Unix socket, bound outside the sandbox
 *       --wan-if         UDP to --lan-peer:14550 (an aircraft address, allowed as "lan" on
 *                        the aircraft's interface only) forced out of this interface (the
 *                        internet side) with SO_BINDTODEVICE; an echo from there is an escape
 *   ldm-hostile peer ADDR PORT FROM_PORT READY_FILE SECONDS
 *       the internet host of --answer-port: once READY_FILE exists, sends 5 datagrams from
 *       FROM_PORT to ADDR:PORT; a reply is answered with "confirm" (so the app can tell it
 *       escaped); exits 1 if any reply arrived, 0 if none, 2 if READY_FILE never appeared
 *   ldm-hostile unix-listen NAME SECONDS
 *       accepts (and closes) connections on abstract Unix socket NAME; prints the count
 *   ldm-hostile landlock-abi
 *       prints the kernel's Landlock ABI version (negative: none)
 *
 * Every attempt that would change the process itself (namespaces, cgroups) runs in a child,
 * so one escape cannot spoil the attempts after it. Nothing that succeeds is used: an
 * escaped namespace or socket is reported and dropped, never sent through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ldm/util.h"

#define WHY_MAX    256
#define SECRET     "ldm-hostile: the mission data"
#define NET_WAIT   2000 /* ms to wait for an answer from the internet */
#define USAGE_EXIT 100

struct ctx {
	const char *inet4;
	const char *inet6;
	const char *tcp_port;
	const char *udp_port;
	pid_t outside;
	const char *answer_port;
	const char *ready;
	const char *abstract;
	const char *wan_if;
	const char *lan_peer;
};

/* An attempt's outcome: ESCAPED, or blocked with WHY; skipped when it could not be tried. */
enum verdict { BLOCKED, ESCAPED, SKIPPED };

struct outcome {
	enum verdict v;
	char why[WHY_MAX];
};

static __attribute__((format(printf, 3, 4))) void
set(struct outcome *o, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	o->v = v;
	va_start(ap, fmt);
	(void)vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

static int
parse_ip(const char *a, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	uint16_t p = 0;

	memset(ss, 0, sizeof(*ss));
	if (port != NULL && ldm_parse_u16(port, &p) < 0)
		return -1;
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

/*
 * Waits for a non-blocking TCP connect on FD to finish: a connection is an escape, an error
 * or a timeout is blocked.
 */
static void
tcp_finish(int fd, const char *what, struct outcome *o)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t el = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 3000) != 1) {
		set(o, BLOCKED, "%s: no answer in 3 s", what);
		return;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err == 0)
		set(o, ESCAPED, "%s: connected", what);
	else
		set(o, BLOCKED, "%s: %s", what, strerror(err));
}

static void
tcp_to(const char *addr, const char *port, struct outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	_cleanup_close_ int fd = -1;
	int fam = parse_ip(addr, port, &ss, &len);

	if (fam < 0 || (fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		set(o, BLOCKED, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		set(o, ESCAPED, "connect: connected at once");
		return;
	}
	if (errno != EINPROGRESS) {
		set(o, BLOCKED, "connect: %s", strerror(errno));
		return;
	}
	tcp_finish(fd, "connect", o);
}

/* TCP Fast Open: the data rides in the SYN when the laptop's tcp_fastopen allows it. */
static void
tfo_to(const char *addr, const char *port, struct outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	_cleanup_close_ int fd = -1;
	int fam = parse_ip(addr, port, &ss, &len);

	if (fam < 0 || (fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		set(o, BLOCKED, "socket: %s", strerror(errno));
		return;
	}
	if (sendto(fd, SECRET, strlen(SECRET), MSG_FASTOPEN, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS) {
		set(o, BLOCKED, "sendto(MSG_FASTOPEN): %s", strerror(errno));
		return;
	}
	tcp_finish(fd, "sendto(MSG_FASTOPEN)", o);
}

/* Sends BUF on connected FD and waits for anything back: an answer is an escape. */
static void
ask(int fd, const void *buf, size_t n, struct outcome *o)
{
	char in[512];
	ssize_t r;

	if (send(fd, buf, n, 0) < 0) {
		set(o, BLOCKED, "send: %s", strerror(errno));
		return;
	}
	if (!readable(fd, NET_WAIT)) {
		set(o, BLOCKED, "sent, no answer in %d ms", NET_WAIT);
		return;
	}
	r = recv(fd, in, sizeof(in), 0);
	if (r < 0)
		set(o, BLOCKED, "sent, then recv: %s", strerror(errno));
	else
		set(o, ESCAPED, "an answer of %zd bytes came back", r);
}

static void
dgram_to(const char *addr, const char *port, int proto, const void *buf, size_t n,
         struct outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	_cleanup_close_ int fd = -1;
	int fam = parse_ip(addr, port, &ss, &len);

	if (fam < 0 || (fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, proto)) < 0) {
		set(o, BLOCKED, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		set(o, BLOCKED, "connect: %s", strerror(errno));
		return;
	}
	ask(fd, buf, n, o);
}

static void
try_tcp4(const struct ctx *c, struct outcome *o)
{
	if (c->inet4 == NULL)
		set(o, SKIPPED, "no --inet4");
	else
		tcp_to(c->inet4, c->tcp_port, o);
}

static void
try_tcp6(const struct ctx *c, struct outcome *o)
{
	if (c->inet6 == NULL)
		set(o, SKIPPED, "no --inet6");
	else
		tcp_to(c->inet6, c->tcp_port, o);
}

static void
try_tfo4(const struct ctx *c, struct outcome *o)
{
	if (c->inet4 == NULL)
		set(o, SKIPPED, "no --inet4");
	else
		tfo_to(c->inet4, c->tcp_port, o);
}

static void
try_udp4(const struct ctx *c, struct outcome *o)
{
	if (c->inet4 == NULL)
		set(o, SKIPPED, "no --inet4");
	else
		dgram_to(c->inet4, c->udp_port, 0, SECRET, strlen(SECRET), o);
}

static void
try_udp6(const struct ctx *c, struct outcome *o)
{
	if (c->inet6 == NULL)
		set(o, SKIPPED, "no --inet6");
	else
		dgram_to(c->inet6, c->udp_port, 0, SECRET, strlen(SECRET), o);
}

/* ICMP echo with the secret as payload over a "ping socket" (the kernel fills id, checksum). */
static void
try_ping(const char *addr, bool v6, struct outcome *o)
{
	struct {
		uint8_t type, code;
		uint16_t csum, id, seq;
		char data[sizeof(SECRET)];
	} echo = { .type = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO, .seq = htons(1) };

	memcpy(echo.data, SECRET, sizeof(SECRET));
	dgram_to(addr, NULL, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, &echo, sizeof(echo), o);
}

static void
try_ping4(const struct ctx *c, struct outcome *o)
{
	if (c->inet4 == NULL)
		set(o, SKIPPED, "no --inet4");
	else
		try_ping(c->inet4, false, o);
}

static void
try_ping6(const struct ctx *c, struct outcome *o)
{
	if (c->inet6 == NULL)
		set(o, SKIPPED, "no --inet6");
	else
		try_ping(c->inet6, true, o);
}

/* Creating the socket is the escape: with it the app could write any packet. */
static void
socket_of(int fam, int type, int proto, struct outcome *o)
{
	int fd = socket(fam, type | SOCK_CLOEXEC, proto);

	if (fd >= 0) {
		close(fd);
		set(o, ESCAPED, "socket created");
	} else {
		set(o, BLOCKED, "socket: %s", strerror(errno));
	}
}

static void
try_raw4(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_INET, SOCK_RAW, IPPROTO_ICMP, o);
}

static void
try_raw6(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_INET6, SOCK_RAW, IPPROTO_UDP, o);
}

static void
try_packet(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), o);
}

static void
try_packet_dgram(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP), o);
}

/* The old way to an AF_PACKET socket: (AF_INET, SOCK_PACKET). */
static void
try_sock_packet(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_INET, SOCK_PACKET, htons(ETH_P_ALL), o);
}

/* A family no policy lists: the unlisted-family rule, not the raw one, refuses it. */
static void
try_bluetooth(const struct ctx *c, struct outcome *o)
{
	(void)c;
	socket_of(AF_BLUETOOTH, SOCK_STREAM, 0, o);
}

/* The approval mark would let packets past the guard (needs CAP_NET_ADMIN). */
static void
try_so_mark(const struct ctx *c, struct outcome *o)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t mark = 0x0ff00000;

	(void)c;
	if (fd < 0)
		set(o, BLOCKED, "socket: %s", strerror(errno));
	else if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0)
		set(o, ESCAPED, "SO_MARK 0x%08x set", mark);
	else
		set(o, BLOCKED, "setsockopt(SO_MARK): %s", strerror(errno));
}

static void
try_io_uring(const struct ctx *c, struct outcome *o)
{
	struct io_uring_params p;
	long fd;

	(void)c;
	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 8, &p);
	if (fd >= 0) {
		close((int)fd);
		set(o, ESCAPED, "io_uring_setup: a ring");
	} else {
		set(o, BLOCKED, "io_uring_setup: %s", strerror(errno));
	}
}

static void
try_bpf(const struct ctx *c, struct outcome *o)
{
	union bpf_attr a;
	long fd;

	(void)c;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	fd = syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd >= 0) {
		close((int)fd);
		set(o, ESCAPED, "bpf(BPF_MAP_CREATE): a map");
	} else {
		set(o, BLOCKED, "bpf: %s", strerror(errno));
	}
}

/*
 * Runs FN in a child so that what it changes (namespaces, cgroup) stays there; FN's outcome
 * comes back through a pipe. A child that dies without a word counts as blocked.
 */
static void
in_child(void (*fn)(const struct ctx *, struct outcome *), const struct ctx *c, struct outcome *o)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0) {
		set(o, BLOCKED, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		fn(c, o);
		n = write(p[1], o, sizeof(*o));
		_exit(n == (ssize_t)sizeof(*o) ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0)
		set(o, BLOCKED, "fork: %s", strerror(errno));
	else if ((n = read(p[0], o, sizeof(*o))) != (ssize_t)sizeof(*o))
		set(o, BLOCKED, "the child said nothing");
	o->why[WHY_MAX - 1] = '\0';
	close(p[0]);
	if (pid > 0)
		(void)waitpid(pid, &st, 0);
}

static void
unshare_flag(int flag, const char *name, struct outcome *o)
{
	if (unshare(flag) == 0)
		set(o, ESCAPED, "unshare(%s): a new namespace", name);
	else
		set(o, BLOCKED, "unshare(%s): %s", name, strerror(errno));
}

static void
unshare_user(const struct ctx *c, struct outcome *o)
{
	(void)c;
	unshare_flag(CLONE_NEWUSER, "CLONE_NEWUSER", o);
}

static void
unshare_net(const struct ctx *c, struct outcome *o)
{
	(void)c;
	unshare_flag(CLONE_NEWNET, "CLONE_NEWNET", o);
}

static void
try_unshare_user(const struct ctx *c, struct outcome *o)
{
	in_child(unshare_user, c, o);
}

static void
try_unshare_net(const struct ctx *c, struct outcome *o)
{
	in_child(unshare_net, c, o);
}

/* Reaps a child made by a raw clone: a child at all means the namespaces were made. */
static void
cloned(long r, const char *call, struct outcome *o)
{
	int st;

	if (r == 0)
		_exit(0);
	if (r < 0) {
		set(o, BLOCKED, "%s: %s", call, strerror(errno));
		return;
	}
	(void)waitpid((pid_t)r, &st, 0);
	set(o, ESCAPED, "%s: a child in new user and network namespaces", call);
}

static void
try_clone_ns(const struct ctx *c, struct outcome *o)
{
	(void)c;
	cloned(syscall(__NR_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, 0),
	       "clone(CLONE_NEWUSER|CLONE_NEWNET)", o);
}

static void
try_clone3(const struct ctx *c, struct outcome *o)
{
	struct clone_args a;

	(void)c;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_NEWUSER | CLONE_NEWNET;
	a.exit_signal = SIGCHLD;
	cloned(syscall(__NR_clone3, &a, sizeof(a)), "clone3(CLONE_NEWUSER|CLONE_NEWNET)", o);
}

/*
 * setns into the network namespace of pid 1 (the host's), else of --outside (the same user,
 * outside the sandbox); when neither can be opened, into our own, so that setns() itself is
 * still called and seen.
 */
static void
setns_out(const struct ctx *c, struct outcome *o)
{
	char paths[3][64], tried[WHY_MAX] = "";
	size_t n = 0, i;
	int fd = -1;

	(void)snprintf(paths[n++], sizeof(paths[0]), "/proc/1/ns/net");
	if (c->outside > 0)
		(void)snprintf(paths[n++], sizeof(paths[0]), "/proc/%d/ns/net", (int)c->outside);
	(void)snprintf(paths[n++], sizeof(paths[0]), "/proc/self/ns/net");
	for (i = 0; i < n; i++) {
		fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			break;
		(void)snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried),
		               "open %s: %s; ", paths[i], strerror(errno));
	}
	if (fd < 0) {
		set(o, BLOCKED, "%s", tried);
		return;
	}
	if (setns(fd, CLONE_NEWNET) == 0)
		set(o, ESCAPED, "%ssetns(%s) worked", tried, paths[i]);
	else
		set(o, BLOCKED, "%ssetns(%s): %s", tried, paths[i], strerror(errno));
	close(fd);
}

static void
try_setns(const struct ctx *c, struct outcome *o)
{
	in_child(setns_out, c, o);
}

static void
try_ptrace(const struct ctx *c, struct outcome *o)
{
	int st;

	if (c->outside <= 0) {
		set(o, SKIPPED, "no --outside");
		return;
	}
	if (ptrace(PTRACE_ATTACH, c->outside, NULL, NULL) < 0) {
		set(o, BLOCKED, "PTRACE_ATTACH %d: %s", (int)c->outside, strerror(errno));
		return;
	}
	(void)waitpid(c->outside, &st, __WALL);
	(void)ptrace(PTRACE_DETACH, c->outside, NULL, NULL);
	set(o, ESCAPED, "PTRACE_ATTACH %d: attached", (int)c->outside);
}

static void
try_proc_mem(const struct ctx *c, struct outcome *o)
{
	char path[64];
	int fd;

	if (c->outside <= 0) {
		set(o, SKIPPED, "no --outside");
		return;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/mem", (int)c->outside);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		set(o, ESCAPED, "open %s: opened for writing", path);
	} else {
		set(o, BLOCKED, "open %s: %s", path, strerror(errno));
	}
}

static void
try_pidfd_getfd(const struct ctx *c, struct outcome *o)
{
	_cleanup_close_ int pfd = -1;
	long fd;

	if (c->outside <= 0) {
		set(o, SKIPPED, "no --outside");
		return;
	}
	pfd = (int)syscall(__NR_pidfd_open, c->outside, 0);
	if (pfd < 0) {
		set(o, BLOCKED, "pidfd_open: %s", strerror(errno));
		return;
	}
	fd = syscall(__NR_pidfd_getfd, pfd, 0, 0);
	if (fd >= 0) {
		close((int)fd);
		set(o, ESCAPED, "pidfd_getfd: got its fd 0");
	} else {
		set(o, BLOCKED, "pidfd_getfd: %s", strerror(errno));
	}
}

/* EFAULT means the kernel granted access and only the address was wrong: an escape. */
static void
try_process_vm(const struct ctx *c, struct outcome *o)
{
	char buf[8];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x10000, sizeof(buf) };

	if (c->outside <= 0) {
		set(o, SKIPPED, "no --outside");
		return;
	}
	if (process_vm_readv(c->outside, &local, 1, &remote, 1, 0) >= 0 || errno == EFAULT)
		set(o, ESCAPED, "process_vm_readv: access granted (%s)", strerror(errno));
	else
		set(o, BLOCKED, "process_vm_readv: %s", strerror(errno));
}

/* The cgroup v2 path of this process ("/a/b"), from /proc/self/cgroup's "0::" line. */
static int
own_cgroup(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];
	int r = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		r = ldm_strscpy(buf, size, line + 3) < 0 ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return r;
}

/* The cgroup2 mount point, from /proc/self/mountinfo (hybrid hosts: .../unified). */
static int
cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024], mnt[512], fstype[64];
	int r = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *sep = strstr(line, " - ");

		if (sep == NULL || sscanf(sep, " - %63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
			continue;
		r = ldm_strscpy(buf, size, mnt) < 0 ? -ENAMETOOLONG : 0;
		if (strcmp(mnt, "/sys/fs/cgroup") == 0)
			break;
	}
	fclose(f);
	return r;
}

static int
write_pid(const char *path)
{
	char pid[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -errno;
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

/* Writes our pid to DIR/cgroup.procs, then looks where we are. */
static void
move_to(const char *mnt, const char *dir, struct outcome *o)
{
	char path[1024], before[512], after[512];
	int r;

	(void)snprintf(path, sizeof(path), "%s%s/cgroup.procs", mnt, dir);
	if (own_cgroup(before, sizeof(before)) < 0) {
		set(o, BLOCKED, "cannot read /proc/self/cgroup");
		return;
	}
	r = write_pid(path);
	if (own_cgroup(after, sizeof(after)) == 0 && strcmp(before, after) != 0)
		set(o, ESCAPED, "write %s: moved from %s to %s", path, before, after);
	else if (r < 0)
		set(o, BLOCKED, "write %s: %s", path, strerror(-r));
	else
		set(o, BLOCKED, "write %s: accepted, but still in %s", path, before);
}

static void
cgroup_root(const struct ctx *c, struct outcome *o)
{
	char mnt[512];

	(void)c;
	if (cgroup2_mount(mnt, sizeof(mnt)) < 0)
		set(o, BLOCKED, "no cgroup2 mount");
	else
		move_to(mnt, "", o);
}

static void
cgroup_parent(const struct ctx *c, struct outcome *o)
{
	char mnt[512], cg[512], *slash;

	(void)c;
	if (cgroup2_mount(mnt, sizeof(mnt)) < 0 || own_cgroup(cg, sizeof(cg)) < 0) {
		set(o, BLOCKED, "no cgroup2 mount or cgroup");
		return;
	}
	slash = strrchr(cg, '/');
	if (slash != NULL)
		*slash = '\0';
	move_to(mnt, cg, o);
}

static void
try_cgroup_root(const struct ctx *c, struct outcome *o)
{
	in_child(cgroup_root, c, o);
}

static void
try_cgroup_parent(const struct ctx *c, struct outcome *o)
{
	in_child(cgroup_parent, c, o);
}

static socklen_t
abstract_addr(const char *name, struct sockaddr_un *sun)
{
	size_t n = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n > sizeof(sun->sun_path) - 1)
		n = sizeof(sun->sun_path) - 1;
	memcpy(sun->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void
try_abstract(const struct ctx *c, struct outcome *o)
{
	struct sockaddr_un sun;
	socklen_t len;
	_cleanup_close_ int fd = -1;

	if (c->abstract == NULL) {
		set(o, SKIPPED, "no --abstract");
		return;
	}
	len = abstract_addr(c->abstract, &sun);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		set(o, BLOCKED, "socket: %s", strerror(errno));
	else if (connect(fd, (struct sockaddr *)&sun, len) == 0)
		set(o, ESCAPED, "connected to @%s", c->abstract);
	else
		set(o, BLOCKED, "connect @%s: %s", c->abstract, strerror(errno));
}

/* Binds the UDP port of --answer-port and says so by creating --ready. */
static int
answer_socket(const struct ctx *c, struct outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rf;

	if (parse_ip("::", c->answer_port, &ss, &len) < 0 ||
	    (fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		set(o, BLOCKED, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		set(o, BLOCKED, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rf = open(c->ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (rf >= 0)
		close(rf);
	return fd;
}

/*
 * Waits for an unsolicited datagram, answers its sender three times, then listens for the
 * peer's "confirm", which only comes if an answer reached it.
 */
static void
try_answer(const struct ctx *c, struct outcome *o)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	_cleanup_close_ int fd = -1;
	char buf[64], host[INET6_ADDRSTRLEN] = "?", sent[96] = "sent";
	ssize_t n;

	if (c->answer_port == NULL || c->ready == NULL) {
		set(o, SKIPPED, "no --answer-port and --ready");
		return;
	}
	if ((fd = answer_socket(c, o)) < 0)
		return;
	if (!readable(fd, 8000) ||
	    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0) {
		set(o, SKIPPED, "no unsolicited datagram arrived in 8 s");
		return;
	}
	(void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, host, sizeof(host));
	for (int i = 0; i < 3; i++) {
		if (sendto(fd, SECRET, strlen(SECRET), 0, (struct sockaddr *)&from, fl) < 0)
			(void)snprintf(sent, sizeof(sent), "sendto: %s", strerror(errno));
		usleep(200000);
	}
	/* The peer probes for 1 s at most: listen 2 s, so that none meets a closed port. */
	for (uint64_t end = now_ms() + 2000; now_ms() < end;) {
		if (!readable(fd, 100))
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n >= 7 && memcmp(buf, "confirm", 7) == 0) {
			set(o, ESCAPED, "answer to %s arrived (the peer confirmed)", host);
			return;
		}
	}
	set(o, BLOCKED, "answer to %s: %s, the peer never confirmed", host, sent);
}

/*
 * UDP to ADDR:14550, which the policy allows on the aircraft's link only, forced out of the
 * WAN interface with SO_BINDTODEVICE: an answer means the packet reached a host there.
 */
static void
via_wan(const struct ctx *c, const char *addr, struct outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	_cleanup_close_ int fd = -1;
	int on = 1;

	if (c->wan_if == NULL || addr == NULL) {
		set(o, SKIPPED, "no --wan-if and --lan-peer");
		return;
	}
	if (parse_ip(addr, "14550", &ss, &len) != AF_INET ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		set(o, BLOCKED, "socket: %s", strerror(errno));
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->wan_if, (socklen_t)strlen(c->wan_if)) <
	    0) {
		set(o, BLOCKED, "SO_BINDTODEVICE %s: %s", c->wan_if, strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		set(o, BLOCKED, "connect: %s", strerror(errno));
		return;
	}
	ask(fd, SECRET, strlen(SECRET), o);
}

static void
try_lan_via_wan(const struct ctx *c, struct outcome *o)
{
	via_wan(c, c->lan_peer, o);
}

static const struct {
	const char *name;
	void (*fn)(const struct ctx *, struct outcome *);
} attempts[] = {
	{ "tcp4-connect", try_tcp4 },
	{ "tcp4-fastopen", try_tfo4 },
	{ "udp4-send", try_udp4 },
	{ "icmp4-ping-socket", try_ping4 },
	{ "tcp6-connect", try_tcp6 },
	{ "udp6-send", try_udp6 },
	{ "icmp6-ping-socket", try_ping6 },
	{ "udp-answer-unsolicited", try_answer },
	{ "udp-lan-port-via-wan", try_lan_via_wan },
	{ "raw4-socket", try_raw4 },
	{ "raw6-socket", try_raw6 },
	{ "packet-socket", try_packet },
	{ "packet-dgram-socket", try_packet_dgram },
	{ "inet-sock-packet", try_sock_packet },
	{ "bluetooth-socket", try_bluetooth },
	{ "so-mark", try_so_mark },
	{ "io-uring-setup", try_io_uring },
	{ "unshare-user", try_unshare_user },
	{ "unshare-net", try_unshare_net },
	{ "clone-newuser-newnet", try_clone_ns },
	{ "clone3", try_clone3 },
	{ "setns-net", try_setns },
	{ "ptrace-attach", try_ptrace },
	{ "proc-pid-mem", try_proc_mem },
	{ "pidfd-getfd", try_pidfd_getfd },
	{ "process-vm-readv", try_process_vm },
	{ "bpf", try_bpf },
	{ "cgroup-move-root", try_cgroup_root },
	{ "cgroup-move-parent", try_cgroup_parent },
	{ "abstract-unix-connect", try_abstract },
};

static const char *const verdicts[] = { "blocked", "ESCAPED", "skipped" };

static int
run_all(const struct ctx *c)
{
	int escapes = 0;

	for (size_t i = 0; i < ELEMENTSOF(attempts); i++) {
		struct outcome o = { BLOCKED, "" };

		attempts[i].fn(c, &o);
		printf("ATTEMPT %s: %s (%s)\n", attempts[i].name, verdicts[o.v], o.why);
		if (o.v == ESCAPED)
			escapes++;
	}
	return escapes;
}

/* Sends up to 5 probes; true when a reply came back (which is then confirmed). */
static bool
peer_probe(int fd, const struct sockaddr_storage *to, socklen_t len)
{
	struct sockaddr_storage from;
	char buf[128];

	for (int i = 0; i < 5; i++) {
		socklen_t fl = sizeof(from);

		(void)sendto(fd, "probe", 5, 0, (const struct sockaddr *)to, len);
		if (!readable(fd, 200) ||
		    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) <= 0)
			continue;
		for (int j = 0; j < 3; j++)
			(void)sendto(fd, "confirm", 7, 0, (struct sockaddr *)&from, fl);
		return true;
	}
	return readable(fd, 1500);
}

static int
peer(char **argv)
{
	struct sockaddr_storage to, src;
	socklen_t len, sl;
	uint32_t secs;
	_cleanup_close_ int fd = -1;
	int fam = parse_ip(argv[0], argv[1], &to, &len);
	time_t end;

	if (fam < 0 || parse_ip(fam == AF_INET ? "0.0.0.0" : "::", argv[2], &src, &sl) < 0 ||
	    ldm_parse_u32(argv[4], &secs) < 0)
		return USAGE_EXIT;
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sl) < 0)
		return USAGE_EXIT;
	for (end = time(NULL) + secs; access(argv[3], F_OK) != 0; usleep(50000))
		if (time(NULL) > end) {
			printf("peer: %s never appeared\n", argv[3]);
			return 2;
		}
	if (peer_probe(fd, &to, len)) {
		printf("peer: a reply arrived from the sandbox\n");
		return 1;
	}
	printf("peer: no reply\n");
	return 0;
}

static int
unix_listen(const char *name, const char *secs_s)
{
	struct sockaddr_un sun;
	socklen_t len = abstract_addr(name, &sun);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t secs;
	int accepted = 0;
	time_t end;

	if (fd < 0 || ldm_parse_u32(secs_s, &secs) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 8) < 0)
		return USAGE_EXIT;
	for (end = time(NULL) + secs; time(NULL) < end;) {
		int a;

		if (!readable(fd, 200))
			continue;
		a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (a >= 0) {
			accepted++;
			close(a);
		}
	}
	printf("unix-listen: accepted %d\n", accepted);
	return 0;
}

/* The options that take a string, and where it goes. */
static const struct {
	const char *name;
	size_t off;
} str_opts[] = {
	{ "inet4", offsetof(struct ctx, inet4) },
	{ "inet6", offsetof(struct ctx, inet6) },
	{ "tcp-port", offsetof(struct ctx, tcp_port) },
	{ "udp-port", offsetof(struct ctx, udp_port) },
	{ "answer-port", offsetof(struct ctx, answer_port) },
	{ "ready", offsetof(struct ctx, ready) },
	{ "abstract", offsetof(struct ctx, abstract) },
	{ "wan-if", offsetof(struct ctx, wan_if) },
	{ "lan-peer", offsetof(struct ctx, lan_peer) },
};

static int
parse_opts(int argc, char **argv, struct ctx *c)
{
	struct option opts[ELEMENTSOF(str_opts) + 2];
	uint32_t pid;
	int ch;

	memset(opts, 0, sizeof(opts));
	for (size_t i = 0; i < ELEMENTSOF(str_opts); i++)
		opts[i] = (struct option){ str_opts[i].name, required_argument, NULL, (int)i };
	opts[ELEMENTSOF(str_opts)] = (struct option){ "outside", required_argument, NULL, 'o' };
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch >= 0 && (size_t)ch < ELEMENTSOF(str_opts)) {
			memcpy((char *)c + str_opts[ch].off, &optarg, sizeof(optarg));
		} else if (ch == 'o') {
			if (ldm_parse_u32(optarg, &pid) < 0 || pid == 0 || pid > INT32_MAX)
				return -1;
			c->outside = (pid_t)pid;
		} else {
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct ctx c = { .tcp_port = "443", .udp_port = "9999" };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && strcmp(argv[1], "peer") == 0)
		return peer(argv + 2);
	if (argc == 2 && strcmp(argv[1], "landlock-abi") == 0) {
		printf("%ld\n", syscall(__NR_landlock_create_ruleset, NULL, 0, 1U));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "unix-listen") == 0)
		return unix_listen(argv[2], argv[3]);
	if (parse_opts(argc, argv, &c) < 0) {
		fprintf(stderr, "usage: see the comment at the top of tests/tools/ldm-hostile.c\n");
		return USAGE_EXIT;
	}
	return run_all(&c);
}
