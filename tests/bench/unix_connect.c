/*
 * connect() latency and the per-packet send path, for tests/bench/unix_connect.sh (run it
 * inside and outside an ldm-run session and compare). Prints one line:
 *   unix|tcp: "connects N p50_us X p90_us Y"   N times: socket(), connect() (timed), close()
 *   udp:      "packets N ns_per_send X"         N send()s of SIZE bytes on a connected socket
 *
 *   unix_connect unix PATH N
 *   unix_connect tcp ADDR PORT N
 *   unix_connect udp ADDR PORT N SIZE
 *   unix_connect serve PATH SECONDS    accept and close connections on PATH, fast
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || v <= 0 ? -1 : v;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
connects(const struct sockaddr *sa, socklen_t len, int family, long n)
{
	double *v = calloc((size_t)n, sizeof(*v));

	if (v == NULL)
		return 1;
	for (long i = 0; i < n; i++) {
		int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		double t0;

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		t0 = now_us();
		if (connect(fd, sa, len) < 0) {
			perror("connect");
			return 1;
		}
		v[i] = now_us() - t0;
		close(fd);
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("connects %ld p50_us %.1f p90_us %.1f\n", n, v[n / 2], v[n * 9 / 10]);
	free(v);
	return 0;
}

static int
inet_addr_port(const char *a, const char *p, struct sockaddr_in *sin)
{
	long port = num(p);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return port > 0 && port < 65536 && inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1;
}

static int
udp(const struct sockaddr_in *sin, long n, long size)
{
	char buf[65536] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	double t0;

	if (fd < 0 || size > (long)sizeof(buf) ||
	    connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		perror("udp");
		return 1;
	}
	t0 = now_us();
	for (long i = 0; i < n; i++)
		if (send(fd, buf, (size_t)size, 0) < 0 && errno != ENOBUFS &&
		    errno != ECONNREFUSED) {
			perror("send");
			return 1;
		}
	printf("packets %ld ns_per_send %.1f\n", n, (now_us() - t0) * 1000 / (double)n);
	return 0;
}

static int
serve(const char *path, long seconds)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	time_t end = time(NULL) + seconds;

	if (fd < 0 || strlen(path) >= sizeof(sun.sun_path))
		return 1;
	memcpy(sun.sun_path, path, strlen(path));
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 4096) < 0) {
		perror("serve");
		return 1;
	}
	while (time(NULL) < end) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			close(c);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_in sin;

	if (argc == 4 && strcmp(argv[1], "unix") == 0 && num(argv[3]) > 0 &&
	    strlen(argv[2]) < sizeof(sun.sun_path)) {
		memcpy(sun.sun_path, argv[2], strlen(argv[2]));
		return connects((struct sockaddr *)&sun, sizeof(sun), AF_UNIX, num(argv[3]));
	}
	if (argc == 5 && strcmp(argv[1], "tcp") == 0 && num(argv[4]) > 0 &&
	    inet_addr_port(argv[2], argv[3], &sin) == 0)
		return connects((struct sockaddr *)&sin, sizeof(sin), AF_INET, num(argv[4]));
	if (argc == 6 && strcmp(argv[1], "udp") == 0 && num(argv[4]) > 0 && num(argv[5]) > 0 &&
	    inet_addr_port(argv[2], argv[3], &sin) == 0)
		return udp(&sin, num(argv[4]), num(argv[5]));
	if (argc == 4 && strcmp(argv[1], "serve") == 0 && num(argv[3]) > 0)
		return serve(argv[2], num(argv[3]));
	fprintf(stderr, "usage: see tests/bench/unix_connect.c\n");
	return 2;
}
