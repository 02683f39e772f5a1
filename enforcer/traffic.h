/*
 * A session's traffic per allow rule and peer, from its conntrack entries at the end:
 * which rule let each connection through (judged again by the policy: the kernel's compiled
 * rules never decide differently) and what it carried each way, summed per (rule, proto,
 * peer, port). Pure: entries in, rows out; the rows become `traffic` records.
 *
 * Bounded: at most LDM_TRAFFIC_MAX_ROWS rows; connections past them count in the totals
 * only (and in `over`). Sums saturate at UINT64_MAX.
 */
#ifndef LDM_TRAFFIC_H
#define LDM_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "ctentry.h"
#include "ldm/event.h"
#include "ldm/policy.h"

#define LDM_TRAFFIC_MAX_ROWS 1024

struct ldm_traffic_row {
	uint32_t rule;       /* 0: no allow rule (a DNS query, a flow audit mode let pass) */
	const char *comment; /* the rule's, borrowed from the policy */
	enum ldm_proto proto;
	struct ldm_event_addr peer;
	uint16_t port; /* the peer's port (out), the app's own port (in); 0 without ports */
	uint64_t flows;
	uint64_t packets_out, bytes_out; /* what the app sent */
	uint64_t packets_in, bytes_in;   /* what it got */
};

struct ldm_traffic {
	struct ldm_traffic_row *rows; /* LDM_TRAFFIC_MAX_ROWS, allocated by ldm_traffic_init */
	size_t n;
	struct ldm_traffic_row total; /* every connection counted, rows past the cap too */
	uint64_t over;                /* connections past the cap: in total only */
	uint64_t uncounted;           /* connections without accounting: in no sum */
};

/* The names the session resolved to ADDR (ldm_nametab_lookup); returns how many (max MAX). */
typedef size_t (*ldm_traffic_names_fn)(uint8_t family, const uint8_t addr[16], const char **names,
                                       size_t max, void *userdata);

/* Returns 0 and an empty T, or -ENOMEM. */
int ldm_traffic_init(struct ldm_traffic *t);
void ldm_traffic_fini(struct ldm_traffic *t);

/*
 * Adds connection CT of a session with POLICY: judged as a flow out to its original
 * destination, else as a flow in from its original source (the peer opened it), else it
 * counts under rule 0 as out. LAN and NAMES as the queue's verdicts use them (NAMES may be
 * NULL). An entry without counters only counts in `uncounted`.
 */
void ldm_traffic_add(struct ldm_traffic *t, const struct ldm_policy *policy,
                     const struct ldm_lan *lan, ldm_traffic_names_fn names, void *userdata,
                     const struct ldm_ct_entry *ct);

#endif
