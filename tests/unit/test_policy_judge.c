/* The evaluator: deny wins, then allow, else block; addresses, keywords, hosts, directions. */
#include <arpa/inet.h>
#include <errno.h>
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

static const char policy_text[] =
        "name = \"judge\";\n"
        "allow = (\n"
        /* 1 */ "  { proto = \"udp\"; to = \"lan\"; ports = \"14550-14560\"; comment = \"MAV\" },\n"
        /* 2 */ "  { proto = \"udp\"; from = \"lan\"; direction = \"in\"; ports = \"14550\" },\n"
        /* 3 */ "  { proto = \"tcp\"; to = \"192.168.42.1\"; ports = \"554,8554\" },\n"
        /* 4 */ "  { proto = \"tcp\"; host = \"tiles.example.org\"; ports = \"443\" },\n"
        /* 5 */ "  { proto = \"tcp\"; host = \"*.maps.example.org\"; ports = \"443\" },\n"
        /* 6 */ "  { proto = \"tcp\"; to = \"2001:db8:5::/48\"; ports = \"80\" },\n"
        /* 7 */ "  { proto = \"icmp\"; to = \"private\" },\n"
        /* 8 */ "  { to = \"loopback\"; ports = \"5760\" },\n"
        /* 9 */ "  { proto = \"udp\"; to = \"broadcast\"; ports = \"14550\" },\n"
        /* 10 */ "  { proto = \"tcp\"; to = \"10.1.0.0/16\" },\n"
        /* 11 */ "  { proto = \"udp\"; to = \"multicast\"; ports = \"5353\" }\n"
        ");\n"
        "deny = (\n"
        /* 12 */ "  { to = \"192.168.42.1\"; proto = \"tcp\"; ports = \"8554\" },\n"
        /* 13 */ "  { host = \"bad.maps.example.org\" },\n"
        /* 14 */ "  { to = \"10.1.2.0/24\"; comment = \"lab\" }\n"
        ");\n"
        "dns_allow = [ \"pool.ntp.example.org\" ];\n"
        "known = ( { host = \"*.example.org\"; label = \"Example\" },\n"
        "          { host = \"tiles.example.org\"; label = \"Tiles\" } );\n";

static struct ldm_policy *policy;

static const struct ldm_lan_entry lan_entries[2] = {
	{ { AF_INET, 24, { 192, 168, 144, 0 } }, 3 },
	{ { AF_INET6, 64, { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x44 } }, 3 },
};
static const struct ldm_lan lan = { lan_entries, 2 };

static int
setup(void **state)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };
	int r;

	(void)state;
	r = ldm_policy_load_buffer(policy_text, strlen(policy_text), "judge.conf", &o, &policy, &d);
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

struct jcase {
	const char *addr;
	enum ldm_proto proto;
	enum ldm_dir dir;
	uint16_t port;
	const char *host;
	int ifindex;
	bool allow;
	unsigned rule; /* 0: default deny */
};

static void run_cases_lan(const struct jcase *cases, size_t n, const struct ldm_lan *l);

static void
run_cases(const struct jcase *cases, size_t n)
{
	run_cases_lan(cases, n, &lan);
}

static void
run_cases_lan(const struct jcase *cases, size_t n, const struct ldm_lan *l)
{
	for (size_t i = 0; i < n; i++) {
		struct ldm_flow f = { .proto = cases[i].proto,
			              .dir = cases[i].dir,
			              .port = cases[i].port,
			              .host = cases[i].host,
			              .ifindex = cases[i].ifindex };
		struct ldm_verdict v;

		f.family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(f.family, cases[i].addr, f.addr), 1);
		assert_int_equal(ldm_policy_judge(policy, &f, l, &v), 0);
		if (v.allow != cases[i].allow || (v.rule ? v.rule->number : 0) != cases[i].rule)
			fail_msg("case %zu %s port %u: got %s rule %u, want %s rule %u", i,
			         cases[i].addr, cases[i].port, v.allow ? "allow" : "block",
			         v.rule ? v.rule->number : 0, cases[i].allow ? "allow" : "block",
			         cases[i].rule);
	}
}

#define OUT  LDM_DIR_OUT
#define IN   LDM_DIR_IN
#define TCP  LDM_PROTO_TCP
#define UDP  LDM_PROTO_UDP
#define ICMP LDM_PROTO_ICMP

static void
test_ipv4(void **state)
{
	static const struct jcase cases[] = {
		{ "192.168.144.10", UDP, OUT, 14550, NULL, 0, true, 1 },
		{ "192.168.144.10", UDP, OUT, 14560, NULL, 0, true, 1 },
		{ "192.168.144.10", UDP, OUT, 14561, NULL, 0, false, 0 },
		{ "192.168.144.10", TCP, OUT, 14550, NULL, 0, false, 0 },
		{ "192.168.145.10", UDP, OUT, 14550, NULL, 0, false, 0 }, /* not on-link */
		{ "192.168.42.1", TCP, OUT, 554, NULL, 0, true, 3 },
		{ "192.168.42.1", TCP, OUT, 8554, NULL, 0, false, 12 }, /* deny wins */
		{ "192.168.42.2", TCP, OUT, 554, NULL, 0, false, 0 },
		{ "10.1.9.9", TCP, OUT, 22, NULL, 0, true, 10 },
		{ "10.1.2.3", TCP, OUT, 22, NULL, 0, false, 14 },     /* a longer deny */
		{ "10.1.2.3", UDP, IN, 14550, NULL, 0, false, 14 },   /* deny: both ways */
		{ "198.51.100.7", TCP, OUT, 443, NULL, 0, false, 0 }, /* the internet */
		{ "10.9.9.9", ICMP, OUT, 0, NULL, 0, true, 7 },       /* private keyword */
		{ "172.31.255.255", ICMP, OUT, 0, NULL, 0, true, 7 },
		{ "172.32.0.1", ICMP, OUT, 0, NULL, 0, false, 0 },
		{ "127.0.0.1", TCP, OUT, 5760, NULL, 0, true, 8 }, /* any: tcp and udp */
		{ "127.0.0.1", UDP, OUT, 5760, NULL, 0, true, 8 },
		{ "127.0.0.1", ICMP, OUT, 0, NULL, 0, false, 0 },  /* ported any: no icmp */
		{ "127.0.0.53", UDP, OUT, 53, NULL, 0, false, 0 }, /* no DNS wholesale */
		{ "255.255.255.255", UDP, OUT, 14550, NULL, 0, true, 9 },
		{ "192.168.144.255", UDP, OUT, 14550, NULL, 0, true, 1 }, /* lan and bcast */
		{ "224.0.0.251", UDP, OUT, 5353, NULL, 0, true, 11 },
		{ "224.0.0.251", UDP, OUT, 5354, NULL, 0, false, 0 },
	};

	(void)state;
	run_cases(cases, ELEMENTSOF(cases));
}

static void
test_ipv6(void **state)
{
	static const struct jcase cases[] = {
		{ "2001:db8:144::7", UDP, OUT, 14550, NULL, 0, true, 1 },
		{ "2001:db8:145::7", UDP, OUT, 14550, NULL, 0, false, 0 },
		{ "2001:db8:5:ffff::1", TCP, OUT, 80, NULL, 0, true, 6 },
		{ "2001:db8:6::1", TCP, OUT, 80, NULL, 0, false, 0 },
		{ "::1", TCP, OUT, 5760, NULL, 0, true, 8 },
		{ "fd00::1", ICMP, OUT, 0, NULL, 0, true, 7 },
		{ "::ffff:192.168.42.1", TCP, OUT, 554, NULL, 0, true, 3 }, /* mapped */
		{ "::ffff:192.168.42.1", TCP, OUT, 8554, NULL, 0, false, 12 },
		{ "::ffff:198.51.100.7", TCP, OUT, 443, NULL, 0, false, 0 },
		{ "2001:db8:100::7", TCP, OUT, 443, NULL, 0, false, 0 },
		{ "ff02::fb", UDP, OUT, 5353, NULL, 0, true, 11 },
	};

	(void)state;
	run_cases(cases, ELEMENTSOF(cases));
}

static void
test_direction(void **state)
{
	static const struct jcase cases[] = {
		{ "192.168.144.10", UDP, IN, 14550, NULL, 0, true, 2 },
		{ "192.168.144.10", UDP, IN, 14551, NULL, 0, false, 0 },
		{ "198.51.100.7", UDP, IN, 14550, NULL, 0, false, 0 }, /* not lan */
		{ "192.168.42.1", TCP, IN, 554, NULL, 0, false, 0 },   /* out rule only */
		{ "192.168.144.10", UDP, IN, 14550, NULL, 0, true, 2 },
	};

	(void)state;
	run_cases(cases, ELEMENTSOF(cases));
}

/* lan is (prefix, interface): the same address through another interface is not lan. */
static void
test_lan_interface(void **state)
{
	static const struct jcase cases[] = {
		{ "192.168.144.10", UDP, OUT, 14550, NULL, 3, true, 1 },
		{ "192.168.144.10", UDP, OUT, 14550, NULL, 4, false, 0 },
		{ "192.168.144.255", UDP, OUT, 14550, NULL, 4, false, 0 },
	};

	(void)state;
	run_cases(cases, ELEMENTSOF(cases));
}

/*
 * Routing facts: the aircraft link (ifindex 3), the uplink 10.77.0.0/24 with the default
 * routes (4), this machine's addresses on both; lo is 1. Address allow rules hold only on
 * their route's interface, `lan` and `broadcast` never reach the uplink, and this machine's
 * own addresses are judged as loopback.
 */
static void
test_routes(void **state)
{
	static const struct ldm_lan_entry routes_v[] = {
		{ { AF_INET, 24, { 192, 168, 144, 0 } }, 3, LDM_ROUTE_LINK },
		{ { AF_INET, 24, { 10, 77, 0, 0 } }, 4, LDM_ROUTE_UPLINK },
		{ { AF_INET, 0, { 0 } }, 4, LDM_ROUTE_DEFAULT },
		{ { AF_INET6, 0, { 0 } }, 4, LDM_ROUTE_DEFAULT },
		{ { AF_INET, 32, { 192, 168, 144, 1 } }, 0, LDM_ROUTE_LOCAL },
		{ { AF_INET, 32, { 10, 77, 0, 2 } }, 0, LDM_ROUTE_LOCAL },
		{ { AF_INET, 16, { 10, 50 } },
		  3,
		  LDM_ROUTE_VIA }, /* behind the aircraft's router */
	};
	static const struct ldm_lan routes = { routes_v, ELEMENTSOF(routes_v) };
	static const struct jcase cases[] = {
		{ "192.168.144.10", UDP, OUT, 14550, NULL, 3, true, 1 },
		{ "10.77.0.1", UDP, OUT, 14550, NULL, 4, false, 0 },   /* the uplink's gateway */
		{ "10.77.0.255", UDP, OUT, 14550, NULL, 4, false, 0 }, /* its subnet broadcast */
		{ "10.77.0.9", UDP, IN, 14550, NULL, 4, false, 0 },
		{ "255.255.255.255", UDP, OUT, 14550, NULL, 4, false, 0 }, /* out the uplink */
		{ "255.255.255.255", UDP, OUT, 14550, NULL, 3, true, 9 },
		{ "192.168.144.255", UDP, OUT, 14550, NULL, 3, true, 1 },
		{ "192.168.42.1", TCP, OUT, 554, NULL, 4, true, 3 },  /* via the default route */
		{ "192.168.42.1", TCP, OUT, 554, NULL, 3, false, 0 }, /* not its route */
		{ "192.168.42.1", TCP, OUT, 554, NULL, 0, true, 3 },  /* interface unknown */
		{ "10.9.9.9", ICMP, OUT, 0, NULL, 4, true, 7 },
		{ "192.168.144.10", ICMP, OUT, 0, NULL, 3, true, 7 },
		{ "192.168.144.10", ICMP, OUT, 0, NULL, 4, false, 0 }, /* SO_BINDTODEVICE */
		{ "192.168.144.10", UDP, OUT, 14550, NULL, 4, false, 0 },
		{ "10.1.9.9", TCP, OUT, 22, NULL, 4, true, 10 },
		{ "10.50.1.1", ICMP, OUT, 0, NULL, 3, true, 7 }, /* its gateway route */
		{ "10.50.1.1", ICMP, OUT, 0, NULL, 4, false, 0 },
		{ "10.50.1.1", UDP, OUT, 14550, NULL, 3, false, 0 }, /* routed: not lan */
		{ "2001:db8:5::1", TCP, OUT, 80, NULL, 4, true, 6 },
		/* This machine's own addresses go out lo: loopback rules only. */
		{ "192.168.144.1", ICMP, OUT, 0, NULL, 1, false, 0 },
		{ "192.168.144.1", ICMP, OUT, 0, NULL, 0, false, 0 },
		{ "192.168.144.1", UDP, OUT, 14550, NULL, 1, false, 0 },
		{ "192.168.144.1", UDP, OUT, 14550, NULL, 3, false, 0 },
		{ "192.168.144.1", TCP, OUT, 5760, NULL, 1, true, 8 },
		{ "10.77.0.2", ICMP, OUT, 0, NULL, 1, false, 0 },
		{ "10.77.0.2", UDP, OUT, 5760, NULL, 1, true, 8 },
	};

	(void)state;
	run_cases_lan(cases, ELEMENTSOF(cases), &routes);
}

static void
test_hosts(void **state)
{
	static const struct jcase cases[] = {
		{ "198.51.100.7", TCP, OUT, 443, "tiles.example.org", 0, true, 4 },
		{ "198.51.100.7", TCP, OUT, 80, "tiles.example.org", 0, false, 0 },
		{ "198.51.100.7", TCP, OUT, 443, "x.tiles.example.org", 0, false, 0 },
		{ "198.51.100.7", TCP, OUT, 443, "a.maps.example.org", 0, true, 5 },
		{ "198.51.100.7", TCP, OUT, 443, "a.b.maps.example.org", 0, true, 5 },
		{ "198.51.100.7", TCP, OUT, 443, "maps.example.org", 0, false, 0 },
		{ "198.51.100.7", TCP, OUT, 443, "bad.maps.example.org", 0, false, 13 },
		{ "198.51.100.7", TCP, OUT, 443, "evil.org", 0, false, 0 },
		{ "198.51.100.7", UDP, IN, 443, "tiles.example.org", 0, false, 0 },
		{ "10.1.2.3", TCP, OUT, 443, "tiles.example.org", 0, false, 14 }, /* deny wins */
	};

	(void)state;
	run_cases(cases, ELEMENTSOF(cases));
}

static void
test_names(void **state)
{
	const struct ldm_rule *r;

	(void)state;
	assert_true(ldm_policy_name_allowed(policy, "tiles.example.org", &r));
	assert_int_equal(r->number, 4);
	assert_true(ldm_policy_name_allowed(policy, "x.maps.example.org", &r));
	assert_int_equal(r->number, 5);
	assert_false(ldm_policy_name_allowed(policy, "bad.maps.example.org", &r));
	assert_int_equal(r->number, 13);
	assert_true(ldm_policy_name_allowed(policy, "pool.ntp.example.org", &r));
	assert_null(r);
	assert_false(ldm_policy_name_allowed(policy, "example.org", &r));
	assert_false(ldm_policy_name_allowed(policy, "google.com", &r));
	assert_string_equal(ldm_policy_known_label(policy, "tiles.example.org"), "Tiles");
	assert_string_equal(ldm_policy_known_label(policy, "a.b.example.org"), "Example");
	assert_null(ldm_policy_known_label(policy, "example.com"));
}

static void
test_bad_flow(void **state)
{
	struct ldm_flow f = { .family = AF_UNIX, .proto = LDM_PROTO_TCP, .dir = LDM_DIR_OUT };
	struct ldm_verdict v = { .allow = true };

	(void)state;
	assert_int_equal(ldm_policy_judge(policy, &f, &lan, &v), -EINVAL);
	assert_false(v.allow);
	f.family = AF_INET;
	f.dir = LDM_DIR_BOTH;
	v.allow = true;
	assert_int_equal(ldm_policy_judge(policy, &f, &lan, &v), -EINVAL);
	assert_false(v.allow);
	assert_int_equal(ldm_policy_judge(NULL, &f, &lan, &v), -EINVAL);
	assert_false(v.allow);
}

static void
test_format(void **state)
{
	static const char *const want[] = {
		"udp lan 14550-14560",
		"udp from lan 14550",
		"tcp 192.168.42.1 554,8554",
		"tcp host tiles.example.org 443",
		"tcp host *.maps.example.org 443",
		"tcp 2001:db8:5::/48 80",
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		assert_int_equal(ldm_rule_format(&policy->rules[i], buf, sizeof(buf)), 0);
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(ldm_rule_format(&policy->rules[0], buf, 8), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),      cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_direction), cmocka_unit_test(test_lan_interface),
		cmocka_unit_test(test_routes),    cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_names),     cmocka_unit_test(test_bad_flow),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("policy_judge", tests, setup, teardown);
}
