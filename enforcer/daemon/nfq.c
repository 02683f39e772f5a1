/*
 * The NFQUEUE side: packets the kernel rules could not decide (a new flow no static allow
 * covers, a deny to log, DNS, a reply to a flow the peer opened) arrive here; each is judged
 * and answered. Verdicts of one receive buffer go back in one send.
 *
 * Fail closed: the queue is bound without NFQA_CFG_F_FAIL_OPEN, so packets are dropped when
 * the queue is full; the rules queue with --queue-bypass, which only acts when no daemon is
 * bound: LDM-GUARD then drops the packet and counts it for its slot (logged by the next
 * daemon, ldm_session_log_unjudged). Here, a verdict starts as DROP; a packet we cannot attribute, parse or judge stays dropped and is counted or logged.
 *
 * Trust: packet bytes are untrusted (the app chose them): ldm_packet_parse() bounds every
 * read. The mark is ours (set by our chains), but is checked against live sessions anyway.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "state.h"
#include "session_table.h"
#include "flowtab.h"
#include "ldm/util.h"
#include "dns.h"
#include "nametab.h"
#include "ldm/verdict.h"
#include "packet.h"

#define COPY_RANGE   0xffff /* whole packets: DNS answers and queries are judged by content */
#define QUEUE_MAXLEN 65536  /* a burst of new flows waits instead of being dropped */
#define RCVBUF       (16 * 1024 * 1024)
#define FLOW_TTL_MS  2000 /* how long a decision answers the rest of a flow's queued packets */

/* The module's own state. */
struct ldm_queue {
	struct mnl_socket *nl;
	uint32_t portid;
	struct ldm_nfq_stats stats;
};

static uint8_t rxbuf[1 << 18];
static uint8_t txbuf[1 << 16];
static size_t txlen;

static int
fcntl_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

static int
send_config(struct daemon *d, struct nlmsghdr *nlh)
{
	uint8_t ack[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(d->queue->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(d->queue->nl, ack, sizeof(ack));
	if (n < 0)
		return -errno;
	return mnl_cb_run(ack, (size_t)n, nlh->nlmsg_seq, d->queue->portid, NULL, NULL) < 0 ? -errno
	                                                                                    : 0;
}

static int
configure(struct daemon *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int r;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, d->cfg.queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	r = send_config(d, nlh);
	if (r < 0)
		return r;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, d->cfg.queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
	/* FAIL_OPEN is in the mask and not in the flags: explicitly off. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK,
	                 htonl(NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	return send_config(d, nlh);
}

int
ldm_nfq_fd(const struct daemon *d)
{
	return d->queue != NULL && d->queue->nl != NULL ? mnl_socket_get_fd(d->queue->nl) : -1;
}

void
ldm_nfq_stats(const struct daemon *d, struct ldm_nfq_stats *ret)
{
	*ret = d->queue != NULL ? d->queue->stats : (struct ldm_nfq_stats){ 0 };
}

int
ldm_nfq_open(struct daemon *d)
{
	int rcvbuf = RCVBUF, r;

	d->queue = calloc(1, sizeof(*d->queue));
	if (d->queue == NULL)
		return -ENOMEM;
	d->queue->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (d->queue->nl == NULL)
		return -errno;
	if (mnl_socket_bind(d->queue->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	d->queue->portid = mnl_socket_get_portid(d->queue->nl);
	(void)setsockopt(mnl_socket_get_fd(d->queue->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	                 sizeof(rcvbuf));
	/* The config answers come back on a non-blocking socket: wait for them. */
	r = fcntl_blocking(mnl_socket_get_fd(d->queue->nl), true);
	if (r == 0)
		r = configure(d);
	if (r == 0)
		r = fcntl_blocking(mnl_socket_get_fd(d->queue->nl), false);
	if (r < 0)
		return r;
	return ldm_loop_watch_fd(d, mnl_socket_get_fd(d->queue->nl), EPOLLIN);
}

void
ldm_nfq_close(struct daemon *d)
{
	if (d->queue == NULL)
		return;
	if (d->queue->nl != NULL)
		mnl_socket_close(d->queue->nl);
	free(d->queue);
	d->queue = NULL;
}

static void
flush_verdicts(struct daemon *d)
{
	if (txlen == 0)
		return;
	if (mnl_socket_sendto(d->queue->nl, txbuf, txlen) < 0)
		d->queue->stats
		        .verdict_errors++; /* the packets stay queued, then are dropped: closed */
	txlen = 0;
}

static void
put_verdict(struct daemon *d, uint32_t id, int verdict, bool set_mark, uint32_t mark)
{
	struct nlmsghdr *nlh;

	if (txlen + 128 > sizeof(txbuf))
		flush_verdicts(d);
	nlh = nfq_nlmsg_put((char *)txbuf + txlen, NFQNL_MSG_VERDICT, d->cfg.queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	txlen += NLMSG_ALIGN(nlh->nlmsg_len);
}

struct pkt {
	uint32_t id, mark, uid;
	uint8_t hook; /* NF_INET_LOCAL_OUT, or NF_INET_LOCAL_IN for DNS answers */
	int outdev;
	const uint8_t *data;
	size_t len;
};

/* The one place a decision becomes an NF verdict; only LDM_DECIDE_ALLOW carries approval. */
static void
answer(struct daemon *d, const struct pkt *p, unsigned slot, enum ldm_decision dec)
{
	const struct ldm_marks *m = &d->marks;
	uint32_t base = (p->mark & ~m->mask) | ldm_marks_slot(m, slot);

	switch (dec) {
	case LDM_DECIDE_ALLOW:
		put_verdict(d, p->id, NF_ACCEPT, true, base | m->approved);
		break;
	case LDM_DECIDE_REJECT:
		put_verdict(d, p->id, NF_ACCEPT, true, base | m->reject);
		break;
	case LDM_DECIDE_PASS:
		put_verdict(d, p->id, NF_ACCEPT, false, 0); /* inbound: no guard, no approval */
		break;
	default:
		put_verdict(d, p->id, NF_DROP, false, 0);
		break;
	}
}

static void
fill_flow_event(struct ldm_event *e, const struct ldm_packet *k)
{
	e->proto = k->proto;
	e->src.family = e->dst.family = k->family;
	memcpy(e->src.addr, k->src, 16);
	memcpy(e->dst.addr, k->dst, 16);
	e->sport = k->sport;
	e->dport = k->dport;
}

static const char *
reason_of(const struct ldm_verdict *v, bool reply)
{
	if (v->rule != NULL)
		return "a deny rule matches";
	return reply ? "an answer to a flow the peer opened: no rule allows that peer"
	             : "no rule allows it (default deny)";
}

/* A new flow's record: blocked (would_block in audit mode), or ALLOWED, the first packet of
 * a flow approved here (the kernel's compiled rules approve the rest without a record). */
static void
log_flow(struct daemon *d, struct session *s, const struct ldm_packet *k, const struct pkt *p,
         const struct ldm_verdict *v, bool reply, const char *host, bool allowed)
{
	struct ldm_event e;

	ldm_event_init(&e,
	               allowed    ? LDM_EVENT_ALLOWED
	               : s->audit ? LDM_EVENT_WOULD_BLOCK
	                          : LDM_EVENT_BLOCKED,
	               NULL);
	ldm_session_table_fill_event(s, &e);
	fill_flow_event(&e, k);
	e.uid = p->uid != UINT32_MAX ? p->uid : s->uid;
	if (v->rule != NULL) {
		e.rule = v->rule->number;
		e.comment = v->rule->comment;
	}
	e.reason = allowed ? NULL : reason_of(v, reply);
	e.host = host;
	e.label = host != NULL ? ldm_policy_known_label(s->policy, host) : NULL;
	ldm_record_log(d, &e);
}

static bool
is_probe(const struct session *s, const struct ldm_packet *k)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	bool lo = k->family == AF_INET ? (k->dst[0] == 127 && k->dst[3] == 1 && k->dst[1] == 0)
	                               : memcmp(k->dst, lo6, 16) == 0;

	return s->state == SESSION_PROBING && k->proto == LDM_PROTO_UDP && k->has_ports && lo &&
	       k->dport == s->probe_port;
}

static enum ldm_decision
from_flowval(const struct ldm_flowval *fv, const struct ldm_packet *k)
{
	return ldm_verdict_decide(fv->verdict == LDM_FLOW_ALLOW,
	                          fv->verdict == LDM_FLOW_WOULD_BLOCK, k->proto);
}

/* Judges FLOW by its address and by each name this session resolved to that address. */
static void
judge_flow(struct daemon *d, struct session *s, struct ldm_flow *f, struct ldm_verdict *v,
           const char **ret_host)
{
	const struct ldm_lan lan = ldm_lan_current(d);
	const char *names[LDM_NAMETAB_MAX_NAMES];
	int n = ldm_nametab_lookup(d->names, s->id, f->family, f->addr, ldm_now_ms(), names,
	                           ELEMENTSOF(names));

	ldm_verdict_flow(s->policy, f, &lan, names, n > 0 ? (size_t)n : 0, v, ret_host);
}

/* Judges a parsed packet of session S: policy, then audit mode, then the answer. */
static enum ldm_decision
judge(struct daemon *d, struct session *s, const struct ldm_packet *k, const struct pkt *p,
      bool reply)
{
	struct ldm_flowval fv = { .verdict = LDM_FLOW_BLOCK };
	struct ldm_verdict v = { 0 };
	const char *host = NULL;
	struct ldm_flowkey key;
	struct ldm_flow f;
	uint64_t now = ldm_now_ms();

	ldm_flowkey_from_packet(s->id, k, &key);
	if (ldm_flowtab_lookup(d->flows, &key, now, &fv) == 0)
		return from_flowval(&fv, k);
	if (!k->is_fragment && ldm_packet_flow(k, reply, &f) == 0) {
		f.ifindex = p->outdev;
		judge_flow(d, s, &f, &v, &host);
	}
	if (v.allow) {
		fv.verdict = LDM_FLOW_ALLOW;
		s->allowed++;
		log_flow(d, s, k, p, &v, reply, host, true);
	} else {
		fv.verdict = s->audit ? LDM_FLOW_WOULD_BLOCK : LDM_FLOW_BLOCK;
		if (s->audit)
			s->would_block++;
		else
			s->blocked++;
		log_flow(d, s, k, p, &v, reply, host, false);
	}
	fv.rule = v.rule != NULL ? v.rule->number : 0;
	(void)ldm_flowtab_insert(d->flows, &key, &fv, now, FLOW_TTL_MS);
	return from_flowval(&fv, k);
}

/* DNS. */

static bool
is_dns(const struct ldm_packet *k, bool answer)
{
	return (k->proto == LDM_PROTO_UDP || k->proto == LDM_PROTO_TCP) && k->has_ports &&
	       (answer ? k->sport : k->dport) == 53;
}

/* Many unique names under one domain (data hidden in subdomains) fold into one record per
 * parent domain: the first of them is written whole. Sets E's fold host in PARENT. */
static void
fold_by_parent(struct ldm_event *e, const char *name, char parent[LDM_MAX_HOST_LEN + 2])
{
	const char *dot;

	if (name != NULL && (dot = strchr(name, '.')) != NULL && strchr(dot + 1, '.') != NULL &&
	    snprintf(parent, LDM_MAX_HOST_LEN + 2, "*%s", dot) < LDM_MAX_HOST_LEN + 2)
		e->fold_host = parent;
}

static void
log_query(struct daemon *d, struct session *s, const struct ldm_packet *k, const struct pkt *p,
          const char *name, const struct ldm_rule *rule, const char *reason)
{
	char parent[LDM_MAX_HOST_LEN + 2];
	struct ldm_event e;

	ldm_event_init(&e, s->audit ? LDM_EVENT_WOULD_BLOCK : LDM_EVENT_BLOCKED, NULL);
	ldm_session_table_fill_event(s, &e);
	fill_flow_event(&e, k);
	e.uid = p->uid != UINT32_MAX ? p->uid : s->uid;
	e.host = name;
	e.label = name != NULL ? ldm_policy_known_label(s->policy, name) : NULL;
	fold_by_parent(&e, name, parent);
	if (rule != NULL) {
		e.rule = rule->number;
		e.comment = rule->comment;
	}
	e.reason = reason;
	ldm_record_log(d, &e);
}

/* The query type as the log shows it: "A", "TXT", or "type 99". */
static const char *
qtype_name(uint16_t t, char *buf, size_t size)
{
	static const struct {
		uint16_t t;
		const char *name;
	} names[] = { { 1, "A" },     { 2, "NS" },     { 5, "CNAME" }, { 12, "PTR" },
		      { 15, "MX" },   { 16, "TXT" },   { 28, "AAAA" }, { 33, "SRV" },
		      { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" } };

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (names[i].t == t)
			return names[i].name;
	(void)snprintf(buf, size, "type %u", t);
	return buf;
}

/* A query leaves only if its name is allowed (host rules, dns_allow): the name is data. */
static enum ldm_decision
dns_query(struct daemon *d, struct session *s, const struct ldm_packet *k, const struct pkt *p)
{
	struct ldm_dnsq_verdict q;
	char qbuf[16], reason[96];

	ldm_verdict_dns_query(s->policy, k, p->data, p->len, &q);
	switch (q.result) {
	case LDM_DNSQ_EMPTY:
		return LDM_DECIDE_ALLOW; /* a TCP handshake or ACK carries no name */
	case LDM_DNSQ_ALLOWED:
		s->allowed++;
		return LDM_DECIDE_ALLOW;
	case LDM_DNSQ_UNREADABLE:
		log_query(d, s, k, p, NULL, NULL, "a DNS query the enforcer cannot read");
		break;
	default:
		(void)snprintf(reason, sizeof(reason), "DNS query (%s) for a name %s",
		               qtype_name(q.qtype, qbuf, sizeof(qbuf)),
		               q.rule != NULL ? "a deny rule names" : "no rule allows");
		log_query(d, s, k, p, q.name, q.rule, reason);
		break;
	}
	if (s->audit)
		s->would_block++;
	else
		s->blocked++;
	return ldm_verdict_dns_blocked(s->audit);
}

/* Past this many `resolved` records with an address in one second, a session's records
 * lose their address and fold by parent domain: one DNS answer holds up to
 * LDM_DNS_MAX_ADDRS addresses, so a hostile resolver could otherwise make each answer that
 * many records. */
#define RESOLVED_PER_SEC      64
#define RESOLVED_PER_SEC_TEXT "64"

/* The fold host of a record over the budget: "*.parent" of NAME ("*.com" for a name with one
 * dot), "*" for a name without one. */
static const char *
over_budget_host(const char *name, char parent[LDM_MAX_HOST_LEN + 2])
{
	const char *dot = name != NULL ? strchr(name, '.') : NULL;

	if (dot == NULL ||
	    snprintf(parent, LDM_MAX_HOST_LEN + 2, "*%s", dot) >= LDM_MAX_HOST_LEN + 2)
		return "*";
	return parent;
}

/* The session resolved NAME to ADDR for the first time (or the table had forgotten it): a
 * `resolved` record, so that every name of a destination is in the log, not only the one a
 * blocked record names. Folded like blocked lookups: a flood of unique names stays small.
 * Past RESOLVED_PER_SEC records a second, without the address (the name table still has
 * it): the records of a second then fold into one per parent domain, with a count. */
static void
log_resolved(struct daemon *d, struct session *s, const struct ldm_dns_addr *addr, const char *name)
{
	char parent[LDM_MAX_HOST_LEN + 2];
	uint64_t second = ldm_now_ms() / 1000;
	struct ldm_event e;

	if (second != s->resolved_second) {
		s->resolved_second = second;
		s->resolved_n = 0;
	}
	ldm_event_init(&e, LDM_EVENT_RESOLVED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.host = name;
	if (s->resolved_n >= RESOLVED_PER_SEC) {
		e.fold_host = over_budget_host(name, parent);
		e.reason = "more than " RESOLVED_PER_SEC_TEXT
		           " resolved records a second: addresses not logged";
		ldm_record_log(d, &e);
		return;
	}
	s->resolved_n++;
	e.dst.family = addr->family;
	memcpy(e.dst.addr, addr->addr, addr->family == AF_INET ? 4 : 16);
	fold_by_parent(&e, name, parent);
	ldm_record_log(d, &e);
}

/* An answer to an allowed query: its addresses are recorded for the session (with their
 * TTL) before it is let in, so the connection that follows is judged by name. */
static enum ldm_decision
dns_answer(struct daemon *d, struct session *s, const struct ldm_packet *k, const struct pkt *p)
{
	struct ldm_nametab_stats before, after;
	struct ldm_dns_answer a;
	uint64_t now = ldm_now_ms();
	bool empty;

	if (ldm_verdict_dns_answer(s->policy, s->audit, k, p->data, p->len, &a, &empty) !=
	    LDM_DECIDE_PASS) {
		d->queue->stats.bad_packets++;
		return LDM_DECIDE_DROP; /* not an answer to a query we let out */
	}
	if (empty)
		return LDM_DECIDE_PASS;
	ldm_nametab_stats(d->names, &before);
	for (size_t i = 0; i < a.n_addrs; i++)
		if (ldm_nametab_add(d->names, s->id, a.addrs[i].family, a.addrs[i].addr, a.qname,
		                    a.addrs[i].ttl, now) == 1)
			log_resolved(d, s, &a.addrs[i], a.qname);
	ldm_nametab_stats(d->names, &after);
	/* Full: older addresses were forgotten (their connections now meet no name: blocked,
	 * the safe side). Said once per session, so a flood of answers cannot fill the log. */
	if (after.evictions > before.evictions && !s->names_overflow_logged) {
		s->names_overflow_logged = true;
		ldm_record_error(d, s,
		                 "the resolved-name table is full: older addresses were "
		                 "forgotten, connections to them are blocked");
	}
	return LDM_DECIDE_PASS;
}

static void
log_bad_packet(struct daemon *d, struct session *s, const struct pkt *p)
{
	struct ldm_event e;

	d->queue->stats.bad_packets++;
	s->blocked++;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.uid = p->uid != UINT32_MAX ? p->uid : s->uid;
	e.reason = "a packet the enforcer cannot parse";
	ldm_record_log(d, &e);
}

static void
decide(struct daemon *d, const struct pkt *p)
{
	unsigned slot = ldm_marks_slot_of(&d->marks, p->mark);
	bool reply = (p->mark & d->marks.reply) != 0;
	struct session *s = slot <= LDM_MAX_SESSIONS ? &d->sessions[slot] : NULL;
	struct ldm_packet k;
	enum ldm_decision dec;

	if (slot == 0 || s == NULL || !SESSION_ACTIVE(s)) {
		d->queue->stats.no_session++;
		answer(d, p, 0, LDM_DECIDE_DROP);
		return;
	}
	if (ldm_packet_parse(p->data, p->len, &k) < 0) {
		log_bad_packet(d, s, p);
		answer(d, p, slot, LDM_DECIDE_DROP);
		return;
	}
	if (is_probe(s, &k)) {
		answer(d, p, slot, LDM_DECIDE_DROP);
		ldm_session_probe_seen(d, s, k.family);
		return;
	}
	if (p->hook == NF_INET_LOCAL_IN)
		dec = is_dns(&k, true) ? dns_answer(d, s, &k, p) : LDM_DECIDE_DROP;
	else if (!reply && is_dns(&k, false))
		dec = dns_query(d, s, &k, p);
	else
		dec = judge(d, s, &k, p, reply);
	/* An ending session's app is gone: what it queued last is judged and logged, and
	 * nothing of it is let out any more. */
	answer(d, p, slot, ldm_verdict_final(dec, s->state == SESSION_ENDING));
}

static int
packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct daemon *d = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct pkt p = { .uid = UINT32_MAX };

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		d->queue->stats
		        .bad_packets++; /* no id: nothing to answer; the kernel drops it in time */
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	p.hook = ph->hook;
	if (attr[NFQA_MARK] != NULL && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4)
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_UID] != NULL && mnl_attr_get_payload_len(attr[NFQA_UID]) >= 4)
		p.uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
	if (attr[NFQA_IFINDEX_OUTDEV] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_IFINDEX_OUTDEV]) >= 4)
		p.outdev = (int)ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	if (attr[NFQA_PAYLOAD] != NULL) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	decide(d, &p);
	return MNL_CB_OK;
}

/* Reads at most ROUNDS messages of the queue; true when it was found empty. */
static bool
read_queue(struct daemon *d, unsigned rounds)
{
	bool empty = false;

	for (unsigned round = 0; round < rounds; round++) {
		ssize_t n = mnl_socket_recvfrom(d->queue->nl, rxbuf, sizeof(rxbuf));

		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped packets for us (the safe side): count, go on. */
			d->queue->stats.enobufs++;
			continue;
		}
		if (n < 0) {
			empty = errno == EAGAIN || errno == EWOULDBLOCK;
			break;
		}
		if (mnl_cb_run(rxbuf, (size_t)n, 0, d->queue->portid, packet_cb, d) < 0)
			d->queue->stats.bad_packets++;
		flush_verdicts(d);
	}
	flush_verdicts(d);
	return empty;
}

void
ldm_nfq_input(struct daemon *d)
{
	(void)read_queue(d, 64); /* a turn of the event loop; the rest on the next one */
}

void
ldm_nfq_drain(struct daemon *d)
{
	/* Everything queued now: a session's last packets before its counts are final. The
	 * queue holds at most QUEUE_MAXLEN packets, and each message is at least one. */
	(void)read_queue(d, QUEUE_MAXLEN + 64);
}
