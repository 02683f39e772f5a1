/* The name table: add/lookup, several names, expiry, TTL clamps, sessions, eviction. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "nametab.h"

#define S 1000u /* ms */

/* Address N: 198.51.100.N for IPv4, 2001:db8::N for IPv6. */
static const uint8_t *
addr(uint8_t family, unsigned n)
{
	static uint8_t a[16];

	memset(a, 0, sizeof(a));
	if (family == AF_INET) {
		a[0] = 198, a[1] = 51, a[2] = 100, a[3] = (uint8_t)n;
		memset(a + 4, 0xee, 12); /* ignored for IPv4 */
	} else {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		a[14] = (uint8_t)(n >> 8), a[15] = (uint8_t)n;
	}
	return a;
}

/* The names of (SESSION, ADDR) at NOW, joined by ',' (newest first); "" for none. */
static const char *
names(struct ldm_nametab *t, uint64_t session, uint8_t family, unsigned n, uint64_t now)
{
	static char buf[4096];
	const char *v[LDM_NAMETAB_MAX_NAMES];
	size_t pos = 0;
	int r = ldm_nametab_lookup(t, session, family, addr(family, n), now, v, ELEMENTSOF(v));

	assert_true(r >= 0);
	buf[0] = '\0';
	for (int i = 0; i < r; i++)
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%s", i ? "," : "", v[i]);
	return buf;
}

static void
add(struct ldm_nametab *t, uint64_t session, uint8_t family, unsigned n, const char *name,
    uint32_t ttl, uint64_t now)
{
	assert_true(ldm_nametab_add(t, session, family, addr(family, n), name, ttl, now) >= 0);
}

static void
test_add_lookup(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(64);
	struct ldm_nametab_stats st;
	uint8_t v4[16] = { 198, 51, 100, 1 };
	const char *v[2];

	(void)state;
	assert_non_null(t);
	assert_int_equal(ldm_nametab_set_seed(t, 42), 0);
	assert_string_equal(names(t, 1, AF_INET, 1, 0), "");
	add(t, 1, AF_INET, 1, "tiles.example.org", 300, 0);
	assert_int_equal(ldm_nametab_set_seed(t, 43), -EBUSY);
	assert_string_equal(names(t, 1, AF_INET, 1, 0), "tiles.example.org");
	/* IPv4 ignores bytes 4..15; the same bytes as IPv6 are another address. */
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_INET, v4, 0, v, 2), 1);
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_INET6, v4, 0, v, 2), 0);
	assert_string_equal(names(t, 1, AF_INET, 2, 0), "");

	/* A CDN address serving two allowed names: both come back, the one resolved most
	 * recently first. A new entry is 1 (the daemon writes a `resolved` record), a
	 * refresh 0. */
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, v4, "caster.rtk.example", 300, 1), 1);
	assert_string_equal(names(t, 1, AF_INET, 1, 1), "caster.rtk.example,tiles.example.org");
	/* A refresh, not a third entry; it comes first again. */
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, v4, "tiles.example.org", 300, 2), 0);
	assert_string_equal(names(t, 1, AF_INET, 1, 3), "tiles.example.org,caster.rtk.example");
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_INET, v4, 3, v, 1), 1);
	assert_string_equal(v[0], "tiles.example.org");

	add(t, 1, AF_INET6, 1, "tiles.example.org", 300, 0);
	assert_string_equal(names(t, 1, AF_INET6, 1, 0), "tiles.example.org");

	ldm_nametab_stats(t, &st);
	assert_int_equal(st.size, 3);
	assert_int_equal(st.adds, 3);
	assert_int_equal(st.refreshes, 1);
	assert_int_equal(st.capacity, 64);
	assert_int_equal(st.evictions, 0);
}

static void
test_invalid(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(16);
	char big[LDM_MAX_HOST_LEN + 2];
	const char *v[1];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, addr(AF_INET, 1), "", 60, 0), -EINVAL);
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, addr(AF_INET, 1), big, 60, 0), -EINVAL);
	big[LDM_MAX_HOST_LEN] = '\0';
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, addr(AF_INET, 1), big, 60, 0), 1);
	assert_int_equal(ldm_nametab_add(t, 1, AF_UNIX, addr(AF_INET, 1), "a.b", 60, 0),
	                 -EAFNOSUPPORT);
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_UNIX, addr(AF_INET, 1), 0, v, 1),
	                 -EAFNOSUPPORT);
}

/* TTLs are clamped to [10 s, 3600 s]; an entry lives while now < added + TTL. */
static void
test_ttl(void **state)
{
	static const struct {
		uint32_t ttl;
		uint64_t lives_ms; /* expected lifetime */
	} cases[] = {
		{ 0, 10 * S },      { 9, 10 * S },      { 10, 10 * S },           { 300, 300 * S },
		{ 3600, 3600 * S }, { 3601, 3600 * S }, { UINT32_MAX, 3600 * S },
	};
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(64);
	struct ldm_nametab_stats st;
	const uint64_t now = 5 * S;

	(void)state;
	for (unsigned i = 0; i < ELEMENTSOF(cases); i++)
		add(t, 1, AF_INET, i, "a.example", cases[i].ttl, now);
	for (unsigned i = 0; i < ELEMENTSOF(cases); i++) {
		if (strcmp(names(t, 1, AF_INET, i, now + cases[i].lives_ms - 1), "a.example") != 0)
			fail_msg("ttl %u: gone too early", cases[i].ttl);
		if (strcmp(names(t, 1, AF_INET, i, now + cases[i].lives_ms), "") != 0)
			fail_msg("ttl %u: lives too long", cases[i].ttl);
	}
	ldm_nametab_stats(t, &st);
	assert_int_equal(st.expired, ELEMENTSOF(cases));
	assert_int_equal(st.size, 0);
	assert_int_equal(st.evictions, 0);

	/* A refresh keeps the later expiry, whichever comes first. */
	add(t, 1, AF_INET, 1, "a.example", 300, 0);
	add(t, 1, AF_INET, 1, "a.example", 20, 1 * S);
	assert_string_equal(names(t, 1, AF_INET, 1, 299 * S), "a.example");
	add(t, 1, AF_INET, 1, "a.example", 600, 299 * S);
	assert_string_equal(names(t, 1, AF_INET, 1, 898 * S), "a.example");
	assert_string_equal(names(t, 1, AF_INET, 1, 899 * S), "");
}

/* A name resolved in one session maps nothing in another, whatever it resolved itself. */
static void
test_sessions(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(64);

	(void)state;
	add(t, 1, AF_INET, 7, "tiles.example.org", 300, 0);
	add(t, 2, AF_INET, 7, "video.cdn.example", 300, 0);
	assert_string_equal(names(t, 1, AF_INET, 7, 0), "tiles.example.org");
	assert_string_equal(names(t, 2, AF_INET, 7, 0), "video.cdn.example");
	assert_string_equal(names(t, 3, AF_INET, 7, 0), "");
	add(t, 1, AF_INET, 8, "x.example", 300, 0);
	add(t, 2, AF_INET6, 7, "y.example", 300, 0);

	assert_int_equal(ldm_nametab_forget_session(t, 1), 2);
	assert_int_equal(ldm_nametab_forget_session(t, 1), 0);
	assert_string_equal(names(t, 1, AF_INET, 7, 0), "");
	assert_string_equal(names(t, 1, AF_INET, 8, 0), "");
	assert_string_equal(names(t, 2, AF_INET, 7, 0), "video.cdn.example");
	assert_string_equal(names(t, 2, AF_INET6, 7, 0), "y.example");
}

/* A full table drops, of its 8 oldest entries, the one that expires first; and counts it. */
static void
test_eviction(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(16);
	struct ldm_nametab_stats st;

	(void)state;
	assert_int_equal(ldm_nametab_set_seed(t, 0x5eed), 0);
	/* Entry 3 expires first (10 s), entry 12 even sooner but is not among the oldest 8. */
	for (unsigned i = 0; i < 16; i++)
		add(t, 1, AF_INET, i, "a.example", i == 3 ? 10 : i == 12 ? 0 : 600, 0);
	add(t, 1, AF_INET, 100, "a.example", 600, 1 * S);
	assert_string_equal(names(t, 1, AF_INET, 3, 1 * S), "");
	assert_string_equal(names(t, 1, AF_INET, 12, 1 * S), "a.example");
	assert_string_equal(names(t, 1, AF_INET, 100, 1 * S), "a.example");
	ldm_nametab_stats(t, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.size, 16);

	/* All equal: the oldest goes. */
	add(t, 1, AF_INET, 101, "a.example", 600, 2 * S);
	assert_string_equal(names(t, 1, AF_INET, 0, 2 * S), "");
	ldm_nametab_stats(t, &st);
	assert_int_equal(st.evictions, 2);

	/* An expired entry a lookup meets is reclaimed; its room needs no eviction. */
	assert_string_equal(names(t, 1, AF_INET, 12, 20 * S), "");
	add(t, 1, AF_INET, 102, "a.example", 600, 20 * S);
	ldm_nametab_stats(t, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.size, 16);
	assert_string_equal(names(t, 1, AF_INET, 1, 20 * S), "a.example");
}

/* At most LDM_NAMETAB_MAX_NAMES names per address: the one expiring first makes room. */
static void
test_names_cap(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(256);
	const char *v[LDM_NAMETAB_MAX_NAMES + 1];
	char name[32];

	(void)state;
	for (unsigned i = 0; i <= LDM_NAMETAB_MAX_NAMES; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		add(t, 1, AF_INET, 1, name, i == 5 ? 100 : 600, 0);
	}
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_INET, addr(AF_INET, 1), 0, v, ELEMENTSOF(v)),
	                 LDM_NAMETAB_MAX_NAMES);
	for (unsigned i = 0; i < LDM_NAMETAB_MAX_NAMES; i++)
		assert_string_not_equal(v[i], "n5.example");
	assert_string_equal(v[0], "n16.example");
	/* The name that made room is new again when it comes back (a new `resolved` record);
	 * the one expiring first (n0, added first of the 600 s ones) goes now. */
	assert_int_equal(ldm_nametab_add(t, 1, AF_INET, addr(AF_INET, 1), "n5.example", 600, 1), 1);
	assert_int_equal(ldm_nametab_lookup(t, 1, AF_INET, addr(AF_INET, 1), 1, v, ELEMENTSOF(v)),
	                 LDM_NAMETAB_MAX_NAMES);
	assert_string_equal(v[0], "n5.example");
	for (unsigned i = 0; i < LDM_NAMETAB_MAX_NAMES; i++)
		assert_string_not_equal(v[i], "n0.example");
}

/* Many names per address, in many sessions: each session keeps its own full set. */
static void
test_many_names(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(1024);
	const char *v[LDM_NAMETAB_MAX_NAMES];
	char name[32];

	(void)state;
	for (uint64_t s = 1; s <= 4; s++)
		for (unsigned i = 0; i < LDM_NAMETAB_MAX_NAMES; i++) {
			snprintf(name, sizeof(name), "s%" PRIu64 "-n%u.example", s, i);
			assert_int_equal(
			        ldm_nametab_add(t, s, AF_INET6, addr(AF_INET6, 9), name, 600, i),
			        1);
		}
	for (uint64_t s = 1; s <= 4; s++) {
		int n = ldm_nametab_lookup(t, s, AF_INET6, addr(AF_INET6, 9), 100, v,
		                           ELEMENTSOF(v));

		assert_int_equal(n, LDM_NAMETAB_MAX_NAMES);
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "s%" PRIu64 "-n%d.example", s,
			         LDM_NAMETAB_MAX_NAMES - 1 - i);
			assert_string_equal(v[i], name);
		}
	}
}

/* Colliding addresses: a chain holds at most LDM_NAMETAB_MAX_CHAIN entries, oldest go. */
static void
test_chain_cap(void **state)
{
	_cleanup_(ldm_nametab_freep) struct ldm_nametab *t = ldm_nametab_new(1024);
	unsigned same[LDM_NAMETAB_MAX_CHAIN + 8], n = 0;
	struct ldm_nametab_stats st;
	uint32_t b = ldm_nametab_bucket(t, 1, AF_INET6, addr(AF_INET6, 0));

	(void)state;
	for (unsigned i = 0; i < 65536 && n < ELEMENTSOF(same); i++)
		if (ldm_nametab_bucket(t, 1, AF_INET6, addr(AF_INET6, i)) == b)
			same[n++] = i;
	assert_int_equal(n, ELEMENTSOF(same));
	for (unsigned i = 0; i < n; i++)
		add(t, 1, AF_INET6, same[i], "c.example", 600, 0);
	ldm_nametab_stats(t, &st);
	assert_int_equal(st.size, LDM_NAMETAB_MAX_CHAIN);
	assert_int_equal(st.evictions, 8);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(names(t, 1, AF_INET6, same[i], 0), i < 8 ? "" : "c.example");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_lookup), cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_ttl),        cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_eviction),   cmocka_unit_test(test_names_cap),
		cmocka_unit_test(test_chain_cap),  cmocka_unit_test(test_many_names),
	};

	return cmocka_run_group_tests_name("nametab", tests, NULL, NULL);
}
