/*
 * ldmctl: checks and explains policies without running anything, shows the daemon's state and
 * reads its log. This file only parses the options that come before the command and
 * dispatches; each command parses the rest.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

struct command {
	const char *name;
	int (*run)(struct ldmctl_ctx *ctx, int argc, char **argv);
};

static const struct command commands[] = {
	{ "check", ldmctl_check },   { "explain", ldmctl_explain }, { "log", ldmctl_log },
	{ "report", ldmctl_report }, { "status", ldmctl_status },   { "suggest", ldmctl_suggest },
	{ "verify", ldmctl_verify },
};

static void
usage(FILE *f)
{
	fputs("Usage: ldmctl [--policy-dir DIR]... [--socket PATH] COMMAND [ARGS...]\n"
	      "\n"
	      "Checks and explains ldm-enforcer policies, shows the daemon's state and its log.\n"
	      "\n"
	      "Commands:\n"
	      "  check FILE...                  validate policy files, print every error\n"
	      "  explain POLICY PROTO DEST[:PORT] [--host NAME] [--in] [--lan CIDR]...\n"
	      "  explain POLICY unix PATH|@NAME\n"
	      "                                 say whether POLICY allows a flow, and which\n"
	      "                                 rule decides (at FILE:LINE)\n"
	      "  explain POLICY --host NAME     the host rules that name NAME\n"
	      "  explain POLICY write PATH [--home DIR] [--runtime-dir DIR] [--cwd DIR]\n"
	      "                                 say whether POLICY lets the app write PATH\n"
	      "  status                         show the daemon and its live sessions\n"
	      "  log [SESSION] [--json] [--follow] [--log FILE]\n"
	      "                                 print the event log (default\n"
	      "                                 /var/log/ldm/events.jsonl)\n"
	      "  verify [--log FILE]...         check the log's hash chain across rotations\n"
	      "  report SESSION [--json | --html FILE] [--log FILE]...\n"
	      "                                 one session's flight: policy, peers allowed\n"
	      "                                 and blocked, denials, verification\n"
	      "  suggest SESSION [--name NAME] [--log FILE]...\n"
	      "                                 a policy draft from what an audit-mode\n"
	      "                                 session tried\n"
	      "\n"
	      "Options (before or after the command):\n"
	      "  --policy-dir DIR   look up policy names and includes in DIR (repeatable;\n"
	      "                     default " LDMCTL_DEFAULT_DIRS_TEXT ")\n"
	      "  --socket PATH      the daemon's control socket, for status (default\n"
	      "                     $LDM_SOCKET, else " LDM_CONTROL_SOCKET ")\n"
	      "  -h, --help         show this help (COMMAND --help: the command's help)\n"
	      "  -V, --version      show the version\n"
	      "\n"
	      "Exit status:\n"
	      "  0  check: every file is valid; explain: the flow is allowed; status, log: done\n"
	      "  1  check: a file has errors; explain: the flow is blocked; status: the daemon\n"
	      "     is not running or did not answer; log: the log cannot be read; verify: the\n"
	      "     chain is broken or a file cannot be read; report: the session's records do\n"
	      "     not verify, or it is not in the log\n"
	      "  2  usage error\n"
	      "  3  explain: the policy does not load (its errors are printed)\n"
	      "  4  explain: the routing table cannot be read (pass --lan)\n"
	      "\n"
	      "See ldmctl(1) and ldm-policy(5).\n",
	      f);
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	static char cmd_argv0[32];
	struct ldmctl_ctx ctx = { 0 };
	const struct command *cmd;
	int c, r;

	/* '+': stop at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		if (c == 'V') {
			puts("ldmctl " LDM_VERSION);
			return LDMCTL_EXIT_OK;
		}
		if (c == '?')
			return ldmctl_usage_hint(NULL);
		r = ldmctl_common_option(&ctx, c, optarg);
		if (r == 1) {
			usage(stdout);
			return LDMCTL_EXIT_OK;
		}
		if (r < 0)
			return LDMCTL_EXIT_USAGE;
	}
	if (optind >= argc) {
		usage(stderr);
		return LDMCTL_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return ldmctl_usage_error(NULL, "unknown command '%s'", argv[optind]);
	/* getopt names argv[0] in its messages: "ldmctl explain: unrecognized option". */
	(void)snprintf(cmd_argv0, sizeof(cmd_argv0), "ldmctl %s", cmd->name);
	argv[optind] = cmd_argv0;
	return cmd->run(&ctx, argc - optind, argv + optind);
}
