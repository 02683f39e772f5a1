/*
 * The flow table: a bounded cache of recent verdicts, so that the several packets of one new
 * flow queued before its first verdict get that verdict without being judged or logged
 * again. Pure: time is passed in (milliseconds of a monotonic clock), and all memory is
 * allocated by ldm_flowtab_new(); nothing is allocated later, so a flood of new flows
 * costs evictions, never memory.
 *
 * A miss is always safe: the caller judges the packet as new. Eviction therefore only costs
 * a second judgement (and a log record that the log folds). Lookups and inserts are O(1):
 * hash chains are capped at LDM_FLOWTAB_MAX_CHAIN entries (a chain that is full loses its
 * oldest entry), so keys an app chooses to collide cannot make the daemon walk long chains.
 */
#ifndef LDM_FLOWTAB_H
#define LDM_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define LDM_FLOWTAB_MIN_CAPACITY 16
#define LDM_FLOWTAB_MAX_CAPACITY (1u << 20)
#define LDM_FLOWTAB_MAX_CHAIN    16

/* Compared field by field (never as bytes: the struct has padding). */
struct ldm_flowkey {
	uint64_t session;
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t l4proto; /* IP protocol number */
	uint16_t sport;  /* 0 when the packet has no ports */
	uint16_t dport;
	uint8_t src[16];
	uint8_t dst[16];
};

enum ldm_flow_verdict {
	LDM_FLOW_ALLOW = 1,
	LDM_FLOW_BLOCK = 2,
	LDM_FLOW_WOULD_BLOCK = 3, /* audit mode: passed, logged as would_block */
};

struct ldm_flowval {
	enum ldm_flow_verdict verdict;
	unsigned rule; /* the policy rule that decided, 0: none (default deny) */
	uint32_t tag;  /* the caller's, stored as given */
};

struct ldm_flowtab_stats {
	size_t size;     /* live entries (expired ones not yet reclaimed included) */
	size_t capacity; /* after rounding */
	uint64_t inserts;
	uint64_t hits;
	uint64_t misses;    /* expired entries found by a lookup count as misses */
	uint64_t evictions; /* live entries dropped to make room */
	uint64_t expired;   /* expired entries reclaimed */
};

struct ldm_flowtab;

/*
 * Creates a table for CAPACITY entries, rounded up to a power of two within
 * [LDM_FLOWTAB_MIN_CAPACITY, LDM_FLOWTAB_MAX_CAPACITY] (larger requests are capped). All
 * memory is allocated here. Returns NULL with errno ENOMEM on allocation failure.
 */
struct ldm_flowtab *ldm_flowtab_new(size_t capacity);

/* Frees T (NULL is fine); returns NULL. */
struct ldm_flowtab *ldm_flowtab_free(struct ldm_flowtab *t);
static inline void
ldm_flowtab_freep(struct ldm_flowtab **t)
{
	ldm_flowtab_free(*t);
}

/*
 * Keys the hash with SEED (say, from getrandom() at startup), so an app cannot predict which
 * of its flows share a chain. Only on an empty table: returns 0, or -EBUSY.
 */
int ldm_flowtab_set_seed(struct ldm_flowtab *t, uint64_t seed);

/* Fills *ret with the key of packet P in SESSION; every byte of *ret is written. */
void ldm_flowkey_from_packet(uint64_t session, const struct ldm_packet *p, struct ldm_flowkey *ret);

/*
 * Looks KEY up at time NOW_MS. Returns 0 and copies the value to *ret (which may be NULL),
 * or -ENOENT when there is no entry or it expired (an expired entry is reclaimed).
 */
int ldm_flowtab_lookup(struct ldm_flowtab *t, const struct ldm_flowkey *key, uint64_t now_ms,
                       struct ldm_flowval *ret);

/*
 * Stores VALUE for KEY until NOW_MS + TTL_MS (an existing entry for KEY is replaced). When
 * the table (or KEY's hash chain) is full, the oldest entry goes: reclaimed if it expired,
 * counted as an eviction if not. Returns 0, or -EINVAL for a TTL of 0.
 */
int ldm_flowtab_insert(struct ldm_flowtab *t, const struct ldm_flowkey *key,
                       const struct ldm_flowval *value, uint64_t now_ms, uint64_t ttl_ms);

/* Removes every entry of SESSION (when it ends). Returns how many were removed. O(size). */
size_t ldm_flowtab_forget_session(struct ldm_flowtab *t, uint64_t session);

/* The hash bucket of KEY, in [0, capacity): for tests and diagnostics. */
uint32_t ldm_flowtab_bucket(const struct ldm_flowtab *t, const struct ldm_flowkey *key);

void ldm_flowtab_stats(const struct ldm_flowtab *t, struct ldm_flowtab_stats *ret);

#endif
