/*
 * The policy model: what a fleet administrator's policy file says, after it was parsed and
 * validated, and the evaluator that judges one flow against it.
 *
 * Everything here is pure: buffers and structs in, results out. The loader reads the file it
 * is given (and the files it includes) and nothing else.
 */
#ifndef LDM_POLICY_H
#define LDM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LDM_MAX_POLICY_BYTES  (1024 * 1024) /* a policy file larger than this is refused */
#define LDM_MAX_RULES         10000         /* rules after includes are merged */
#define LDM_MAX_INCLUDE_DEPTH 8
#define LDM_MAX_PORT_RANGES   64   /* per rule */
#define LDM_MAX_NAME_LEN      64   /* policy names */
#define LDM_MAX_TEXT_LEN      512  /* comments, descriptions, labels */
#define LDM_MAX_HOST_LEN      253  /* DNS names, RFC 1035 */
#define LDM_MAX_LIST_ITEMS    1000 /* dns_allow, known, syscalls.deny, include */
#define LDM_MAX_DIAGS         200  /* errors reported per load; the rest are counted */

enum ldm_action {
	LDM_ACTION_ALLOW = 1,
	LDM_ACTION_DENY = 2,
};

/* ICMP covers ICMPv6 for IPv6 flows. ANY with ports matches TCP and UDP only. */
enum ldm_proto {
	LDM_PROTO_ANY = 0,
	LDM_PROTO_TCP = 1,
	LDM_PROTO_UDP = 2,
	LDM_PROTO_ICMP = 3,
	LDM_PROTO_OTHER = 4, /* a flow of another protocol; no rule names it but ANY */
	LDM_PROTO_UNIX = 5,  /* a local (AF_UNIX) socket: judged by ldm-run, ldm/unix_rule.h */
};

/* Bits: a rule may match both directions (deny rules without `direction` do). */
enum ldm_dir {
	LDM_DIR_OUT = 1,
	LDM_DIR_IN = 2,
	LDM_DIR_BOTH = 3,
};

enum ldm_mode {
	LDM_MODE_ENFORCE = 0,
	LDM_MODE_AUDIT = 1,
};

/* What a rule's `to`/`from` names. HOST rules name a DNS pattern instead of an address. */
enum ldm_peer_kind {
	LDM_PEER_CIDR = 0,
	LDM_PEER_LOOPBACK,
	LDM_PEER_LAN,
	LDM_PEER_LINK_LOCAL,
	LDM_PEER_PRIVATE,
	LDM_PEER_MULTICAST,
	LDM_PEER_BROADCAST,
	LDM_PEER_HOST,
	LDM_PEER_ANY,  /* a deny rule with neither: never produced by the loader */
	LDM_PEER_UNIX, /* proto "unix": `path` names the socket; never an address */
};

/* An address prefix. IPv4 uses addr[0..3]; IPv4-mapped IPv6 is stored as IPv4. */
struct ldm_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
};

struct ldm_port_range {
	uint16_t lo;
	uint16_t hi;
};

struct ldm_rule {
	unsigned number; /* 1-based, unique in the policy, stable for one file set */
	enum ldm_action action;
	enum ldm_proto proto;
	enum ldm_dir dir;
	enum ldm_peer_kind peer;
	struct ldm_prefix prefix; /* LDM_PEER_CIDR only */
	char *host; /* LDM_PEER_HOST only: lower case, no trailing dot; may be "*.x" */
	char *path; /* LDM_PEER_UNIX only: a path pattern (ldm/pathvar.h) or "@name" */
	struct ldm_port_range *ports;
	size_t n_ports; /* 0: every port */
	char *comment;  /* may be NULL */
	char *file;     /* where the rule was written */
	unsigned line;
};

struct ldm_known {
	char *host; /* pattern, as rule hosts */
	char *label;
};

struct ldm_policy_index;

/*
 * A policy item the launcher enforces rather than the kernel rules: a write path, a local
 * socket, a D-Bus name (kinds: enum ldm_item_kind in ldm/control.h). The daemon sends them
 * to ldm-run with the session; VALUE is as written (path patterns unexpanded).
 */
struct ldm_item {
	unsigned kind;
	unsigned rule; /* the rule number, 0 if the item is no numbered rule */
	unsigned flags;
	char *value;
	char *comment; /* may be NULL */
	char *file;    /* where the item was written, for ldmctl explain */
	unsigned line;
};

/* A file the policy was built from: its path and the SHA-256 of the bytes parsed. */
struct ldm_policy_file {
	char *path;
	char sha256[65]; /* 64 lower-case hex digits */
};

struct ldm_policy {
	char *name;
	char *description;
	enum ldm_mode mode;
	bool audit_override;
	struct ldm_rule *rules;
	size_t n_rules;
	char **dns_allow; /* host patterns */
	size_t n_dns_allow;
	struct ldm_known *known;
	size_t n_known;
	uint64_t families;  /* bit N set: socket family N allowed (all N < 64) */
	int *deny_syscalls; /* native syscall numbers */
	char **deny_syscall_names;
	size_t n_deny_syscalls;
	/* Who may use the policy (`users`, `groups`): anyone unless access_limited. */
	bool access_limited;
	char **users;
	size_t n_users;
	char **groups;
	size_t n_groups;
	struct ldm_item *items; /* at most LDM_CTL_ITEMS_MAX */
	size_t n_items;
	struct ldm_policy_index *index;
	/* Every file read to build it, the main file first, includes in load order (a file
	 * included twice once); each hashed from the very buffer that was parsed. */
	struct ldm_policy_file *files;
	size_t n_files;
};

/* One problem found in a policy: FILE:LINE: MSG. LINE 0 means the whole file. */
struct ldm_diag {
	char *file;
	unsigned line;
	char *msg;
};

struct ldm_diags {
	struct ldm_diag *v;
	size_t n;
	size_t dropped; /* past LDM_MAX_DIAGS */
};

struct ldm_load_opts {
	const char *const *dirs; /* where `include` names are looked up, in order */
	size_t n_dirs;
	bool admin_owned; /* refuse files not owned by root or writable by group/other */
	bool no_file_dir; /* don't look up includes beside the top file first */
};

/*
 * Loads the policy file PATH and everything it includes. On success returns 0 and a new
 * policy in *ret (free with ldm_policy_free()). On any problem returns -EINVAL (or another
 * -errno for I/O) and adds every problem found to DIAGS; nothing is returned then, never a
 * partial policy. DIAGS must be zeroed by the caller and freed with ldm_diags_clear().
 */
int ldm_policy_load_path(const char *path, const struct ldm_load_opts *opts,
                         struct ldm_policy **ret, struct ldm_diags *diags);

/* Finds NAME.conf in opts->dirs (the first dir that has it wins) and loads it. */
int ldm_policy_load_name(const char *name, const struct ldm_load_opts *opts,
                         struct ldm_policy **ret, struct ldm_diags *diags);

/* Loads a policy from a buffer; DISPLAY names it in diagnostics. Used by the fuzzer. */
int ldm_policy_load_buffer(const char *buf, size_t len, const char *display,
                           const struct ldm_load_opts *opts, struct ldm_policy **ret,
                           struct ldm_diags *diags);

/*
 * May USER (a member of GROUPS, primary group included) use P? True when P names no users
 * or groups, or names USER or one of GROUPS. Pure.
 */
bool ldm_policy_user_allowed(const struct ldm_policy *p, const char *user,
                             const char *const *groups, size_t n_groups);
/* "user a, group b" (or "every user") into BUF. Returns 0 or -ENOBUFS. */
int ldm_policy_access_text(const struct ldm_policy *p, char *buf, size_t size);
/* A POSIX portable user or group name of at most 32 bytes (a final '$' allowed). */
bool ldm_account_name_valid(const char *name);

/*
 * Why the daemon would refuse the file PATH before reading it (a symlink, not root's,
 * writable by group or others, a directory likewise), with the fix; NULL when it would not
 * (or PATH cannot be looked at: loading it says why).
 */
const char *ldm_policy_file_refusal(const char *path);

/*
 * For a policy NAME that is not found: "; did you mean 'X'?" (the nearest name within a
 * few edits) and " Available: a, b, c" (the names in DIRS) into BUF, or "" when DIRS hold
 * none. Returns 0.
 */
int ldm_policy_suggest_names(const char *name, const char *const *dirs, size_t n_dirs, char *buf,
                             size_t size);
/* Levenshtein distance of two names of at most LDM_MAX_NAME_LEN bytes (else SIZE_MAX). */
size_t ldm_edit_distance(const char *a, const char *b);

/* Checks NAME is a policy name: [a-z0-9][a-z0-9_-]*, at most LDM_MAX_NAME_LEN. */
bool ldm_policy_name_valid(const char *name);

struct ldm_policy *ldm_policy_free(struct ldm_policy *p);
static inline void
ldm_policy_freep(struct ldm_policy **p)
{
	ldm_policy_free(*p);
}

void ldm_diags_clear(struct ldm_diags *d);
/* Adds a diagnostic; returns -ENOMEM only if even that fails. */
int ldm_diags_add(struct ldm_diags *d, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * What the routing table says right now. `lan` (and subnet `broadcast`) means the LINK
 * entries; address rules are pinned to the interface of their route (the longest LINK,
 * UPLINK, VIA or DEFAULT entry); an address of a LOCAL entry is this machine's own.
 */
enum ldm_route_kind {
	LDM_ROUTE_LINK = 0, /* an on-link prefix on the aircraft side: `lan` */
	LDM_ROUTE_UPLINK,   /* an on-link prefix on an uplink interface: never `lan` */
	LDM_ROUTE_DEFAULT,  /* a default route (prefix length 0) through IFINDEX */
	LDM_ROUTE_VIA,      /* a prefix routed through a gateway on IFINDEX: never `lan` */
	LDM_ROUTE_LOCAL,    /* one of this machine's addresses (/32, /128); keep it last */
};

struct ldm_lan_entry {
	struct ldm_prefix prefix;
	int ifindex; /* 0: any interface */
	enum ldm_route_kind kind;
};

struct ldm_lan {
	const struct ldm_lan_entry *v;
	size_t n;
};

/* One flow to judge. PORT is the peer's port for DIR_OUT, the app's local port for DIR_IN. */
struct ldm_flow {
	uint8_t family; /* AF_INET or AF_INET6; IPv4-mapped IPv6 is judged as IPv4 */
	enum ldm_proto proto;
	enum ldm_dir dir; /* OUT or IN, never BOTH */
	uint8_t addr[16]; /* the peer */
	uint16_t port;
	const char *host; /* the DNS name the peer was resolved from, or NULL */
	int ifindex;      /* the interface the flow uses, 0 if unknown */
};

struct ldm_verdict {
	bool allow;
	const struct ldm_rule *rule; /* NULL: no rule matched (default deny) */
};

/*
 * Judges FLOW: a matching deny always wins (the lowest-numbered one is named), otherwise the
 * lowest-numbered matching allow accepts, otherwise the flow is blocked. Returns 0, or
 * -EINVAL for a flow that cannot be judged (then *ret says block, rule NULL).
 */
int ldm_policy_judge(const struct ldm_policy *p, const struct ldm_flow *flow,
                     const struct ldm_lan *lan, struct ldm_verdict *ret);

/*
 * Judges a DNS name: may a query for NAME leave? True when an allow `host` rule or a
 * `dns_allow` pattern matches and no deny `host` rule does. *ret_rule names the rule, or is
 * NULL when dns_allow matched (or nothing did).
 */
bool ldm_policy_name_allowed(const struct ldm_policy *p, const char *name,
                             const struct ldm_rule **ret_rule);

/* The `known` label for NAME, or NULL. */
const char *ldm_policy_known_label(const struct ldm_policy *p, const char *name);

/* Formats a rule's match as "udp lan 14550-14560" / "tcp host tiles.example.org 443". */
int ldm_rule_format(const struct ldm_rule *r, char *buf, size_t size);

/* Address and port parsing, exported for the tools and tests. */
int ldm_prefix_parse(const char *s, struct ldm_prefix *ret);
int ldm_prefix_format(const struct ldm_prefix *p, char *buf, size_t size);
bool ldm_prefix_contains(const struct ldm_prefix *p, uint8_t family, const uint8_t addr[16]);
/* Parses an IPv4 or IPv6 literal; IPv4-mapped IPv6 becomes IPv4. */
int ldm_addr_parse(const char *s, uint8_t *ret_family, uint8_t ret_addr[16]);
int ldm_parse_port(const char **sp, uint16_t *ret_port);
int ldm_parse_port_range(const char *s, struct ldm_port_range *ret);
/* Parses "80,443,1000-2000" (spaces after commas allowed). Returns count or -errno. */
int ldm_parse_port_list(const char *s, struct ldm_port_range *ret, size_t max);

/* Normalizes a host pattern in place (lower case, drops a trailing dot), validates it. */
int ldm_host_pattern_normalize(char *s);
/* Validates a DNS name (no wildcard), normalizes it into BUF. */
int ldm_host_name_normalize(const char *s, char *buf, size_t size);
/* Does normalized NAME match normalized PATTERN? "*.x" matches "a.x" and "a.b.x", not "x". */
bool ldm_host_match(const char *pattern, const char *name);

const char *ldm_proto_name(enum ldm_proto p);
int ldm_proto_parse(const char *s, enum ldm_proto *ret);
const char *ldm_peer_kind_name(enum ldm_peer_kind k);

/* The most fixed prefixes behind one address keyword (private: 3 IPv4 + 1 IPv6). */
#define LDM_KEYWORD_PREFIXES_MAX 4

/*
 * The fixed address ranges behind keyword KIND (loopback, link-local, private, multicast,
 * broadcast; `lan` and subnet broadcasts change at run time and have none) into OUT, at
 * most MAX. Returns how many (0 for a kind without fixed ranges), or -ENOBUFS.
 */
int ldm_peer_keyword_prefixes(enum ldm_peer_kind kind, struct ldm_prefix *out, size_t max);

#endif
