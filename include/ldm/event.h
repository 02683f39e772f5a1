/*
 * The log record: what ldm-enforcerd writes, one JSON object per line, to
 * /var/log/ldm/events.jsonl (and as one text line to syslog), and what `ldmctl log` reads
 * back. The JSON form is a contract between programs: keys, their order and their
 * omission rules below only change with a new key, never a new meaning.
 *
 * JSON line: keys in this order, each omitted when unknown or empty as noted:
 *   ts        always; RFC 3339 UTC with milliseconds, "2026-11-25T02:14:29.123Z"
 *   event     always; "blocked", "would_block", "allowed", "session_start", "session_end",
 *             "tamper", "syscall_denied", "error", "resolved", "policy_file", "traffic"
 *   session   omitted when 0 (sessions are numbered from 1)
 *   policy    string; omitted when NULL or ""
 *   uid       omitted when LDM_EVENT_UID_NONE
 *   user      string
 *   app       string
 *   pid       omitted when 0 (unknown)
 *   proto     "tcp", "udp", "icmp", "unix", "other"; omitted when LDM_PROTO_ANY (unknown)
 *   src       address text (inet_ntop); omitted when its family is 0
 *   sport     omitted when 0
 *   dst, dport  as src, sport; for proto "unix" (a local socket ldm-run refused) dst is
 *             the socket's path or "@name" (abstract; ldm/unix_rule.h), and there is no port
 *   host      string: the DNS name the peer was resolved from. When the session resolved
 *             several names to dst, a blocked record names the one a deny rule matched,
 *             else the one it resolved most recently; its `resolved` records name them all.
 *             A `resolved` record (the session resolved host to dst, written when it first
 *             did, or again once the name table had forgotten it) carries session, policy,
 *             uid, user, app, dst, host and count: many names under one domain to one
 *             address within a second fold into one record whose host is "*.domain".
 *             Past 64 of a session's in one second, the rest of that second have no dst
 *             and a reason, and fold by parent domain ("*.domain", "*.tld", "*").
 *   label     string: the policy's `known` label for host
 *   rule      omitted when 0 (no rule: default deny)
 *   comment   string: the rule's comment
 *   reason    string
 *   count     blocked, would_block, allowed, syscall_denied, resolved only, always there: the
 *             attempts this record stands for (0 in the struct is written as 1)
 *   blocked, would_block, syscalls_denied   session_end only, always there
 *   syscall   string, syscall_denied only
 *   nr, errno syscall_denied only, always there
 *   path      string: the file a refused write named (syscall_denied of a write outside
 *             the write scope)
 *   machine   string: the machine's id (/etc/machine-id, 32 hex digits); session ids are
 *             unique per machine, so (machine, session) names a session in merged logs
 *   hostname  string: the machine's host name (kernel.hostname) when the record was
 *             written; every record the daemon writes (never `host`: that is a peer's name)
 *   version   string, session_start: the daemon's ldm version
 *   boot_id   string, session_start: the kernel's boot id (random/boot_id, a UUID)
 *   exe_sha256     64 lower-case hex, session_start: SHA-256 of the executable ldm-run
 *             opened, hashed and executed (ldm-run's word: see docs/contracts.md)
 *   policy_sha256  64 hex, session_start: SHA-256 of the bytes of the main policy file
 *             the daemon parsed
 *   sha256    64 hex, policy_file: SHA-256 of the bytes of the file named by path
 *   landlock_abi   session_start: the Landlock ABI ldm-run enforces; omitted when 0
 *   seccomp_notify, ipv6   session_start: true or false (omitted when unknown): ldm-run
 *             mediates calls with seccomp user notification; the daemon judges IPv6
 *   A sha256 key whose value is not 64 lower-case hex digits is not written.
 *
 * policy_file records (one per file a session's policy was built from, the main file
 * first, includes after, right after its session_start) carry session, policy, uid, path,
 * sha256, machine, hostname.
 *
 * Forward compatibility: the reader skips a key it does not know (a name of 1-64 of
 * [a-z0-9_], once, not "seq"/"prev") whose value is well-formed JSON (nesting at most 8);
 * known keys stay strict.
 *   traffic   session_end only, when its traffic was counted (traffic_known): how many
 *             traffic records of the session precede it
 *   packets_out, bytes_out, packets_in, bytes_in
 *             traffic always: what one (rule, proto, dst, dport) of the session carried,
 *             from the kernel's conntrack accounting (out: what the app sent, in: what it
 *             got; bytes of the IP packets); session_end when traffic_known: the session's
 *             totals (all its connections, those past the traffic records' cap included).
 *             A session_end without them says its traffic was not counted (an error record
 *             of the session says why): never a zero that was not measured.
 *
 * In the log file each line then carries the hash chain's keys, "seq" and "prev", as its
 * last keys (ldm/logchain.h); ldm_chain_unseal() gives back the record this writes.
 *
 * Strings are JSON-escaped: '"' and '\' with a backslash, control characters (0x00-0x1f,
 * 0x7f) and C1 controls (U+0080-U+009F) as \u00XX; valid UTF-8 (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF) passes through; every byte that is not part of
 * valid UTF-8 becomes \ufffd (U+FFFD), and so does U+FFFD itself (so a reader can tell
 * where bytes were lost). A string longer than its LDM_EVENT_*_MAX is cut at that many bytes
 * before escaping (a character cut in two becomes U+FFFD), so every record fits
 * LDM_EVENT_LINE_MAX.
 *
 * Trust: every string may come from the sandboxed app (app, host, user) or the policy
 * (label, comment); the formatters escape all of them, the reader trusts no byte.
 */
#ifndef LDM_EVENT_H
#define LDM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ldm/policy.h"

/* Byte caps of the strings, NUL excluded; longer strings are cut (see above). */
#define LDM_EVENT_POLICY_MAX   LDM_MAX_NAME_LEN
#define LDM_EVENT_USER_MAX     32
#define LDM_EVENT_APP_MAX      255
#define LDM_EVENT_HOST_MAX     LDM_MAX_HOST_LEN
#define LDM_EVENT_LABEL_MAX    LDM_MAX_TEXT_LEN
#define LDM_EVENT_COMMENT_MAX  LDM_MAX_TEXT_LEN
#define LDM_EVENT_REASON_MAX   LDM_MAX_TEXT_LEN
#define LDM_EVENT_SYSCALL_MAX  31
#define LDM_EVENT_PATH_MAX     430 /* LDM_UNIX_TARGET_MAX - 1: an escaped abstract name */
#define LDM_EVENT_MACHINE_MAX  32
#define LDM_EVENT_HOSTNAME_MAX 64 /* HOST_NAME_MAX */
#define LDM_EVENT_VERSION_MAX  32
#define LDM_EVENT_BOOT_ID_MAX  36
#define LDM_EVENT_SHA256_LEN   64 /* hex digits */

/* A tri-state of struct ldm_event: 0 is unknown (the key is omitted). */
#define LDM_EVENT_NO  1
#define LDM_EVENT_YES 2

/* A buffer this large always holds one record, JSON or text, "\n" and NUL included. */
#define LDM_EVENT_LINE_MAX 16384

#define LDM_EVENT_UID_NONE UINT32_MAX /* (uid_t)-1 is never a user */

enum ldm_event_type {
	LDM_EVENT_BLOCKED = 1,
	LDM_EVENT_WOULD_BLOCK = 2, /* audit mode: would have been blocked, was not */
	LDM_EVENT_ALLOWED = 3,
	LDM_EVENT_SESSION_START = 4,
	LDM_EVENT_SESSION_END = 5,
	LDM_EVENT_TAMPER = 6,
	LDM_EVENT_SYSCALL_DENIED = 7,
	LDM_EVENT_ERROR = 8,        /* a problem of the daemon itself */
	LDM_EVENT_RESOLVED = 9,     /* a session resolved a name (host) to an address (dst) */
	LDM_EVENT_POLICY_FILE = 10, /* a file a session's policy was built from, and its hash */
	LDM_EVENT_TRAFFIC =
	        11, /* what one allow rule let through to one peer (written at the end) */
};

/* An address of a flow; family 0 means unknown. IPv4 uses addr[0..3]. */
struct ldm_event_addr {
	uint8_t family; /* 0, AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/*
 * One record. The struct does not own its strings: they are borrowed for the call that
 * formats or folds it. NULL and "" are the same (omitted). Start from ldm_event_init().
 */
struct ldm_event {
	struct timespec ts; /* wall clock (CLOCK_REALTIME) */
	enum ldm_event_type event;
	uint64_t session;
	const char *policy;
	uint32_t uid;
	const char *user;
	const char *app;
	uint32_t pid;
	enum ldm_proto proto;
	struct ldm_event_addr src;
	uint16_t sport;
	struct ldm_event_addr dst;
	const char *sock; /* instead of dst (family 0): a local socket, written as dst */
	uint16_t dport;
	const char *host;
	/* Not written: when set, folding groups by this instead of host, and a folded record
	 * names it as its host ("*.example.org" for many unique names under it). */
	const char *fold_host;
	const char *label;
	uint32_t rule;
	const char *comment;
	const char *reason;
	uint64_t count;
	/* session_end */
	uint64_t blocked;
	uint64_t would_block;
	uint64_t syscalls_denied;
	/* syscall_denied */
	const char *syscall;
	int32_t nr;
	int32_t err; /* the errno the call got */
	const char *path;
	const char *machine;
	/* Identity: hostname on every record, the rest session_start (sha256: policy_file) */
	const char *hostname;
	const char *version;
	const char *boot_id;
	const char *exe_sha256;
	const char *policy_sha256;
	const char *sha256;
	uint32_t landlock_abi;
	uint8_t seccomp_notify; /* 0, LDM_EVENT_NO, LDM_EVENT_YES */
	uint8_t ipv6;
	/* traffic (and session_end totals when traffic_known) */
	uint64_t traffic; /* session_end: traffic records before it */
	uint64_t packets_out, bytes_out, packets_in, bytes_in;
	bool traffic_known; /* session_end: the keys above are written */
};

/*
 * Zeroes E, then sets its type, uid LDM_EVENT_UID_NONE, count 1 and the time TS (or leaves
 * it zero when TS is NULL: ldm_eventlog_write() stamps a zero time with the time of writing).
 */
void ldm_event_init(struct ldm_event *e, enum ldm_event_type type, const struct timespec *ts);

/*
 * S (at most CAP bytes of it) as a JSON string, quotes included, escaped as the records
 * are, into BUF (NUL-terminated). Returns its length, or -ENOBUFS (BUF holds "").
 */
int ldm_json_quote(const char *s, size_t cap, char *buf, size_t size);

/* "blocked", "would_block", ...; NULL for a value out of the enum. */
const char *ldm_event_type_name(enum ldm_event_type t);

/*
 * Formats E as one JSON line ("{...}\n") into BUF, NUL-terminated. Returns its length
 * ("\n" included, NUL excluded), -ENOBUFS if BUF is too small (BUF then holds "", never a
 * truncated line), or -EINVAL for an event type out of the enum or a time that is not
 * in years 0000-9999 with tv_nsec below 1e9.
 */
int ldm_event_json(const struct ldm_event *e, char *buf, size_t size);

/*
 * Formats E as one human line, no "\n", for syslog and stderr:
 *   blocked tcp 10.0.0.2:40000 -> 198.51.100.7:443 (host tiles.example.org "Tiles",
 *   rule 3 "map tiles") session 7 policy qgc uid 1000 user pilot pid 1234
 *   app /usr/bin/curl count 3: reason
 * Strings are escaped as in C: \\, \" inside quotes, \xNN for control characters, C1
 * controls and bytes that are not valid UTF-8, so no newline or terminal control gets
 * through. Returns the length, -ENOBUFS (BUF holds "") or -EINVAL as ldm_event_json().
 */
int ldm_event_text(const struct ldm_event *e, char *buf, size_t size);

/*
 * A record read back: EV's strings point into the buffers beside it (NULL when the key was
 * absent), so the view must not be copied by value while EV is in use.
 */
struct ldm_event_view {
	struct ldm_event ev;
	char policy[LDM_EVENT_POLICY_MAX + 1];
	char user[LDM_EVENT_USER_MAX + 1];
	char app[LDM_EVENT_APP_MAX + 1];
	char host[LDM_EVENT_HOST_MAX + 1];
	char label[LDM_EVENT_LABEL_MAX + 1];
	char comment[LDM_EVENT_COMMENT_MAX + 1];
	char reason[LDM_EVENT_REASON_MAX + 1];
	char syscall[LDM_EVENT_SYSCALL_MAX + 1];
	char sock[LDM_EVENT_PATH_MAX + 1]; /* dst when it is a local socket */
	char path[LDM_EVENT_PATH_MAX + 1];
	char machine[LDM_EVENT_MACHINE_MAX + 1];
	char hostname[LDM_EVENT_HOSTNAME_MAX + 1];
	char version[LDM_EVENT_VERSION_MAX + 1];
	char boot_id[LDM_EVENT_BOOT_ID_MAX + 1];
	char exe_sha256[LDM_EVENT_SHA256_LEN + 1];
	char policy_sha256[LDM_EVENT_SHA256_LEN + 1];
	char sha256[LDM_EVENT_SHA256_LEN + 1];
	unsigned unknown; /* keys skipped: not known to this version */
};

/* True when S is exactly LDM_EVENT_SHA256_LEN lower-case hex digits. */
bool ldm_event_sha256_ok(const char *s);

/*
 * Reads one line written by ldm_event_json() (LEN bytes at LINE, a final "\n" optional),
 * or such a line sealed into the log's hash chain (its chain keys are not checked here:
 * that is ldm_chain_check()'s job).
 * Strict: known keys in ldm_event_json()'s order, each at most once, no whitespace, numbers
 * as it writes them (no leading zero, in range, a sign only on nr and errno), strings within
 * their caps, escapes only as it writes them; anything else is -EBADMSG, LEN above
 * LDM_EVENT_LINE_MAX is -E2BIG. Unknown keys are skipped as the top says (counted in
 * ret->unknown). The line without its unknown keys must be exactly what ldm_event_json()
 * writes for the record read: the reader formats it again and compares. A \ufffd escape reads back as
 * the byte 0xff (not UTF-8, so it formats again as \ufffd): the original byte is lost, its
 * place is kept.
 * Writes *ret (and points its strings into it) only on success.
 */
int ldm_event_parse_json(const char *line, size_t len, struct ldm_event_view *ret);

#endif
