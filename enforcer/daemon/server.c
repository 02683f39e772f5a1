/*
 * The control socket. Any local user may connect (mode 0666) and ask for a session with an
 * installed policy. Each connection is authenticated with SO_PEERCRED when accepted; every
 * message is read whole, checked (ldm_msg_check) and re-validated against that identity.
 * A malformed, oversized or unknown message closes that connection and is logged; nothing a
 * client sends stops the daemon.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "state.h"
#include "session_table.h"
#include "eventlog.h"
#include "ldm/util.h"

/* Twice what an honest supervisor can send in any 1000 ms (two of its seconds, each with its
 * suppressed-count report): more comes from a sender that is not ldm-run's supervisor. */
#define REPORTS_PER_SECOND (4 * (LDM_CTL_REPORTS_PER_SEC + 1))

int
ldm_server_open(struct daemon *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	mode_t old;

	if (ldm_strscpy(a.sun_path, sizeof(a.sun_path), d->cfg.socket) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(d->cfg.socket); /* a stale socket of a dead daemon */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;

		umask(old);
		return r;
	}
	umask(old);
	if (chmod(d->cfg.socket, 0666) < 0 || listen(fd, 64) < 0)
		return -errno;
	for (int i = 0; i < LDM_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	d->listen_fd = TAKE_FD(fd);
	return ldm_loop_watch_fd(d, d->listen_fd, EPOLLIN);
}

static int
free_client(const struct daemon *d)
{
	for (int i = 0; i < LDM_MAX_CLIENTS; i++)
		if (d->clients[i].fd < 0)
			return i;
	return -1;
}

void
ldm_server_accept(struct daemon *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int i;

		if (fd < 0)
			return;
		i = free_client(d);
		if (i < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    ldm_loop_watch_fd(d, fd, EPOLLIN) < 0) {
			close(fd); /* too many clients: they retry */
			continue;
		}
		d->clients[i] = (struct client){ .fd = fd,
			                         .pid = cred.pid,
			                         .uid = cred.uid,
			                         .gid = cred.gid,
			                         .deadline = ldm_now_ms() + LDM_CLIENT_TIMEOUT_MS };
	}
}

static void
refuse(struct daemon *d, int client, const char *what)
{
	const struct client *c = &d->clients[client];

	ldm_record_error(d, NULL, "control: pid %d uid %u: %s; connection closed", (int)c->pid,
	                 (unsigned)c->uid, what);
	ldm_clients_close(d, client);
}

/* The peer's session, if the peer is inside one (its cgroup is below the sandbox root). */
static struct session *
peer_session(struct daemon *d, const struct client *c, bool *ret_inside)
{
	char path[4200];

	*ret_inside = true; /* unknown counts as inside: refuse rather than trust */
	if (ldm_cgroup_of_pid(c->pid, path, sizeof(path)) < 0)
		return NULL;
	*ret_inside = ldm_cgroup_in_sandbox(&d->cg, path);
	for (unsigned i = 1; *ret_inside && i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];
		size_t n = strlen(s->cgroup);

		if (SESSION_ACTIVE(s) && strncmp(path + 1, s->cgroup, n) == 0 &&
		    (path[n + 1] == '\0' || path[n + 1] == '/'))
			return s;
	}
	return NULL;
}

static void
on_session_request(struct daemon *d, int client, const struct ldm_msg_session_request *m)
{
	const struct client *c = &d->clients[client];
	char err[LDM_CTL_TEXT_MAX];
	bool inside;

	if (m->pid != (uint32_t)c->pid) {
		refuse(d, client, "session request for a pid that is not the caller's");
		return;
	}
	(void)peer_session(d, c, &inside);
	if (inside) {
		ldm_clients_send_error(d, client, -EPERM,
		                       "refused: the caller is already inside a session");
		refuse(d, client, "session request from inside a session");
		return;
	}
	if (c->uid == 0) {
		ldm_clients_send_error(d, client, -EPERM,
		                       "refused: root cannot be sandboxed (it could remove the "
		                       "rules); run ldm-run as the desktop user");
		ldm_clients_close(d, client);
		return;
	}
	if (ldm_peerns_check(d, c->pid, err, sizeof(err)) < 0) {
		ldm_record_error(d, NULL, "session for pid %d uid %u policy '%s' %s", (int)c->pid,
		                 (unsigned)c->uid, m->policy, err);
		ldm_clients_send_error(d, client, -EXDEV, err);
		ldm_clients_close(d, client);
		return;
	}
	if (ldm_session_request(d, client, m, err, sizeof(err)) < 0) {
		ldm_record_error(d, NULL, "session for pid %d uid %u policy '%s' refused: %s",
		                 (int)c->pid, (unsigned)c->uid, m->policy, err);
		ldm_clients_send_error(d, client, -EPERM, err);
		ldm_clients_close(d, client);
	}
	/* else: the self-test runs; the session answers ready or an error. */
}

/*
 * The session a supervisor's report (KIND: "syscall", "write", ...) is about: the caller's own
 * session, and the one the report names. NULL after refusing (and closing) the caller. A
 * supervisor keeps its connection open as long as its session runs.
 */
static struct session *
reporting_session(struct daemon *d, int client, uint64_t id, const char *kind)
{
	struct client *c = &d->clients[client];
	struct session *s;
	char what[96];
	bool inside;

	s = peer_session(d, c, &inside);
	if (s == NULL || s->id != id) {
		(void)snprintf(what, sizeof(what), "%s report from outside the session it names",
		               kind);
		refuse(d, client, what);
		return NULL;
	}
	c->deadline = ldm_now_ms() + 24ull * 3600 * 1000;
	return s;
}

static bool
report_allowed(struct client *c, uint64_t now)
{
	if (now - c->report_window >= 1000) {
		c->report_window = now;
		c->reports_in_window = 0;
	}
	return ++c->reports_in_window <= REPORTS_PER_SECOND;
}

static void
on_syscall_denied(struct daemon *d, int client, const struct ldm_msg_syscall_denied *m)
{
	struct client *c = &d->clients[client];
	struct session *s;
	struct ldm_event e;

	s = reporting_session(d, client, m->session, "syscall");
	if (s == NULL)
		return;
	/* Every report counted is written (folding bounds the disk), so the records add up to
	 * the session's count; a sender past the limit is refused, with an error record. */
	if (!report_allowed(c, ldm_now_ms())) {
		refuse(d, client, "more syscall reports than ldm-run's supervisor sends");
		return;
	}
	/* A summary of reports the supervisor held back counts all of them (capped). */
	if (m->nr == LDM_SYSCALL_SUPPRESSED)
		s->syscalls_denied += m->args[0] < 1000000 ? m->args[0] : 1000000;
	else
		s->syscalls_denied++;
	ldm_counts_sync(s);
	ldm_event_init(&e, LDM_EVENT_SYSCALL_DENIED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.pid = m->pid;
	e.syscall = m->name;
	e.nr = m->nr;
	e.err = m->err;
	e.reason = "denied by the seccomp filter";
	if (m->nr == LDM_SYSCALL_SUPPRESSED) {
		e.count = m->args[0] < 1000000 ? m->args[0] : 1000000;
		e.reason = "more denied syscalls than the supervisor reports one by one";
	}
	ldm_record_log(d, &e);
}

static void
on_write_denied(struct daemon *d, int client, const struct ldm_msg_write_denied *m)
{
	struct client *c = &d->clients[client];
	struct session *s;
	struct ldm_event e;

	s = reporting_session(d, client, m->session, "write");
	if (s == NULL)
		return;
	if (!report_allowed(c, ldm_now_ms())) { /* as in on_syscall_denied */
		refuse(d, client, "more write reports than ldm-run's supervisor sends");
		return;
	}
	s->syscalls_denied++;
	ldm_counts_sync(s);
	ldm_event_init(&e, LDM_EVENT_SYSCALL_DENIED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.pid = m->pid;
	e.syscall = m->name;
	e.nr = m->nr;
	e.err = m->err;
	e.path = m->path;
	e.reason = m->err == EACCES ? "write outside the write scope (refused by Landlock)"
	                            : "truncation by path is refused in a session";
	ldm_record_log(d, &e);
}

/* A target as ldm_unix_sockaddr_text() writes it: "/..." or "@...", printable ASCII. */
static bool
unix_target_ok(const char *t)
{
	if (t[0] != '/' && t[0] != '@')
		return false;
	for (const char *p = t; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

static const char *const unix_reasons[] = {
	[LDM_UNIX_WHY_RULE] = "local socket denied by a rule",
	[LDM_UNIX_WHY_DEFAULT] = "local socket outside the session, no rule allows it",
	[LDM_UNIX_WHY_UNDECIDED] = "local socket: ldm-run could not decide, refused",
	[LDM_UNIX_WHY_SUPPRESSED] = "more refused local sockets than the supervisor reports "
	                            "one by one",
	[LDM_UNIX_WHY_NO_BUS] = "D-Bus bus withheld: no dbus rule of the policy names this bus",
};

static void
on_unix_blocked(struct daemon *d, int client, const struct ldm_msg_unix_blocked *m)
{
	const struct ldm_rule *r = NULL;
	struct session *s;
	struct ldm_event e;
	uint64_t n = m->why == LDM_UNIX_WHY_SUPPRESSED ? m->count : 1;

	s = reporting_session(d, client, m->session, "unix");
	if (s == NULL)
		return;
	if (m->why == LDM_UNIX_WHY_RULE) {
		r = m->rule >= 1 && m->rule <= s->policy->n_rules ? &s->policy->rules[m->rule - 1]
		                                                  : NULL;
		if (r == NULL || r->peer != LDM_PEER_UNIX || r->action != LDM_ACTION_DENY) {
			refuse(d, client, "unix report naming a rule that denies no local socket");
			return;
		}
	}
	if (m->why != LDM_UNIX_WHY_SUPPRESSED && !unix_target_ok(m->target)) {
		refuse(d, client, "unix report with a malformed socket name");
		return;
	}
	if (n > 1000000)
		n = 1000000;
	s->blocked += n;
	/* No report limit here: every counted attempt is in a record, and folding (in
	 * ldm_record_log) keeps a flood from filling the disk. */
	ldm_event_init(&e, LDM_EVENT_BLOCKED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.pid = m->pid;
	e.proto = LDM_PROTO_UNIX;
	e.sock = m->target;
	e.rule = r != NULL ? r->number : 0;
	e.comment = r != NULL ? r->comment : NULL;
	e.reason = unix_reasons[m->why];
	e.count = n;
	ldm_record_log(d, &e);
}

/* ldm-run's keeper is gone (LDM_MSG_KEEPER_GONE): its word, said once per session. */
static void
on_keeper_gone(struct daemon *d, int client, const struct ldm_msg_keeper_gone *m)
{
	struct session *s;

	s = reporting_session(d, client, m->session, "keeper");
	if (s == NULL)
		return;
	if (s->keeper_gone_logged)
		return;
	s->keeper_gone_logged = true;
	ldm_record_error(d, s,
	                 "ldm-run's first process (pid %u, says its supervisor) ended before "
	                 "the program: no desktop notifications of this session's blocks "
	                 "and no summary from now on",
	                 (unsigned)m->pid);
}

static void
on_summary(struct daemon *d, int client, const struct ldm_msg_summary_request *m)
{
	const struct client *c = &d->clients[client];
	struct session *s;
	bool inside;

	ldm_nfq_drain(d); /* the app's last packets are queued already: count them first */
	s = ldm_session_table_by_id(d, m->session);
	if (s == NULL || (c->uid != 0 && c->uid != s->uid)) {
		ldm_clients_send_error(d, client, -ENOENT, "no such session of yours");
		return;
	}
	/* Waiting for the final counts is for the session's ldm-run (its requester, inside
	 * it), never the app: the answer comes once nothing else is left there. */
	if ((m->flags & LDM_SUMMARY_F_FINAL) && c->pid == s->pid &&
	    peer_session(d, c, &inside) == s && ldm_procs_wait_final(d, client, s, m->wait_ms) == 0)
		return;
	ldm_clients_send_summary(d, client, s, false, 0);
}

static void
send_line(struct daemon *d, int client, const char *text)
{
	struct ldm_msg_text m;

	ldm_msg_init(&m.hdr, LDM_MSG_STATUS_LINE);
	(void)ldm_msg_set_str(m.text, sizeof(m.text), text);
	(void)ldm_clients_send(d, client, &m);
}

/* A session's status line as one JSON object (ldmctl status --json). */
static void
session_json(const struct session *s, const char *state, char *line, size_t size)
{
	char policy[LDM_CTL_TEXT_MAX], user[LDM_CTL_TEXT_MAX], app[LDM_CTL_TEXT_MAX];
	int n;

	/* The app path is the requester's word: quoted, and left out (null) when the
	 * escaped line would not fit. */
	if (ldm_json_quote(s->policy_name, LDM_CTL_NAME_MAX, policy, sizeof(policy)) < 0)
		(void)snprintf(policy, sizeof(policy), "null");
	if (ldm_json_quote(s->user, sizeof(s->user), user, sizeof(user)) < 0)
		(void)snprintf(user, sizeof(user), "null");
	if (ldm_json_quote(s->app, LDM_CTL_PATH_MAX, app, sizeof(app)) < 0)
		(void)snprintf(app, sizeof(app), "null");
	for (int k = 0; k < 2; k++) {
		n = snprintf(line, size,
		             "{\"session\":%llu,\"state\":\"%s\",\"policy\":%s,\"audit\":%s,"
		             "\"uid\":%u,\"user\":%s,\"pid\":%d,\"blocked\":%llu,"
		             "\"would_block\":%llu,\"syscalls_denied\":%llu,\"app\":%s}",
		             (unsigned long long)s->id, state, policy, s->audit ? "true" : "false",
		             (unsigned)s->uid, user, (int)s->pid, (unsigned long long)s->blocked,
		             (unsigned long long)s->would_block,
		             (unsigned long long)s->syscalls_denied, app);
		if (n >= 0 && (size_t)n < size)
			return;
		(void)snprintf(app, sizeof(app), "null");
	}
	(void)snprintf(line, size, "{\"session\":%llu}", (unsigned long long)s->id);
}

static void
on_status(struct daemon *d, int client, const struct ldm_msg_status_request *m)
{
	struct ldm_msg_empty end;
	char line[LDM_CTL_TEXT_MAX];
	const char *states[] = { "free", "starting", "running", "ending" };
	unsigned spares = 0;
	uid_t uid = d->clients[client].uid;
	bool json = (m->flags & LDM_STATUS_F_JSON) != 0;
	struct ldm_rules_stats rs;
	struct ldm_nfq_stats qs;

	ldm_rules_stats(d, &rs);
	ldm_nfq_stats(d, &qs);
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		spares += d->sessions[i].state == SESSION_SPARE && ldm_rules_holds(d, i, false);
	if (json)
		(void)snprintf(
		        line, sizeof(line),
		        "{\"daemon\":{\"queue\":%u,\"mark_mask\":\"0x%08x\",\"ipv6\":%s,"
		        "\"spares_ready\":%u,\"rule_commits\":%llu,\"rule_commit_failures\":%llu,"
		        "\"rule_checks\":%llu,\"tamper_events\":%llu,\"queue_overruns\":%llu,"
		        "\"bad_packets\":%llu,\"log_write_failures\":%llu}}",
		        d->cfg.queue, d->marks.mask, d->v6 ? "true" : "false", spares,
		        (unsigned long long)rs.commits, (unsigned long long)rs.commit_errors,
		        (unsigned long long)rs.rule_checks, (unsigned long long)rs.tamper_events,
		        (unsigned long long)qs.enobufs, (unsigned long long)qs.bad_packets,
		        (unsigned long long)ldm_eventlog_failures(d->log));
	else
		(void)snprintf(
		        line, sizeof(line),
		        "daemon: queue %u, cgroup root /%.200s, mark mask 0x%08x, %s, spares ready "
		        "%u, "
		        "rule commits %llu (%llu failed), rule checks %llu, tamper events %llu, "
		        "queue overruns %llu, bad packets %llu, log write failures %llu",
		        d->cfg.queue, d->cg.root, d->marks.mask, d->v6 ? "IPv4+IPv6" : "IPv4 only",
		        spares, (unsigned long long)rs.commits,
		        (unsigned long long)rs.commit_errors, (unsigned long long)rs.rule_checks,
		        (unsigned long long)rs.tamper_events, (unsigned long long)qs.enobufs,
		        (unsigned long long)qs.bad_packets,
		        (unsigned long long)ldm_eventlog_failures(d->log));
	send_line(d, client, line);
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS && d->clients[client].fd >= 0; i++) {
		const struct session *s = &d->sessions[i];

		/* An ordinary user (an app inside a session too) sees its own sessions only:
		 * other users' programs and pids are not theirs to know. */
		if (!SESSION_ACTIVE(s) || (uid != 0 && s->uid != uid))
			continue;
		if (json) {
			session_json(s, states[s->state], line, sizeof(line));
			send_line(d, client, line);
			continue;
		}
		(void)snprintf(line, sizeof(line),
		               "session %llu: %s, policy %s%s, user %s, pid %d, blocked %llu, "
		               "would block %llu, syscalls denied %llu, app %s",
		               (unsigned long long)s->id, states[s->state], s->policy_name,
		               s->audit ? " (audit)" : "", s->user, (int)s->pid,
		               (unsigned long long)s->blocked, (unsigned long long)s->would_block,
		               (unsigned long long)s->syscalls_denied, s->app);
		send_line(d, client, line);
	}
	ldm_msg_init(&end.hdr, LDM_MSG_END);
	(void)ldm_clients_send(d, client, &end);
}

static void
dispatch(struct daemon *d, int client)
{
	const struct ldm_msg_hdr *h = &d->clients[client].in.hdr;

	switch (h->type) {
	case LDM_MSG_SESSION_REQUEST:
		on_session_request(d, client, (const void *)h);
		break;
	case LDM_MSG_SYSCALL_DENIED:
		on_syscall_denied(d, client, (const void *)h);
		break;
	case LDM_MSG_WRITE_DENIED:
		on_write_denied(d, client, (const void *)h);
		break;
	case LDM_MSG_UNIX_BLOCKED:
		on_unix_blocked(d, client, (const void *)h);
		break;
	case LDM_MSG_KEEPER_GONE:
		on_keeper_gone(d, client, (const void *)h);
		break;
	case LDM_MSG_SUMMARY_REQUEST:
		on_summary(d, client, (const void *)h);
		break;
	case LDM_MSG_STATUS_REQUEST:
		on_status(d, client, (const void *)h);
		break;
	case LDM_MSG_LOG_REQUEST:
		ldm_logserve_start(d, client, (const void *)h);
		ldm_clients_close(d, client); /* the pipe (or the error) was its one answer */
		break;
	default:
		refuse(d, client, "a message type clients do not send");
		break;
	}
}

/* Reads what is there; a whole message is dispatched once its header and size check out. */
void
ldm_server_client_io(struct daemon *d, int client)
{
	struct client *c = &d->clients[client];

	while (c->fd >= 0) {
		size_t want = c->have < sizeof(c->in.hdr) ? sizeof(c->in.hdr) : c->in.hdr.len;
		ssize_t n = recv(c->fd, c->in.buf + c->have, want - c->have, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			ldm_clients_close(d, client);
			return;
		}
		if (n < 0)
			return;
		c->have += (size_t)n;
		if (c->have == sizeof(c->in.hdr) && ldm_msg_check_hdr(&c->in.hdr) < 0) {
			refuse(d, client, "malformed message header");
			return;
		}
		if (c->have < sizeof(c->in.hdr) || c->have < c->in.hdr.len)
			continue;
		if (ldm_msg_check(&c->in.hdr) < 0) {
			refuse(d, client, "malformed message");
			return;
		}
		c->have = 0;
		dispatch(d, client);
	}
}

void
ldm_server_tick(struct daemon *d, uint64_t now)
{
	for (int i = 0; i < LDM_MAX_CLIENTS; i++) {
		const struct client *c = &d->clients[i];
		bool waiting = false;

		if (c->fd < 0 || now < c->deadline)
			continue;
		for (unsigned k = 1; k <= LDM_MAX_SESSIONS; k++)
			waiting |= d->sessions[k].client == i;
		if (!waiting)
			ldm_clients_close(d, i);
	}
}
