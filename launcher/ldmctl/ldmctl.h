/* ldmctl: what the commands share. main.c parses global options and dispatches. */
#ifndef LDMCTL_H
#define LDMCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ldm/paths.h"
#include "ldm/policy.h"

#define LDMCTL_MAX_DIRS 16

/* Where policy names are looked up without --policy-dir (ldm/paths.h). */
#define LDMCTL_DIR_ADMIN         LDM_POLICY_DIR_ADMIN
#define LDMCTL_DIR_PACKAGE       LDM_POLICY_DIR_PACKAGE
#define LDMCTL_DEFAULT_DIRS_TEXT LDMCTL_DIR_ADMIN " then " LDMCTL_DIR_PACKAGE

/* Exit codes, documented in --help and ldmctl(1). */
enum {
	LDMCTL_EXIT_OK = 0,     /* check: all files good; explain: allowed; status, log: done */
	LDMCTL_EXIT_FAIL = 1,   /* check: a file has errors; explain: blocked; status: no daemon;
	                           log: the log cannot be read */
	LDMCTL_EXIT_USAGE = 2,  /* bad command line */
	LDMCTL_EXIT_POLICY = 3, /* explain: the policy failed to load */
	LDMCTL_EXIT_SYSTEM = 4, /* explain: the routing table could not be read */
};

/* Options given before or after the command. */
struct ldmctl_ctx {
	const char *dirs[LDMCTL_MAX_DIRS]; /* --policy-dir, in order given */
	size_t n_dirs;
	const char *socket; /* --socket: the daemon's control socket (status) */
};

/* Long options every command takes; a command's table starts with these. */
#define LDMCTL_COMMON_OPTIONS                                                                      \
	{ "policy-dir", required_argument, NULL, 'd' },                                            \
	        { "socket", required_argument, NULL, 's' },                                        \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/* Each returns an LDMCTL_EXIT_* code. ARGV[0] is the command name. */
int ldmctl_check(struct ldmctl_ctx *ctx, int argc, char **argv);
int ldmctl_explain(struct ldmctl_ctx *ctx, int argc, char **argv);
/* explain POLICY unix TARGET (explain_unix.c): prints the verdict, returns the exit code. */
struct ldm_policy;
int ldmctl_explain_unix(const struct ldm_policy *p, const char *target);
int ldmctl_status(struct ldmctl_ctx *ctx, int argc, char **argv);
int ldmctl_log(struct ldmctl_ctx *ctx, int argc, char **argv);
int ldmctl_verify(struct ldmctl_ctx *ctx, int argc, char **argv);
int ldmctl_report(struct ldmctl_ctx *ctx, int argc, char **argv);
int ldmctl_suggest(struct ldmctl_ctx *ctx, int argc, char **argv);

/*
 * Handles a common option C (with getopt's OPTARG). Returns 0 if it was handled, 1 for
 * --help, or -EINVAL after printing why (too many --policy-dir).
 */
int ldmctl_common_option(struct ldmctl_ctx *ctx, int c, const char *arg);

/* Fills OPTS from the --policy-dir list or the default directories. */
void ldmctl_load_opts(const struct ldmctl_ctx *ctx, struct ldm_load_opts *opts);

/*
 * Prints "ldmctl: CMD: MSG" (CMD NULL: "ldmctl: MSG") and the --help hint on stderr.
 * Returns LDMCTL_EXIT_USAGE.
 */
int ldmctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints only the --help hint for CMD (NULL: ldmctl); getopt already said what is wrong. */
int ldmctl_usage_hint(const char *cmd);

/*
 * Prints FILE:LINE: warning: ... on stderr for each of P's launcher items that exposes more
 * than it names: an X display, a D-Bus service that acts outside the session.
 */
void ldmctl_print_item_warnings(const struct ldm_policy *p, const char *path);

/* Prints "ldmctl: MSG" on stderr. */
void ldmctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Writes S to F with control bytes escaped as \xNN; with QUOTED also '"' and '\' (as \" and
 * \\), for text printed between double quotes. Policy text is untrusted terminal output.
 */
void ldmctl_put_escaped(FILE *f, const char *s, bool quoted);

/*
 * Prints a failed load's diagnostics on stderr as FILE:LINE: MSG (FILE: MSG for line 0),
 * then how many were dropped. DISPLAY names the file when a diagnostic has none, and with
 * strerror(-ERR) when there is no diagnostic at all.
 */
void ldmctl_print_diags(const char *display, int err, const struct ldm_diags *d);

/* Loads POLICY (a name, or a path with '/' or ending in .conf); prints why not. Returns 0
 * or LDMCTL_EXIT_USAGE / LDMCTL_EXIT_POLICY. (explain.c) */
int ldmctl_load_policy(const struct ldmctl_ctx *ctx, const char *policy, struct ldm_policy **ret);

/* explain_rule.c: "rule N "comment" (match) at FILE:LINE" (the match with MATCH); the
 * "dns:" line for HOST (returns whether the name may be looked up); the "who:" line when P
 * limits its users; the "known:" line when P labels HOST. */
void ldmctl_put_rule(FILE *f, const struct ldm_rule *r, bool match);
bool ldmctl_print_dns(const struct ldm_policy *p, const char *host);
void ldmctl_print_access(const struct ldm_policy *p);
void ldmctl_print_known(const struct ldm_policy *p, const char *host);
/* After a verdict (CODE 0 or 1, not a usage error), the "who:" line; returns CODE. */
int ldmctl_explain_end(const struct ldm_policy *p, int code);

/* explain POLICY --host NAME (explain_host.c): the host rules that name NAME. Returns 0
 * when one allows connections to NAME and the name may be looked up, else 1. */
int ldmctl_explain_host(const struct ldm_policy *p, const char *host);

/* explain POLICY write PATH (explain_write.c): is ARGV that form, and running it. */
bool ldmctl_explain_is_write(int argc, char **argv);
int ldmctl_explain_write(struct ldmctl_ctx *ctx, int argc, char **argv);

#endif
