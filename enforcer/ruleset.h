/*
 * The kernel ruleset: one pure function turns the daemon's state (its sessions, their
 * policies, the on-link prefixes) into `iptables-restore --noflush` text for IPv4 or IPv6.
 * The daemon regenerates and commits the whole LDM- ruleset on every change, so what is in
 * the kernel is always exactly what this function says.
 *
 * Layout (the same for IPv4 and IPv6; M = the mark mask, A/R/S = its approved, reject and
 * slot bits, ROOT = the sandbox cgroup root, Q = the queue number):
 *
 * Kernel and enforcer must agree on what a rule means. A packet in the connection's original
 * direction is a flow "out" (peer: its destination, port: its destination port); a packet in
 * the reply direction answers a flow the peer opened, a flow "in" (peer: its destination,
 * port: its source port, the app's local port). Compiled allow rules therefore match
 * --ctdir ORIGINAL (out rules) or --ctdir REPLY (in rules) exactly; they must never match a
 * packet the evaluator would block. Compiled deny rules may match more than the policy says
 * (the enforcer judges what they queue) but never less.
 *
 *   mangle OUTPUT      -> LDM-OUT (first rule)
 *   LDM-OUT            one jump per session: -m cgroup --path CG -j LDM-S<slot>;
 *                      then -m cgroup --path ROOT -j DROP (a process in no live session)
 *   LDM-S<slot>        1. connmark is A|slot (this slot's approval, mask A|slot bits):
 *                         -j LDM-A<slot> (an approved flow stays in the kernel; its packets
 *                         get the mark too). A connection another session approved (the
 *                         same 5-tuple) is judged again under this session's policy.
 *                      2. ctstate INVALID,UNTRACKED: DROP
 *                      3. deny rules: -j LDM-Q<slot> (the enforcer logs and blocks them)
 *                      4. DNS (udp/tcp 53, any address): -j LDM-Q<slot>
 *                      5. static allow rules: -j LDM-A<slot>
 *                      6. everything else: reply direction -j LDM-R<slot>, the rest
 *                         -j LDM-Q<slot>
 *   LDM-A<slot>        MARK --set-xmark A|slot/M, ACCEPT
 *   LDM-Q<slot>        MARK --set-xmark slot/M, NFQUEUE --queue-num Q --queue-bypass
 *   LDM-R<slot>        MARK --set-xmark D|slot/M, NFQUEUE --queue-num Q --queue-bypass: D
 *                      tells the enforcer the packet is in the reply direction (the queue
 *                      carries no conntrack information on this kernel). Bypass only acts
 *                      when no daemon is bound to the queue (a full queue still drops):
 *                      the packet then leaves the mangle table unjudged (the kernel goes on
 *                      with the next hook, not the next rule) and LDM-GUARD drops and
 *                      counts it for its slot.
 *   mangle POSTROUTING -> LDM-POST (first rule)
 *   LDM-POST           mark has A, connmark has not: -j LDM-SAVE; then the second guard:
 *                      a ROOT packet whose mark lacks A is dropped (e.g. a rejected packet
 *                      when filter was flushed). The connmark is never trusted here.
 *   LDM-SAVE           DNS (udp/tcp dport 53): CONNMARK --save-mark of the slot bits only,
 *                      RETURN (a query flow is never approved: each query is judged);
 *                      else CONNMARK --save-mark (the verdict's mark reaches the
 *                      connection: the verdict itself cannot set the connmark here)
 *   mangle INPUT       -> LDM-IN (first rule)
 *   LDM-IN             first: broadcast and multicast packets (pkttype) of a session's
 *                      connection in its original direction: DROP. These are the copies
 *                      the kernel loops back to this machine's own listeners
 *                      (dev_loopback_xmit) of what a session sent; they would reach
 *                      programs outside the session.
 *                      udp/tcp sport 53 whose connmark has a slot and no A (an answer to a
 *                      session's query): CONNMARK --restore-mark of the slot, NFQUEUE Q; the
 *                      enforcer records the answer's addresses before it lets it in
 *   filter OUTPUT      -> LDM-GUARD (first rule)
 *   LDM-GUARD          mark has A: RETURN (first: the common case leaves after one
 *                      match; a session packet carries A only if its own slot's chain or
 *                      the verdict on it set it, never from another session's connmark);
 *                      ROOT packets with R: REJECT (tcp-reset for TCP, port unreachable
 *                      otherwise) so apps fail fast; per session, a ROOT packet whose mark
 *                      is the bare slot (queued, unjudged: no daemon): DROP with comment
 *                      LDM_UNJUDGED_COMMENT<slot>, whose counter the next daemon reads
 *                      (iptables-save -c) and logs before its first commit resets it; any
 *                      other ROOT packet: DROP
 *
 * Conntrack entries outlive sessions: when a slot is freed, the daemon deletes every
 * conntrack entry whose connmark names that slot, before the slot can serve another session.
 *
 * Allow rules with direction "in" match the app's replies: -m conntrack --ctdir REPLY
 * -d PEER --sport PORT (the reply's destination is the peer, its source port the app's local
 * port; the same as --ctorigsrc PEER --ctorigdstport PORT without NAT, and exactly the port
 * the evaluator is given). Deny rules match peer address and protocol only (no ports,
 * direction or interface): they may queue more than they deny, never less. Rules with a
 * `host` are never compiled: their flows reach the queue and the enforcer judges them by
 * name. Every compiled rule carries -m comment "ldm rule N" so that counters map back to
 * policy rules.
 */
#ifndef LDM_RULESET_H
#define LDM_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/policy.h"
#include "marks.h"

/* The comment of a slot's counting drop in LDM-GUARD, followed by the slot number. */
#define LDM_UNJUDGED_COMMENT "ldm-unjudged-slot-"
#define LDM_IFNAME_MAX       16

/*
 * The chains of ours, named once here (the daemon checks the kernel against them): the
 * fixed ones, and one of each kind in LDM_SLOT_CHAIN_KINDS per session slot, "LDM-S3"
 * (session), "LDM-A3" (approve), "LDM-Q3" (queue), "LDM-R3" (reply queue).
 */
#define LDM_CHAIN_OUT        "LDM-OUT"
#define LDM_CHAIN_POST       "LDM-POST"
#define LDM_CHAIN_SAVE       "LDM-SAVE"
#define LDM_CHAIN_IN         "LDM-IN"
#define LDM_CHAIN_GUARD      "LDM-GUARD"
#define LDM_SLOT_CHAIN_KINDS "SAQR"

/* Is NAME one of the fixed chains of the filter table (FILTER) or of the mangle table? */
bool ldm_ruleset_fixed_chain(const char *name, bool filter);
/* The slot of per-session chain NAME ("LDM-Q7": 7), or 0 if NAME is none. */
unsigned ldm_ruleset_slot_chain(const char *name);

/*
 * A routing fact with its interface name (the evaluator's struct ldm_lan_entry): LINK
 * entries make `lan` and subnet `broadcast`; LINK, UPLINK, VIA and DEFAULT entries (prefix
 * length 0) say which interface an address rule is pinned to; LOCAL entries are ignored
 * here (a packet to this machine's own address goes out `lo`, which no pinned rule names).
 * An empty IFNAME means any interface (as ifindex 0 does for the evaluator): no -o is
 * written for `lan`, and a literal prefix whose route has no name is not compiled.
 */
struct ldm_rs_lan {
	struct ldm_prefix prefix;
	char ifname[LDM_IFNAME_MAX];
	enum ldm_route_kind kind;
};

struct ldm_rs_session {
	unsigned slot;
	uint64_t id;
	const char *cgroup; /* relative to the cgroup2 root, no leading '/' */
	const struct ldm_policy *policy;
};

/* Whether our jump is missing from a built-in chain, or present but not first. */
enum ldm_rs_jump {
	LDM_JUMP_OK = 0,
	LDM_JUMP_MISSING = 1,
	LDM_JUMP_NOT_FIRST = 2, /* delete it and insert it again at position 1 */
};

struct ldm_rs_input {
	int family; /* AF_INET or AF_INET6 */
	const struct ldm_marks *marks;
	uint16_t queue;
	const char *root; /* the sandbox cgroup root, relative to the cgroup2 root */
	const struct ldm_rs_session *sessions;
	size_t n_sessions;
	const struct ldm_rs_lan *lan;
	size_t n_lan;
	enum ldm_rs_jump jump_mangle_output, jump_mangle_postrouting, jump_mangle_input,
	        jump_filter_output;
	/*
	 * The LDM- chains the kernel holds now, per table (what iptables-save lists). Names
	 * the new state uses, and repeats, are ignored; the rest (chains of ended sessions)
	 * are flushed and deleted with -X in the same commit. Names must be "LDM-" and
	 * [A-Za-z0-9_-], at most 28 bytes.
	 */
	const char *const *old_mangle;
	size_t n_old_mangle;
	const char *const *old_filter;
	size_t n_old_filter;
};

/*
 * Writes the complete LDM- ruleset for IN->family as iptables-restore input (for use with
 * --noflush: every LDM- chain is declared, and so flushed and refilled, in one commit).
 * Returns 0 and a malloc'ed NUL-terminated text in *ret, or -errno (-EINVAL for input it
 * cannot express: a cgroup path or interface name with characters outside
 * [A-Za-z0-9._@:/-] or starting with '-', a session cgroup not strictly below ROOT, a slot
 * out of range or used twice, marks that ldm_marks_init() would not produce, an old chain
 * name that is not ours). Nothing is written to *ret on failure.
 *
 * Commit order matters to the caller: the kernel refuses a rule naming a cgroup that does
 * not exist, so an ended session's cgroup is removed only after a commit without it.
 */
int ldm_ruleset_build(const struct ldm_rs_input *in, char **ret);

/*
 * The text that removes everything of ours for FAMILY: the jumps (only those the flags say
 * are present) and every chain named (the LDM- chain names found in the kernel per table,
 * from iptables-save): all are flushed first, then deleted with -X. Returns 0 and a
 * malloc'ed text in *ret, or -EINVAL for a name that is not an LDM- chain name.
 */
int ldm_ruleset_remove(int family, const char *const *mangle_chains, size_t n_mangle,
                       const char *const *filter_chains, size_t n_filter, bool jump_mangle_output,
                       bool jump_mangle_postrouting, bool jump_mangle_input,
                       bool jump_filter_output, char **ret);

#endif
