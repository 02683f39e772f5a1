/*
 * The flow table (see flowtab.h): an agetab (agetab.h) for the hashing, the lists and the
 * eviction, and beside it an array of flows indexed alike. A full table drops its oldest
 * entry: an evict_window of 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agetab.h"
#include "flowtab.h"
#include "ldm/util.h"

#define NIL LDM_AGETAB_NIL

struct flow {
	struct ldm_flowkey key;
	struct ldm_flowval val;
};

struct ldm_flowtab {
	struct ldm_agetab a;
	struct flow *f; /* capacity entries, handed out by a */
	struct ldm_flowtab_stats st;
};

static const struct ldm_agetab_limits limits = {
	.min_capacity = LDM_FLOWTAB_MIN_CAPACITY,
	.max_capacity = LDM_FLOWTAB_MAX_CAPACITY,
	.max_chain = LDM_FLOWTAB_MAX_CHAIN,
	.evict_window = 1,
};

struct ldm_flowtab *
ldm_flowtab_new(size_t capacity)
{
	struct ldm_flowtab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (ldm_agetab_init(&t->a, capacity, &limits) < 0 ||
	    (t->f = calloc(t->a.capacity, sizeof(*t->f))) == NULL) {
		ldm_flowtab_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

struct ldm_flowtab *
ldm_flowtab_free(struct ldm_flowtab *t)
{
	if (t == NULL)
		return NULL;
	ldm_agetab_fini(&t->a);
	free(t->f);
	free(t);
	return NULL;
}

int
ldm_flowtab_set_seed(struct ldm_flowtab *t, uint64_t seed)
{
	return ldm_agetab_set_seed(&t->a, seed);
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
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A seeded hash of the key's fields (never its padding). */
static uint32_t
bucket_of(const struct ldm_flowtab *t, const struct ldm_flowkey *k)
{
	uint64_t h = t->a.seed ^ 0x6c646d2d666c6f77ull;

	h = ldm_agetab_mix(h, k->session);
	h = ldm_agetab_mix(h, (uint64_t)k->family | (uint64_t)k->l4proto << 8 |
	                              (uint64_t)k->sport << 16 | (uint64_t)k->dport << 32);
	h = ldm_agetab_mix(h, load64(k->src));
	h = ldm_agetab_mix(h, load64(k->src + 8));
	h = ldm_agetab_mix(h, load64(k->dst));
	h = ldm_agetab_mix(h, load64(k->dst + 8));
	return ldm_agetab_bucket(&t->a, h);
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

	for (uint32_t i = t->a.head[b]; i != NIL; prev = i, i = t->a.l[i].next)
		if (key_equal(&t->f[i].key, key)) {
			*ret_prev = prev;
			return i;
		}
	return NIL;
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
	if (t->a.l[i].expires_ms <= now_ms) {
		ldm_agetab_drop(&t->a, i, prev, now_ms); /* counted as expired */
		t->st.misses++;
		return -ENOENT;
	}
	t->st.hits++;
	if (ret != NULL)
		*ret = t->f[i].val;
	return 0;
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
		ldm_agetab_to_front(&t->a, i, prev);
		ldm_agetab_touch(&t->a, i);
	} else {
		i = ldm_agetab_take(&t->a, b, now_ms);
		t->f[i].key = *key;
	}
	t->f[i].val = *value;
	t->a.l[i].expires_ms = expires;
	t->st.inserts++;
	return 0;
}

size_t
ldm_flowtab_forget_session(struct ldm_flowtab *t, uint64_t session)
{
	size_t n = 0;
	uint32_t i = t->a.oldest;

	while (i != NIL) {
		uint32_t newer = t->a.l[i].newer;

		if (t->f[i].key.session == session) {
			ldm_agetab_release(&t->a, i, ldm_agetab_chain_prev(&t->a, i));
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
	ret->size = t->a.size;
	ret->capacity = t->a.capacity;
	ret->evictions = t->a.evictions;
	ret->expired = t->a.expired;
}
