/* The flow table: hits, replacement, expiry, eviction at capacity and per chain, sessions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "flowtab.h"
#include "ldm/util.h"

#define TTL 1000u

/* Key number N of SESSION: a UDP flow from local port 10000 + N. */
static struct ldm_flowkey
key(uint64_t session, unsigned n)
{
	struct ldm_flowkey k;

	memset(&k, 0, sizeof(k));
	k.session = session;
	k.family = AF_INET;
	k.l4proto = 17;
	k.sport = (uint16_t)(10000 + n);
	k.dport = 53;
	k.src[0] = 10, k.src[3] = 2;
	k.dst[0] = 192, k.dst[1] = 168, k.dst[3] = 1;
	return k;
}

static struct ldm_flowval
val(unsigned rule)
{
	struct ldm_flowval v = { LDM_FLOW_BLOCK, rule, rule * 3 };

	return v;
}

static bool
has(struct ldm_flowtab *t, const struct ldm_flowkey *k, uint64_t now, unsigned rule)
{
	struct ldm_flowval v;

	if (ldm_flowtab_lookup(t, k, now, &v) < 0)
		return false;
	assert_int_equal(v.rule, rule);
	assert_int_equal(v.tag, rule * 3);
	return true;
}

static void
test_insert_lookup(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(100);
	struct ldm_flowkey k = key(1, 0), k2 = key(1, 1);
	struct ldm_flowval v = { LDM_FLOW_WOULD_BLOCK, 7, 0xdeadbeef }, got;
	struct ldm_flowtab_stats st;

	(void)state;
	assert_non_null(t);
	assert_int_equal(ldm_flowtab_lookup(t, &k, 0, &got), -ENOENT);
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 0, TTL), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(ldm_flowtab_lookup(t, &k, 0, &got), 0);
	assert_int_equal(got.verdict, LDM_FLOW_WOULD_BLOCK);
	assert_int_equal(got.rule, 7);
	assert_int_equal(got.tag, 0xdeadbeef);
	assert_int_equal(ldm_flowtab_lookup(t, &k, 1, NULL), 0);
	assert_int_equal(ldm_flowtab_lookup(t, &k2, 1, NULL), -ENOENT);

	/* Replacing keeps one entry and returns the new value. */
	v = val(9);
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 2, TTL), 0);
	assert_true(has(t, &k, 3, 9));
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 2, 0), -EINVAL);

	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.capacity, 128);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.evictions, 0);
}

static void
test_expiry(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(16);
	struct ldm_flowkey k = key(1, 0);
	struct ldm_flowval v = val(1);
	struct ldm_flowtab_stats st;

	(void)state;
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 1000, 100), 0);
	assert_true(has(t, &k, 1099, 1));
	assert_false(has(t, &k, 1100, 1));
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.expired, 1);

	/* A replacement restarts the TTL; a TTL past the clock's end saturates. */
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 1000, 100), 0);
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, 1050, 100), 0);
	assert_true(has(t, &k, 1149, 1));
	assert_int_equal(ldm_flowtab_insert(t, &k, &v, UINT64_MAX - 5, 100), 0);
	assert_true(has(t, &k, UINT64_MAX - 1, 1));
}

static void
test_capacity(void **state)
{
	static const struct {
		size_t in, cap;
	} cases[] = {
		{ 0, 16 },
		{ 1, 16 },
		{ 16, 16 },
		{ 17, 32 },
		{ 1000, 1024 },
		{ 1024, 1024 },
		{ (size_t)LDM_FLOWTAB_MAX_CAPACITY + 1, LDM_FLOWTAB_MAX_CAPACITY },
		{ SIZE_MAX, LDM_FLOWTAB_MAX_CAPACITY },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_flowtab *t = ldm_flowtab_new(cases[i].in);
		struct ldm_flowtab_stats st;

		assert_non_null(t);
		ldm_flowtab_stats(t, &st);
		if (st.capacity != cases[i].cap)
			fail_msg("capacity %zu: got %zu, want %zu", cases[i].in, st.capacity,
			         cases[i].cap);
		assert_null(ldm_flowtab_free(t));
	}
	assert_null(ldm_flowtab_free(NULL));
}

/* A full table drops its oldest entry: evicted if live, reclaimed if expired. */
static void
test_eviction(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(16);
	struct ldm_flowkey k0 = key(1, 0), k1 = key(1, 1), k2 = key(1, 2);
	struct ldm_flowkey k16 = key(1, 16), k17 = key(1, 17);
	struct ldm_flowval v;
	struct ldm_flowtab_stats st;

	(void)state;
	for (unsigned i = 0; i < 16; i++) {
		struct ldm_flowkey k = key(1, i);

		v = val(i);
		assert_int_equal(ldm_flowtab_insert(t, &k, &v, i, i == 1 ? 5 : TTL), 0);
	}
	/* Key 0 is refreshed: key 1 becomes the oldest; it expired at 6. */
	v = val(0);
	assert_int_equal(ldm_flowtab_insert(t, &k0, &v, 20, TTL), 0);
	v = val(16);
	assert_int_equal(ldm_flowtab_insert(t, &k16, &v, 20, TTL), 0);
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 16);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.evictions, 0);
	assert_false(has(t, &k1, 20, 1));

	v = val(17);
	assert_int_equal(ldm_flowtab_insert(t, &k17, &v, 21, TTL), 0);
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 16);
	assert_int_equal(st.evictions, 1);
	assert_false(has(t, &k2, 21, 2));
	assert_true(has(t, &k0, 21, 0));
	assert_true(has(t, &k16, 21, 16));
	assert_true(has(t, &k17, 21, 17));
	for (unsigned i = 3; i < 16; i++) {
		struct ldm_flowkey k = key(1, i);

		assert_true(has(t, &k, 21, i));
	}
}

/* Keys an app makes collide cost at most LDM_FLOWTAB_MAX_CHAIN entries of one chain. */
static void
test_chain_cap(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(1024);
	struct ldm_flowkey ks[LDM_FLOWTAB_MAX_CHAIN + 1];
	struct ldm_flowtab_stats st;
	uint32_t b;
	size_t n = 0;

	(void)state;
	assert_int_equal(ldm_flowtab_set_seed(t, 42), 0);
	b = ldm_flowtab_bucket(t, &(struct ldm_flowkey){ 0 });
	for (unsigned i = 0; n < ELEMENTSOF(ks) && i < 1000000; i++) {
		struct ldm_flowkey k = key(3, 0);

		k.sport = (uint16_t)i;
		k.dport = (uint16_t)(i >> 16);
		if (ldm_flowtab_bucket(t, &k) == b)
			ks[n++] = k;
	}
	assert_int_equal(n, ELEMENTSOF(ks));
	for (size_t i = 0; i < n; i++) {
		struct ldm_flowval v = val((unsigned)i);

		assert_int_equal(ldm_flowtab_insert(t, &ks[i], &v, 0, TTL), 0);
	}
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, LDM_FLOWTAB_MAX_CHAIN);
	assert_int_equal(st.evictions, 1);
	assert_false(has(t, &ks[0], 1, 0));
	for (size_t i = 1; i < n; i++)
		assert_true(has(t, &ks[i], 1, (unsigned)i));
	assert_int_equal(ldm_flowtab_set_seed(t, 43), -EBUSY);
}

static void
test_forget_session(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(64);
	struct ldm_flowtab_stats st;

	(void)state;
	for (unsigned i = 0; i < 30; i++) {
		struct ldm_flowkey k = key(1 + i % 3, i);
		struct ldm_flowval v = val(i);

		assert_int_equal(ldm_flowtab_insert(t, &k, &v, 0, TTL), 0);
	}
	assert_int_equal(ldm_flowtab_forget_session(t, 2), 10);
	assert_int_equal(ldm_flowtab_forget_session(t, 2), 0);
	assert_int_equal(ldm_flowtab_forget_session(t, 99), 0);
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 20);
	for (unsigned i = 0; i < 30; i++) {
		struct ldm_flowkey k = key(1 + i % 3, i);

		assert_int_equal(has(t, &k, 1, i), i % 3 != 1);
	}
	/* The freed entries are reused. */
	for (unsigned i = 100; i < 144; i++) {
		struct ldm_flowkey k = key(4, i);
		struct ldm_flowval v = val(i);

		assert_int_equal(ldm_flowtab_insert(t, &k, &v, 2, TTL), 0);
	}
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 64);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(ldm_flowtab_forget_session(t, 4), 44);
	assert_int_equal(ldm_flowtab_forget_session(t, 1), 10);
	assert_int_equal(ldm_flowtab_forget_session(t, 3), 10);
	ldm_flowtab_stats(t, &st);
	assert_int_equal(st.size, 0);
}

/* Each key field alone makes a different flow. */
static void
test_key_fields(void **state)
{
	_cleanup_(ldm_flowtab_freep) struct ldm_flowtab *t = ldm_flowtab_new(64);
	struct ldm_flowkey base = key(5, 0), ks[8];
	struct ldm_flowval v = val(100);

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ks); i++)
		ks[i] = base;
	ks[0].session = 6;
	ks[1].family = AF_INET6;
	ks[2].l4proto = 6;
	ks[3].sport ^= 1;
	ks[4].dport = 5353;
	ks[5].src[15] = 1;
	ks[6].dst[0] = 10;
	ks[7].src[0] = base.dst[0], ks[7].dst[0] = base.src[0]; /* swapped first bytes */
	assert_int_equal(ldm_flowtab_insert(t, &base, &v, 0, TTL), 0);
	for (size_t i = 0; i < ELEMENTSOF(ks); i++)
		if (ldm_flowtab_lookup(t, &ks[i], 0, NULL) != -ENOENT)
			fail_msg("variant %zu matched the base key", i);
	for (size_t i = 0; i < ELEMENTSOF(ks); i++) {
		v = val((unsigned)i);
		assert_int_equal(ldm_flowtab_insert(t, &ks[i], &v, 0, TTL), 0);
	}
	assert_true(has(t, &base, 0, 100));
	for (size_t i = 0; i < ELEMENTSOF(ks); i++)
		assert_true(has(t, &ks[i], 0, (unsigned)i));
}

/* ldm_flowkey_from_packet() writes every byte and drops ports a packet doesn't have. */
static void
test_key_from_packet(void **state)
{
	struct ldm_packet p;
	struct ldm_flowkey a, b;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.family = AF_INET6;
	p.l4proto = 17;
	p.sport = 1;
	p.dport = 2;
	p.dst[15] = 9;
	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x22, sizeof(b));
	ldm_flowkey_from_packet(7, &p, &a);
	ldm_flowkey_from_packet(7, &p, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.sport, 0);
	assert_int_equal(a.dst[15], 9);
	p.has_ports = true;
	ldm_flowkey_from_packet(7, &p, &a);
	assert_int_equal(a.session, 7);
	assert_int_equal(a.sport, 1);
	assert_int_equal(a.dport, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup), cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_capacity),      cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_chain_cap),     cmocka_unit_test(test_forget_session),
		cmocka_unit_test(test_key_fields),    cmocka_unit_test(test_key_from_packet),
	};

	return cmocka_run_group_tests_name("flowtab", tests, NULL, NULL);
}
