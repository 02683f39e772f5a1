/*
 * The control protocol between ldm-enforcerd and its clients (ldm-run, ldmctl) over the Unix
 * stream socket /run/ldm/control.sock.
 *
 * Every message is fixed-size: a 16-byte header, then the payload of its type. `len` is the
 * whole message size and must equal the size of the type's struct exactly; a message of an
 * unknown type, version or size closes the connection. Strings are fixed arrays that must
 * hold a NUL within their size. All integers are in host byte order (the socket is local).
 *
 * Trust: the daemon trusts nothing in a request. It authenticates the peer with SO_PEERCRED
 * and re-validates every field against that uid and the policy.
 */
#ifndef LDM_CONTROL_H
#define LDM_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define LDM_CONTROL_MAGIC   0x314d444cu /* "LDM1" */
#define LDM_CONTROL_VERSION 1
#define LDM_CONTROL_SOCKET  "/run/ldm/control.sock"

#define LDM_CTL_NAME_MAX         72 /* a policy name, NUL included (LDM_MAX_NAME_LEN + 1, padded) */
#define LDM_CTL_PATH_MAX         256 /* an executable path, truncated */
#define LDM_CTL_TEXT_MAX         512 /* an error or status line */
#define LDM_CTL_DENY_MAX         256 /* syscalls.deny entries carried to ldm-run */
#define LDM_CTL_SYSCALL_NAME_MAX 32

enum ldm_msg_type {
	LDM_MSG_SESSION_REQUEST = 1, /* ldm-run -> daemon: start a session for my pid */
	LDM_MSG_SESSION_READY = 2,   /* daemon -> ldm-run: rules in force, pid in the cgroup */
	LDM_MSG_ERROR = 3,           /* daemon -> client: refused; text says why */
	LDM_MSG_SYSCALL_DENIED = 4,  /* ldm-run supervisor -> daemon: log a denied syscall */
	LDM_MSG_SUMMARY_REQUEST = 5, /* ldm-run -> daemon: counters of my session */
	LDM_MSG_SUMMARY = 6,         /* daemon -> ldm-run */
	LDM_MSG_STATUS_REQUEST = 7,  /* ldmctl -> daemon */
	LDM_MSG_STATUS_LINE = 8,     /* daemon -> ldmctl, one per line of text */
	LDM_MSG_END = 9,             /* daemon -> client: no more lines */
	LDM_MSG_ACK = 10,            /* daemon -> client: report taken */
	LDM_MSG_SESSION_ITEM = 11,   /* daemon -> ldm-run, before READY: one launcher item */
	LDM_MSG_WRITE_DENIED = 12,   /* supervisor -> daemon: a write outside the write scope */
	LDM_MSG_LOG_REQUEST = 13,    /* ldmctl -> daemon: the log records I may read */
	LDM_MSG_LOG_READY = 14,      /* daemon -> ldmctl: a pipe of them comes with it */
	LDM_MSG_UNIX_BLOCKED = 15,   /* ldm-run supervisor -> daemon: log a refused connect() */
	LDM_MSG_KEEPER_GONE = 16,    /* supervisor -> daemon: ldm-run's first process is gone */
};

struct ldm_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;      /* the whole message, header included */
	uint32_t reserved; /* zero */
};
_Static_assert(sizeof(struct ldm_msg_hdr) == 16, "wire size");

#define LDM_SESSION_F_AUDIT          0x1u /* ask for audit mode (policy must say audit_override) */
#define LDM_SESSION_F_SECCOMP_NOTIFY 0x2u /* ldm-run mediates calls by seccomp user notification */
#define LDM_CTL_LANDLOCK_ABI_MAX     64   /* far above any kernel's: a bound, not a feature list */

/*
 * The launcher's word, for the log only (the daemon cannot check them; docs/contracts.md):
 * the program's path, the SHA-256 of the executable it opened and executes (exactly 64
 * lower-case hex digits, then NULs), the Landlock ABI it enforces (1 and up: ldm-run
 * refuses a kernel without Landlock) and LDM_SESSION_F_SECCOMP_NOTIFY.
 */
struct ldm_msg_session_request {
	struct ldm_msg_hdr hdr;
	uint32_t pid;   /* must be the peer's own pid (SO_PEERCRED) */
	uint32_t flags; /* LDM_SESSION_F_* */
	char policy[LDM_CTL_NAME_MAX];
	char app[LDM_CTL_PATH_MAX]; /* the program, for logs only; never trusted */
	char exe_sha256[72];        /* 64 hex digits, NUL-padded */
	uint32_t landlock_abi;      /* 1..LDM_CTL_LANDLOCK_ABI_MAX */
	uint32_t reserved;          /* zero */
};
_Static_assert(sizeof(struct ldm_msg_session_request) == 16 + 8 + 72 + 256 + 72 + 8, "wire size");

#define LDM_READY_F_AUDIT     0x1u /* the session runs in audit mode */
#define LDM_READY_F_MULTICAST 0x2u /* the policy allows multicast: joins are allowed */

/* What ldm-run needs to build the seccomp filter: the daemon's reading of the policy. */
struct ldm_msg_session_ready {
	struct ldm_msg_hdr hdr;
	uint64_t session;  /* never reused */
	uint64_t families; /* socket families allowed: bit N for family N */
	uint32_t flags;    /* LDM_READY_F_* */
	uint32_t n_deny;
	int32_t deny[LDM_CTL_DENY_MAX]; /* native syscall numbers to deny with EPERM */
	char policy[LDM_CTL_NAME_MAX];
	char cgroup[LDM_CTL_PATH_MAX]; /* the session cgroup, relative to the cgroup2 root */
};
_Static_assert(sizeof(struct ldm_msg_session_ready) == 16 + 24 + 1024 + 72 + 256, "wire size");

/*
 * What the launcher enforces itself (write scope, local sockets, D-Bus names) reaches it as
 * items: the daemon sends each of the policy's items as one LDM_MSG_SESSION_ITEM before
 * LDM_MSG_SESSION_READY, in policy order. VALUE is as the policy wrote it (path patterns
 * unexpanded: ldm-run expands %h, %t and %c, see ldm/pathvar.h). A session carries at most
 * LDM_CTL_ITEMS_MAX items; ldm-run refuses a session that sends more (fail closed).
 */
#define LDM_CTL_ITEM_MAX  1024 /* an item's value, NUL included */
#define LDM_CTL_ITEMS_MAX 256

enum ldm_item_kind {
	LDM_ITEM_WRITE = 1, /* a path the app may write below */
	LDM_ITEM_UNIX = 2,  /* a local socket rule (flags: kind-specific) */
	LDM_ITEM_DBUS = 3,  /* a D-Bus name the app may talk to (flags: which bus) */
	LDM_ITEM_KIND_MAX = LDM_ITEM_DBUS,
};

/* LDM_ITEM_WRITE flags: the entry is the default scope (the policy has no `write`). */
#define LDM_ITEM_WRITE_F_DEFAULT 1u
/*
 * LDM_ITEM_UNIX: VALUE is a path pattern or "@name" (ldm/unix_rule.h); FLAGS says whether
 * the rule allows or denies connect() to it (exactly one of the two bits). ldm-run refuses
 * to start on an item whose value or flags it cannot read.
 */
#define LDM_ITEM_UNIX_ALLOW 0x1u
#define LDM_ITEM_UNIX_DENY  0x2u
/*
 * LDM_ITEM_DBUS: VALUE is a well-known bus name or a prefix pattern "org.example.*"
 * (ldm/dbus.h); FLAGS is exactly one of these, the bus the name is on. ldm-run proxies each
 * bus some item names through xdg-dbus-proxy, letting the app talk to those names only.
 */
#define LDM_ITEM_DBUS_SESSION 0x1u
#define LDM_ITEM_DBUS_SYSTEM  0x2u

struct ldm_msg_session_item {
	struct ldm_msg_hdr hdr;
	uint32_t kind;  /* LDM_ITEM_* */
	uint32_t rule;  /* the policy rule it comes from (for logs), 0 if none */
	uint32_t flags; /* kind-specific */
	uint32_t reserved;
	char value[LDM_CTL_ITEM_MAX];
};
_Static_assert(sizeof(struct ldm_msg_session_item) == 16 + 16 + 1024, "wire size");

struct ldm_msg_error {
	struct ldm_msg_hdr hdr;
	int32_t code; /* -errno */
	uint32_t reserved;
	char text[LDM_CTL_TEXT_MAX];
};
_Static_assert(sizeof(struct ldm_msg_error) == 16 + 8 + 512, "wire size");

/*
 * Sent by the supervisor, which is inside the session's cgroup; the daemon checks that. Past
 * its rate limit the supervisor sends one report with nr LDM_SYSCALL_SUPPRESSED, name
 * "suppressed" and args[0] = how many denials it did not report one by one.
 */
#define LDM_SYSCALL_SUPPRESSED (-1)
struct ldm_msg_syscall_denied {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t pid; /* the process that made the call */
	int32_t nr;
	int32_t err; /* the errno it got */
	uint32_t reserved;
	uint64_t args[6];
	char name[LDM_CTL_SYSCALL_NAME_MAX];
};
_Static_assert(sizeof(struct ldm_msg_syscall_denied) == 16 + 24 + 48 + 32, "wire size");

/*
 * A refused write, seen by the supervisor: outside the write scope (ERR EACCES: Landlock
 * refused it), or a truncation by path the supervisor refused itself (ERR EPERM). Sent
 * like LDM_MSG_SYSCALL_DENIED, and counted with it.
 */
#define LDM_CTL_WRITE_PATH_MAX 512
struct ldm_msg_write_denied {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t pid;
	int32_t nr;
	int32_t err; /* EACCES or EPERM */
	uint32_t reserved;
	char name[LDM_CTL_SYSCALL_NAME_MAX];
	char path[LDM_CTL_WRITE_PATH_MAX]; /* absolute; cut to fit */
};
_Static_assert(sizeof(struct ldm_msg_write_denied) == 16 + 24 + 32 + 512, "wire size");

/*
 * A connect() to a local socket that ldm-run refused (ldm/unix_rule.h). Sent by the
 * supervisor over the same connection as LDM_MSG_SYSCALL_DENIED, with the same rate limit;
 * past it, one report with why LDM_UNIX_WHY_SUPPRESSED and COUNT the reports held back.
 * The daemon re-validates what it can: the sender is in the session it names, RULE is a
 * unix deny rule of that session's policy (LDM_UNIX_WHY_RULE) or 0, TARGET is a path or
 * @name in printable ASCII. The reason text, the rule's comment and the session's identity
 * come from the daemon, never from the message. What the sender could still forge is
 * documented in README.md ("Local sockets").
 */
enum ldm_unix_why {
	LDM_UNIX_WHY_RULE = 1,       /* a deny rule names it */
	LDM_UNIX_WHY_DEFAULT = 2,    /* no rule names it, and it is not the session's own */
	LDM_UNIX_WHY_UNDECIDED = 3,  /* ldm-run could not decide: refused (fail closed) */
	LDM_UNIX_WHY_SUPPRESSED = 4, /* COUNT reports held back by the rate limit */
	LDM_UNIX_WHY_NO_BUS = 5,     /* the address ldm-run gave for a D-Bus bus it withholds */
	LDM_UNIX_WHY_MAX = LDM_UNIX_WHY_NO_BUS,
};

/*
 * ldm-run's supervisor sends at most this many syscall and write reports in each second of
 * its monotonic clock, plus one report of the rest (LDM_SYSCALL_SUPPRESSED). The daemon's
 * windows are not aligned with its seconds: it may see two seconds' worth in one of its own.
 */
#define LDM_CTL_REPORTS_PER_SEC 100

#define LDM_CTL_UNIX_TARGET_MAX 432 /* LDM_UNIX_TARGET_MAX (ldm/unix_rule.h), padded */

struct ldm_msg_unix_blocked {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t pid;                         /* the process that called connect() */
	uint32_t why;                         /* enum ldm_unix_why */
	uint32_t rule;                        /* LDM_UNIX_WHY_RULE: the deny rule; else 0 */
	int32_t err;                          /* the errno the caller got */
	uint64_t count;                       /* LDM_UNIX_WHY_SUPPRESSED only; else 1 */
	char target[LDM_CTL_UNIX_TARGET_MAX]; /* the socket path or "@name" */
};
_Static_assert(sizeof(struct ldm_msg_unix_blocked) == 16 + 32 + 432, "wire size");

/*
 * Sent once by the supervisor (inside the session, over its report connection) when
 * ldm-run's first process, the keeper (PID), ended before the program's status reached it:
 * killed, most likely by the program where Landlock (ABI 6) cannot scope signals. Nobody
 * then notifies the pilot of blocks or prints the summary; the daemon says so in the log
 * (an `error` record of the session, once).
 */
struct ldm_msg_keeper_gone {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t pid;
	uint32_t reserved;
};
_Static_assert(sizeof(struct ldm_msg_keeper_gone) == 16 + 16, "wire size");

/*
 * LDM_SUMMARY_F_FINAL: the caller (inside the session) waits for the final counts: the
 * daemon answers once no other process is left in the session (their last packets judged,
 * their folded records written), or after WAIT_MS (at most LDM_SUMMARY_WAIT_MAX_MS) with the
 * counts so far.
 */
#define LDM_SUMMARY_F_FINAL     0x1u
#define LDM_SUMMARY_WAIT_MAX_MS 30000

struct ldm_msg_summary_request {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t flags; /* LDM_SUMMARY_F_* */
	uint32_t wait_ms;
};
_Static_assert(sizeof(struct ldm_msg_summary_request) == 32, "wire size");

/* Reply flags: FINAL, nothing but the caller is left in the session (the counts are final);
 * ESCAPED, processes left the session cgroup alive (counted in escapes). */
#define LDM_SUMMARY_R_FINAL   0x1u
#define LDM_SUMMARY_R_ESCAPED 0x2u
struct ldm_msg_summary {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint64_t blocked;     /* flows blocked (folded repeats counted) */
	uint64_t would_block; /* audit mode */
	uint64_t syscalls_denied;
	uint32_t flags;   /* LDM_SUMMARY_R_* */
	uint32_t escapes; /* processes seen leaving the session alive */
	uint32_t running; /* processes of the session still running, the caller not counted */
	uint32_t reserved;
	/* The log's hash chain when the counts were taken (ldm/logchain.h): the number of the
	 * last record written and the first bytes of its hash, for `ldmctl verify --expect`. */
	uint64_t log_seq; /* 0: no chain (no log record written yet) */
	uint8_t log_hash[8];
	char policy[LDM_CTL_NAME_MAX];
};
_Static_assert(sizeof(struct ldm_msg_summary) == 16 + 32 + 16 + 16 + 72, "wire size");

/* LDM_STATUS_F_JSON: each STATUS_LINE is one JSON object (the daemon's, then a session's). */
#define LDM_STATUS_F_JSON 0x1u
struct ldm_msg_status_request {
	struct ldm_msg_hdr hdr;
	uint32_t flags; /* LDM_STATUS_F_* */
	uint32_t reserved;
};
_Static_assert(sizeof(struct ldm_msg_status_request) == 24, "wire size");

struct ldm_msg_text {
	struct ldm_msg_hdr hdr;
	char text[LDM_CTL_TEXT_MAX];
};
_Static_assert(sizeof(struct ldm_msg_text) == 16 + 512, "wire size");

struct ldm_msg_empty {
	struct ldm_msg_hdr hdr;
};

/*
 * The log for a user who may not read the file (it is root's): the daemon answers
 * LDM_MSG_LOG_READY with one file descriptor (SCM_RIGHTS), the read end of a pipe carrying
 * the JSON lines of the log that belong to the caller's own sessions (root: every record),
 * of SESSION only when not 0, as the file holds them; EOF at its end, or with
 * LDM_LOG_F_FOLLOW not before the caller closes the pipe (later records follow, across
 * rotation).
 *
 * LDM_LOG_F_NOW (ldm-run's notifier, docs/decisions.md): only the records written after the
 * request, of SESSION only (which must not be 0); with LDM_LOG_F_FOLLOW the pipe ends after
 * that session's session_end record. With LDM_LOG_F_RESUME as well (0.1.1: a notifier whose
 * reader went away, e.g. with a restarted daemon) from the beginning of the current file
 * instead; the caller skips the records it saw by their "seq".
 */
#define LDM_LOG_F_FOLLOW 0x1u
#define LDM_LOG_F_NOW    0x2u
#define LDM_LOG_F_RESUME 0x4u
struct ldm_msg_log_request {
	struct ldm_msg_hdr hdr;
	uint64_t session;
	uint32_t flags;
	uint32_t reserved;
};
_Static_assert(sizeof(struct ldm_msg_log_request) == 32, "wire size");

/* The largest message of any type: a reader's buffer size. */
#define LDM_MSG_MAX                                                                                \
	(sizeof(struct ldm_msg_session_ready) > sizeof(struct ldm_msg_session_item)                \
	         ? sizeof(struct ldm_msg_session_ready)                                            \
	         : sizeof(struct ldm_msg_session_item))

/* The exact size of a message of TYPE, or 0 for an unknown type. */
size_t ldm_msg_size(uint16_t type);

/* Fills a header for TYPE (len from ldm_msg_size). */
void ldm_msg_init(struct ldm_msg_hdr *h, uint16_t type);

/*
 * Validates a header just read: magic, version, a known type, len equal to its size, zero
 * reserved. Returns 0 or -EPROTO / -EBADMSG.
 */
int ldm_msg_check_hdr(const struct ldm_msg_hdr *h);

/*
 * Validates a whole message of h->type (len bytes at h): every string NUL-terminated within
 * its array, counts within their caps, no unknown flag. Returns 0 or -EBADMSG.
 */
int ldm_msg_check(const struct ldm_msg_hdr *h);

/* Copies S into a fixed string field; -ENAMETOOLONG (field holds "") if it does not fit. */
int ldm_msg_set_str(char *field, size_t size, const char *s);

#endif
