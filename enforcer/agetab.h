/*
 * The mechanics the flow and name tables share (flowtab.c, nametab.c): chained hashing over a
 * preallocated entry array, with a free list and an age list (oldest first) through the same
 * array, hash chains capped in length, and an expiry time per entry. Only indices and links
 * live here: each table keeps its payload (key and value) in an array of its own, indexed
 * alike, and hashes and compares its keys itself.
 *
 * All memory is allocated by ldm_agetab_init(); nothing is allocated later, so a flood of new
 * entries costs evictions, never memory. Entries are handed out in index order before any is
 * reused, so the pages of entries never used (here and in the payload array) stay untouched.
 * Chains are kept newest first, so a full chain drops its tail. Indices, not pointers:
 * LDM_AGETAB_NIL ends every list.
 */
#ifndef LDM_AGETAB_H
#define LDM_AGETAB_H

#include <stddef.h>
#include <stdint.h>

#define LDM_AGETAB_NIL UINT32_MAX

struct ldm_agetab_limits {
	uint32_t min_capacity; /* both powers of two */
	uint32_t max_capacity;
	uint8_t max_chain;    /* entries per hash chain */
	uint8_t evict_window; /* oldest entries compared when the table is full, >= 1 */
};

struct ldm_agetab_link {
	uint64_t expires_ms; /* live while now < expires_ms */
	uint32_t bucket;
	uint32_t next;  /* in the bucket's chain (newest first), or in the free list */
	uint32_t older; /* age list */
	uint32_t newer;
};

/* The tables walk chains and the age list themselves; everything else goes through calls. */
struct ldm_agetab {
	struct ldm_agetab_link *l;
	uint32_t *head;     /* per bucket: the newest entry of its chain */
	uint8_t *chain_len; /* per bucket, <= max_chain */
	uint32_t capacity;  /* entries and buckets alike; a power of two */
	uint32_t unused;    /* entries [unused, capacity) were never handed out */
	uint32_t free;      /* entries handed out and dropped since */
	uint32_t oldest;
	uint32_t newest;
	uint8_t max_chain;
	uint8_t evict_window;
	uint64_t seed;
	size_t size;        /* entries handed out and not dropped, expired ones included */
	uint64_t evictions; /* live entries dropped to make room */
	uint64_t expired;   /* expired entries reclaimed */
};

/*
 * Sets up A (zeroed) for CAPACITY entries, rounded up to a power of two within LIM's bounds
 * (larger requests are capped). Returns 0, or -ENOMEM; ldm_agetab_fini() frees either way.
 */
int ldm_agetab_init(struct ldm_agetab *a, size_t capacity, const struct ldm_agetab_limits *lim);
void ldm_agetab_fini(struct ldm_agetab *a);

/* Keys the hash with SEED; only while A is empty: returns 0, or -EBUSY. */
int ldm_agetab_set_seed(struct ldm_agetab *a, uint64_t seed);

/* One step of a table's hash over its key's fields, started from a->seed ^ its own salt. */
static inline uint64_t
ldm_agetab_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

/* The bucket of hash H, finished with murmur3's fmix64. */
static inline uint32_t
ldm_agetab_bucket(const struct ldm_agetab *a, uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & (a->capacity - 1);
}

/*
 * Hands out an entry in bucket B, at the head of its chain and the newest of the age list,
 * making room at NOW_MS first: a full chain drops its tail, a full table the entry among the
 * evict_window oldest that expires first (the oldest on a tie). The caller sets its expiry
 * and fills its payload.
 */
uint32_t ldm_agetab_take(struct ldm_agetab *a, uint32_t b, uint64_t now_ms);

/* Makes entry I the newest of the age list. */
void ldm_agetab_touch(struct ldm_agetab *a, uint32_t i);

/* Moves entry I, whose chain predecessor is PREV (NIL: the head), to the head of its chain. */
void ldm_agetab_to_front(struct ldm_agetab *a, uint32_t i, uint32_t prev);

/* Entry I's predecessor in its chain (NIL: I is the head); chains are short. */
uint32_t ldm_agetab_chain_prev(const struct ldm_agetab *a, uint32_t i);

/* Removes entry I (whose chain predecessor is PREV) and puts it on the free list. */
void ldm_agetab_release(struct ldm_agetab *a, uint32_t i, uint32_t prev);

/* Releases entry I as ldm_agetab_release() does, counted as expired or evicted at NOW_MS. */
void ldm_agetab_drop(struct ldm_agetab *a, uint32_t i, uint32_t prev, uint64_t now_ms);

#endif
