/*
 * The kernel ruleset as iptables-restore text (the layout is described in ruleset.h).
 *
 * Pure: the input is validated in full first, then the text is written into a growing buffer
 * whose first allocation failure sticks, so that the only failure after validation is
 * -ENOMEM and no caller ever sees a partial text.
 *
 * Matching choices, so that the kernel never accepts what the evaluator would block:
 * - Allow rules of direction "in" match the app's replies as -m conntrack --ctdir REPLY
 *   -d PEER --sport PORT: the peer is the reply's destination and the port its source port,
 *   the app's local port, exactly what ldm_policy_judge() gets for an IN flow. (--ctorigsrc
 *   with --ctorigdstport says the same without NAT; --sport is the port the app really uses.)
 * - Deny rules only need to catch at least what the evaluator denies (the enforcer judges
 *   what they queue), so they match the peer address and protocol only: no ports, no
 *   direction, no interface.
 * - An ICMP allow rule with ports never matches in the evaluator and is not compiled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "ruleset.h"

#define CGROUP_PATH_MAX 4095 /* xt_cgroup's path[4096] */
#define CHAIN_NAME_MAX  28   /* iptables' XT_EXTENSION_MAXNAMELEN - 1 */
#define MULTIPORT_MAX   15   /* xt_multiport: XT_MULTI_PORTS, a range counts twice */
#define PORT_SPEC_MAX   256
#define CHAIN_BUF       32

/* The text being written; ERR sticks at the first allocation failure. */
struct text {
	char *s;
	size_t len, cap;
	int err;
};

/* One compiled peer: an address prefix and, for lan entries, the interface (NULL: any). */
struct peer {
	struct ldm_prefix prefix;
	const char *ifname;
};

struct ctx {
	const struct ldm_rs_input *in;
	struct text *t;
	const struct ldm_rs_session *s; /* the session being written */
};

typedef void (*peer_fn)(struct ctx *c, const struct ldm_rule *r, const struct peer *p);

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->err = -EINVAL;
		return;
	}
	if ((size_t)n >= t->cap - t->len) {
		size_t cap =
		        t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		char *s = realloc(t->s, cap);

		if (s == NULL) {
			t->err = -ENOMEM;
			return;
		}
		t->s = s;
		t->cap = cap;
		va_start(ap, fmt);
		(void)vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

static int
text_init(struct text *t)
{
	*t = (struct text){ .cap = 4096 };
	t->s = malloc(t->cap);
	if (t->s == NULL)
		return -ENOMEM;
	t->s[0] = '\0';
	return 0;
}

/* Hands out the text, or frees it and returns its error. */
static int
text_finish(struct text *t, char **ret)
{
	if (t->err != 0) {
		free(t->s);
		return t->err;
	}
	*ret = t->s;
	return 0;
}

/*
 * Cgroup paths and interface names go unquoted into text that iptables-restore splits at
 * blanks: only [A-Za-z0-9._@:/-], never a leading '-' (it would read as an option).
 */
static bool
word_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && strchr("._@:/-", ch) == NULL)
			return false;
	}
	return true;
}

/* Our chains only: "LDM-" and [A-Za-z0-9_-], so that nothing else is ever deleted. */
static bool
chain_name_valid(const char *s)
{
	size_t n = strnlen(s, CHAIN_NAME_MAX + 1);

	if (n <= 4 || n > CHAIN_NAME_MAX || strncmp(s, "LDM-", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-')
			return false;
	}
	return true;
}

static bool
chain_names_valid(const char *const *v, size_t n)
{
	if (n > 0 && v == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] == NULL || !chain_name_valid(v[i]))
			return false;
	return true;
}

/* Is cgroup CG strictly below ROOT? Leading slashes of either are ignored. */
static bool
below_root(const char *cg, const char *root)
{
	size_t n;

	cg += strspn(cg, "/");
	root += strspn(root, "/");
	n = strlen(root);
	if (n == 0)
		return cg[0] != '\0';
	return strncmp(cg, root, n) == 0 && cg[n] == '/' && cg[n + 1] != '\0';
}

static bool
marks_valid(const struct ldm_marks *m)
{
	struct ldm_marks want;

	return m != NULL && ldm_marks_init(m->mask, &want) == 0 &&
	       memcmp(&want, m, sizeof(want)) == 0;
}

static bool
session_valid(const struct ldm_rs_input *in, size_t i)
{
	const struct ldm_rs_session *s = &in->sessions[i];

	if (s->slot < 1 || s->slot > in->marks->max_slots || s->policy == NULL ||
	    s->cgroup == NULL || !word_valid(s->cgroup, CGROUP_PATH_MAX) ||
	    !below_root(s->cgroup, in->root))
		return false;
	for (size_t j = 0; j < i; j++)
		if (in->sessions[j].slot == s->slot)
			return false;
	return true;
}

static bool
lan_valid(const struct ldm_rs_lan *e)
{
	size_t n = strnlen(e->ifname, sizeof(e->ifname));

	if (n == sizeof(e->ifname))
		return false;
	if (n > 0 && !word_valid(e->ifname, sizeof(e->ifname) - 1))
		return false;
	if (e->kind > LDM_ROUTE_LOCAL || (e->kind == LDM_ROUTE_DEFAULT && e->prefix.plen != 0))
		return false;
	if (e->prefix.family == AF_INET)
		return e->prefix.plen <= 32;
	return e->prefix.family == AF_INET6 && e->prefix.plen <= 128;
}

static int
input_validate(const struct ldm_rs_input *in)
{
	if (in == NULL || (in->family != AF_INET && in->family != AF_INET6) ||
	    !marks_valid(in->marks) || in->root == NULL || !word_valid(in->root, CGROUP_PATH_MAX))
		return -EINVAL;
	if ((in->n_sessions > 0 && in->sessions == NULL) || (in->n_lan > 0 && in->lan == NULL))
		return -EINVAL;
	for (size_t i = 0; i < in->n_sessions; i++)
		if (!session_valid(in, i))
			return -EINVAL;
	for (size_t i = 0; i < in->n_lan; i++)
		if (!lan_valid(&in->lan[i]))
			return -EINVAL;
	if (!chain_names_valid(in->old_mangle, in->n_old_mangle) ||
	    !chain_names_valid(in->old_filter, in->n_old_filter))
		return -EINVAL;
	return 0;
}

static const char *
proto_name(const struct ctx *c, enum ldm_proto p)
{
	switch (p) {
	case LDM_PROTO_TCP:
		return "tcp";
	case LDM_PROTO_UDP:
		return "udp";
	case LDM_PROTO_ICMP:
		return c->in->family == AF_INET ? "icmp" : "ipv6-icmp";
	default:
		return NULL;
	}
}

/*
 * One compiled rule: "-A LDM-S<slot> [CTDIR] [-d PEER [-o IF]] [-p PROTO [PORTS]] -m comment
 * -j LDM-<TARGET><slot>". CTDIR and PORTS are match text or NULL.
 */
static void
rule_line(struct ctx *c, const struct ldm_rule *r, const struct peer *p, const char *ctdir,
          const char *proto, const char *ports, char target)
{
	char addr[64];

	put(c->t, "-A LDM-S%u", c->s->slot);
	if (ctdir != NULL)
		put(c->t, " -m conntrack --ctdir %s", ctdir);
	if (p->prefix.plen > 0) {
		if (ldm_prefix_format(&p->prefix, addr, sizeof(addr)) < 0)
			c->t->err = -EINVAL;
		else
			put(c->t, " -d %s", addr);
	}
	if (p->ifname != NULL)
		put(c->t, " -o %s", p->ifname);
	if (proto != NULL)
		put(c->t, " -p %s", proto);
	if (ports != NULL)
		put(c->t, " %s", ports);
	put(c->t, " -m comment --comment \"ldm rule %u\" -j LDM-%c%u\n", r->number, target,
	    c->s->slot);
}

/* A deny rule queues every packet to PEER of its protocol (see the comment at the top). */
static void
deny_peer(struct ctx *c, const struct ldm_rule *r, const struct peer *p)
{
	rule_line(c, r, p, NULL, proto_name(c, r->proto), NULL, 'Q');
}

/*
 * Appends one port or range to SPEC as the next multiport item. Returns how many of the 15
 * multiport slots it takes.
 */
static unsigned
port_item(const struct ldm_port_range *pr, char *spec, size_t size)
{
	size_t len = strlen(spec);
	const char *sep = len > 0 ? "," : "";

	if (pr->lo == pr->hi) {
		(void)snprintf(spec + len, size - len, "%s%u", sep, pr->lo);
		return 1;
	}
	(void)snprintf(spec + len, size - len, "%s%u:%u", sep, pr->lo, pr->hi);
	return 2;
}

/*
 * Allow rule lines for one protocol with ports: as few lines as multiport's 15 slots allow;
 * a line with a single item uses the protocol's own --dport/--sport.
 */
static void
allow_ports(struct ctx *c, const struct ldm_rule *r, const struct peer *p, bool in,
            const char *proto)
{
	const char *ctdir = in ? "REPLY" : "ORIGINAL";
	const char side = in ? 's' : 'd';
	size_t i = 0;

	while (i < r->n_ports) {
		char items[PORT_SPEC_MAX] = "", spec[PORT_SPEC_MAX + 32];
		unsigned used = 0;
		size_t first = i;

		while (i < r->n_ports) {
			unsigned cost = r->ports[i].lo == r->ports[i].hi ? 1 : 2;

			if (used + cost > MULTIPORT_MAX)
				break;
			used += port_item(&r->ports[i], items, sizeof(items));
			i++;
		}
		if (i - first == 1)
			(void)snprintf(spec, sizeof(spec), "--%cport %s", side, items);
		else
			(void)snprintf(spec, sizeof(spec), "-m multiport --%cports %s", side,
			               items);
		rule_line(c, r, p, ctdir, proto, spec, 'A');
	}
}

/* The allow lines of one rule, peer and direction. */
static void
allow_dir(struct ctx *c, const struct ldm_rule *r, const struct peer *p, bool in)
{
	const char *ctdir = in ? "REPLY" : "ORIGINAL";

	switch (r->proto) {
	case LDM_PROTO_ANY:
		if (r->n_ports == 0) {
			rule_line(c, r, p, ctdir, NULL, NULL, 'A');
			return;
		}
		allow_ports(c, r, p, in, "tcp");
		allow_ports(c, r, p, in, "udp");
		return;
	case LDM_PROTO_TCP:
	case LDM_PROTO_UDP:
	case LDM_PROTO_ICMP:
		if (r->n_ports == 0)
			rule_line(c, r, p, ctdir, proto_name(c, r->proto), NULL, 'A');
		else if (r->proto != LDM_PROTO_ICMP)
			allow_ports(c, r, p, in, proto_name(c, r->proto));
		return;
	default:
		return; /* no rule names another protocol */
	}
}

static void
allow_peer(struct ctx *c, const struct ldm_rule *r, const struct peer *p)
{
	if ((r->dir & LDM_DIR_OUT) != 0)
		allow_dir(c, r, p, false);
	if ((r->dir & LDM_DIR_IN) != 0)
		allow_dir(c, r, p, true);
}

/* The subnet broadcast address of an IPv4 prefix of length 30 or less. */
static bool
subnet_broadcast(const struct ldm_prefix *lp, struct ldm_prefix *ret)
{
	if (lp->family != AF_INET || lp->plen > 30)
		return false;
	*ret = (struct ldm_prefix){ .family = AF_INET, .plen = 32 };
	for (unsigned i = 0; i < 4; i++) {
		unsigned bits = lp->plen > i * 8 ? lp->plen - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		ret->addr[i] = (uint8_t)(lp->addr[i] | (uint8_t)~m);
	}
	return true;
}

/*
 * lan: each aircraft-side on-link prefix of this family; broadcast: each IPv4 subnet
 * broadcast address of one. The uplinks' prefixes are never `lan`.
 */
static void
each_lan_peer(struct ctx *c, const struct ldm_rule *r, bool deny, peer_fn fn)
{
	for (size_t i = 0; i < c->in->n_lan; i++) {
		const struct ldm_rs_lan *e = &c->in->lan[i];
		struct peer p = { .ifname = deny || e->ifname[0] == '\0' ? NULL : e->ifname };

		if (e->prefix.family != c->in->family || e->kind != LDM_ROUTE_LINK)
			continue;
		if (r->peer == LDM_PEER_LAN)
			p.prefix = e->prefix;
		else if (!subnet_broadcast(&e->prefix, &p.prefix))
			continue;
		fn(c, r, &p);
	}
}

/* Is prefix IN inside prefix OUT (or equal)? */
static bool
prefix_within(const struct ldm_prefix *in, const struct ldm_prefix *out)
{
	return out->plen <= in->plen && ldm_prefix_contains(out, in->family, in->addr);
}

/* Has an earlier routing entry than I at the same length holding PFX the same name? */
static bool
ifname_seen(const struct ldm_rs_input *in, size_t i, const struct ldm_prefix *pfx, unsigned plen)
{
	for (size_t j = 0; j < i; j++) {
		const struct ldm_rs_lan *e = &in->lan[j];

		if (e->kind != LDM_ROUTE_LOCAL && e->prefix.plen == plen &&
		    prefix_within(pfx, &e->prefix) && strcmp(e->ifname, in->lan[i].ifname) == 0)
			return true;
	}
	return false;
}

/*
 * An allowed address prefix, pinned to the interface of its route, as the evaluator judges
 * it: the longest LINK, UPLINK, VIA or DEFAULT entry holding all of PFX (several of that
 * length: one line each). A prefix with no route, with a route of no interface name, or
 * holding a longer route through another interface, is not compiled: its packets reach the
 * queue and the enforcer decides. A packet to this machine's own address leaves through
 * `lo` and never matches.
 */
static void
pinned_peer(struct ctx *c, const struct ldm_rule *r, const struct ldm_prefix *pfx, peer_fn fn)
{
	const struct ldm_rs_input *in = c->in;
	const char *name = NULL;
	bool one = true;
	int best = -1;

	for (size_t i = 0; i < in->n_lan; i++) {
		const struct ldm_rs_lan *e = &in->lan[i];

		if (e->kind != LDM_ROUTE_LOCAL && prefix_within(pfx, &e->prefix) &&
		    (int)e->prefix.plen > best)
			best = e->prefix.plen;
	}
	if (best < 0)
		return;
	for (size_t i = 0; i < in->n_lan; i++) {
		const struct ldm_rs_lan *e = &in->lan[i];

		if (e->kind == LDM_ROUTE_LOCAL || e->prefix.family != pfx->family)
			continue;
		if ((int)e->prefix.plen == best && prefix_within(pfx, &e->prefix)) {
			if (e->ifname[0] == '\0')
				return;
			one = one && (name == NULL || strcmp(name, e->ifname) == 0);
			name = e->ifname;
		}
	}
	for (size_t i = 0; i < in->n_lan; i++) {
		const struct ldm_rs_lan *e = &in->lan[i];

		if (e->kind == LDM_ROUTE_LOCAL || e->prefix.plen <= pfx->plen ||
		    !prefix_within(&e->prefix, pfx))
			continue;
		if (!one || strcmp(e->ifname, name) != 0)
			return; /* a longer route inside it leaves elsewhere */
	}
	for (size_t i = 0; i < in->n_lan; i++) {
		const struct ldm_rs_lan *e = &in->lan[i];
		struct peer p = { .prefix = *pfx, .ifname = e->ifname };

		if (e->kind == LDM_ROUTE_LOCAL || (int)e->prefix.plen != best ||
		    !prefix_within(pfx, &e->prefix) || ifname_seen(in, i, pfx, (unsigned)best))
			continue;
		fn(c, r, &p);
	}
}

/* The limited broadcast, allowed: one line per aircraft-side (LINK) interface. */
static void
lbcast_peer(struct ctx *c, const struct ldm_rule *r, const struct ldm_prefix *pfx, peer_fn fn)
{
	const struct ldm_rs_input *in = c->in;

	for (size_t i = 0; i < in->n_lan; i++) {
		const struct ldm_rs_lan *e = &in->lan[i];
		struct peer p = { .prefix = *pfx, .ifname = e->ifname };
		bool seen = false;

		if (e->kind != LDM_ROUTE_LINK || e->prefix.family != AF_INET ||
		    e->ifname[0] == '\0')
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = in->lan[j].kind == LDM_ROUTE_LINK &&
			       in->lan[j].prefix.family == AF_INET &&
			       strcmp(in->lan[j].ifname, e->ifname) == 0;
		if (!seen)
			fn(c, r, &p);
	}
}

/* Calls FN for every address prefix rule R names in this family (none for host rules). */
static int
each_peer(struct ctx *c, const struct ldm_rule *r, bool deny, peer_fn fn)
{
	struct peer p = { .prefix = { .family = (uint8_t)c->in->family } };

	switch (r->peer) {
	case LDM_PEER_CIDR:
		if (r->prefix.family != c->in->family)
			return 0;
		p.prefix = r->prefix;
		if (deny)
			fn(c, r, &p);
		else
			pinned_peer(c, r, &p.prefix, fn);
		return 0;
	case LDM_PEER_HOST:
	case LDM_PEER_UNIX: /* a local socket: no address, ldm-run judges it */
		return 0;
	case LDM_PEER_ANY:
		if (deny) /* every address: plen 0 writes no -d */
			fn(c, r, &p);
		return 0;
	case LDM_PEER_LAN:
		each_lan_peer(c, r, deny, fn);
		return 0;
	default:
		break;
	}
	struct ldm_prefix kp[LDM_KEYWORD_PREFIXES_MAX];
	int n = ldm_peer_keyword_prefixes(r->peer, kp, ELEMENTSOF(kp));

	if (n < 0)
		return n;
	for (int k = 0; k < n; k++) {
		p.prefix = kp[k];
		if (p.prefix.family != c->in->family)
			continue;
		if (deny)
			fn(c, r, &p);
		else if (r->peer == LDM_PEER_PRIVATE)
			pinned_peer(c, r, &p.prefix, fn);
		else if (r->peer == LDM_PEER_BROADCAST)
			lbcast_peer(c, r, &p.prefix, fn);
		else
			fn(c, r, &p);
	}
	if (r->peer == LDM_PEER_BROADCAST)
		each_lan_peer(c, r, deny, fn);
	return 0;
}

/* Steps 3 and 5 of a session chain: its deny or its allow rules, in policy order. */
static int
session_rules(struct ctx *c, enum ldm_action action)
{
	const struct ldm_policy *pol = c->s->policy;
	bool deny = action == LDM_ACTION_DENY;

	for (size_t i = 0; i < pol->n_rules; i++) {
		int rc;

		if (pol->rules[i].action != action)
			continue;
		rc = each_peer(c, &pol->rules[i], deny, deny ? deny_peer : allow_peer);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
session_chain(struct ctx *c)
{
	const struct ldm_marks *m = c->in->marks;
	unsigned n = c->s->slot;
	int rc;

	/* Only this slot's approvals: a connection another session's policy approved (the
	 * same 5-tuple) is judged again under this one. LDM-A writes the mark, so that the
	 * guards see the approval on the packet itself. */
	put(c->t, "-A LDM-S%u -m connmark --mark 0x%08x/0x%08x -j LDM-A%u\n", n,
	    m->approved | ldm_marks_slot(m, n), m->approved | m->slot_mask, n);
	put(c->t, "-A LDM-S%u -m conntrack --ctstate INVALID,UNTRACKED -j DROP\n", n);
	rc = session_rules(c, LDM_ACTION_DENY);
	if (rc < 0)
		return rc;
	put(c->t, "-A LDM-S%u -p udp --dport 53 -j LDM-Q%u\n", n, n);
	put(c->t, "-A LDM-S%u -p tcp --dport 53 -j LDM-Q%u\n", n, n);
	rc = session_rules(c, LDM_ACTION_ALLOW);
	if (rc < 0)
		return rc;
	put(c->t, "-A LDM-S%u -m conntrack --ctdir REPLY -j LDM-R%u\n", n, n);
	put(c->t, "-A LDM-S%u -j LDM-Q%u\n", n, n);
	return 0;
}

/* LDM-A, LDM-Q and LDM-R of the current session. */
static void
session_targets(struct ctx *c)
{
	const struct ldm_marks *m = c->in->marks;
	unsigned n = c->s->slot;
	uint32_t v = ldm_marks_slot(m, n);

	put(c->t, "-A LDM-A%u -j MARK --set-xmark 0x%08x/0x%08x\n", n, m->approved | v, m->mask);
	put(c->t, "-A LDM-A%u -j ACCEPT\n", n);
	/* --queue-bypass: with no daemon bound to the queue the packet goes on, unjudged, to
	 * LDM-GUARD, which drops it and counts it for this slot (the next daemon logs it). */
	put(c->t, "-A LDM-Q%u -j MARK --set-xmark 0x%08x/0x%08x\n", n, v, m->mask);
	put(c->t, "-A LDM-Q%u -j NFQUEUE --queue-num %u --queue-bypass\n", n, c->in->queue);
	put(c->t, "-A LDM-R%u -j MARK --set-xmark 0x%08x/0x%08x\n", n, m->reply | v, m->mask);
	put(c->t, "-A LDM-R%u -j NFQUEUE --queue-num %u --queue-bypass\n", n, c->in->queue);
}

/* Is NAME a mangle chain of the new state? */
static bool
mangle_live(const struct ldm_rs_input *in, const char *name)
{
	unsigned slot = ldm_ruleset_slot_chain(name);

	if (ldm_ruleset_fixed_chain(name, false))
		return true;
	for (size_t i = 0; slot != 0 && i < in->n_sessions; i++)
		if (in->sessions[i].slot == slot)
			return true;
	return false;
}

static bool
filter_live(const struct ldm_rs_input *in, const char *name)
{
	(void)in;
	return ldm_ruleset_fixed_chain(name, true);
}

/*
 * The stale chains that the new state has no use for, once each: declared (and so flushed)
 * with the live ones when DELETE is false, deleted with -X at the end when it is true.
 */
static void
stale_chains(struct ctx *c, const char *const *v, size_t n,
             bool (*live)(const struct ldm_rs_input *, const char *), bool delete)
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(v[i], v[j]) == 0;
		if (seen || live(c->in, v[i]))
			continue;
		if (delete)
			put(c->t, "-X %s\n", v[i]);
		else
			put(c->t, ":%s - [0:0]\n", v[i]);
	}
}

static void
jump(struct text *t, const char *builtin, const char *chain, enum ldm_rs_jump j)
{
	if (j == LDM_JUMP_NOT_FIRST)
		put(t, "-D %s -j %s\n", builtin, chain);
	if (j == LDM_JUMP_NOT_FIRST || j == LDM_JUMP_MISSING)
		put(t, "-I %s 1 -j %s\n", builtin, chain);
}

/*
 * The verdict's mark reaches the connection in POSTROUTING (the verdict cannot set the
 * connmark here). DNS is the exception: a query flow must never become approved, or the
 * next query on the same socket would pass unjudged; its connection keeps only the slot,
 * which lets LDM-IN send the answers to the enforcer.
 */
static void
mangle_post(struct ctx *c)
{
	const struct ldm_marks *m = c->in->marks;

	/* Once the connection carries the approval, its packets need no save again. */
	put(c->t,
	    "-A LDM-POST -m mark --mark 0x%08x/0x%08x -m connmark ! --mark 0x%08x/0x%08x"
	    " -j LDM-SAVE\n",
	    m->approved, m->approved, m->approved, m->approved);
	/* Cheap matches first: an approved packet leaves at the first one. The packet mark
	 * alone decides: every session packet got it (whole mask) from its own slot's
	 * chains, while a connmark may carry another session's approval. */
	put(c->t, "-A LDM-POST -m mark ! --mark 0x%08x/0x%08x -m cgroup --path %s -j DROP\n",
	    m->approved, m->approved, c->in->root);
	for (const char *const *p = (const char *const[]){ "udp", "tcp", NULL }; *p; p++) {
		put(c->t,
		    "-A LDM-SAVE -p %s --dport 53 -j CONNMARK --save-mark --nfmask 0x%08x"
		    " --ctmask 0x%08x\n",
		    *p, m->slot_mask, m->slot_mask);
		put(c->t, "-A LDM-SAVE -p %s --dport 53 -j RETURN\n", *p);
	}
	put(c->t, "-A LDM-SAVE -j CONNMARK --save-mark --nfmask 0x%08x --ctmask 0x%08x\n", m->mask,
	    m->mask);
}

/* Answers to a session's DNS queries (their connection carries its slot, not approval) go
 * to the enforcer, which records the addresses before it lets them in. */
static void
mangle_in(struct ctx *c)
{
	const struct ldm_marks *m = c->in->marks;

	/* The kernel loops a copy of every broadcast (and multicast) a socket sends back to
	 * this machine's own listeners (dev_loopback_xmit): it arrives here with the
	 * session's connection, in its original direction. It would reach programs outside
	 * the session that the policy does not allow: dropped. */
	for (const char *const *t = (const char *const[]){ "broadcast", "multicast", NULL }; *t;
	     t++)
		put(c->t,
		    "-A LDM-IN -m pkttype --pkt-type %s -m connmark ! --mark 0x0/0x%08x"
		    " -m conntrack --ctdir ORIGINAL -j DROP\n",
		    *t, m->slot_mask);

	for (const char *const *p = (const char *const[]){ "udp", "tcp", NULL }; *p; p++) {
		put(c->t,
		    "-A LDM-IN -p %s --sport 53 -m connmark ! --mark 0x0/0x%08x -m connmark !"
		    " --mark 0x%08x/0x%08x -j CONNMARK --restore-mark --nfmask 0x%08x"
		    " --ctmask 0x%08x\n",
		    *p, m->slot_mask, m->approved, m->approved, m->slot_mask, m->slot_mask);
		put(c->t,
		    "-A LDM-IN -p %s --sport 53 -m connmark ! --mark 0x0/0x%08x -m connmark !"
		    " --mark 0x%08x/0x%08x -j NFQUEUE --queue-num %u\n",
		    *p, m->slot_mask, m->approved, m->approved, c->in->queue);
	}
}

static int
mangle_table(struct ctx *c)
{
	const struct ldm_rs_input *in = c->in;
	int rc;

	put(c->t, "*mangle\n:LDM-OUT - [0:0]\n:LDM-POST - [0:0]\n:LDM-SAVE - [0:0]\n"
	          ":LDM-IN - [0:0]\n");
	for (size_t i = 0; i < in->n_sessions; i++)
		for (const char *k = "SAQR"; *k != '\0'; k++)
			put(c->t, ":LDM-%c%u - [0:0]\n", *k, in->sessions[i].slot);
	stale_chains(c, in->old_mangle, in->n_old_mangle, mangle_live, false);
	for (size_t i = 0; i < in->n_sessions; i++)
		put(c->t, "-A LDM-OUT -m cgroup --path %s -j LDM-S%u\n", in->sessions[i].cgroup,
		    in->sessions[i].slot);
	put(c->t, "-A LDM-OUT -m cgroup --path %s -j DROP\n", in->root);
	for (size_t i = 0; i < in->n_sessions; i++) {
		c->s = &in->sessions[i];
		rc = session_chain(c);
		if (rc < 0)
			return rc;
		session_targets(c);
	}
	mangle_post(c);
	mangle_in(c);
	stale_chains(c, in->old_mangle, in->n_old_mangle, mangle_live, true);
	jump(c->t, "OUTPUT", LDM_CHAIN_OUT, in->jump_mangle_output);
	jump(c->t, "POSTROUTING", LDM_CHAIN_POST, in->jump_mangle_postrouting);
	jump(c->t, "INPUT", LDM_CHAIN_IN, in->jump_mangle_input);
	put(c->t, "COMMIT\n");
	return 0;
}

static void
filter_table(struct ctx *c)
{
	const struct ldm_rs_input *in = c->in;
	const struct ldm_marks *m = in->marks;
	const char *unreach =
	        in->family == AF_INET ? "icmp-port-unreachable" : "icmp6-port-unreachable";

	put(c->t, "*filter\n:LDM-GUARD - [0:0]\n");
	stale_chains(c, in->old_filter, in->n_old_filter, filter_live, false);
	/* Approved traffic first (one mark match and out). Only the packet mark counts: a
	 * session's packet carries A only if its own slot's chain (LDM-A<slot>) or the
	 * enforcer's verdict for it set A, while a connmark may hold another session's
	 * approval of the same 5-tuple. A packet the enforcer rejects never carries A. */
	put(c->t, "-A LDM-GUARD -m mark --mark 0x%08x/0x%08x -j RETURN\n", m->approved,
	    m->approved);
	put(c->t,
	    "-A LDM-GUARD -p tcp -m mark --mark 0x%08x/0x%08x -m cgroup --path %s"
	    " -j REJECT --reject-with tcp-reset\n",
	    m->reject, m->reject, in->root);
	put(c->t,
	    "-A LDM-GUARD -m mark --mark 0x%08x/0x%08x -m cgroup --path %s"
	    " -j REJECT --reject-with %s\n",
	    m->reject, m->reject, in->root, unreach);
	/* A session packet that left LDM-Q/LDM-R unjudged (no daemon was bound to the queue):
	 * dropped and counted per slot, for the next daemon to log. */
	for (size_t i = 0; i < in->n_sessions; i++)
		put(c->t,
		    "-A LDM-GUARD -m mark --mark 0x%08x/0x%08x -m cgroup --path %s"
		    " -m comment --comment \"" LDM_UNJUDGED_COMMENT "%u\" -j DROP\n",
		    ldm_marks_slot(m, in->sessions[i].slot), m->approved | m->reject | m->slot_mask,
		    in->root, in->sessions[i].slot);
	put(c->t, "-A LDM-GUARD -m cgroup --path %s -j DROP\n", in->root);
	stale_chains(c, in->old_filter, in->n_old_filter, filter_live, true);
	jump(c->t, "OUTPUT", LDM_CHAIN_GUARD, in->jump_filter_output);
	put(c->t, "COMMIT\n");
}

bool
ldm_ruleset_fixed_chain(const char *name, bool filter)
{
	if (filter)
		return strcmp(name, LDM_CHAIN_GUARD) == 0;
	return strcmp(name, LDM_CHAIN_OUT) == 0 || strcmp(name, LDM_CHAIN_POST) == 0 ||
	       strcmp(name, LDM_CHAIN_SAVE) == 0 || strcmp(name, LDM_CHAIN_IN) == 0;
}

unsigned
ldm_ruleset_slot_chain(const char *name)
{
	uint32_t v;

	if (strncmp(name, "LDM-", 4) != 0 || name[4] == '\0' ||
	    strchr(LDM_SLOT_CHAIN_KINDS, name[4]) == NULL || ldm_parse_u32(name + 5, &v) < 0 ||
	    v == 0 || v > UINT16_MAX)
		return 0;
	return (unsigned)v;
}

int
ldm_ruleset_build(const struct ldm_rs_input *in, char **ret)
{
	struct text t;
	struct ctx c = { .in = in, .t = &t };
	int rc;

	rc = input_validate(in);
	if (rc < 0)
		return rc;
	rc = text_init(&t);
	if (rc < 0)
		return rc;
	rc = mangle_table(&c);
	if (rc < 0 && t.err == 0)
		t.err = rc;
	filter_table(&c);
	return text_finish(&t, ret);
}

/* One table of the removal text: the jumps, then flush every chain, then delete them. */
static void
remove_table(struct text *t, const char *table, const char *const *v, size_t n,
             const char *const jumps[][2], size_t n_jumps)
{
	put(t, "*%s\n", table);
	for (size_t i = 0; i < n_jumps; i++)
		if (jumps[i][0] != NULL)
			put(t, "-D %s -j %s\n", jumps[i][0], jumps[i][1]);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			bool seen = false;

			for (size_t j = 0; j < i && !seen; j++)
				seen = strcmp(v[i], v[j]) == 0;
			if (!seen)
				put(t, pass == 0 ? ":%s - [0:0]\n" : "-X %s\n", v[i]);
		}
	}
	put(t, "COMMIT\n");
}

int
ldm_ruleset_remove(int family, const char *const *mangle_chains, size_t n_mangle,
                   const char *const *filter_chains, size_t n_filter, bool jump_mangle_output,
                   bool jump_mangle_postrouting, bool jump_mangle_input, bool jump_filter_output,
                   char **ret)
{
	const char *const mangle_jumps[3][2] = {
		{ jump_mangle_output ? "OUTPUT" : NULL, LDM_CHAIN_OUT },
		{ jump_mangle_postrouting ? "POSTROUTING" : NULL, LDM_CHAIN_POST },
		{ jump_mangle_input ? "INPUT" : NULL, LDM_CHAIN_IN },
	};
	const char *const filter_jumps[1][2] = {
		{ jump_filter_output ? "OUTPUT" : NULL, LDM_CHAIN_GUARD },
	};
	struct text t;
	int rc;

	if ((family != AF_INET && family != AF_INET6) ||
	    !chain_names_valid(mangle_chains, n_mangle) ||
	    !chain_names_valid(filter_chains, n_filter))
		return -EINVAL;
	rc = text_init(&t);
	if (rc < 0)
		return rc;
	remove_table(&t, "mangle", mangle_chains, n_mangle, mangle_jumps, 3);
	remove_table(&t, "filter", filter_chains, n_filter, filter_jumps, 1);
	return text_finish(&t, ret);
}
