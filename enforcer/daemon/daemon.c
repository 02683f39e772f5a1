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
#include "session_table.h"
#include "spares.h"
#include "eventlog.h"
#include "flowtab.h"
#include "ldm/util.h"
#include "logfold.h"
#include "nametab.h"

#define FLOWTAB_CAPACITY   65536
#define NAMETAB_CAPACITY   16384
#define STOP_DRAIN_ROUNDS  64 /* at stop: read what is queued, at most this many times */
#define STOP_DRAIN_WAIT_MS 20

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
	return ldm_loop_watch_fd(d, d->sigfd, EPOLLIN);
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
	d->drain_queue = ldm_nfq_drain;
	d->on_commit = ldm_session_committed;
	for (unsigned i = 0; i <= LDM_MAX_SESSIONS; i++)
		d->sessions[i] = (struct session){ .wd = -1, .client = -1, .final_client = -1 };
	for (int i = 0; i < LDM_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	if ((r = ldm_rules_new(d)) < 0 || (r = ldm_lan_new(d)) < 0 || (r = ldm_logserve_new(d)) < 0)
		die("memory", r);
	if ((r = ldm_eventlog_open(d->cfg.log, d->cfg.foreground, &d->log)) < 0)
		die(d->cfg.log, r);
	if (ldm_eventlog_chain_note(d->log) != NULL) /* the first record of the new chain */
		ldm_record_error(d, NULL, "log hash chain starts anew: %s",
		                 ldm_eventlog_chain_note(d->log));
	if ((r = ldm_marks_init(d->cfg.mark_mask, &d->marks)) < 0)
		die("mark mask", r);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->epfd < 0 || d->inotify_fd < 0)
		die("epoll/inotify", -errno);
	if ((r = ldm_loop_watch_fd(d, d->inotify_fd, EPOLLIN)) < 0 || (r = open_signals(d)) < 0)
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
	ldm_session_log_unjudged(d);
	if (ldm_rules_commit(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "ldm-enforcerd: cannot install the rules: %s\n", err);
		exit(1);
	}
	if ((r = ldm_watch_open(d)) < 0)
		die("netlink notifications", r);
	if ((r = ldm_server_open(d)) < 0)
		die(d->cfg.socket, r);
	ldm_rules_poll_from(d, ldm_now_ms());
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
	bool probe;

	ldm_procs_tick(d, now);
	ldm_session_tick(d, now);
	probe = probing(d); /* nothing below starts or ends a self-test */
	ldm_server_tick(d, now);
	ldm_watch_tick(d, now);
	(void)ldm_fold_flush(d->fold, now, false, ldm_record_emit, d);
	if (ldm_lan_tick(d, now))
		ldm_rules_commit_later(d); /* the `lan` rules follow the routes */
	ldm_rules_check_tick(d, probe, now);
	/* A launch waits for its self-test: background work (a new spare, the commit that
	 * compiles its policy) starts once no session is probing, or the probe waits for
	 * two forks and a state file first. */
	if (!probe)
		ldm_spares_fill(d);
	ldm_rules_tick(d, !probe, now);
}

static uint64_t
earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The loop's wait: until the first deadline a module has (each says its own, UINT64_MAX for
 * none), a second at most (client timeouts: a coarse second is enough).
 */
static int
next_timeout(const struct daemon *d, uint64_t now)
{
	uint64_t next = now + 1000, fold = ldm_fold_next_deadline(d->fold);
	bool probe = probing(d);

	next = earlier(next, ldm_rules_next_deadline(d, probe, now));
	next = earlier(next, ldm_lan_next_deadline(d));
	next = earlier(next, ldm_watch_next_deadline(d));
	next = earlier(next, fold != 0 ? fold : UINT64_MAX);
	next = earlier(next, ldm_procs_next_deadline(d));
	next = earlier(next, ldm_session_next_deadline(d));
	return next <= now ? 0 : (int)(next - now);
}

static void
dispatch(struct daemon *d, int fd)
{
	if (fd == d->sigfd)
		on_signal(d);
	else if (fd == d->listen_fd)
		ldm_server_accept(d);
	else if (fd == ldm_nfq_fd(d))
		ldm_nfq_input(d);
	else if (fd == d->inotify_fd)
		ldm_session_events(d);
	else if (ldm_watch_input(d, fd))
		; /* ruleset or route changes */
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
	for (int i = 0; ldm_nfq_fd(d) >= 0 && i < STOP_DRAIN_ROUNDS; i++) {
		struct pollfd p = { .fd = ldm_nfq_fd(d), .events = POLLIN };

		if (poll(&p, 1, STOP_DRAIN_WAIT_MS) <= 0 || !(p.revents & POLLIN))
			break;
		ldm_nfq_input(d);
	}
	(void)ldm_fold_flush(d->fold, ldm_now_ms(), true, ldm_record_emit, d);
	ldm_rules_wait(d);
	if (live == 0 && !d->cfg.keep_rules)
		(void)ldm_rules_remove_all(d);
	else if (live > 0)
		ldm_record_error(d, NULL,
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
	ldm_rules_free(d);
	ldm_lan_free(d);
	ldm_watch_close(d);
	if (d->listen_fd >= 0)
		(void)unlink(d->cfg.socket);
	ldm_flowtab_free(d->flows);
	ldm_nametab_free(d->names);
	ldm_fold_free(d->fold);
	ldm_eventlog_close(d->log);
	ldm_cgroup_done(&d->cg);
}
