/*
 * The write scope: where a sandboxed app may create, change, rename or delete files. The
 * policy's `write` entries reach ldm-run as LDM_ITEM_WRITE items (ldm/control.h); without
 * `write`, the loader gives the default entries below (flag LDM_ITEM_WRITE_F_DEFAULT).
 * Existing character devices under /dev (ttys, /dev/null) are writable in every scope.
 * Pure.
 */
#ifndef LDM_WRITESCOPE_H
#define LDM_WRITESCOPE_H

#include <stdbool.h>

#include "ldm/pathvar.h"
#include "ldm/policy.h"

/* The default scope, in this order. */
extern const char *const ldm_write_default[3];

/* True when PATH is DIR or lies below it, component-wise ("/tmpx" is not below "/tmp").
 * Both are absolute paths without "." or ".." components; repeated '/' are ignored. */
bool ldm_path_below(const char *dir, const char *path);

/*
 * Normalizes absolute path IN lexically into BUF: repeated '/' and "." dropped, ".." takes
 * one component off (not past "/"), no trailing '/'. Symlinks are not resolved. Returns 0,
 * -EINVAL for a relative path, -ENAMETOOLONG.
 */
int ldm_path_normalize(const char *in, char *buf, size_t size);

/*
 * Which write entry of P covers PATH (absolute, already normalized) once expanded with
 * VARS: the index of its item in p->items, or -ENOENT when none does. Entries whose
 * variables are unknown are skipped. Writes the expansion of the match into BUF.
 */
int ldm_write_lookup(const struct ldm_policy *p, const struct ldm_path_vars *vars, const char *path,
                     char *buf, size_t size);

#endif
