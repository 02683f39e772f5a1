/*
 * A small network tool for the integration tests: sends, receives and connects, and says
 * what happened in its exit status, so that shell tests can assert it.
 *
 *   ldm-net udp-send ADDR PORT [COUNT]      send COUNT datagrams; 0 sent, 1 refused
 *   ldm-net udp-ask ADDR PORT [SECONDS]     send one datagram, wait for an answer: 0 yes
 *   ldm-net udp-echo ADDR PORT [SECONDS]    answer datagrams to ADDR:PORT until the time is up
 *   ldm-net udp-answer PORT [SECONDS]       wait for one datagram on PORT, answer it: 0 done
 *   ldm-net tcp-connect ADDR PORT [SECONDS] 0 connected, 1 refused/reset, 2 timed out, 3 other,
 *                                           5 dropped on this machine (EPERM)
 *   ldm-net tcp-serve ADDR PORT [SECONDS]   accept and close connections until the time is up
 *   ldm-net udp-stream ADDR PORT SECONDS    one socket, a datagram every 100 ms, count the
 *                                           answers: 0 when at least 90% came back
 *   ldm-net resolve-connect RESOLVER NAME PORT [SECONDS]
 *                                           ask RESOLVER (UDP 53) for NAME's A record, then
 *                                           tcp-connect to it: 6 when the lookup failed
 *   ldm-net dns-time RESOLVER NAME COUNT    COUNT lookups one after the other, each on a new
 *                                           socket; prints "dns-time p50 US p99 US" (µs)
 *   ldm-net udp-exchange ADDR PORT COUNT SIZE
 *                                           one socket, COUNT datagrams of SIZE bytes (1-1400),
 *                                           each waiting up to 500 ms for its answer; prints
 *                                           "exchange: sent N, answered M", 0 when all came back
 *   ldm-net udp-spray ADDR PORT COUNT       COUNT datagrams, each from a new socket bound to
 *                                           its own source port (40000 + i: a new flow each)
 *   ldm-net udp-send-from SPORT ADDR PORT COUNT [IFACE|- [PAYLOAD]]
 *                                           COUNT datagrams (PAYLOAD, default "ldm-test"),
 *                                           50 ms apart, from one socket bound to source
 *                                           port SPORT (SO_REUSEADDR, SO_BROADCAST) and, with
 *                                           IFACE, to that device (SO_BINDTODEVICE); 0 all
 *                                           sent, 1 not
 *
 * Exit 4 means a usage error. Addresses are IPv4 or IPv6 literals.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ldm/util.h"

static int
parse_addr(const char *a, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	uint16_t p;

	memset(ss, 0, sizeof(*ss));
	if (ldm_parse_u16(port, &p) < 0)
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

static int
seconds(int argc, char **argv, int i, int def)
{
	uint32_t v;

	return i < argc && ldm_parse_u32(argv[i], &v) == 0 ? (int)v : def;
}

static int
wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static int
udp_send(const char *a, const char *port, int count)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(a, port, &ss, &len), fd, sent = 0;

	if (fam < 0 || (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return 4;
	for (int i = 0; i < count; i++)
		if (sendto(fd, "ldm-test", 8, 0, (struct sockaddr *)&ss, len) == 8)
			sent++;
		else
			fprintf(stderr, "udp-send: %s\n", strerror(errno));
	printf("sent %d of %d\n", sent, count);
	return sent == count ? 0 : 1;
}

static int
udp_send_from(const char *sport, const char *a, const char *port, int count, const char *dev,
              const char *payload)
{
	size_t plen = strlen(payload);
	struct sockaddr_storage ss, local;
	socklen_t len, llen;
	int fam = parse_addr(a, port, &ss, &len), fd, on = 1, sent = 0;

	if (fam < 0 || parse_addr(fam == AF_INET ? "0.0.0.0" : "::", sport, &local, &llen) < 0 ||
	    (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return 4;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	if (dev != NULL && strcmp(dev, "-") != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0) {
		fprintf(stderr, "udp-send-from: SO_BINDTODEVICE %s: %s\n", dev, strerror(errno));
		return 4;
	}
	if (bind(fd, (struct sockaddr *)&local, llen) < 0) {
		fprintf(stderr, "udp-send-from: bind: %s\n", strerror(errno));
		return 4;
	}
	for (int i = 0; i < count; i++) {
		if (sendto(fd, payload, plen, 0, (struct sockaddr *)&ss, len) == (ssize_t)plen)
			sent++;
		else
			fprintf(stderr, "udp-send-from: %s\n", strerror(errno));
		(void)nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	printf("sent %d of %d\n", sent, count);
	close(fd);
	return sent == count ? 0 : 1;
}

static int
udp_ask(const char *a, const char *port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[512];
	int fam = parse_addr(a, port, &ss, &len), fd;

	if (fam < 0 || (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 || send(fd, "ldm-ask", 7, 0) != 7) {
		fprintf(stderr, "udp-ask: %s\n", strerror(errno));
		return 1;
	}
	if (!wait_readable(fd, secs * 1000))
		return 2;
	if (recv(fd, buf, sizeof(buf), 0) < 0) {
		fprintf(stderr, "udp-ask: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* Binds a UDP socket to ADDR:PORT (or the any address of FAM when ADDR is NULL). */
static int
udp_bound(const char *a, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(a, port, &ss, &len), fd, on = 1;

	if (fam < 0 || (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "bind: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
udp_echo(const char *a, const char *port, int secs, bool once)
{
	int fd = udp_bound(a, port), answered = 0;
	time_t end = time(NULL) + secs;

	if (fd < 0)
		return 4;
	while (time(NULL) < end) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		char buf[2048];
		ssize_t n;

		if (!wait_readable(fd, 200))
			continue;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			answered++;
		else
			fprintf(stderr, "answer: %s\n", strerror(errno));
		if (once)
			break;
	}
	printf("answered %d\n", answered);
	return answered > 0 ? 0 : 2;
}

static int
tcp_connect(const char *a, const char *port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len, el = sizeof(int);
	struct pollfd p;
	int fam = parse_addr(a, port, &ss, &len), fd, err = 0;

	if (fam < 0 || (fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		fprintf(stderr, "tcp-connect: %s\n", strerror(errno));
		return errno == EPERM ? 5 : (errno == ECONNREFUSED || errno == ECONNRESET ? 1 : 3);
	}
	p = (struct pollfd){ fd, POLLOUT, 0 };
	if (poll(&p, 1, secs * 1000) != 1) {
		fprintf(stderr, "tcp-connect: timed out\n");
		return 2;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err != 0)
		fprintf(stderr, "tcp-connect: %s\n", strerror(err));
	if (err == EPERM)
		return 5;
	return err == 0 ? 0 : (err == ECONNREFUSED || err == ECONNRESET ? 1 : 3);
}

static int
tcp_serve(const char *a, const char *port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	time_t end = time(NULL) + secs;
	int fam = parse_addr(a, port, &ss, &len), fd, on = 1, served = 0;

	if (fam < 0 || (fd = socket(fam, SOCK_STREAM, 0)) < 0)
		return 4;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0)
		return 4;
	while (time(NULL) < end) {
		int c;

		if (!wait_readable(fd, 200))
			continue;
		c = accept(fd, NULL, NULL);
		if (c >= 0) {
			if (write(c, "ok\n", 3) < 0)
				fprintf(stderr, "tcp-serve: %s\n", strerror(errno));
			close(c);
			served++;
		}
	}
	printf("served %d\n", served);
	return 0;
}

static int
udp_stream(const char *a, const char *port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(a, port, &ss, &len), fd, sent = 0, got = 0;
	char buf[512];

	if (fam < 0 || (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return 1;
	for (int i = 0; i < secs * 10; i++) {
		if (send(fd, "ldm-stream", 10, 0) == 10)
			sent++;
		if (wait_readable(fd, 100) && recv(fd, buf, sizeof(buf), 0) > 0)
			got++;
	}
	printf("stream: sent %d, answered %d\n", sent, got);
	return got * 10 >= secs * 10 * 9 ? 0 : 1;
}

static int
udp_exchange(const char *a, const char *port, int count, int size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(a, port, &ss, &len), fd, sent = 0, got = 0;
	char out[1400], buf[2048];

	if (fam < 0 || count < 1 || size < 1 || size > (int)sizeof(out) ||
	    (fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return 1;
	memset(out, 'm', sizeof(out));
	for (int i = 0; i < count; i++) {
		if (send(fd, out, (size_t)size, 0) == size)
			sent++;
		if (wait_readable(fd, 500) && recv(fd, buf, sizeof(buf), 0) > 0)
			got++;
	}
	printf("exchange: sent %d, answered %d\n", sent, got);
	return got == count ? 0 : 1;
}

static int
udp_spray(const char *a, const char *port, int count)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(a, port, &ss, &len), sent = 0;

	if (fam < 0)
		return 4;
	for (int i = 0; i < count; i++) {
		struct sockaddr_storage src = { .ss_family = (sa_family_t)fam };
		int fd = socket(fam, SOCK_DGRAM, 0);

		if (fd < 0)
			return 3;
		/* Port fields sit at the same offset in sockaddr_in and sockaddr_in6. */
		((struct sockaddr_in *)&src)->sin_port = htons((uint16_t)(40000 + i % 20000));
		if (bind(fd, (struct sockaddr *)&src,
		         fam == AF_INET ? sizeof(struct sockaddr_in)
		                        : sizeof(struct sockaddr_in6)) < 0)
			fprintf(stderr, "udp-spray: bind: %s\n", strerror(errno));
		if (sendto(fd, "ldm-spray", 9, 0, (struct sockaddr *)&ss, len) == 9)
			sent++;
		close(fd);
	}
	printf("spray: sent %d of %d\n", sent, count);
	return 0;
}

/* A DNS query for NAME, type A, id 0x1d1d, into BUF; returns its length or -1. */
static int
dns_query(const char *name, uint8_t *buf, size_t size)
{
	static const uint8_t hdr[12] = { 0x1d, 0x1d, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t pos = sizeof(hdr);

	memcpy(buf, hdr, sizeof(hdr));
	for (const char *p = name; *p != '\0';) {
		size_t l = strcspn(p, ".");

		if (l == 0 || l > 63 || pos + l + 6 > size)
			return -1;
		buf[pos++] = (uint8_t)l;
		memcpy(buf + pos, p, l);
		pos += l;
		p += l + (p[l] == '.');
	}
	memcpy(buf + pos, "\0\0\1\0\1", 5); /* root, type A, class IN */
	return (int)(pos + 5);
}

/* The first A record of answer MSG (a test helper: trusts lengths only within LEN). */
static int
dns_first_a(const uint8_t *msg, size_t len, size_t qlen, char *out, size_t size)
{
	size_t pos = qlen;

	if (len < 12 || (msg[3] & 0x0f) != 0 || (msg[6] | msg[7]) == 0)
		return -1;
	while (pos + 12 <= len) {
		size_t rd;

		if ((msg[pos] & 0xc0) == 0xc0) {
			pos += 2;
		} else {
			while (pos < len && msg[pos] != 0)
				pos += msg[pos] + 1u;
			pos++; /* the root label */
		}
		if (pos + 10 > len)
			return -1;
		rd = (size_t)msg[pos + 8] << 8 | msg[pos + 9];
		if (msg[pos + 1] == 1 && rd == 4 && pos + 14 <= len)
			return inet_ntop(AF_INET, msg + pos + 10, out, (socklen_t)size) ? 0 : -1;
		pos += 10 + rd;
	}
	return -1;
}

static int
resolve_connect(const char *resolver, const char *name, const char *port, int secs)
{
	uint8_t q[300], a[1500];
	char addr[64];
	int ql = dns_query(name, q, sizeof(q)), fd;
	struct sockaddr_storage ss;
	socklen_t len;
	ssize_t n;

	if (ql < 0 || parse_addr(resolver, "53", &ss, &len) < 0 ||
	    (fd = socket(ss.ss_family, SOCK_DGRAM, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 || send(fd, q, (size_t)ql, 0) != ql) {
		fprintf(stderr, "resolve: %s\n", strerror(errno));
		return 6;
	}
	if (!wait_readable(fd, secs * 1000) || (n = recv(fd, a, sizeof(a), 0)) < 0 ||
	    dns_first_a(a, (size_t)n, (size_t)ql, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "resolve: no answer for %s (%s)\n", name, strerror(errno));
		return 6;
	}
	printf("%s is %s\n", name, addr);
	return tcp_connect(addr, port, secs);
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
dns_time(const char *resolver, const char *name, int count)
{
	uint8_t q[300], a[1500];
	long *us = calloc((size_t)count, sizeof(*us));
	int ql = dns_query(name, q, sizeof(q)), ok = 0;
	struct sockaddr_storage ss;
	socklen_t len;

	if (us == NULL || ql < 0 || parse_addr(resolver, "53", &ss, &len) < 0)
		return 4;
	for (int i = 0; i < count; i++) {
		struct timespec t0, t1;
		int fd = socket(ss.ss_family, SOCK_DGRAM, 0);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0 &&
		    send(fd, q, (size_t)ql, 0) == ql && wait_readable(fd, 2000) &&
		    recv(fd, a, sizeof(a), 0) > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			us[ok++] = (t1.tv_sec - t0.tv_sec) * 1000000 +
			           (t1.tv_nsec - t0.tv_nsec) / 1000;
		}
		if (fd >= 0)
			close(fd);
	}
	if (ok == 0)
		return 6;
	qsort(us, (size_t)ok, sizeof(*us), cmp_long);
	printf("dns-time p50 %ld p99 %ld ok %d\n", us[ok / 2], us[(ok * 99) / 100], ok);
	free(us);
	return ok == count ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(cmd, "udp-send") == 0 && argc >= 4)
		return udp_send(argv[2], argv[3], seconds(argc, argv, 4, 1));
	if (strcmp(cmd, "udp-send-from") == 0 && argc >= 6)
		return udp_send_from(argv[2], argv[3], argv[4], seconds(argc, argv, 5, 1),
		                     argc > 6 ? argv[6] : NULL, argc > 7 ? argv[7] : "ldm-test");
	if (strcmp(cmd, "udp-ask") == 0 && argc >= 4)
		return udp_ask(argv[2], argv[3], seconds(argc, argv, 4, 3));
	if (strcmp(cmd, "udp-echo") == 0 && argc >= 4)
		return udp_echo(argv[2], argv[3], seconds(argc, argv, 4, 10), false);
	if (strcmp(cmd, "udp-answer") == 0 && argc >= 3)
		return udp_echo("::", argv[2], seconds(argc, argv, 3, 10), true);
	if (strcmp(cmd, "tcp-connect") == 0 && argc >= 4)
		return tcp_connect(argv[2], argv[3], seconds(argc, argv, 4, 5));
	if (strcmp(cmd, "tcp-serve") == 0 && argc >= 4)
		return tcp_serve(argv[2], argv[3], seconds(argc, argv, 4, 10));
	if (strcmp(cmd, "udp-stream") == 0 && argc >= 5)
		return udp_stream(argv[2], argv[3], seconds(argc, argv, 4, 5));
	if (strcmp(cmd, "resolve-connect") == 0 && argc >= 5)
		return resolve_connect(argv[2], argv[3], argv[4], seconds(argc, argv, 5, 3));
	if (strcmp(cmd, "dns-time") == 0 && argc >= 5)
		return dns_time(argv[2], argv[3], seconds(argc, argv, 4, 100));
	if (strcmp(cmd, "udp-exchange") == 0 && argc >= 6)
		return udp_exchange(argv[2], argv[3], seconds(argc, argv, 4, 1),
		                    seconds(argc, argv, 5, 1));
	if (strcmp(cmd, "udp-spray") == 0 && argc >= 5)
		return udp_spray(argv[2], argv[3], seconds(argc, argv, 4, 1));
	fprintf(stderr, "usage: see the comment at the top of tests/tools/ldm-net.c\n");
	return 4;
}
