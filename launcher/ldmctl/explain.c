/*
 * ldmctl explain: judges one flow against a policy, as the enforcer would, and names the
 * rule that decides. Nothing is run and nothing is sent.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/lan_read.h"
#include "ldm/lan.h"
#include "ldm/control.h"
#include "ldm/dbus.h"
#include "ldm/policy.h"
#include "ldm/verdict.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

struct explain_args {
	const char *policy;
	const char *proto;
	const char *dest;
	char host[LDM_MAX_HOST_LEN + 1]; /* normalized --host, "" if none */
	bool in;
	unsigned bus;  /* --bus for dbus: LDM_ITEM_DBUS_*, 0 if not given (session) */
	bool have_lan; /* --lan given: don't read the routing table */
	struct ldm_lan_entry *lan;
	size_t n_lan;
};

static void
explain_usage(FILE *f)
{
	fputs("Usage: ldmctl explain POLICY PROTO DEST[:PORT] [--host NAME] [--in] [--lan "
	      "CIDR]...\n"
	      "       ldmctl explain POLICY --host NAME\n"
	      "       ldmctl explain POLICY unix PATH|@NAME\n"
	      "       ldmctl explain POLICY write PATH [--home DIR] [--runtime-dir DIR] [--cwd "
	      "DIR]\n"
	      "       ldmctl explain POLICY dbus NAME [--bus session|system]\n"
	      "\n"
	      "Says whether POLICY allows a flow and which rule decides, without running "
	      "anything.\n"
	      "  POLICY        a policy name, looked up in the policy directories, or a file path\n"
	      "                (it contains '/' or ends in .conf)\n"
	      "  PROTO         tcp, udp or icmp\n"
	      "  DEST[:PORT]   the peer: 192.0.2.7:443, [2001:db8::7]:443, or without a port\n"
	      "                (icmp only): 192.0.2.7, 2001:db8::7\n"
	      "  unix PATH     a connect() to a local socket: an absolute path or @name "
	      "(abstract)\n"
	      "  --host NAME   the DNS name DEST was resolved from (for `host` rules and labels);\n"
	      "                alone (no PROTO DEST): the host rules that name NAME, its lookup,\n"
	      "                and the address rules that would decide by its address\n"
	      "  --in          the peer opens the flow to the app's local PORT\n"
	      "  --lan CIDR    treat CIDR as on-link (repeatable, or a comma-separated list);\n"
	      "                without it the routing table decides what `lan` means (the\n"
	      "                'lan:' line lists the networks used and where they came from)\n"
	      "  dbus NAME     may the app talk to the D-Bus name NAME (through ldm-run's proxy)?\n"
	      "  --bus BUS     the bus NAME is on: session (the default) or system\n"
	      "  --policy-dir DIR  look up POLICY and includes in DIR (repeatable)\n"
	      "\n"
	      "A matching rule is named with the FILE:LINE it was written at (an included "
	      "file's).\n"
	      "\n"
	      "Exit status: 0 allowed (--host alone: a host rule allows connections to NAME and\n"
	      "it may be looked up), 1 blocked, 2 usage error, 3 the policy does not load,\n"
	      "4 the routing table cannot be read.\n",
	      f);
}

static int
add_lan(struct explain_args *a, const char *list)
{
	const char *bad = list;
	int r;

	r = ldm_lan_parse_cidrs(list, &a->lan, &a->n_lan, &bad);
	if (r == -EDOM)
		return ldmctl_usage_error("explain",
		                          "--lan '%s': host bits are set below the prefix "
		                          "length; give the network, e.g. 192.168.144.0/24",
		                          bad);
	if (r == -E2BIG)
		return ldmctl_usage_error("explain", "--lan: more than %d prefixes",
		                          LDM_MAX_LAN_ENTRIES);
	if (r < 0)
		return ldmctl_usage_error("explain",
		                          "--lan '%s' is not a CIDR such as "
		                          "192.168.144.0/24 or fd00::/64",
		                          bad);
	a->have_lan = true;
	return 0;
}

/* Handles one option of explain. Returns 0 to go on, or an exit code (-1: --help done). */
static int
explain_option(struct ldmctl_ctx *ctx, struct explain_args *a, int c, const char *arg)
{
	int r;

	switch (c) {
	case 'H':
		if (ldm_host_name_normalize(arg, a->host, sizeof(a->host)) < 0)
			return ldmctl_usage_error("explain", "--host '%s' is not a DNS name", arg);
		return 0;
	case 'i':
		a->in = true;
		return 0;
	case 'l':
		return add_lan(a, arg);
	case 'b':
		if (ldm_dbus_bus_parse(arg, &a->bus) < 0)
			return ldmctl_usage_error("explain", "--bus '%s': give session or system",
			                          arg);
		return 0;
	case '?':
		return ldmctl_usage_hint("explain");
	default:
		r = ldmctl_common_option(ctx, c, arg);
		if (r == 1) {
			explain_usage(stdout);
			return -1;
		}
		return r < 0 ? LDMCTL_EXIT_USAGE : 0;
	}
}

/* Returns 0 when A is complete, or the exit code (-1 for --help, which exits 0). */
static int
parse_args(struct ldmctl_ctx *ctx, int argc, char **argv, struct explain_args *a)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "host", required_argument, NULL, 'H' },
		{ "in", no_argument, NULL, 'i' },
		{ "lan", required_argument, NULL, 'l' },
		{ "bus", required_argument, NULL, 'b' },
		{},
	};
	int c, r;

	optind = 0; /* glibc: restart and permute, so options may come anywhere */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		r = explain_option(ctx, a, c, optarg);
		if (r != 0)
			return r;
	}
	if (argc - optind == 1 && a->host[0] != '\0') {
		if (a->in || a->have_lan || a->bus != 0)
			return ldmctl_usage_error("explain",
			                          "--in, --lan and --bus need PROTO DEST");
		a->policy = argv[optind];
		return 0; /* --host NAME alone: a->proto stays NULL */
	}
	if (argc - optind != 3)
		return ldmctl_usage_error("explain", "give POLICY PROTO DEST[:PORT], e.g. "
		                                     "'qgroundcontrol udp 192.168.144.10:14550', "
		                                     "or POLICY --host NAME");
	a->policy = argv[optind];
	a->proto = argv[optind + 1];
	a->dest = argv[optind + 2];
	return 0;
}

/* Splits DEST into its address (into BUF) and its port text, NULL when there is none. */
static int
split_dest(const char *s, char *buf, size_t size, const char **ret_port)
{
	const char *port = NULL, *end, *colon = strchr(s, ':');
	size_t len;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		if (end[1] == ':')
			port = end + 2;
		s++;
		len = (size_t)(end - s);
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		len = (size_t)(colon - s); /* one colon: IPv4:PORT */
		port = colon + 1;
	} else {
		len = strlen(s); /* no colon, or a bare IPv6 address */
	}
	if (len >= size)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*ret_port = port;
	return 0;
}

/* Fills FLOW's protocol, peer and port from A. Returns 0 or an exit code. */
static int
parse_flow(const struct explain_args *a, struct ldm_flow *flow)
{
	char addr[64];
	const char *port;

	if (ldm_proto_parse(a->proto, &flow->proto) < 0 ||
	    (flow->proto != LDM_PROTO_TCP && flow->proto != LDM_PROTO_UDP &&
	     flow->proto != LDM_PROTO_ICMP))
		return ldmctl_usage_error("explain", "PROTO '%s': give tcp, udp or icmp", a->proto);
	if (split_dest(a->dest, addr, sizeof(addr), &port) < 0 ||
	    ldm_addr_parse(addr, &flow->family, flow->addr) < 0)
		return ldmctl_usage_error("explain",
		                          "'%s' is not DEST[:PORT]: give 192.0.2.7:443, "
		                          "[2001:db8::7]:443, 192.0.2.7 or 2001:db8::7",
		                          a->dest);
	if (flow->proto == LDM_PROTO_ICMP && port != NULL)
		return ldmctl_usage_error("explain", "icmp has no ports: give DEST without :PORT");
	if (flow->proto != LDM_PROTO_ICMP && port == NULL)
		return ldmctl_usage_error("explain",
		                          "%s needs a port: give DEST:PORT, e.g. "
		                          "192.0.2.7:443 or [2001:db8::7]:443",
		                          a->proto);
	if (port != NULL && (ldm_parse_port(&port, &flow->port) < 0 || *port != '\0'))
		return ldmctl_usage_error("explain", "'%s': the port must be 1-65535", a->dest);
	flow->dir = a->in ? LDM_DIR_IN : LDM_DIR_OUT;
	flow->host = a->host[0] != '\0' ? a->host : NULL;
	return 0;
}

/* Loads POLICY by name or path. Returns 0, or prints the errors and returns an exit code. */
int
ldmctl_load_policy(const struct ldmctl_ctx *ctx, const char *policy, struct ldm_policy **ret)
{
	_cleanup_(ldm_diags_clear) struct ldm_diags diags = { 0 };
	struct ldm_load_opts opts;
	size_t len = strlen(policy);
	int r;

	ldmctl_load_opts(ctx, &opts);
	if (strchr(policy, '/') != NULL || (len > 5 && strcmp(policy + len - 5, ".conf") == 0))
		r = ldm_policy_load_path(policy, &opts, ret, &diags);
	else if (ldm_policy_name_valid(policy))
		r = ldm_policy_load_name(policy, &opts, ret, &diags);
	else
		return ldmctl_usage_error("explain",
		                          "'%s' is neither a policy name ([a-z0-9][a-z0-9_-]*) "
		                          "nor a file path",
		                          policy);
	if (r < 0) {
		ldmctl_print_diags(policy, r, &diags);
		return LDMCTL_EXIT_POLICY;
	}
	return 0;
}

static int
print_verdict(const struct ldm_policy *p, const struct ldm_verdict *v, const char *host)
{
	fputs(v->allow ? "allow: " : "block: ", stdout);
	if (v->rule == NULL)
		fputs("no rule matches (default deny)", stdout);
	else
		ldmctl_put_rule(stdout, v->rule, true);
	fputc('\n', stdout);
	if (host != NULL)
		(void)ldmctl_print_dns(p, host);
	ldmctl_print_known(p, host);
	if (!v->allow && p->mode == LDM_MODE_AUDIT) {
		fputs("note: policy '", stdout);
		ldmctl_put_escaped(stdout, p->name != NULL ? p->name : "?", false);
		fputs("' is in audit mode: this flow would be logged as would_block, not blocked\n",
		      stdout);
	}
	return v->allow ? LDMCTL_EXIT_OK : LDMCTL_EXIT_FAIL;
}

/* Is E already among V[0..I)'s `lan` networks? (fe80::/64 is on every interface.) */
static bool
lan_seen(const struct ldm_lan_entry *v, size_t i, const struct ldm_lan_entry *e)
{
	for (size_t k = 0; k < i; k++)
		if (v[k].kind == LDM_ROUTE_LINK && v[k].prefix.family == e->prefix.family &&
		    v[k].prefix.plen == e->prefix.plen &&
		    memcmp(v[k].prefix.addr, e->prefix.addr, sizeof(e->prefix.addr)) == 0)
			return true;
	return false;
}

/* "lan: NETWORKS (where they came from)": what `lan` meant for this verdict. */
static void
print_lan(const struct explain_args *a)
{
	char buf[64]; /* INET6_ADDRSTRLEN and "/128" */
	size_t n = 0;

	fputs("lan: ", stdout);
	for (size_t i = 0; i < a->n_lan; i++) {
		const struct ldm_lan_entry *e = &a->lan[i];

		if (e->kind != LDM_ROUTE_LINK || lan_seen(a->lan, i, e) ||
		    ldm_prefix_format(&e->prefix, buf, sizeof(buf)) < 0)
			continue;
		printf("%s%s", n++ ? ", " : "", buf);
	}
	fputs(n == 0 ? "none" : "", stdout);
	fputs(a->have_lan ? " (given with --lan)\n"
	                  : " (this machine's routes: on-link networks of interfaces without a "
	                    "default route; the daemon's `uplink` setting is not read)\n",
	      stdout);
}

/* Judges the flow in A against P with the given or the routing table's LAN. */
static int
judge(const struct ldm_policy *p, struct explain_args *a, struct ldm_flow *flow)
{
	struct ldm_verdict v = { 0 };
	struct ldm_lan lan;
	int r;

	if (!a->have_lan) {
		r = ldm_lan_read(&a->lan, &a->n_lan);
		if (r < 0) {
			ldmctl_err("explain: cannot read the routing table (%s); name the on-link "
			           "prefixes with --lan CIDR",
			           strerror(-r));
			return LDMCTL_EXIT_SYSTEM;
		}
	}
	/* The interface the kernel would pick among on-link routes; 0 when none is on-link. */
	flow->ifindex = ldm_lan_ifindex(a->lan, a->n_lan, flow->family, flow->addr);
	lan = (struct ldm_lan){ .v = a->lan, .n = a->n_lan };
	r = ldm_policy_judge(p, flow, &lan, &v);
	if (r < 0) {
		ldmctl_err("explain: the policy cannot judge this flow (%s)", strerror(-r));
		return LDMCTL_EXIT_USAGE;
	}
	/* The enforcer's own decision: by the address, and by the name it was resolved from. */
	ldm_verdict_flow(p, flow, &lan, (const char *const[]){ flow->host },
	                 flow->host != NULL ? 1 : 0, &v, NULL);
	r = print_verdict(p, &v, flow->host);
	print_lan(a);
	ldmctl_print_access(p);
	return r;
}

/* `explain POLICY dbus NAME`: the item that lets the app talk to NAME, or none. */
static int
judge_dbus(const struct ldm_policy *p, const struct explain_args *a)
{
	unsigned bus = a->bus != 0 ? a->bus : LDM_ITEM_DBUS_SESSION;
	const struct ldm_item *it = ldm_policy_dbus_allowed(p, bus, a->dest);
	const char *risk = it != NULL ? ldm_dbus_name_risk(it->value, bus) : NULL;

	if (it == NULL) {
		fputs("block: no dbus rule names '", stdout);
		ldmctl_put_escaped(stdout, a->dest, false);
		printf("' on the %s bus (default deny)\n", ldm_dbus_bus_name(bus));
		return LDMCTL_EXIT_FAIL;
	}
	fputs("allow: dbus rule ", stdout);
	ldmctl_put_escaped(stdout, it->file != NULL ? it->file : "?", false);
	printf(":%u", it->line);
	if (it->comment != NULL) {
		fputs(" \"", stdout);
		ldmctl_put_escaped(stdout, it->comment, true);
		fputc('"', stdout);
	}
	printf(" (%s bus, ", ldm_dbus_bus_name(bus));
	ldmctl_put_escaped(stdout, it->value, false);
	fputs("), through ldm-run's D-Bus proxy\n", stdout);
	if (risk != NULL)
		printf("warning: %s\n", risk);
	return LDMCTL_EXIT_OK;
}

/* Checks the dbus NAME argument: a well-known name, not a pattern. Returns 0 or exit code. */
static int
parse_dbus(const struct explain_args *a)
{
	const char *why;

	if (ldm_dbus_name_check(a->dest, &why) < 0 || strchr(a->dest, '*') != NULL)
		return ldmctl_usage_error("explain", "'%s' is not a D-Bus well-known name: %s",
		                          a->dest,
		                          why != NULL ? why : "give a name, not a pattern");
	return 0;
}

int
ldmctl_explain(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	struct explain_args a = { 0 };
	struct ldm_flow flow = { 0 };
	int r;

	bool dbus;

	if (ldmctl_explain_is_write(argc, argv))
		return ldmctl_explain_write(ctx, argc, argv);
	r = parse_args(ctx, argc, argv, &a);
	if (r == 0 && a.proto == NULL) {
		r = ldmctl_load_policy(ctx, a.policy, &p);
		return r != 0 ? r : ldmctl_explain_host(p, a.host);
	}
	if (r == 0 && strcmp(a.proto, "unix") == 0) {
		r = ldmctl_load_policy(ctx, a.policy, &p);
		return r != 0 ? r : ldmctl_explain_end(p, ldmctl_explain_unix(p, a.dest));
	}
	dbus = r == 0 && strcmp(a.proto, "dbus") == 0;
	if (r == 0 && !dbus && a.bus != 0)
		r = ldmctl_usage_error("explain", "--bus goes with dbus only");
	if (r == 0)
		r = dbus ? parse_dbus(&a) : parse_flow(&a, &flow);
	if (r == 0)
		r = ldmctl_load_policy(ctx, a.policy, &p);
	if (r == 0)
		r = dbus ? ldmctl_explain_end(p, judge_dbus(p, &a)) : judge(p, &a, &flow);
	free(a.lan);
	return r < 0 ? LDMCTL_EXIT_OK : r;
}
