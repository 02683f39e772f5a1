/*
 * Judging with the policy index (policy_index.h): a flow (ldm_policy_judge: a matching deny
 * wins, else the lowest-numbered matching allow, else block), a DNS name (may the app
 * resolve it?) and a known label. Pure and allocation-free: it runs for every queued packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "policy_index.h"
#include "policy_int.h"

struct best {
	const struct ldm_rule *deny;
	const struct ldm_rule *allow;
	const struct ldm_lan *lan; /* routing facts for pinned_ok, or NULL */
};

static bool
rule_matches(const struct ldm_rule *r, const struct ldm_flow *f)
{
	bool ported = f->proto == LDM_PROTO_TCP || f->proto == LDM_PROTO_UDP;

	if ((r->dir & f->dir) == 0)
		return false;
	if (r->proto != LDM_PROTO_ANY && r->proto != f->proto)
		return false;
	if (r->n_ports == 0)
		return true;
	if (!ported)
		return false;
	for (size_t i = 0; i < r->n_ports; i++)
		if (f->port >= r->ports[i].lo && f->port <= r->ports[i].hi)
			return true;
	return false;
}

/* Is the flow's peer one of this machine's own addresses? */
static bool
peer_is_local(const struct ldm_flow *f, const struct ldm_lan *lan)
{
	for (size_t i = 0; lan != NULL && i < lan->n; i++)
		if (lan->v[i].kind == LDM_ROUTE_LOCAL &&
		    ldm_prefix_contains(&lan->v[i].prefix, f->family, f->addr))
			return true;
	return false;
}

/*
 * Does the flow leave through the interface of its peer's route (the longest LINK, UPLINK,
 * VIA or DEFAULT entry holding the peer; several of that length: any of theirs)? A local peer
 * goes out the loopback device: never. An unknown interface (0) is taken as the route's.
 */
static bool
route_ok(const struct ldm_flow *f, const struct ldm_lan *lan)
{
	int best = -1;

	if (lan == NULL)
		return true;
	if (peer_is_local(f, lan))
		return false;
	if (f->ifindex == 0)
		return true;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < lan->n; i++) {
			const struct ldm_lan_entry *e = &lan->v[i];

			if (e->kind == LDM_ROUTE_LOCAL ||
			    !ldm_prefix_contains(&e->prefix, f->family, f->addr))
				continue;
			if (pass == 0 && (int)e->prefix.plen > best)
				best = e->prefix.plen;
			if (pass == 1 && (int)e->prefix.plen == best &&
			    (e->ifindex == 0 || e->ifindex == f->ifindex))
				return true;
		}
	}
	return false;
}

/* The limited broadcast leaves through an aircraft-side (LINK) interface only. */
static bool
lbcast_ok(const struct ldm_flow *f, const struct ldm_lan *lan)
{
	if (lan == NULL || f->ifindex == 0)
		return true;
	for (size_t i = 0; i < lan->n; i++)
		if (lan->v[i].kind == LDM_ROUTE_LINK && lan->v[i].prefix.family == f->family &&
		    lan->v[i].ifindex != 0 && lan->v[i].ifindex == f->ifindex)
			return true;
	return false;
}

/*
 * An allow rule matched by address holds only on the path its route takes (the kernel
 * rules pin it the same way with -o): literal prefixes and `private` to their route's
 * interface, the limited broadcast to aircraft-side interfaces. Deny rules are never
 * narrowed.
 */
static bool
pinned_ok(const struct ldm_rule *r, const struct ldm_flow *f, const struct ldm_lan *lan)
{
	static const uint8_t lbcast[4] = { 255, 255, 255, 255 };

	if (r->action != LDM_ACTION_ALLOW)
		return true;
	switch (r->peer) {
	case LDM_PEER_CIDR:
	case LDM_PEER_PRIVATE:
		return route_ok(f, lan);
	case LDM_PEER_BROADCAST:
		if (f->family == AF_INET && memcmp(f->addr, lbcast, 4) == 0)
			return lbcast_ok(f, lan);
		return true;
	default:
		return true;
	}
}

static void
consider(const struct ldm_policy *p, uint32_t i, const struct ldm_flow *f, struct best *b)
{
	const struct ldm_rule *r = &p->rules[i];
	const struct ldm_rule **slot = r->action == LDM_ACTION_DENY ? &b->deny : &b->allow;

	if (!rule_matches(r, f) || !pinned_ok(r, f, b->lan))
		return;
	if (*slot == NULL || r->number < (*slot)->number)
		*slot = r;
}

static void
consider_chain(const struct ldm_policy *p, uint32_t head, const struct ldm_flow *f, struct best *b)
{
	for (uint32_t l = head; l != LDM_INDEX_END; l = p->index->links[l].next)
		consider(p, p->index->links[l].value, f, b);
}

/* A flow to one of this machine's own addresses goes out the loopback device: `loopback`
 * rules judge it as they judge 127.0.0.1 and ::1. */
static void
judge_local(const struct ldm_policy *p, const struct ldm_flow *f, struct best *b)
{
	if (!peer_is_local(f, b->lan))
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].peer == LDM_PEER_LOOPBACK)
			consider(p, (uint32_t)i, f, b);
}

static void
judge_addr(const struct ldm_policy *p, const struct ldm_flow *f, struct best *b)
{
	const struct ldm_policy_index *ix = p->index;
	bool v4 = f->family == AF_INET;
	const uint8_t *plens = v4 ? ix->plens4 : ix->plens6;
	size_t n = v4 ? ix->n_plens4 : ix->n_plens6;
	uint8_t masked[16];

	for (size_t i = 0; i < n; i++) {
		const struct addr_slot *s;

		ldm_index_mask_addr(f->addr, plens[i], masked);
		s = ldm_index_addr_find(ix, f->family, plens[i], masked);
		if (s->head != LDM_INDEX_END)
			consider_chain(p, s->head, f, b);
	}
}

static bool
subnet_broadcast(const struct ldm_lan_entry *e, const struct ldm_flow *f)
{
	uint8_t bc[4];

	if (e->prefix.family != AF_INET || f->family != AF_INET || e->prefix.plen > 30)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		unsigned bits = e->prefix.plen > i * 8 ? e->prefix.plen - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		bc[i] = (uint8_t)(e->prefix.addr[i] | (uint8_t)~m);
	}
	return memcmp(bc, f->addr, 4) == 0;
}

/* lan: the peer is inside an on-link prefix, reached through that prefix's interface. */
static void
judge_lan(const struct ldm_policy *p, const struct ldm_flow *f, const struct ldm_lan *lan,
          struct best *b)
{
	const struct ldm_policy_index *ix = p->index;
	bool on_link = false, bcast = false;

	if (lan == NULL || (ix->n_lan == 0 && ix->n_bcast == 0) || peer_is_local(f, lan))
		return; /* this machine's own address is no peer on the LAN */
	for (size_t i = 0; i < lan->n; i++) {
		const struct ldm_lan_entry *e = &lan->v[i];

		if (e->kind != LDM_ROUTE_LINK)
			continue; /* not `lan`: the uplinks' prefixes, routes, own addresses */
		if (e->ifindex != 0 && f->ifindex != 0 && e->ifindex != f->ifindex)
			continue;
		if (ldm_prefix_contains(&e->prefix, f->family, f->addr))
			on_link = true;
		if (subnet_broadcast(e, f))
			bcast = true;
	}
	for (size_t i = 0; on_link && i < ix->n_lan; i++)
		consider(p, ix->lan[i], f, b);
	for (size_t i = 0; bcast && i < ix->n_bcast; i++)
		consider(p, ix->bcast[i], f, b);
}

/*
 * Calls FN for NAME itself, then for "*.SUFFIX" of each suffix of two labels or more,
 * longest first. Stops when FN returns true; returns whether one did.
 */
static bool
each_pattern(const char *name, bool (*fn)(const char *key, void *u), void *u)
{
	char buf[LDM_MAX_HOST_LEN + 3];
	const char *dot;

	if (fn(name, u))
		return true;
	for (const char *s = name; (dot = strchr(s, '.')) != NULL; s = dot + 1) {
		if (strchr(dot + 1, '.') == NULL)
			break;
		if (snprintf(buf, sizeof(buf), "*%s", dot) >= (int)sizeof(buf))
			return false;
		if (fn(buf, u))
			return true;
	}
	return false;
}

struct host_walk {
	const struct ldm_policy *p;
	const struct ldm_flow *f;
	struct best *b;
};

static bool
host_step(const char *key, void *u)
{
	struct host_walk *w = u;
	const struct str_slot *s = ldm_index_str_find(&w->p->index->hosts, key);

	if (s->key != NULL)
		consider_chain(w->p, s->head, w->f, w->b);
	return false; /* every pattern may hold a deny: walk them all */
}

static bool
flow_valid(const struct ldm_flow *f)
{
	return (f->family == AF_INET || f->family == AF_INET6) &&
	       (f->dir == LDM_DIR_OUT || f->dir == LDM_DIR_IN) && f->proto <= LDM_PROTO_OTHER;
}

int
ldm_policy_judge(const struct ldm_policy *p, const struct ldm_flow *flow, const struct ldm_lan *lan,
                 struct ldm_verdict *ret)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct ldm_flow f = *flow;
	struct best b = { .lan = lan };

	*ret = (struct ldm_verdict){ .allow = false, .rule = NULL };
	if (p == NULL || p->index == NULL || !flow_valid(flow))
		return -EINVAL;
	if (f.family == AF_INET6 && memcmp(f.addr, v4mapped, 12) == 0) {
		memmove(f.addr, f.addr + 12, 4);
		memset(f.addr + 4, 0, 12);
		f.family = AF_INET;
	}
	judge_addr(p, &f, &b);
	judge_lan(p, &f, lan, &b);
	judge_local(p, &f, &b);
	if (f.host != NULL && f.dir == LDM_DIR_OUT) {
		struct host_walk w = { p, &f, &b };

		(void)each_pattern(f.host, host_step, &w);
	}
	if (b.deny != NULL) {
		ret->rule = b.deny;
		return 0;
	}
	if (b.allow != NULL) {
		/* The one place a flow becomes allowed. */
		ret->allow = true;
		ret->rule = b.allow;
	}
	return 0;
}

struct name_walk {
	const struct ldm_policy *p;
	const struct ldm_rule *deny, *allow;
	bool dns;
};

static bool
name_step(const char *key, void *u)
{
	struct name_walk *w = u;
	const struct ldm_policy_index *ix = w->p->index;
	const struct str_slot *s = ldm_index_str_find(&ix->hosts, key);

	if (s->key != NULL) {
		for (uint32_t l = s->head; l != LDM_INDEX_END; l = ix->links[l].next) {
			const struct ldm_rule *r = &w->p->rules[ix->links[l].value];
			const struct ldm_rule **slot =
			        r->action == LDM_ACTION_DENY ? &w->deny : &w->allow;

			if (*slot == NULL || r->number < (*slot)->number)
				*slot = r;
		}
	}
	if (ldm_index_str_find(&ix->dns, key)->key != NULL)
		w->dns = true;
	return false;
}

bool
ldm_policy_name_allowed(const struct ldm_policy *p, const char *name,
                        const struct ldm_rule **ret_rule)
{
	struct name_walk w = { .p = p };

	if (ret_rule != NULL)
		*ret_rule = NULL;
	if (p == NULL || p->index == NULL)
		return false;
	(void)each_pattern(name, name_step, &w);
	if (w.deny != NULL) {
		if (ret_rule != NULL)
			*ret_rule = w.deny;
		return false;
	}
	if (ret_rule != NULL)
		*ret_rule = w.allow;
	return w.allow != NULL || w.dns;
}

struct known_walk {
	const struct ldm_policy *p;
	const char *label;
};

static bool
known_step(const char *key, void *u)
{
	struct known_walk *w = u;
	const struct str_slot *s = ldm_index_str_find(&w->p->index->known, key);

	if (s->key == NULL)
		return false;
	w->label = w->p->known[w->p->index->links[s->head].value].label;
	return true;
}

const char *
ldm_policy_known_label(const struct ldm_policy *p, const char *name)
{
	struct known_walk w = { .p = p };

	if (p == NULL || p->index == NULL || name == NULL)
		return NULL;
	(void)each_pattern(name, known_step, &w);
	return w.label;
}
