/*
 * The reader of one ctnetlink conntrack entry (see ctentry.h). Every attribute goes
 * through libmnl's bounds checks and a type check before its value is read.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>

#include "ctentry.h"
#include "ldm/util.h"

#define ATTR_MAX 32 /* above every CTA_*_MAX read here */

_Static_assert(CTA_MAX < ATTR_MAX && CTA_TUPLE_MAX < ATTR_MAX && CTA_IP_MAX < ATTR_MAX &&
                       CTA_PROTO_MAX < ATTR_MAX && CTA_COUNTERS_MAX < ATTR_MAX,
               "attribute tables are large enough");

/* The attributes of one level, by type; types past the table are ignored (newer kernels). */
struct attrs {
	const struct nlattr *tb[ATTR_MAX];
};

static int
collect(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < ATTR_MAX)
		at->tb[type] = a;
	return MNL_CB_OK;
}

static int
nested(const struct nlattr *a, struct attrs *ret)
{
	*ret = (struct attrs){ 0 };
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	return mnl_attr_parse_nested(a, collect, ret) == MNL_CB_OK ? 0 : -EBADMSG;
}

/* An attribute of exactly SIZE bytes, copied to OUT; absent is -EBADMSG. */
static int
fixed(const struct nlattr *a, size_t size, void *out)
{
	if (a == NULL || mnl_attr_get_payload_len(a) != size)
		return -EBADMSG;
	memcpy(out, mnl_attr_get_payload(a), size);
	return 0;
}

static int
read_ip(const struct nlattr *a, uint8_t family, struct ldm_ct_entry *e)
{
	size_t n = family == AF_INET ? 4 : 16;
	struct attrs ip;

	if (nested(a, &ip) < 0)
		return -EBADMSG;
	if (family == AF_INET)
		return fixed(ip.tb[CTA_IP_V4_SRC], n, e->src) < 0 ||
		                       fixed(ip.tb[CTA_IP_V4_DST], n, e->dst) < 0
		               ? -EBADMSG
		               : 0;
	return fixed(ip.tb[CTA_IP_V6_SRC], n, e->src) < 0 ||
	                       fixed(ip.tb[CTA_IP_V6_DST], n, e->dst) < 0
	               ? -EBADMSG
	               : 0;
}

static int
read_proto(const struct nlattr *a, struct ldm_ct_entry *e)
{
	struct attrs pr;
	uint16_t port;

	if (nested(a, &pr) < 0 || fixed(pr.tb[CTA_PROTO_NUM], 1, &e->l4proto) < 0)
		return -EBADMSG;
	/* Ports only where the protocol has them; their absence is not an error. */
	if (pr.tb[CTA_PROTO_SRC_PORT] != NULL) {
		if (fixed(pr.tb[CTA_PROTO_SRC_PORT], 2, &port) < 0)
			return -EBADMSG;
		e->sport = ntohs(port);
	}
	if (pr.tb[CTA_PROTO_DST_PORT] != NULL) {
		if (fixed(pr.tb[CTA_PROTO_DST_PORT], 2, &port) < 0)
			return -EBADMSG;
		e->dport = ntohs(port);
	}
	return 0;
}

static int
read_tuple(const struct nlattr *a, uint8_t family, struct ldm_ct_entry *e)
{
	struct attrs t;

	if (nested(a, &t) < 0 || read_ip(t.tb[CTA_TUPLE_IP], family, e) < 0 ||
	    read_proto(t.tb[CTA_TUPLE_PROTO], e) < 0)
		return -EBADMSG;
	return 0;
}

/* CTA_COUNTERS_ORIG or _REPLY: 64-bit big-endian packets and bytes. */
static int
read_counters(const struct nlattr *a, uint64_t *ret_packets, uint64_t *ret_bytes)
{
	struct attrs c;
	uint64_t p, b;

	if (nested(a, &c) < 0 || fixed(c.tb[CTA_COUNTERS_PACKETS], 8, &p) < 0 ||
	    fixed(c.tb[CTA_COUNTERS_BYTES], 8, &b) < 0)
		return -EBADMSG;
	*ret_packets = be64toh(p);
	*ret_bytes = be64toh(b);
	return 0;
}

static int
read_entry(const struct nlmsghdr *nlh, uint8_t family, struct ldm_ct_entry *e)
{
	struct attrs top = { 0 };
	uint32_t mark;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), collect, &top) != MNL_CB_OK)
		return -EBADMSG;
	if (read_tuple(top.tb[CTA_TUPLE_ORIG], family, e) < 0)
		return -EBADMSG;
	if (top.tb[CTA_MARK] != NULL) {
		if (fixed(top.tb[CTA_MARK], 4, &mark) < 0)
			return -EBADMSG;
		e->mark = ntohl(mark);
	}
	if (top.tb[CTA_COUNTERS_ORIG] == NULL && top.tb[CTA_COUNTERS_REPLY] == NULL)
		return 0;
	if (read_counters(top.tb[CTA_COUNTERS_ORIG], &e->packets_orig, &e->bytes_orig) < 0 ||
	    read_counters(top.tb[CTA_COUNTERS_REPLY], &e->packets_reply, &e->bytes_reply) < 0)
		return -EBADMSG;
	e->has_counters = true;
	return 0;
}

int
ldm_ct_entry_parse(const void *msg, size_t len, struct ldm_ct_entry *ret)
{
	const struct nlmsghdr *nlh = msg;
	const struct nfgenmsg *nfh;
	struct ldm_ct_entry e = { 0 };

	if (len < sizeof(*nlh) || len > INT32_MAX || !mnl_nlmsg_ok(nlh, (int)len))
		return -EBADMSG;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW))
		return -ENOMSG;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfh))
		return -EBADMSG;
	nfh = mnl_nlmsg_get_payload(nlh);
	if (nfh->nfgen_family != AF_INET && nfh->nfgen_family != AF_INET6)
		return -EBADMSG;
	e.family = nfh->nfgen_family;
	if (read_entry(nlh, e.family, &e) < 0)
		return -EBADMSG;
	*ret = e;
	return 0;
}
