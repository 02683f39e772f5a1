/* The enforcer's decisions (enforcer/verdict.c): flows with resolved names, the answer for
 * a judged flow, ending sessions, DNS queries and answers in real packets. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns.h"
#include "ldm/policy.h"
#include "ldm/util.h"
#include "ldm/verdict.h"
#include "packet.h"

static const char policy_text[] =
        "name = \"v\";\n"
        "allow = (\n"
        /* 1 */ "  { proto = \"tcp\"; host = \"*.maps.example.org\"; ports = \"443\" },\n"
        /* 2 */ "  { proto = \"udp\"; to = \"192.0.2.7\"; ports = \"123\" }\n"
        ");\n"
        "deny = (\n"
        /* 3 */ "  { host = \"bad.maps.example.org\" }\n"
        ");\n"
        "dns_allow = [ \"ntp.example.org\" ];\n";

static struct ldm_policy *policy;

static int
setup(void **state)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };
	int r = ldm_policy_load_buffer(policy_text, strlen(policy_text), "v.conf", &o, &policy, &d);

	(void)state;
	for (size_t i = 0; i < d.n; i++)
		print_message("%s:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
	ldm_diags_clear(&d);
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	ldm_policy_free(policy);
	return 0;
}

static struct ldm_flow
flow(const char *addr, enum ldm_proto proto, uint16_t port)
{
	struct ldm_flow f = { .family = AF_INET, .proto = proto, .dir = LDM_DIR_OUT, .port = port };

	assert_int_equal(inet_pton(AF_INET, addr, f.addr), 1);
	return f;
}

static void
test_flow_names(void **state)
{
	struct ldm_flow f = flow("198.51.100.7", LDM_PROTO_TCP, 443);
	const char *good[] = { "tiles.maps.example.org" };
	const char *mixed[] = { "tiles.maps.example.org", "bad.maps.example.org" };
	const char *other[] = { "elsewhere.example.net", "tiles.maps.example.org" };
	struct ldm_verdict v;
	const char *host = "untouched";

	(void)state;
	ldm_verdict_flow(policy, &f, NULL, NULL, 0, &v, &host);
	assert_false(v.allow);
	assert_null(v.rule);
	assert_null(host);
	ldm_verdict_flow(policy, &f, NULL, good, 1, &v, &host);
	assert_true(v.allow);
	assert_int_equal(v.rule->number, 1);
	assert_string_equal(host, "tiles.maps.example.org");
	/* A deny for any of the names wins, and is the one named. */
	ldm_verdict_flow(policy, &f, NULL, mixed, 2, &v, &host);
	assert_false(v.allow);
	assert_int_equal(v.rule->number, 3);
	assert_string_equal(host, "bad.maps.example.org");
	/* Blocked by default: the first name is what the app was after. */
	ldm_verdict_flow(policy, &f, NULL, other, 1, &v, &host);
	assert_false(v.allow);
	assert_string_equal(host, "elsewhere.example.net");
	ldm_verdict_flow(policy, &f, NULL, other, 2, &v, &host);
	assert_true(v.allow);
	assert_string_equal(host, "tiles.maps.example.org");
	/* The flow's own host is not a resolved name. */
	f.host = "tiles.maps.example.org";
	ldm_verdict_flow(policy, &f, NULL, NULL, 0, &v, NULL);
	assert_false(v.allow);
	/* A flow that cannot be judged is blocked. */
	f.dir = LDM_DIR_BOTH;
	ldm_verdict_flow(policy, &f, NULL, good, 1, &v, NULL);
	assert_false(v.allow);
	assert_null(v.rule);
}

static void
test_decide(void **state)
{
	(void)state;
	assert_int_equal(ldm_verdict_decide(true, false, LDM_PROTO_TCP), LDM_DECIDE_ALLOW);
	assert_int_equal(ldm_verdict_decide(false, true, LDM_PROTO_UDP), LDM_DECIDE_ALLOW);
	assert_int_equal(ldm_verdict_decide(false, false, LDM_PROTO_TCP), LDM_DECIDE_REJECT);
	assert_int_equal(ldm_verdict_decide(false, false, LDM_PROTO_UDP), LDM_DECIDE_REJECT);
	assert_int_equal(ldm_verdict_decide(false, false, LDM_PROTO_ICMP), LDM_DECIDE_DROP);
	assert_int_equal(ldm_verdict_decide(false, false, LDM_PROTO_OTHER), LDM_DECIDE_DROP);
	for (int dec = LDM_DECIDE_DROP; dec <= LDM_DECIDE_ALLOW; dec++) {
		assert_int_equal(ldm_verdict_final((enum ldm_decision)dec, false), dec);
		assert_int_equal(ldm_verdict_final((enum ldm_decision)dec, true),
		                 dec == LDM_DECIDE_PASS ? LDM_DECIDE_PASS : LDM_DECIDE_DROP);
	}
	assert_int_equal(ldm_verdict_dns_blocked(false), LDM_DECIDE_REJECT);
	assert_int_equal(ldm_verdict_dns_blocked(true), LDM_DECIDE_ALLOW);
}

/* A DNS message in an IPv4/UDP packet (source port SPORT, destination DPORT). */
struct pkt {
	uint8_t b[600];
	size_t len;
};

static void
put(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void
put_name(struct pkt *p, const char *dotted)
{
	while (*dotted != '\0') {
		size_t n = strcspn(dotted, ".");
		uint8_t l = (uint8_t)n;

		put(p, &l, 1);
		put(p, dotted, n);
		dotted += n + (dotted[n] == '.');
	}
	put(p, "", 1);
}

static void
finish_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	size_t total = p->len;
	uint8_t *b = p->b;

	b[0] = 0x45;
	b[2] = (uint8_t)(total >> 8);
	b[3] = (uint8_t)total;
	b[8] = 64;
	b[9] = 17;
	memcpy(b + 12, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(b + 16, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	b[24] = (uint8_t)((total - 20) >> 8);
	b[25] = (uint8_t)(total - 20);
}

static void
query(struct pkt *p, const char *name)
{
	static const uint8_t hdr[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };

	*p = (struct pkt){ .len = 28 };
	put(p, hdr, sizeof(hdr));
	put_name(p, name);
	put(p, (uint8_t[]){ 0, 1, 0, 1 }, 4);
	finish_udp(p, 40000, 53);
}

static void
answer(struct pkt *p, const char *name)
{
	static const uint8_t hdr[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 7 };

	*p = (struct pkt){ .len = 28 };
	put(p, hdr, sizeof(hdr));
	put_name(p, name);
	put(p, (uint8_t[]){ 0, 1, 0, 1 }, 4);
	put(p, rr, sizeof(rr));
	finish_udp(p, 53, 40000);
}

static void
test_dns_query(void **state)
{
	static const struct {
		const char *name;
		enum ldm_dnsq result;
		unsigned rule;
	} cases[] = {
		{ "tiles.maps.example.org", LDM_DNSQ_ALLOWED, 1 },
		{ "ntp.example.org", LDM_DNSQ_ALLOWED, 0 }, /* dns_allow */
		{ "bad.maps.example.org", LDM_DNSQ_BLOCKED, 3 },
		{ "d1-secret.leak.example.org", LDM_DNSQ_BLOCKED, 0 },
	};
	struct ldm_dnsq_verdict q;
	struct ldm_packet k;
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		query(&p, cases[i].name);
		assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
		ldm_verdict_dns_query(policy, &k, p.b, p.len, &q);
		if (q.result != cases[i].result || (q.rule ? q.rule->number : 0) != cases[i].rule)
			fail_msg("%s: got %d rule %u", cases[i].name, q.result,
			         q.rule ? q.rule->number : 0);
		assert_string_equal(q.name, cases[i].name);
		assert_int_equal(q.qtype, 1);
	}
	/* Not a query: unreadable, and so blocked. */
	query(&p, "tiles.maps.example.org");
	p.b[30] = 0x81; /* QR set: an answer */
	assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
	ldm_verdict_dns_query(policy, &k, p.b, p.len, &q);
	assert_int_equal(q.result, LDM_DNSQ_UNREADABLE);
	/* Cut short by the copy: unreadable. */
	assert_int_equal(ldm_packet_parse(p.b, 40, &k), 0);
	ldm_verdict_dns_query(policy, &k, p.b, 40, &q);
	assert_int_equal(q.result, LDM_DNSQ_UNREADABLE);
}

static void
test_dns_answer(void **state)
{
	struct ldm_dns_answer a;
	struct ldm_packet k;
	struct pkt p;
	bool empty = true;

	(void)state;
	answer(&p, "tiles.maps.example.org");
	assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
	assert_int_equal(ldm_verdict_dns_answer(policy, false, &k, p.b, p.len, &a, &empty),
	                 LDM_DECIDE_PASS);
	assert_false(empty);
	assert_int_equal(a.n_addrs, 1);
	assert_string_equal(a.qname, "tiles.maps.example.org");
	/* An answer for a name no query of ours could have asked: dropped, unless in audit
	 * mode (where every query left). */
	answer(&p, "elsewhere.example.net");
	assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
	assert_int_equal(ldm_verdict_dns_answer(policy, false, &k, p.b, p.len, &a, &empty),
	                 LDM_DECIDE_DROP);
	assert_int_equal(a.n_addrs, 0);
	assert_int_equal(ldm_verdict_dns_answer(policy, true, &k, p.b, p.len, &a, &empty),
	                 LDM_DECIDE_PASS);
	answer(&p, "bad.maps.example.org");
	assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
	assert_int_equal(ldm_verdict_dns_answer(policy, false, &k, p.b, p.len, &a, &empty),
	                 LDM_DECIDE_DROP);
	/* A query is no answer. */
	query(&p, "tiles.maps.example.org");
	assert_int_equal(ldm_packet_parse(p.b, p.len, &k), 0);
	assert_int_equal(ldm_verdict_dns_answer(policy, true, &k, p.b, p.len, &a, &empty),
	                 LDM_DECIDE_DROP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_names),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_dns_query),
		cmocka_unit_test(test_dns_answer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
