/*
 * The baseline for the new-flows benchmark (tests/bench/newflows.sh): the barest NFQUEUE
 * loop that libnetfilter_queue and libmnl allow, bound the way ldm-enforcerd binds its queue
 * (whole packets copied, queue length 65536, 16 MiB receive buffer, GSO and uid/gid on, no
 * fail-open), accepting every packet and answering each receive buffer's verdicts in one
 * send. Verdicts OR MARK into the packet mark (ldm's "approved" bit, so the LDM-POST and
 * LDM-GUARD chains let the packet out as they do for a flow the enforcer allowed).
 *
 *   nfq_baseline QUEUE MARK SECONDS   run for SECONDS (or until SIGTERM), then print
 *                                     "nfq_baseline packets N first NS last NS"
 *
 * Without arguments it prints this usage and exits 0 (make bench runs the .sh scripts,
 * which run this).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ldm/util.h"

static uint8_t rxbuf[1 << 18];
static uint8_t txbuf[1 << 16];
static size_t txlen;
static struct mnl_socket *nl;
static uint16_t queue;
static uint32_t or_mark;
static uint64_t packets, first, last;
static volatile sig_atomic_t stop;

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void
flush(void)
{
	if (txlen > 0 && mnl_socket_sendto(nl, txbuf, txlen) < 0)
		perror("nfq_baseline: verdict");
	txlen = 0;
}

static int
packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *v;
	uint32_t mark = 0;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_MARK] != NULL)
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (txlen + 128 > sizeof(txbuf))
		flush();
	v = nfq_nlmsg_put((char *)txbuf + txlen, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_ACCEPT);
	nfq_nlmsg_verdict_put_mark(v, mark | or_mark);
	txlen += NLMSG_ALIGN(v->nlmsg_len);
	last = now_ns();
	if (packets++ == 0)
		first = last;
	return MNL_CB_OK;
}

static int
config(struct nlmsghdr *nlh)
{
	uint8_t ack[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (n = mnl_socket_recvfrom(nl, ack, sizeof(ack))) < 0)
		return -1;
	return mnl_cb_run(ack, (size_t)n, 1, mnl_socket_get_portid(nl), NULL, NULL);
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A mark in hex (0x...) or decimal, all of the string, at most 32 bits. */
static int
parse_mark(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int rcvbuf = 16 << 20;
	struct timeval tv = { 0, 100000 };
	struct sigaction sa = { .sa_handler = on_term };
	uint32_t secs;
	uint64_t end;

	if (argc < 4) {
		fprintf(stderr, "usage: nfq_baseline QUEUE MARK SECONDS (run by "
		                "tests/bench/newflows.sh)\n");
		return 2;
	}
	if (ldm_parse_u16(argv[1], &queue) < 0 || parse_mark(argv[2], &or_mark) < 0 ||
	    ldm_parse_u32(argv[3], &secs) < 0) {
		fprintf(stderr, "nfq_baseline: QUEUE 0-65535, MARK (hex or decimal) and SECONDS "
		                "must be numbers\n");
		return 2;
	}
	end = now_ns() + (uint64_t)secs * 1000000000u;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_baseline: netlink");
		return 1;
	}
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	                 sizeof(rcvbuf));
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (config(nlh) < 0) {
		perror("nfq_baseline: bind queue");
		return 1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 65536);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK,
	                 htonl(NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (config(nlh) < 0) {
		perror("nfq_baseline: configure queue");
		return 1;
	}
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("ready\n");
	fflush(stdout);
	while (!stop && now_ns() < end) {
		ssize_t n = mnl_socket_recvfrom(nl, rxbuf, sizeof(rxbuf));

		if (n < 0) {
			if (errno == ENOBUFS)
				fprintf(stderr, "nfq_baseline: ENOBUFS\n");
			continue;
		}
		(void)mnl_cb_run(rxbuf, (size_t)n, 0, mnl_socket_get_portid(nl), packet_cb, NULL);
		flush();
	}
	printf("nfq_baseline packets %llu first %llu last %llu\n", (unsigned long long)packets,
	       (unsigned long long)first, (unsigned long long)last);
	mnl_socket_close(nl);
	return 0;
}
