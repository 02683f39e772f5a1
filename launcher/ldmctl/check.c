/*
 * ldmctl check: loads each policy file as the daemon would and prints every error. Also
 * holds the option and diagnostic helpers that every command shares (main.c is left out of
 * unit-test links, so nothing the commands call may live there).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/dbus.h"
#include "ldm/display.h"
#include "ldm/policy.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

int
ldmctl_common_option(struct ldmctl_ctx *ctx, int c, const char *arg)
{
	switch (c) {
	case 'd':
		if (arg[0] == '\0') {
			ldmctl_err("--policy-dir needs a directory, not an empty string");
			return -EINVAL;
		}
		if (ctx->n_dirs >= LDMCTL_MAX_DIRS) {
			ldmctl_err("too many --policy-dir options (at most %d)", LDMCTL_MAX_DIRS);
			return -EINVAL;
		}
		ctx->dirs[ctx->n_dirs++] = arg;
		return 0;
	case 's':
		ctx->socket = arg;
		return 0;
	case 'h':
		return 1;
	default:
		return -EINVAL;
	}
}

void
ldmctl_load_opts(const struct ldmctl_ctx *ctx, struct ldm_load_opts *opts)
{
	static const char *const default_dirs[] = { LDMCTL_DIR_ADMIN, LDMCTL_DIR_PACKAGE };

	*opts = (struct ldm_load_opts){ 0 };
	if (ctx->n_dirs > 0) {
		opts->dirs = ctx->dirs;
		opts->n_dirs = ctx->n_dirs;
	} else {
		opts->dirs = default_dirs;
		opts->n_dirs = ELEMENTSOF(default_dirs);
	}
	/* ldmctl judges what the file says; the daemon alone insists on admin ownership. */
	opts->admin_owned = false;
}

void
ldmctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ldmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ldmctl_usage_hint(const char *cmd)
{
	if (cmd != NULL)
		fprintf(stderr, "Try 'ldmctl %s --help'.\n", cmd);
	else
		fputs("Try 'ldmctl --help'.\n", stderr);
	return LDMCTL_EXIT_USAGE;
}

int
ldmctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ldmctl: ", stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return ldmctl_usage_hint(cmd);
}

void
ldmctl_put_escaped(FILE *f, const char *s, bool quoted)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (quoted && (*p == '"' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
}

void
ldmctl_print_diags(const char *display, int err, const struct ldm_diags *d)
{
	fflush(stdout);
	for (size_t i = 0; i < d->n; i++) {
		const struct ldm_diag *g = &d->v[i];

		ldmctl_put_escaped(stderr, g->file != NULL ? g->file : display, false);
		if (g->line > 0)
			fprintf(stderr, ":%u", g->line);
		fputs(": ", stderr);
		ldmctl_put_escaped(stderr, g->msg != NULL ? g->msg : "error", false);
		fputc('\n', stderr);
	}
	if (d->dropped > 0)
		fprintf(stderr, "%s: %zu more error%s not shown\n", display, d->dropped,
		        d->dropped == 1 ? "" : "s");
	if (d->n == 0 && d->dropped == 0)
		fprintf(stderr, "%s: %s\n", display, strerror(err < 0 ? -err : EINVAL));
}

static void
check_usage(FILE *f)
{
	fputs("Usage: ldmctl check [--policy-dir DIR]... FILE...\n"
	      "\n"
	      "Loads each policy FILE (and what it includes) as ldm-enforcerd would, and prints\n"
	      "'FILE: ok, N rules' (', M D-Bus names' if any) on stdout, or every error as\n"
	      "FILE:LINE: MESSAGE on stderr.\n"
	      "Rules that expose more than they name (an X display, D-Bus services that run\n"
	      "programs or fetch URLs for the app) are warned about as FILE:LINE: warning: ...\n"
	      "Included policies are looked up beside FILE, then in each --policy-dir\n"
	      "(default " LDMCTL_DEFAULT_DIRS_TEXT ").\n"
	      "\n"
	      "Exit status: 0 every file is valid, 1 a file has errors, 2 usage error.\n",
	      f);
}

static void
warn_at(const struct ldm_item *it, const char *path)
{
	fflush(stdout);
	ldmctl_put_escaped(stderr, it->file != NULL ? it->file : path, false);
	fprintf(stderr, ":%u: warning: ", it->line);
}

void
ldmctl_print_item_warnings(const struct ldm_policy *p, const char *path)
{
	for (size_t i = 0; i < p->n_items; i++) {
		const struct ldm_item *it = &p->items[i];
		const char *why;

		if (it->kind == LDM_ITEM_UNIX && (it->flags & LDM_ITEM_UNIX_ALLOW) != 0 &&
		    (why = ldm_unix_target_risk(it->value)) != NULL) {
			warn_at(it, path);
			fputs(ldm_unix_target_is_x11(it->value)
			              ? "the app may reach the X display '"
			              : "the app may connect to '",
			      stderr);
			ldmctl_put_escaped(stderr, it->value, false);
			fprintf(stderr, "': %s\n", why);
		} else if (it->kind == LDM_ITEM_DBUS &&
		           (why = ldm_dbus_name_risk(it->value, it->flags)) != NULL) {
			warn_at(it, path);
			fputs("the app may talk to '", stderr);
			ldmctl_put_escaped(stderr, it->value, false);
			fprintf(stderr, "' on the %s bus: %s\n", ldm_dbus_bus_name(it->flags), why);
		}
	}
}

/* Loads PATH; prints its rule count or its errors. Returns 0 or -errno. */
/* Is PATH in one of the directories policies are looked up in (the daemon's too)? */
static bool
in_policy_dir(const struct ldm_load_opts *opts, const char *path)
{
	char dir[PATH_MAX], pd[PATH_MAX], *copy = strdup(path);
	bool in = false;

	if (copy == NULL)
		return false;
	if (realpath(dirname(copy), dir) != NULL)
		for (size_t i = 0; i < opts->n_dirs && !in; i++)
			in = realpath(opts->dirs[i], pd) != NULL && strcmp(pd, dir) == 0;
	free(copy);
	return in;
}

static int
check_one(const struct ldmctl_ctx *ctx, const char *path)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	_cleanup_(ldm_diags_clear) struct ldm_diags diags = { 0 };
	struct ldm_load_opts opts;
	const char *refusal;
	size_t n_dbus = 0;
	int r;

	ldmctl_load_opts(ctx, &opts);
	r = ldm_policy_load_path(path, &opts, &p, &diags);
	if (r < 0) {
		ldmctl_print_diags(path, r, &diags);
		return r;
	}
	refusal = ldm_policy_file_refusal(path);
	if (refusal != NULL && in_policy_dir(&opts, path)) {
		/* The policy is valid, but the daemon will not read this file. */
		fflush(stdout);
		ldmctl_put_escaped(stderr, path, false);
		fprintf(stderr, ": %s\n", refusal);
		return -EPERM;
	}
	/* A draft elsewhere: said, not an error, unless it is only its owner (a draft in
	 * one's home is the admin's own file, and installing it makes it root's). */
	if (refusal != NULL && strstr(refusal, "not owned by root") == NULL) {
		fflush(stdout);
		ldmctl_put_escaped(stderr, path, false);
		fprintf(stderr, ": note: installed as it is, the daemon would refuse it: %s\n",
		        refusal);
	}
	ldmctl_put_escaped(stdout, path, false);
	printf(": ok, %zu rule%s", p->n_rules, p->n_rules == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_items; i++)
		n_dbus += p->items[i].kind == LDM_ITEM_DBUS;
	if (n_dbus > 0)
		printf(", %zu D-Bus name%s", n_dbus, n_dbus == 1 ? "" : "s");
	if (p->access_limited) {
		char who[1024];

		if (ldm_policy_access_text(p, who, sizeof(who)) < 0)
			(void)ldm_strscpy(who, sizeof(who), "(too many to list)");
		fputs("; only ", stdout);
		ldmctl_put_escaped(stdout, who, false);
		fputs(" may use it", stdout);
	}
	putchar('\n');
	ldmctl_print_item_warnings(p, path);
	return 0;
}

int
ldmctl_check(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = { LDMCTL_COMMON_OPTIONS, {} };
	int c, r, rc = LDMCTL_EXIT_OK;

	optind = 0; /* glibc: restart and permute, so options may follow the files */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == '?')
			return ldmctl_usage_hint("check");
		r = ldmctl_common_option(ctx, c, optarg);
		if (r == 1) {
			check_usage(stdout);
			return LDMCTL_EXIT_OK;
		}
		if (r < 0)
			return LDMCTL_EXIT_USAGE;
	}
	if (optind >= argc)
		return ldmctl_usage_error("check", "name at least one policy FILE");
	for (int i = optind; i < argc; i++)
		if (check_one(ctx, argv[i]) < 0)
			rc = LDMCTL_EXIT_FAIL;
	return rc;
}
