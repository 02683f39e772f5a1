/* The conntrack entry reader: a full entry, entries without counters or ports, and every
 * malformed message refused with *ret untouched. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctentry.h"
#include "ldm/util.h"

/* What to leave out of, or break in, a built message. */
enum flaw {
	OK,
	NO_COUNTERS,
	NO_PORTS,
	V6,
	WRONG_TYPE,
	BAD_FAMILY,
	NO_TUPLE,
	SHORT_ADDR,
	NO_PROTO_NUM,
	ONLY_ORIG_COUNTERS,
	SHORT_COUNTER,
	SHORT_MARK,
	SHORT_PORT,
	TRUNCATED,
	NESTED_OVERRUN,
	NO_NFGENMSG,
};

static void
put_counters(struct nlmsghdr *nlh, uint16_t type, uint64_t p, uint64_t b, bool short_p)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	if (short_p)
		mnl_attr_put_u32(nlh, CTA_COUNTERS_PACKETS, (uint32_t)p);
	else
		mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(p));
	mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(b));
	mnl_attr_nest_end(nlh, n);
}

static void
put_tuple(struct nlmsghdr *nlh, enum flaw f)
{
	static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct nlattr *t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP), *pr;

	if (f == V6) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, s6);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, d6);
	} else {
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0xc0a89001));
		if (f == SHORT_ADDR)
			mnl_attr_put_u16(nlh, CTA_IP_V4_DST, 1);
		else
			mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0xc0a8900a));
	}
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	if (f != NO_PROTO_NUM)
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, f == NO_PORTS ? IPPROTO_ICMP : IPPROTO_UDP);
	if (f != NO_PORTS) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(40000));
		if (f == SHORT_PORT)
			mnl_attr_put_u32(nlh, CTA_PROTO_DST_PORT, htons(14550));
		else
			mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(14550));
	}
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}

/* Builds an entry: udp 192.168.144.1:40000 -> 192.168.144.10:14550, mark 0x10100000,
 * 100 packets / 26800 bytes out, 99 / 26532 back; FLAW says what differs. */
static size_t
build(void *buf, enum flaw f)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfh;
	struct nlattr *last;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
	                  (f == WRONG_TYPE ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW);
	if (f == NO_NFGENMSG)
		return nlh->nlmsg_len;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = f == BAD_FAMILY ? AF_UNIX : (f == V6 ? AF_INET6 : AF_INET);
	if (f != NO_TUPLE)
		put_tuple(nlh, f);
	if (f == SHORT_MARK)
		mnl_attr_put_u16(nlh, CTA_MARK, 1);
	else
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(0x10100000));
	if (f != NO_COUNTERS)
		put_counters(nlh, CTA_COUNTERS_ORIG, 100, 26800, f == SHORT_COUNTER);
	last = (struct nlattr *)mnl_nlmsg_get_payload_tail(nlh);
	if (f != NO_COUNTERS && f != ONLY_ORIG_COUNTERS)
		put_counters(nlh, CTA_COUNTERS_REPLY, 99, 26532, false);
	if (f == NESTED_OVERRUN)
		last->nla_len = (uint16_t)(last->nla_len + 64); /* past the message */
	return f == TRUNCATED ? nlh->nlmsg_len - 4 : nlh->nlmsg_len;
}

static void
test_entry(void **state)
{
	uint8_t buf[1024] __attribute__((aligned(4)));
	struct ldm_ct_entry e;
	size_t n;

	(void)state;
	n = build(buf, OK);
	assert_int_equal(ldm_ct_entry_parse(buf, n, &e), 0);
	assert_int_equal(e.family, AF_INET);
	assert_int_equal(e.l4proto, IPPROTO_UDP);
	assert_memory_equal(e.src, ((uint8_t[]){ 192, 168, 144, 1 }), 4);
	assert_memory_equal(e.dst, ((uint8_t[]){ 192, 168, 144, 10 }), 4);
	assert_int_equal(e.sport, 40000);
	assert_int_equal(e.dport, 14550);
	assert_int_equal(e.mark, 0x10100000);
	assert_true(e.has_counters);
	assert_int_equal(e.packets_orig, 100);
	assert_int_equal(e.bytes_orig, 26800);
	assert_int_equal(e.packets_reply, 99);
	assert_int_equal(e.bytes_reply, 26532);

	n = build(buf, NO_COUNTERS);
	assert_int_equal(ldm_ct_entry_parse(buf, n, &e), 0);
	assert_false(e.has_counters);
	assert_int_equal(e.bytes_orig, 0);

	n = build(buf, NO_PORTS);
	assert_int_equal(ldm_ct_entry_parse(buf, n, &e), 0);
	assert_int_equal(e.l4proto, IPPROTO_ICMP);
	assert_int_equal(e.sport, 0);
	assert_int_equal(e.dport, 0);

	n = build(buf, V6);
	assert_int_equal(ldm_ct_entry_parse(buf, n, &e), 0);
	assert_int_equal(e.family, AF_INET6);
	assert_int_equal(e.dst[15], 2);
}

static void
test_reject(void **state)
{
	static const struct {
		enum flaw f;
		int rc;
	} cases[] = {
		{ WRONG_TYPE, -ENOMSG },      { BAD_FAMILY, -EBADMSG },
		{ NO_TUPLE, -EBADMSG },       { SHORT_ADDR, -EBADMSG },
		{ NO_PROTO_NUM, -EBADMSG },   { ONLY_ORIG_COUNTERS, -EBADMSG },
		{ SHORT_COUNTER, -EBADMSG },  { SHORT_MARK, -EBADMSG },
		{ SHORT_PORT, -EBADMSG },     { TRUNCATED, -EBADMSG },
		{ NESTED_OVERRUN, -EBADMSG }, { NO_NFGENMSG, -EBADMSG },
	};
	uint8_t buf[1024] __attribute__((aligned(4)));

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_ct_entry e;
		size_t n = build(buf, cases[i].f);
		int rc;

		memset(&e, 0x5a, sizeof(e));
		rc = ldm_ct_entry_parse(buf, n, &e);
		if (rc != cases[i].rc)
			fail_msg("flaw %d: got %d, want %d", cases[i].f, rc, cases[i].rc);
		assert_int_equal(e.mark, 0x5a5a5a5a);
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ldm_ct_entry_parse(buf, 3, &(struct ldm_ct_entry){ 0 }), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
