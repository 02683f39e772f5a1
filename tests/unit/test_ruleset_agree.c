/*
 * Kernel and enforcer agree: a packet that a compiled allow rule accepts in the kernel is
 * one the evaluator allows too. The ruleset text of a policy with every kind of rule is
 * read back line by line (a small matcher for what ldm_ruleset_build writes: --ctdir, -d,
 * -o, -p, --dport(s)/--sport(s)); many flows (addresses in and around every prefix, every
 * interface, the machine's own addresses through lo) are matched against it and judged by
 * ldm_policy_judge() with the same routing facts. Flows a deny or DNS line queues first
 * never reach an allow line and are skipped, as in the kernel.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "ruleset.h"

static const char policy_text[] =
        "name = \"agree\";\n"
        "allow = (\n"
        "  { proto = \"udp\"; to = \"lan\"; ports = \"14550-14551\" },\n"
        "  { proto = \"udp\"; from = \"lan\"; direction = \"in\"; ports = \"14550\" },\n"
        "  { proto = \"udp\"; to = \"broadcast\"; ports = \"14550-14551\" },\n"
        "  { proto = \"udp\"; to = \"192.168.144.0/24\" },\n"
        "  { proto = \"tcp\"; to = \"private\"; ports = \"22,80\" },\n"
        "  { proto = \"udp\"; to = \"10.1.0.0/16\"; ports = \"100-200\" },\n"
        "  { proto = \"tcp\"; to = \"198.51.100.7\"; ports = \"443\" },\n"
        "  { proto = \"any\"; to = \"loopback\"; ports = \"5760\" },\n"
        "  { proto = \"icmp\"; to = \"203.0.113.0/24\" },\n"
        "  { proto = \"tcp\"; from = \"2001:db8:1::/48\"; direction = \"in\"; ports = \"8080\" },\n"
        "  { proto = \"udp\"; to = \"2001:db8:144::/64\"; ports = \"14550\" },\n"
        "  { proto = \"udp\"; to = \"multicast\"; ports = \"5353\" }\n"
        ");\n"
        "deny = ( { to = \"192.168.144.99\"; proto = \"udp\" } );\n";

/* Interfaces: lo 1, veth-drone 3, veth-wan 4, wg0 5, eth9 6 (a route behind a gateway). */
static const char *const ifnames[] = { "", "lo", "", "veth-drone", "veth-wan", "wg0", "eth9" };

static const struct {
	const char *prefix;
	int ifindex;
	enum ldm_route_kind kind;
} facts[] = {
	{ "192.168.144.0/24", 3, LDM_ROUTE_LINK },     { "2001:db8:144::/64", 3, LDM_ROUTE_LINK },
	{ "203.0.113.0/24", 4, LDM_ROUTE_UPLINK },     { "2001:db8:1::/64", 4, LDM_ROUTE_UPLINK },
	{ "0.0.0.0/0", 4, LDM_ROUTE_DEFAULT },         { "::/0", 4, LDM_ROUTE_DEFAULT },
	{ "10.9.9.0/31", 5, LDM_ROUTE_LINK },          { "10.1.0.0/16", 6, LDM_ROUTE_VIA },
	{ "192.168.144.1/32", 0, LDM_ROUTE_LOCAL },    { "203.0.113.2/32", 0, LDM_ROUTE_LOCAL },
	{ "2001:db8:144::1/128", 0, LDM_ROUTE_LOCAL },
};

/* Addresses to try: in, at the edges of, and around every prefix above and in the policy. */
static const char *const addrs[] = {
	"192.168.144.1",   "192.168.144.10",  "192.168.144.99",
	"192.168.144.255", "192.168.145.1",   "192.168.1.1",
	"203.0.113.1",     "203.0.113.2",     "203.0.113.255",
	"10.9.9.0",        "10.9.9.1",        "10.9.9.2",
	"10.1.0.1",        "10.1.255.255",    "10.2.0.1",
	"172.16.0.1",      "198.51.100.7",    "198.51.100.8",
	"127.0.0.1",       "255.255.255.255", "224.0.0.251",
	"2001:db8:144::1", "2001:db8:144::7", "2001:db8:1::9",
	"2001:db8:1:2::9", "2001:db8:100::7", "::1",
	"ff02::fb",        "fd00::1",         "::ffff:10.1.0.1",
};

static const uint16_t ports[] = { 22,  53,   80,   100,  150,   200,  201,
	                          443, 5353, 5760, 8080, 14550, 14551 };

struct line {
	bool reply, allow;
	struct ldm_prefix dst;
	bool has_dst;
	char oif[LDM_IFNAME_MAX];
	int proto; /* -1 any */
	struct {
		uint16_t lo, hi;
	} ports[16];
	size_t n_ports;
	bool sport;
};

static int
proto_of(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return LDM_PROTO_TCP;
	if (strcmp(s, "udp") == 0)
		return LDM_PROTO_UDP;
	if (strcmp(s, "icmp") == 0 || strcmp(s, "ipv6-icmp") == 0)
		return LDM_PROTO_ICMP;
	fail_msg("protocol '%s'", s);
	return -1;
}

static void
parse_ports(struct line *l, char *list)
{
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		unsigned lo, hi;

		if (sscanf(tok, "%u:%u", &lo, &hi) != 2)
			hi = lo = (unsigned)strtoul(tok, NULL, 10);
		assert_true(l->n_ports < 16);
		l->ports[l->n_ports].lo = (uint16_t)lo;
		l->ports[l->n_ports++].hi = (uint16_t)hi;
	}
}

/* One "-A LDM-S1 ..." line ending in -j LDM-A1 (allow) or -j LDM-Q1 (queued first). */
static bool
parse_line(char *s, struct line *l)
{
	char *tok[64];
	size_t n = 0;
	const char *target;

	*l = (struct line){ .proto = -1 };
	for (char *t = strtok(s, " "); t != NULL && n < 64; t = strtok(NULL, " "))
		tok[n++] = t;
	if (n < 4 || strcmp(tok[0], "-A") != 0 || strcmp(tok[1], "LDM-S1") != 0)
		return false;
	target = tok[n - 1];
	if (strcmp(target, "LDM-A1") != 0 && strcmp(target, "LDM-Q1") != 0)
		return false;
	l->allow = strcmp(target, "LDM-A1") == 0;
	for (size_t i = 2; i + 1 < n; i++) {
		if (strcmp(tok[i], "--ctdir") == 0)
			l->reply = strcmp(tok[++i], "REPLY") == 0;
		else if (strcmp(tok[i], "-d") == 0)
			l->has_dst = ldm_prefix_parse(tok[++i], &l->dst) == 0;
		else if (strcmp(tok[i], "-o") == 0)
			(void)ldm_strscpy(l->oif, sizeof(l->oif), tok[++i]);
		else if (strcmp(tok[i], "-p") == 0)
			l->proto = proto_of(tok[++i]);
		else if (strcmp(tok[i], "--dport") == 0 || strcmp(tok[i], "--dports") == 0 ||
		         strcmp(tok[i], "--sport") == 0 || strcmp(tok[i], "--sports") == 0) {
			l->sport = tok[i][2] == 's';
			parse_ports(l, tok[++i]);
		} else if (strcmp(tok[i], "--ctstate") == 0 || strcmp(tok[i], "--mark") == 0) {
			return false; /* the approval and INVALID lines */
		}
	}
	return true;
}

/* A packet of FLOW out through IFINDEX: the peer is its destination; the port its
 * destination port (out) or source port (in, the app's local port). */
static bool
line_matches(const struct line *l, const struct ldm_flow *f, int ifindex, bool reply_dir,
             bool check_dir)
{
	if (check_dir && l->reply != reply_dir)
		return false;
	if (l->has_dst && !ldm_prefix_contains(&l->dst, f->family, f->addr))
		return false;
	if (l->oif[0] != '\0' && strcmp(l->oif, ifnames[ifindex]) != 0)
		return false;
	if (l->proto >= 0 && l->proto != (int)f->proto)
		return false;
	if (l->n_ports > 0) {
		bool hit = false;

		if (f->proto != LDM_PROTO_TCP && f->proto != LDM_PROTO_UDP)
			return false;
		if (l->sport != reply_dir)
			return false; /* --sport lines are reply lines, --dport original ones */
		for (size_t i = 0; i < l->n_ports; i++)
			hit = hit || (f->port >= l->ports[i].lo && f->port <= l->ports[i].hi);
		return hit;
	}
	return true;
}

static void
check_family(struct ldm_policy *p, int family, const struct ldm_lan *lan,
             const struct ldm_rs_lan *rs, size_t n_rs, size_t *ret_matched)
{
	struct ldm_marks marks;
	struct ldm_rs_session s = { 1, 1, "ldm/s1", p };
	struct ldm_rs_input in = { .family = family,
		                   .marks = &marks,
		                   .queue = 1,
		                   .root = "ldm",
		                   .sessions = &s,
		                   .n_sessions = 1,
		                   .lan = rs,
		                   .n_lan = n_rs };
	struct line lines[256];
	size_t n_lines = 0;
	char *text = NULL, *save = NULL;

	assert_int_equal(ldm_marks_init(LDM_DEFAULT_MARK_MASK, &marks), 0);
	assert_int_equal(ldm_ruleset_build(&in, &text), 0);
	for (char *ln = strtok_r(text, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save))
		if (n_lines < 256 && parse_line(ln, &lines[n_lines]))
			n_lines++;
	free(text);
	for (size_t a = 0; a < ELEMENTSOF(addrs); a++) {
		struct ldm_flow f = { 0 };

		if (ldm_addr_parse(addrs[a], &f.family, f.addr) < 0)
			fail_msg("%s", addrs[a]);
		if (f.family != family)
			continue;
		for (int proto = LDM_PROTO_TCP; proto <= LDM_PROTO_ICMP; proto++) {
			for (size_t pi = 0; pi < ELEMENTSOF(ports); pi++) {
				for (int dir = 0; dir < 2; dir++) {
					for (int ifx = 1; ifx < (int)ELEMENTSOF(ifnames); ifx++) {
						bool local = false, queued = false,
						     accepted = false;
						struct ldm_verdict v;

						if (ifnames[ifx][0] == '\0')
							continue;
						f.proto = (enum ldm_proto)proto;
						f.port = proto == LDM_PROTO_ICMP ? 0 : ports[pi];
						f.dir = dir ? LDM_DIR_IN : LDM_DIR_OUT;
						f.ifindex = ifx;
						for (size_t k = 0; k < lan->n; k++)
							local = local ||
							        (lan->v[k].kind ==
							                 LDM_ROUTE_LOCAL &&
							         ldm_prefix_contains(
							                 &lan->v[k].prefix,
							                 f.family, f.addr));
						/* This machine's own addresses go out lo, nothing else does. */
						if (local != (ifx == 1))
							continue;
						/* The chain in order: the first line that matches decides. */
						for (size_t i = 0;
						     i < n_lines && !queued && !accepted; i++) {
							bool m = line_matches(&lines[i], &f, ifx,
							                      dir == 1,
							                      lines[i].allow);

							if (m && lines[i].allow)
								accepted = true;
							else if (m)
								queued = true;
						}
						if (!queued && !dir &&
						    (proto == LDM_PROTO_TCP ||
						     proto == LDM_PROTO_UDP) &&
						    f.port == 53)
							continue; /* DNS lines queue it (they come first) */
						if (!accepted)
							continue;
						(*ret_matched)++;
						assert_int_equal(ldm_policy_judge(p, &f, lan, &v),
						                 0);
						if (!v.allow)
							fail_msg("the kernel accepts %s %s port %u "
							         "%s via %s; "
							         "the evaluator blocks it",
							         ldm_proto_name(f.proto), addrs[a],
							         f.port, dir ? "in" : "out",
							         ifnames[ifx]);
					}
				}
			}
		}
	}
}

static void
test_agree(void **state)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };
	struct ldm_policy *p = NULL;
	struct ldm_lan_entry e[ELEMENTSOF(facts)];
	struct ldm_rs_lan rs[ELEMENTSOF(facts)];
	struct ldm_lan lan = { e, ELEMENTSOF(facts) };
	size_t matched = 0;

	(void)state;
	assert_int_equal(
	        ldm_policy_load_buffer(policy_text, strlen(policy_text), "agree.conf", &o, &p, &d),
	        0);
	for (size_t i = 0; i < ELEMENTSOF(facts); i++) {
		assert_int_equal(ldm_prefix_parse(facts[i].prefix, &e[i].prefix), 0);
		e[i].ifindex = facts[i].ifindex;
		e[i].kind = facts[i].kind;
		rs[i] = (struct ldm_rs_lan){ .prefix = e[i].prefix, .kind = facts[i].kind };
		(void)ldm_strscpy(rs[i].ifname, sizeof(rs[i].ifname), ifnames[facts[i].ifindex]);
	}
	check_family(p, AF_INET, &lan, rs, ELEMENTSOF(rs), &matched);
	check_family(p, AF_INET6, &lan, rs, ELEMENTSOF(rs), &matched);
	/* The test means something only if the kernel rules accept a good share of flows. */
	print_message("%zu flows accepted by compiled rules, all allowed by the evaluator\n",
	              matched);
	assert_true(matched > 100);
	ldm_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
