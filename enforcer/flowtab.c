/*
 * The flow table (see flowtab.h): chained hashing over a preallocated entry array, with a
 * free list and an age list (oldest first) through the same array. Chains are kept newest
 * first, so a full chain drops its tail. Indices, not pointers: NIL ends every list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "ldm/util.h"

#define NIL UINT32_MAX

struct entry {
	struct ldm_flowkey key;
	struct ldm_flowval val;
	uint64_t expires_ms; /* the entry is live while now < expires_ms */
	uint32_t bucket;
	uint32_t next;  /* in the bucket's chain, or in the free list */
	uint32_t older; /* age list */
	uint32_t newer;
};

struct ldm_flowtab {
	struct entry *e;
	uint32_t *head;     /* per bucket: the newest entry of its chain */
	uint8_t *chain_len; /* per bucket, <= LDM_FLOWTAB_MAX_CHAIN */
	uint32_t capacity;  /* entries and buckets alike; a power of two */
	uint32_t unused;    /* entries [unused, capacity) were never handed out */
	uint32_t free;      /* entries handed out and dropped since */
	uint32_t oldest;
	uint32_t newest;
	uint64_t seed;
	struct ldm_flowtab_stats st;
};

struct ldm_flowtab *
ldm_flowtab_new(size_t capacity)
{
	struct ldm_flowtab *t;
	uint32_t cap = LDM_FLOWTAB_MIN_CAPACITY;

	while (cap < capacity && cap < LDM_FLOWTAB_MAX_CAPACITY)
		cap <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/* Entries are handed out in order first (UNUSED), so they are not touched here. */
	t->e = calloc(cap, sizeof(*t->e));
	t->head = malloc(cap * sizeof(*t->head));
	t->chain_len = calloc(cap, sizeof(*t->chain_len));
	if (t->e == NULL || t->head == NULL || t->chain_len == NULL) {
		ldm_flowtab_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->capacity = cap;
	memset(t->head, 0xff, cap * sizeof(*t->head)); /* NIL */
	t->free = t->oldest = t->newest = NIL;
	t->st.capacity = cap;
	return t;
}

struct ldm_flowtab *
ldm_flowtab_free(struct ldm_flowtab *t)
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
ldm_flowtab_set_seed(struct ldm_flowtab *t, uint64_t seed)
{
	if (t->st.size != 0)
		return -EBUSY;
	t->seed = seed;
	return 0;
}

void
ldm_flowkey_from_packet(uint64_t session, const struct ldm_packet *p, struct ldm_flowkey *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->session = session;
	ret->family = p->family;
	ret->l4proto = p->l4proto;
	if (p->has_ports) {
		ret->sport = p->sport;
		ret->dport = p->dport;
	}
	memcpy(ret->src, p->src, sizeof(ret->src));
	memcpy(ret->dst, p->dst, sizeof(ret->dst));
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A seeded hash of the key's fields (never its padding), finished with murmur3's fmix64. */
static uint32_t
bucket_of(const struct ldm_flowtab *t, const struct ldm_flowkey *k)
{
	uint64_t h = t->seed ^ 0x6c646d2d666c6f77ull;

	h = mix(h, k->session);
	h = mix(h, (uint64_t)k->family | (uint64_t)k->l4proto << 8 | (uint64_t)k->sport << 16 |
	                   (uint64_t)k->dport << 32);
	h = mix(h, load64(k->src));
	h = mix(h, load64(k->src + 8));
	h = mix(h, load64(k->dst));
	h = mix(h, load64(k->dst + 8));
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & (t->capacity - 1);
}

uint32_t
ldm_flowtab_bucket(const struct ldm_flowtab *t, const struct ldm_flowkey *key)
{
	return bucket_of(t, key);
}

static bool
key_equal(const struct ldm_flowkey *a, const struct ldm_flowkey *b)
{
	return a->session == b->session && a->family == b->family && a->l4proto == b->l4proto &&
	       a->sport == b->sport && a->dport == b->dport &&
	       memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
	       memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

/* Finds KEY in bucket B; *ret_prev is its predecessor in the chain (NIL: the head). */
static uint32_t
find(const struct ldm_flowtab *t, uint32_t b, const struct ldm_flowkey *key, uint32_t *ret_prev)
{
	uint32_t prev = NIL;

	for (uint32_t i = t->head[b]; i != NIL; prev = i, i = t->e[i].next)
		if (key_equal(&t->e[i].key, key)) {
			*ret_prev = prev;
			return i;
		}
	return NIL;
}

static void
chain_unlink(struct ldm_flowtab *t, uint32_t i, uint32_t prev)
{
	struct entry *e = &t->e[i];

	if (prev == NIL)
		t->head[e->bucket] = e->next;
	else
		t->e[prev].next = e->next;
	t->chain_len[e->bucket]--;
}

static void
chain_push(struct ldm_flowtab *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	e->next = t->head[e->bucket];
	t->head[e->bucket] = i;
	t->chain_len[e->bucket]++;
}

static void
age_unlink(struct ldm_flowtab *t, uint32_t i)
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
age_push(struct ldm_flowtab *t, uint32_t i)
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

/* Removes entry I (whose chain predecessor is PREV) and puts it on the free list. */
static void
drop(struct ldm_flowtab *t, uint32_t i, uint32_t prev)
{
	chain_unlink(t, i, prev);
	age_unlink(t, i);
	t->e[i].next = t->free;
	t->free = i;
	t->st.size--;
}

/* Entry I's predecessor in its chain (NIL: I is the head); chains are short. */
static uint32_t
chain_prev(const struct ldm_flowtab *t, uint32_t i)
{
	uint32_t prev = NIL;

	for (uint32_t j = t->head[t->e[i].bucket]; j != i; j = t->e[j].next)
		prev = j;
	return prev;
}

/* Drops I to make room: an expired entry is reclaimed, a live one evicted. */
static void
make_room(struct ldm_flowtab *t, uint32_t i, uint64_t now_ms)
{
	if (t->e[i].expires_ms <= now_ms)
		t->st.expired++;
	else
		t->st.evictions++;
	drop(t, i, chain_prev(t, i));
}

int
ldm_flowtab_lookup(struct ldm_flowtab *t, const struct ldm_flowkey *key, uint64_t now_ms,
                   struct ldm_flowval *ret)
{
	uint32_t prev = NIL, i = find(t, bucket_of(t, key), key, &prev);

	if (i == NIL) {
		t->st.misses++;
		return -ENOENT;
	}
	if (t->e[i].expires_ms <= now_ms) {
		drop(t, i, prev);
		t->st.expired++;
		t->st.misses++;
		return -ENOENT;
	}
	t->st.hits++;
	if (ret != NULL)
		*ret = t->e[i].val;
	return 0;
}

/* The tail (oldest entry) of bucket B's chain. */
static uint32_t
chain_tail(const struct ldm_flowtab *t, uint32_t b)
{
	uint32_t i = t->head[b];

	while (t->e[i].next != NIL)
		i = t->e[i].next;
	return i;
}

/* Takes an unused entry for bucket B, making room in B's chain and in the table first. */
static uint32_t
take_entry(struct ldm_flowtab *t, uint32_t b, uint64_t now_ms)
{
	uint32_t i;

	if (t->chain_len[b] >= LDM_FLOWTAB_MAX_CHAIN)
		make_room(t, chain_tail(t, b), now_ms);
	if (t->free == NIL && t->unused < t->capacity) {
		i = t->unused++;
	} else {
		if (t->free == NIL)
			make_room(t, t->oldest, now_ms);
		i = t->free;
		t->free = t->e[i].next;
	}
	t->e[i].bucket = b;
	t->st.size++;
	return i;
}

int
ldm_flowtab_insert(struct ldm_flowtab *t, const struct ldm_flowkey *key,
                   const struct ldm_flowval *value, uint64_t now_ms, uint64_t ttl_ms)
{
	uint32_t prev = NIL, b = bucket_of(t, key), i;
	uint64_t expires;

	if (ttl_ms == 0)
		return -EINVAL;
	if (__builtin_add_overflow(now_ms, ttl_ms, &expires))
		expires = UINT64_MAX;
	i = find(t, b, key, &prev);
	if (i != NIL) {
		/* Replaced: it becomes the newest entry of its chain and of the table. */
		chain_unlink(t, i, prev);
		age_unlink(t, i);
	} else {
		i = take_entry(t, b, now_ms);
		t->e[i].key = *key;
	}
	t->e[i].val = *value;
	t->e[i].expires_ms = expires;
	chain_push(t, i);
	age_push(t, i);
	t->st.inserts++;
	return 0;
}

size_t
ldm_flowtab_forget_session(struct ldm_flowtab *t, uint64_t session)
{
	size_t n = 0;
	uint32_t i = t->oldest;

	while (i != NIL) {
		uint32_t newer = t->e[i].newer;

		if (t->e[i].key.session == session) {
			drop(t, i, chain_prev(t, i));
			n++;
		}
		i = newer;
	}
	return n;
}

void
ldm_flowtab_stats(const struct ldm_flowtab *t, struct ldm_flowtab_stats *ret)
{
	*ret = t->st;
}
