/*
 * Local (AF_UNIX) socket rules: `{ proto = "unix"; to = "%t/wayland-0"; }` in a policy's
 * allow and deny lists. The daemon checks their form (ldm_unix_rule_check) and hands them to
 * ldm-run as LDM_ITEM_UNIX items (ldm/control.h); ldm-run expands their path patterns
 * (ldm_unix_rule_expand) and judges every connect() of the session against them
 * (ldm_unix_judge). Pure: strings and buffers in, verdicts out.
 *
 * A target is what a connect() names, as text: an absolute path (pathname sockets; ldm-run
 * judges the path the kernel resolved, not the one the app wrote) or "@name" for an abstract
 * socket, where bytes that are not printable ASCII, and '\', are written "\xNN"
 * (ldm_unix_sockaddr_text). Rules name abstract sockets in printable ASCII without '\', so
 * an escaped name never matches a rule by accident. Matching is exact: no wildcards.
 */
#ifndef LDM_UNIX_RULE_H
#define LDM_UNIX_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/pathvar.h"

#define LDM_UNIX_PATH_MAX 108 /* sizeof(sun_path): a socket path, NUL included */
/* A target as text: an abstract name of 107 bytes, each escaped as \xNN, plus "@" and NUL. */
#define LDM_UNIX_TARGET_MAX (1 + 4 * (LDM_UNIX_PATH_MAX - 1) + 1)

/*
 * Checks a unix rule's `to`: "@name" (1 to 107 printable ASCII characters, no '\') or a
 * path pattern (ldm_path_pattern_check) no longer than a socket path. Returns 0 or -EINVAL
 * with a static reason in *WHY.
 */
int ldm_unix_rule_check(const char *value, const char **why);

/*
 * Expands a checked VALUE with VARS into BUF: "@name" as is, a path pattern with
 * ldm_path_expand(). Returns 0, -ENAMETOOLONG when the path does not fit a socket address
 * (LDM_UNIX_PATH_MAX) or BUF, or what ldm_path_expand() returns.
 */
int ldm_unix_rule_expand(const char *value, const struct ldm_path_vars *vars, char *buf,
                         size_t size);

struct ldm_unix_rule {
	bool allow;
	uint32_t rule; /* the policy's rule number */
	char *target;  /* expanded: an absolute path or "@name" */
};

struct ldm_unix_rules {
	struct ldm_unix_rule *v;
	size_t n;
};

/* Appends a copy of TARGET. Returns 0 or -ENOMEM. */
int ldm_unix_rules_add(struct ldm_unix_rules *rules, bool allow, uint32_t rule, const char *target);
void ldm_unix_rules_clear(struct ldm_unix_rules *rules);

enum ldm_unix_decision {
	LDM_UNIX_NO_RULE = 0, /* no rule names it: only the session's own sockets pass */
	LDM_UNIX_ALLOW = 1,
	LDM_UNIX_DENY = 2,
};

struct ldm_unix_verdict {
	enum ldm_unix_decision decision;
	uint32_t rule; /* the deciding rule, 0 with LDM_UNIX_NO_RULE */
};

/*
 * Judges TARGET: a matching deny rule wins (the lowest-numbered one is named), otherwise the
 * lowest-numbered matching allow rule, otherwise LDM_UNIX_NO_RULE.
 */
void ldm_unix_judge(const struct ldm_unix_rules *rules, const char *target,
                    struct ldm_unix_verdict *ret);

/*
 * Writes the target a socket address names into BUF (at least LDM_UNIX_TARGET_MAX bytes):
 * ADDR is LEN bytes of a struct sockaddr_un as a connect() passed them (family included,
 * read from another process: untrusted). A pathname address is the bytes of sun_path up to
 * the first NUL or LEN, as the kernel reads it; an abstract one (sun_path[0] == 0) is "@"
 * and the escaped name. Returns 1 for an abstract address, 0 for a pathname, -EINVAL when
 * the kernel would refuse the address (not AF_UNIX, too short, too long, an empty path),
 * -ENOBUFS when BUF is too small.
 */
int ldm_unix_sockaddr_text(const void *addr, size_t len, char *buf, size_t size);

#endif
