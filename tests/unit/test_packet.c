/* Packet decoding: hand-built packets, every rejection, output untouched on error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "packet.h"

/* IPv4 header, IHL 5: total length TL, fragment field FR, protocol P; 10.0.0.2 -> 93.184.216.34. */
#define IP4(tl, fr, p)                                                                             \
	0x45, 0x00, (tl) >> 8, (tl)&0xff, 0x12, 0x34, (fr) >> 8, (fr)&0xff, 64, (p), 0, 0, 10, 0,  \
	        0, 2, 93, 184, 216, 34
/* IPv6 header: payload length PL, next header NH; 2001:db8::1 -> 2001:db8::2. */
#define IP6(pl, nh)                                                                                \
	0x60, 0, 0, 0, (pl) >> 8, (pl)&0xff, (nh), 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,   \
	        0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2
/* TCP header without options: ports, data offset DO (words), flags FL. */
#define TCP(sp, dp, do, fl)                                                                        \
	(sp) >> 8, (sp)&0xff, (dp) >> 8, (dp)&0xff, 0, 0, 0, 1, 0, 0, 0, 0, (do) << 4, (fl), 0xff, \
	        0xff, 0, 0, 0, 0
#define UDP(sp, dp, ul) (sp) >> 8, (sp)&0xff, (dp) >> 8, (dp)&0xff, (ul) >> 8, (ul)&0xff, 0, 0
#define DSTOPTS(nh)     (nh), 0, 1, 4, 0, 0, 0, 0 /* 8 bytes: PadN */

/* SYN with MSS, SACK-permitted, timestamps, NOP, window scale: 40 bytes of TCP. */
static const uint8_t v4_syn[] = {
	IP4(60, 0x4000, 6),
	TCP(40000, 443, 10, 0x02),
	2,
	4,
	0x05,
	0xb4,
	4,
	2,
	8,
	10,
	0,
	0,
	0,
	1,
	0,
	0,
	0,
	0,
	1,
	3,
	3,
	7,
};
/* TCP Fast Open: SYN with a cookie option (kind 34) and 5 bytes of data. */
static const uint8_t v4_tfo[] = {
	IP4(57, 0x4000, 6),
	TCP(40001, 443, 8, 0x02),
	34,
	10,
	1,
	2,
	3,
	4,
	5,
	6,
	7,
	8,
	1,
	1,
	'h',
	'e',
	'l',
	'l',
	'o',
};
static const uint8_t v4_udp[] = { IP4(32, 0, 17), UDP(14550, 14551, 12), 0xfe, 9, 1, 2 };
/* The same datagram and 4 bytes behind the IP end (the kernel never says so, but). */
static const uint8_t v4_udp_trail[] = {
	IP4(32, 0, 17), UDP(14550, 14551, 12), 0xfe, 9, 1, 2, 0xee, 0xee, 0xee, 0xee
};
/* UDP length shorter than the IP payload: the kernel trims to it, so do we. */
static const uint8_t v4_udp_short[] = { IP4(32, 0, 17), UDP(5353, 53, 10), 7, 7, 7, 7 };
static const uint8_t v4_icmp_echo[] = { IP4(32, 0, 1), 8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g' };
/* A non-first fragment (offset 5 * 8) of a UDP datagram: no UDP header here. */
static const uint8_t v4_frag[] = { IP4(28, 0x0005, 17), 1, 2, 3, 4, 5, 6, 7, 8 };
/* A first fragment (MF): the UDP length counts the bytes of later fragments too. */
static const uint8_t v4_first_frag[] = { IP4(32, 0x2000, 17), UDP(1000, 2000, 1400), 1, 2, 3, 4 };
static const uint8_t v4_gre[] = { IP4(24, 0, 47), 0, 0, 0x08, 0 };
static const uint8_t v6_udp[] = { IP6(11, 17), UDP(14550, 14550, 11), 'a', 'b', 'c' };
/* Hop-by-hop (PadN), then a first fragment header (M set), then UDP. */
static const uint8_t v6_hbh_frag[] = {
	IP6(32, 0),           44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
	UDP(5000, 6000, 100), 1,  2, 3, 4, 5, 6, 7, 8,
};
/* Hop-by-hop, then a non-first fragment (offset 23 * 8) of a UDP datagram. */
static const uint8_t v6_hbh_frag2[] = {
	IP6(24, 0), 44,   0,    1,    4, 0, 0, 0, 0, 17, 0, 0x00, 0xb8,
	0xde,       0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6,  7, 8,
};
/* Routing (type 0 header, 16 bytes), AH (16 bytes), destination options, then TCP. */
static const uint8_t v6_chain[] = {
	IP6(64, 43), 51,  1,   0,   0, 0,          0,
	0,           0,   0,   0,   0, 0,          0,
	0,           0,   0,   60,  2, 0,          0,
	0,           0,   0,   0,   0, 0,          0,
	0,           0,   0,   0,   0, DSTOPTS(6), TCP(50000, 80, 5, 0x18),
	'G',         'E', 'T', ' ',
};
/* Eight destination options headers: the most we walk. */
static const uint8_t v6_ext8[] = {
	IP6(72, 60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60),
	DSTOPTS(60), DSTOPTS(60), DSTOPTS(58), 128,         0,           0,
	0,           0,           0,           0,           0,
};
static const uint8_t v6_icmp[] = { IP6(12, 58), 128, 0, 0, 0, 0, 7, 0, 1, 'p', 'i', 'n', 'g' };
static const uint8_t v6_esp[] = { IP6(8, 50), 0, 0, 1, 0, 0, 0, 0, 1 };
static const uint8_t v6_nonext[] = { IP6(0, 59) };
/* A full-sized TCP segment, of which the queue copied the first 40 or 70 bytes only. */
static const uint8_t v4_big[] = {
	IP4(1500, 0x4000, 6), TCP(40000, 443, 5, 0x10), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
};

/* Rejections. */
static const uint8_t bad_ihl4[] = { 0x44, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0,
	                            10,   0, 0, 2,  1, 1, 1, 1, 0,  0, 0, 0 };
static const uint8_t bad_ihl_len[] = { 0x4f, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0,
	                               0,    2, 1, 1,  1, 1, 0, 0, 0,  0, 0, 0, 0,  0,
	                               0,    0, 0, 0,  0, 0, 0, 0, 0,  0, 0, 0 };
static const uint8_t bad_version[] = { 0x55, 0, 0,  20, 0, 0, 0, 0, 64, 6,
	                               0,    0, 10, 0,  0, 2, 1, 1, 1,  1 };
static const uint8_t bad_version0[] = { 0x05, 0, 0,  20, 0, 0, 0, 0, 64, 6,
	                                0,    0, 10, 0,  0, 2, 1, 1, 1,  1 };
static const uint8_t bad_total[] = { IP4(19, 0, 6), TCP(1, 2, 5, 2) };
static const uint8_t bad_doff[] = { IP4(40, 0, 6), TCP(1, 2, 4, 2) };
static const uint8_t bad_tcp_short[] = { IP4(30, 0, 6), TCP(1, 2, 5, 2) };
static const uint8_t bad_tcp_opts[] = { IP4(40, 0, 6), TCP(1, 2, 15, 2) };
static const uint8_t bad_tiny_frag[] = { IP4(28, 0x2000, 6), TCP(1, 2, 5, 2) };
static const uint8_t bad_udp_len[] = { IP4(28, 0, 17), UDP(1, 2, 7) };
static const uint8_t bad_udp_long[] = { IP4(28, 0, 17), UDP(1, 2, 9) };
static const uint8_t bad_icmp_short[] = { IP4(24, 0, 1), 8, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t bad_v6_ext9[] = {
	IP6(80, 60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(60),
	DSTOPTS(60), DSTOPTS(60), DSTOPTS(60), DSTOPTS(58), 128,         0,
	0,           0,           0,           0,           0,           0,
};
/* Hop-by-hop header claiming 6 * 8 bytes; the packet has 16. */
static const uint8_t bad_v6_ext_len[] = { IP6(16, 0), 17, 5, 1, 4, 0, 0, 0, 0, UDP(1, 2, 8) };
/* An extension header cut by the copy: refused too (the protocol can't be named). */
static const uint8_t bad_v6_ext_cut[] = { IP6(200, 60), 17, 1, 1, 4, 0, 0, 0, 0 };
static const uint8_t bad_v6_hbh_late[] = { IP6(24, 60), DSTOPTS(0), DSTOPTS(17), UDP(1, 2, 8) };
static const uint8_t bad_v6_two_frags[] = {
	IP6(24, 44), 44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 0xb8, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8,
};
/* A jumbogram: payload length 0 with a UDP header behind. */
static const uint8_t bad_v6_jumbo[] = { IP6(0, 17), UDP(1, 2, 0) };

#define PKT(a)    a, sizeof(a)
#define CUT(a, n) a, (n)

struct pcase {
	const char *name;
	const uint8_t *buf;
	size_t len;
	int rc;
	uint8_t family;
	enum ldm_proto proto;
	uint8_t l4proto;
	uint16_t sport, dport;
	bool frag, ports, l4trunc, ptrunc;
	uint32_t poff, plen;
};

static const struct pcase cases[] = {
	{ "v4 syn", PKT(v4_syn), 0, AF_INET, LDM_PROTO_TCP, 6, 40000, 443, 0, 1, 0, 0, 60, 0 },
	{ "v4 tfo", PKT(v4_tfo), 0, AF_INET, LDM_PROTO_TCP, 6, 40001, 443, 0, 1, 0, 0, 52, 5 },
	{ "v4 udp", PKT(v4_udp), 0, AF_INET, LDM_PROTO_UDP, 17, 14550, 14551, 0, 1, 0, 0, 28, 4 },
	{ "v4 udp trail", PKT(v4_udp_trail), 0, AF_INET, LDM_PROTO_UDP, 17, 14550, 14551, 0, 1, 0,
	  0, 28, 4 },
	{ "v4 udp short", PKT(v4_udp_short), 0, AF_INET, LDM_PROTO_UDP, 17, 5353, 53, 0, 1, 0, 0,
	  28, 2 },
	{ "v4 icmp", PKT(v4_icmp_echo), 0, AF_INET, LDM_PROTO_ICMP, 1, 0, 0, 0, 0, 0, 0, 28, 4 },
	{ "v4 frag", PKT(v4_frag), 0, AF_INET, LDM_PROTO_UDP, 17, 0, 0, 1, 0, 0, 0, 20, 8 },
	{ "v4 first frag", PKT(v4_first_frag), 0, AF_INET, LDM_PROTO_UDP, 17, 1000, 2000, 0, 1, 0,
	  1, 28, 4 },
	{ "v4 gre", PKT(v4_gre), 0, AF_INET, LDM_PROTO_OTHER, 47, 0, 0, 0, 0, 0, 0, 20, 4 },
	{ "v6 udp", PKT(v6_udp), 0, AF_INET6, LDM_PROTO_UDP, 17, 14550, 14550, 0, 1, 0, 0, 48, 3 },
	{ "v6 hbh frag", PKT(v6_hbh_frag), 0, AF_INET6, LDM_PROTO_UDP, 17, 5000, 6000, 0, 1, 0, 1,
	  64, 8 },
	{ "v6 hbh frag2", PKT(v6_hbh_frag2), 0, AF_INET6, LDM_PROTO_UDP, 17, 0, 0, 1, 0, 0, 0, 56,
	  8 },
	{ "v6 chain", PKT(v6_chain), 0, AF_INET6, LDM_PROTO_TCP, 6, 50000, 80, 0, 1, 0, 0, 100, 4 },
	{ "v6 ext8", PKT(v6_ext8), 0, AF_INET6, LDM_PROTO_ICMP, 58, 0, 0, 0, 0, 0, 0, 112, 0 },
	{ "v6 icmp", PKT(v6_icmp), 0, AF_INET6, LDM_PROTO_ICMP, 58, 0, 0, 0, 0, 0, 0, 48, 4 },
	{ "v6 esp", PKT(v6_esp), 0, AF_INET6, LDM_PROTO_OTHER, 50, 0, 0, 0, 0, 0, 0, 40, 8 },
	{ "v6 no next", PKT(v6_nonext), 0, AF_INET6, LDM_PROTO_OTHER, 59, 0, 0, 0, 0, 0, 0, 40, 0 },
	{ "copy cut in payload", PKT(v4_big), 0, AF_INET, LDM_PROTO_TCP, 6, 40000, 443, 0, 1, 0, 1,
	  40, 10 },
	{ "copy cut in tcp", CUT(v4_big, 30), 0, AF_INET, LDM_PROTO_TCP, 6, 0, 0, 0, 0, 1, 1, 30,
	  0 },
	{ "copy cut at tcp", CUT(v4_big, 20), 0, AF_INET, LDM_PROTO_TCP, 6, 0, 0, 0, 0, 1, 1, 20,
	  0 },
	{ "empty", CUT(v4_syn, 0), -EBADMSG },
	{ "v4 header cut", CUT(v4_syn, 19), -EBADMSG },
	{ "v6 header cut", CUT(v6_udp, 39), -EBADMSG },
	{ "ihl < 5", PKT(bad_ihl4), -EBADMSG },
	{ "ihl past len", PKT(bad_ihl_len), -EBADMSG },
	{ "version 5", PKT(bad_version), -EBADMSG },
	{ "version 0", PKT(bad_version0), -EBADMSG },
	{ "total < header", PKT(bad_total), -EBADMSG },
	{ "tcp doff < 5", PKT(bad_doff), -EBADMSG },
	{ "tcp header short", PKT(bad_tcp_short), -EBADMSG },
	{ "tcp options past end", PKT(bad_tcp_opts), -EBADMSG },
	{ "tiny first fragment", PKT(bad_tiny_frag), -EBADMSG },
	{ "udp length < 8", PKT(bad_udp_len), -EBADMSG },
	{ "udp length past end", PKT(bad_udp_long), -EBADMSG },
	{ "icmp header short", PKT(bad_icmp_short), -EBADMSG },
	{ "v6 nine ext headers", PKT(bad_v6_ext9), -EBADMSG },
	{ "v6 ext past end", PKT(bad_v6_ext_len), -EBADMSG },
	{ "v6 ext cut by copy", PKT(bad_v6_ext_cut), -EBADMSG },
	{ "v6 hop-by-hop not first", PKT(bad_v6_hbh_late), -EBADMSG },
	{ "v6 two fragment headers", PKT(bad_v6_two_frags), -EBADMSG },
	{ "v6 jumbogram", PKT(bad_v6_jumbo), -EBADMSG },
};

static void
check_case(const struct pcase *c)
{
	struct ldm_packet p, orig;
	int rc;

	memset(&p, 0xa5, sizeof(p));
	orig = p;
	rc = ldm_packet_parse(c->buf, c->len, &p);
	if (rc != c->rc)
		fail_msg("%s: got %d, want %d", c->name, rc, c->rc);
	if (rc < 0) {
		if (memcmp(&p, &orig, sizeof(p)) != 0)
			fail_msg("%s: output written on error", c->name);
		return;
	}
	if (p.family != c->family || p.proto != c->proto || p.l4proto != c->l4proto)
		fail_msg("%s: family/proto %u/%d/%u", c->name, p.family, p.proto, p.l4proto);
	if (p.sport != c->sport || p.dport != c->dport)
		fail_msg("%s: ports %u %u", c->name, p.sport, p.dport);
	if (p.is_fragment != c->frag || p.has_ports != c->ports || p.l4_truncated != c->l4trunc ||
	    p.payload_truncated != c->ptrunc)
		fail_msg("%s: flags frag %d ports %d l4trunc %d ptrunc %d", c->name, p.is_fragment,
		         p.has_ports, p.l4_truncated, p.payload_truncated);
	if (p.payload_offset != c->poff || p.payload_len != c->plen)
		fail_msg("%s: payload %u+%u", c->name, p.payload_offset, p.payload_len);
	assert_true((size_t)p.payload_offset + p.payload_len <= c->len);
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		check_case(&cases[i]);
}

static void
test_fields(void **state)
{
	static const uint8_t v6src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v4dst[16] = { 93, 184, 216, 34 };
	struct ldm_packet p;

	(void)state;
	assert_int_equal(ldm_packet_parse(PKT(v4_syn), &p), 0);
	assert_int_equal(p.tcp_flags, LDM_TCP_SYN);
	assert_int_equal(p.ip_total_len, 60);
	assert_int_equal(p.l4_offset, 20);
	assert_memory_equal(p.dst, v4dst, 16);
	assert_int_equal(ldm_packet_parse(PKT(v6_chain), &p), 0);
	assert_int_equal(p.tcp_flags, LDM_TCP_PSH | LDM_TCP_ACK);
	assert_memory_equal(p.src, v6src, 16);
	assert_int_equal(p.ip_total_len, 104);
	assert_int_equal(ldm_packet_parse(PKT(v4_icmp_echo), &p), 0);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(ldm_packet_parse(PKT(v6_icmp), &p), 0);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(ldm_packet_parse(PKT(v6_hbh_frag), &p), 0);
	assert_true(p.more_fragments);
	assert_int_equal(ldm_packet_parse(PKT(v4_big), &p), 0);
	assert_int_equal(p.ip_total_len, 1500);
}

/* Every prefix of every packet, from an exact-size heap copy: ASan sees any overread. */
static void
test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		for (size_t n = 0; n <= cases[i].len; n++) {
			uint8_t *b = malloc(n ? n : 1);
			struct ldm_packet p;
			int rc;

			assert_non_null(b);
			memcpy(b, cases[i].buf, n);
			rc = ldm_packet_parse(b, n, &p);
			assert_true(rc == 0 || rc == -EBADMSG);
			if (rc == 0)
				assert_true((size_t)p.payload_offset + p.payload_len <= n);
			free(b);
		}
	}
}

static void
test_flow(void **state)
{
	static const uint8_t v4dst[16] = { 93, 184, 216, 34 };
	struct ldm_packet p;
	struct ldm_flow f, orig;

	(void)state;
	assert_int_equal(ldm_packet_parse(PKT(v4_syn), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, false, &f), 0);
	assert_int_equal(f.family, AF_INET);
	assert_int_equal(f.proto, LDM_PROTO_TCP);
	assert_int_equal(f.dir, LDM_DIR_OUT);
	assert_int_equal(f.port, 443);
	assert_memory_equal(f.addr, v4dst, 16);
	assert_null(f.host);
	assert_int_equal(ldm_packet_flow(&p, true, &f), 0);
	assert_int_equal(f.dir, LDM_DIR_IN);
	assert_int_equal(f.port, 40000);
	assert_memory_equal(f.addr, v4dst, 16);

	assert_int_equal(ldm_packet_parse(PKT(v6_icmp), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, false, &f), 0);
	assert_int_equal(f.family, AF_INET6);
	assert_int_equal(f.proto, LDM_PROTO_ICMP);
	assert_int_equal(f.port, 0);
	assert_int_equal(ldm_packet_parse(PKT(v4_gre), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, true, &f), 0);
	assert_int_equal(f.proto, LDM_PROTO_OTHER);
	assert_int_equal(f.port, 0);

	/* TCP/UDP with unknown ports can't be judged; P that wasn't parsed neither. */
	memset(&orig, 0x5a, sizeof(orig));
	f = orig;
	assert_int_equal(ldm_packet_parse(PKT(v4_frag), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, true, &f), -ENODATA);
	assert_int_equal(ldm_packet_parse(PKT(v6_hbh_frag2), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, false, &f), -ENODATA);
	assert_int_equal(ldm_packet_parse(CUT(v4_big, 30), &p), 0);
	assert_int_equal(ldm_packet_flow(&p, false, &f), -ENODATA);
	memset(&p, 0, sizeof(p));
	assert_int_equal(ldm_packet_flow(&p, false, &f), -EINVAL);
	assert_memory_equal(&f, &orig, sizeof(f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_flow),
	};

	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
