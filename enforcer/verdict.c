/*
 * The enforcer's decisions (ldm/verdict.h). Pure: no kernel, no log, no counters; packet
 * bytes are untrusted and read only through ldm_packet's bounds and the DNS parsers.
 */
#include <string.h>

#include "dns.h"
#include "ldm/verdict.h"
#include "packet.h"

void
ldm_verdict_flow(const struct ldm_policy *p, const struct ldm_flow *flow, const struct ldm_lan *lan,
                 const char *const *names, size_t n_names, struct ldm_verdict *v,
                 const char **ret_host)
{
	struct ldm_flow f = *flow;
	const char *host = n_names > 0 ? names[0] : NULL;

	f.host = NULL;
	if (ldm_policy_judge(p, &f, lan, v) < 0)
		*v = (struct ldm_verdict){ 0 }; /* cannot judge: blocked */
	/* Every name counts: a deny for any of them wins, as a matching deny always does. */
	for (size_t i = 0; i < n_names && (v->allow || v->rule == NULL); i++) {
		struct ldm_verdict vn;

		f.host = names[i];
		if (ldm_policy_judge(p, &f, lan, &vn) < 0 || vn.rule == NULL)
			continue;
		if (!vn.allow || !v->allow) {
			*v = vn;
			host = names[i];
		}
	}
	if (ret_host != NULL)
		*ret_host = host;
}

enum ldm_decision
ldm_verdict_decide(bool allowed, bool audit, enum ldm_proto proto)
{
	if (allowed || audit)
		return LDM_DECIDE_ALLOW;
	return proto == LDM_PROTO_TCP || proto == LDM_PROTO_UDP ? LDM_DECIDE_REJECT
	                                                        : LDM_DECIDE_DROP;
}

enum ldm_decision
ldm_verdict_final(enum ldm_decision d, bool ending)
{
	return ending && d != LDM_DECIDE_PASS ? LDM_DECIDE_DROP : d;
}

/* The one DNS message in a packet's payload (TCP: one whole framed message), or NULL. An
 * empty TCP segment (handshake, ACK) sets *RET_EMPTY. */
static const uint8_t *
dns_message(const struct ldm_packet *k, const uint8_t *data, size_t plen, size_t *ret_len,
            bool *ret_empty)
{
	const uint8_t *msg = data + k->payload_offset;
	size_t len = k->payload_len;

	*ret_empty = false;
	if (k->payload_truncated || k->payload_offset > plen || len > plen - k->payload_offset)
		return NULL;
	if (k->proto == LDM_PROTO_TCP) {
		if (len == 0) {
			*ret_empty = true;
			return NULL;
		}
		if (ldm_dns_tcp_frame(msg, len, &msg, &len) < 0)
			return NULL;
	}
	*ret_len = len;
	return msg;
}

void
ldm_verdict_dns_query(const struct ldm_policy *p, const struct ldm_packet *k, const uint8_t *data,
                      size_t len, struct ldm_dnsq_verdict *ret)
{
	struct ldm_dns_query q;
	const uint8_t *msg;
	size_t mlen = 0;
	bool empty;

	*ret = (struct ldm_dnsq_verdict){ .result = LDM_DNSQ_UNREADABLE };
	msg = dns_message(k, data, len, &mlen, &empty);
	if (empty) {
		ret->result = LDM_DNSQ_EMPTY;
		return;
	}
	if (msg == NULL || ldm_dns_parse_query(msg, mlen, &q) < 0)
		return;
	memcpy(ret->name, q.name, sizeof(ret->name));
	ret->qtype = q.qtype;
	ret->result = ldm_policy_name_allowed(p, q.name, &ret->rule) ? LDM_DNSQ_ALLOWED
	                                                             : LDM_DNSQ_BLOCKED;
}

enum ldm_decision
ldm_verdict_dns_blocked(bool audit)
{
	return audit ? LDM_DECIDE_ALLOW : LDM_DECIDE_REJECT;
}

enum ldm_decision
ldm_verdict_dns_answer(const struct ldm_policy *p, bool audit, const struct ldm_packet *k,
                       const uint8_t *data, size_t len, struct ldm_dns_answer *a, bool *ret_empty)
{
	const uint8_t *msg;
	size_t mlen = 0;

	a->n_addrs = 0;
	msg = dns_message(k, data, len, &mlen, ret_empty);
	if (*ret_empty)
		return LDM_DECIDE_PASS;
	/* Audit mode let the query out whatever its name: its answer comes in too. */
	if (msg == NULL || ldm_dns_parse_answer(msg, mlen, a) < 0 ||
	    (!audit && !ldm_policy_name_allowed(p, a->qname, NULL))) {
		a->n_addrs = 0;
		return LDM_DECIDE_DROP;
	}
	return LDM_DECIDE_PASS;
}
