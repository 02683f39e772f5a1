/*
 * Local socket attempts for the integration tests (tests/integration/test_unix.sh). A target
 * is a path or @NAME (abstract). Exit 0 when the attempt worked, 1 when it was refused
 * (the errno is printed), 2 on a usage error.
 *
 *   ldm-unix connect TARGET [TYPE] [MSG]
 *       connect a socket of TYPE (stream, seqpacket, dgram; default stream) and send MSG
 *   ldm-unix serve TARGET COUNT_FILE SECONDS [TYPE]
 *       bind and accept (stream, seqpacket) or receive (dgram) until SECONDS pass; after
 *       each connection or datagram, write how many there were into COUNT_FILE
 *   ldm-unix pair TARGET [TYPE]
 *       a listener and a client in two processes of this program (one session): the
 *       client connects, sends "ping", the listener answers "pong"; exit 0 if it arrived
 *   ldm-unix pass TARGET SECONDS FDTARGET
 *       serve TARGET; to each client, send over SCM_RIGHTS a socket connected to FDTARGET
 *   ldm-unix recv-fd TARGET MSG
 *       connect TARGET, receive one fd and write MSG into it
 *   ldm-unix race ALLOWED RELAY N
 *       two threads: one connects a fresh socket N times to the address in a shared
 *       buffer, the other keeps rewriting that buffer between ALLOWED and RELAY and
 *       dup2()s another socket onto the fd being connected. Prints how many connects
 *       worked; exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static socklen_t
make_addr(const char *target, struct sockaddr_un *a)
{
	size_t n = strlen(target);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n >= sizeof(a->sun_path))
		n = sizeof(a->sun_path) - 1;
	memcpy(a->sun_path, target, n);
	if (target[0] == '@') {
		a->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int
parse_type(const char *s)
{
	if (s == NULL || strcmp(s, "stream") == 0)
		return SOCK_STREAM;
	if (strcmp(s, "seqpacket") == 0)
		return SOCK_SEQPACKET;
	if (strcmp(s, "dgram") == 0)
		return SOCK_DGRAM;
	return -1;
}

static int
fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

static int
cmd_connect(const char *target, const char *type_s, const char *msg)
{
	struct sockaddr_un a;
	socklen_t len = make_addr(target, &a);
	int type = parse_type(type_s);
	int fd = type < 0 ? -1 : socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (type < 0)
		return 2;
	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&a, len) < 0)
		return fail("connect");
	if (msg != NULL && send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return fail("send");
	printf("connect: ok\n");
	close(fd);
	return 0;
}

static int
bound(const char *target, int type)
{
	struct sockaddr_un a;
	socklen_t len = make_addr(target, &a);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (target[0] != '@')
		(void)unlink(target);
	if (bind(fd, (struct sockaddr *)&a, len) < 0 ||
	    (type != SOCK_DGRAM && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
write_count(const char *file, unsigned long n)
{
	char tmp[4200];
	FILE *f;

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "%lu\n", n);
	fclose(f);
	(void)rename(tmp, file);
}

static int
cmd_serve(const char *target, const char *count_file, int seconds, const char *type_s)
{
	int type = parse_type(type_s);
	int fd = type < 0 ? -1 : bound(target, type);
	time_t end = time(NULL) + seconds;
	unsigned long n = 0;

	if (fd < 0)
		return fail("serve");
	write_count(count_file, 0);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (type == SOCK_DGRAM) {
			if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
				continue;
		} else {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			close(c);
		}
		write_count(count_file, ++n);
	}
	return 0;
}

static int
cmd_pair(const char *target, const char *type_s)
{
	int type = parse_type(type_s);
	int fd = type < 0 ? -1 : bound(target, type);
	struct sockaddr_un a;
	socklen_t len = make_addr(target, &a);
	char buf[16] = "";
	int status;
	pid_t pid;

	if (fd < 0)
		return fail("bind");
	pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&a, len) < 0) {
			printf("pair: child connect: %s\n", strerror(errno));
			_exit(1);
		}
		if (send(c, "ping", 4, MSG_NOSIGNAL) != 4)
			_exit(1);
		if (type != SOCK_DGRAM && recv(c, buf, sizeof(buf) - 1, 0) != 4)
			_exit(1);
		_exit(type == SOCK_DGRAM || strcmp(buf, "pong") == 0 ? 0 : 1);
	}
	if (type == SOCK_DGRAM) {
		if (recv(fd, buf, sizeof(buf) - 1, 0) != 4)
			return fail("pair recv");
	} else {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0 || recv(c, buf, sizeof(buf) - 1, 0) != 4 || send(c, "pong", 4, 0) != 4)
			return fail("pair accept");
		close(c);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("pair: the client failed\n");
		return 1;
	}
	printf("pair: ok\n");
	return 0;
}

static int
send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = u.buf,
		              .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;

	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int
cmd_pass(const char *target, int seconds, const char *fdtarget)
{
	int fd = bound(target, SOCK_STREAM);
	time_t end = time(NULL) + seconds;

	if (fd < 0)
		return fail("pass");
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_un a;
		socklen_t len = make_addr(fdtarget, &a);
		int c, s;

		if (poll(&p, 1, 200) <= 0)
			continue;
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, len) == 0)
			(void)send_fd(c, s);
		if (s >= 0)
			close(s);
		close(c);
	}
	return 0;
}

static int
cmd_recv_fd(const char *target, const char *msg)
{
	struct sockaddr_un a;
	socklen_t len = make_addr(target, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov,
		            .msg_iovlen = 1,
		            .msg_control = u.buf,
		            .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int got;

	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&a, len) < 0)
		return fail("connect");
	if (recvmsg(fd, &m, MSG_CMSG_CLOEXEC) <= 0 || (c = CMSG_FIRSTHDR(&m)) == NULL ||
	    c->cmsg_type != SCM_RIGHTS) {
		printf("recv-fd: no fd\n");
		return 1;
	}
	memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (send(got, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return fail("send on the passed fd");
	printf("recv-fd: sent\n");
	return 0;
}

/* The racer: the connecting thread and the swapping thread share FD and the address. */
static struct {
	struct sockaddr_un addr;
	socklen_t len;
	atomic_int fd;
	atomic_bool stop;
	struct sockaddr_un good, bad;
	socklen_t good_len, bad_len;
} race;

static void *
swapper(void *arg)
{
	unsigned i = 0;

	(void)arg;
	while (!atomic_load(&race.stop)) {
		bool bad = (i++ & 1) != 0;
		int s;

		/* Byte by byte: the supervisor may read any mix of the two. */
		memcpy(&race.addr, bad ? &race.bad : &race.good, sizeof(race.addr));
		race.len = bad ? race.bad_len : race.good_len;
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0) {
			(void)dup2(s, atomic_load(&race.fd));
			close(s);
		}
	}
	return NULL;
}

static int
cmd_race(const char *allowed, const char *relay, long n)
{
	pthread_t t;
	long ok = 0;

	race.good_len = make_addr(allowed, &race.good);
	race.bad_len = make_addr(relay, &race.bad);
	race.addr = race.good;
	race.len = race.good_len;
	race.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (race.fd < 0 || pthread_create(&t, NULL, swapper, NULL) != 0)
		return fail("race");
	for (long i = 0; i < n; i++) {
		int fd = atomic_load(&race.fd);

		if (connect(fd, (struct sockaddr *)&race.addr, race.len) == 0)
			ok++;
		/* A fresh socket for the next round, at the same number. */
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s >= 0) {
			(void)dup2(s, fd);
			close(s);
		}
	}
	atomic_store(&race.stop, true);
	pthread_join(t, NULL);
	printf("race: %ld of %ld connects worked\n", ok, n);
	return 0;
}

/* A positive number, or -1. */
static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || v <= 0 ? -1 : v;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "connect") == 0)
		return cmd_connect(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
	if (argc >= 5 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argv[2], argv[3], (int)num(argv[4]), argc > 5 ? argv[5] : NULL);
	if (argc >= 3 && strcmp(argv[1], "pair") == 0)
		return cmd_pair(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 5 && strcmp(argv[1], "pass") == 0)
		return cmd_pass(argv[2], (int)num(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "recv-fd") == 0)
		return cmd_recv_fd(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "race") == 0)
		return cmd_race(argv[2], argv[3], num(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of tests/tools/ldm-unix.c\n");
	return 2;
}
