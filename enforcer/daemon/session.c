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

#include "daemon.h"
#include "flowtab.h"
#include "nametab.h"
#include "ldm/display.h"
#include "ldm/util.h"

static const uint16_t probe_ports[] = { 9, 7, 19, 13, 37, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12 };

struct session *
ldm_session_by_id(struct daemon *d, uint64_t id)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (SESSION_ACTIVE(&d->sessions[i]) && d->sessions[i].id == id)
			return &d->sessions[i];
	return NULL;
}

void
ldm_session_fill_event(const struct session *s, struct ldm_event *e)
{
	e->session = s->id;
	e->policy = s->policy_name;
	e->uid = s->uid;
	e->user = s->user;
	e->app = s->app;
}

static void
set_cgroup_path(const struct daemon *d, struct session *s)
{
	char buf[sizeof(s->cgroup)];

	(void)snprintf(buf, sizeof(buf), "%s/%s", d->cg.root, s->name);
	memcpy(s->cgroup, buf, sizeof(buf));
}

static unsigned
free_slot(const struct daemon *d)
{
	unsigned max =
	        d->marks.max_slots < LDM_MAX_SESSIONS ? d->marks.max_slots : LDM_MAX_SESSIONS;

	for (unsigned i = 1; i <= max; i++)
		if (d->sessions[i].state == SESSION_FREE)
			return i;
	return 0;
}

int
ldm_write_file_atomic(const char *path, const char *text)
{
	char tmp[4200];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

static int
state_path(const struct daemon *d, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", d->cfg.state_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int
save_session(const struct daemon *d, const struct session *s)
{
	char path[4200], name[64], text[1024];
	int n;

	(void)snprintf(name, sizeof(name), "sessions/%llu", (unsigned long long)s->id);
	if (state_path(d, name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	n = snprintf(text, sizeof(text),
	             "id=%llu\nslot=%u\nname=%s\npolicy=%s\nuid=%u\naudit=%d\npid=%d\n"
	             "started=%lld\nuser=%s\napp=%s\n",
	             (unsigned long long)s->id, s->slot, s->name, s->policy_name, (unsigned)s->uid,
	             s->audit, (int)s->pid, (long long)s->started.tv_sec, s->user, s->app);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	return ldm_write_file_atomic(path, text);
}

static void
forget_session_file(const struct daemon *d, const struct session *s)
{
	char path[4200], name[64];

	(void)snprintf(name, sizeof(name), "sessions/%llu", (unsigned long long)s->id);
	if (state_path(d, name, path, sizeof(path)) == 0)
		(void)unlink(path);
	ldm_counts_remove(d, s);
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

/* A port on loopback the policy blocks for UDP (v4 and v6): the self-test's target. */
static int
pick_probe_port(const struct daemon *d, const struct ldm_policy *p, uint16_t *ret)
{
	const struct ldm_lan lan = { d->lan_entries, d->n_lan };

	for (size_t i = 0; i < ELEMENTSOF(probe_ports); i++) {
		struct ldm_flow f4 = { .family = AF_INET,
			               .proto = LDM_PROTO_UDP,
			               .dir = LDM_DIR_OUT,
			               .addr = { 127, 0, 0, 1 },
			               .port = probe_ports[i] };
		struct ldm_flow f6 = f4;
		struct ldm_verdict v4, v6;

		f6.family = AF_INET6;
		memset(f6.addr, 0, 16);
		f6.addr[15] = 1;
		if (ldm_policy_judge(p, &f4, &lan, &v4) == 0 && !v4.allow &&
		    ldm_policy_judge(p, &f6, &lan, &v6) == 0 && !v6.allow) {
			*ret = probe_ports[i];
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* The probe process: joins the session's cgroup, sends one UDP datagram to loopback per
 * family, exits with a bit set per family it could not send. Runs as root; never execs. */
static void
probe_child(const struct daemon *d, const struct session *s)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET,
		                  .sin_port = htons(s->probe_port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
		                   .sin6_port = htons(s->probe_port),
		                   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int rc = 0, fd;

	if (ldm_cgroup_move(&d->cg, s->name, getpid()) < 0)
		_exit(8);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, "ldm-probe", 9, 0, (struct sockaddr *)&a4, sizeof(a4)) < 0)
		rc |= errno == EPERM ? 0 : 1; /* EPERM: the verdict dropped it */
	if (s->probe6_wanted) {
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || sendto(fd, "ldm-probe", 9, 0, (struct sockaddr *)&a6, sizeof(a6)) < 0)
			rc |= errno == EPERM ? 0 : 2;
	}
	_exit(rc);
}

static int
start_probe(struct daemon *d, struct session *s)
{
	pid_t pid;

	s->probe6_wanted = d->v6;
	s->probe_deadline = ldm_now_ms() + LDM_PROBE_TIMEOUT_MS;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		probe_child(d, s); /* never execs and exits at once: the fds it shares stay */
	s->probe_pid = pid;
	return 0;
}

static void
session_free(struct daemon *d, struct session *s)
{
	if (s->probe_pid > 0) {
		/* It exits at once by itself; never leave a zombie behind. */
		(void)kill(s->probe_pid, SIGKILL);
		while (waitpid(s->probe_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->wd >= 0)
		(void)inotify_rm_watch(d->inotify_fd, s->wd);
	ldm_counts_close(s);
	ldm_procs_free(s);
	ldm_policy_free(s->policy);
	*s = (struct session){ .state = SESSION_FREE, .wd = -1, .client = -1, .final_client = -1 };
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
		ldm_daemon_log_error(d, NULL,
		                     "cannot delete the conntrack entries of slot %u (%s): the "
		                     "slot stays closed",
		                     slot, strerror(-r));
	return r == 0;
}

static void
close_slot(struct daemon *d, struct session *s)
{
	ldm_rules_commit_later(d);
	if (d->committed[s->slot] || (d->bg.running && d->bg_live[s->slot]) ||
	    !slot_forgotten(d, s->slot)) {
		s->state = SESSION_CLOSING;
		s->client = -1;
		s->end_at = 0;
		return;
	}
	if (ldm_cgroup_remove(&d->cg, s->name) < 0)
		ldm_daemon_log_error(d, NULL, "cannot remove cgroup %s", s->cgroup);
	session_free(d, s);
}

/* Undoes a session that never became ready, before its requester was moved. */
static void
abandon(struct daemon *d, struct session *s)
{
	forget_session_file(d, s);
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
		set_cgroup_path(d, s);
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
	if (pick_probe_port(d, s->policy, &s->probe_port) < 0) {
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
	int r = 0;

	if (!spare) {
		r = ldm_cgroup_create(&d->cg, s->name);
		if (r < 0) {
			(void)snprintf(err, err_size, "cannot create cgroup %s: %s", s->cgroup,
			               strerror(-r));
			return r;
		}
	}
	s->state = SESSION_PROBING;
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
		ldm_daemon_log_error(d, NULL,
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
	if (s->wd < 0 || save_session(d, s) < 0 || ldm_counts_open(d, s, false) < 0 ||
	    start_probe(d, s) < 0) {
		(void)snprintf(err, err_size, "cannot watch or record the session");
		s->state = SESSION_ENDING;
		ldm_rules_commit_later(d);
		return -EIO;
	}
	return 0;
}

/* The spare, if its rules are in the kernel. */
static struct session *
ready_spare(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (d->sessions[i].state == SESSION_SPARE && d->committed[i])
			return &d->sessions[i];
	return NULL;
}

/* Turns slot S into a spare named ID/NAME (its cgroup exists). */
static void
become_spare(struct daemon *d, struct session *s, unsigned slot, uint64_t id, const char *name)
{
	session_free(d, s);
	s->slot = slot;
	s->id = id;
	(void)ldm_strscpy(s->name, sizeof(s->name), name);
	set_cgroup_path(d, s);
	s->state = SESSION_SPARE;
}

void
ldm_session_spare(struct daemon *d)
{
	unsigned slot, spares = 0;
	uint32_t rnd = 0;
	uint64_t id;
	char name[64];
	int r;

	if (d->stopping || d->commit_failed || ldm_now_ms() < d->spare_hold_until)
		return;
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		spares += d->sessions[i].state == SESSION_SPARE;
	if (spares >= d->cfg.spares)
		return;
	slot = free_slot(d);
	if (slot == 0)
		return;
	if (ldm_ids_take(d, &id) < 0 || getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		d->spare_hold_until = ldm_now_ms() + 10000;
		return;
	}
	(void)snprintf(name, sizeof(name), "s%llu-%08x", (unsigned long long)id, rnd);
	r = ldm_cgroup_create(&d->cg, name);
	if (r < 0) {
		ldm_daemon_log_error(d, NULL, "cannot create cgroup %s/%s: %s", d->cg.root, name,
		                     strerror(-r));
		d->spare_hold_until = ldm_now_ms() + 10000;
		return;
	}
	become_spare(d, &d->sessions[slot], slot, id, name);
	d->committed[slot] = false; /* ready once a commit holding it is in */
	ldm_rules_commit_later(d);
	ldm_session_spare(d); /* the next one, in the same commit */
}

void
ldm_session_committed(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (s->state != SESSION_CLOSING || d->committed[i])
			continue;
		if (!slot_forgotten(d, i))
			continue;
		if (ldm_cgroup_remove(&d->cg, s->name) < 0)
			ldm_daemon_log_error(d, NULL, "cannot remove cgroup %s", s->cgroup);
		session_free(d, s);
	}
}

int
ldm_session_request(struct daemon *d, int client, const struct ldm_msg_session_request *m,
                    char *err, size_t err_size)
{
	struct session *s = ready_spare(d);
	unsigned slot = s != NULL ? s->slot : free_slot(d);
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
		session_free(d, s);
		s->slot = slot;
	}
	r = prepare(d, s, client, m, spare, err, err_size);
	if (r < 0) {
		if (spare)
			become_spare(d, s, slot, spare_id, spare_name);
		else
			session_free(d, s);
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
	if (s->policy->n_items > 0 && ldm_server_reserve(d, s->client, bytes) < 0)
		ldm_daemon_log_error(d, s,
		                     "cannot enlarge the control socket's buffer for %zu items",
		                     s->policy->n_items);
	for (size_t i = 0; i < s->policy->n_items; i++) {
		const struct ldm_item *it = &s->policy->items[i];
		struct ldm_msg_session_item m = { .kind = it->kind,
			                          .rule = it->rule,
			                          .flags = it->flags };

		ldm_msg_init(&m.hdr, LDM_MSG_SESSION_ITEM);
		if (ldm_msg_set_str(m.value, sizeof(m.value), it->value) < 0 ||
		    ldm_server_send(d, s->client, &m) < 0)
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
		(void)ldm_server_send(d, s->client, &m);
	s->client = -1;
}

static void
log_session(struct daemon *d, const struct session *s, enum ldm_event_type type, const char *reason)
{
	struct ldm_event e;

	ldm_event_init(&e, type, NULL);
	ldm_session_fill_event(s, &e);
	e.pid = (uint32_t)s->pid;
	e.reason = reason;
	e.blocked = s->blocked;
	e.would_block = s->would_block;
	e.syscalls_denied = s->syscalls_denied;
	ldm_daemon_log(d, &e);
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
	ldm_session_fill_event(s, &e);
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
	ldm_daemon_log(d, &e);
	for (size_t i = 0; i < s->policy->n_files; i++) {
		ldm_event_init(&e, LDM_EVENT_POLICY_FILE, NULL);
		e.session = s->id;
		e.policy = s->policy_name;
		e.uid = s->uid; /* its user reads it through the daemon (logserve.c) */
		e.path = s->policy->files[i].path;
		e.sha256 = s->policy->files[i].sha256;
		ldm_daemon_log(d, &e);
	}
}

/* session_end, after the session's traffic records (before its conntrack entries go). */
static void
log_end(struct daemon *d, struct session *s, const char *reason)
{
	struct ldm_event e;

	ldm_event_init(&e, LDM_EVENT_SESSION_END, NULL);
	ldm_traffic_log(d, s, &e);
	ldm_session_fill_event(s, &e);
	e.pid = (uint32_t)s->pid;
	e.reason = reason;
	e.blocked = s->blocked;
	e.would_block = s->would_block;
	e.syscalls_denied = s->syscalls_denied;
	ldm_daemon_log(d, &e);
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
	s->state = SESSION_READY;
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
	ldm_daemon_log_error(d, s, "%s", text);
	if (s->client >= 0)
		ldm_server_send_error(d, s->client, -EPROTO, text);
	s->client = -1;
	s->state = SESSION_ENDING;
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
		ldm_server_send_error(d, s->client, -ECANCELED, "the session ended");
	if (s->final_client >= 0)
		ldm_server_send_summary(d, s->final_client, s, true, 0);
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
	forget_session_file(d, s);
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
			s->state = SESSION_ENDING;
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
			ldm_nfq_input(d); /* what it queued last */
			ldm_session_end(d, s, "the last process ended");
		}
	}
}

/* SIGCHLD: only the probes are reaped here (the iptables tools are waited for by their
 * pidfds). */
void
ldm_session_reap_probes(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		pid_t pid = d->sessions[i].probe_pid;
		int status;

		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid)
			ldm_session_probe_exited(d, pid,
			                         WIFEXITED(status) ? WEXITSTATUS(status) : 255);
	}
}

void
ldm_session_probe_exited(struct daemon *d, pid_t pid, int status)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (s->probe_pid != pid)
			continue;
		s->probe_pid = 0;
		if (s->state != SESSION_PROBING || status == 0)
			return;
		fail_probe(d, s,
		           status == 8  ? "the probe could not join the session cgroup"
		           : status & 1 ? "the IPv4 probe could not be sent (is the loopback "
		                          "interface up?)"
		                        : "the IPv6 probe could not be sent to ::1 (is IPv6 on "
		                          "loopback disabled?)");
		return;
	}
}

/* Restart: state files. */

struct saved {
	uint64_t id;
	uint32_t slot, uid, audit;
	int32_t pid;
	int64_t started;
	char name[64], policy[LDM_CTL_NAME_MAX], user[33], app[LDM_CTL_PATH_MAX];
};

static int
saved_field(struct saved *v, const char *key, const char *val)
{
	uint64_t n;

	if (strcmp(key, "name") == 0)
		return ldm_strscpy(v->name, sizeof(v->name), val);
	if (strcmp(key, "policy") == 0)
		return ldm_strscpy(v->policy, sizeof(v->policy), val);
	if (strcmp(key, "user") == 0)
		return ldm_strscpy(v->user, sizeof(v->user), val);
	if (strcmp(key, "app") == 0)
		return ldm_strscpy(v->app, sizeof(v->app), val);
	if (ldm_parse_u64(val, INT64_MAX, &n) < 0)
		return -EINVAL;
	if (strcmp(key, "id") == 0)
		v->id = n;
	else if (strcmp(key, "slot") == 0 && n <= LDM_MAX_SESSIONS)
		v->slot = (uint32_t)n;
	else if (strcmp(key, "uid") == 0 && n < UINT32_MAX)
		v->uid = (uint32_t)n;
	else if (strcmp(key, "audit") == 0 && n <= 1)
		v->audit = (uint32_t)n;
	else if (strcmp(key, "pid") == 0 && n <= INT32_MAX)
		v->pid = (int32_t)n;
	else if (strcmp(key, "started") == 0)
		v->started = (int64_t)n;
	else
		return -EINVAL;
	return 0;
}

static int
read_saved(int dirfd, const char *file, struct saved *v)
{
	char text[2048];
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	char *line, *save = NULL;

	*v = (struct saved){ 0 };
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		return -EINVAL;
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			return -EINVAL;
		*eq = '\0';
		if (saved_field(v, line, eq + 1) < 0)
			return -EINVAL;
	}
	return v->id > 0 && v->slot > 0 && v->name[0] != '\0' && v->policy[0] != '\0' ? 0 : -EINVAL;
}

static void
restore_one(struct daemon *d, const struct saved *v)
{
	struct session *s = &d->sessions[v->slot];
	char err[LDM_CTL_TEXT_MAX];
	int populated;

	if (s->state != SESSION_FREE || v->slot > d->marks.max_slots)
		return;
	*s = (struct session){ .state = SESSION_READY,
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
	set_cgroup_path(d, s);
	(void)ldm_strscpy(s->policy_name, sizeof(s->policy_name), v->policy);
	(void)ldm_strscpy(s->user, sizeof(s->user), v->user);
	(void)ldm_strscpy(s->app, sizeof(s->app), v->app);
	if (v->id >= d->next_id)
		d->next_id = v->id + 1;
	if (ldm_counts_open(d, s, true) < 0)
		ldm_daemon_log_error(d, s, "cannot keep the session's counters in %s",
		                     d->cfg.state_dir);
	populated = ldm_cgroup_populated(&d->cg, s->name);
	if (populated != 1 || load_policy(d, s->policy_name, &s->policy, err, sizeof(err)) < 0) {
		/* Gone, or its policy is now refused: nothing of it may stay allowed. The
		 * cgroup's processes (if any) fall to the sandbox root's drop rule. An empty
		 * one ends now (no cgroup event will come to say so). */
		s->state = SESSION_ENDING;
		s->wd = ldm_cgroup_watch(&d->cg, s->name, d->inotify_fd);
		if (populated != 1)
			s->end_at = ldm_now_ms() + LDM_END_GRACE_MS;
		return;
	}
	s->wd = ldm_cgroup_watch(&d->cg, s->name, d->inotify_fd);
	log_session(d, s, LDM_EVENT_SESSION_START, "resumed after a daemon restart");
}

int
ldm_session_restore(struct daemon *d)
{
	char path[4200];
	_cleanup_close_ int dfd = -1;
	char **names = NULL;
	size_t n = 0;

	if (state_path(d, "sessions", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (ldm_cgroup_list(&d->cg, &names, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		char file[32] = "";
		size_t digits = strspn(names[i] + 1, "0123456789");
		struct saved v;

		/* A session cgroup is named s<id>-<random>; its state file is <id>. */
		if (names[i][0] == 's' && digits > 0 && digits < sizeof(file) &&
		    names[i][1 + digits] == '-')
			memcpy(file, names[i] + 1, digits);
		if (file[0] != '\0' && read_saved(dfd, file, &v) == 0 &&
		    strcmp(v.name, names[i]) == 0)
			restore_one(d, &v);
		else if (ldm_cgroup_remove(&d->cg, names[i]) < 0)
			ldm_daemon_log_error(d, NULL,
			                     "cgroup %s/%s has processes but no session: they "
			                     "stay blocked",
			                     d->cg.root, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}
