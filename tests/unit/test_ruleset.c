/*
 * The ruleset text: golden files in tests/golden/ruleset/NAME.rules (byte for byte; with
 * LDM_UPDATE_GOLDEN=1 they are rewritten instead), mark derivation, and every rejection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "ruleset.h"

static const char qgc_text[] =
        "name = \"qgc\";\n"
        "allow = (\n"
        /* 1 */ "  { proto = \"udp\"; to = \"lan\"; ports = \"14550-14560\"; comment = \"MAV\" },\n"
        /* 2 */ "  { proto = \"udp\"; from = \"lan\"; direction = \"in\"; ports = \"14550\" },\n"
        /* 3 */ "  { proto = \"udp\"; to = \"lan\"; ports = \"5600\"; comment = \"RTP video\" },\n"
        /* 4 */ "  { proto = \"tcp\"; to = \"192.168.42.1\"; ports = \"554,8554\" },\n"
        /* 5 */ "  { proto = \"tcp\"; host = \"tiles.example.org\"; ports = \"443\" }\n"
        ");\n"
        /* 6 */ "deny = ( { to = \"192.168.1.1\"; comment = \"the hotel router\" } );\n";

static const char mixed_text[] =
        "name = \"mixed\";\n"
        "allow = (\n"
        /* 1 */ "  { proto = \"udp\"; to = \"loopback\"; ports = \"5760,14550\" },\n"
        /* 2: 17 ports, 15 per multiport rule */
        "  { proto = \"tcp\"; to = \"private\";\n"
        "    ports = \"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\" },\n"
        /* 3: 7 ranges and 1 port fill 15 slots; the last port gets --dport */
        "  { proto = \"udp\"; to = \"10.1.0.0/16\"; ports = \"100-200,300-400,500-600,"
        "700-800,900-1000,1100-1200,1300-1400,1500,1600\" },\n"
        /* 4 */ "  { proto = \"any\"; to = \"multicast\"; ports = \"5353\" },\n"
        /* 5 */ "  { proto = \"any\"; to = \"link-local\" },\n"
        /* 6 */ "  { proto = \"icmp\"; to = \"192.168.144.0/24\" },\n"
        /* 7 */ "  { proto = \"icmp\"; to = \"fd00::/8\" },\n"
        /* 8 */
        "  { proto = \"tcp\"; from = \"2001:db8:1::/48\"; direction = \"in\";"
        " ports = \"8080,8443\" },\n"
        /* 9 */ "  { proto = \"udp\"; to = \"broadcast\"; ports = \"14550\" },\n"
        /* 10 */ "  { proto = \"udp\"; to = \"::ffff:192.0.2.7\"; ports = \"123\" },\n"
        /* 11 */ "  { proto = \"tcp\"; host = \"*.example.org\"; ports = \"443\" },\n"
        /* 12 */ "  { from = \"lan\"; direction = \"in\"; ports = \"5760-5770\" }\n"
        ");\n"
        "deny = (\n"
        /* 13 */ "  { to = \"192.168.144.99\"; proto = \"tcp\"; ports = \"22\" },\n"
        /* 14 */ "  { host = \"evil.example.com\" },\n"
        /* 15 */
        "  { from = \"lan\"; direction = \"in\"; proto = \"udp\"; ports = \"9999\" },\n"
        /* 16 */ "  { to = \"broadcast\" },\n"
        /* 17 */ "  { proto = \"icmp\"; to = \"2001:db8:dead::/48\" },\n"
        /* 18 */ "  { proto = \"any\"; to = \"multicast\"; ports = \"1900\" }\n"
        ");\n";

static struct ldm_policy *qgc, *mixed;
static struct ldm_marks marks;

/* The routing facts: the aircraft link, the uplink (its prefix and the default routes),
 * this machine's address on the aircraft link, and two more on-link prefixes. */
static struct ldm_rs_lan lan[9];
static const struct {
	const char *prefix, *ifname;
	enum ldm_route_kind kind;
} lan_spec[] = {
	{ "192.168.144.0/24", "veth-drone", LDM_ROUTE_LINK },
	{ "2001:db8:144::/64", "veth-drone", LDM_ROUTE_LINK },
	{ "0.0.0.0/0", "veth-wan", LDM_ROUTE_DEFAULT },
	{ "::/0", "veth-wan", LDM_ROUTE_DEFAULT },
	{ "203.0.113.0/24", "veth-wan", LDM_ROUTE_UPLINK }, /* never lan or broadcast */
	{ "192.168.144.1/32", "", LDM_ROUTE_LOCAL },
	{ "10.9.9.0/31", "wg0", LDM_ROUTE_LINK },       /* no subnet broadcast */
	{ "172.20.0.0/16", "", LDM_ROUTE_LINK },        /* any interface */
	{ "10.1.0.0/16", "veth-drone", LDM_ROUTE_VIA }, /* behind a router on the drone link */
};

static struct ldm_policy *
load(const char *text, const char *name)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };
	struct ldm_policy *p = NULL;
	int r = ldm_policy_load_buffer(text, strlen(text), name, &o, &p, &d);

	for (size_t i = 0; i < d.n; i++)
		print_message("%s:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
	ldm_diags_clear(&d);
	return r == 0 ? p : NULL;
}

static int
setup(void **state)
{
	(void)state;
	qgc = load(qgc_text, "qgc.conf");
	mixed = load(mixed_text, "mixed.conf");
	if (qgc == NULL || mixed == NULL || ldm_marks_init(LDM_DEFAULT_MARK_MASK, &marks) < 0)
		return -1;
	for (size_t i = 0; i < ELEMENTSOF(lan); i++) {
		if (ldm_prefix_parse(lan_spec[i].prefix, &lan[i].prefix) < 0 ||
		    ldm_strscpy(lan[i].ifname, sizeof(lan[i].ifname), lan_spec[i].ifname) < 0)
			return -1;
		lan[i].kind = lan_spec[i].kind;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	qgc = ldm_policy_free(qgc);
	mixed = ldm_policy_free(mixed);
	return 0;
}

static char *
golden_path(const char *name)
{
	const char *dir = getenv("LDM_TEST_SRCDIR");
	char *path = NULL;

	if (asprintf(&path, "%s/tests/golden/ruleset/%s.rules", dir != NULL ? dir : ".", name) < 0)
		fail_msg("out of memory");
	return path;
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;

	if (f == NULL)
		fail_msg("%s: %s (LDM_UPDATE_GOLDEN=1 writes it)", path, strerror(errno));
	if (getdelim(&buf, &size, '\0', f) < 0 && !feof(f))
		fail_msg("%s: read error", path);
	fclose(f);
	return buf != NULL ? buf : strdup("");
}

/* Compares TEXT with golden file NAME byte for byte, or rewrites it. */
static void
golden(const char *name, const char *text)
{
	_cleanup_free_ char *path = golden_path(name);
	_cleanup_free_ char *want = NULL;
	const char *update = getenv("LDM_UPDATE_GOLDEN");

	if (update != NULL && strcmp(update, "1") == 0) {
		FILE *f = fopen(path, "we");

		if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
			fail_msg("%s: cannot write", path);
		return;
	}
	want = read_all(path);
	if (strcmp(want, text) != 0)
		fail_msg("%s differs; got:\n%s", path, text);
}

static void
build_golden(const char *name, const struct ldm_rs_input *in)
{
	char *text = NULL;
	int rc = ldm_ruleset_build(in, &text);

	if (rc != 0)
		fail_msg("%s: ldm_ruleset_build() = %d", name, rc);
	golden(name, text);
	free(text);
}

static struct ldm_rs_input
input(int family, const struct ldm_rs_session *s, size_t n)
{
	return (struct ldm_rs_input){
		.family = family,
		.marks = &marks,
		.queue = 7,
		.root = "ldm",
		.sessions = s,
		.n_sessions = n,
		.lan = lan,
		.n_lan = ELEMENTSOF(lan),
		.jump_mangle_output = LDM_JUMP_MISSING,
		.jump_mangle_postrouting = LDM_JUMP_MISSING,
		.jump_mangle_input = LDM_JUMP_MISSING,
		.jump_filter_output = LDM_JUMP_MISSING,
	};
}

static void
test_empty(void **state)
{
	struct ldm_rs_input in4 = input(AF_INET, NULL, 0), in6 = input(AF_INET6, NULL, 0);

	(void)state;
	build_golden("empty-v4", &in4);
	build_golden("empty-v6", &in6);
}

static void
test_qgc(void **state)
{
	const struct ldm_rs_session s = { 1, 100, "ldm/s-100", NULL };
	struct ldm_rs_session one = s;
	struct ldm_rs_input in;

	(void)state;
	one.policy = qgc;
	in = input(AF_INET, &one, 1);
	in.n_lan = 6; /* the drone link, the uplink and this machine's address */
	build_golden("qgc-v4", &in);
	in.family = AF_INET6;
	build_golden("qgc-v6", &in);
}

static void
test_mixed(void **state)
{
	struct ldm_rs_session s = { 5, 101, "ldm/s-101", NULL };
	struct ldm_rs_input in;

	(void)state;
	s.policy = mixed;
	in = input(AF_INET, &s, 1);
	build_golden("mixed-v4", &in);
	in.family = AF_INET6;
	build_golden("mixed-v6", &in);
}

static void
test_two_sessions(void **state)
{
	struct ldm_rs_session s[2] = {
		{ 3, 102, "ldm/s-102", NULL },
		{ 31, 103, "/ldm/s-103", NULL }, /* the highest slot; a leading '/' is kept */
	};
	struct ldm_rs_input in;

	(void)state;
	s[0].policy = qgc;
	s[1].policy = mixed;
	in = input(AF_INET, s, 2);
	in.n_lan = 3; /* the drone link and the default route */
	in.jump_mangle_output = in.jump_mangle_postrouting = in.jump_mangle_input =
	        in.jump_filter_output = LDM_JUMP_OK;
	in.queue = 65535;
	build_golden("two-sessions-v4", &in);
}

static void
test_jumps(void **state)
{
	struct ldm_rs_input in = input(AF_INET6, NULL, 0);

	(void)state;
	in.jump_mangle_output = LDM_JUMP_NOT_FIRST;
	in.jump_mangle_postrouting = LDM_JUMP_OK;
	in.jump_mangle_input = LDM_JUMP_OK;
	in.jump_filter_output = LDM_JUMP_NOT_FIRST;
	build_golden("jumps-v6", &in);
}

static void
test_stale(void **state)
{
	static const char *const old_mangle[] = {
		"LDM-OUT", "LDM-POST", "LDM-S1", "LDM-A1", "LDM-Q1", "LDM-R1",
		"LDM-S2",  "LDM-A2",   "LDM-Q2", "LDM-R2", "LDM-S2", /* a repeat */
	};
	static const char *const old_filter[] = { "LDM-GUARD", "LDM-OLD_GUARD" };
	struct ldm_rs_session s = { 2, 104, "ldm/s-104", NULL };
	struct ldm_rs_input in;

	(void)state;
	s.policy = qgc;
	in = input(AF_INET, &s, 1);
	in.n_lan = 1;
	in.jump_mangle_output = in.jump_mangle_postrouting = in.jump_mangle_input =
	        in.jump_filter_output = LDM_JUMP_OK;
	in.old_mangle = old_mangle;
	in.n_old_mangle = ELEMENTSOF(old_mangle);
	in.old_filter = old_filter;
	in.n_old_filter = ELEMENTSOF(old_filter);
	build_golden("stale-v4", &in);
}

static void
test_remove(void **state)
{
	static const char *const m[] = { "LDM-OUT", "LDM-POST", "LDM-S4", "LDM-A4",
		                         "LDM-Q4",  "LDM-R4",   "LDM-S4" };
	static const char *const f[] = { "LDM-GUARD" };
	char *text = NULL;

	(void)state;
	assert_int_equal(ldm_ruleset_remove(AF_INET, m, ELEMENTSOF(m), f, 1, true, false, false,
	                                    true, &text),
	                 0);
	golden("remove-v4", text);
	free(text);
	assert_int_equal(
	        ldm_ruleset_remove(AF_INET6, NULL, 0, NULL, 0, false, false, false, false, &text),
	        0);
	golden("remove-nothing-v6", text);
	free(text);
}

static void
test_marks_init(void **state)
{
	static const struct {
		uint32_t mask;
		int rc;
		uint32_t a, r, d, slot_mask;
		unsigned shift, max;
	} cases[] = {
		{ 0x0ff00000, 0, 0x08000000, 0x04000000, 0x02000000, 0x01f00000, 20, 31 },
		{ 0x0000001f, 0, 0x10, 0x08, 0x04, 0x03, 0, 3 },
		{ 0xffffffff, 0, 0x80000000, 0x40000000, 0x20000000, 0x1fffffff, 0, 0x1fffffff },
		{ 0xff000000, 0, 0x80000000, 0x40000000, 0x20000000, 0x1f000000, 24, 31 },
		{ 0x0ff00001, -EINVAL }, /* not contiguous */
		{ 0x0fe10000, -EINVAL }, /* not contiguous */
		{ 0x0000000f, -EINVAL }, /* 4 bits */
		{ 0x80000000, -EINVAL }, /* 1 bit */
		{ 0, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_marks m = { 7, 7, 7, 7, 7, 7, 7 };
		int rc = ldm_marks_init(cases[i].mask, &m);

		if (rc != cases[i].rc)
			fail_msg("0x%08x: got %d, want %d", cases[i].mask, rc, cases[i].rc);
		if (rc < 0) {
			assert_int_equal(m.mask, 7); /* untouched */
			assert_int_equal(m.max_slots, 7);
			continue;
		}
		assert_int_equal(m.mask, cases[i].mask);
		assert_int_equal(m.approved, cases[i].a);
		assert_int_equal(m.reject, cases[i].r);
		assert_int_equal(m.reply, cases[i].d);
		assert_int_equal(m.slot_mask, cases[i].slot_mask);
		assert_int_equal(m.slot_shift, cases[i].shift);
		assert_int_equal(m.max_slots, cases[i].max);
	}
}

static void
test_marks_slot(void **state)
{
	(void)state;
	assert_int_equal(ldm_marks_slot(&marks, 0), 0);
	assert_int_equal(ldm_marks_slot(&marks, 1), 0x00100000);
	assert_int_equal(ldm_marks_slot(&marks, 31), 0x01f00000);
	assert_int_equal(ldm_marks_slot(&marks, 32), 0);
	assert_int_equal(ldm_marks_slot_of(&marks, 0), 0);
	assert_int_equal(ldm_marks_slot_of(&marks, 0x0e300000), 3); /* A, R, D bits ignored */
	assert_int_equal(ldm_marks_slot_of(&marks, 0xf00fffff), 0); /* bits outside the mask */
	for (unsigned s = 1; s <= marks.max_slots; s++)
		assert_int_equal(ldm_marks_slot_of(&marks, ldm_marks_slot(&marks, s)), s);
}

/* Every input the text cannot express is refused whole, and *ret is left alone. */
static void
test_invalid(void **state)
{
	static const struct {
		const char *what, *cgroup, *root, *ifname;
		unsigned slot;
	} cases[] = {
		{ "blank in cgroup", "ldm/s 1", "ldm", "eth0", 1 },
		{ "newline in cgroup", "ldm/s\n-A OUTPUT -j ACCEPT", "ldm", "eth0", 1 },
		{ "quote in cgroup", "ldm/\"s\"", "ldm", "eth0", 1 },
		{ "leading '-' in cgroup", "-ldm/s", "-ldm", "eth0", 1 },
		{ "empty cgroup", "", "ldm", "eth0", 1 },
		{ "cgroup is root", "ldm", "ldm", "eth0", 1 },
		{ "cgroup outside root", "other/s1", "ldm", "eth0", 1 },
		{ "cgroup beside root", "ldm2/s1", "ldm", "eth0", 1 },
		{ "blank in root", "ldm x/s1", "ldm x", "eth0", 1 },
		{ "empty root", "ldm/s1", "", "eth0", 1 },
		{ "blank in ifname", "ldm/s1", "ldm", "eth 0", 1 },
		{ "leading '-' in ifname", "ldm/s1", "ldm", "-eth0", 1 },
		{ "'+' in ifname", "ldm/s1", "ldm", "eth+", 1 },
		{ "slot 0", "ldm/s1", "ldm", "eth0", 0 },
		{ "slot past max", "ldm/s1", "ldm", "eth0", 32 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_rs_session s = { cases[i].slot, 1, cases[i].cgroup, qgc };
		struct ldm_rs_lan l = { .prefix = lan[0].prefix };
		struct ldm_rs_input in = input(AF_INET, &s, 1);
		char *text = (char *)"untouched";
		int rc;

		in.root = cases[i].root;
		memcpy(l.ifname, cases[i].ifname, strlen(cases[i].ifname) + 1);
		in.lan = &l;
		in.n_lan = 1;
		rc = ldm_ruleset_build(&in, &text);
		if (rc != -EINVAL)
			fail_msg("%s: got %d, want -EINVAL", cases[i].what, rc);
		assert_string_equal(text, "untouched");
	}
}

static void
test_invalid_other(void **state)
{
	static const char *const bad_chain[] = { "LDM-S1", "OUTPUT" };
	static const char *const bad_chars[] = { "LDM-S1 -j ACCEPT" };
	static const char *const too_long[] = { "LDM-0123456789012345678901234" };
	struct ldm_rs_session two[2] = { { 1, 1, "ldm/a", NULL }, { 1, 2, "ldm/b", NULL } };
	struct ldm_rs_lan l = { .prefix = lan[0].prefix };
	struct ldm_marks bad_marks = marks;
	struct ldm_rs_input in;
	char *text = NULL;

	(void)state;
	two[0].policy = two[1].policy = qgc;
	in = input(AF_INET, two, 2);
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL); /* slot used twice */
	two[1].policy = NULL;
	two[1].slot = 2;
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL); /* no policy */
	in = input(AF_UNIX, NULL, 0);
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	in = input(AF_INET, NULL, 0);
	bad_marks.max_slots = 63;
	in.marks = &bad_marks;
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	in = input(AF_INET, NULL, 0);
	memset(l.ifname, 'a', sizeof(l.ifname)); /* not terminated */
	in.lan = &l;
	in.n_lan = 1;
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	l = (struct ldm_rs_lan){ .prefix = lan[0].prefix, .kind = LDM_ROUTE_DEFAULT };
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL); /* a default route is /0 */
	l.kind = (enum ldm_route_kind)(LDM_ROUTE_LOCAL + 1);
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	in = input(AF_INET, NULL, 0);
	in.old_mangle = bad_chain;
	in.n_old_mangle = 2;
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	in = input(AF_INET, NULL, 0);
	in.old_filter = bad_chars;
	in.n_old_filter = 1;
	assert_int_equal(ldm_ruleset_build(&in, &text), -EINVAL);
	assert_null(text);
	assert_int_equal(ldm_ruleset_remove(AF_INET, too_long, 1, NULL, 0, 0, 0, 0, 0, &text),
	                 -EINVAL);
	assert_int_equal(ldm_ruleset_remove(AF_INET, NULL, 0, bad_chain, 2, 0, 0, 0, 0, &text),
	                 -EINVAL);
	assert_int_equal(ldm_ruleset_remove(AF_UNIX, NULL, 0, NULL, 0, 0, 0, 0, 0, &text), -EINVAL);
	assert_null(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),         cmocka_unit_test(test_qgc),
		cmocka_unit_test(test_mixed),         cmocka_unit_test(test_two_sessions),
		cmocka_unit_test(test_jumps),         cmocka_unit_test(test_stale),
		cmocka_unit_test(test_remove),        cmocka_unit_test(test_marks_init),
		cmocka_unit_test(test_marks_slot),    cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_other),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
