/* A session's traffic per rule and peer: attribution out, in (the peer opened it) and to no
 * rule, sums per row, the row cap, saturation and entries without counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "traffic.h"

static const char policy_text[] =
        "name = \"t\";\n"
        "allow = (\n"
        "  { proto = \"udp\"; to = \"lan\"; ports = \"14550\"; comment = \"MAVLink\" },\n"
        "  { proto = \"tcp\"; direction = \"in\"; from = \"192.168.144.0/24\"; ports = \"5760\";"
        "    comment = \"drone connects\" },\n"
        "  { proto = \"tcp\"; host = \"tiles.example.org\"; ports = \"443\"; comment = \"tiles\" "
        "}\n"
        ");\n";

static struct ldm_policy *policy;
static const struct ldm_lan_entry lan_entries[1] = {
	{ { AF_INET, 24, { 192, 168, 144, 0 } }, 3 },
};
static const struct ldm_lan lan = { lan_entries, 1 };

static int
setup(void **state)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };
	int r;

	(void)state;
	r = ldm_policy_load_buffer(policy_text, strlen(policy_text), "t.conf", &o, &policy, &d);
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

/* 198.51.100.7 was resolved from tiles.example.org. */
static size_t
names(uint8_t family, const uint8_t addr[16], const char **out, size_t max, void *u)
{
	static const uint8_t tiles[4] = { 198, 51, 100, 7 };

	(void)u;
	if (family != AF_INET || memcmp(addr, tiles, 4) != 0 || max < 1)
		return 0;
	out[0] = "tiles.example.org";
	return 1;
}

static struct ldm_ct_entry
ct(uint8_t l4, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t po,
   uint64_t bo, uint64_t pr, uint64_t br)
{
	struct ldm_ct_entry e = { .family = AF_INET,
		                  .l4proto = l4,
		                  .sport = sport,
		                  .dport = dport,
		                  .has_counters = true,
		                  .packets_orig = po,
		                  .bytes_orig = bo,
		                  .packets_reply = pr,
		                  .bytes_reply = br };

	assert_int_equal(inet_pton(AF_INET, src, e.src), 1);
	assert_int_equal(inet_pton(AF_INET, dst, e.dst), 1);
	return e;
}

static void
check_row(const struct ldm_traffic_row *r, unsigned rule, const char *peer, uint16_t port,
          uint64_t flows, uint64_t po, uint64_t bo, uint64_t pi, uint64_t bi)
{
	char s[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, r->peer.addr, s, sizeof(s)));
	assert_int_equal(r->rule, rule);
	assert_string_equal(s, peer);
	assert_int_equal(r->port, port);
	assert_int_equal(r->flows, flows);
	assert_int_equal(r->packets_out, po);
	assert_int_equal(r->bytes_out, bo);
	assert_int_equal(r->packets_in, pi);
	assert_int_equal(r->bytes_in, bi);
}

static void
test_attribute(void **state)
{
	struct ldm_traffic t;
	struct ldm_ct_entry e;

	(void)state;
	assert_int_equal(ldm_traffic_init(&t), 0);
	/* Two connections to the drone's port: one row. */
	e = ct(IPPROTO_UDP, "192.168.144.1", 40000, "192.168.144.10", 14550, 100, 26800, 99, 26532);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	e = ct(IPPROTO_UDP, "192.168.144.1", 40001, "192.168.144.10", 14550, 1, 10, 2, 20);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	/* The drone connected to the app: in, counters turned round. */
	e = ct(IPPROTO_TCP, "192.168.144.10", 33000, "192.168.144.1", 5760, 7, 700, 5, 500);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	/* A host rule: by the name the session resolved. */
	e = ct(IPPROTO_TCP, "203.0.113.2", 50000, "198.51.100.7", 443, 10, 1000, 20, 40000);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	/* No allow rule (a DNS query): rule 0, as sent. */
	e = ct(IPPROTO_UDP, "203.0.113.2", 50001, "198.51.100.53", 53, 1, 60, 1, 120);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	/* No counters: in no sum. */
	e.has_counters = false;
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);

	assert_int_equal(t.n, 4);
	check_row(&t.rows[0], 1, "192.168.144.10", 14550, 2, 101, 26810, 101, 26552);
	assert_string_equal(t.rows[0].comment, "MAVLink");
	assert_int_equal(t.rows[0].proto, LDM_PROTO_UDP);
	check_row(&t.rows[1], 2, "192.168.144.10", 5760, 1, 5, 500, 7, 700);
	check_row(&t.rows[2], 3, "198.51.100.7", 443, 1, 10, 1000, 20, 40000);
	check_row(&t.rows[3], 0, "198.51.100.53", 53, 1, 1, 60, 1, 120);
	assert_null(t.rows[3].comment);
	check_row(&t.total, 0, "0.0.0.0", 0, 5, 117, 28370, 129, 67372);
	assert_int_equal(t.uncounted, 1);
	assert_int_equal(t.over, 0);
	ldm_traffic_fini(&t);
}

static void
test_cap_and_saturation(void **state)
{
	struct ldm_traffic t;
	struct ldm_ct_entry e;
	char dst[32];

	(void)state;
	assert_int_equal(ldm_traffic_init(&t), 0);
	for (unsigned i = 0; i < LDM_TRAFFIC_MAX_ROWS + 3; i++) {
		(void)snprintf(dst, sizeof(dst), "10.%u.%u.1", i / 256, i % 256);
		e = ct(IPPROTO_UDP, "10.255.0.2", 40000, dst, 9, 1, 100, 0, 0);
		ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	}
	assert_int_equal(t.n, LDM_TRAFFIC_MAX_ROWS);
	assert_int_equal(t.over, 3);
	assert_int_equal(t.total.flows, LDM_TRAFFIC_MAX_ROWS + 3);
	assert_int_equal(t.total.bytes_out, 100 * (LDM_TRAFFIC_MAX_ROWS + 3));
	e = ct(IPPROTO_UDP, "10.255.0.2", 40000, "10.0.0.1", 9, 1, UINT64_MAX, 0, 0);
	ldm_traffic_add(&t, policy, &lan, names, NULL, &e);
	assert_true(t.rows[0].bytes_out == UINT64_MAX);
	assert_true(t.total.bytes_out == UINT64_MAX);
	ldm_traffic_fini(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribute),
		cmocka_unit_test(test_cap_and_saturation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
