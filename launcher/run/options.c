/* ldm-run's command line, PATH lookup and exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "run/notify.h"
#include "run/run.h"

#define DEFAULT_PATH "/bin:/usr/bin" /* what execvp(3) uses when PATH is unset */

static void
usage(FILE *f)
{
	fputs("Usage: ldm-run [--socket PATH] (--policy NAME | --offline) [--audit] [--quiet]\n"
	      "               [--notify | --no-notify] [--] PROGRAM [ARGS...]\n"
	      "\n"
	      "Runs PROGRAM in an ldm-enforcer session: its network reach is what policy NAME\n"
	      "allows, enforced by ldm-enforcerd, and a seccomp filter refuses raw sockets,\n"
	      "namespaces, ptrace and io_uring.\n"
	      "\n"
	      "Options:\n"
	      "  --policy NAME    the policy to run under (ldmctl check, ldm-policy(5))\n"
	      "  --offline        the shipped 'offline' policy: no network but what it allows\n"
	      "  --audit          ask for audit mode (log, don't block); the daemon refuses it\n"
	      "                   unless the policy sets audit_override = true\n"
	      "  --quiet          no summary (line or notification) when the program ends\n"
	      "  --notify         desktop notifications: each blocked destination (one a\n"
	      "                   minute), the summary, why the program did not start; the\n"
	      "                   default only when neither stdin nor stderr is a terminal\n"
	      "  --no-notify      no desktop notifications, with or without a terminal\n"
	      "  --socket PATH    the daemon's control socket (default $LDM_SOCKET, else\n"
	      "                   " LDM_CONTROL_SOCKET ")\n"
	      "  -h, --help       show this help\n"
	      "  -V, --version    show the version\n"
	      "\n"
	      "Exit status: the program's, 128+N if it died of signal N; 125 if ldm-run failed,\n"
	      "126 if PROGRAM cannot be executed, 127 if it was not found.\n"
	      "\n"
	      "See ldm-run(1).\n",
	      f);
}

/* What the options leave to check once all are read. */
static int
check_opts(const struct ldm_run_opts *o, bool offline, int nargs, FILE *err)
{
	if (offline && o->policy != NULL) {
		fputs("ldm-run: use either --policy or --offline, not both\n", err);
		return -EINVAL;
	}
	if (!offline && o->policy == NULL) {
		fputs("ldm-run: no policy: pass --policy NAME or --offline\n", err);
		return -EINVAL;
	}
	if (o->policy != NULL && (o->policy[0] == '\0' || strlen(o->policy) > LDM_MAX_NAME_LEN)) {
		fprintf(err, "ldm-run: --policy needs a name of 1 to %d characters\n",
		        LDM_MAX_NAME_LEN);
		return -EINVAL;
	}
	if (o->socket != NULL && o->socket[0] == '\0') {
		fputs("ldm-run: --socket needs a path\n", err);
		return -EINVAL;
	}
	if (nargs < 1) {
		fputs("ldm-run: no program given (ldm-run --help shows how)\n", err);
		return -EINVAL;
	}
	return 0;
}

enum { OPT_SOCKET = 256, OPT_POLICY, OPT_OFFLINE, OPT_AUDIT, OPT_QUIET, OPT_NOTIFY, OPT_NO_NOTIFY };

static const struct option options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "notify", no_argument, NULL, OPT_NOTIFY },
	{ "no-notify", no_argument, NULL, OPT_NO_NOTIFY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

/* Applies option C. Returns 0, 1 for --help/--version (printed), or -EINVAL. */
static int
set_option(int c, struct ldm_run_opts *o, bool *offline, FILE *out)
{
	switch (c) {
	case OPT_SOCKET:
		o->socket = optarg;
		return 0;
	case OPT_POLICY:
		o->policy = optarg;
		return 0;
	case OPT_OFFLINE:
		*offline = true;
		return 0;
	case OPT_AUDIT:
		o->audit = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_NOTIFY: /* the last of --notify and --no-notify wins */
	case OPT_NO_NOTIFY:
		o->notify = c == OPT_NOTIFY ? LDM_RUN_NOTIFY_ON : LDM_RUN_NOTIFY_OFF;
		return 0;
	case 'h':
		usage(out);
		return 1;
	case 'V':
		fputs("ldm-run " LDM_VERSION "\n", out);
		return 1;
	default:
		return -EINVAL;
	}
}

int
ldm_run_parse_options(int argc, char **argv, struct ldm_run_opts *ret, FILE *out, FILE *err)
{
	struct ldm_run_opts o = { 0 };
	bool offline = false;
	int c, r;

	optind = 0; /* glibc: start over, so that tests can parse more than once */
	opterr = 0;
	/* '+': the first non-option is PROGRAM; its own options are its business. */
	while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		r = set_option(c, &o, &offline, out);
		if (r == -EINVAL)
			fprintf(err,
			        "ldm-run: unknown option or missing argument: '%s' "
			        "(ldm-run --help shows the options)\n",
			        argv[optind - 1]);
		if (r != 0)
			return r;
	}
	r = check_opts(&o, offline, argc - optind, err);
	if (r < 0)
		return r;
	if (offline)
		o.policy = LDM_RUN_OFFLINE_POLICY;
	o.argv = argv + optind;
	*ret = o;
	return 0;
}

/*
 * 0 if PATH is an executable regular file, -EACCES if it exists otherwise, else -ENOENT. A
 * directory on the way that we may not search hides the file: not found (as the shell
 * says), where execvp(3) would say EACCES without knowing that there is a file at all.
 */
static int
try_candidate(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -ENOENT;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

int
ldm_run_find_program(const char *name, const char *path_env, char *buf, size_t size)
{
	const char *p = path_env != NULL ? path_env : DEFAULT_PATH;
	int best = -ENOENT;

	if (name[0] == '\0')
		return -ENOENT;
	if (strchr(name, '/') != NULL) {
		int r = try_candidate(name);

		if (r < 0)
			return r;
		return ldm_strscpy(buf, size, name);
	}
	for (;;) {
		size_t len = strcspn(p, ":");
		int n = len == 0 ? snprintf(buf, size, "./%s", name)
		                 : snprintf(buf, size, "%.*s/%s", (int)len, p, name);

		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		n = try_candidate(buf);
		if (n == 0)
			return 0;
		if (n == -EACCES)
			best = -EACCES;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	buf[0] = '\0';
	return best;
}

int
ldm_run_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return LDM_RUN_EXIT_FAIL;
}
