/*
 * A session's traffic per rule and peer (see traffic.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "ldm/verdict.h"
#include "traffic.h"

#define NAMES_MAX 16

int
ldm_traffic_init(struct ldm_traffic *t)
{
	*t = (struct ldm_traffic){ .rows = calloc(LDM_TRAFFIC_MAX_ROWS, sizeof(*t->rows)) };
	return t->rows != NULL ? 0 : -ENOMEM;
}

void
ldm_traffic_fini(struct ldm_traffic *t)
{
	free(t->rows);
	*t = (struct ldm_traffic){ 0 };
}

static enum ldm_proto
proto_of(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
		return LDM_PROTO_TCP;
	case IPPROTO_UDP:
		return LDM_PROTO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return LDM_PROTO_ICMP;
	default:
		return LDM_PROTO_OTHER;
	}
}

static void
sat_add(uint64_t *a, uint64_t b)
{
	if (__builtin_add_overflow(*a, b, a))
		*a = UINT64_MAX;
}

static void
sum_into(struct ldm_traffic_row *to, const struct ldm_traffic_row *r)
{
	sat_add(&to->flows, r->flows);
	sat_add(&to->packets_out, r->packets_out);
	sat_add(&to->bytes_out, r->bytes_out);
	sat_add(&to->packets_in, r->packets_in);
	sat_add(&to->bytes_in, r->bytes_in);
}

/* Judges the flow to or from PEER; true when an allow rule takes it (*ret_rule). */
static bool
allowed(const struct ldm_policy *policy, const struct ldm_lan *lan, ldm_traffic_names_fn names,
        void *userdata, const struct ldm_flow *f, const struct ldm_rule **ret_rule)
{
	const char *n[NAMES_MAX];
	size_t k = names != NULL ? names(f->family, f->addr, n, ELEMENTSOF(n), userdata) : 0;
	struct ldm_verdict v = { 0 };

	ldm_verdict_flow(policy, f, lan, n, k < ELEMENTSOF(n) ? k : ELEMENTSOF(n), &v, NULL);
	*ret_rule = v.rule;
	return v.allow && v.rule != NULL;
}

/* The row CT belongs to, with its counters turned to the app's point of view. */
static void
attribute(const struct ldm_policy *policy, const struct ldm_lan *lan, ldm_traffic_names_fn names,
          void *userdata, const struct ldm_ct_entry *ct, struct ldm_traffic_row *r)
{
	struct ldm_flow f = { .family = ct->family,
		              .proto = proto_of(ct->l4proto),
		              .dir = LDM_DIR_OUT,
		              .port = ct->dport };
	const struct ldm_rule *rule = NULL;
	bool in = false;

	memcpy(f.addr, ct->dst, sizeof(f.addr));
	if (!allowed(policy, lan, names, userdata, &f, &rule)) {
		f.dir = LDM_DIR_IN; /* the peer opened it: its source, the app's port */
		memcpy(f.addr, ct->src, sizeof(f.addr));
		in = allowed(policy, lan, names, userdata, &f, &rule);
		if (!in) {
			rule = NULL;
			memcpy(f.addr, ct->dst, sizeof(f.addr));
		}
	}
	*r = (struct ldm_traffic_row){ .rule = rule != NULL ? rule->number : 0,
		                       .comment = rule != NULL ? rule->comment : NULL,
		                       .proto = f.proto,
		                       .peer.family = ct->family,
		                       .port = ct->dport,
		                       .flows = 1,
		                       .packets_out = in ? ct->packets_reply : ct->packets_orig,
		                       .bytes_out = in ? ct->bytes_reply : ct->bytes_orig,
		                       .packets_in = in ? ct->packets_orig : ct->packets_reply,
		                       .bytes_in = in ? ct->bytes_orig : ct->bytes_reply };
	memcpy(r->peer.addr, f.addr, sizeof(r->peer.addr));
}

static bool
same_row(const struct ldm_traffic_row *a, const struct ldm_traffic_row *b)
{
	return a->rule == b->rule && a->proto == b->proto && a->port == b->port &&
	       a->peer.family == b->peer.family &&
	       memcmp(a->peer.addr, b->peer.addr, sizeof(a->peer.addr)) == 0;
}

void
ldm_traffic_add(struct ldm_traffic *t, const struct ldm_policy *policy, const struct ldm_lan *lan,
                ldm_traffic_names_fn names, void *userdata, const struct ldm_ct_entry *ct)
{
	struct ldm_traffic_row r;
	size_t i;

	if (!ct->has_counters) {
		sat_add(&t->uncounted, 1);
		return;
	}
	attribute(policy, lan, names, userdata, ct, &r);
	sum_into(&t->total, &r);
	for (i = 0; i < t->n && !same_row(&t->rows[i], &r); i++)
		;
	if (i == t->n && t->n == LDM_TRAFFIC_MAX_ROWS) {
		sat_add(&t->over, 1);
		return;
	}
	if (i == t->n)
		t->rows[t->n++] = (struct ldm_traffic_row){ .rule = r.rule,
			                                    .comment = r.comment,
			                                    .proto = r.proto,
			                                    .peer = r.peer,
			                                    .port = r.port };
	sum_into(&t->rows[i], &r);
}
