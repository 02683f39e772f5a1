/*
 * Sessions: a request becomes a cgroup, kernel rules, the requester moved in, a self-test,
 * and only then "ready". Any failure refuses the session and leaves nothing behind. A
 * session ends when its cgroup is empty; its state is kept in the state directory so that
 * a restarted daemon takes it up again.
 *
 * Trust: the request's fields are untrusted. The pid must be the peer's (SO_PEERCRED, taken
 * by server.c), the policy name is validated and looked up only in the policy directories,
 * with files that root owns, and the app path is used for logs only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "state.h"
#include "probe.h"
#include "session_save.h"
#include "session_state.h"
#include "session_free.h"
#include "session_table.h"
#include "spares.h"
#include "flowtab.h"
#include "nametab.h"
#include "ldm/display.h"
#include "ldm/util.h"

/*
 * Moves S to TO through the state machine (session_state.h). A move the life cycle does not
 * have is a bug of ours: refused, S stays where it is, and an error record says so.
 */
static void
set_state(struct daemon *d, struct session *s, enum session_state to)
{
	enum session_state from = s->state;

	if (ldm_session_state_set(s, to) < 0)
		ldm_record_error(d, s, "internal: a session cannot go from %s to %s",
		                 ldm_session_state_name(from), ldm_session_state_name(to));
}

static void
fill_user(struct session *s)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(s->uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		(void)ldm_strscpy(s->user, sizeof(s->user), pw.pw_name);
	else
		(void)snprintf(s->user, sizeof(s->user), "%u", (unsigned)s->uid);
}

/* Loads policy NAME from the policy directories as the daemon must: admin-owned only. */
static int
load_policy(struct daemon *d, const char *name, struct ldm_policy **ret, char *err, size_t err_size)
{
	const char *dirs[LDM_MAX_POLICY_DIRS];
	struct ldm_load_opts o = { .dirs = dirs,
		                   .n_dirs = d->cfg.n_policy_dirs,
		                   .admin_owned = true,
		                   .no_file_dir = true };
	struct ldm_diags diags = { 0 };
	int r;

	for (size_t i = 0; i < d->cfg.n_policy_dirs; i++)
		dirs[i] = d->cfg.policy_dirs[i];
	r = ldm_policy_load_name(name, &o, ret, &diags);
	if (r < 0 && diags.n > 0) {
		const struct ldm_diag *g = &diags.v[0];
		size_t more = diags.n - 1 + diags.dropped;

		if (g->line > 0)
			(void)snprintf(err, err_size, "policy '%s' refused: %s:%u: %s%s", name,
			               g->file, g->line, g->msg,
			               more > 0 ? " (and more: ldmctl check shows all)" : "");
		else
			(void)snprintf(err, err_size, "policy '%s' refused: %s: %s", name, g->file,
			               g->msg);
	} else if (r < 0) {
		(void)snprintf(err, err_size, "policy '%s': %s", name, strerror(-r));
	}
	ldm_diags_clear(&diags);
	return r;
}

static bool
policy_allows_multicast(const struct ldm_policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].action == LDM_ACTION_ALLOW &&
		    p->rules[i].peer == LDM_PEER_MULTICAST)
			return true;
	return false;
}

/*
 * Takes a slot out of the ruleset for good. While the kernel holds its chain (or a running
 * commit will put it there) it stays CLOSING: its slot is not reused, so a packet its chain
 * still queues cannot be taken for another session's, and its cgroup stays (a rule naming a
 * missing cgroup fails the whole commit). Once a commit without it is in, both go
 * (ldm_session_committed). A slot the kernel does not hold goes at once. Either way its
 * conntrack entries are deleted first (slot_forgotten).
 */
/*
 * The connections of a slot's session keep its approval (and its DNS queries the slot) in
 * their connmark: deleted before the slot serves another session. On failure the slot
 * stays closed (retried after the next commit).
 */
static bool
slot_forgotten(struct daemon *d, unsigned slot)
{
	int r = ldm_conntrack_forget_slot(d, slot);

	if (r < 0)
		ldm_record_error(d, NULL,
		                 "cannot delete the conntrack entries of slot %u (%s): the "
		                 "slot stays closed",
		                 slot, strerror(-r));
	return r == 0;
}

static void
close_slot(struct daemon *d, struct session *s)
{
	ldm_rules_commit_later(d);
	if (ldm_rules_holds(d, s->slot, true) || !slot_forgotten(d, s->slot)) {
		set_state(d, s, SESSION_CLOSING);
		s->client = -1;
		s->end_at = 0;
		return;
	}
	if (ldm_cgroup_remove(&d->cg, s->name) < 0)
		ldm_record_error(d, NULL, "cannot remove cgroup %s", s->cgroup);
	ldm_session_free(d, s);
}

/* Undoes a session that never became ready, before its requester was moved. */
static void
abandon(struct daemon *d, struct session *s)
{
	ldm_session_save_forget(d, s);
	close_slot(d, s);
}

/* Validates the request and builds the session (not yet in the kernel). */
static int
prepare(struct daemon *d, struct session *s, int client, const struct ldm_msg_session_request *m,
        bool spare, char *err, size_t err_size)
{
	const struct client *c = &d->clients[client];
	uint32_t rnd = 0;
	int r;

	r = load_policy(d, m->policy, &s->policy, err, err_size);
	if (r < 0)
		return r;
	r = ldm_account_may_use(c->uid, s->policy, m->policy, err, err_size);
	if (r < 0)
		return r;
	if ((m->flags & LDM_SESSION_F_AUDIT) && !s->policy->audit_override &&
	    s->policy->mode != LDM_MODE_AUDIT) {
		(void)snprintf(err, err_size,
		               "policy '%s' does not allow --audit (its admin has not set "
		               "audit_override = true)",
		               m->policy);
		return -EPERM;
	}
	if (s->policy->n_deny_syscalls > LDM_CTL_DENY_MAX) {
		(void)snprintf(err, err_size, "policy '%s': more than %d syscalls.deny entries",
		               m->policy, LDM_CTL_DENY_MAX);
		return -E2BIG;
	}
	if (!spare) {
		r = ldm_ids_take(d, &s->id);
		if (r < 0 || getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			(void)snprintf(err, err_size, "cannot record the session id in %s",
			               d->cfg.persist_dir);
			return -EIO;
		}
		(void)snprintf(s->name, sizeof(s->name), "s%llu-%08x", (unsigned long long)s->id,
		               rnd);
		ldm_session_table_path(d, s);
	}
	(void)ldm_strscpy(s->policy_name, sizeof(s->policy_name), m->policy);
	(void)ldm_strscpy(s->app, sizeof(s->app), m->app);
	/* Checked by ldm_msg_check(): 64 hex digits, an ABI in range. ldm-run's word. */
	memcpy(s->exe_sha256, m->exe_sha256, LDM_EVENT_SHA256_LEN);
	s->exe_sha256[LDM_EVENT_SHA256_LEN] = '\0';
	s->landlock_abi = m->landlock_abi;
	s->seccomp_notify = (m->flags & LDM_SESSION_F_SECCOMP_NOTIFY) != 0;
	s->uid = c->uid;
	s->pid = c->pid;
	s->audit = s->policy->mode == LDM_MODE_AUDIT || (m->flags & LDM_SESSION_F_AUDIT);
	s->client = client;
	fill_user(s);
	clock_gettime(CLOCK_REALTIME, &s->started);
	if (ldm_probe_pick_port(d, s->policy, &s->probe_port) < 0) {
		(void)snprintf(err, err_size,
		               "policy '%s' allows UDP to every loopback port the self-test "
		               "could use (9, 7, 19, ...)",
		               m->policy);
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * Puts the session in force: cgroup, rules, requester moved in, watch, probe. A SPARE has its
 * cgroup and rules in the kernel already (everything it sends is queued and judged by the
 * enforcer against the session's policy); the commit that compiles the policy's static
 * rules into the kernel then runs in the background.
 */
static int
establish(struct daemon *d, struct session *s, bool spare, char *err, size_t err_size)
{
	uint64_t held[2];
	int r = 0;

	if (!spare) {
		r = ldm_cgroup_create(&d->cg, s->name);
		if (r < 0) {
			(void)snprintf(err, err_size, "cannot create cgroup %s: %s", s->cgroup,
			               strerror(-r));
			return r;
		}
	}
	set_state(d, s, SESSION_PROBING);
	if (spare)
		ldm_rules_commit_later(d);
	else
		r = ldm_rules_commit(d, err, err_size);
	if (r < 0)
		return r;
	/* Before the session's first flow: a connection counts its bytes only if accounting
	 * was on when it began. Without it the session runs; its end says it was not counted. */
	r = ldm_conntrack_accounting();
	if (r < 0)
		ldm_record_error(d, NULL,
		                 "cannot turn conntrack accounting on (%s): session %llu's "
		                 "traffic will not be counted",
		                 strerror(-r), (unsigned long long)s->id);
	r = ldm_cgroup_move(&d->cg, s->name, s->pid);
	if (r < 0) {
		(void)snprintf(err, err_size, "cannot move pid %d into the session: %s",
		               (int)s->pid, strerror(-r));
		return r;
	}
	/* From here on the requester is inside: failures end the session, never undo it. */
	s->wd = ldm_cgroup_watch(&d->cg, s->name, d->inotify_fd);
	if (s->wd < 0 || ldm_session_save_write(d, s) < 0 ||
	    ldm_counts_open(d, s, false, held) < 0 || ldm_probe_start(d, s) < 0) {
		(void)snprintf(err, err_size, "cannot watch or record the session");
		set_state(d, s, SESSION_ENDING);
		ldm_rules_commit_later(d);
		return -EIO;
	}
	return 0;
}

void
ldm_session_committed(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (s->state != SESSION_CLOSING || ldm_rules_holds(d, i, false))
			continue;
		if (!slot_forgotten(d, i))
			continue;
		if (ldm_cgroup_remove(&d->cg, s->name) < 0)
			ldm_record_error(d, NULL, "cannot remove cgroup %s", s->cgroup);
		ldm_session_free(d, s);
	}
}

int
ldm_session_request(struct daemon *d, int client, const struct ldm_msg_session_request *m,
                    char *err, size_t err_size)
{
	struct session *s = ldm_spares_ready(d);
	unsigned slot = s != NULL ? s->slot : ldm_session_table_free_slot(d);
	bool spare = s != NULL;
	uint64_t spare_id = 0;
	char spare_name[64] = "";
	int r;

	if (d->stopping) {
		(void)snprintf(err, err_size, "the daemon is shutting down");
		return -ESHUTDOWN;
	}
	if (slot == 0) {
		(void)snprintf(err, err_size, "too many sessions (%u)", d->marks.max_slots);
		return -EBUSY;
	}
	s = &d->sessions[slot];
	if (spare) {
		spare_id = s->id;
		memcpy(spare_name, s->name, sizeof(spare_name));
	} else {
		ldm_session_free(d, s);
		s->slot = slot;
	}
	r = prepare(d, s, client, m, spare, err, err_size);
	if (r < 0) {
		if (spare)
			ldm_spares_make(d, s, slot, spare_id, spare_name);
		else
			ldm_session_free(d, s);
		return r;
	}
	r = establish(d, s, spare, err, err_size);
	if (r < 0 && s->state != SESSION_ENDING)
		abandon(d, s);
	else if (r < 0)
		s->client = -1;
	return r;
}

/* The policy's launcher items, one message each, before READY (ldm/control.h). */
static int
send_items(struct daemon *d, const struct session *s)
{
	size_t bytes = (s->policy->n_items + 1) * sizeof(struct ldm_msg_session_item);

	if (s->policy->n_items > LDM_CTL_ITEMS_MAX) /* the loader refuses more: never here */
		return -E2BIG;
	if (s->policy->n_items > 0 && ldm_clients_reserve(d, s->client, bytes) < 0)
		ldm_record_error(d, s, "cannot enlarge the control socket's buffer for %zu items",
		                 s->policy->n_items);
	for (size_t i = 0; i < s->policy->n_items; i++) {
		const struct ldm_item *it = &s->policy->items[i];
		struct ldm_msg_session_item m = { .kind = it->kind,
			                          .rule = it->rule,
			                          .flags = it->flags };

		ldm_msg_init(&m.hdr, LDM_MSG_SESSION_ITEM);
		if (ldm_msg_set_str(m.value, sizeof(m.value), it->value) < 0 ||
		    ldm_clients_send(d, s->client, &m) < 0)
			return -EIO; /* ldm-run then gets no READY and refuses to start */
	}
	return 0;
}

static void
send_ready(struct daemon *d, struct session *s)
{
	struct ldm_msg_session_ready m = { 0 };

	ldm_msg_init(&m.hdr, LDM_MSG_SESSION_READY);
	m.session = s->id;
	m.families = s->policy->families;
	m.flags = (s->audit ? LDM_READY_F_AUDIT : 0) |
	          (policy_allows_multicast(s->policy) ? LDM_READY_F_MULTICAST : 0);
	m.n_deny = (uint32_t)s->policy->n_deny_syscalls;
	for (size_t i = 0; i < s->policy->n_deny_syscalls; i++)
		m.deny[i] = s->policy->deny_syscalls[i];
	(void)ldm_msg_set_str(m.policy, sizeof(m.policy), s->policy_name);
	(void)ldm_msg_set_str(m.cgroup, sizeof(m.cgroup), s->cgroup);
	if (s->client >= 0 && send_items(d, s) == 0)
		(void)ldm_clients_send(d, s->client, &m);
	s->client = -1;
}

/*
 * session_start with who and what runs: the daemon's version, the boot, the policy's main
 * file hash (from the bytes it parsed), ldm-run's word on the executable and the kernel
 * features it applied, and IPv6; then one policy_file record per file of the policy.
 */
static void
log_session_start(struct daemon *d, const struct session *s, const char *reason)
{
	struct ldm_event e;

	ldm_event_init(&e, LDM_EVENT_SESSION_START, NULL);
	ldm_session_table_fill_event(s, &e);
	e.pid = (uint32_t)s->pid;
	e.reason = reason;
	e.version = LDM_VERSION;
	e.boot_id = d->boot_id;
	e.exe_sha256 = s->exe_sha256;
	e.policy_sha256 = s->policy->n_files > 0 ? s->policy->files[0].sha256 : NULL;
	e.landlock_abi = s->landlock_abi;
	if (s->landlock_abi != 0)
		e.seccomp_notify = s->seccomp_notify ? LDM_EVENT_YES : LDM_EVENT_NO;
	e.ipv6 = d->v6 ? LDM_EVENT_YES : LDM_EVENT_NO;
	ldm_record_log(d, &e);
	for (size_t i = 0; i < s->policy->n_files; i++) {
		ldm_event_init(&e, LDM_EVENT_POLICY_FILE, NULL);
		e.session = s->id;
		e.policy = s->policy_name;
		e.uid = s->uid; /* its user reads it through the daemon (logserve.c) */
		e.path = s->policy->files[i].path;
		e.sha256 = s->policy->files[i].sha256;
		ldm_record_log(d, &e);
	}
}

/* session_end, after the session's traffic records (before its conntrack entries go). */
static void
log_end(struct daemon *d, struct session *s, const char *reason)
{
	struct ldm_event e;

	ldm_event_init(&e, LDM_EVENT_SESSION_END, NULL);
	ldm_traffic_log(d, s, &e);
	ldm_session_table_fill_event(s, &e);
	e.pid = (uint32_t)s->pid;
	e.reason = reason;
	e.blocked = s->blocked;
	e.would_block = s->would_block;
	e.syscalls_denied = s->syscalls_denied;
	ldm_record_log(d, &e);
}

void
ldm_session_probe_seen(struct daemon *d, struct session *s, int family)
{
	if (family == AF_INET6)
		s->probe6_seen = true;
	else
		s->probe4_seen = true;
	if (s->state != SESSION_PROBING || !s->probe4_seen || (s->probe6_wanted && !s->probe6_seen))
		return;
	set_state(d, s, SESSION_READY);
	s->was_ready = true;
	log_session_start(d, s, ldm_session_start_note(s->policy, s->audit));
	send_ready(d, s);
}

/* Refuses a session whose self-test failed: its requester is inside, so it stays ENDING
 * (its packets meet the sandbox root's drop rule) until its cgroup is empty. */
static void
fail_probe(struct daemon *d, struct session *s, const char *why)
{
	char text[LDM_CTL_TEXT_MAX];

	(void)snprintf(text, sizeof(text), "self-test failed: %s; the session was refused", why);
	ldm_record_error(d, s, "%s", text);
	if (s->client >= 0)
		ldm_clients_send_error(d, s->client, -EPROTO, text);
	s->client = -1;
	set_state(d, s, SESSION_ENDING);
	ldm_rules_commit_later(d);
	if (ldm_cgroup_populated(&d->cg, s->name) == 0)
		s->end_at = ldm_now_ms();
}

void
ldm_session_end(struct daemon *d, struct session *s, const char *why)
{
	bool was_ready = s->was_ready;
	char text[LDM_CTL_TEXT_MAX];

	if (!SESSION_ACTIVE(s))
		return;
	if (s->client >= 0)
		ldm_clients_send_error(d, s->client, -ECANCELED, "the session ended");
	if (s->final_client >= 0)
		ldm_clients_send_summary(d, s->final_client, s, true, 0);
	s->final_client = -1;
	/* Final counts: the queue was drained by the caller; folded repeats are written
	 * before session_end, which is the session's last record. */
	ldm_procs_flush_folds(d, s);
	if (s->escapes > 0) {
		(void)snprintf(text, sizeof(text),
		               "%s; %llu process%s left the session earlier and ran on without "
		               "its rules (see the tamper records)",
		               why, (unsigned long long)s->escapes, s->escapes == 1 ? "" : "es");
		why = text;
	}
	if (was_ready)
		log_end(d, s, why);
	ldm_flowtab_forget_session(d->flows, s->id);
	ldm_nametab_forget_session(d->names, s->id);
	ldm_session_save_forget(d, s);
	close_slot(d, s);
}

/*
 * inotify told us some cgroup.events changed. A session whose cgroup is empty becomes
 * ENDING and is torn down a moment later, once the packets it queued before its last
 * process ended have been judged and logged.
 */
void
ldm_session_events(struct daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(d->inotify_fd, buf, sizeof(buf)) > 0)
		; /* which one does not matter: check them all, there are few */
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (!SESSION_ACTIVE(s) || s->state == SESSION_PROBING || s->end_at != 0)
			continue;
		ldm_procs_scan(d, s); /* whoever is gone: ended or left? */
		if (ldm_cgroup_populated(&d->cg, s->name) != 1) {
			set_state(d, s, SESSION_ENDING);
			s->end_at = ldm_now_ms() + LDM_END_GRACE_MS;
		}
	}
}

void
ldm_session_tick(struct daemon *d, uint64_t now)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (s->state == SESSION_PROBING && now >= s->probe_deadline)
			fail_probe(d, s,
			           "the enforcer did not see the probe packet, so the kernel "
			           "rules are not in force (is the loopback interface up?)");
		if (s->state == SESSION_ENDING && s->end_at != 0 && now >= s->end_at) {
			d->drain_queue(d); /* what it queued last */
			ldm_session_end(d, s, "the last process ended");
		}
	}
}

uint64_t
ldm_session_next_deadline(const struct daemon *d)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		const struct session *s = &d->sessions[i];

		if (s->state == SESSION_PROBING && s->probe_deadline < next)
			next = s->probe_deadline;
		else if (s->end_at != 0 && s->end_at < next)
			next = s->end_at;
	}
	return next;
}

/* SIGCHLD: only the probes are reaped here (the iptables tools are waited for by their
 * pidfds). A probe that could not send fails its session. */
void
ldm_session_reap_probes(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];
		int status;

		if (ldm_probe_collect(s, &status) && s->state == SESSION_PROBING && status != 0)
			fail_probe(d, s, ldm_probe_failure(status));
	}
}

/* Logs what folding held when the last daemon died: count = held, one record per type. */
static void
log_held(struct daemon *d, struct session *s, enum ldm_event_type type, uint64_t held)
{
	struct ldm_event e;

	if (held == 0)
		return;
	ldm_event_init(&e, type, NULL);
	ldm_session_table_fill_event(s, &e);
	e.count = held;
	e.reason = "repeats of the records before, counted but not yet written when the "
	           "daemon stopped";
	ldm_record_log(d, &e);
}

static void
restore_one(struct daemon *d, const struct ldm_saved *v)
{
	struct session *s = &d->sessions[v->slot];
	char err[LDM_CTL_TEXT_MAX];
	uint64_t held[2];
	bool resumed;
	int populated;

	if (s->state != SESSION_FREE || v->slot > d->marks.max_slots)
		return;
	*s = (struct session){ .state = SESSION_FREE,
		               .was_ready = true,
		               .slot = v->slot,
		               .id = v->id,
		               .uid = v->uid,
		               .pid = v->pid,
		               .audit = v->audit != 0,
		               .wd = -1,
		               .client = -1,
		               .final_client = -1 };
	s->started.tv_sec = v->started;
	(void)ldm_strscpy(s->name, sizeof(s->name), v->name);
	ldm_session_table_path(d, s);
	(void)ldm_strscpy(s->policy_name, sizeof(s->policy_name), v->policy);
	(void)ldm_strscpy(s->user, sizeof(s->user), v->user);
	(void)ldm_strscpy(s->app, sizeof(s->app), v->app);
	memcpy(s->exe_sha256, v->exe_sha256, sizeof(s->exe_sha256));
	s->landlock_abi = v->landlock_abi;
	s->seccomp_notify = v->seccomp_notify != 0;
	if (v->id >= d->next_id)
		d->next_id = v->id + 1;
	/* Gone, or its policy is now refused: nothing of it may stay allowed. The cgroup's
	 * processes (if any) fall to the sandbox root's drop rule. An empty one ends now (no
	 * cgroup event will come to say so). */
	populated = ldm_cgroup_populated(&d->cg, s->name);
	resumed =
	        populated == 1 && load_policy(d, s->policy_name, &s->policy, err, sizeof(err)) == 0;
	set_state(d, s, resumed ? SESSION_READY : SESSION_ENDING);
	if (ldm_counts_open(d, s, true, held) < 0)
		ldm_record_error(d, s, "cannot keep the session's counters in %s",
		                 d->cfg.state_dir);
	log_held(d, s, LDM_EVENT_BLOCKED, held[0]);
	log_held(d, s, LDM_EVENT_WOULD_BLOCK, held[1]);
	s->wd = ldm_cgroup_watch(&d->cg, s->name, d->inotify_fd);
	if (!resumed) {
		if (populated != 1)
			s->end_at = ldm_now_ms() + LDM_END_GRACE_MS;
		return;
	}
	/* The identity again, with the hashes of the policy files as read now: what is in
	 * force from here on (an admin may have changed them while the daemon was down). */
	log_session_start(d, s, "resumed after a daemon restart");
}

int
ldm_session_restore(struct daemon *d)
{
	_cleanup_close_ int dfd = ldm_session_save_dir(d);
	char **names = NULL;
	size_t n = 0;

	if (dfd < 0)
		return dfd;
	if (ldm_cgroup_list(&d->cg, &names, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		char file[32] = "";
		size_t digits = strspn(names[i] + 1, "0123456789");
		struct ldm_saved v;

		/* A session cgroup is named s<id>-<random>; its state file is <id>. */
		if (names[i][0] == 's' && digits > 0 && digits < sizeof(file) &&
		    names[i][1 + digits] == '-')
			memcpy(file, names[i] + 1, digits);
		if (file[0] != '\0' && ldm_session_save_read(dfd, file, &v) == 0 &&
		    strcmp(v.name, names[i]) == 0)
			restore_one(d, &v);
		else if (ldm_cgroup_remove(&d->cg, names[i]) < 0)
			ldm_record_error(d, NULL,
			                 "cgroup %s/%s has processes but no session: they "
			                 "stay blocked",
			                 d->cg.root, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

void
ldm_session_count_dropped(struct daemon *d, struct session *s, uint64_t n, const char *reason)
{
	struct ldm_event e;

	if (n == 0)
		return;
	s->blocked += n;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.count = n;
	e.reason = reason;
	ldm_record_log(d, &e);
}

void
ldm_session_log_unjudged(struct daemon *d)
{
	uint64_t counts[LDM_MAX_SESSIONS + 1];

	ldm_rules_unjudged(d, counts);
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (counts[i] == 0)
			continue;
		if (!SESSION_ACTIVE(s)) {
			ldm_record_error(d, NULL,
			                 "%llu packets of session slot %u were dropped while no "
			                 "enforcer ran; no session holds that slot now",
			                 (unsigned long long)counts[i], i);
			continue;
		}
		/* Counted with the session's other blocks (its counters file), and logged. */
		ldm_session_count_dropped(d, s, counts[i], "enforcer not running");
	}
}
