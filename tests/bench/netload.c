/*
 * Traffic for the benchmarks (the scripts in tests/bench): senders, sinks and timers that print one
 * machine-readable line each ("key value ..."), so the scripts can compute ratios. Times are
 * CLOCK_MONOTONIC nanoseconds, the same clock in every network namespace of the test bed.
 *
 *   netload udp-sink PORT SECONDS [IDLE_MS]  count datagrams on [::]:PORT; ends IDLE_MS
 *                                            (default 300) after the last one, or at SECONDS
 *   netload udp-blast ADDR PORT SIZE SECONDS [PPS]
 *                                            SIZE-byte datagrams, as fast as possible (or
 *                                            PPS a second), numbered
 *   netload tcp-sink PORT SECONDS            accept one connection, read it to the end
 *   netload tcp-blast ADDR PORT SECONDS      connect and write as fast as possible
 *   netload tcp-accept PORT SECONDS          accept and close connections
 *   netload connect-lat ADDR PORT COUNT      COUNT blocking connect()s, each from a new
 *                                            socket: p50/p90/p99 in microseconds
 *   netload udp-flows ADDR PORT COUNT SPORT [errors]
 *                                            COUNT new UDP flows (one datagram each, source
 *                                            ports SPORT + i % 20000); with "errors", the
 *                                            sockets stay open and connected and the run
 *                                            ends when each has seen its ICMP error (a
 *                                            rejected flow) or after 20 s
 *   netload time PROGRAM [ARGS...]           run PROGRAM once: its wall time in microseconds
 *   netload cg-move DIR_A DIR_B COUNT GAP_MS moves itself COUNT times between two cgroup2
 *                                            directories (one write to cgroup.procs each),
 *                                            GAP_MS apart: the median write in microseconds
 *
 * Exit status: 0 done, 1 the measurement failed, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ldm/util.h"

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A non-negative number argument; a bad one ends the program (usage error, exit 4). */
static int
num(const char *s)
{
	uint32_t v;

	if (ldm_parse_u32(s, &v) < 0 || v > INT32_MAX) {
		fprintf(stderr, "netload: '%s' is not a number\n", s);
		exit(4);
	}
	return (int)v;
}

static int
addr_of(const char *a, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	int p = num(port);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	fprintf(stderr, "netload: bad address %s\n", a);
	exit(2);
}

/* A socket bound to [::]:PORT (dual stack). */
static int
bound(int type, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int on = 1, fd;

	addr_of("::", port, &ss, &len);
	fd = socket(AF_INET6, type, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("netload: bind");
		exit(1);
	}
	return fd;
}

static int
udp_sink(const char *port, int secs, int idle_ms)
{
	int fd = bound(SOCK_DGRAM, port), rcv = 8 << 20;
	uint64_t end = now_ns() + (uint64_t)secs * 1000000000u, first = 0, last = 0;
	uint64_t pkts = 0, bytes = 0;
	static char bufs[64][2048];
	struct mmsghdr m[64];
	struct iovec iov[64];

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	for (int i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t t = now_ns();
		int n, wait = pkts == 0 ? 100 : idle_ms;

		if (t >= end || (pkts > 0 && t - last > (uint64_t)idle_ms * 1000000u))
			break;
		if (poll(&p, 1, wait) != 1)
			continue;
		n = recvmmsg(fd, m, 64, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last = now_ns();
		if (pkts == 0)
			first = last;
		pkts += (uint64_t)n;
		for (int i = 0; i < n; i++)
			bytes += m[i].msg_len;
	}
	printf("udp-sink packets %llu bytes %llu first %llu last %llu secs %.6f\n",
	       (unsigned long long)pkts, (unsigned long long)bytes, (unsigned long long)first,
	       (unsigned long long)last, (double)(last - first) / 1e9);
	return pkts > 0 ? 0 : 1;
}

static int
udp_blast(const char *a, const char *port, int size, int secs, int pps)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = addr_of(a, port, &ss, &len), fd = socket(fam, SOCK_DGRAM, 0), snd = 4 << 20;
	static char buf[32][65536];
	struct mmsghdr m[32];
	struct iovec iov[32];
	uint64_t start = now_ns(), end = start + (uint64_t)secs * 1000000000u, sent = 0;

	if (fd < 0 || size < 8 || size > 65000 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("netload: udp-blast");
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd));
	for (int i = 0; i < 32; i++) {
		iov[i] = (struct iovec){ buf[i], (size_t)size };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	for (uint64_t t = start; t < end; t = now_ns()) {
		int batch = 32, n;

		if (pps > 0) {
			uint64_t due = (uint64_t)((double)(t - start) * pps / 1e9);

			if (sent >= due) {
				struct timespec ts = { 0, 200000 };

				nanosleep(&ts, NULL);
				continue;
			}
			batch = due - sent < 32 ? (int)(due - sent) : 32;
		}
		for (int i = 0; i < batch; i++)
			memcpy(buf[i], &(uint64_t){ sent + (uint64_t)i }, 8);
		n = sendmmsg(fd, m, (unsigned)batch, 0);
		if (n > 0)
			sent += (uint64_t)n;
	}
	printf("udp-blast sent %llu secs %.6f\n", (unsigned long long)sent,
	       (double)(now_ns() - start) / 1e9);
	return 0;
}

static int
tcp_sink(const char *port, int secs)
{
	int lfd = bound(SOCK_STREAM, port), fd;
	struct pollfd p = { lfd, POLLIN, 0 };
	static char buf[1 << 18];
	uint64_t first = 0, last = 0, bytes = 0;
	ssize_t n;

	if (listen(lfd, 4) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	if (poll(&p, 1, secs * 1000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		last = now_ns();
		if (first == 0)
			first = last;
		bytes += (uint64_t)n;
	}
	printf("tcp-sink bytes %llu secs %.6f\n", (unsigned long long)bytes,
	       (double)(last - first) / 1e9);
	return 0;
}

static int
tcp_blast(const char *a, const char *port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = addr_of(a, port, &ss, &len), fd = socket(fam, SOCK_STREAM, 0);
	static char buf[1 << 17];
	uint64_t start, end, bytes = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("netload: tcp-blast");
		return 1;
	}
	start = now_ns();
	end = start + (uint64_t)secs * 1000000000u;
	while (now_ns() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			return 1;
		bytes += (uint64_t)n;
	}
	close(fd);
	printf("tcp-blast bytes %llu secs %.6f\n", (unsigned long long)bytes,
	       (double)(now_ns() - start) / 1e9);
	return 0;
}

static int
tcp_accept(const char *port, int secs)
{
	int lfd = bound(SOCK_STREAM, port);
	uint64_t end = now_ns() + (uint64_t)secs * 1000000000u, n = 0;

	if (listen(lfd, 1024) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (now_ns() < end) {
		struct pollfd p = { lfd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 200) != 1)
			continue;
		c = accept(lfd, NULL, NULL);
		if (c >= 0) {
			close(c);
			n++;
		}
	}
	printf("tcp-accept accepted %llu\n", (unsigned long long)n);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
connect_lat(const char *a, const char *port, int count)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = addr_of(a, port, &ss, &len), failed = 0;
	uint64_t *lat = calloc((size_t)count, sizeof(*lat));
	struct linger lg = { 1, 0 };

	if (lat == NULL)
		return 1;
	for (int i = -20; i < count; i++) { /* 20 warm-up connections */
		int fd = socket(fam, SOCK_STREAM, 0);
		uint64_t t0, t1;

		if (fd < 0)
			return 1;
		/* Reset on close: no TIME_WAIT pile-up, every connect a new flow. */
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		t0 = now_ns();
		if (connect(fd, (struct sockaddr *)&ss, len) < 0)
			failed++;
		t1 = now_ns();
		close(fd);
		if (i >= 0)
			lat[i] = t1 - t0;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_u64);
	printf("connect-lat count %d failed %d p50 %.1f p90 %.1f p99 %.1f\n", count, failed,
	       (double)lat[count / 2] / 1e3, (double)lat[count * 9 / 10] / 1e3,
	       (double)lat[count * 99 / 100] / 1e3);
	free(lat);
	return failed == 0 ? 0 : 1;
}

static int
udp_flows(const char *a, const char *port, int count, int sport, int errors)
{
	struct sockaddr_storage ss, src;
	socklen_t len;
	int fam = addr_of(a, port, &ss, &len), ep = -1, sent = 0, seen = 0;
	int *fds = errors ? calloc((size_t)count, sizeof(int)) : NULL;
	struct rlimit rl;
	uint64_t start, sent_at, done = 0;
	struct epoll_event ev[256];

	if (errors) {
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		if (fds == NULL || rl.rlim_max < (rlim_t)count + 64 ||
		    setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			perror("netload: udp-flows: RLIMIT_NOFILE");
			return 1;
		}
		ep = epoll_create1(0);
	}
	start = now_ns();
	for (int i = 0; i < count; i++) {
		int fd = socket(fam, SOCK_DGRAM, 0);

		if (fd < 0) {
			perror("netload: socket");
			return 1;
		}
		memset(&src, 0, sizeof(src));
		src.ss_family = (sa_family_t)fam;
		((struct sockaddr_in *)&src)->sin_port = htons((uint16_t)(sport + i % 20000));
		if (bind(fd, (struct sockaddr *)&src, len) < 0)
			perror("netload: bind");
		if (errors) {
			struct epoll_event e = { .events = EPOLLERR, .data.fd = fd };

			if (connect(fd, (struct sockaddr *)&ss, len) == 0 &&
			    send(fd, "ldm-flow", 8, 0) == 8)
				sent++;
			fds[i] = fd;
			(void)epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
			/* Collect errors as they come, so the queue does not grow unseen. */
			int n = epoll_wait(ep, ev, 256, 0);
			for (int k = 0; k < n; k++) {
				int err = 0;
				socklen_t el = sizeof(err);

				(void)getsockopt(ev[k].data.fd, SOL_SOCKET, SO_ERROR, &err, &el);
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, ev[k].data.fd, NULL);
				seen++;
				done = now_ns();
			}
		} else {
			if (sendto(fd, "ldm-flow", 8, 0, (struct sockaddr *)&ss, len) == 8)
				sent++;
			close(fd);
		}
	}
	sent_at = now_ns();
	if (errors) {
		uint64_t end = now_ns() + 20000000000u;

		while (seen < sent && now_ns() < end) {
			int n = epoll_wait(ep, ev, 256, 100);

			for (int k = 0; k < n; k++) {
				int err = 0;
				socklen_t el = sizeof(err);

				(void)getsockopt(ev[k].data.fd, SOL_SOCKET, SO_ERROR, &err, &el);
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, ev[k].data.fd, NULL);
				seen++;
				done = now_ns();
			}
		}
		for (int i = 0; i < count; i++)
			close(fds[i]);
	}
	printf("udp-flows sent %d start %llu sent_at %llu errors %d done %llu\n", sent,
	       (unsigned long long)start, (unsigned long long)sent_at, seen,
	       (unsigned long long)done);
	return 0;
}

static int
time_cmd(char **argv)
{
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	printf("time us %.1f status %d\n", (double)(now_ns() - t0) / 1e3,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* What one cgroup migration costs: the kernel's cgroup_threadgroup_rwsem write side waits
 * for an RCU grace period unless another migration ran moments before (GAP_MS apart they
 * are "cold", as a launch is). */
static int
cg_move(const char *a, const char *b, int count, int gap_ms)
{
	uint64_t *t = calloc((size_t)(count > 0 ? count : 1), sizeof(*t));
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());

	if (t == NULL || count <= 0)
		return 1;
	for (int i = 0; i < count; i++) {
		char path[4200];
		struct timespec gap = { gap_ms / 1000, (long)(gap_ms % 1000) * 1000000 };
		uint64_t t0;
		int fd;

		(void)snprintf(path, sizeof(path), "%s/cgroup.procs", i % 2 ? a : b);
		nanosleep(&gap, NULL);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(path);
			free(t);
			return 1;
		}
		t0 = now_ns();
		if (write(fd, pid, (size_t)n) != n) {
			perror(path);
			close(fd);
			free(t);
			return 1;
		}
		t[i] = now_ns() - t0;
		close(fd);
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_u64);
	printf("cg-move p50 us %.1f min %.1f max %.1f\n", (double)t[count / 2] / 1e3,
	       (double)t[0] / 1e3, (double)t[count - 1] / 1e3);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "udp-sink") && argc >= 4)
		return udp_sink(argv[2], num(argv[3]), argc > 4 ? num(argv[4]) : 300);
	if (!strcmp(c, "udp-blast") && argc >= 6)
		return udp_blast(argv[2], argv[3], num(argv[4]), num(argv[5]),
		                 argc > 6 ? num(argv[6]) : 0);
	if (!strcmp(c, "tcp-sink") && argc >= 4)
		return tcp_sink(argv[2], num(argv[3]));
	if (!strcmp(c, "tcp-blast") && argc >= 5)
		return tcp_blast(argv[2], argv[3], num(argv[4]));
	if (!strcmp(c, "tcp-accept") && argc >= 4)
		return tcp_accept(argv[2], num(argv[3]));
	if (!strcmp(c, "connect-lat") && argc >= 5)
		return connect_lat(argv[2], argv[3], num(argv[4]));
	if (!strcmp(c, "udp-flows") && argc >= 6)
		return udp_flows(argv[2], argv[3], num(argv[4]), num(argv[5]),
		                 argc > 6 && !strcmp(argv[6], "errors"));
	if (!strcmp(c, "time") && argc >= 3)
		return time_cmd(argv + 2);
	if (!strcmp(c, "cg-move") && argc >= 6)
		return cg_move(argv[2], argv[3], num(argv[4]), num(argv[5]));
	fprintf(stderr, "usage: see the comment at the top of tests/bench/netload.c\n");
	return 2;
}
