/*
 * The enforcer's decisions, pure: what a queued packet's flow, DNS query or DNS answer
 * becomes, given the session's policy, the routing facts and the names the session
 * resolved. ldm-enforcerd's queue handler (logging, counting, answering the kernel) and
 * `ldmctl explain` both decide through here.
 */
#ifndef LDM_VERDICT_H
#define LDM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/policy.h"

struct ldm_packet;
struct ldm_dns_answer;

/* What the enforcer answers for one packet. */
enum ldm_decision {
	LDM_DECIDE_DROP = 0, /* the default */
	LDM_DECIDE_PASS,     /* an inbound DNS answer whose addresses are recorded: let it in */
	LDM_DECIDE_REJECT,   /* blocked TCP/UDP: the guard chain answers RST / ICMP, then drops */
	LDM_DECIDE_ALLOW,    /* approved: the flow's later packets stay in the kernel */
};

/*
 * Judges FLOW (its host ignored) by its address and, for each of the N_NAMES names the
 * session resolved to that address, by the name (host rules): allowed if one allows and
 * none denies (a deny for any of the names wins, as a matching deny always does). *RET_HOST
 * (if not NULL) names the name that decided or, when blocked by default, the first one
 * (the daemon passes the names most recently resolved first: ldm_nametab_lookup()).
 * A flow that cannot be judged is blocked (rule NULL).
 */
void ldm_verdict_flow(const struct ldm_policy *p, const struct ldm_flow *flow,
                      const struct ldm_lan *lan, const char *const *names, size_t n_names,
                      struct ldm_verdict *ret, const char **ret_host);

/* A judged flow's answer: allowed (or, in audit mode, only logged) flows are approved;
 * blocked TCP and UDP are rejected, anything else dropped. */
enum ldm_decision ldm_verdict_decide(bool allowed, bool audit, enum ldm_proto proto);

/* The answer once more: an ending session's app is gone, so nothing of it leaves any more
 * (inbound DNS answers still pass). */
enum ldm_decision ldm_verdict_final(enum ldm_decision d, bool ending);

/* A DNS query's fate. */
enum ldm_dnsq {
	LDM_DNSQ_EMPTY = 0, /* a TCP segment with no payload (handshake, ACK): no name in it */
	LDM_DNSQ_ALLOWED,   /* a `host` rule or dns_allow names it, and no deny */
	LDM_DNSQ_UNREADABLE,
	LDM_DNSQ_BLOCKED,
};

struct ldm_dnsq_verdict {
	enum ldm_dnsq result;
	char name[LDM_MAX_HOST_LEN + 1]; /* ALLOWED, BLOCKED: the question name */
	uint16_t qtype;
	const struct ldm_rule *rule; /* the deciding rule, or NULL (dns_allow, default) */
};

/*
 * Judges the DNS query in packet K (DATA[0..LEN) holds it whole: one UDP datagram or one
 * framed TCP message). A query leaves only if its name is allowed: the name is data.
 */
void ldm_verdict_dns_query(const struct ldm_policy *p, const struct ldm_packet *k,
                           const uint8_t *data, size_t len, struct ldm_dnsq_verdict *ret);

/* What a blocked query becomes: in audit mode it leaves (and is only logged). */
enum ldm_decision ldm_verdict_dns_blocked(bool audit);

/*
 * Judges the DNS answer in packet K: PASS for an answer to a name the policy allows (or any
 * name in audit mode, whose queries all left), with its parsed records in *ANSWER (which
 * n_addrs 0 for an empty TCP segment); DROP for
 * anything else (not an answer to a query we let out). *RET_EMPTY says which PASS carried
 * no message.
 */
enum ldm_decision ldm_verdict_dns_answer(const struct ldm_policy *p, bool audit,
                                         const struct ldm_packet *k, const uint8_t *data,
                                         size_t len, struct ldm_dns_answer *answer,
                                         bool *ret_empty);

#endif
