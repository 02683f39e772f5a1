/*
 * The daemon's life: set up (fatal on failure: nothing is served half-made), then one epoll
 * loop over the control socket, its clients, the queue, the cgroup watches and the netlink
 * notifications, with deadlines (self-tests, log folding, rule checks) as its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "eventlog.h"
#include "flowtab.h"
#include "ldm/util.h"
#include "logfold.h"
#include "nametab.h"

#define POLL_RULES_MS      5000 /* the backstop to nf_tables notifications */
#define FLOWTAB_CAPACITY   65536
#define NAMETAB_CAPACITY   16384
#define STOP_DRAIN_ROUNDS  64 /* at stop: read what is queued, at most this many times */
#define STOP_DRAIN_WAIT_MS 20

uint64_t
ldm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
ldm_daemon_watch_fd(struct daemon *d, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void
ldm_daemon_emit(const struct ldm_event *e, void *u)
{
	struct daemon *d = u;
	struct ldm_event m = *e;
	char host[LDM_EVENT_HOSTNAME_MAX + 1];

	m.machine = d->machine_id; /* (machine, session) names a session in merged logs */
	/* The name now (it can change while the daemon runs); never under `host`, a peer's. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		m.hostname = host;
	}
	/* A failure is counted there, never a verdict; only what reached the file counts as
	 * written (a restart logs the rest from the session's counters). */
	if (ldm_eventlog_write(d->log, &m) == 0)
		ldm_counts_written(d, e);
}

/* Logs E; blocked attempts go through the folding table first. The session's counters
 * (changed by the caller just before) reach its state file first. */
void
ldm_daemon_log(struct daemon *d, struct ldm_event *e)
{
	struct session *s = e->session != 0 ? ldm_session_by_id(d, e->session) : NULL;

	if (s != NULL)
		ldm_counts_sync(s);
	if (e->event == LDM_EVENT_BLOCKED || e->event == LDM_EVENT_WOULD_BLOCK ||
	    e->event == LDM_EVENT_RESOLVED || e->event == LDM_EVENT_ALLOWED) {
		if (ldm_fold_offer(d->fold, e, ldm_now_ms(), ldm_daemon_emit, d) ==
		    LDM_FOLD_COUNTED)
			return;
	}
	ldm_daemon_emit(e, d);
}

void
ldm_daemon_log_error(struct daemon *d, const struct session *s, const char *fmt, ...)
{
	char text[LDM_CTL_TEXT_MAX];
	struct ldm_event e;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ldm_event_init(&e, LDM_EVENT_ERROR, NULL);
	if (s != NULL)
		ldm_session_fill_event(s, &e);
	e.reason = text;
	ldm_daemon_log(d, &e);
}

static int
open_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0)
		return -errno;
	return ldm_daemon_watch_fd(d, d->sigfd, EPOLLIN);
}

static int
make_dirs(struct daemon *d)
{
	if (mkdir(d->cfg.state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return ldm_ids_init(d);
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "ldm-enforcerd: %s: %s\n", what, strerror(-r));
	exit(1);
}

/* Startup: each step must work, or the daemon does not serve at all. */
static unsigned live_sessions(const struct daemon *d);

/* In the foreground, one line saying that the daemon is up and where things are. */
static void
say_ready(const struct daemon *d)
{
	char dirs[1024] = "";
	size_t used = 0;

	for (size_t i = 0; i < d->cfg.n_policy_dirs && used < sizeof(dirs); i++) {
		int n = snprintf(dirs + used, sizeof(dirs) - used, "%s%s", i ? ", " : "",
		                 d->cfg.policy_dirs[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	fprintf(stderr,
	        "ldm-enforcerd " LDM_VERSION ": ready on %s (policies from %s; log %s; queue %u; "
	        "cgroup root /%s; %s; %u live session%s taken up)\n",
	        d->cfg.socket, dirs[0] != '\0' ? dirs : "nowhere", d->cfg.log, d->cfg.queue,
	        d->cg.root, d->v6 ? "IPv4+IPv6" : "IPv4 only", live_sessions(d),
	        live_sessions(d) == 1 ? "" : "s");
}

int
ldm_daemon_init(struct daemon *d)
{
	char err[1024] = "";
	uint64_t seed;
	bool changed;
	int r;

	d->epfd = d->sigfd = d->listen_fd = d->inotify_fd = d->timer_fd = -1;
	d->rtnl_fd = d->nft_fd = -1;
	for (unsigned i = 0; i <= LDM_MAX_SESSIONS; i++)
		d->sessions[i] = (struct session){ .wd = -1, .client = -1, .final_client = -1 };
	for (int i = 0; i < LDM_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	if ((r = ldm_eventlog_open(d->cfg.log, d->cfg.foreground, &d->log)) < 0)
		die(d->cfg.log, r);
	if (ldm_eventlog_chain_note(d->log) != NULL) /* the first record of the new chain */
		ldm_daemon_log_error(d, NULL, "log hash chain starts anew: %s",
		                     ldm_eventlog_chain_note(d->log));
	if ((r = ldm_marks_init(d->cfg.mark_mask, &d->marks)) < 0)
		die("mark mask", r);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->epfd < 0 || d->inotify_fd < 0)
		die("epoll/inotify", -errno);
	if ((r = ldm_daemon_watch_fd(d, d->inotify_fd, EPOLLIN)) < 0 || (r = open_signals(d)) < 0)
		die("signals", r);
	if ((r = make_dirs(d)) < 0)
		die("the state or persistent directory", r);
	if ((r = ldm_cgroup_init(d->cfg.cgroup_root, &d->cg)) < 0)
		die(r == -EXDEV ? "cgroup root must be below the cgroup2 mount" : "cgroup v2", r);
	if ((r = ldm_peerns_init(d)) < 0)
		die("reading the daemon's own namespaces in /proc", r);
	d->v6 = access("/proc/net/if_inet6", F_OK) == 0;
	d->flows = ldm_flowtab_new(FLOWTAB_CAPACITY);
	d->names = ldm_nametab_new(NAMETAB_CAPACITY);
	if (d->flows == NULL || d->names == NULL ||
	    ldm_fold_new(LDM_FOLD_DEFAULT_CAPACITY, &d->fold) < 0)
		die("memory", -ENOMEM);
	/* A secret hash seed: an app cannot pick ports that pile up in one chain. */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) ||
	    ldm_flowtab_set_seed(d->flows, seed) < 0 ||
	    ldm_nametab_set_seed(d->names, seed ^ UINT64_C(0x9e3779b97f4a7c15)) < 0)
		die("random seed", -EIO);
	if ((r = ldm_lan_refresh(d, &changed)) < 0)
		die("reading the routing table", r);
	if ((r = ldm_nfq_open(d)) < 0)
		die("binding the NFQUEUE (another daemon on this queue?)", r);
	if ((r = ldm_session_restore(d)) < 0)
		die("restoring sessions", r);
	/* Connections of sessions that ended while no daemon ran keep their slot's approval in
	 * the connmark: forgotten before a free slot serves anyone. */
	for (unsigned i = 1; i <= d->marks.max_slots && i <= LDM_MAX_SESSIONS; i++)
		if (d->sessions[i].state == SESSION_FREE &&
		    (r = ldm_conntrack_forget_slot(d, i)) < 0)
			die("deleting the conntrack entries of ended sessions", r);
	ldm_rules_log_unjudged(d);
	if (ldm_rules_commit(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "ldm-enforcerd: cannot install the rules: %s\n", err);
		exit(1);
	}
	if ((r = ldm_watch_open(d)) < 0)
		die("netlink notifications", r);
	if ((r = ldm_server_open(d)) < 0)
		die(d->cfg.socket, r);
	d->next_poll = ldm_now_ms() + POLL_RULES_MS;
	if (d->cfg.foreground)
		say_ready(d);
	return 0;
}

static unsigned
live_sessions(const struct daemon *d)
{
	unsigned n = 0;

	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		n += SESSION_ACTIVE(&d->sessions[i]);
	return n;
}

static void
on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			(void)ldm_eventlog_reopen(d->log);
		} else if (si.ssi_signo == SIGCHLD) {
			ldm_session_reap_probes(d);
			ldm_logserve_reap(d, false);
		} else {
			d->stopping = true;
		}
	}
}

static void
check_rules(struct daemon *d)
{
	char err[1024];
	int r = ldm_rules_verify(d);
	struct ldm_event e;

	d->rule_checks++;
	if (r == 0)
		return;
	if (r > 0) {
		uint64_t now = ldm_now_ms();

		d->tamper_events++;
		/* Another program fighting us (or a check that never agrees) must not make the
		 * daemon spin: past 5 repairs a second, check again only once a second. */
		if (now - d->tamper_window >= 1000) {
			d->tamper_window = now;
			d->tamper_in_window = 0;
		}
		if (++d->tamper_in_window > 5)
			d->rules_hold_until = now + 1000;
		ldm_event_init(&e, LDM_EVENT_TAMPER, NULL);
		(void)snprintf(err, sizeof(err),
		               "the LDM- rules were changed or removed by another program; "
		               "reinstalled (%s)",
		               d->verify_diff[0] != '\0' ? d->verify_diff : "changed");
		e.reason = err;
		ldm_daemon_log(d, &e);
		d->verify_diff[0] = '\0';
	} else {
		ldm_daemon_log_error(d, NULL,
		                     "the LDM- rules could not be checked (%s); reinstalled",
		                     strerror(-r));
	}
	if (ldm_rules_commit(d, err, sizeof(err)) < 0)
		ldm_daemon_log_error(d, NULL, "cannot reinstall the rules: %s", err);
}

static bool
probing(const struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (d->sessions[i].state == SESSION_PROBING)
			return true;
	return false;
}

static void
tick(struct daemon *d, uint64_t now)
{
	bool changed = false, probe;

	ldm_procs_tick(d, now);
	ldm_session_tick(d, now);
	probe = probing(d); /* nothing below starts or ends a self-test */
	ldm_server_tick(d, now);
	ldm_watch_tick(d, now);
	(void)ldm_fold_flush(d->fold, now, false, ldm_daemon_emit, d);
	if (d->lan_check_at != 0 && now >= d->lan_check_at) {
		d->lan_check_at = 0;
		if (ldm_lan_refresh(d, &changed) == 0 && changed)
			ldm_rules_commit_later(d);
	}
	/* A check waits for a background commit to end (it compares with what that put in). */
	if (((d->rules_check_at != 0 && now >= d->rules_check_at) ||
	     (now >= d->next_poll && !probe)) &&
	    now >= d->rules_hold_until && !d->bg.running) {
		d->rules_check_at = 0;
		d->next_poll = now + POLL_RULES_MS;
		check_rules(d);
	}
	/* A launch waits for its self-test: background work (a new spare, the commit that
	 * compiles its policy) starts once no session is probing, or the probe waits for
	 * two forks and a state file first. */
	if (!probe)
		ldm_session_spare(d);
	ldm_rules_tick(d, !probe, now);
}

static int
next_timeout(const struct daemon *d, uint64_t now)
{
	uint64_t next = now + 1000, fold = ldm_fold_next_deadline(d->fold), check = UINT64_MAX;
	bool probe = probing(d);

	/* Only deadlines tick() can act on then: a check waits for a background commit (the
	 * 5 ms backstop below wakes us) and for the repair rate limit, the periodic one for
	 * self-tests too. */
	if (!probe)
		check = d->next_poll;
	if (d->rules_check_at != 0 && d->rules_check_at < check)
		check = d->rules_check_at;
	if (check < d->rules_hold_until)
		check = d->rules_hold_until;
	if (!d->bg.running && check < next)
		next = check;
	if (d->lan_check_at != 0 && d->lan_check_at < next)
		next = d->lan_check_at;
	if (d->nft_pending && d->nft_pending_until < next)
		next = d->nft_pending_until;
	if (fold != 0 && fold < next)
		next = fold;
	if (ldm_procs_next(d) < next)
		next = ldm_procs_next(d);
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (d->sessions[i].state == SESSION_PROBING && d->sessions[i].probe_deadline < next)
			next = d->sessions[i].probe_deadline;
		else if (d->sessions[i].end_at != 0 && d->sessions[i].end_at < next)
			next = d->sessions[i].end_at;
	if (d->commit_wanted && !probe && !d->bg.running)
		next = d->commit_retry_at > now ? d->commit_retry_at : now;
	if (d->bg.running && now + 5 < next)
		next = now + 5; /* a backstop: SIGCHLD wakes the loop when a tool ends */
	if (next > now + 1000)
		next = now + 1000; /* client timeouts: a coarse second is enough */
	return next <= now ? 0 : (int)(next - now);
}

static int
mnl_fd(const struct daemon *d)
{
	return mnl_socket_get_fd(d->nfq);
}

static void
dispatch(struct daemon *d, int fd)
{
	if (fd == d->sigfd)
		on_signal(d);
	else if (fd == d->listen_fd)
		ldm_server_accept(d);
	else if (d->nfq != NULL && fd == mnl_fd(d))
		ldm_nfq_input(d);
	else if (fd == d->inotify_fd)
		ldm_session_events(d);
	else if (fd == d->nft_fd)
		ldm_watch_nft_input(d);
	else if (fd == d->rtnl_fd)
		ldm_watch_rtnl_input(d);
	else
		for (int i = 0; i < LDM_MAX_CLIENTS; i++)
			if (d->clients[i].fd == fd)
				ldm_server_client_io(d, i);
}

int
ldm_daemon_run(struct daemon *d)
{
	struct epoll_event ev[32];

	while (!d->stopping) {
		uint64_t now = ldm_now_ms();
		int n = epoll_wait(d->epfd, ev, 32, next_timeout(d, now));

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			dispatch(d, ev[i].data.fd);
		tick(d, ldm_now_ms());
	}
	return 0;
}

/* Shutdown: live sessions stay enforced by the rules (fail closed: their queued flows are
 * dropped while no daemon answers) and are taken up again by the next start. The rules go
 * only when no session is left and --keep-rules was not given. */
void
ldm_daemon_done(struct daemon *d)
{
	unsigned live = live_sessions(d);

	/* Packets still queued are judged and logged before the queue closes (closing it
	 * would drop them unseen), then the records folding still holds are written. */
	for (int i = 0; d->nfq != NULL && i < STOP_DRAIN_ROUNDS; i++) {
		struct pollfd p = { .fd = mnl_fd(d), .events = POLLIN };

		if (poll(&p, 1, STOP_DRAIN_WAIT_MS) <= 0 || !(p.revents & POLLIN))
			break;
		ldm_nfq_input(d);
	}
	(void)ldm_fold_flush(d->fold, ldm_now_ms(), true, ldm_daemon_emit, d);
	ldm_rules_wait(d);
	if (live == 0 && !d->cfg.keep_rules)
		(void)ldm_rules_remove_all(d);
	else if (live > 0)
		ldm_daemon_log_error(d, NULL,
		                     "stopping with %u live session(s): their rules stay in force "
		                     "and new flows are dropped until the daemon is back",
		                     live);
	/* The spare and closed sessions' cgroups are empty: a rule still naming one keeps it
	 * alive in the kernel until the next start replaces the rules. */
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		struct session *s = &d->sessions[i];

		if (s->state == SESSION_SPARE || s->state == SESSION_CLOSING)
			(void)ldm_cgroup_remove(&d->cg, s->name);
	}
	ldm_logserve_reap(d, true);
	ldm_nfq_close(d);
	ldm_rules_forget_kernel(d);
	free(d->last_rules[0]);
	free(d->last_rules[1]);
	if (d->listen_fd >= 0)
		(void)unlink(d->cfg.socket);
	ldm_flowtab_free(d->flows);
	ldm_nametab_free(d->names);
	ldm_fold_free(d->fold);
	ldm_eventlog_close(d->log);
	ldm_cgroup_done(&d->cg);
}
