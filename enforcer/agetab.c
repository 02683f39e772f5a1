/*
 * Chained hashing with a free list and an age list over one preallocated link array (see
 * agetab.h), for the flow and name tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agetab.h"

#define NIL LDM_AGETAB_NIL

int
ldm_agetab_init(struct ldm_agetab *a, size_t capacity, const struct ldm_agetab_limits *lim)
{
	uint32_t cap = lim->min_capacity;

	while (cap < capacity && cap < lim->max_capacity)
		cap <<= 1;
	/* Entries are handed out in order first (UNUSED), so they are not touched here. */
	a->l = calloc(cap, sizeof(*a->l));
	a->head = malloc(cap * sizeof(*a->head));
	a->chain_len = calloc(cap, sizeof(*a->chain_len));
	if (a->l == NULL || a->head == NULL || a->chain_len == NULL)
		return -ENOMEM;
	a->capacity = cap;
	memset(a->head, 0xff, cap * sizeof(*a->head)); /* NIL */
	a->free = a->oldest = a->newest = NIL;
	a->max_chain = lim->max_chain;
	a->evict_window = lim->evict_window;
	return 0;
}

void
ldm_agetab_fini(struct ldm_agetab *a)
{
	free(a->l);
	free(a->head);
	free(a->chain_len);
}

int
ldm_agetab_set_seed(struct ldm_agetab *a, uint64_t seed)
{
	if (a->size != 0)
		return -EBUSY;
	a->seed = seed;
	return 0;
}

static void
chain_unlink(struct ldm_agetab *a, uint32_t i, uint32_t prev)
{
	struct ldm_agetab_link *e = &a->l[i];

	if (prev == NIL)
		a->head[e->bucket] = e->next;
	else
		a->l[prev].next = e->next;
	a->chain_len[e->bucket]--;
}

static void
chain_push(struct ldm_agetab *a, uint32_t i)
{
	struct ldm_agetab_link *e = &a->l[i];

	e->next = a->head[e->bucket];
	a->head[e->bucket] = i;
	a->chain_len[e->bucket]++;
}

static void
age_unlink(struct ldm_agetab *a, uint32_t i)
{
	struct ldm_agetab_link *e = &a->l[i];

	if (e->older == NIL)
		a->oldest = e->newer;
	else
		a->l[e->older].newer = e->newer;
	if (e->newer == NIL)
		a->newest = e->older;
	else
		a->l[e->newer].older = e->older;
}

static void
age_push(struct ldm_agetab *a, uint32_t i)
{
	struct ldm_agetab_link *e = &a->l[i];

	e->older = a->newest;
	e->newer = NIL;
	if (a->newest == NIL)
		a->oldest = i;
	else
		a->l[a->newest].newer = i;
	a->newest = i;
}

void
ldm_agetab_touch(struct ldm_agetab *a, uint32_t i)
{
	age_unlink(a, i);
	age_push(a, i);
}

void
ldm_agetab_to_front(struct ldm_agetab *a, uint32_t i, uint32_t prev)
{
	chain_unlink(a, i, prev);
	chain_push(a, i);
}

uint32_t
ldm_agetab_chain_prev(const struct ldm_agetab *a, uint32_t i)
{
	uint32_t prev = NIL;

	for (uint32_t j = a->head[a->l[i].bucket]; j != i; j = a->l[j].next)
		prev = j;
	return prev;
}

void
ldm_agetab_release(struct ldm_agetab *a, uint32_t i, uint32_t prev)
{
	chain_unlink(a, i, prev);
	age_unlink(a, i);
	a->l[i].next = a->free;
	a->free = i;
	a->size--;
}

void
ldm_agetab_drop(struct ldm_agetab *a, uint32_t i, uint32_t prev, uint64_t now_ms)
{
	if (a->l[i].expires_ms <= now_ms)
		a->expired++;
	else
		a->evictions++;
	ldm_agetab_release(a, i, prev);
}

/* Drops I to make room: an expired entry is reclaimed, a live one evicted. */
static void
make_room(struct ldm_agetab *a, uint32_t i, uint64_t now_ms)
{
	ldm_agetab_drop(a, i, ldm_agetab_chain_prev(a, i), now_ms);
}

/* The tail (oldest entry) of bucket B's chain. */
static uint32_t
chain_tail(const struct ldm_agetab *a, uint32_t b)
{
	uint32_t i = a->head[b];

	while (a->l[i].next != NIL)
		i = a->l[i].next;
	return i;
}

/*
 * The victim when the table is full: of the evict_window oldest entries, the one expiring
 * first. A window of 1 is plain oldest-first; a wider one spares entries given a long life
 * when short-lived ones are about to go anyway.
 */
static uint32_t
victim(const struct ldm_agetab *a)
{
	uint32_t v = a->oldest, i = a->oldest;

	for (unsigned n = 0; i != NIL && n < a->evict_window; n++, i = a->l[i].newer)
		if (a->l[i].expires_ms < a->l[v].expires_ms)
			v = i;
	return v;
}

uint32_t
ldm_agetab_take(struct ldm_agetab *a, uint32_t b, uint64_t now_ms)
{
	uint32_t i;

	if (a->chain_len[b] >= a->max_chain)
		make_room(a, chain_tail(a, b), now_ms);
	/* Dropped entries are reused first, so unused pages are touched only as the table fills. */
	if (a->free == NIL && a->unused < a->capacity) {
		i = a->unused++;
	} else {
		if (a->free == NIL)
			make_room(a, victim(a), now_ms);
		i = a->free;
		a->free = a->l[i].next;
	}
	a->l[i].bucket = b;
	chain_push(a, i);
	age_push(a, i);
	a->size++;
	return i;
}
