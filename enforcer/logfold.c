/*
 * Folding of repeated events (see logfold.h for the semantics). Windows live in a ring in
 * the order they opened, which is also the order they end (all are LDM_FOLD_WINDOW_MS
 * long), so closing is always at the head; a hash table of chains finds a window by key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "logfold.h"

#define NONE UINT32_MAX

/* One open window: a copy of its first event, whose strings point into STRS (one block of
 * exactly their size: a window costs ~200 bytes plus its strings, not every string's
 * maximum). */
struct entry {
	struct ldm_event ev;
	uint64_t open_ms;
	uint64_t repeats;
	uint32_t hash;
	uint32_t next; /* the next entry in the same bucket, or NONE */
	char *strs;
};

struct ldm_fold {
	struct entry *v; /* a ring of cap entries: head is the oldest, n are open */
	size_t cap;
	size_t head;
	size_t n;
	uint32_t *buckets; /* mask + 1 of them: the first entry of each chain, or NONE */
	size_t mask;
	uint64_t pending;
};

int
ldm_fold_new(size_t capacity, struct ldm_fold **ret)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	size_t nb = 1;

	if (capacity == 0 || capacity > LDM_FOLD_MAX_CAPACITY)
		return -EINVAL;
	while (nb < 2 * capacity)
		nb *= 2;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->v = calloc(capacity, sizeof(*f->v));
	f->buckets = malloc(nb * sizeof(*f->buckets));
	if (f->v == NULL || f->buckets == NULL)
		return -ENOMEM;
	memset(f->buckets, 0xff, nb * sizeof(*f->buckets));
	f->cap = capacity;
	f->mask = nb - 1;
	*ret = TAKE_PTR(f);
	return 0;
}

struct ldm_fold *
ldm_fold_free(struct ldm_fold *f)
{
	if (f != NULL) {
		for (size_t i = 0; f->v != NULL && i < f->cap; i++)
			free(f->v[i].strs);
		free(f->v);
		free(f->buckets);
		free(f);
	}
	return NULL;
}

static bool
foldable(const struct ldm_event *e)
{
	return e->count <= 1 &&
	       (e->event == LDM_EVENT_BLOCKED || e->event == LDM_EVENT_WOULD_BLOCK ||
	        e->event == LDM_EVENT_ALLOWED || e->event == LDM_EVENT_SYSCALL_DENIED ||
	        e->event == LDM_EVENT_RESOLVED);
}

static uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t
fnv_str(uint32_t h, const char *s, size_t cap)
{
	return s == NULL ? fnv(h, "", 1) : fnv(fnv(h, s, strnlen(s, cap)), "", 1);
}

/* The host that identifies an attempt for folding. */
static const char *
fold_of(const struct ldm_event *e)
{
	return e->fold_host != NULL ? e->fold_host : e->host;
}

/* Hashes the key fields: the ones key_equal() compares. */
static uint32_t
key_hash(const struct ldm_event *e)
{
	uint32_t h = 2166136261u;

	h = fnv(h, &e->event, sizeof(e->event));
	h = fnv(h, &e->session, sizeof(e->session));
	h = fnv(h, &e->proto, sizeof(e->proto));
	h = fnv(h, &e->dst.family, sizeof(e->dst.family));
	h = fnv(h, e->dst.addr, sizeof(e->dst.addr));
	h = fnv(h, &e->dport, sizeof(e->dport));
	h = fnv(h, &e->rule, sizeof(e->rule));
	h = fnv(h, &e->nr, sizeof(e->nr));
	h = fnv(h, &e->err, sizeof(e->err));
	h = fnv_str(h, fold_of(e), LDM_EVENT_HOST_MAX);
	h = fnv_str(h, e->reason, LDM_EVENT_REASON_MAX);
	h = fnv_str(h, e->path, LDM_EVENT_PATH_MAX);
	h = fnv_str(h, e->sock, LDM_EVENT_PATH_MAX);
	return fnv_str(h, e->syscall, LDM_EVENT_SYSCALL_MAX);
}

static bool
str_eq(const char *a, const char *b, size_t cap)
{
	return strncmp(a != NULL ? a : "", b != NULL ? b : "", cap) == 0;
}

static bool
key_equal(const struct ldm_event *a, const struct ldm_event *b)
{
	return a->event == b->event && a->session == b->session && a->proto == b->proto &&
	       a->dst.family == b->dst.family &&
	       memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr)) == 0 && a->dport == b->dport &&
	       a->rule == b->rule && a->nr == b->nr && a->err == b->err &&
	       str_eq(fold_of(a), fold_of(b), LDM_EVENT_HOST_MAX) &&
	       str_eq(a->reason, b->reason, LDM_EVENT_REASON_MAX) &&
	       str_eq(a->syscall, b->syscall, LDM_EVENT_SYSCALL_MAX) &&
	       str_eq(a->path, b->path, LDM_EVENT_PATH_MAX) &&
	       str_eq(a->sock, b->sock, LDM_EVENT_PATH_MAX);
}

/* Appends S, cut to MAX bytes, at *AT; returns where it went, or NULL for an empty string. */
static const char *
keep(char **at, const char *s, size_t max)
{
	size_t n = s == NULL ? 0 : strnlen(s, max);
	char *p = *at;

	if (n == 0)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	*at += n + 1;
	return p;
}

static size_t
need(const char *s, size_t max)
{
	return s == NULL ? 0 : strnlen(s, max) + 1;
}

/* Makes EN a copy of E; -ENOMEM leaves EN without strings. */
static int
entry_set(struct entry *en, const struct ldm_event *e)
{
	size_t total =
	        need(e->policy, LDM_EVENT_POLICY_MAX) + need(e->user, LDM_EVENT_USER_MAX) +
	        need(e->app, LDM_EVENT_APP_MAX) + need(fold_of(e), LDM_EVENT_HOST_MAX) +
	        need(e->label, LDM_EVENT_LABEL_MAX) + need(e->comment, LDM_EVENT_COMMENT_MAX) +
	        need(e->reason, LDM_EVENT_REASON_MAX) + need(e->syscall, LDM_EVENT_SYSCALL_MAX) +
	        need(e->path, LDM_EVENT_PATH_MAX) + need(e->sock, LDM_EVENT_PATH_MAX);
	char *at;

	free(en->strs);
	en->strs = malloc(total > 0 ? total : 1);
	if (en->strs == NULL)
		return -ENOMEM;
	at = en->strs;
	en->ev = *e;
	en->ev.policy = keep(&at, e->policy, LDM_EVENT_POLICY_MAX);
	en->ev.user = keep(&at, e->user, LDM_EVENT_USER_MAX);
	en->ev.app = keep(&at, e->app, LDM_EVENT_APP_MAX);
	en->ev.host = keep(&at, fold_of(e), LDM_EVENT_HOST_MAX);
	en->ev.fold_host = NULL; /* the window's host is the fold host now */
	en->ev.label = keep(&at, e->label, LDM_EVENT_LABEL_MAX);
	en->ev.comment = keep(&at, e->comment, LDM_EVENT_COMMENT_MAX);
	en->ev.reason = keep(&at, e->reason, LDM_EVENT_REASON_MAX);
	en->ev.syscall = keep(&at, e->syscall, LDM_EVENT_SYSCALL_MAX);
	en->ev.path = keep(&at, e->path, LDM_EVENT_PATH_MAX);
	en->ev.sock = keep(&at, e->sock, LDM_EVENT_PATH_MAX);
	return 0;
}

static uint32_t
lookup(const struct ldm_fold *f, const struct ldm_event *e, uint32_t h)
{
	for (uint32_t i = f->buckets[h & f->mask]; i != NONE; i = f->v[i].next)
		if (f->v[i].hash == h && key_equal(&f->v[i].ev, e))
			return i;
	return NONE;
}

static void
unlink_entry(struct ldm_fold *f, uint32_t idx)
{
	uint32_t *p = &f->buckets[f->v[idx].hash & f->mask];

	while (*p != idx)
		p = &f->v[*p].next;
	*p = f->v[idx].next;
}

/* Closes the oldest window; emits its count record if it had repeats. Returns 1 if so. */
static size_t
close_oldest(struct ldm_fold *f, ldm_fold_emit_fn emit, void *userdata)
{
	struct entry *en = &f->v[f->head];
	size_t emitted = 0;

	unlink_entry(f, (uint32_t)f->head);
	if (en->repeats > 0) {
		en->ev.count = en->repeats;
		f->pending -= en->repeats;
		emit(&en->ev, userdata);
		emitted = 1;
	}
	free(en->strs);
	en->strs = NULL;
	f->head = (f->head + 1) % f->cap;
	f->n--;
	return emitted;
}

static uint64_t
deadline(const struct entry *en)
{
	return en->open_ms + LDM_FOLD_WINDOW_MS;
}

size_t
ldm_fold_flush(struct ldm_fold *f, uint64_t now_ms, bool all, ldm_fold_emit_fn emit, void *userdata)
{
	size_t emitted = 0;

	while (f->n > 0 && (all || now_ms >= deadline(&f->v[f->head])))
		emitted += close_oldest(f, emit, userdata);
	return emitted;
}

size_t
ldm_fold_flush_session(struct ldm_fold *f, uint64_t session, ldm_fold_emit_fn emit, void *userdata)
{
	size_t emitted = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct entry *en = &f->v[(f->head + i) % f->cap];
		uint64_t count = en->ev.count;

		if (en->ev.session != session || en->repeats == 0)
			continue;
		en->ev.count = en->repeats;
		f->pending -= en->repeats;
		emit(&en->ev, userdata);
		en->ev.count = count;
		en->repeats = 0;
		emitted++;
	}
	return emitted;
}

/* A repeat: the record will carry the time, source and pid of the last one. */
static void
count_repeat(struct ldm_fold *f, struct entry *en, const struct ldm_event *e)
{
	en->repeats++;
	f->pending++;
	en->ev.ts = e->ts;
	en->ev.src = e->src;
	en->ev.sport = e->sport;
	en->ev.pid = e->pid;
}

enum ldm_fold_verdict
ldm_fold_offer(struct ldm_fold *f, const struct ldm_event *e, uint64_t now_ms,
               ldm_fold_emit_fn emit, void *userdata)
{
	uint32_t h, idx;
	struct entry *en;

	if (!foldable(e))
		return LDM_FOLD_EMIT;
	(void)ldm_fold_flush(f, now_ms, false, emit, userdata);
	h = key_hash(e);
	idx = lookup(f, e, h);
	if (idx != NONE) {
		count_repeat(f, &f->v[idx], e);
		return LDM_FOLD_COUNTED;
	}
	if (f->n == f->cap)
		(void)close_oldest(f, emit, userdata);
	idx = (uint32_t)((f->head + f->n) % f->cap);
	en = &f->v[idx];
	if (entry_set(en, e) < 0)
		return LDM_FOLD_EMIT; /* no window: this and its repeats are written one by one */
	en->ev.count = 1;
	en->open_ms = now_ms;
	en->repeats = 0;
	en->hash = h;
	en->next = f->buckets[h & f->mask];
	f->buckets[h & f->mask] = idx;
	f->n++;
	return LDM_FOLD_EMIT;
}

uint64_t
ldm_fold_next_deadline(const struct ldm_fold *f)
{
	return f->n > 0 ? deadline(&f->v[f->head]) : UINT64_MAX;
}

size_t
ldm_fold_open(const struct ldm_fold *f)
{
	return f->n;
}

uint64_t
ldm_fold_pending(const struct ldm_fold *f)
{
	return f->pending;
}
