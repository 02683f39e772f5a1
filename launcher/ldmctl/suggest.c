/*
 * ldmctl suggest SESSION: turns what a session tried (run it with an audit-mode policy, so
 * that everything was let through and logged as would_block) into a policy draft: one
 * commented allow rule per destination the app contacted — by host name where the app
 * resolved one, with the ports it used — and the names it only looked up as dns_allow.
 * A destination's names are every name the session had resolved to its address before
 * the attempt (its `resolved` records) and the name the attempt's record carries: a
 * shared (CDN) address gets a rule for each, each comment naming the others, since the
 * log cannot tell which of them the app meant.
 * Local sockets the session tried (blocked, proto unix: refused in every mode) become unix
 * rules; the paths it wrote outside its write scope become a write list (suggest_write.c).
 * The draft passes `ldmctl check`; an administrator reviews it, then installs it.
 *
 * Trust: the log's strings came from the app. Host names are checked as DNS names before
 * they become rules (others are left out, and said so in a comment); addresses are parsed;
 * every string written into the draft is restricted to characters that cannot end a
 * libconfig string or comment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/event.h"
#include "ldm/policy.h"
#include "ldm/unix_rule.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/logfiles.h"
#include "ldmctl/suggest_write.h"

#define SUGGEST_MAX_RULES      1000
#define SUGGEST_MAX_PORTS      32   /* per rule; more ports make another rule */
#define SUGGEST_MAX_RESOLVED   4096 /* (address, name) pairs remembered */
#define SUGGEST_ALSO_MAX       200  /* bytes of a rule's "also resolved from" list */
#define SUGGEST_MAX_DEST_NAMES 16   /* names of one destination (as the daemon keeps) */

struct draft_rule {
	enum ldm_proto proto;
	bool is_host;
	char peer[LDM_MAX_HOST_LEN + 1]; /* a checked host name, or an address literal */
	uint16_t ports[SUGGEST_MAX_PORTS];
	size_t n_ports;
	uint64_t count;
	char label[96];
	char also[SUGGEST_ALSO_MAX]; /* other names of its addresses, ", "-separated */
	bool also_cut;
};

/* A name the session resolved to an address (a `resolved` record). */
struct resolved {
	struct ldm_event_addr addr;
	char name[LDM_MAX_HOST_LEN + 1];
};

struct draft {
	uint64_t session;
	bool started;
	char policy[LDM_EVENT_POLICY_MAX + 1], app[LDM_EVENT_APP_MAX + 1], start[32];
	char user[LDM_EVENT_USER_MAX + 1];
	uint32_t uid;
	struct draft_rule *rules;
	size_t n_rules;
	char **names; /* looked up only: dns_allow */
	size_t n_names;
	struct resolved *resolved;
	size_t n_resolved;
	uint64_t resolved_dropped; /* past SUGGEST_MAX_RESOLVED */
	uint64_t skipped;
	uint64_t dbus; /* connects to a D-Bus bus ldm-run withheld: a dbus rule's business */
	struct ldmctl_suggest_writes writes;
};

static void
suggest_usage(FILE *f)
{
	fputs("Usage: ldmctl suggest SESSION [--name NAME] [--home DIR] [--log FILE]...\n"
	      "\n"
	      "Writes a policy draft from what session SESSION tried, as its log records say:\n"
	      "one commented allow rule per destination (by host name where the app looked one\n"
	      "up, with the ports it used), the names it only looked up (dns_allow), one unix\n"
	      "rule per local socket it tried, and a write list of the directories it wrote\n"
	      "outside the default scope. An address the session resolved several names to\n"
	      "gets a rule for each name. Writes to shell start files, autostart entries, user\n"
	      "units and the like, and entries as wide as the home directory, are listed as\n"
	      "not suggested. Run the app once under an audit-mode policy (ldm-run --policy\n"
	      "audit, or --audit where the policy allows it) so that every flow is let through\n"
	      "and recorded; local sockets and writes are refused in every mode, and logged.\n"
	      "The draft passes 'ldmctl check'; review every rule before installing it.\n"
	      "  --name NAME   the draft's name (default: suggested-SESSION)\n"
	      "  --home DIR    the home directory (%h) of the session's user (default: the\n"
	      "                passwd entry of that user here, if it has the session's uid)\n"
	      "  --log FILE    a log file to read, in order (repeatable; - is standard input).\n"
	      "                Default: the rotated files of " LDMCTL_LOG_DEFAULT ",\n"
	      "                oldest first, then the file itself\n"
	      "\n"
	      "Exit status: 0 a draft was written, 1 the session is not in the log or the log\n"
	      "cannot be read, 2 usage error.\n",
	      f);
}

/* Copies S into BUF keeping only characters safe inside a libconfig string or comment. */
static void
safe_copy(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < size; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') ? *s : '?';
	buf[n] = '\0';
}

static struct draft_rule *
find_rule(struct draft *d, enum ldm_proto proto, bool is_host, const char *peer, uint16_t port)
{
	struct draft_rule *r;

	for (size_t i = 0; i < d->n_rules; i++) {
		r = &d->rules[i];
		if (r->proto != proto || r->is_host != is_host || strcmp(r->peer, peer) != 0)
			continue;
		if (port == 0)
			return r; /* icmp, a local socket: no ports */
		for (size_t k = 0; k < r->n_ports; k++)
			if (r->ports[k] == port)
				return r;
		if (r->n_ports < SUGGEST_MAX_PORTS) {
			r->ports[r->n_ports++] = port;
			return r;
		}
	}
	if (d->n_rules >= SUGGEST_MAX_RULES)
		return NULL;
	r = reallocarray(d->rules, d->n_rules + 1, sizeof(*r));
	if (r == NULL)
		return NULL;
	d->rules = r;
	r = &d->rules[d->n_rules++];
	*r = (struct draft_rule){ .proto = proto, .is_host = is_host };
	memcpy(r->peer, peer, strlen(peer) + 1);
	if (port != 0)
		r->ports[r->n_ports++] = port;
	return r;
}

static void
add_name(struct draft *d, const char *name)
{
	char **v;

	for (size_t i = 0; i < d->n_names; i++)
		if (strcmp(d->names[i], name) == 0)
			return;
	if (d->n_names >= SUGGEST_MAX_RULES)
		return;
	v = reallocarray(d->names, d->n_names + 1, sizeof(*v));
	if (v == NULL)
		return;
	d->names = v;
	if ((v[d->n_names] = strdup(name)) != NULL)
		d->n_names++;
}

static bool
same_addr(const struct ldm_event_addr *a, const struct ldm_event_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* A `resolved` record of the session: remembered for the attempts that follow. */
static void
take_resolved(struct draft *d, const struct ldm_event *e)
{
	char name[LDM_MAX_HOST_LEN + 1];
	struct resolved *v;

	if (e->host == NULL || (e->dst.family != AF_INET && e->dst.family != AF_INET6) ||
	    ldm_host_name_normalize(e->host, name, sizeof(name)) < 0)
		return; /* a folded "*.domain" or no DNS name: nothing a rule could name */
	add_name(d, name);
	for (size_t i = 0; i < d->n_resolved; i++)
		if (same_addr(&d->resolved[i].addr, &e->dst) &&
		    strcmp(d->resolved[i].name, name) == 0)
			return;
	if (d->n_resolved >= SUGGEST_MAX_RESOLVED ||
	    (v = reallocarray(d->resolved, d->n_resolved + 1, sizeof(*v))) == NULL) {
		d->resolved_dropped++;
		return;
	}
	d->resolved = v;
	v = &d->resolved[d->n_resolved++];
	v->addr = e->dst;
	memcpy(v->name, name, strlen(name) + 1);
}

/* Adds NAME to R's list of the other names of its addresses (once; cut when full). */
static void
add_also(struct draft_rule *r, const char *name)
{
	size_t len = strlen(r->also), n = strlen(name);
	const char *at = r->also;

	if (strcmp(r->peer, name) == 0)
		return;
	while ((at = strstr(at, name)) != NULL) {
		if ((at == r->also || at[-1] == ' ') && (at[n] == ',' || at[n] == '\0'))
			return;
		at += n;
	}
	if (len + n + 3 > sizeof(r->also)) {
		r->also_cut = true;
		return;
	}
	(void)snprintf(r->also + len, sizeof(r->also) - len, "%s%s", len ? ", " : "", name);
}

/* The names of E's destination: E's own, then those the session resolved to it before. */
static size_t
dest_names(const struct draft *d, const struct ldm_event *e, const char *host, const char **names,
           size_t max)
{
	size_t n = 0;

	if (host != NULL)
		names[n++] = host;
	for (size_t i = 0; i < d->n_resolved && n < max; i++)
		if (same_addr(&d->resolved[i].addr, &e->dst) &&
		    (host == NULL || strcmp(d->resolved[i].name, host) != 0))
			names[n++] = d->resolved[i].name;
	return n;
}

/* Counts attempt E into the rule for PEER; returns it (valid until the next find_rule()),
 * or NULL when no rule could take it. */
static struct draft_rule *
count_into(struct draft *d, const struct ldm_event *e, bool is_host, const char *peer,
           const char *label)
{
	struct draft_rule *r =
	        find_rule(d, e->proto, is_host, peer, e->proto == LDM_PROTO_ICMP ? 0 : e->dport);

	if (r == NULL)
		return NULL;
	r->count += e->count != 0 ? e->count : 1;
	if (label != NULL && r->label[0] == '\0')
		safe_copy(r->label, sizeof(r->label), label);
	return r;
}

/* A local socket's target as a rule's `to` into BUF: "@name" as is, a path with '%' as "%%".
 * Returns 0, or -EINVAL when a rule cannot name it (ldm_unix_rule_check) or it holds a
 * character that could end a libconfig string. */
static int
unix_to(const char *target, char *buf, size_t size)
{
	const char *why;
	size_t n = 0;

	for (const char *p = target; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\' || n + 3 > size)
			return -EINVAL;
		if (*p == '%' && target[0] == '/')
			buf[n++] = '%';
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return ldm_unix_rule_check(buf, &why) < 0 ? -EINVAL : 0;
}

/* A refused connect() to a local socket: one unix rule per path or @name. ldm-run's own
 * stand-ins for the D-Bus buses it withholds (below /dev/null) are counted apart: a dbus
 * rule, not a unix one, gives a bus. */
static void
take_unix(struct draft *d, const struct ldm_event *e)
{
	char to[LDM_MAX_HOST_LEN + 1];
	struct draft_rule *r;
	uint64_t n = e->count != 0 ? e->count : 1;

	if (e->sock != NULL && strncmp(e->sock, "/dev/null/", 10) == 0) {
		d->dbus += n;
		return;
	}
	if (e->sock == NULL || unix_to(e->sock, to, sizeof(to)) < 0 ||
	    (r = find_rule(d, LDM_PROTO_UNIX, false, to, 0)) == NULL) {
		d->skipped++;
		return;
	}
	r->count += n;
}

/* A blocked or would_block record of the session becomes part of a rule: one for each
 * name of its destination, or one for its address when it has none. */
static void
take_attempt(struct draft *d, const struct ldm_event *e)
{
	char host[LDM_MAX_HOST_LEN + 1], addr[INET6_ADDRSTRLEN];
	const char *names[SUGGEST_MAX_DEST_NAMES];
	bool query = e->reason != NULL && strncmp(e->reason, "DNS query", 9) == 0;
	size_t n;

	if (e->proto == LDM_PROTO_UNIX) {
		take_unix(d, e);
		return;
	}
	if (e->host != NULL && ldm_host_name_normalize(e->host, host, sizeof(host)) < 0) {
		d->skipped++; /* not a DNS name: nothing a rule could name */
		return;
	}
	if (query) {
		if (e->host != NULL)
			add_name(d, host);
		return;
	}
	if (e->proto != LDM_PROTO_TCP && e->proto != LDM_PROTO_UDP && e->proto != LDM_PROTO_ICMP) {
		d->skipped++;
		return;
	}
	n = dest_names(d, e, e->host != NULL ? host : NULL, names, ELEMENTSOF(names));
	if (n == 0) {
		if (e->dst.family == 0 ||
		    inet_ntop(e->dst.family, e->dst.addr, addr, sizeof(addr)) == NULL ||
		    count_into(d, e, false, addr, e->label) == NULL)
			d->skipped++;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct draft_rule *r = count_into(d, e, true, names[i], i == 0 ? e->label : NULL);

		if (r == NULL) {
			d->skipped++;
			return;
		}
		for (size_t k = 0; k < n; k++)
			add_also(r, names[k]);
	}
}

static void
on_line(void *u, const char *file, unsigned long lineno, const char *line, size_t len,
        bool too_long)
{
	struct draft *d = u;
	struct ldm_event_view v;
	const struct ldm_event *e = &v.ev;

	(void)file;
	(void)lineno;
	if (too_long || ldm_event_parse_json(line, len, &v) < 0 || e->session != d->session)
		return;
	if (e->event == LDM_EVENT_SESSION_START) {
		d->started = true;
		safe_copy(d->policy, sizeof(d->policy), e->policy);
		safe_copy(d->app, sizeof(d->app), e->app);
		(void)snprintf(d->start, sizeof(d->start), "%lld", (long long)e->ts.tv_sec);
		(void)ldm_strscpy(d->user, sizeof(d->user), e->user != NULL ? e->user : "");
		d->uid = e->uid;
	} else if (d->started &&
	           (e->event == LDM_EVENT_BLOCKED || e->event == LDM_EVENT_WOULD_BLOCK)) {
		take_attempt(d, e);
	} else if (d->started && e->event == LDM_EVENT_RESOLVED) {
		take_resolved(d, e);
	} else if (d->started && e->event == LDM_EVENT_SYSCALL_DENIED) {
		ldmctl_suggest_write_take(&d->writes, e);
	}
}

static int
by_port(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

static bool
name_covered(const struct draft *d, const char *name)
{
	for (size_t i = 0; i < d->n_rules; i++)
		if (d->rules[i].is_host && strcmp(d->rules[i].peer, name) == 0)
			return true;
	return false;
}

static void
print_rule(const struct draft_rule *r, bool last)
{
	printf("  { proto = \"%s\"; %s = \"%s\";", ldm_proto_name(r->proto),
	       r->is_host ? "host" : "to", r->peer);
	if (r->n_ports > 0) {
		fputs(" ports = \"", stdout);
		for (size_t k = 0; k < r->n_ports; k++)
			printf("%s%u", k ? "," : "", r->ports[k]);
		putchar('"');
		putchar(';');
	}
	printf(" comment = \"%s%s%" PRIu64 " attempt%s", r->label, r->label[0] != '\0' ? ": " : "",
	       r->count, r->count == 1 ? "" : "s");
	if (r->also[0] != '\0')
		printf("; its address also resolved from %s%s", r->also,
		       r->also_cut ? ", ..." : "");
	printf("\"; }%s\n", last ? "" : ",");
}

/* The home directory of the session's user: HOME_OPT (--home), else this machine's passwd
 * entry of the session's user if it has the session's uid; normalized into BUF. NULL when
 * unknown: then no write entry is suggested (none can be judged against it). */
static const char *
session_home(const struct draft *d, const char *home_opt, char *buf, size_t size)
{
	const struct passwd *pw = NULL;

	if (home_opt == NULL) {
		if (d->user[0] == '\0' || d->uid == LDM_EVENT_UID_NONE)
			return NULL;
		pw = getpwnam(d->user);
		if (pw == NULL || pw->pw_uid != d->uid || pw->pw_dir == NULL)
			return NULL;
	}
	if (ldm_path_normalize(home_opt != NULL ? home_opt : pw->pw_dir, buf, size) < 0)
		return NULL;
	return buf;
}

static void
print_local(const struct draft *d, const char *home, bool home_given)
{
	if (d->dbus != 0)
		printf("# %" PRIu64 " connects to a D-Bus bus that ldm-run withheld: a rule\n"
		       "# { proto = \"dbus\"; bus = ...; name = ...; } names a service it may "
		       "call.\n",
		       d->dbus);
	if (d->writes.n != 0 && home != NULL) {
		char user[LDM_EVENT_USER_MAX + 1];

		safe_copy(user, sizeof(user), d->user);
		printf("# The home directory (%%h) of user %s taken as %s (%s).\n", user, home,
		       home_given ? "--home" : "its passwd entry here");
	}
	ldmctl_suggest_write_print(&d->writes, home, stdout);
}

static bool
runtime_paths(const struct draft *d)
{
	for (size_t i = 0; i < d->n_rules; i++)
		if (d->rules[i].proto == LDM_PROTO_UNIX &&
		    strncmp(d->rules[i].peer, "/run/user/", 10) == 0)
			return true;
	return false;
}

static void
print_draft(struct draft *d, const char *name)
{
	size_t dns = 0;

	for (size_t i = 0; i < d->n_rules; i++)
		qsort(d->rules[i].ports, d->rules[i].n_ports, sizeof(uint16_t), by_port);
	printf("# A draft from session %" PRIu64 " (policy %s, program %s).\n"
	       "# Each rule allows what the program tried in that session: review every one,\n"
	       "# narrow it (a host instead of an address, fewer ports) or remove it, then\n"
	       "# install the file as /etc/ldm/policies/%s.conf.\n",
	       d->session, d->policy, d->app, name);
	if (d->skipped != 0)
		printf("# %" PRIu64 " attempts could not become rules (no DNS name, an address or "
		       "protocol a rule cannot name): see ldmctl log %" PRIu64 ".\n",
		       d->skipped, d->session);
	if (d->resolved_dropped != 0)
		printf("# %" PRIu64 " resolved names past the first %d were not used.\n",
		       d->resolved_dropped, SUGGEST_MAX_RESOLVED);
	printf("name = \"%s\";\ndescription = \"Drafted by ldmctl suggest from session %" PRIu64
	       "\";\nmode = \"enforce\";\n",
	       name, d->session);
	if (runtime_paths(d))
		puts("# Sockets below /run/user/UID are named literally: the log does not say the\n"
		     "# session's $XDG_RUNTIME_DIR. Where it is that directory, write %t/... "
		     "instead.");
	if (d->n_rules > 0) {
		puts("allow = (");
		for (size_t i = 0; i < d->n_rules; i++)
			print_rule(&d->rules[i], i + 1 == d->n_rules);
		puts(");");
	}
	for (size_t i = 0; i < d->n_names; i++)
		dns += !name_covered(d, d->names[i]);
	if (dns > 0) {
		puts("# Names the program looked up without connecting to them:");
		fputs("dns_allow = [", stdout);
		for (size_t i = 0, k = 0; i < d->n_names; i++)
			if (!name_covered(d, d->names[i]))
				printf("%s\"%s\"", k++ ? ", " : " ", d->names[i]);
		puts(" ];");
	}
}

static void
draft_clear(struct draft *d)
{
	ldmctl_suggest_write_clear(&d->writes);
	for (size_t i = 0; i < d->n_names; i++)
		free(d->names[i]);
	free(d->names);
	free(d->rules);
	free(d->resolved);
}

struct suggest_args {
	char name[LDM_MAX_NAME_LEN + 1];
	const char *home; /* --home, or NULL */
	struct ldmctl_logfiles *files;
};

/* Takes option C (getopt's OPTARG). Returns -1 to go on, else the exit code. */
static int
suggest_option(struct ldmctl_ctx *ctx, struct suggest_args *a, int c)
{
	int r;

	if (c == 'n') {
		if (!ldm_policy_name_valid(optarg))
			return ldmctl_usage_error("suggest",
			                          "--name '%s' is not a policy name "
			                          "([a-z0-9][a-z0-9_-]*)",
			                          optarg);
		(void)ldm_strscpy(a->name, sizeof(a->name), optarg);
	} else if (c == 'L') {
		if (optarg[0] == '\0' || ldmctl_logfiles_add(a->files, optarg) < 0)
			return ldmctl_usage_error("suggest", "--log needs a file");
	} else if (c == 'H') {
		if (optarg[0] != '/' || strlen(optarg) >= LDM_PATH_PATTERN_MAX)
			return ldmctl_usage_error("suggest", "--home needs an absolute path");
		a->home = optarg;
	} else if (c == '?') {
		return ldmctl_usage_hint("suggest");
	} else {
		r = ldmctl_common_option(ctx, c, optarg);
		if (r == 1) {
			suggest_usage(stdout);
			return LDMCTL_EXIT_OK;
		}
		if (r < 0)
			return LDMCTL_EXIT_USAGE;
	}
	return -1;
}

int
ldmctl_suggest(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "name", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'L' },
		{ "home", required_argument, NULL, 'H' },
		{},
	};
	static struct ldmctl_logfiles files;
	static struct draft d;
	struct suggest_args a = { .files = &files };
	char home[LDM_PATH_PATTERN_MAX];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1)
		if ((r = suggest_option(ctx, &a, c)) >= 0)
			return r;
	if (argc - optind != 1 || ldm_parse_u64(argv[optind], UINT64_MAX, &d.session) < 0 ||
	    d.session == 0)
		return ldmctl_usage_error("suggest", "give one SESSION number");
	if (a.name[0] == '\0')
		(void)snprintf(a.name, sizeof(a.name), "suggested-%" PRIu64, d.session);
	r = files.n == 0 ? ldmctl_logfiles_default(&files, LDMCTL_LOG_DEFAULT) : 0;
	if (r == 0)
		r = ldmctl_logfiles_read(&files, "suggest", on_line, &d);
	ldmctl_logfiles_clear(&files);
	if (!d.started) {
		ldmctl_err("suggest: session %" PRIu64 " is not in the log", d.session);
		draft_clear(&d);
		return LDMCTL_EXIT_FAIL;
	}
	print_draft(&d, a.name);
	print_local(&d, session_home(&d, a.home, home, sizeof(home)), a.home != NULL);
	draft_clear(&d);
	return r < 0 ? LDMCTL_EXIT_FAIL : LDMCTL_EXIT_OK;
}
