/*
 * The kernel side of the daemon's state: generate the whole LDM- ruleset for the current
 * sessions and commit it (one iptables-restore per family), verify that it is still there
 * (tamper), and remove it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "state.h"
#include "iptables.h"
#include "ldm/util.h"
#include "ipt.h"
#include "rulecmp.h"
#include "unjudged.h"

/* Sessions whose chains the ruleset holds: a spare too (an empty policy: everything it
 * sends is queued and judged by the enforcer). */
/* What the kernel holds of ours in one family: read by iptables-save, or known from our own
 * last commit. */
struct kernel_view {
	bool valid;
	struct ldm_ipt_table mangle, filter;
};

/* The module's own state. */
struct ldm_rules {
	struct kernel_view kernel[2]; /* IPv4, IPv6: what the next commit starts from */
	char *last_rules[2];   /* the last committed text, IPv4 and IPv6: what verify expects */
	char verify_diff[400]; /* what the last check that disagreed found first */
	bool committed[LDM_MAX_SESSIONS + 1]; /* slots whose chains the last commit holds */
	bool commit_wanted;                   /* a background commit is due */
	struct ldm_ipt_commit bg;             /* the background commit running, if any */
	char *bg_text[2];
	bool bg_live[LDM_MAX_SESSIONS + 1];
	bool commit_failed;       /* the last commit failed: retried in the background */
	uint64_t commit_retry_at; /* after a failure: not before this time */
	uint64_t rules_check_at;  /* tamper debounce: check at this time, 0 none */
	uint64_t next_poll;       /* the periodic check, a backstop to notifications */
	uint64_t tamper_window, tamper_in_window, rules_hold_until;  /* repair rate limit */
	uint64_t commits, commit_errors, rule_checks, tamper_events; /* for ldmctl status */
};

int
ldm_rules_new(struct daemon *d)
{
	d->rules = calloc(1, sizeof(*d->rules));
	return d->rules == NULL ? -ENOMEM : 0;
}

void
ldm_rules_free(struct daemon *d)
{
	if (d->rules == NULL)
		return;
	free(d->rules->last_rules[0]);
	free(d->rules->last_rules[1]);
	free(d->rules);
	d->rules = NULL;
}

bool
ldm_rules_holds(const struct daemon *d, unsigned slot, bool running)
{
	const struct ldm_rules *r = d->rules;

	return slot <= LDM_MAX_SESSIONS &&
	       (r->committed[slot] || (running && r->bg.running && r->bg_live[slot]));
}

void
ldm_rules_forget_slot(struct daemon *d, unsigned slot)
{
	if (slot <= LDM_MAX_SESSIONS)
		d->rules->committed[slot] = false;
}

bool
ldm_rules_failing(const struct daemon *d)
{
	return d->rules->commit_failed;
}

void
ldm_rules_check_after(struct daemon *d, uint64_t at)
{
	if (d->rules->rules_check_at == 0)
		d->rules->rules_check_at = at;
}

void
ldm_rules_stats(const struct daemon *d, struct ldm_rules_stats *ret)
{
	*ret = (struct ldm_rules_stats){ .commits = d->rules->commits,
		                         .commit_errors = d->rules->commit_errors,
		                         .rule_checks = d->rules->rule_checks,
		                         .tamper_events = d->rules->tamper_events };
}

static bool
session_live(const struct session *s)
{
	return s->state == SESSION_PROBING || s->state == SESSION_READY ||
	       s->state == SESSION_SPARE;
}

static const struct ldm_policy no_rules;

/* Is NAME one of ours that the last commit put in? (Sessions change state between a commit
 * and a check; the check compares the kernel with what was committed, not with the state.) */
static bool
chain_expected(const struct daemon *d, const char *name, bool filter)
{
	unsigned slot;

	if (ldm_ruleset_fixed_chain(name, filter))
		return true;
	slot = filter ? 0 : ldm_ruleset_slot_chain(name);
	return slot != 0 && slot <= LDM_MAX_SESSIONS && d->rules->committed[slot];
}

static enum ldm_rs_jump
jump_state(int pos, size_t count)
{
	if (pos == 0)
		return LDM_JUMP_MISSING;
	return pos == 1 && count == 1 ? LDM_JUMP_OK : LDM_JUMP_NOT_FIRST;
}

static void
view_clear(struct kernel_view *v)
{
	ldm_ipt_table_clear(&v->mangle);
	ldm_ipt_table_clear(&v->filter);
	v->valid = false;
}

static int
view_read(int family, struct kernel_view *v, char **ret_text)
{
	_cleanup_free_ char *m = NULL, *f = NULL;
	int r;

	*v = (struct kernel_view){ 0 };
	r = ldm_ipt_save(family, "mangle", &m);
	if (r == 0)
		r = ldm_ipt_save(family, "filter", &f);
	if (r == 0)
		r = ldm_ipt_scan(m, "mangle", LDM_CHAIN_OUT, LDM_CHAIN_POST, LDM_CHAIN_IN,
		                 &v->mangle);
	if (r == 0)
		r = ldm_ipt_scan(f, "filter", LDM_CHAIN_GUARD, NULL, NULL, &v->filter);
	if (r == 0 && ret_text != NULL && asprintf(ret_text, "%s%s", m, f) < 0)
		r = -ENOMEM;
	if (r < 0)
		view_clear(v);
	else
		v->valid = true;
	return r;
}

/* Drops from T the chains that TEXT deletes (-X NAME). */
static void
drop_deleted(struct ldm_ipt_table *t, const char *text)
{
	for (size_t i = 0; i < t->n_chains;) {
		char want[64];
		int n = snprintf(want, sizeof(want), "\n-X %s\n", t->chains[i]);

		if (n > 0 && (size_t)n < sizeof(want) && strstr(text, want) != NULL) {
			free(t->chains[i]);
			t->chains[i] = t->chains[--t->n_chains];
		} else {
			i++;
		}
	}
}

/*
 * What the kernel holds after TEXT was committed: its chains (declared, minus deleted) and
 * our jumps, each once and first. The next commit starts from this instead of reading the
 * kernel again; a tamper check or a failed commit throws it away.
 */
static int
view_from_commit(const char *text, struct kernel_view *v)
{
	int r;

	*v = (struct kernel_view){ 0 };
	r = ldm_ipt_scan(text, "mangle", NULL, NULL, NULL, &v->mangle);
	if (r == 0)
		r = ldm_ipt_scan(text, "filter", NULL, NULL, NULL, &v->filter);
	if (r < 0) {
		view_clear(v);
		return r;
	}
	drop_deleted(&v->mangle, text);
	drop_deleted(&v->filter, text);
	v->mangle.jump_output = v->mangle.jump_postrouting = v->mangle.jump_input = 1;
	v->mangle.n_output_jumps = v->mangle.n_postrouting_jumps = v->mangle.n_input_jumps = 1;
	v->filter.jump_output = 1;
	v->filter.n_output_jumps = 1;
	v->valid = true;
	return 0;
}

void
ldm_rules_forget_kernel(struct daemon *d)
{
	view_clear(&d->rules->kernel[0]);
	view_clear(&d->rules->kernel[1]);
}

static size_t
collect_sessions(const struct daemon *d, struct ldm_rs_session *out)
{
	size_t n = 0;

	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		const struct session *s = &d->sessions[i];

		if (!session_live(s))
			continue;
		out[n++] =
		        (struct ldm_rs_session){ .slot = s->slot,
			                         .id = s->id,
			                         .cgroup = s->cgroup,
			                         .policy = s->state == SESSION_SPARE ? &no_rules
			                                                             : s->policy };
	}
	return n;
}

/* Builds the text for FAMILY from the state and what the kernel holds (read only when the
 * remembered view is gone). */
static int
family_build(struct daemon *d, int family, char **ret, char *err, size_t err_size)
{
	static struct ldm_rs_session ss[LDM_MAX_SESSIONS];
	struct kernel_view *v = &d->rules->kernel[family == AF_INET6];
	size_t n_lan = 0;
	const struct ldm_rs_lan *lan = ldm_lan_named(d, &n_lan);
	int r = 0;

	if (!v->valid)
		r = view_read(family, v, NULL);
	if (r < 0) {
		(void)snprintf(err, err_size, "cannot read the %s rules: %s",
		               family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
		return r;
	}
	struct ldm_rs_input in = {
		.family = family,
		.marks = &d->marks,
		.queue = d->cfg.queue,
		.root = d->cg.root,
		.sessions = ss,
		.n_sessions = collect_sessions(d, ss),
		.lan = lan,
		.n_lan = n_lan,
		.jump_mangle_output = jump_state(v->mangle.jump_output, v->mangle.n_output_jumps),
		.jump_mangle_postrouting =
		        jump_state(v->mangle.jump_postrouting, v->mangle.n_postrouting_jumps),
		.jump_mangle_input = jump_state(v->mangle.jump_input, v->mangle.n_input_jumps),
		.jump_filter_output = jump_state(v->filter.jump_output, v->filter.n_output_jumps),
		.old_mangle = (const char *const *)v->mangle.chains,
		.n_old_mangle = v->mangle.n_chains,
		.old_filter = (const char *const *)v->filter.chains,
		.n_old_filter = v->filter.n_chains,
	};
	r = ldm_ruleset_build(&in, ret);
	if (r < 0)
		(void)snprintf(err, err_size, "cannot generate the rules: %s", strerror(-r));
	return r;
}

/* Builds both texts and notes which slots they hold. */
static int
build_both(struct daemon *d, char *text[2], bool *live, char *err, size_t err_size)
{
	int r;

	text[0] = text[1] = NULL;
	r = family_build(d, AF_INET, &text[0], err, err_size);
	if (r == 0 && d->v6)
		r = family_build(d, AF_INET6, &text[1], err, err_size);
	if (r < 0) {
		free(text[0]);
		free(text[1]);
		text[0] = text[1] = NULL;
		return r;
	}
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		live[i] = session_live(&d->sessions[i]);
	return 0;
}

/* A commit ended with RC: take its texts as what the kernel holds, or forget the kernel. */
static void
commit_done(struct daemon *d, char *text[2], const bool *live, int rc)
{
	if (rc < 0) {
		/* Half of it may be in: read the kernel again before the next try. */
		ldm_rules_forget_kernel(d);
		free(text[0]);
		free(text[1]);
		d->rules->commit_errors++;
		d->rules->commit_failed = true;
		/* What it was for (a session's end, a lan change, ...) is still to do: try again
		 * in a second, in the background. */
		d->rules->commit_wanted = true;
		d->rules->commit_retry_at = ldm_now_ms() + 1000;
	} else {
		for (int k = 0; k < 2; k++) {
			view_clear(&d->rules->kernel[k]);
			if (text[k] != NULL && view_from_commit(text[k], &d->rules->kernel[k]) < 0)
				view_clear(&d->rules->kernel[k]);
			free(d->rules->last_rules[k]);
			d->rules->last_rules[k] = text[k];
		}
		memcpy(d->rules->committed, live, sizeof(d->rules->committed));
		d->rules->commit_failed = false;
	}
	text[0] = text[1] = NULL;
	if (d->on_commit != NULL)
		d->on_commit(d);
}

/* Waits for a background commit and takes its result. */
static void
finish_background(struct daemon *d, bool block)
{
	char err[1024] = "";

	if (!d->rules->bg.running ||
	    ldm_ipt_commit_poll(&d->rules->bg, block, err, sizeof(err)) == 0)
		return;
	if (d->rules->bg.rc < 0)
		ldm_record_error(d, NULL, "cannot commit the rules: %s", err);
	commit_done(d, d->rules->bg_text, d->rules->bg_live, d->rules->bg.rc);
}

int
ldm_rules_commit(struct daemon *d, char *err, size_t err_size)
{
	char *text[2], dummy[8];
	bool live[LDM_MAX_SESSIONS + 1];
	int r;

	if (err == NULL) {
		err = dummy;
		err_size = sizeof(dummy);
	}
	finish_background(d, true); /* one commit at a time, in order */
	d->rules->commits++;
	d->rules->commit_wanted = false;
	r = build_both(d, text, live, err, err_size);
	if (r == 0)
		r = ldm_ipt_restore_both(text[0], text[1], err, err_size);
	commit_done(d, text, live, r);
	return r;
}

void
ldm_rules_wait(struct daemon *d)
{
	finish_background(d, true);
}

void
ldm_rules_commit_later(struct daemon *d)
{
	d->rules->commit_wanted = true;
}

void
ldm_rules_tick(struct daemon *d, bool may_start, uint64_t now)
{
	char err[1024];
	int r;

	finish_background(d, false);
	if (d->rules->bg.running || !d->rules->commit_wanted || !may_start ||
	    now < d->rules->commit_retry_at)
		return;
	d->rules->commit_wanted = false;
	d->rules->commits++;
	r = build_both(d, d->rules->bg_text, d->rules->bg_live, err, sizeof(err));
	if (r < 0) {
		ldm_record_error(d, NULL, "cannot commit the rules: %s", err);
		commit_done(d, d->rules->bg_text, d->rules->bg_live, r);
		return;
	}
	(void)ldm_ipt_commit_start(&d->rules->bg, d->rules->bg_text[0], d->rules->bg_text[1]);
}

static int
family_verify(struct daemon *d, int family)
{
	const char *expected = d->rules->last_rules[family == AF_INET6];
	_cleanup_free_ char *text = NULL;
	struct kernel_view v;
	bool ok;
	int r;

	r = view_read(family, &v, &text);
	if (r < 0)
		return r;
	ok = jump_state(v.mangle.jump_output, v.mangle.n_output_jumps) == LDM_JUMP_OK &&
	     jump_state(v.mangle.jump_postrouting, v.mangle.n_postrouting_jumps) == LDM_JUMP_OK &&
	     jump_state(v.mangle.jump_input, v.mangle.n_input_jumps) == LDM_JUMP_OK &&
	     jump_state(v.filter.jump_output, v.filter.n_output_jumps) == LDM_JUMP_OK;
	if (!ok)
		(void)snprintf(d->rules->verify_diff, sizeof(d->rules->verify_diff),
		               "a jump to our chains is missing or not first");
	for (size_t i = 0; ok && i < v.mangle.n_chains; i++) {
		ok = chain_expected(d, v.mangle.chains[i], false);
		if (!ok)
			(void)snprintf(d->rules->verify_diff, sizeof(d->rules->verify_diff),
			               "an unexpected chain %s", v.mangle.chains[i]);
	}
	view_clear(&v);
	/* Rule by rule: a rule changed in place, or swapped for another, differs. */
	if (ok && expected != NULL) {
		r = ldm_rules_compare(expected, text, d->rules->verify_diff,
		                      sizeof(d->rules->verify_diff));
		/* A saved rule the comparison cannot take (too long, too many words) is none of
		 * ours: a change, logged as tamper, not a silent reinstall. */
		if (r < 0)
			(void)snprintf(d->rules->verify_diff, sizeof(d->rules->verify_diff),
			               "a rule too long or too complex to be one of ours");
		ok = r == 0;
	}
	return ok ? 0 : 1;
}

int
ldm_rules_verify(struct daemon *d)
{
	int r;

	finish_background(d, true);
	r = family_verify(d, AF_INET);

	if (r == 0 && d->v6)
		r = family_verify(d, AF_INET6);
	if (r != 0)
		ldm_rules_forget_kernel(d); /* the next commit reads what is there */
	return r;
}

static int
family_remove(int family)
{
	const char *m[1024], *f[64];
	struct kernel_view v;
	char *text = NULL, err[512];
	size_t nm = 0, nf = 0;
	int r = view_read(family, &v, NULL);

	if (r < 0)
		return r;
	for (size_t i = 0; i < v.mangle.n_chains && nm < ELEMENTSOF(m); i++)
		m[nm++] = v.mangle.chains[i];
	for (size_t i = 0; i < v.filter.n_chains && nf < ELEMENTSOF(f); i++)
		f[nf++] = v.filter.chains[i];
	r = ldm_ruleset_remove(family, m, nm, f, nf, v.mangle.jump_output != 0,
	                       v.mangle.jump_postrouting != 0, v.mangle.jump_input != 0,
	                       v.filter.jump_output != 0, &text);
	if (r == 0)
		r = ldm_ipt_restore(family, text, err, sizeof(err));
	free(text);
	view_clear(&v);
	return r;
}

int
ldm_rules_remove_all(struct daemon *d)
{
	int r;

	finish_background(d, true);
	ldm_rules_forget_kernel(d);
	r = family_remove(AF_INET);
	if (d->v6) {
		int r6 = family_remove(AF_INET6);

		r = r < 0 ? r : r6;
	}
	return r;
}

/* What the kernel dropped unjudged while no daemon was bound to the queue (state.h). A
 * family that cannot be read is said in an error record. */
void
ldm_rules_unjudged(struct daemon *d, uint64_t counts[LDM_MAX_SESSIONS + 1])
{
	memset(counts, 0, (LDM_MAX_SESSIONS + 1) * sizeof(counts[0]));

	for (int k = 0; k < (d->v6 ? 2 : 1); k++) {
		_cleanup_free_ char *text = NULL;
		int family = k == 0 ? AF_INET : AF_INET6;
		int r = ldm_ipt_save_counters(family, "filter", &text);

		if (r == 0)
			r = ldm_unjudged_parse(text, strlen(text), counts, LDM_MAX_SESSIONS + 1);
		if (r < 0)
			ldm_record_error(d, NULL,
			                 "cannot read what the kernel dropped while no enforcer "
			                 "ran (%s, %s): those attempts are not logged",
			                 family == AF_INET ? "IPv4" : "IPv6", strerror(-r));
	}
}

#define POLL_RULES_MS 5000 /* the periodic check: the backstop to nf_tables notifications */

void
ldm_rules_poll_from(struct daemon *d, uint64_t now)
{
	d->rules->next_poll = now + POLL_RULES_MS;
}

static void
check_rules(struct daemon *d)
{
	char err[1024];
	int r = ldm_rules_verify(d);
	struct ldm_event e;

	d->rules->rule_checks++;
	if (r == 0)
		return;
	if (r > 0) {
		uint64_t now = ldm_now_ms();

		d->rules->tamper_events++;
		/* Another program fighting us (or a check that never agrees) must not make the
		 * daemon spin: past 5 repairs a second, check again only once a second. */
		if (now - d->rules->tamper_window >= 1000) {
			d->rules->tamper_window = now;
			d->rules->tamper_in_window = 0;
		}
		if (++d->rules->tamper_in_window > 5)
			d->rules->rules_hold_until = now + 1000;
		ldm_event_init(&e, LDM_EVENT_TAMPER, NULL);
		(void)snprintf(err, sizeof(err),
		               "the LDM- rules were changed or removed by another program; "
		               "reinstalled (%s)",
		               d->rules->verify_diff[0] != '\0' ? d->rules->verify_diff
		                                                : "changed");
		e.reason = err;
		ldm_record_log(d, &e);
		d->rules->verify_diff[0] = '\0';
	} else {
		ldm_record_error(d, NULL, "the LDM- rules could not be checked (%s); reinstalled",
		                 strerror(-r));
	}
	if (ldm_rules_commit(d, err, sizeof(err)) < 0)
		ldm_record_error(d, NULL, "cannot reinstall the rules: %s", err);
}

void
ldm_rules_check_tick(struct daemon *d, bool probe, uint64_t now)
{
	/* A check waits for a background commit to end (it compares with what that put in),
	 * and the periodic one for self-tests too. */
	if (((d->rules->rules_check_at != 0 && now >= d->rules->rules_check_at) ||
	     (now >= d->rules->next_poll && !probe)) &&
	    now >= d->rules->rules_hold_until && !d->rules->bg.running) {
		d->rules->rules_check_at = 0;
		ldm_rules_poll_from(d, now);
		check_rules(d);
	}
}

uint64_t
ldm_rules_next_deadline(const struct daemon *d, bool probe, uint64_t now)
{
	uint64_t next = UINT64_MAX, check = probe ? UINT64_MAX : d->rules->next_poll;

	if (d->rules->bg.running)
		return now + 5; /* a backstop: SIGCHLD wakes the loop when a tool ends */
	/* Only what the tick can act on then: a check waits for the repair rate limit. */
	if (d->rules->rules_check_at != 0 && d->rules->rules_check_at < check)
		check = d->rules->rules_check_at;
	if (check < d->rules->rules_hold_until)
		check = d->rules->rules_hold_until;
	next = check;
	if (d->rules->commit_wanted && !probe && d->rules->commit_retry_at < next)
		next = d->rules->commit_retry_at > now ? d->rules->commit_retry_at : now;
	return next;
}
