/*
 * ldm-enforcerd's state: the sessions, the clients, the kernel-facing sockets, and the calls
 * of the modules that share it (docs/architecture.md). daemon.c wires them into one event
 * loop (daemon.h); one thread, every fd non-blocking and in one epoll set.
 */
#ifndef LDM_DAEMON_STATE_H
#define LDM_DAEMON_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup.h"
#include "config.h"
#include "ldm/control.h"
#include "ldm/event.h"
#include "ldm/policy.h"
#include "iptables.h"
#include "ipt.h"
#include "procparse.h"
#include "ruleset.h"

#define LDM_MAX_SESSIONS        255 /* also capped by the mark bits: max_slots */
#define LDM_MAX_CLIENTS         64
#define LDM_CLIENT_TIMEOUT_MS   10000
#define LDM_PROBE_TIMEOUT_MS    3000
#define LDM_END_GRACE_MS        300  /* packets still queued when a session empties are judged */
#define LDM_MAX_SESSION_PROCS   4096 /* processes of a session followed one by one */
#define LDM_PROCS_SCAN_MS       200  /* how often a session's processes are looked at */
#define LDM_PROCS_FINAL_MS      20   /* the same, while ldm-run waits for its final counts */
#define LDM_LOG_READERS         16   /* `ldmctl log` readers for ordinary users at once */
#define LDM_LOG_READERS_PER_UID 4    /* of them, one user's */
#define LDM_LOG_NOTIFIERS       32   /* LDM_LOG_F_NOW readers besides: one per live session */

enum session_state {
	SESSION_FREE = 0,
	SESSION_PROBING, /* rules in, requester moved, waiting for the self-test probe */
	SESSION_READY,
	SESSION_ENDING,  /* refused or over: its cgroup emptying, its queued packets judged */
	SESSION_SPARE,   /* not a session: a cgroup and generic rules, ready to be taken */
	SESSION_CLOSING, /* ended: its cgroup goes once a commit without its rules is in */
};

/* A session in force (or ending): not free, not a spare, not closing. */
#define SESSION_ACTIVE(s)                                                                          \
	((s)->state == SESSION_PROBING || (s)->state == SESSION_READY ||                           \
	 (s)->state == SESSION_ENDING)

struct session {
	enum session_state state;
	unsigned slot;
	uint64_t id;
	char name[64];     /* cgroup directory name: s<id>-<random>, never reused */
	char cgroup[4200]; /* relative to the cgroup2 mount: root/name */
	struct ldm_policy *policy;
	char policy_name[LDM_CTL_NAME_MAX];
	uid_t uid;
	char user[33];
	char app[LDM_CTL_PATH_MAX];
	pid_t pid; /* the launcher */
	/* ldm-run's word, for session_start only (docs/contracts.md): "" / 0 when not known */
	char exe_sha256[LDM_EVENT_SHA256_LEN + 1];
	uint32_t landlock_abi;
	bool seccomp_notify;
	bool audit;
	bool was_ready;  /* was ready: its end is logged */
	uint64_t end_at; /* ENDING and empty: tear down at this time (0: not empty yet) */
	bool names_overflow_logged;
	bool keeper_gone_logged;  /* LDM_MSG_KEEPER_GONE was logged */
	uint64_t resolved_second; /* the second (ldm_now_ms() / 1000) RESOLVED_N counts in */
	uint32_t resolved_n;      /* resolved records with an address written in it */
	int wd;                   /* inotify watch on cgroup.events, -1 none */
	struct timespec started;
	/* The self-test: PROBING only. */
	int client; /* index of the client waiting for ready, -1 none */
	uint64_t probe_deadline;
	uint16_t probe_port;
	bool probe4_seen, probe6_seen, probe6_wanted;
	pid_t probe_pid;
	/* Counters for the summary and session_end; all but allowed are also kept in the
	 * state directory (counts.c), so that a restarted daemon goes on from them. */
	uint64_t blocked, would_block, syscalls_denied, allowed;
	uint64_t escapes; /* processes seen leaving the session cgroup alive */
	struct ldm_session_counts *counts;
	/* Its processes as last seen in cgroup.procs (procs.c). */
	struct ldm_proc_seen *procs;
	size_t n_procs;
	uint64_t procs_scan_at;
	/* ldm-run waiting for the final counts: its client (-1 none), pid and deadline. */
	int final_client;
	pid_t final_pid;
	uint64_t final_deadline;
};

struct client {
	int fd; /* -1: free */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t deadline;
	size_t have;
	union {
		struct ldm_msg_hdr hdr;
		uint8_t buf[LDM_MSG_MAX];
	} in;
	uint32_t bad_reports; /* syscall reports refused or over the rate */
	uint64_t report_window;
	uint32_t reports_in_window;
};

/* A namespace (or a per-namespace /proc entry) as stat() names it. */
struct ldm_ns_id {
	dev_t dev;
	ino_t ino;
};

struct ldm_flowtab;
struct ldm_rules;
struct ldm_logserve;
struct ldm_watch;
struct ldm_queue;
struct ldm_lanstate;
struct ldm_nametab;
struct ldm_fold;
struct ldm_eventlog;
struct mnl_socket;

struct daemon {
	struct ldm_config cfg;
	struct ldm_marks marks;
	struct ldm_cgroups cg;
	struct ldm_ns_id own_net, own_cgns; /* the daemon's network and cgroup namespaces */
	char own_cgroot[LDM_PATH_MAX];      /* the root of its cgroup2 mount, as it sees it */
	struct session sessions[LDM_MAX_SESSIONS + 1]; /* by slot; [0] unused */
	uint64_t next_id;                              /* the next session id */
	uint64_t id_limit; /* ids below it are reserved in persist_dir/next-id */
	char machine_id[LDM_EVENT_MACHINE_MAX + 1]; /* "" when unknown */
	char boot_id[LDM_EVENT_BOOT_ID_MAX + 1];    /* "" when unknown */
	struct client clients[LDM_MAX_CLIENTS];
	bool v6; /* the kernel has IPv6: rules for it are required */

	struct ldm_lanstate *lan; /* lan_refresh.c's own: the on-link prefixes, when to read them */

	int epfd, sigfd, listen_fd, inotify_fd, timer_fd;
	struct ldm_watch *watch; /* watch.c's own: netlink notifications */
	struct ldm_queue *queue; /* nfq.c's own: the queue's socket and its counters */

	struct ldm_flowtab *flows;
	struct ldm_nametab *names; /* addresses each session resolved, with their names */
	struct ldm_fold *fold;
	struct ldm_eventlog *log;
	struct ldm_logserve *logserve; /* logserve.c's own: its readers */

	bool stopping;
	uint64_t stop_deadline;
	struct ldm_rules *rules;   /* rules.c's own state: commits, what the kernel holds, checks */
	uint64_t spare_hold_until; /* making a spare failed: not before this time */

	/*
	 * What a lower module asks of a higher one, wired by daemon.c (so that modules depend
	 * one way, docs/architecture.md): judge everything queued now (nfq.c; before a
	 * session's final counts), and a commit ended (session.c: spares become usable, closed
	 * sessions lose their cgroup).
	 */
	void (*drain_queue)(struct daemon *d);
	void (*on_commit)(struct daemon *d);
};

/* loop.c: adds FD to the event loop's epoll set for EVENTS. 0 or -errno. */
int ldm_loop_watch_fd(struct daemon *d, int fd, uint32_t events);

/* record.c: the daemon's log records (folding, machine and host names, counters) */
void ldm_record_log(struct daemon *d, struct ldm_event *e);
/* Writes E now, past folding (a record folding emits, or one that must not wait). */
void ldm_record_emit(const struct ldm_event *e, void *d);
void ldm_record_error(struct daemon *d, const struct session *s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ids.c: session ids unique on this machine across reboots */
int ldm_ids_init(struct daemon *d);
int ldm_ids_take(struct daemon *d, uint64_t *ret);

/* session.c */
int ldm_session_request(struct daemon *d, int client, const struct ldm_msg_session_request *m,
                        char *err, size_t err_size);
void ldm_session_end(struct daemon *d, struct session *s, const char *why);
void ldm_session_events(struct daemon *d);
void ldm_session_tick(struct daemon *d, uint64_t now);
/* The next probe deadline or end of a session (UINT64_MAX none). */
uint64_t ldm_session_next_deadline(const struct daemon *d);
void ldm_session_reap_probes(struct daemon *d);
/* A commit ended (d->committed says what is in): spares become usable, closed sessions
 * lose their cgroup. */
void ldm_session_committed(struct daemon *d);
void ldm_session_probe_seen(struct daemon *d, struct session *s, int family);
int ldm_session_restore(struct daemon *d);
/* At start, after the sessions are taken up and before the first commit resets the kernel's
 * counters: logs what the kernel dropped for each session while no daemon ran. */
void ldm_session_log_unjudged(struct daemon *d);

/* conntrack.c: deletes every conntrack entry whose connmark matches MARK under MASK (this
 * network namespace, both families), or of SLOT's sessions. 0 or -errno. */
int ldm_conntrack_forget(uint32_t mark, uint32_t mask);
int ldm_conntrack_forget_slot(struct daemon *d, unsigned slot);
/* Calls FN with every conntrack entry whose connmark matches MARK under MASK (or SLOT's),
 * both families. 0, or -errno (-EBADMSG: an entry could not be read; the others were). */
struct ldm_ct_entry;
typedef void (*ldm_conntrack_entry_fn)(const struct ldm_ct_entry *e, void *userdata);
int ldm_conntrack_dump(uint32_t mark, uint32_t mask, ldm_conntrack_entry_fn fn, void *userdata);
int ldm_conntrack_dump_slot(struct daemon *d, unsigned slot, ldm_conntrack_entry_fn fn,
                            void *userdata);
/* Turns conntrack accounting on in this network namespace if it is off: 0 or -errno. */
int ldm_conntrack_accounting(void);
/* traffic_log.c: writes S's traffic records (one per allow rule and peer, from its
 * conntrack entries) and puts the totals into END, its session_end record; when they cannot
 * be counted, an error record says why and END carries none. */
void ldm_traffic_log(struct daemon *d, struct session *s, struct ldm_event *end);
/* counts.c: a session's counters, surviving a SIGKILL of the daemon */
/* Maps the counters of S (sessions/<id>.counts). RESTORE: takes up the values a former
 * daemon left, and HELD gets what its log folding still held (blocked, would_block: the
 * caller logs them); otherwise starts from zero. Returns 0 or -errno (the session then runs
 * with counters in memory only). */
int ldm_counts_open(const struct daemon *d, struct session *s, bool restore, uint64_t held[2]);
void ldm_counts_close(struct session *s);
void ldm_counts_remove(const struct daemon *d, const struct session *s);
/* Copies S's counters into its file: after every change of them. */
void ldm_counts_sync(struct session *s);
/* E was written to the log: its attempts are no longer held by folding. */
void ldm_counts_written(struct daemon *d, const struct ldm_event *e);
/*
 * Counts N attempts of session S that the kernel blocked without the daemon (its final
 * guards while no daemon listened) and logs them as one `blocked` record with count N and
 * REASON (e.g. "enforcer not running"). Nothing happens for N = 0.
 */
void ldm_session_count_dropped(struct daemon *d, struct session *s, uint64_t n, const char *reason);

/* procs.c: a session's processes: escapes, and the final summary */
void ldm_procs_scan(struct daemon *d, struct session *s);
void ldm_procs_tick(struct daemon *d, uint64_t now);
uint64_t ldm_procs_next_deadline(const struct daemon *d); /* ldm_procs_tick: UINT64_MAX none */
void ldm_procs_free(struct session *s);
/* Writes now the folded records the log still holds for S (before its end or summary). */
void ldm_procs_flush_folds(struct daemon *d, struct session *s);
/* CLIENT (inside S) waits for S's final counts, at most WAIT_MS. 0, or -EBUSY. */
int ldm_procs_wait_final(struct daemon *d, int client, struct session *s, uint32_t wait_ms);

/* rules.c: the kernel ruleset of the current state. Its state is its own (struct ldm_rules,
 * opaque): the others ask through these calls. */
int ldm_rules_new(struct daemon *d); /* 0 or -ENOMEM */
void ldm_rules_free(struct daemon *d);
/* Does the kernel hold SLOT's chains by the last commit; with RUNNING, or will it once the
 * commit running now is in? */
bool ldm_rules_holds(const struct daemon *d, unsigned slot, bool running);
/* SLOT is new (a spare): not ready until a commit holding it is in. */
void ldm_rules_forget_slot(struct daemon *d, unsigned slot);
/* Did the last commit fail (retried in the background)? */
bool ldm_rules_failing(const struct daemon *d);
/* A tamper check at AT, unless one is due already (watch.c: nf_tables changed). */
void ldm_rules_check_after(struct daemon *d, uint64_t at);
struct ldm_rules_stats {
	uint64_t commits, commit_errors, rule_checks, tamper_events;
};
void ldm_rules_stats(const struct daemon *d, struct ldm_rules_stats *ret);
/* What the kernel dropped unjudged per slot while no daemon listened (the LDM-GUARD counting
 * rules of the last commit, IPv4 and IPv6 summed) into COUNTS[1..LDM_MAX_SESSIONS]. */
void ldm_rules_unjudged(struct daemon *d, uint64_t counts[LDM_MAX_SESSIONS + 1]);
int ldm_rules_commit(struct daemon *d, char *err, size_t err_size);
int ldm_rules_verify(struct daemon *d);
/* Commits in the background (the event loop goes on); ldm_rules_tick starts it and takes
 * its result. A synchronous commit waits for a running one first. */
void ldm_rules_commit_later(struct daemon *d);
void ldm_rules_tick(struct daemon *d, bool may_start, uint64_t now);
void ldm_rules_wait(struct daemon *d); /* the background commit, if any, has ended */
/* Forgets what the kernel was known to hold: the next commit reads it again. */
void ldm_rules_forget_kernel(struct daemon *d);
int ldm_rules_remove_all(struct daemon *d);
/* The tamper check: due on nf_tables notifications (rules_check_at) and every 5 s
 * (ldm_rules_poll_from), repairs what it finds, at most 5 repairs a second. */
void ldm_rules_poll_from(struct daemon *d, uint64_t now);
void ldm_rules_check_tick(struct daemon *d, bool probe, uint64_t now);
/* When the rules module has work (a check, a commit, a running tool): UINT64_MAX none. */
uint64_t ldm_rules_next_deadline(const struct daemon *d, bool probe, uint64_t now);
/* lan_refresh.c: the `lan` prefixes (its state is its own). Refresh reads the routes again;
 * *RET_CHANGED when the prefixes changed. The tick does it once route changes have settled
 * (ldm_lan_check_after, from watch.c) and says whether they changed (the rules follow). */
int ldm_lan_new(struct daemon *d); /* 0 or -ENOMEM */
void ldm_lan_free(struct daemon *d);
int ldm_lan_refresh(struct daemon *d, bool *ret_changed);
bool ldm_lan_tick(struct daemon *d, uint64_t now);
uint64_t ldm_lan_next_deadline(const struct daemon *d);
void ldm_lan_check_after(struct daemon *d, uint64_t at);
/* The prefixes now: for the evaluator, and with interface names for the ruleset. */
struct ldm_lan ldm_lan_current(const struct daemon *d);
const struct ldm_rs_lan *ldm_lan_named(const struct daemon *d, size_t *n);

/* account.c: may the user UID use policy P (its `users` and `groups`)? 0, or -EPERM and
 * the reason in ERR. */
int ldm_account_may_use(uid_t uid, const struct ldm_policy *p, const char *policy_name, char *err,
                        size_t err_size);

/* server.c: the control socket */
int ldm_server_open(struct daemon *d);
void ldm_server_accept(struct daemon *d);
void ldm_server_client_io(struct daemon *d, int client);
void ldm_server_tick(struct daemon *d, uint64_t now);

/* clients.c: replies to a client (any module may answer the client it serves), closing it */
int ldm_clients_send(struct daemon *d, int client, const void *msg);
/* Makes room in CLIENT's send buffer for BYTES of replies sent at once. Returns 0 or -errno. */
int ldm_clients_reserve(struct daemon *d, int client, size_t bytes);
void ldm_clients_send_error(struct daemon *d, int client, int code, const char *text);
void ldm_clients_close(struct daemon *d, int client);
/* Sends S's counters to CLIENT; FINAL: nothing but the caller is left in S; RUNNING: how
 * many processes of S (the caller not counted) still run. */
void ldm_clients_send_summary(struct daemon *d, int client, const struct session *s, bool final,
                              unsigned running);

/* peerns.c: the requester's namespaces must be the daemon's */
int ldm_peerns_init(struct daemon *d);
/* Returns 0 when PID's network namespace and cgroup view are the daemon's; otherwise
 * -EXDEV (or -errno when they cannot be told) and the reason in ERR. */
int ldm_peerns_check(const struct daemon *d, pid_t pid, char *err, size_t err_size);
/* 1 when PID is in the daemon's network namespace, 0 when not, -errno (gone). */
int ldm_peerns_same_net(const struct daemon *d, pid_t pid);

/* logserve.c: the log records of a user's own sessions, for ldmctl log */
int ldm_logserve_new(struct daemon *d); /* 0 or -ENOMEM */
void ldm_logserve_start(struct daemon *d, int client, const struct ldm_msg_log_request *m);
void ldm_logserve_reap(struct daemon *d, bool kill_all); /* SIGCHLD; the stop */

/* nfq.c: the queue (its state is its own) */
int ldm_nfq_open(struct daemon *d);
int ldm_nfq_fd(const struct daemon *d); /* -1 when closed */
/* For `ldmctl status`: what the queue could not take or judge. */
struct ldm_nfq_stats {
	uint64_t enobufs, bad_packets, no_session, verdict_errors;
};
void ldm_nfq_stats(const struct daemon *d, struct ldm_nfq_stats *ret);
void ldm_nfq_input(struct daemon *d);
/* Judges everything queued now (a session's last packets, before its final counts). */
void ldm_nfq_drain(struct daemon *d);
void ldm_nfq_close(struct daemon *d);

/* watch.c: netlink notifications of ruleset and route changes */
int ldm_watch_open(struct daemon *d);
/* FD is one of the watch's: read it (true), or not (false). */
bool ldm_watch_input(struct daemon *d, int fd);
void ldm_watch_close(struct daemon *d);
void ldm_watch_tick(struct daemon *d, uint64_t now);
uint64_t ldm_watch_next_deadline(const struct daemon *d); /* UINT64_MAX: none */

#endif
