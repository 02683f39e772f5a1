/*
 * The name table (see nametab.h): chained hashing on (session, family, address), with an
 * agetab (agetab.h) for the hashing, the lists and the eviction, like flowtab.c, and beside it
 * an array of names indexed alike. The age list is in the order entries were added or
 * refreshed. Every name of one key sits in the key's chain, the most recently added or
 * refreshed first.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agetab.h"
#include "ldm/util.h"
#include "nametab.h"

#define NIL LDM_AGETAB_NIL

struct key {
	uint64_t session;
	uint8_t family;
	uint8_t addr[16]; /* IPv4: the first 4 bytes, the rest zero */
};

struct entry {
	struct key key;
	char name[LDM_MAX_HOST_LEN + 1];
};

struct ldm_nametab {
	struct ldm_agetab a;
	struct entry *e; /* capacity entries, handed out by a */
	struct ldm_nametab_stats st;
};

static const struct ldm_agetab_limits limits = {
	.min_capacity = LDM_NAMETAB_MIN_CAPACITY,
	.max_capacity = LDM_NAMETAB_MAX_CAPACITY,
	.max_chain = LDM_NAMETAB_MAX_CHAIN,
	.evict_window = LDM_NAMETAB_EVICT_WINDOW,
};

struct ldm_nametab *
ldm_nametab_new(size_t capacity)
{
	struct ldm_nametab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (ldm_agetab_init(&t->a, capacity, &limits) < 0 ||
	    (t->e = calloc(t->a.capacity, sizeof(*t->e))) == NULL) {
		ldm_nametab_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

struct ldm_nametab *
ldm_nametab_free(struct ldm_nametab *t)
{
	if (t == NULL)
		return NULL;
	ldm_agetab_fini(&t->a);
	free(t->e);
	free(t);
	return NULL;
}

int
ldm_nametab_set_seed(struct ldm_nametab *t, uint64_t seed)
{
	return ldm_agetab_set_seed(&t->a, seed);
}

/* Fills every byte of *ret; IPv4 keeps only addr[0..3]. */
static int
key_make(uint64_t session, uint8_t family, const uint8_t addr[16], struct key *ret)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	memset(ret, 0, sizeof(*ret));
	ret->session = session;
	ret->family = family;
	memcpy(ret->addr, addr, family == AF_INET ? 4 : 16);
	return 0;
}

static bool
key_equal(const struct key *a, const struct key *b)
{
	return a->session == b->session && a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* A seeded hash of the key's fields. */
static uint32_t
bucket_of(const struct ldm_nametab *t, const struct key *k)
{
	uint64_t h = t->a.seed ^ 0x6c646d2d6e616d65ull, lo, hi;

	memcpy(&lo, k->addr, sizeof(lo));
	memcpy(&hi, k->addr + 8, sizeof(hi));
	h = ldm_agetab_mix(h, k->session);
	h = ldm_agetab_mix(h, k->family);
	h = ldm_agetab_mix(h, lo);
	h = ldm_agetab_mix(h, hi);
	return ldm_agetab_bucket(&t->a, h);
}

/*
 * Looks for NAME under key K in bucket B. Returns its entry, or NIL; then *ret_spare is the
 * entry of K that expires first if K already has LDM_NAMETAB_MAX_NAMES names, else NIL.
 */
static uint32_t
find_name(const struct ldm_nametab *t, uint32_t b, const struct key *k, const char *name,
          uint32_t *ret_spare)
{
	const struct ldm_agetab_link *l = t->a.l;
	uint32_t spare = NIL;
	unsigned n = 0;

	for (uint32_t i = t->a.head[b]; i != NIL; i = l[i].next) {
		if (!key_equal(&t->e[i].key, k))
			continue;
		if (strcmp(t->e[i].name, name) == 0)
			return i;
		n++;
		/* Chains run from the most recently resolved: on a tie the least recent goes. */
		if (spare == NIL || l[i].expires_ms <= l[spare].expires_ms)
			spare = i;
	}
	*ret_spare = n >= LDM_NAMETAB_MAX_NAMES ? spare : NIL;
	return NIL;
}

static uint64_t
expiry(uint32_t ttl_s, uint64_t now_ms)
{
	uint64_t at;

	if (ttl_s < LDM_NAMETAB_MIN_TTL_S)
		ttl_s = LDM_NAMETAB_MIN_TTL_S;
	if (ttl_s > LDM_NAMETAB_MAX_TTL_S)
		ttl_s = LDM_NAMETAB_MAX_TTL_S;
	if (__builtin_add_overflow(now_ms, (uint64_t)ttl_s * 1000, &at))
		at = UINT64_MAX;
	return at;
}

int
ldm_nametab_add(struct ldm_nametab *t, uint64_t session, uint8_t family, const uint8_t addr[16],
                const char *name, uint32_t ttl_s, uint64_t now_ms)
{
	size_t len = strnlen(name, LDM_MAX_HOST_LEN + 1);
	uint64_t at = expiry(ttl_s, now_ms);
	uint32_t b, i, spare;
	struct key k;
	int r;

	if (len == 0 || len > LDM_MAX_HOST_LEN)
		return -EINVAL;
	r = key_make(session, family, addr, &k);
	if (r < 0)
		return r;
	b = bucket_of(t, &k);
	i = find_name(t, b, &k, name, &spare);
	if (i != NIL) {
		/* To the head of its chain: lookups give the names most recently resolved first. */
		if (at > t->a.l[i].expires_ms)
			t->a.l[i].expires_ms = at;
		ldm_agetab_touch(&t->a, i);
		ldm_agetab_to_front(&t->a, i, ldm_agetab_chain_prev(&t->a, i));
		t->st.refreshes++;
		return 0;
	}
	if (spare != NIL)
		ldm_agetab_drop(&t->a, spare, ldm_agetab_chain_prev(&t->a, spare), now_ms);
	i = ldm_agetab_take(&t->a, b, now_ms);
	t->a.l[i].expires_ms = at;
	t->e[i].key = k;
	memcpy(t->e[i].name, name, len + 1);
	t->st.adds++;
	return 1;
}

int
ldm_nametab_lookup(struct ldm_nametab *t, uint64_t session, uint8_t family, const uint8_t addr[16],
                   uint64_t now_ms, const char **names_out, size_t max)
{
	uint32_t prev = NIL, i, next;
	struct key k;
	size_t n = 0;
	int r = key_make(session, family, addr, &k);

	if (r < 0)
		return r;
	for (i = t->a.head[bucket_of(t, &k)]; i != NIL; i = next) {
		next = t->a.l[i].next;
		if (!key_equal(&t->e[i].key, &k)) {
			prev = i;
		} else if (t->a.l[i].expires_ms <= now_ms) {
			ldm_agetab_drop(&t->a, i, prev, now_ms);
		} else {
			if (n < max)
				names_out[n++] = t->e[i].name;
			prev = i;
		}
	}
	if (n > 0)
		t->st.hits++;
	else
		t->st.misses++;
	return (int)n;
}

size_t
ldm_nametab_forget_session(struct ldm_nametab *t, uint64_t session)
{
	size_t n = 0;
	uint32_t i = t->a.oldest;

	while (i != NIL) {
		uint32_t newer = t->a.l[i].newer;

		if (t->e[i].key.session == session) {
			/* Released, not dropped: not an overflow. */
			ldm_agetab_release(&t->a, i, ldm_agetab_chain_prev(&t->a, i));
			n++;
		}
		i = newer;
	}
	return n;
}

uint32_t
ldm_nametab_bucket(const struct ldm_nametab *t, uint64_t session, uint8_t family,
                   const uint8_t addr[16])
{
	struct key k;

	if (key_make(session, family, addr, &k) < 0)
		return 0;
	return bucket_of(t, &k);
}

void
ldm_nametab_stats(const struct ldm_nametab *t, struct ldm_nametab_stats *ret)
{
	*ret = t->st;
	ret->size = t->a.size;
	ret->capacity = t->a.capacity;
	ret->evictions = t->a.evictions;
	ret->expired = t->a.expired;
}
