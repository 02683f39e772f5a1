/*
 * The write scope in ldm-run: the session's LDM_ITEM_WRITE items expanded (%h from the
 * passwd entry, %t, %c), checked in the parent, entered with Landlock in the child.
 *
 * Decisions (README "Write scope"):
 * - No Landlock (or it is disabled): the launch is refused; a write scope is never dropped.
 * - A path that does not exist is created (mkdir -p, mode 0700, as the user: nothing the
 *   user could not create), so an app's first run can keep its settings; if that fails,
 *   or the path's last component is a symlink, or a variable it uses is unknown (%t without
 *   XDG_RUNTIME_DIR), the entry is left out with a warning on stderr: the scope narrows,
 *   it never widens.
 * - An entry below another entry is dropped: the outer one covers it, unless a symlink
 *   planted inside the outer one (by the app, in an earlier session) redirects it.
 * - Truncation by path is refused by the supervisor (writelog.c), not Landlock.
 * - LDM_RUN_TEST_LANDLOCK_ABI (a test hook) can only lower the ABI the launcher uses; 0
 *   makes it act as on a kernel without Landlock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/landlock.h"
#include "ldm/pathvar.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "run/run.h"

/* Filled by the parent, read by the child after fork. */
static char *scope_paths[LDM_CTL_ITEMS_MAX];
static size_t n_scope_paths;
static int scope_abi;

int
ldm_run_landlock_abi_limit(int abi, const char *env)
{
	char *end;
	long v;

	if (env == NULL || env[0] == '\0')
		return abi;
	errno = 0;
	v = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -EINVAL;
	return v < abi ? (int)v : abi;
}

static void
warn(const char *pattern, const char *path, const char *why)
{
	if (path != NULL && strcmp(pattern, path) != 0)
		fprintf(stderr, "ldm-run: warning: write path %s (%s) left out: %s\n", pattern,
		        path, why);
	else
		fprintf(stderr, "ldm-run: warning: write path %s left out: %s\n", pattern, why);
}

/* Expands and checks one entry; returns a copy of the path to grant, or NULL (warned). */
static char *
prepare_one(const char *pattern, const struct ldm_path_vars *vars)
{
	char path[LDM_PATH_PATTERN_MAX];
	struct stat st;
	int r = ldm_path_expand(pattern, vars, path, sizeof(path));

	if (r == -ENOENT) {
		warn(pattern, NULL, "a variable it uses is unknown here");
		return NULL;
	}
	if (r < 0) {
		warn(pattern, NULL, strerror(-r));
		return NULL;
	}
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		r = ldm_mkdir_p(path, 0700);
		if (r < 0) {
			warn(pattern, path, strerror(-r));
			return NULL;
		}
	}
	if (lstat(path, &st) < 0) {
		warn(pattern, path, strerror(errno));
		return NULL;
	}
	if (S_ISLNK(st.st_mode)) {
		warn(pattern, path, "it is a symbolic link");
		return NULL;
	}
	return strdup(path);
}

/*
 * True when write entry I lies below another entry (or equals an earlier one). It adds
 * nothing then, unless a component inside the other entry is a symlink the app planted
 * there in an earlier session, pointing out of the scope: so it is never granted, nor
 * created through such a symlink.
 */
static bool
nested(const struct ldm_run_items *items, size_t i, const struct ldm_path_vars *vars)
{
	char a[LDM_PATH_PATTERN_MAX], b[LDM_PATH_PATTERN_MAX];

	if (ldm_path_expand(items->v[i].value, vars, a, sizeof(a)) < 0)
		return false;
	for (size_t j = 0; j < items->n; j++) {
		if (j == i || items->v[j].kind != LDM_ITEM_WRITE ||
		    ldm_path_expand(items->v[j].value, vars, b, sizeof(b)) < 0)
			continue;
		if (ldm_path_below(b, a) && (j < i || !ldm_path_below(a, b)))
			return true;
	}
	return false;
}

int
ldm_run_write_scope_abi(void)
{
	int abi;

	if (scope_abi >= 1)
		return scope_abi;
	abi = ldm_run_landlock_abi_limit(ldm_landlock_abi(), getenv("LDM_RUN_TEST_LANDLOCK_ABI"));
	if (abi == -EINVAL) {
		fprintf(stderr, "ldm-run: LDM_RUN_TEST_LANDLOCK_ABI must be a number >= 0\n");
		return -EINVAL;
	}
	if (abi < 1) {
		fprintf(stderr,
		        "ldm-run: this kernel has no Landlock (%s): the policy's write scope "
		        "cannot be enforced; the program was not started\n",
		        abi == 0 ? "forced off" : strerror(-abi));
		return -EOPNOTSUPP;
	}
	scope_abi = abi;
	return abi;
}

int
ldm_run_write_scope_prepare(const struct ldm_run_items *items)
{
	char varbuf[3 * LDM_PATH_PATTERN_MAX];
	struct ldm_path_vars vars;
	int r = ldm_run_write_scope_abi();

	if (r < 0)
		return r;
	(void)ldm_run_path_vars(&vars, varbuf, sizeof(varbuf));
	for (size_t i = 0; i < items->n; i++) {
		char *p;

		if (items->v[i].kind != LDM_ITEM_WRITE || nested(items, i, &vars))
			continue;
		p = prepare_one(items->v[i].value, &vars);
		if (p == NULL)
			continue;
		if (n_scope_paths >= ELEMENTSOF(scope_paths)) {
			free(p);
			return -E2BIG;
		}
		scope_paths[n_scope_paths++] = p;
	}
	return 0;
}

/* A path that vanished between prepare and the child: left out, and said. */
static void
child_skip(const char *path, int err)
{
	dprintf(2, "ldm-run: warning: write path %s left out: %s\n", path, strerror(-err));
}

int
ldm_run_write_scope_enter(void)
{
	if (scope_abi < 1)
		return -EOPNOTSUPP; /* prepare was not run or refused: never run without */
	return ldm_landlock_enter(scope_abi, (const char *const *)scope_paths, n_scope_paths,
	                          child_skip);
}

size_t
ldm_run_write_scope_paths(const char *const **ret)
{
	*ret = (const char *const *)scope_paths;
	return n_scope_paths;
}

void
ldm_run_write_scope_clear(void)
{
	for (size_t i = 0; i < n_scope_paths; i++)
		free(scope_paths[i]);
	n_scope_paths = 0;
}
