/* Unit tests of the pure part of enforcer/lan.c: --lan lists and route filtering. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/lan.h"
#include "ldm/util.h"

static void
format_entries(const struct ldm_lan_entry *v, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char p[64];

		assert_int_equal(ldm_prefix_format(&v[i].prefix, p, sizeof(p)), 0);
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i > 0 ? " " : "", p);
		assert_true(off < size);
	}
}

static void
test_parse_cidrs(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *out; /* the entries after success */
		size_t bad;      /* offset of the offending item after failure */
	} cases[] = {
		{ "192.168.144.0/24", 0, "192.168.144.0/24" },
		{ "192.168.144.0/24,fd00:1::/64", 0, "192.168.144.0/24 fd00:1::/64" },
		{ "10.0.0.0/8, 10.0.0.0/8", 0, "10.0.0.0/8" },
		{ "192.168.144.10", 0, "192.168.144.10" },
		{ "::ffff:10.1.0.0/112", 0, "10.1.0.0/16" },
		{ "", -EINVAL, NULL, 0 },
		{ "10.0.0.0/8,", -EINVAL, NULL, 11 },
		{ ",10.0.0.0/8", -EINVAL, NULL, 0 },
		{ "10.0.0.0/8,,", -EINVAL, NULL, 11 },
		{ " 10.0.0.0/8", -EINVAL, NULL, 0 },
		{ "10.0.0.0/33", -EINVAL, NULL, 0 },
		{ "10.0.0.0/8,300.1.1.0/24", -EINVAL, NULL, 11 },
		{ "192.168.144.7/24", -EDOM, NULL, 0 },
		{ "lan", -EINVAL, NULL, 0 },
		{ "10.0.0.0/8x", -EINVAL, NULL, 0 },
		{ "fd00::/129", -EINVAL, NULL, 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", -EINVAL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_lan_entry *v = NULL;
		const char *bad = NULL;
		size_t n = 0;
		char out[256];
		int rc = ldm_lan_parse_cidrs(cases[i].in, &v, &n, &bad);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == 0) {
			format_entries(v, n, out, sizeof(out));
			assert_string_equal(out, cases[i].out);
			for (size_t j = 0; j < n; j++)
				assert_int_equal(v[j].ifindex, 0);
		} else {
			assert_null(v);
			assert_int_equal(n, 0);
			assert_ptr_equal(bad, cases[i].in + cases[i].bad);
		}
		free(v);
	}
}

/* A failing list leaves what earlier --lan options gave as it was; lists accumulate. */
static void
test_parse_cidrs_append(void **state)
{
	struct ldm_lan_entry *v = NULL;
	size_t n = 0;
	char out[256];

	(void)state;
	assert_int_equal(ldm_lan_parse_cidrs("192.168.144.0/24", &v, &n, NULL), 0);
	assert_int_equal(ldm_lan_parse_cidrs("fd00::/8,bogus", &v, &n, NULL), -EINVAL);
	assert_int_equal(n, 1);
	assert_int_equal(ldm_lan_parse_cidrs("fd00::/8,192.168.144.0/24", &v, &n, NULL), 0);
	format_entries(v, n, out, sizeof(out));
	assert_string_equal(out, "192.168.144.0/24 fd00::/8");
	free(v);
}

static void
test_cap(void **state)
{
	struct ldm_lan_entry *v = NULL;
	size_t n = 0;
	char item[32];

	(void)state;
	for (unsigned i = 0; i < LDM_MAX_LAN_ENTRIES; i++) {
		snprintf(item, sizeof(item), "10.%u.%u.0/24", i / 256, i % 256);
		assert_int_equal(ldm_lan_parse_cidrs(item, &v, &n, NULL), 0);
	}
	assert_int_equal(n, LDM_MAX_LAN_ENTRIES);
	assert_int_equal(ldm_lan_parse_cidrs("10.0.0.0/24", &v, &n, NULL), 0); /* a repeat */
	assert_int_equal(ldm_lan_parse_cidrs("172.16.0.0/12", &v, &n, NULL), -E2BIG);
	assert_int_equal(n, LDM_MAX_LAN_ENTRIES);
	free(v);
}

/* Route message fields; zero values are left out of the message. */
struct route {
	uint8_t family, dst_len, type, scope, table;
	const char *dst, *gateway;
	uint32_t oif, table_attr, nh_id;
	size_t dst_bytes; /* RTA_DST payload size if not the family's */
};

static struct nlmsghdr *
build_route(char *buf, const struct route *rt)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint8_t a[16] = { 0 };
	size_t alen = rt->family == AF_INET ? 4 : 16;

	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm->rtm_family = rt->family;
	rtm->rtm_dst_len = rt->dst_len;
	rtm->rtm_type = rt->type;
	rtm->rtm_scope = rt->scope;
	rtm->rtm_table = rt->table;
	if (rt->dst != NULL) {
		assert_int_equal(inet_pton(rt->family, rt->dst, a), 1);
		mnl_attr_put(nlh, RTA_DST, rt->dst_bytes != 0 ? rt->dst_bytes : alen, a);
	}
	if (rt->gateway != NULL) {
		assert_int_equal(inet_pton(rt->family, rt->gateway, a), 1);
		mnl_attr_put(nlh, RTA_GATEWAY, alen, a);
	}
	if (rt->oif != 0)
		mnl_attr_put_u32(nlh, RTA_OIF, rt->oif);
	if (rt->table_attr != 0)
		mnl_attr_put_u32(nlh, RTA_TABLE, rt->table_attr);
	if (rt->nh_id != 0)
		mnl_attr_put_u32(nlh, RTA_NH_ID, rt->nh_id);
	return nlh;
}

#define V4 AF_INET, 24, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_MAIN
#define V6 AF_INET6, 64, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN

/* Which routes make the LAN: on-link unicast routes of the main table only. */
static const struct {
	struct route rt;
	int rc;
	const char *out;
	enum ldm_route_kind kind;
} route_cases[] = {
	{ { V4, "192.168.144.0", NULL, 3 }, 1, "192.168.144.0/24" },
	{ { V6, "fd00:1::", NULL, 3 }, 1, "fd00:1::/64" },
	{ { V6, "fe80::", NULL, 3 }, 1, "fe80::/64" },
	{ { V4, "192.168.144.0", NULL, 3, RT_TABLE_MAIN }, 1, "192.168.144.0/24" },
	/* Host bits the kernel should never send are cleared, not trusted. */
	{ { V4, "192.168.144.9", NULL, 3 }, 1, "192.168.144.0/24" },
	/* Via a gateway: routed, never lan. */
	{ { V4, "10.0.0.0", "192.168.144.1", 3 }, 1, "10.0.0.0/24", LDM_ROUTE_VIA },
	{ { V6, "2001:db8::", "fe80::1", 3 }, 1, "2001:db8::/64", LDM_ROUTE_VIA },
	{ { V4, "10.0.0.0", "192.168.144.1", 1 }, 0 }, /* through lo */
	{ { V4, "10.0.0.0", "192.168.144.1", 0 }, 0 }, /* no interface */
	/* Default routes (an uplink), with a gateway or not; not through lo or no device. */
	{ { AF_INET, 0, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_MAIN, NULL, NULL, 3 },
	  1,
	  "0.0.0.0/0",
	  LDM_ROUTE_DEFAULT },
	{ { AF_INET, 0, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, NULL, "10.77.0.1", 4 },
	  1,
	  "0.0.0.0/0",
	  LDM_ROUTE_DEFAULT },
	{ { AF_INET6, 0, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, NULL, "fe80::1", 4 },
	  1,
	  "::/0",
	  LDM_ROUTE_DEFAULT },
	{ { AF_INET, 0, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, NULL, "10.77.0.1", 1 }, 0 },
	{ { AF_INET, 0, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, NULL, "10.77.0.1", 0 }, 0 },
	{ { AF_INET, 0, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_COMPAT, NULL, "10.77.0.1", 4,
	    1000 },
	  0 }, /* another table's default */
	/* This machine's own addresses: local routes of the local table, full length. */
	{ { AF_INET, 32, RTN_LOCAL, RT_SCOPE_HOST, RT_TABLE_LOCAL, "192.168.144.1", NULL, 3 },
	  1,
	  "192.168.144.1",
	  LDM_ROUTE_LOCAL },
	{ { AF_INET6, 128, RTN_LOCAL, RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, "2001:db8:144::1", NULL,
	    3 },
	  1,
	  "2001:db8:144::1",
	  LDM_ROUTE_LOCAL },
	{ { AF_INET, 32, RTN_LOCAL, RT_SCOPE_HOST, RT_TABLE_LOCAL, "127.0.0.1", NULL, 1 }, 0 },
	{ { AF_INET, 24, RTN_LOCAL, RT_SCOPE_HOST, RT_TABLE_LOCAL, "192.168.144.0", NULL, 3 }, 0 },
	{ { AF_INET, 32, RTN_BROADCAST, RT_SCOPE_LINK, RT_TABLE_LOCAL, "192.168.144.255", NULL, 3 },
	  0 },
	{ { AF_INET, 24, RTN_LOCAL, RT_SCOPE_HOST, RT_TABLE_MAIN, "192.168.144.0", NULL, 3 }, 0 },
	{ { AF_INET, 24, RTN_BROADCAST, RT_SCOPE_LINK, RT_TABLE_MAIN, "192.168.144.0", NULL, 3 },
	  0 },
	{ { AF_INET, 24, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_LOCAL, "192.168.144.0", NULL, 3 },
	  0 },
	{ { AF_INET, 24, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_COMPAT, "192.168.144.0", NULL, 3,
	    1000 },
	  0 }, /* table 1000 */
	{ { AF_INET, 24, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, "192.168.144.0", NULL, 3 },
	  0 },                                   /* v4 needs link scope */
	{ { V4, "192.168.144.0", NULL, 0 }, 0 }, /* no interface */
	{ { V4, "192.168.144.0", NULL, 1 }, 0 }, /* the loopback device */
	{ { AF_INET, 8, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_MAIN, "127.0.0.0", NULL, 3 }, 0 },
	{ { AF_INET6, 128, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, "::1", NULL, 3 }, 0 },
	{ { V6, "fd00:1::", NULL, 3, 0, 7 }, 0 }, /* a nexthop object */
	{ { AF_INET, 24, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_MAIN, NULL, NULL, 3 }, 0 },
	/* Malformed: attribute sizes and prefix lengths are checked. */
	{ { V4, "192.168.144.0", NULL, 3, 0, 0, 3 }, -EINVAL },
	{ { V6, "fd00:1::", NULL, 3, 0, 0, 4 }, -EINVAL },
	{ { AF_INET, 33, RTN_UNICAST, RT_SCOPE_LINK, RT_TABLE_MAIN, "10.0.0.0", NULL, 3 },
	  -EINVAL },
	{ { AF_INET6, 129, RTN_UNICAST, 0, RT_TABLE_MAIN, "fd00::", NULL, 3 }, -EINVAL },
	/* Another family is not ours to judge. */
	{ { AF_BRIDGE, 0, RTN_UNICAST, 0, RT_TABLE_MAIN }, 0 },
};

static void
test_route_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(route_cases); i++) {
		char buf[512] __attribute__((aligned(NLMSG_ALIGNTO))) = { 0 };
		struct ldm_lan_entry e = { .ifindex = 77 };
		const struct nlmsghdr *nlh = build_route(buf, &route_cases[i].rt);
		int rc = ldm_lan_route_parse(nlh, 1, &e);
		char out[64];

		if (rc != route_cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, route_cases[i].rc);
		if (rc == 1) {
			assert_int_equal(ldm_prefix_format(&e.prefix, out, sizeof(out)), 0);
			assert_string_equal(out, route_cases[i].out);
			assert_int_equal(e.kind, route_cases[i].kind);
			if (e.kind != LDM_ROUTE_LOCAL)
				assert_int_equal(e.ifindex, (int)route_cases[i].rt.oif);
		} else {
			assert_int_equal(e.ifindex, 77);
		}
	}
}

/* A message too short for its header, an attribute running past the end, a wrong u32. */
static void
test_route_truncated(void **state)
{
	char buf[512] __attribute__((aligned(NLMSG_ALIGNTO))) = { 0 };
	struct route rt = { V4, "192.168.144.0", NULL, 3 };
	struct ldm_lan_entry e;
	struct nlmsghdr *nlh;
	struct nlattr *attr;

	(void)state;
	nlh = build_route(buf, &rt);
	nlh->nlmsg_len = mnl_nlmsg_size(sizeof(struct rtmsg) - 1);
	assert_int_equal(ldm_lan_route_parse(nlh, 1, &e), -EINVAL);

	nlh = build_route(buf, &rt);
	attr = (struct nlattr *)((char *)nlh + mnl_nlmsg_size(sizeof(struct rtmsg)));
	attr->nla_len = 200; /* RTA_DST claims more than the message holds */
	assert_int_equal(ldm_lan_route_parse(nlh, 1, &e), 0);

	memset(buf, 0, sizeof(buf));
	nlh = build_route(buf, &(struct route){ V4, "192.168.144.0" });
	mnl_attr_put_u16(nlh, RTA_OIF, 3);
	assert_int_equal(ldm_lan_route_parse(nlh, 1, &e), -EINVAL);

	nlh->nlmsg_type = RTM_DELROUTE;
	assert_int_equal(ldm_lan_route_parse(nlh, 1, &e), -EINVAL);
}

static void
test_ifindex(void **state)
{
	static const char *const items[] = { "192.168.0.0/16", "192.168.144.0/24", "fd00::/8" };
	struct ldm_lan_entry v[3];
	uint8_t fam, a[16];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(items); i++) {
		assert_int_equal(ldm_prefix_parse(items[i], &v[i].prefix), 0);
		v[i].ifindex = (int)i + 2;
		v[i].kind = LDM_ROUTE_LINK;
	}
	assert_int_equal(ldm_addr_parse("192.168.144.10", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, 3, fam, a), 3);
	assert_int_equal(ldm_addr_parse("192.168.1.10", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, 3, fam, a), 2);
	assert_int_equal(ldm_addr_parse("fd00::1", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, 3, fam, a), 4);
	assert_int_equal(ldm_addr_parse("10.0.0.1", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, 3, fam, a), 0);
}

/* Uplinks: the default routes' interfaces, or the ones named; only on-link entries change. */
static void
test_mark_uplinks(void **state)
{
	static const struct {
		const char *prefix;
		int ifindex;
		enum ldm_route_kind kind;
	} items[] = {
		{ "192.168.144.0/24", 3, LDM_ROUTE_LINK }, { "10.77.0.0/24", 4, LDM_ROUTE_LINK },
		{ "0.0.0.0/0", 4, LDM_ROUTE_DEFAULT },     { "10.77.0.2/32", 0, LDM_ROUTE_LOCAL },
		{ "192.168.0.0/24", 5, LDM_ROUTE_UPLINK },
	};
	struct ldm_lan_entry v[ELEMENTSOF(items)];
	const int named[] = { 3 };
	uint8_t fam, a[16];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(items); i++) {
		assert_int_equal(ldm_prefix_parse(items[i].prefix, &v[i].prefix), 0);
		v[i].ifindex = items[i].ifindex;
		v[i].kind = items[i].kind;
	}
	ldm_lan_mark_uplinks(v, ELEMENTSOF(v), NULL, 0);
	assert_int_equal(v[0].kind, LDM_ROUTE_LINK);
	assert_int_equal(v[1].kind, LDM_ROUTE_UPLINK); /* on the default route's interface */
	assert_int_equal(v[2].kind, LDM_ROUTE_DEFAULT);
	assert_int_equal(v[3].kind, LDM_ROUTE_LOCAL);
	assert_int_equal(v[4].kind, LDM_ROUTE_LINK); /* no default route through 5 */
	/* Named (the Herelink case: the radio's interface hands out a default route). */
	ldm_lan_mark_uplinks(v, ELEMENTSOF(v), named, 1);
	assert_int_equal(v[0].kind, LDM_ROUTE_UPLINK);
	assert_int_equal(v[1].kind, LDM_ROUTE_LINK);
	assert_int_equal(v[4].kind, LDM_ROUTE_LINK);
	ldm_lan_mark_uplinks(v, ELEMENTSOF(v), named, 0); /* uplink = [ ]: none */
	assert_int_equal(v[0].kind, LDM_ROUTE_LINK);
	assert_int_equal(v[2].kind, LDM_ROUTE_DEFAULT);
	/* The kernel's choice: the longest route, the default one last, never a local entry. */
	assert_int_equal(ldm_addr_parse("198.51.100.7", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, ELEMENTSOF(v), fam, a), 4);
	assert_int_equal(ldm_addr_parse("192.168.144.9", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, ELEMENTSOF(v), fam, a), 3);
	assert_int_equal(ldm_addr_parse("10.77.0.2", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, ELEMENTSOF(v), fam, a), 4);
	assert_int_equal(ldm_addr_parse("fd00::1", &fam, a), 0);
	assert_int_equal(ldm_lan_ifindex(v, ELEMENTSOF(v), fam, a), 0); /* no IPv6 route */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_uplinks),
		cmocka_unit_test(test_parse_cidrs),
		cmocka_unit_test(test_parse_cidrs_append),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_route_parse),
		cmocka_unit_test(test_route_truncated),
		cmocka_unit_test(test_ifindex),
	};

	return cmocka_run_group_tests_name("lan", tests, NULL, NULL);
}
