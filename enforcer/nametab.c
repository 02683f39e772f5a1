/*
 * The name table (see nametab.h): chained hashing on (session, family, address) over a
 * preallocated entry array, like flowtab.c, with a free list and an age list (oldest first,
 * in the order entries were added or refreshed) through the same array. Every name of one
 * key sits in the key's chain. Indices, not pointers: NIL ends every list.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "nametab.h"

#define NIL UINT32_MAX

struct key {
	uint64_t session;
	uint8_t family;
	uint8_t addr[16]; /* IPv4: the first 4 bytes, the rest zero */
};

struct entry {
	struct key key;
	uint64_t expires_ms; /* live while now < expires_ms */
	uint32_t bucket;
	uint32_t next;  /* in the bucket's chain (newest first), or in the free list */
	uint32_t older; /* age list */
	uint32_t newer;
	char name[LDM_MAX_HOST_LEN + 1];
};

struct ldm_nametab {
	struct entry *e;
	uint32_t *head;
	uint8_t *chain_len; /* per bucket, <= LDM_NAMETAB_MAX_CHAIN */
	uint32_t capacity;  /* entries and buckets alike; a power of two */
	uint32_t unused;    /* entries [unused, capacity) were never handed out */
	uint32_t free;
	uint32_t oldest;
	uint32_t newest;
	uint64_t seed;
	struct ldm_nametab_stats st;
};

struct ldm_nametab *
ldm_nametab_new(size_t capacity)
{
	struct ldm_nametab *t;
	uint32_t cap = LDM_NAMETAB_MIN_CAPACITY;

	while (cap < capacity && cap < LDM_NAMETAB_MAX_CAPACITY)
		cap <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->e = calloc(cap, sizeof(*t->e));
	t->head = malloc(cap * sizeof(*t->head));
	t->chain_len = calloc(cap, sizeof(*t->chain_len));
	if (t->e == NULL || t->head == NULL || t->chain_len == NULL) {
		ldm_nametab_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->capacity = cap;
	memset(t->head, 0xff, cap * sizeof(*t->head)); /* NIL */
	t->free = t->oldest = t->newest = NIL;
	t->st.capacity = cap;
	return t;
}

struct ldm_nametab *
ldm_nametab_free(struct ldm_nametab *t)
{
	if (t == NULL)
		return NULL;
	free(t->e);
	free(t->head);
	free(t->chain_len);
	free(t);
	return NULL;
}

int
ldm_nametab_set_seed(struct ldm_nametab *t, uint64_t seed)
{
	if (t->st.size != 0)
		return -EBUSY;
	t->seed = seed;
	return 0;
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

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

/* A seeded hash of the key's fields, finished with murmur3's fmix64. */
static uint32_t
bucket_of(const struct ldm_nametab *t, const struct key *k)
{
	uint64_t h = t->seed ^ 0x6c646d2d6e616d65ull, lo, hi;

	memcpy(&lo, k->addr, sizeof(lo));
	memcpy(&hi, k->addr + 8, sizeof(hi));
	h = mix(h, k->session);
	h = mix(h, k->family);
	h = mix(h, lo);
	h = mix(h, hi);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & (t->capacity - 1);
}

static void
age_unlink(struct ldm_nametab *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	if (e->older == NIL)
		t->oldest = e->newer;
	else
		t->e[e->older].newer = e->newer;
	if (e->newer == NIL)
		t->newest = e->older;
	else
		t->e[e->newer].older = e->older;
}

static void
age_push(struct ldm_nametab *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	e->older = t->newest;
	e->newer = NIL;
	if (t->newest == NIL)
		t->oldest = i;
	else
		t->e[t->newest].newer = i;
	t->newest = i;
}

/* Entry I's predecessor in its chain (NIL: I is the head); chains are short. */
static uint32_t
chain_prev(const struct ldm_nametab *t, uint32_t i)
{
	uint32_t prev = NIL;

	for (uint32_t j = t->head[t->e[i].bucket]; j != i; j = t->e[j].next)
		prev = j;
	return prev;
}

/* Removes entry I (whose chain predecessor is PREV) and puts it on the free list. */
static void
release(struct ldm_nametab *t, uint32_t i, uint32_t prev)
{
	struct entry *e = &t->e[i];

	if (prev == NIL)
		t->head[e->bucket] = e->next;
	else
		t->e[prev].next = e->next;
	t->chain_len[e->bucket]--;
	age_unlink(t, i);
	e->next = t->free;
	t->free = i;
	t->st.size--;
}

/* Releases entry I to make room or because it expired; counts which. */
static void
drop(struct ldm_nametab *t, uint32_t i, uint32_t prev, uint64_t now_ms)
{
	if (t->e[i].expires_ms <= now_ms)
		t->st.expired++;
	else
		t->st.evictions++;
	release(t, i, prev);
}

/* The victim when the table is full: of the few oldest entries, the one expiring first. */
static uint32_t
victim(const struct ldm_nametab *t)
{
	uint32_t v = t->oldest, i = t->oldest;

	for (unsigned n = 0; i != NIL && n < LDM_NAMETAB_EVICT_WINDOW; n++, i = t->e[i].newer)
		if (t->e[i].expires_ms < t->e[v].expires_ms)
			v = i;
	return v;
}

/* The tail (oldest entry) of bucket B's chain. */
static uint32_t
chain_tail(const struct ldm_nametab *t, uint32_t b)
{
	uint32_t i = t->head[b];

	while (t->e[i].next != NIL)
		i = t->e[i].next;
	return i;
}

/* Takes an entry for bucket B, making room in B's chain and in the table first. */
static uint32_t
take_entry(struct ldm_nametab *t, uint32_t b, uint64_t now_ms)
{
	uint32_t i;

	if (t->chain_len[b] >= LDM_NAMETAB_MAX_CHAIN) {
		i = chain_tail(t, b);
		drop(t, i, chain_prev(t, i), now_ms);
	}
	if (t->free == NIL && t->unused < t->capacity) {
		i = t->unused++;
	} else {
		if (t->free == NIL) {
			i = victim(t);
			drop(t, i, chain_prev(t, i), now_ms);
		}
		i = t->free;
		t->free = t->e[i].next;
	}
	t->e[i].bucket = b;
	t->e[i].next = t->head[b];
	t->head[b] = i;
	t->chain_len[b]++;
	t->st.size++;
	return i;
}

/*
 * Looks for NAME under key K in bucket B. Returns its entry, or NIL; then *ret_spare is the
 * entry of K that expires first if K already has LDM_NAMETAB_MAX_NAMES names, else NIL.
 */
static uint32_t
find_name(const struct ldm_nametab *t, uint32_t b, const struct key *k, const char *name,
          uint32_t *ret_spare)
{
	uint32_t spare = NIL;
	unsigned n = 0;

	for (uint32_t i = t->head[b]; i != NIL; i = t->e[i].next) {
		if (!key_equal(&t->e[i].key, k))
			continue;
		if (strcmp(t->e[i].name, name) == 0)
			return i;
		n++;
		if (spare == NIL || t->e[i].expires_ms < t->e[spare].expires_ms)
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
		if (at > t->e[i].expires_ms)
			t->e[i].expires_ms = at;
		age_unlink(t, i);
		age_push(t, i);
		t->st.refreshes++;
		return 0;
	}
	if (spare != NIL)
		drop(t, spare, chain_prev(t, spare), now_ms);
	i = take_entry(t, b, now_ms);
	t->e[i].key = k;
	t->e[i].expires_ms = at;
	memcpy(t->e[i].name, name, len + 1);
	age_push(t, i);
	t->st.adds++;
	return 0;
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
	for (i = t->head[bucket_of(t, &k)]; i != NIL; i = next) {
		next = t->e[i].next;
		if (!key_equal(&t->e[i].key, &k)) {
			prev = i;
		} else if (t->e[i].expires_ms <= now_ms) {
			drop(t, i, prev, now_ms);
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
	uint32_t i = t->oldest;

	while (i != NIL) {
		uint32_t newer = t->e[i].newer;

		if (t->e[i].key.session == session) {
			release(t, i, chain_prev(t, i)); /* not an overflow */
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
}
