/*
 * A session's processes, as last seen in its cgroup.procs. A process that is gone from
 * there has ended or left; the two are told apart by /proc: a process still alive (same
 * pid, same start time, not a zombie) whose cgroup is now outside the session left it —
 * moved by root, or by systemd's PID 1 on the app's request (a scope) — and runs on without
 * the session's rules. That is logged at once as `tamper` naming the pid, its name and the
 * cgroup it went to, counted in the session (escapes), and said at its end and in ldm-run's
 * summary. A dying process still shows the session's cgroup in /proc, so an exit is never
 * taken for an escape.
 *
 * The kernel does not say when a process leaves a populated cgroup, so the lists are read
 * every LDM_PROCS_SCAN_MS (and when a cgroup event comes). A process that leaves and ends
 * between two reads, or leaves while no daemon runs, is not seen.
 *
 * Also here: the final summary. ldm-run, inside the session, asks for its counts once its
 * program ended; the answer waits until nothing but ldm-run is left in the session (a child
 * that outlived the program may still be blocked), the queue is drained and the session's
 * folded records are written, or until the caller's deadline.
 *
 * Trust: cgroup.procs and /proc are the kernel's; a process's name is its own choice and is
 * escaped by the log formatters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "session_table.h"
#include "ldm/util.h"
#include "logfold.h"
#include "procparse.h"

#define PROCS_TEXT_MAX 65536
#define STAT_TEXT_MAX  2048
#define COMM_MAX       64

struct ldm_proc_seen {
	int pid;
	uint64_t start;
	bool fresh; /* first seen in the last read */
};

/* PID's state, start time and name; -ENOENT when it is gone. */
static int
proc_stat(int pid, char *state, uint64_t *start, char *comm, size_t comm_size)
{
	char path[64], text[STAT_TEXT_MAX];
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = ldm_read_small_at(AT_FDCWD, path, text, sizeof(text));
	if (r < 0)
		return r;
	return ldm_procparse_stat(text, state, start, comm, comm_size);
}

static bool
in_session(const struct session *s, const char *path)
{
	size_t n = strlen(s->cgroup);

	return path[0] == '/' && strncmp(path + 1, s->cgroup, n) == 0 &&
	       (path[n + 1] == '\0' || path[n + 1] == '/');
}

static void
log_escape(struct daemon *d, struct session *s, int pid, const char *comm, const char *where)
{
	char reason[LDM_CTL_TEXT_MAX];
	struct ldm_event e;

	s->escapes++;
	if (where != NULL)
		(void)snprintf(reason, sizeof(reason),
		               "process %d (%s) left the session cgroup for %.300s while it ran: "
		               "its traffic is no longer judged by this session's policy",
		               pid, comm, where);
	else
		(void)snprintf(reason, sizeof(reason),
		               "process %d (%s) of the session runs in another network namespace "
		               "than the daemon's: its traffic is not judged by this session's "
		               "policy",
		               pid, comm);
	ldm_event_init(&e, LDM_EVENT_TAMPER, NULL);
	ldm_session_table_fill_event(s, &e);
	e.pid = (uint32_t)pid;
	e.reason = reason;
	ldm_record_log(d, &e); /* syncs s->escapes into the state file */
}

/* P is gone from the session's list: an exit, or an escape? */
static void
judge_gone(struct daemon *d, struct session *s, const struct ldm_proc_seen *p)
{
	char comm[COMM_MAX], state, where[4096];
	uint64_t start;

	if (proc_stat(p->pid, &state, &start, comm, sizeof(comm)) < 0 || start != p->start ||
	    state == 'Z' || state == 'X' || state == 'x')
		return; /* ended (or its pid is another process's now) */
	if (ldm_cgroup_of_pid(p->pid, where, sizeof(where)) < 0 || in_session(s, where))
		return;
	/* Alive elsewhere: make sure it is still the same process we read the cgroup of. */
	if (proc_stat(p->pid, &state, &start, comm, sizeof(comm)) < 0 || start != p->start)
		return;
	log_escape(d, s, p->pid, comm, where);
}

static int
cmp_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* S's list is sorted by pid (new_list builds it from sorted pids): a binary search, so a
 * session of thousands of processes costs the daemon n log n, not n^2, every scan. */
static const struct ldm_proc_seen *
find_in(const struct ldm_proc_seen *v, size_t n, int pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].pid == pid)
			return &v[mid];
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct ldm_proc_seen *
find_seen(const struct session *s, int pid)
{
	return find_in(s->procs, s->n_procs, pid);
}

/* The new list from PIDS: start times known from the old list, or read now. */
static struct ldm_proc_seen *
new_list(const struct session *s, const int *pids, size_t n, size_t *ret_n)
{
	struct ldm_proc_seen *v = calloc(n > 0 ? n : 1, sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ldm_proc_seen *old = find_seen(s, pids[i]);
		char comm[COMM_MAX], state;
		uint64_t start;

		if (old != NULL)
			v[k++] = *old;
		else if (proc_stat(pids[i], &state, &start, comm, sizeof(comm)) == 0)
			v[k++] = (struct ldm_proc_seen){ .pid = pids[i],
				                         .start = start,
				                         .fresh = true };
		if (old != NULL)
			v[k - 1].fresh = false;
	}
	*ret_n = k;
	return v;
}

void
ldm_procs_scan(struct daemon *d, struct session *s)
{
	_cleanup_free_ char *text = malloc(PROCS_TEXT_MAX);
	_cleanup_free_ int *pids = NULL;
	struct ldm_proc_seen *v;
	char path[128];
	size_t n = 0;
	int r;

	if (text == NULL || (pids = calloc(LDM_MAX_SESSION_PROCS, sizeof(*pids))) == NULL)
		return;
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", s->name);
	r = ldm_read_small_at(d->cg.root_fd, path, text, PROCS_TEXT_MAX);
	if (r >= 0)
		r = ldm_procparse_pid_list(text, pids, LDM_MAX_SESSION_PROCS);
	/* Unreadable: the list stays as it was. Too long: the first ones are judged; those
	 * past the cap look gone, and are judged too (a process inside is no escape). */
	if (r < 0 && r != -E2BIG)
		return;
	qsort(pids, r >= 0 ? (size_t)r : LDM_MAX_SESSION_PROCS, sizeof(*pids), cmp_pid);
	v = new_list(s, pids, r >= 0 ? (size_t)r : LDM_MAX_SESSION_PROCS, &n);
	if (v == NULL)
		return;
	/* A new process in another network namespace (put there by root, or by a client
	 * other than ldm-run before its exec) sends where the rules do not look. */
	for (size_t k = 0; k < n; k++) {
		char comm[COMM_MAX], state;
		uint64_t start;

		if (v[k].fresh && ldm_peerns_same_net(d, v[k].pid) == 0 &&
		    proc_stat(v[k].pid, &state, &start, comm, sizeof(comm)) == 0 &&
		    start == v[k].start)
			log_escape(d, s, v[k].pid, comm, NULL);
	}
	for (size_t i = 0; i < s->n_procs; i++)
		if (find_in(v, n, s->procs[i].pid) == NULL)
			judge_gone(d, s, &s->procs[i]);
	free(s->procs);
	s->procs = v;
	s->n_procs = n;
}

void
ldm_procs_free(struct session *s)
{
	free(s->procs);
	s->procs = NULL;
	s->n_procs = 0;
}

void
ldm_procs_flush_folds(struct daemon *d, struct session *s)
{
	(void)ldm_fold_flush_session(d->fold, s->id, ldm_record_emit, d);
}

/* Processes of S other than the final summary's caller. */
static unsigned
others(const struct session *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_procs; i++)
		n += s->procs[i].pid != s->final_pid;
	return n;
}

static void
answer_final(struct daemon *d, struct session *s, uint64_t now)
{
	unsigned running = others(s);
	int client = s->final_client;

	if (running > 0 && now < s->final_deadline)
		return;
	s->final_client = -1;
	if (running == 0) {
		/* What the last ones sent is queued already; then their folded repeats. */
		d->drain_queue(d);
		ldm_procs_flush_folds(d, s);
	}
	ldm_clients_send_summary(d, client, s, running == 0, running);
}

void
ldm_procs_tick(struct daemon *d, uint64_t now)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];
		uint64_t every = s->final_client >= 0 ? LDM_PROCS_FINAL_MS : LDM_PROCS_SCAN_MS;

		if (!SESSION_ACTIVE(s) || s->state == SESSION_PROBING || now < s->procs_scan_at)
			continue;
		s->procs_scan_at = now + every;
		ldm_procs_scan(d, s);
		if (s->final_client >= 0)
			answer_final(d, s, now);
	}
}

uint64_t
ldm_procs_next_deadline(const struct daemon *d)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		const struct session *s = &d->sessions[i];

		if (SESSION_ACTIVE(s) && s->state != SESSION_PROBING && s->procs_scan_at < next)
			next = s->procs_scan_at;
	}
	return next;
}

int
ldm_procs_wait_final(struct daemon *d, int client, struct session *s, uint32_t wait_ms)
{
	uint64_t now = ldm_now_ms();

	if (s->final_client >= 0 && s->final_client != client)
		return -EBUSY;
	s->final_client = client;
	s->final_pid = d->clients[client].pid;
	s->final_deadline = now + wait_ms;
	s->procs_scan_at = now; /* look now, then often */
	d->clients[client].deadline = s->final_deadline + LDM_CLIENT_TIMEOUT_MS;
	return 0;
}
