/*
 * The name table: which addresses the allowed DNS names of a session resolved to, so the
 * connection that follows a lookup is judged by the name (docs/ruleset.md; ldm-policy(5), DNS).
 * Pure: time is passed in (milliseconds of a monotonic clock), and all memory is allocated
 * by ldm_nametab_new(); nothing is allocated later, so a flood of answers costs evictions,
 * never memory.
 *
 * Entries are (session, address, name) with an expiry. The daemon adds one only for an
 * answer to a query whose name the policy allowed, and looks up (session, address): the
 * names that this session resolved to that address, never another session's. So a
 * connection to an address that an allowed name did not resolve to in this session finds
 * nothing, even if the address serves other names too.
 *
 * A miss is safe: the flow is judged without a name (blocked unless an address rule allows
 * it). Eviction therefore costs a blocked connection, not an escape; evictions of live
 * entries are counted so the daemon can log the overflow. Hash chains are capped at
 * LDM_NAMETAB_MAX_CHAIN and names per (session, address) at LDM_NAMETAB_MAX_NAMES, so
 * addresses an app picks to collide cannot make the daemon walk long chains.
 */
#ifndef LDM_NAMETAB_H
#define LDM_NAMETAB_H

#include <stddef.h>
#include <stdint.h>

#include "ldm/policy.h"

#define LDM_NAMETAB_MIN_CAPACITY 16
#define LDM_NAMETAB_MAX_CAPACITY (1u << 20)
#define LDM_NAMETAB_MAX_CHAIN    32
#define LDM_NAMETAB_MAX_NAMES    16   /* names kept per (session, address) */
#define LDM_NAMETAB_MIN_TTL_S    10   /* the app connects a moment after the answer */
#define LDM_NAMETAB_MAX_TTL_S    3600 /* a resolver's week-long TTL is not a licence */
#define LDM_NAMETAB_EVICT_WINDOW 8    /* oldest entries compared when the table is full */

struct ldm_nametab_stats {
	size_t size;        /* entries (expired ones not yet reclaimed included) */
	size_t capacity;    /* after rounding */
	uint64_t adds;      /* new entries */
	uint64_t refreshes; /* adds that found the entry and extended it */
	uint64_t hits;      /* lookups that found a name */
	uint64_t misses;
	uint64_t evictions; /* live entries dropped to make room: the overflow to log */
	uint64_t expired;   /* expired entries reclaimed */
};

struct ldm_nametab;

/*
 * Creates a table for CAPACITY entries, rounded up to a power of two within
 * [LDM_NAMETAB_MIN_CAPACITY, LDM_NAMETAB_MAX_CAPACITY] (larger requests are capped). Each
 * entry takes about 300 bytes. Returns NULL with errno ENOMEM on allocation failure.
 */
struct ldm_nametab *ldm_nametab_new(size_t capacity);

/* Frees T (NULL is fine); returns NULL. */
struct ldm_nametab *ldm_nametab_free(struct ldm_nametab *t);
static inline void
ldm_nametab_freep(struct ldm_nametab **t)
{
	ldm_nametab_free(*t);
}

/* Keys the hash with SEED (from getrandom() at startup). Only on an empty table: 0 or -EBUSY. */
int ldm_nametab_set_seed(struct ldm_nametab *t, uint64_t seed);

/*
 * Records that NAME resolved to ADDR (FAMILY AF_INET: addr[0..3], the rest is ignored; or
 * AF_INET6) in SESSION, for TTL_S seconds from NOW_MS, clamped to [LDM_NAMETAB_MIN_TTL_S,
 * LDM_NAMETAB_MAX_TTL_S]. NAME is copied; it should be normalized (as the DNS parser and
 * ldm_host_name_normalize() produce it), since lookups return it as stored. An existing
 * entry is refreshed (it keeps the later expiry and becomes the most recently resolved).
 * Eviction: when the table is full, the entry among the LDM_NAMETAB_EVICT_WINDOW oldest that
 * expires first goes; a full chain loses its oldest; a full set of LDM_NAMETAB_MAX_NAMES
 * names for (session, address) loses the name that expires first (on a tie, the one
 * resolved least recently). Returns 1 for a new entry (the session had not resolved NAME to
 * ADDR, or that entry was gone: the daemon writes a `resolved` record), 0 for a refresh,
 * -EINVAL for an empty or too long NAME, -EAFNOSUPPORT for another family.
 */
int ldm_nametab_add(struct ldm_nametab *t, uint64_t session, uint8_t family, const uint8_t addr[16],
                    const char *name, uint32_t ttl_s, uint64_t now_ms);

/*
 * Finds the live names SESSION resolved to ADDR, the most recently resolved first, and stores up to MAX pointers
 * to them in NAMES_OUT (pass LDM_NAMETAB_MAX_NAMES to get all). The pointers stay valid until
 * the next call that adds or forgets. Expired entries met on the way are reclaimed. Returns
 * the number stored (0: none), or -EAFNOSUPPORT for another family.
 */
int ldm_nametab_lookup(struct ldm_nametab *t, uint64_t session, uint8_t family,
                       const uint8_t addr[16], uint64_t now_ms, const char **names_out, size_t max);

/* Removes every entry of SESSION (when it ends). Returns how many were removed. O(size). */
size_t ldm_nametab_forget_session(struct ldm_nametab *t, uint64_t session);

/* The hash bucket of (SESSION, FAMILY, ADDR), in [0, capacity): for tests and diagnostics. */
uint32_t ldm_nametab_bucket(const struct ldm_nametab *t, uint64_t session, uint8_t family,
                            const uint8_t addr[16]);

void ldm_nametab_stats(const struct ldm_nametab *t, struct ldm_nametab_stats *ret);

#endif
