/*
 * Path patterns in policies: `%h` (the user's home directory), `%t` (the user's
 * $XDG_RUNTIME_DIR), `%c` (the directory ldm-run was started in) and `%%` (a literal '%').
 * The daemon checks a pattern's form when it loads a policy (ldm_path_pattern_check); the
 * launcher expands it with the values of the session it starts (ldm_path_expand), because
 * only it knows them. Pure.
 */
#ifndef LDM_PATHVAR_H
#define LDM_PATHVAR_H

#include <stddef.h>

#define LDM_PATH_PATTERN_MAX 1024 /* a pattern or an expanded path, NUL included */

struct ldm_path_vars {
	const char *home;    /* %h; NULL: unknown */
	const char *runtime; /* %t; NULL: unknown (no XDG_RUNTIME_DIR) */
	const char *cwd;     /* %c; NULL: unknown */
};

/*
 * Checks that PATTERN is a usable path pattern: it starts with '/' or with one of %h, %t,
 * %c (a variable may only start a pattern and is followed by '/' or the end; "%%" anywhere is a '%'); a length under
 * LDM_PATH_PATTERN_MAX; no "." or ".." component (they would make a rule mean another
 * place than it says). Returns 0, or -EINVAL with a reason (a static string) in *WHY.
 */
int ldm_path_pattern_check(const char *pattern, const char **why);

/*
 * Expands PATTERN (already checked) with VARS into BUF. A variable's value must be an
 * absolute path; a trailing '/' of it is dropped. Returns 0; -ENOENT when a variable the
 * pattern uses is unknown (NULL or empty) or not absolute; -EINVAL for a pattern that
 * ldm_path_pattern_check would refuse; -ENAMETOOLONG when the result does not fit.
 */
int ldm_path_expand(const char *pattern, const struct ldm_path_vars *vars, char *buf, size_t size);

#endif
