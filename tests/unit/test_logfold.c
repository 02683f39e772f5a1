/* Folding of repeated events: windows, keys, the count sum, a full table, owned strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/event.h"
#include "ldm/util.h"
#include "logfold.h"

#define MAX_EMITTED 64

struct sink {
	size_t n;
	uint64_t total;
	struct {
		uint64_t count;
		uint16_t sport;
		uint16_t dport;
		uint32_t pid;
		long ts;
		char host[LDM_EVENT_HOST_MAX + 1];
	} v[MAX_EMITTED];
};

static void
collect(const struct ldm_event *e, void *userdata)
{
	struct sink *s = userdata;

	s->total += e->count;
	if (s->n == MAX_EMITTED)
		return;
	s->v[s->n].count = e->count;
	s->v[s->n].sport = e->sport;
	s->v[s->n].dport = e->dport;
	s->v[s->n].pid = e->pid;
	s->v[s->n].ts = (long)e->ts.tv_sec;
	(void)ldm_strscpy(s->v[s->n].host, sizeof(s->v[s->n].host), e->host ? e->host : "");
	s->n++;
}

/* Variations of one blocked event: those that change the key, and those that do not. */
enum variant {
	V_BASE,
	V_SPORT, /* same key */
	V_SRC,   /* same key */
	V_PID,   /* same key */
	V_APP,   /* same key */
	V_DPORT,
	V_DST,
	V_HOST,
	V_RULE,
	V_REASON,
	V_SESSION,
	V_PROTO,
	V_AUDIT,   /* would_block */
	V_START,   /* session_start: never folded */
	V_ALLOWED, /* allowed: folded as blocked are */
	V_COUNTED, /* count 5 already: never folded */
};

static void
make(struct ldm_event *e, enum variant v, long t)
{
	*e = (struct ldm_event){ .ts = { t, 0 },
		                 .event = LDM_EVENT_BLOCKED,
		                 .session = 7,
		                 .policy = "qgc",
		                 .uid = 1000,
		                 .app = "/usr/bin/curl",
		                 .pid = 10,
		                 .proto = LDM_PROTO_TCP,
		                 .src = { AF_INET, { 10, 0, 0, 2 } },
		                 .sport = 40000,
		                 .dst = { AF_INET, { 198, 51, 100, 7 } },
		                 .dport = 443,
		                 .host = "tiles.example.org",
		                 .rule = 3,
		                 .reason = "deny rule",
		                 .count = 1 };
	e->sport += v == V_SPORT ? (uint16_t)t : 0;
	e->src.addr[3] += v == V_SRC;
	e->pid += v == V_PID;
	e->app = v == V_APP ? "/usr/bin/wget" : e->app;
	e->dport += v == V_DPORT;
	e->dst.addr[3] += v == V_DST;
	e->host = v == V_HOST ? "other.example.org" : e->host;
	e->rule += v == V_RULE;
	e->reason = v == V_REASON ? "default deny" : e->reason;
	e->session += v == V_SESSION;
	e->proto = v == V_PROTO ? LDM_PROTO_UDP : e->proto;
	e->event = v == V_AUDIT     ? LDM_EVENT_WOULD_BLOCK
	           : v == V_START   ? LDM_EVENT_SESSION_START
	           : v == V_ALLOWED ? LDM_EVENT_ALLOWED
	                            : e->event;
	e->count = v == V_COUNTED ? 5 : 1;
}

enum op { OFFER, FLUSH, FLUSH_ALL };

struct step {
	enum op op;
	uint64_t now;
	enum variant v;
	int want;         /* OFFER: the verdict; FLUSH: records emitted */
	size_t n_emitted; /* records emitted so far */
};

/* Runs STEPS on a table of CAPACITY; fails at the first step that differs. */
static void
run(const char *name, const struct step *steps, size_t n, size_t capacity, struct sink *sink)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;

	assert_int_equal(ldm_fold_new(capacity, &f), 0);
	memset(sink, 0, sizeof(*sink));
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct ldm_event e;
		int got;

		make(&e, s->v, (long)s->now);
		if (s->op == OFFER)
			got = (int)ldm_fold_offer(f, &e, s->now, collect, sink);
		else
			got = (int)ldm_fold_flush(f, s->now, s->op == FLUSH_ALL, collect, sink);
		if (got != s->want || sink->n != s->n_emitted)
			fail_msg("%s: step %zu: got %d (%zu emitted), want %d (%zu)", name, i, got,
			         sink->n, s->want, s->n_emitted);
	}
	(void)ldm_fold_flush(f, 0, true, collect, sink);
	assert_int_equal(ldm_fold_open(f), 0);
	assert_int_equal(ldm_fold_pending(f), 0);
}

#define E LDM_FOLD_EMIT
#define C LDM_FOLD_COUNTED

static void
test_windows(void **state)
{
	static const struct step single[] = {
		{ OFFER, 0, V_BASE, E, 0 },
		{ FLUSH, 999, 0, 0, 0 },
		{ FLUSH, 1000, 0, 0, 0 }, /* no repeats: nothing to say */
		{ OFFER, 1000, V_BASE, E, 0 },
	};
	static const struct step repeats[] = {
		{ OFFER, 5000, V_BASE, E, 0 }, { OFFER, 5001, V_SPORT, C, 0 },
		{ OFFER, 5002, V_SRC, C, 0 },  { OFFER, 5003, V_PID, C, 0 },
		{ OFFER, 5004, V_APP, C, 0 },  { OFFER, 5999, V_SPORT, C, 0 },
		{ FLUSH, 5999, 0, 0, 0 },      { FLUSH, 6000, 0, 1, 1 },
		{ OFFER, 6000, V_BASE, E, 1 }, /* a new window */
		{ OFFER, 6500, V_BASE, C, 1 }, { FLUSH_ALL, 6500, 0, 1, 2 },
	};
	static const struct step keys[] = {
		{ OFFER, 0, V_BASE, E, 0 },     { OFFER, 1, V_DPORT, E, 0 },
		{ OFFER, 2, V_DST, E, 0 },      { OFFER, 3, V_HOST, E, 0 },
		{ OFFER, 4, V_RULE, E, 0 },     { OFFER, 5, V_REASON, E, 0 },
		{ OFFER, 6, V_SESSION, E, 0 },  { OFFER, 7, V_PROTO, E, 0 },
		{ OFFER, 8, V_AUDIT, E, 0 },    { OFFER, 9, V_START, E, 0 },
		{ OFFER, 10, V_START, E, 0 },   { OFFER, 11, V_ALLOWED, E, 0 },
		{ OFFER, 12, V_ALLOWED, C, 0 }, { OFFER, 13, V_COUNTED, E, 0 },
		{ OFFER, 14, V_COUNTED, E, 0 }, { OFFER, 15, V_AUDIT, C, 0 },
		{ OFFER, 16, V_HOST, C, 0 },    { FLUSH, 1003, 0, 1, 1 },
		{ FLUSH, 1008, 0, 1, 2 },       { FLUSH, 1011, 0, 1, 3 },
	};
	/* Offering flushes what ended first: the record comes before the new window. */
	static const struct step lazy[] = {
		{ OFFER, 0, V_BASE, E, 0 },
		{ OFFER, 500, V_BASE, C, 0 },
		{ OFFER, 1500, V_BASE, E, 1 },
	};
	struct sink sink;

	(void)state;
	run("single", single, ELEMENTSOF(single), 16, &sink);
	run("repeats", repeats, ELEMENTSOF(repeats), 16, &sink);
	/* The record of the first window: 5 repeats, those of the last one. */
	assert_int_equal(sink.v[0].count, 5);
	assert_int_equal(sink.v[0].sport, 40000 + 5999);
	assert_int_equal(sink.v[0].ts, 5999);
	assert_int_equal(sink.v[0].pid, 10);
	assert_int_equal(sink.v[1].count, 1);
	run("keys", keys, ELEMENTSOF(keys), 16, &sink);
	assert_string_equal(sink.v[0].host, "other.example.org");
	run("lazy", lazy, ELEMENTSOF(lazy), 16, &sink);
	assert_int_equal(sink.v[0].count, 1);
}

/* A full table closes its oldest window early, with its count. */
static void
test_full(void **state)
{
	static const struct step
	        full[] = {
		        { OFFER, 0, V_BASE, E, 0 }, { OFFER, 1, V_DPORT, E, 0 },
		        { OFFER, 2, V_BASE, C, 0 }, { OFFER, 3, V_BASE, C, 0 },
		        { OFFER, 4, V_DST, E, 1 },  /* BASE closed early: count 2 */
		        { OFFER, 5, V_BASE, E, 1 }, /* a new window; DPORT closed, nothing to say */
		        { OFFER, 6, V_DST, C, 1 },  { FLUSH, 1003, 0, 0, 1 },
		        { FLUSH, 1004, 0, 1, 2 },
	        };
	struct sink sink;

	(void)state;
	run("full", full, ELEMENTSOF(full), 2, &sink);
	assert_int_equal(sink.v[0].count, 2);
	assert_int_equal(sink.v[0].dport, 443);
	assert_int_equal(sink.v[1].count, 1);
	assert_int_equal(sink.v[1].dport, 443);
}

/* However attempts arrive, the counts written add up to them. */
static void
test_sum(void **state)
{
	static const size_t caps[] = { 1, 3, 64, 4096 };
	uint32_t seed = 12345;

	(void)state;
	for (size_t c = 0; c < ELEMENTSOF(caps); c++) {
		_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
		struct sink sink = { 0 };
		uint64_t now = 0, written = 0, attempts = 0;

		assert_int_equal(ldm_fold_new(caps[c], &f), 0);
		for (int i = 0; i < 100000; i++) {
			struct ldm_event e;

			seed = seed * 1103515245u + 12345u;
			now += (seed >> 16) % 3;
			make(&e, (enum variant)((seed >> 8) % (V_COUNTED + 1)), (long)now);
			e.dport = (uint16_t)(1 + (seed >> 20) % 8);
			attempts += e.count;
			if (ldm_fold_offer(f, &e, now, collect, &sink) == LDM_FOLD_EMIT)
				written += e.count;
			if (i % 1000 == 0)
				(void)ldm_fold_flush(f, now, false, collect, &sink);
			assert_true(ldm_fold_open(f) <= caps[c]);
		}
		(void)ldm_fold_flush(f, now, true, collect, &sink);
		assert_int_equal(written + sink.total, attempts);
		assert_true(sink.total > 0);
	}
}

/* A session's windows flushed at its end: its repeats now, other sessions' untouched, and
 * the counts still add up to the attempts (a later repeat folds into the emptied window). */
static void
test_flush_session(void **state)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	struct sink sink = { 0 };
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_fold_new(16, &f), 0);
	for (int i = 0; i < 5; i++) { /* session 7: 1 written, 4 held; 8: 1 written, 4 held */
		make(&e, V_BASE, 100);
		(void)ldm_fold_offer(f, &e, 100, collect, &sink);
		make(&e, V_SESSION, 100);
		(void)ldm_fold_offer(f, &e, 100, collect, &sink);
	}
	make(&e, V_DPORT, 100); /* session 7, another window, no repeat */
	(void)ldm_fold_offer(f, &e, 100, collect, &sink);
	assert_int_equal(ldm_fold_pending(f), 8);
	assert_int_equal(ldm_fold_flush_session(f, 7, collect, &sink), 1);
	assert_int_equal(sink.n, 1);
	assert_int_equal(sink.v[0].count, 4);
	assert_int_equal(ldm_fold_pending(f), 4);
	assert_int_equal(ldm_fold_flush_session(f, 7, collect, &sink), 0);
	assert_int_equal(ldm_fold_flush_session(f, 99, collect, &sink), 0);
	make(&e, V_BASE, 200);
	assert_int_equal(ldm_fold_offer(f, &e, 200, collect, &sink), LDM_FOLD_COUNTED);
	(void)ldm_fold_flush(f, 0, true, collect, &sink);
	assert_int_equal(sink.n, 3); /* 8's 4 repeats, then 7's late one */
	assert_int_equal(sink.total, 4 + 4 + 1);
	assert_int_equal(ldm_fold_pending(f), 0);
}

/* The table keeps its own copies of the strings, cut to their caps. */
static void
test_strings(void **state)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	char host[600], reason[32];
	struct sink sink = { 0 };
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_fold_new(4, &f), 0);
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	(void)ldm_strscpy(reason, sizeof(reason), "deny rule");
	make(&e, V_BASE, 0);
	e.host = host;
	e.reason = reason;
	assert_int_equal(ldm_fold_offer(f, &e, 0, collect, &sink), LDM_FOLD_EMIT);
	/* Differs past the cap only: the same key, as ldm_event_json() would write both. */
	host[sizeof(host) - 2] = 'x';
	assert_int_equal(ldm_fold_offer(f, &e, 1, collect, &sink), LDM_FOLD_COUNTED);
	memset(host, 'z', LDM_EVENT_HOST_MAX);
	(void)ldm_strscpy(reason, sizeof(reason), "overwritten");
	assert_int_equal(ldm_fold_flush(f, 1000, false, collect, &sink), 1);
	assert_int_equal(strlen(sink.v[0].host), LDM_EVENT_HOST_MAX);
	assert_int_equal(sink.v[0].host[0], 'h');
}

static void
test_deadline_and_new(void **state)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	struct ldm_fold *untouched = (struct ldm_fold *)&f;
	struct sink sink = { 0 };
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_fold_new(0, &untouched), -EINVAL);
	assert_int_equal(ldm_fold_new(LDM_FOLD_MAX_CAPACITY + 1, &untouched), -EINVAL);
	assert_ptr_equal(untouched, (struct ldm_fold *)&f);
	assert_null(ldm_fold_free(NULL));
	assert_int_equal(ldm_fold_new(LDM_FOLD_DEFAULT_CAPACITY, &f), 0);
	assert_int_equal(ldm_fold_next_deadline(f), UINT64_MAX);
	make(&e, V_BASE, 0);
	(void)ldm_fold_offer(f, &e, 42, collect, &sink);
	make(&e, V_DPORT, 0);
	(void)ldm_fold_offer(f, &e, 50, collect, &sink);
	assert_int_equal(ldm_fold_next_deadline(f), 1042);
	(void)ldm_fold_flush(f, 1042, false, collect, &sink);
	assert_int_equal(ldm_fold_next_deadline(f), 1050);
	(void)ldm_fold_flush(f, 1050, false, collect, &sink);
	assert_int_equal(ldm_fold_next_deadline(f), UINT64_MAX);
}

/* Unique names under one domain fold by fold_host; the window record names the domain. */
static void
test_fold_host(void **state)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	struct sink sink = { 0 };
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_fold_new(4, &f), 0);
	make(&e, V_BASE, 0);
	e.fold_host = "*.leak.example.org";
	e.host = "a1.leak.example.org";
	assert_int_equal(ldm_fold_offer(f, &e, 0, collect, &sink), LDM_FOLD_EMIT);
	e.host = "a2.leak.example.org";
	assert_int_equal(ldm_fold_offer(f, &e, 1, collect, &sink), LDM_FOLD_COUNTED);
	e.host = "a3.leak.example.org";
	assert_int_equal(ldm_fold_offer(f, &e, 2, collect, &sink), LDM_FOLD_COUNTED);
	e.fold_host = NULL; /* no fold host: a name of its own */
	e.host = "a4.leak.example.org";
	assert_int_equal(ldm_fold_offer(f, &e, 3, collect, &sink), LDM_FOLD_EMIT);
	assert_int_equal(ldm_fold_flush(f, 2000, true, collect, &sink), 1);
	assert_int_equal(sink.v[0].count, 2);
	assert_string_equal(sink.v[0].host, "*.leak.example.org");
}

/* A flood of unique names resolved to one address folds as blocked lookups do. */
static void
test_resolved(void **state)
{
	_cleanup_(ldm_fold_freep) struct ldm_fold *f = NULL;
	struct sink sink = { 0 };
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_fold_new(4, &f), 0);
	ldm_event_init(&e, LDM_EVENT_RESOLVED, NULL);
	e.session = 7;
	e.dst.family = AF_INET;
	e.dst.addr[0] = 198;
	e.host = "tiles.example.org";
	assert_int_equal(ldm_fold_offer(f, &e, 0, collect, &sink), LDM_FOLD_EMIT);
	e.host = "cdn.example.net"; /* another name of the address: a record of its own */
	assert_int_equal(ldm_fold_offer(f, &e, 1, collect, &sink), LDM_FOLD_EMIT);
	e.fold_host = "*.x.example";
	e.host = "a1.x.example";
	assert_int_equal(ldm_fold_offer(f, &e, 2, collect, &sink), LDM_FOLD_EMIT);
	e.host = "a2.x.example";
	assert_int_equal(ldm_fold_offer(f, &e, 3, collect, &sink), LDM_FOLD_COUNTED);
	assert_int_equal(ldm_fold_flush(f, 2000, true, collect, &sink), 1);
	assert_int_equal(sink.v[0].count, 1);
	assert_string_equal(sink.v[0].host, "*.x.example");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),   cmocka_unit_test(test_full),
		cmocka_unit_test(test_sum),       cmocka_unit_test(test_flush_session),
		cmocka_unit_test(test_strings),   cmocka_unit_test(test_deadline_and_new),
		cmocka_unit_test(test_fold_host), cmocka_unit_test(test_resolved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
