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
#include "policy_index.h"
#include "policy_int.h"

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

	ldm_index_mask_addr(p->addr, p->plen, masked);
	s = ldm_index_addr_find(ix, p->family, p->plen, masked);
	if (s->head == LDM_INDEX_END) {
		s->family = p->family;
		s->plen = p->plen;
		memcpy(s->addr, masked, 16);
		plen_note(ix, p->family, p->plen);
	}
	return link_push(ix, rule, &s->head);
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
	struct str_slot *s = ldm_index_str_find(t, key);

	if (s->key == NULL) {
		s->key = key;
		s->head = LDM_INDEX_END;
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
		ix->aslots[i].head = LDM_INDEX_END;
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
