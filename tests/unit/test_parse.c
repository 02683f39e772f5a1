/* Addresses, prefixes, ports, host names and numbers: every rejection, output untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"

static void
test_port_range(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint16_t lo, hi;
	} cases[] = {
		{ "14550-14560", 0, 14550, 14560 },
		{ "1", 0, 1, 1 },
		{ "65535", 0, 65535, 65535 },
		{ "0", -EINVAL },
		{ "65536", -EINVAL },
		{ " 80", -EINVAL },
		{ "+80", -EINVAL },
		{ "80-", -EINVAL },
		{ "20-10", -ERANGE },
		{ "", -EINVAL },
		{ "8o", -EINVAL },
		{ "-1", -EINVAL },
		{ "99999999999999999999", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_port_range r = { 7, 7 };
		int rc = ldm_parse_port_range(cases[i].in, &r);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].in, rc, cases[i].rc);
		assert_int_equal(r.lo, rc == 0 ? cases[i].lo : 7);
		assert_int_equal(r.hi, rc == 0 ? cases[i].hi : 7);
	}
}

static void
test_port_list(void **state)
{
	struct ldm_port_range r[3];

	(void)state;
	assert_int_equal(ldm_parse_port_list("554,8554", r, 3), 2);
	assert_int_equal(r[1].lo, 8554);
	assert_int_equal(ldm_parse_port_list("1, 2-3, 4", r, 3), 3);
	assert_int_equal(r[1].hi, 3);
	assert_int_equal(ldm_parse_port_list("1,2,3,4", r, 3), -E2BIG);
	assert_int_equal(ldm_parse_port_list("1,,2", r, 3), -EINVAL);
	assert_int_equal(ldm_parse_port_list("1,", r, 3), -EINVAL);
	assert_int_equal(ldm_parse_port_list("1;2", r, 3), -EINVAL);
	assert_int_equal(ldm_parse_port_list("5-4,1", r, 3), -ERANGE);
}

static void
test_prefix(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint8_t family, plen;
		const char *out;
	} cases[] = {
		{ "192.168.144.0/24", 0, AF_INET, 24, "192.168.144.0/24" },
		{ "10.0.0.1", 0, AF_INET, 32, "10.0.0.1" },
		{ "0.0.0.0/0", 0, AF_INET, 0, "0.0.0.0/0" },
		{ "2001:db8::/32", 0, AF_INET6, 32, "2001:db8::/32" },
		{ "::ffff:10.0.0.0/104", 0, AF_INET, 8, "10.0.0.0/8" },
		{ "::ffff:10.0.0.1", 0, AF_INET, 32, "10.0.0.1" },
		{ "::ffff:0:0/95", -EINVAL },
		{ "192.168.1.1/24", -EDOM },
		{ "10.0.0.0/33", -EINVAL },
		{ "10.0.0.0/", -EINVAL },
		{ "10.0.0.0/+8", -EINVAL },
		{ "10.0.0.0/ 8", -EINVAL },
		{ "10.0.0", -EINVAL },
		{ "010.0.0.1", -EINVAL },
		{ "0x0a.0.0.1", -EINVAL },
		{ "fe80::1/10", -EDOM },
		{ "fe80::%eth0", -EINVAL },
		{ "", -EINVAL },
		{ "2001:db8::/129", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_prefix p = { .plen = 99 };
		char buf[64];
		int rc = ldm_prefix_parse(cases[i].in, &p);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc != 0) {
			assert_int_equal(p.plen, 99);
			continue;
		}
		assert_int_equal(p.family, cases[i].family);
		assert_int_equal(p.plen, cases[i].plen);
		assert_int_equal(ldm_prefix_format(&p, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].out);
	}
}

static void
test_contains(void **state)
{
	struct ldm_prefix p;
	uint8_t fam, a[16];

	(void)state;
	assert_int_equal(ldm_prefix_parse("172.16.0.0/12", &p), 0);
	assert_int_equal(ldm_addr_parse("172.31.1.1", &fam, a), 0);
	assert_true(ldm_prefix_contains(&p, fam, a));
	assert_int_equal(ldm_addr_parse("172.32.0.0", &fam, a), 0);
	assert_false(ldm_prefix_contains(&p, fam, a));
	assert_int_equal(ldm_addr_parse("::ffff:172.16.0.1", &fam, a), 0);
	assert_int_equal(fam, AF_INET);
	assert_true(ldm_prefix_contains(&p, fam, a));
	assert_int_equal(ldm_addr_parse("2001:db8::1", &fam, a), 0);
	assert_false(ldm_prefix_contains(&p, fam, a));
}

static void
test_host_names(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} cases[] = {
		{ "Tiles.Example.ORG.", 0, "tiles.example.org" },
		{ "localhost", 0, "localhost" },
		{ "_mavlink._udp.example.org", 0, "_mavlink._udp.example.org" },
		{ "", -EINVAL },
		{ ".", -EINVAL },
		{ "a..b", -EINVAL },
		{ "-a.org", -EINVAL },
		{ "a-.org", -EINVAL },
		{ "a b.org", -EINVAL },
		{ "*.example.org", -EINVAL },
		{ "a.org..", -EINVAL },
		{ "ex\xc3\xa4mple.org", -EINVAL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[LDM_MAX_HOST_LEN + 1];
		int rc = ldm_host_name_normalize(cases[i].in, buf, sizeof(buf));

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == 0)
			assert_string_equal(buf, cases[i].out);
	}
}

static void
test_host_patterns(void **state)
{
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
		{ "*.example.org", "a.example.org", true },
		{ "*.example.org", "a.b.example.org", true },
		{ "*.example.org", "example.org", false },
		{ "*.example.org", "aexample.org", false },
		{ "tiles.example.org", "tiles.example.org", true },
		{ "tiles.example.org", "x.tiles.example.org", false },
	};
	char p[64];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(ldm_host_match(cases[i].pattern, cases[i].name), cases[i].match);
	(void)ldm_strscpy(p, sizeof(p), "*.Example.Org.");
	assert_int_equal(ldm_host_pattern_normalize(p), 0);
	assert_string_equal(p, "*.example.org");
	(void)ldm_strscpy(p, sizeof(p), "*.org");
	assert_int_equal(ldm_host_pattern_normalize(p), -EINVAL);
	(void)ldm_strscpy(p, sizeof(p), "a.*.org");
	assert_int_equal(ldm_host_pattern_normalize(p), -EINVAL);
	(void)ldm_strscpy(p, sizeof(p), "*example.org");
	assert_int_equal(ldm_host_pattern_normalize(p), -EINVAL);
}

static void
test_numbers(void **state)
{
	uint16_t v16 = 7;
	uint32_t v32 = 7;

	(void)state;
	assert_int_equal(ldm_parse_u16("65535", &v16), 0);
	assert_int_equal(v16, 65535);
	assert_int_equal(ldm_parse_u16("65536", &v16), -ERANGE);
	assert_int_equal(ldm_parse_u16("-1", &v16), -EINVAL);
	assert_int_equal(ldm_parse_u16(" 1", &v16), -EINVAL);
	assert_int_equal(ldm_parse_u16("1x", &v16), -EINVAL);
	assert_int_equal(ldm_parse_u16("", &v16), -EINVAL);
	assert_int_equal(v16, 65535);
	assert_int_equal(ldm_parse_u32("4294967296", &v32), -ERANGE);
	assert_int_equal(ldm_parse_u32("99999999999999999999999", &v32), -ERANGE);
	assert_int_equal(v32, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_range), cmocka_unit_test(test_port_list),
		cmocka_unit_test(test_prefix),     cmocka_unit_test(test_contains),
		cmocka_unit_test(test_host_names), cmocka_unit_test(test_host_patterns),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
