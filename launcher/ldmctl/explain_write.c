/*
 * ldmctl explain POLICY write PATH: may the app write PATH under POLICY, and which write
 * entry (or the default scope) says so. %h, %t and %c are those of the calling user (the
 * passwd entry's home, $XDG_RUNTIME_DIR, the working directory), or --home, --runtime-dir,
 * --cwd. Symlinks of the existing part of PATH and of the entries are resolved, as the
 * kernel does when it checks the write.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/landlock.h"
#include "ldm/control.h"
#include "ldm/pathvar.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "ldmctl/ldmctl.h"

struct write_args {
	const char *policy;
	const char *path;
	struct ldm_path_vars vars;
	char home[PATH_MAX], cwd[PATH_MAX];
};

static void
write_usage(FILE *f)
{
	fputs("Usage: ldmctl explain POLICY write PATH [--home DIR] [--runtime-dir DIR] [--cwd "
	      "DIR]\n"
	      "\n"
	      "Says whether an app under POLICY may create, change, rename or delete PATH, and\n"
	      "which `write` entry (or the default scope) decides.\n"
	      "  --home DIR         %h (default: your account's home directory)\n"
	      "  --runtime-dir DIR  %t (default: $XDG_RUNTIME_DIR)\n"
	      "  --cwd DIR          %c, and the base of a relative PATH (default: here)\n"
	      "  --policy-dir DIR   look up POLICY and includes in DIR (repeatable)\n"
	      "\n"
	      "Exit status: 0 allowed, 1 refused, 2 usage error, 3 the policy does not load.\n",
	      f);
}

bool
ldmctl_explain_is_write(int argc, char **argv)
{
	static const char *const with_value[] = { "--policy-dir", "--socket", "--host",
		                                  "--lan",        "--home",   "--runtime-dir",
		                                  "--cwd",        "-d",       "-s" };
	int pos = 0;

	for (int i = 1; i < argc; i++) {
		bool skip = false;

		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-') {
			for (size_t k = 0; k < ELEMENTSOF(with_value); k++)
				skip |= strcmp(argv[i], with_value[k]) == 0;
			i += skip;
			continue;
		}
		if (++pos == 2)
			return strcmp(argv[i], "write") == 0;
	}
	return false;
}

static int
parse_args(struct ldmctl_ctx *ctx, int argc, char **argv, struct write_args *a)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "home", required_argument, NULL, 'H' },
		{ "runtime-dir", required_argument, NULL, 'R' },
		{ "cwd", required_argument, NULL, 'C' },
		{},
	};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'H':
			a->vars.home = optarg;
			break;
		case 'R':
			a->vars.runtime = optarg;
			break;
		case 'C':
			a->vars.cwd = optarg;
			break;
		case '?':
			return ldmctl_usage_hint("explain");
		default:
			r = ldmctl_common_option(ctx, c, optarg);
			if (r == 1) {
				write_usage(stdout);
				return -1;
			}
			if (r < 0)
				return LDMCTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 3)
		return ldmctl_usage_error("explain", "give POLICY write PATH, e.g. 'qgroundcontrol "
		                                     "write ~/.bashrc'");
	a->policy = argv[optind];
	a->path = argv[optind + 2];
	if ((a->vars.home != NULL && a->vars.home[0] != '/') ||
	    (a->vars.runtime != NULL && a->vars.runtime[0] != '/') ||
	    (a->vars.cwd != NULL && a->vars.cwd[0] != '/'))
		return ldmctl_usage_error("explain",
		                          "--home, --runtime-dir and --cwd take absolute "
		                          "paths");
	return 0;
}

/* Fills the variables not given with the calling user's. */
static void
default_vars(struct write_args *a)
{
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (a->vars.home == NULL && getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL && pw.pw_dir != NULL && pw.pw_dir[0] == '/' &&
	    strlen(pw.pw_dir) < sizeof(a->home)) {
		memcpy(a->home, pw.pw_dir, strlen(pw.pw_dir) + 1);
		a->vars.home = a->home;
	}
	if (a->vars.runtime == NULL && rt != NULL && rt[0] == '/')
		a->vars.runtime = rt;
	if (a->vars.cwd == NULL && getcwd(a->cwd, sizeof(a->cwd)) != NULL)
		a->vars.cwd = a->cwd;
}

/* Resolves the symlinks of the existing part of the normalized absolute path IN. */
static void
resolve(const char *in, char *out, size_t size)
{
	char dir[PATH_MAX], *rp = realpath(in, NULL), *slash;

	if (rp != NULL) {
		snprintf(out, size, "%s", rp);
		free(rp);
		return;
	}
	snprintf(out, size, "%s", in);
	slash = strrchr(in, '/');
	if (slash == NULL || slash == in || (size_t)(slash - in) >= sizeof(dir))
		return;
	memcpy(dir, in, (size_t)(slash - in));
	dir[slash - in] = '\0';
	rp = realpath(dir, NULL);
	if (rp != NULL && strlen(rp) + strlen(slash) < size) {
		size_t n = strlen(rp);

		memcpy(out, rp, n);
		memcpy(out + n, slash, strlen(slash) + 1);
	}
	free(rp);
}

/* "allow: write entry N "VALUE" (EXPANDED) at FILE:LINE" */
static void
print_entry(size_t n, const struct ldm_item *it, const char *expanded)
{
	printf("allow: write entry %zu \"%s\" (%s) at ", n, it->value, expanded);
	ldmctl_put_escaped(stdout, it->file != NULL ? it->file : "?", false);
	printf(":%u\n", it->line);
}

static int
judge(const struct ldm_policy *p, const struct write_args *a)
{
	char full[2 * PATH_MAX], norm[PATH_MAX], path[PATH_MAX], exp[PATH_MAX], rexp[PATH_MAX];
	bool is_default = false;
	unsigned n = 0;

	int w;

	if (a->path[0] == '/')
		w = snprintf(full, sizeof(full), "%s", a->path);
	else if (a->vars.cwd != NULL)
		w = snprintf(full, sizeof(full), "%s/%s", a->vars.cwd, a->path);
	else
		return ldmctl_usage_error("explain", "a relative PATH needs --cwd");
	if (w < 0 || (size_t)w >= sizeof(full))
		return ldmctl_usage_error("explain", "'%s': path too long", a->path);
	if (ldm_path_normalize(full, norm, sizeof(norm)) < 0)
		return ldmctl_usage_error("explain", "'%s': path too long", a->path);
	resolve(norm, path, sizeof(path));
	if (strcmp(path, norm) != 0)
		printf("note: %s resolves to %s\n", norm, path);
	for (size_t i = 0; i < p->n_items; i++) {
		const struct ldm_item *it = &p->items[i];
		int r;

		if (it->kind != LDM_ITEM_WRITE)
			continue;
		n++;
		is_default = (it->flags & LDM_ITEM_WRITE_F_DEFAULT) != 0;
		r = ldm_path_expand(it->value, &a->vars, exp, sizeof(exp));
		if (r < 0) {
			printf("note: write entry %u \"%s\" is left out here: %s\n", n, it->value,
			       r == -ENOENT ? "a variable it uses is unknown" : strerror(-r));
			continue;
		}
		resolve(exp, rexp, sizeof(rexp));
		if (!ldm_path_below(rexp, path))
			continue;
		if (is_default)
			printf("allow: the default write scope (the policy has no `write`): %s\n",
			       it->value);
		else
			print_entry(n, it, rexp);
		return LDMCTL_EXIT_OK;
	}
	if (ldm_path_below(LDM_LANDLOCK_DEV_DIR, path)) {
		printf("allow: existing files below " LDM_LANDLOCK_DEV_DIR
		       " may be written (ttys, /dev/null, serial "
		       "ports); nothing can be created, renamed or removed there\n");
		return LDMCTL_EXIT_OK;
	}
	if (n == 0)
		printf("block: the policy's write scope is empty (write = [])\n");
	else
		printf("block: no %s covers %s\n",
		       is_default ? "entry of the default write scope (/tmp, /var/tmp, /dev/shm)"
		                  : "write entry",
		       path);
	return LDMCTL_EXIT_FAIL;
}

int
ldmctl_explain_write(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	struct write_args a = { 0 };
	int r;

	r = parse_args(ctx, argc, argv, &a);
	if (r != 0)
		return r < 0 ? LDMCTL_EXIT_OK : r;
	default_vars(&a);
	r = ldmctl_load_policy(ctx, a.policy, &p);
	if (r != 0)
		return r;
	return ldmctl_explain_end(p, judge(p, &a));
}
