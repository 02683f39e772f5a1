/* The DNS parsers: queries, answers, TCP framing, one case per rejection path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns.h"
#include "ldm/util.h"

/* A tiny message builder: big-endian fields, dotted names, raw labels and pointers. */
struct msg {
	uint8_t b[2048];
	size_t n;
};

static void
put8(struct msg *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void
putraw(struct msg *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(m, ((const uint8_t *)p)[i]);
}

/* Labels of DOTTED, without the terminating root byte (so a pointer may follow). */
static void
putlabels(struct msg *m, const char *dotted)
{
	while (*dotted != '\0') {
		size_t l = strcspn(dotted, ".");

		put8(m, (unsigned)l);
		putraw(m, dotted, l);
		dotted += l;
		if (*dotted == '.')
			dotted++;
	}
}

static void
putname(struct msg *m, const char *dotted)
{
	putlabels(m, dotted);
	put8(m, 0);
}

static void
putptr(struct msg *m, size_t off)
{
	put16(m, 0xc000u | (unsigned)off);
}

static void
hdr(struct msg *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

#define RD   0x0100u
#define QR   0x8000u
#define RESP (QR | 0x0080u | RD)

static void
question(struct msg *m, const char *name, unsigned type, unsigned class)
{
	putname(m, name);
	put16(m, type);
	put16(m, class);
}

/* A record's fixed part after its owner. */
static void
rrfix(struct msg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
	put16(m, type);
	put16(m, LDM_DNS_CLASS_IN);
	put32(m, ttl);
	put16(m, rdlen);
}

/* An A record for the question name (a pointer to offset 12). */
static void
rr_a(struct msg *m, uint8_t last, uint32_t ttl)
{
	const uint8_t a[4] = { 192, 0, 2, last };

	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_A, ttl, 4);
	putraw(m, a, 4);
}

/* Name of 4 labels: 63 * 3 + LAST bytes; LAST 61 makes 253 text, 255 wire bytes. */
static const char *
long_name(size_t last)
{
	static char buf[300];
	size_t n = 0;

	for (int l = 0; l < 4; l++) {
		size_t len = l < 3 ? 63 : last;

		memset(buf + n, 'a' + l, len);
		n += len;
		buf[n++] = '.';
	}
	buf[n - 1] = '\0';
	return buf;
}

/* --- queries --- */

typedef void build_fn(struct msg *m);

static void
q_a(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "WWW.Example.COM", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_aaaa(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "_srv-x.tiles.example", LDM_DNS_TYPE_AAAA, LDM_DNS_CLASS_IN);
}

static void
q_edns(struct msg *m)
{
	const uint8_t cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	hdr(m, RD, 1, 0, 0, 1);
	question(m, "tiles.example.org", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
	put8(m, 0);
	rrfix(m, LDM_DNS_TYPE_OPT, 0, 12);
	m->b[m->n - 8] = 0x10; /* the UDP size in the class field: 4096 */
	put16(m, 10);          /* COOKIE */
	put16(m, 8);
	putraw(m, cookie, 8);
}

static void
q_max_name(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, long_name(61), LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_short_hdr(struct msg *m)
{
	q_a(m);
	m->n = 11;
}

static void
q_cut_type(struct msg *m)
{
	q_a(m);
	m->n -= 3;
}

static void
q_trailing(struct msg *m)
{
	q_a(m);
	put8(m, 0);
}

static void
q_qd0(struct msg *m)
{
	q_a(m);
	m->b[5] = 0;
}

static void
q_qd2(struct msg *m)
{
	hdr(m, RD, 2, 0, 0, 0);
	question(m, "a.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
	question(m, "b.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_pointer(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	putlabels(m, "www");
	putptr(m, 12);
	put16(m, LDM_DNS_TYPE_A);
	put16(m, LDM_DNS_CLASS_IN);
}

static void
q_label64(struct msg *m)
{
	char l[70];

	memset(l, 'x', 64);
	memcpy(l + 64, ".com", 5);
	hdr(m, RD, 1, 0, 0, 0);
	question(m, l, LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_name256(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, long_name(62), LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_space(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "a b.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_high(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "caf\x80.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_star(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "*.example.com", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_dot_in_label(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	put8(m, 3);
	putraw(m, "a.b", 3);
	question(m, "example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_hyphen(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "-x.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
q_root(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "", 2, LDM_DNS_CLASS_IN);
}

static void
q_qr(struct msg *m)
{
	q_a(m);
	m->b[2] |= 0x80;
}

static void
q_opcode(struct msg *m)
{
	q_a(m);
	m->b[2] |= 0x28; /* opcode 5, UPDATE */
}

static void
q_tc(struct msg *m)
{
	q_a(m);
	m->b[2] |= 0x02;
}

static void
q_an(struct msg *m)
{
	q_a(m);
	m->b[7] = 1;
	rr_a(m, 1, 60);
}

static void
q_ns(struct msg *m)
{
	q_a(m);
	m->b[9] = 1;
}

static void
q_ar2(struct msg *m)
{
	q_edns(m);
	m->b[11] = 2;
}

static void
q_opt_owner(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 1);
	question(m, "a.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
	putname(m, "x");
	rrfix(m, LDM_DNS_TYPE_OPT, 0, 0);
}

static void
q_ar_not_opt(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 1);
	question(m, "a.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
	put8(m, 0);
	rrfix(m, LDM_DNS_TYPE_A, 0, 0);
}

static void
q_opt_option_long(struct msg *m)
{
	q_edns(m);
	m->b[m->n - 9] = 9; /* the cookie claims 9 bytes of 8 */
}

static void
q_opt_rdlen_long(struct msg *m)
{
	q_edns(m);
	m->b[m->n - 13] = 13;
}

static void
q_chaos(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "version.bind", 16, 3);
}

static void
q_type0(struct msg *m)
{
	hdr(m, RD, 1, 0, 0, 0);
	question(m, "a.example", 0, LDM_DNS_CLASS_IN);
}

static const struct query_case {
	const char *what;
	build_fn *build;
	int rc;
	const char *name;
	uint16_t qtype;
	bool edns;
} query_cases[] = {
	{ "A, upper case", q_a, 0, "www.example.com", LDM_DNS_TYPE_A },
	{ "AAAA, '_'", q_aaaa, 0, "_srv-x.tiles.example", LDM_DNS_TYPE_AAAA },
	{ "EDNS", q_edns, 0, "tiles.example.org", LDM_DNS_TYPE_A, true },
	{ "255 wire bytes", q_max_name, 0, NULL, LDM_DNS_TYPE_A },
	{ "short header", q_short_hdr, -EBADMSG },
	{ "cut in type", q_cut_type, -EBADMSG },
	{ "trailing byte", q_trailing, -EBADMSG },
	{ "QDCOUNT 0", q_qd0, -EBADMSG },
	{ "QDCOUNT 2", q_qd2, -EBADMSG },
	{ "pointer", q_pointer, -EBADMSG },
	{ "label 64", q_label64, -EBADMSG },
	{ "256 wire bytes", q_name256, -EBADMSG },
	{ "space", q_space, -EBADMSG },
	{ "0x80", q_high, -EBADMSG },
	{ "'*'", q_star, -EBADMSG },
	{ "'.' in label", q_dot_in_label, -EBADMSG },
	{ "leading '-'", q_hyphen, -EBADMSG },
	{ "root", q_root, -EBADMSG },
	{ "QR 1", q_qr, -EBADMSG },
	{ "opcode", q_opcode, -EBADMSG },
	{ "TC", q_tc, -EBADMSG },
	{ "ANCOUNT 1", q_an, -EBADMSG },
	{ "NSCOUNT 1", q_ns, -EBADMSG },
	{ "ARCOUNT 2", q_ar2, -EBADMSG },
	{ "OPT owner", q_opt_owner, -EBADMSG },
	{ "AR not OPT", q_ar_not_opt, -EBADMSG },
	{ "option past OPT", q_opt_option_long, -EBADMSG },
	{ "OPT past end", q_opt_rdlen_long, -EBADMSG },
	{ "class CH", q_chaos, -EBADMSG },
	{ "type 0", q_type0, -EBADMSG },
};

static void
test_query(void **state)
{
	const struct query_case *cases = query_cases;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(query_cases); i++) {
		struct ldm_dns_query q, untouched;
		struct msg m;
		int rc;

		cases[i].build(&m);
		memset(&q, 0xa5, sizeof(q));
		untouched = q;
		rc = ldm_dns_parse_query(m.b, m.n, &q);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].what, rc, cases[i].rc);
		if (rc < 0) {
			assert_memory_equal(&q, &untouched, sizeof(q));
			continue;
		}
		assert_int_equal(q.id, 0x1234);
		assert_int_equal(q.qclass, LDM_DNS_CLASS_IN);
		assert_int_equal(q.qtype, cases[i].qtype);
		assert_int_equal(q.edns, cases[i].edns);
		if (cases[i].name != NULL)
			assert_string_equal(q.name, cases[i].name);
	}
}

/* The longest name comes out whole, 253 bytes, and passes the policy's name check. */
static void
test_query_long_name(void **state)
{
	struct ldm_dns_query q;
	char norm[LDM_MAX_HOST_LEN + 1];
	struct msg m;

	(void)state;
	q_max_name(&m);
	assert_int_equal(ldm_dns_parse_query(m.b, m.n, &q), 0);
	assert_int_equal(strlen(q.name), 253);
	assert_string_equal(q.name, long_name(61));
	assert_int_equal(ldm_host_name_normalize(q.name, norm, sizeof(norm)), 0);
	/* Every prefix of a good query is refused. */
	for (size_t n = 0; n < m.n; n++)
		assert_int_equal(ldm_dns_parse_query(m.b, n, &q), -EBADMSG);
}

/* --- answers --- */

static void
resp(struct msg *m, unsigned an)
{
	hdr(m, RESP, 1, an, 0, 0);
	question(m, "www.example.com", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

static void
a_a(struct msg *m)
{
	resp(m, 1);
	rr_a(m, 1, 300);
}

static void
a_aaaa(struct msg *m)
{
	const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	resp(m, 1);
	putname(m, "WWW.example.com"); /* uncompressed, other case */
	rrfix(m, LDM_DNS_TYPE_AAAA, 60, 16);
	putraw(m, a6, 16);
}

/* www.example.com CNAME cdn.example.net (TTL 100), cdn CNAME edge.cdn.net (50), A. */
static void
a_chain(struct msg *m)
{
	size_t cdn;

	resp(m, 3);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 100, 17);
	cdn = m->n;
	putname(m, "cdn.example.net");
	putptr(m, cdn);
	rrfix(m, LDM_DNS_TYPE_CNAME, 50, 14);
	putname(m, "edge.cdn.net");
	putptr(m, m->n - 14);
	rrfix(m, LDM_DNS_TYPE_A, 300, 4);
	putraw(m, "\x0a\x00\x00\x07", 4);
}

/* The same chain with the address first and the links in reverse. */
static void
a_chain_reversed(struct msg *m)
{
	resp(m, 3);
	putname(m, "edge.cdn.net");
	rrfix(m, LDM_DNS_TYPE_A, 300, 4);
	putraw(m, "\x0a\x00\x00\x07", 4);
	putname(m, "cdn.example.net");
	rrfix(m, LDM_DNS_TYPE_CNAME, 50, 14);
	putname(m, "edge.cdn.net");
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 100, 17);
	putname(m, "cdn.example.net");
}

static void
a_unrelated(struct msg *m)
{
	resp(m, 2);
	putname(m, "bank.example.org");
	rrfix(m, LDM_DNS_TYPE_A, 300, 4);
	putraw(m, "\xcb\x00\x71\x05", 4);
	rr_a(m, 1, 300);
}

static void
a_many(struct msg *m)
{
	resp(m, 40);
	for (unsigned i = 0; i < 40; i++)
		rr_a(m, (uint8_t)i, 300);
}

static void
a_nxdomain(struct msg *m)
{
	resp(m, 0);
	m->b[3] |= LDM_DNS_RCODE_NXDOMAIN;
}

/* Other record types and classes are stepped over. */
static void
a_skip(struct msg *m)
{
	resp(m, 3);
	putptr(m, 12);
	rrfix(m, 46, 300, 3); /* RRSIG, opaque here */
	putraw(m, "xyz", 3);
	putptr(m, 12);
	put16(m, LDM_DNS_TYPE_A);
	put16(m, 3);
	put32(m, 300);
	put16(m, 1);
	put8(m, 9);
	rr_a(m, 1, 0x80000000u); /* a negative TTL means 0 */
}

static void
a_self_pointer(struct msg *m)
{
	resp(m, 1);
	putptr(m, m->n);
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

/* A label then a pointer back to the label: the classic two-step loop. */
static void
a_loop(struct msg *m)
{
	size_t at;

	resp(m, 1);
	at = m->n;
	putlabels(m, "x");
	putptr(m, at);
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

static void
a_forward(struct msg *m)
{
	resp(m, 1);
	putptr(m, m->n + 2);
	put8(m, 0);
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

static void
a_out_of_bounds(struct msg *m)
{
	resp(m, 1);
	putptr(m, 0x3fff);
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

static void
a_into_header(struct msg *m)
{
	resp(m, 1);
	putptr(m, 4);
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

static void
a_half_pointer(struct msg *m)
{
	resp(m, 1);
	put8(m, 0xc0);
}

static void
a_past_len(struct msg *m)
{
	a_a(m);
	m->n -= 2;
}

static void
a_rdlen5(struct msg *m)
{
	resp(m, 1);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_A, 1, 5);
	putraw(m, "\1\2\3\4\5", 5);
}

static void
a_missing_rr(struct msg *m)
{
	a_a(m);
	m->b[7] = 2;
}

static void
a_cname_loop(struct msg *m)
{
	resp(m, 2);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 11);
	putname(m, "b.example");
	putptr(m, m->n - 11);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 2);
	putptr(m, 12);
}

static void
a_cname_conflict(struct msg *m)
{
	resp(m, 2);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 11);
	putname(m, "b.example");
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 11);
	putname(m, "c.example");
}

/* A CNAME to the root name ends the chain: it is no host. */
static void
a_cname_root(struct msg *m)
{
	resp(m, 2);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 1);
	put8(m, 0);
	rr_a(m, 1, 300);
}

/* The CNAME's name ends before its data does. */
static void
a_cname_slack(struct msg *m)
{
	resp(m, 1);
	putptr(m, 12);
	rrfix(m, LDM_DNS_TYPE_CNAME, 1, 12);
	putname(m, "b.example");
	put8(m, 0);
}

/* A chain of 10 links: www -> c1 -> ... -> c10, with an address for c8 and for c10. */
static void
a_long_chain(struct msg *m)
{
	char name[8];

	resp(m, 12);
	for (int i = 1; i <= 10; i++) {
		if (i == 1)
			putptr(m, 12);
		else
			putname(m, (snprintf(name, sizeof(name), "c%d", i - 1), name));
		rrfix(m, LDM_DNS_TYPE_CNAME, 60, i < 10 ? 4 : 5);
		putname(m, (snprintf(name, sizeof(name), "c%d", i), name));
	}
	putname(m, "c8");
	rrfix(m, LDM_DNS_TYPE_A, 60, 4);
	putraw(m, "\1\1\1\1", 4);
	putname(m, "c10");
	rrfix(m, LDM_DNS_TYPE_A, 60, 4);
	putraw(m, "\2\2\2\2", 4);
}

/*
 * HOPS pointers in a row, in the data of an opaque record: each points at the one before,
 * the first at the question name. An A record's owner points at the last: HOPS + 1 hops.
 */
static void
hops(struct msg *m, unsigned n)
{
	size_t base;

	resp(m, 2);
	putptr(m, 12);
	rrfix(m, 99, 1, 2 * n);
	base = m->n;
	for (unsigned i = 0; i < n; i++)
		putptr(m, i == 0 ? 12 : base + 2 * (i - 1));
	putptr(m, base + 2 * (n - 1));
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
}

static void
a_hops16(struct msg *m)
{
	hops(m, 15);
}

static void
a_hops17(struct msg *m)
{
	hops(m, 16);
}

static void
a_query(struct msg *m)
{
	a_a(m);
	m->b[2] &= 0x7f;
}

static void
a_bad_qname(struct msg *m)
{
	hdr(m, RESP, 1, 0, 0, 0);
	question(m, "a b.example", LDM_DNS_TYPE_A, LDM_DNS_CLASS_IN);
}

/* An answer record whose owner breaks the name rules is skipped, not fatal. */
static void
a_odd_owner(struct msg *m)
{
	resp(m, 2);
	putname(m, "a b.example");
	rrfix(m, LDM_DNS_TYPE_A, 1, 4);
	putraw(m, "\1\2\3\4", 4);
	rr_a(m, 1, 300);
}

static const struct answer_case {
	const char *what;
	build_fn *build;
	int rc;
	size_t n_addrs, n_cnames, n_ignored, n_dropped;
	uint32_t ttl0; /* of addrs[0] */
} answer_cases[] = {
	{ "A", a_a, 0, 1, 0, 0, 0, 300 },
	{ "AAAA", a_aaaa, 0, 1, 0, 0, 0, 60 },
	{ "CNAME chain", a_chain, 0, 1, 2, 0, 0, 50 },
	{ "chain reversed", a_chain_reversed, 0, 1, 2, 0, 0, 50 },
	{ "unrelated owner", a_unrelated, 0, 1, 0, 1, 0, 300 },
	{ "capped", a_many, 0, 32, 0, 0, 8, 300 },
	{ "NXDOMAIN", a_nxdomain, 0, 0 },
	{ "skipped types", a_skip, 0, 1, 0, 0, 0, 0 },
	{ "odd owner", a_odd_owner, 0, 1, 0, 1, 0, 300 },
	{ "long chain", a_long_chain, 0, 1, 8, 1, 0, 60 },
	{ "CNAME to root", a_cname_root, 0, 1, 0, 0, 0, 300 },
	{ "16 hops", a_hops16, 0, 1, 0, 0, 0, 1 },
	{ "17 hops", a_hops17, -EBADMSG },
	{ "self pointer", a_self_pointer, -EBADMSG },
	{ "pointer loop", a_loop, -EBADMSG },
	{ "forward pointer", a_forward, -EBADMSG },
	{ "pointer out of bounds", a_out_of_bounds, -EBADMSG },
	{ "pointer into header", a_into_header, -EBADMSG },
	{ "half a pointer", a_half_pointer, -EBADMSG },
	{ "record past len", a_past_len, -EBADMSG },
	{ "A of 5 bytes", a_rdlen5, -EBADMSG },
	{ "ANCOUNT too big", a_missing_rr, -EBADMSG },
	{ "CNAME loop", a_cname_loop, -EBADMSG },
	{ "two CNAMEs", a_cname_conflict, -EBADMSG },
	{ "CNAME data slack", a_cname_slack, -EBADMSG },
	{ "QR 0", a_query, -EBADMSG },
	{ "bad question", a_bad_qname, -EBADMSG },
};

static void
test_answer(void **state)
{
	const struct answer_case *cases = answer_cases;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(answer_cases); i++) {
		static struct ldm_dns_answer a, untouched;
		struct msg m;
		int rc;

		cases[i].build(&m);
		memset(&a, 0xa5, sizeof(a));
		untouched = a;
		rc = ldm_dns_parse_answer(m.b, m.n, &a);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].what, rc, cases[i].rc);
		if (rc < 0) {
			assert_memory_equal(&a, &untouched, sizeof(a));
			continue;
		}
		if (a.n_addrs != cases[i].n_addrs || a.n_cnames != cases[i].n_cnames ||
		    a.n_ignored != cases[i].n_ignored || a.n_dropped != cases[i].n_dropped)
			fail_msg("%s: %zu addrs, %zu cnames, %zu ignored, %zu dropped",
			         cases[i].what, a.n_addrs, a.n_cnames, a.n_ignored, a.n_dropped);
		assert_string_equal(a.qname, "www.example.com");
		assert_int_equal(a.id, 0x1234);
		if (a.n_addrs > 0)
			assert_int_equal(a.addrs[0].ttl, cases[i].ttl0);
	}
}

/* The fields of the good answers, in detail. */
static void
test_answer_fields(void **state)
{
	static struct ldm_dns_answer a;
	const uint8_t v4[16] = { 10, 0, 0, 7 };
	struct msg m;

	(void)state;
	a_chain(&m);
	assert_int_equal(ldm_dns_parse_answer(m.b, m.n, &a), 0);
	assert_int_equal(a.rcode, 0);
	assert_false(a.truncated);
	assert_int_equal(a.qtype, LDM_DNS_TYPE_A);
	assert_string_equal(a.cname[0], "cdn.example.net");
	assert_string_equal(a.cname[1], "edge.cdn.net");
	assert_false(a.chain_cut);
	assert_int_equal(a.addrs[0].family, AF_INET);
	assert_memory_equal(a.addrs[0].addr, v4, 16);
	assert_int_equal(a.addrs[0].owner, 2);
	assert_string_equal(ldm_dns_addr_owner(&a, &a.addrs[0]), "edge.cdn.net");

	a_aaaa(&m);
	assert_int_equal(ldm_dns_parse_answer(m.b, m.n, &a), 0);
	assert_int_equal(a.addrs[0].family, AF_INET6);
	assert_int_equal(a.addrs[0].addr[0], 0x20);
	assert_int_equal(a.addrs[0].addr[15], 1);
	assert_string_equal(ldm_dns_addr_owner(&a, &a.addrs[0]), "www.example.com");

	a_nxdomain(&m);
	m.b[2] |= 0x02;
	assert_int_equal(ldm_dns_parse_answer(m.b, m.n, &a), 0);
	assert_int_equal(a.rcode, LDM_DNS_RCODE_NXDOMAIN);
	assert_true(a.truncated);

	a_long_chain(&m);
	assert_int_equal(ldm_dns_parse_answer(m.b, m.n, &a), 0);
	assert_true(a.chain_cut);
	assert_string_equal(a.cname[7], "c8");
	assert_int_equal(a.addrs[0].addr[0], 1);

	a_many(&m);
	assert_int_equal(ldm_dns_parse_answer(m.b, m.n, &a), 0);
	assert_int_equal(a.addrs[31].addr[3], 31);
	for (size_t n = 0; n < m.n; n++)
		assert_int_equal(ldm_dns_parse_answer(m.b, n, &a), -EBADMSG);
}

static void
test_tcp_frame(void **state)
{
	static const struct {
		const char *what;
		size_t len; /* of the buffer below */
		int rc;
	} cases[] = {
		{ "empty", 0, -EAGAIN },       { "one byte", 1, -EAGAIN },
		{ "length only", 2, -EAGAIN }, { "partial", 20, -EAGAIN },
		{ "whole", 2 + 33, 35 },       { "and more", 40, 35 },
	};
	uint8_t buf[64] = { 0, 33 };
	const uint8_t *msg = NULL;
	size_t mlen = 0;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int rc = ldm_dns_tcp_frame(buf, cases[i].len, &msg, &mlen);

		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].what, rc, cases[i].rc);
		if (rc > 0) {
			assert_ptr_equal(msg, buf + 2);
			assert_int_equal(mlen, 33);
		}
	}
	buf[1] = 11;
	assert_int_equal(ldm_dns_tcp_frame(buf, 40, &msg, &mlen), -EBADMSG);
	buf[0] = 0xff;
	buf[1] = 0xff;
	assert_int_equal(ldm_dns_tcp_frame(buf, sizeof(buf), &msg, &mlen), -EAGAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),     cmocka_unit_test(test_query_long_name),
		cmocka_unit_test(test_answer),    cmocka_unit_test(test_answer_fields),
		cmocka_unit_test(test_tcp_frame),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
