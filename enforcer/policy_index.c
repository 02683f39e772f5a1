/*
 * The policy index, built once when a policy is loaded, so that judging a flow never scans
 * the rules: address rules sit in one hash table keyed by (family, prefix length, masked
 * address), and a lookup probes it once per prefix length the policy uses (at most 33 for
 * IPv4, 129 for IPv6; a few in practice). Keyword rules are expanded into their fixed
 * prefixes. Host patterns, dns_allow and known labels sit in string tables probed once for
 * the name and once per suffix ("*.b.c" for "a.b.c"). Only `lan` and subnet-broadcast rules,
 * whose addresses change at run time, are kept in short lists checked when the peer is
 * on-link.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "policy_int.h"

#define END UINT32_MAX

struct link {
	uint32_t value; /* a rule, dns_allow or known index */
	uint32_t next;
};

struct addr_slot {
	uint32_t head; /* END: empty */
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];
};

struct str_slot {
	const char *key; /* borrowed from the policy; NULL: empty */
	uint32_t head;
};

struct str_table {
	struct str_slot *slots;
	size_t mask;
};

struct ldm_policy_index {
	struct addr_slot *aslots;
	size_t amask;
	uint8_t plens4[33], plens6[129]; /* prefix lengths in use, longest first */
	size_t n_plens4, n_plens6;
	struct str_table hosts, dns, known;
	struct link *links;
	size_t n_links, cap_links;
	uint32_t *lan, *bcast; /* rule indexes */
	size_t n_lan, n_bcast;
};

static uint64_t
fnv1a(const void *data, size_t len, uint64_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static size_t
table_size_for(size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size <<= 1;
	return size;
}

static int
link_push(struct ldm_policy_index *ix, uint32_t value, uint32_t *head)
{
	if (ix->n_links == ix->cap_links) {
		size_t cap = ix->cap_links ? ix->cap_links * 2 : 64;
		struct link *v = reallocarray(ix->links, cap, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		ix->links = v;
		ix->cap_links = cap;
	}
	/* Prepend; rules are judged by number, not by chain order. */
	ix->links[ix->n_links] = (struct link){ .value = value, .next = *head };
	*head = (uint32_t)ix->n_links++;
	return 0;
}

static void
mask_addr(const uint8_t *addr, unsigned plen, uint8_t out[16])
{
	unsigned full = plen / 8, rest = plen % 8;

	memset(out, 0, 16);
	memcpy(out, addr, full);
	if (rest != 0)
		out[full] = addr[full] & (uint8_t)(0xff00 >> rest);
}

static size_t
addr_hash(uint8_t family, uint8_t plen, const uint8_t addr[16])
{
	uint8_t key[18] = { family, plen };

	memcpy(key + 2, addr, 16);
	return (size_t)fnv1a(key, sizeof(key), UINT64_C(0xcbf29ce484222325));
}

/* Finds the slot for a key: its own if present, else the empty one where it would go. */
static struct addr_slot *
addr_find(const struct ldm_policy_index *ix, uint8_t family, uint8_t plen, const uint8_t masked[16])
{
	size_t i = addr_hash(family, plen, masked) & ix->amask;

	for (;;) {
		struct addr_slot *s = &ix->aslots[i];

		if (s->head == END ||
		    (s->family == family && s->plen == plen && memcmp(s->addr, masked, 16) == 0))
			return s;
		i = (i + 1) & ix->amask;
	}
}

static void
plen_note(struct ldm_policy_index *ix, uint8_t family, uint8_t plen)
{
	uint8_t *v = family == AF_INET ? ix->plens4 : ix->plens6;
	size_t *n = family == AF_INET ? &ix->n_plens4 : &ix->n_plens6;
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i] == plen)
			return;
	for (i = *n; i > 0 && v[i - 1] < plen; i--)
		v[i] = v[i - 1];
	v[i] = plen;
	(*n)++;
}

static int
addr_insert(struct ldm_policy_index *ix, const struct ldm_prefix *p, uint32_t rule)
{
	uint8_t masked[16];
	struct addr_slot *s;

	mask_addr(p->addr, p->plen, masked);
	s = addr_find(ix, p->family, p->plen, masked);
	if (s->head == END) {
		s->family = p->family;
		s->plen = p->plen;
		memcpy(s->addr, masked, 16);
		plen_note(ix, p->family, p->plen);
	}
	return link_push(ix, rule, &s->head);
}

static struct str_slot *
str_find(const struct str_table *t, const char *key)
{
	size_t i = (size_t)fnv1a(key, strlen(key), UINT64_C(0xcbf29ce484222325)) & t->mask;

	for (;;) {
		struct str_slot *s = &t->slots[i];

		if (s->key == NULL || strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & t->mask;
	}
}

static int
str_table_init(struct str_table *t, size_t n)
{
	size_t size = table_size_for(n);

	t->slots = calloc(size, sizeof(*t->slots));
	if (t->slots == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	return 0;
}

static int
str_insert(struct ldm_policy_index *ix, struct str_table *t, const char *key, uint32_t value)
{
	struct str_slot *s = str_find(t, key);

	if (s->key == NULL) {
		s->key = key;
		s->head = END;
	}
	return link_push(ix, value, &s->head);
}

static int
list_push(uint32_t **v, size_t *n, uint32_t value)
{
	uint32_t *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = value;
	return 0;
}

/* Inserts the fixed prefixes of keyword KIND for rule I. */
static int
keyword_insert(struct ldm_policy_index *ix, enum ldm_peer_kind kind, uint32_t i)
{
	struct ldm_prefix p[LDM_KEYWORD_PREFIXES_MAX];
	int n = ldm_peer_keyword_prefixes(kind, p, ELEMENTSOF(p));

	for (int k = 0; k < n; k++) {
		int r = addr_insert(ix, &p[k], i);

		if (r < 0)
			return r;
	}
	return n < 0 ? n : 0;
}

static int
index_rule(struct ldm_policy_index *ix, const struct ldm_rule *r, uint32_t i)
{
	switch (r->peer) {
	case LDM_PEER_CIDR:
		return addr_insert(ix, &r->prefix, i);
	case LDM_PEER_HOST:
		return str_insert(ix, &ix->hosts, r->host, i);
	case LDM_PEER_LAN:
		return list_push(&ix->lan, &ix->n_lan, i);
	case LDM_PEER_BROADCAST: {
		int rc = list_push(&ix->bcast, &ix->n_bcast, i);

		return rc < 0 ? rc : keyword_insert(ix, r->peer, i);
	}
	case LDM_PEER_LOOPBACK:
	case LDM_PEER_LINK_LOCAL:
	case LDM_PEER_PRIVATE:
	case LDM_PEER_MULTICAST:
		return keyword_insert(ix, r->peer, i);
	case LDM_PEER_UNIX:
		return 0; /* judged by ldm-run (ldm/unix_rule.h), never a network flow */
	default:
		return -EINVAL; /* the loader never makes one: refuse rather than guess */
	}
}

static int
index_names(struct ldm_policy_index *ix, const struct ldm_policy *p)
{
	int r;

	for (size_t i = 0; i < p->n_dns_allow; i++) {
		r = str_insert(ix, &ix->dns, p->dns_allow[i], (uint32_t)i);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->n_known; i++) {
		r = str_insert(ix, &ix->known, p->known[i].host, (uint32_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

void
ldm_policy_index_free(struct ldm_policy_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->aslots);
	free(ix->hosts.slots);
	free(ix->dns.slots);
	free(ix->known.slots);
	free(ix->links);
	free(ix->lan);
	free(ix->bcast);
	free(ix);
}

/* How many address slots the rules need: one per CIDR, one per keyword prefix. */
static size_t
count_prefixes(const struct ldm_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		enum ldm_peer_kind kind = p->rules[i].peer;
		struct ldm_prefix kp[LDM_KEYWORD_PREFIXES_MAX];
		int k = ldm_peer_keyword_prefixes(kind, kp, ELEMENTSOF(kp));

		if (kind == LDM_PEER_CIDR)
			n++;
		if (k > 0)
			n += (size_t)k;
	}
	return n;
}

static int
index_alloc(struct ldm_policy_index *ix, const struct ldm_policy *p)
{
	size_t asize = table_size_for(count_prefixes(p));

	ix->aslots = malloc(asize * sizeof(*ix->aslots));
	if (ix->aslots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < asize; i++)
		ix->aslots[i].head = END;
	ix->amask = asize - 1;
	if (str_table_init(&ix->hosts, p->n_rules) < 0 ||
	    str_table_init(&ix->dns, p->n_dns_allow) < 0 ||
	    str_table_init(&ix->known, p->n_known) < 0)
		return -ENOMEM;
	return 0;
}

int
ldm_policy_index_build(struct ldm_policy *p)
{
	struct ldm_policy_index *ix = calloc(1, sizeof(*ix));
	int r;

	if (ix == NULL)
		return -ENOMEM;
	r = index_alloc(ix, p);
	for (size_t i = 0; r == 0 && i < p->n_rules; i++)
		r = index_rule(ix, &p->rules[i], (uint32_t)i);
	if (r == 0)
		r = index_names(ix, p);
	if (r < 0) {
		ldm_policy_index_free(ix);
		return r;
	}
	ldm_policy_index_free(p->index);
	p->index = ix;
	return 0;
}

/* Judging. */

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
	for (uint32_t l = head; l != END; l = p->index->links[l].next)
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

		mask_addr(f->addr, plens[i], masked);
		s = addr_find(ix, f->family, plens[i], masked);
		if (s->head != END)
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
	const struct str_slot *s = str_find(&w->p->index->hosts, key);

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
	const struct str_slot *s = str_find(&ix->hosts, key);

	if (s->key != NULL) {
		for (uint32_t l = s->head; l != END; l = ix->links[l].next) {
			const struct ldm_rule *r = &w->p->rules[ix->links[l].value];
			const struct ldm_rule **slot =
			        r->action == LDM_ACTION_DENY ? &w->deny : &w->allow;

			if (*slot == NULL || r->number < (*slot)->number)
				*slot = r;
		}
	}
	if (str_find(&ix->dns, key)->key != NULL)
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
	const struct str_slot *s = str_find(&w->p->index->known, key);

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
