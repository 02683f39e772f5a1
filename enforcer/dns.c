/*
 * DNS message decoding (see dns.h). Offsets are size_t into MSG and every read goes through
 * a helper that checks it against LEN first. Names are decoded into a fixed buffer whose
 * size the wire limit guarantees; a name that is well-formed but breaks the name rules
 * decodes to -EILSEQ, which the callers turn into -EBADMSG (queries, the question) or a
 * skipped record (answer records).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

#define FLAG_QR       0x8000u
#define FLAG_TC       0x0200u
#define OPCODE(flags) (((flags) >> 11) & 0xfu)
#define RCODE(flags)  ((flags)&0xfu)

struct hdr {
	uint16_t id, flags, qd, an, ns, ar;
};

/* One resource record, as read by rr_read(): offsets into the message. */
struct rr {
	size_t owner;
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata;
	uint16_t rdlen;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
read16(const uint8_t *msg, size_t len, size_t *off, uint16_t *ret)
{
	if (*off > len || len - *off < 2)
		return -EBADMSG;
	*ret = get16(msg + *off);
	*off += 2;
	return 0;
}

static int
read32(const uint8_t *msg, size_t len, size_t *off, uint32_t *ret)
{
	uint16_t hi, lo;

	if (read16(msg, len, off, &hi) < 0 || read16(msg, len, off, &lo) < 0)
		return -EBADMSG;
	*ret = (uint32_t)hi << 16 | lo;
	return 0;
}

static int
hdr_read(const uint8_t *msg, size_t len, struct hdr *ret)
{
	if (len < LDM_DNS_HDR_LEN)
		return -EBADMSG;
	ret->id = get16(msg);
	ret->flags = get16(msg + 2);
	ret->qd = get16(msg + 4);
	ret->an = get16(msg + 6);
	ret->ns = get16(msg + 8);
	ret->ar = get16(msg + 10);
	return 0;
}

/* Letters, digits, '-' and '_', no '-' at either end: what ldm_host_name_normalize() takes. */
static bool
label_ok(const uint8_t *s, size_t n)
{
	if (s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		/* Explicitly ASCII: isalnum() depends on the locale. */
		if (s[i] < 0x80 && (isalnum(s[i]) || s[i] == '-' || s[i] == '_'))
			continue;
		return false;
	}
	return true;
}

/* Appends label S[0..N) to BUF at *pos, lower case, after a dot unless it is the first. */
static void
label_append(char *buf, size_t *pos, const uint8_t *s, size_t n)
{
	if (*pos > 0)
		buf[(*pos)++] = '.';
	for (size_t i = 0; i < n; i++)
		buf[(*pos)++] = (char)tolower(s[i]);
}

/*
 * Decodes the name at *OFF into BUF (LDM_MAX_HOST_LEN + 1 bytes) and moves *OFF past it (past
 * its first pointer if it has one). A pointer must aim past the header and before the start
 * of the name part that holds it, so each hop goes strictly backwards and loops cannot
 * exist; LDM_DNS_MAX_HOPS caps the work anyway. The root name decodes to "". Returns 0,
 * -EBADMSG (malformed: BUF is garbage) or -EILSEQ (well-formed, but not a name we accept).
 */
static int
name_read(const uint8_t *msg, size_t len, size_t *off, bool compress, char *buf)
{
	size_t pos = *off, part = *off, end = 0, wire = 1, n = 0;
	unsigned hops = 0;
	bool ok = true;

	for (;;) {
		size_t c, target;

		if (pos >= len)
			return -EBADMSG;
		c = msg[pos];
		if (c == 0)
			break;
		if ((c & 0xc0) == 0xc0) {
			if (!compress || len - pos < 2 || ++hops > LDM_DNS_MAX_HOPS)
				return -EBADMSG;
			target = (c & 0x3f) << 8 | msg[pos + 1];
			if (target < LDM_DNS_HDR_LEN || target >= part)
				return -EBADMSG;
			if (end == 0)
				end = pos + 2;
			pos = part = target;
			continue;
		}
		/* 0x40 and 0x80 are the obsolete extended and reserved label types. */
		wire += 1 + c;
		if ((c & 0xc0) != 0 || wire > LDM_DNS_MAX_WIRE || len - pos - 1 < c)
			return -EBADMSG;
		ok = ok && label_ok(msg + pos + 1, c);
		label_append(buf, &n, msg + pos + 1, c);
		pos += 1 + c;
	}
	buf[n] = '\0';
	*off = end != 0 ? end : pos + 1;
	return ok ? 0 : -EILSEQ;
}

/* Reads the one question after the header: a valid, non-root name, its type and class IN. */
static int
question_read(const uint8_t *msg, size_t len, size_t *off, bool compress, char *name,
              uint16_t *ret_type)
{
	uint16_t type, class;

	if (name_read(msg, len, off, compress, name) != 0 || name[0] == '\0')
		return -EBADMSG;
	if (read16(msg, len, off, &type) < 0 || read16(msg, len, off, &class) < 0)
		return -EBADMSG;
	if (class != LDM_DNS_CLASS_IN || type == 0 || type == LDM_DNS_TYPE_OPT)
		return -EBADMSG;
	*ret_type = type;
	return 0;
}

/* Checks the EDNS OPT record at *off: root owner, options that exactly fill its data. */
static int
opt_check(const uint8_t *msg, size_t len, size_t *off)
{
	uint16_t type, size, rdlen, code, olen;
	uint32_t ext;
	size_t end;

	if (*off >= len || msg[(*off)++] != 0)
		return -EBADMSG;
	if (read16(msg, len, off, &type) < 0 || read16(msg, len, off, &size) < 0 ||
	    read32(msg, len, off, &ext) < 0 || read16(msg, len, off, &rdlen) < 0)
		return -EBADMSG;
	if (type != LDM_DNS_TYPE_OPT || len - *off < rdlen)
		return -EBADMSG;
	end = *off + rdlen;
	while (*off < end) {
		if (read16(msg, end, off, &code) < 0 || read16(msg, end, off, &olen) < 0 ||
		    end - *off < olen)
			return -EBADMSG;
		*off += olen;
	}
	return 0;
}

int
ldm_dns_parse_query(const uint8_t *msg, size_t len, struct ldm_dns_query *ret)
{
	struct ldm_dns_query q;
	struct hdr h;
	size_t off = LDM_DNS_HDR_LEN;

	if (hdr_read(msg, len, &h) < 0)
		return -EBADMSG;
	if ((h.flags & (FLAG_QR | FLAG_TC)) != 0 || OPCODE(h.flags) != 0 || RCODE(h.flags) != 0)
		return -EBADMSG;
	if (h.qd != 1 || h.an != 0 || h.ns != 0 || h.ar > 1)
		return -EBADMSG;
	memset(&q, 0, sizeof(q));
	if (question_read(msg, len, &off, false, q.name, &q.qtype) < 0)
		return -EBADMSG;
	if (h.ar == 1 && opt_check(msg, len, &off) < 0)
		return -EBADMSG;
	/* Nothing may ride behind the message. */
	if (off != len)
		return -EBADMSG;
	q.id = h.id;
	q.qclass = LDM_DNS_CLASS_IN;
	q.edns = h.ar == 1;
	*ret = q;
	return 0;
}

/* Checks the data of a class IN record of a type we read. */
static int
rdata_check(const uint8_t *msg, const struct rr *rr)
{
	char name[LDM_MAX_HOST_LEN + 1];
	size_t off = rr->rdata;

	if (rr->class != LDM_DNS_CLASS_IN)
		return 0;
	switch (rr->type) {
	case LDM_DNS_TYPE_A:
		return rr->rdlen == 4 ? 0 : -EBADMSG;
	case LDM_DNS_TYPE_AAAA:
		return rr->rdlen == 16 ? 0 : -EBADMSG;
	case LDM_DNS_TYPE_CNAME:
		/* The name must end exactly where the data does; pointers may go before it. */
		if (name_read(msg, rr->rdata + rr->rdlen, &off, true, name) == -EBADMSG)
			return -EBADMSG;
		return off == rr->rdata + rr->rdlen ? 0 : -EBADMSG;
	default:
		return 0;
	}
}

/* Reads the record at *off and moves past it. Owner names may break the name rules. */
static int
rr_read(const uint8_t *msg, size_t len, size_t *off, struct rr *ret)
{
	char name[LDM_MAX_HOST_LEN + 1];
	struct rr rr;

	rr.owner = *off;
	if (name_read(msg, len, off, true, name) == -EBADMSG)
		return -EBADMSG;
	if (read16(msg, len, off, &rr.type) < 0 || read16(msg, len, off, &rr.class) < 0 ||
	    read32(msg, len, off, &rr.ttl) < 0 || read16(msg, len, off, &rr.rdlen) < 0)
		return -EBADMSG;
	if (len - *off < rr.rdlen)
		return -EBADMSG;
	rr.rdata = *off;
	if (rdata_check(msg, &rr) < 0)
		return -EBADMSG;
	*off += rr.rdlen;
	/* RFC 2181 section 8: a TTL with the top bit set means zero. */
	if (rr.ttl > INT32_MAX)
		rr.ttl = 0;
	*ret = rr;
	return 0;
}

static bool
rr_is(const struct rr *rr, uint16_t type)
{
	return rr->type == type && rr->class == LDM_DNS_CLASS_IN;
}

/* Where NAME is on A's chain: 0 for qname, K for cname[K - 1]; -1 if not on it. */
static int
chain_index(const struct ldm_dns_answer *a, const char *name)
{
	if (strcmp(a->qname, name) == 0)
		return 0;
	for (size_t i = 0; i < a->n_cnames; i++)
		if (strcmp(a->cname[i], name) == 0)
			return (int)i + 1;
	return -1;
}

/* The smallest TTL of the CNAME links up to chain position K. */
static uint32_t
chain_ttl(const uint32_t *link_ttl, size_t k, uint32_t ttl)
{
	for (size_t i = 0; i < k; i++)
		if (link_ttl[i] < ttl)
			ttl = link_ttl[i];
	return ttl;
}

/*
 * Finds the CNAME record among CN[0..N) whose owner is NAME and decodes its target into
 * TARGET. Returns 1 (found, *ret_ttl set), 0 (none, or a target that breaks the name
 * rules or is the root: the chain ends there) or -EBADMSG (two records with different targets).
 */
static int
cname_find(const uint8_t *msg, size_t len, const struct rr *cn, size_t n, const char *name,
           char *target, uint32_t *ret_ttl)
{
	char owner[LDM_MAX_HOST_LEN + 1], t[LDM_MAX_HOST_LEN + 1];
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		size_t off = cn[i].owner, toff = cn[i].rdata;

		if (name_read(msg, len, &off, true, owner) != 0 || strcmp(owner, name) != 0)
			continue;
		/* The root name is no host either. */
		if (name_read(msg, cn[i].rdata + cn[i].rdlen, &toff, true, t) != 0 || t[0] == '\0')
			return 0;
		if (found && strcmp(t, target) != 0)
			return -EBADMSG;
		memcpy(target, t, sizeof(t));
		*ret_ttl = cn[i].ttl;
		found = 1;
	}
	return found;
}

/* Follows the CNAME chain from the question name through the records CN[0..N). */
static int
chain_build(const uint8_t *msg, size_t len, const struct rr *cn, size_t n, struct ldm_dns_answer *a,
            uint32_t *link_ttl)
{
	const char *cur = a->qname;
	char spare[LDM_MAX_HOST_LEN + 1];
	uint32_t ttl;
	int r;

	while (a->n_cnames < LDM_DNS_MAX_CNAMES) {
		char *next = a->cname[a->n_cnames];

		r = cname_find(msg, len, cn, n, cur, next, &link_ttl[a->n_cnames]);
		if (r <= 0)
			return r;
		if (chain_index(a, next) >= 0)
			return -EBADMSG; /* a loop */
		a->n_cnames++;
		cur = next;
	}
	r = cname_find(msg, len, cn, n, cur, spare, &ttl);
	if (r < 0)
		return r;
	a->chain_cut = r > 0;
	return 0;
}

/* Keeps the address record RR if its owner is on the chain (and there is room). */
static void
addr_keep(const uint8_t *msg, size_t len, const struct rr *rr, struct ldm_dns_answer *a,
          const uint32_t *link_ttl)
{
	char owner[LDM_MAX_HOST_LEN + 1];
	size_t off = rr->owner;
	struct ldm_dns_addr *d;
	int k = -1;

	if (name_read(msg, len, &off, true, owner) == 0)
		k = chain_index(a, owner);
	if (k < 0) {
		a->n_ignored++;
		return;
	}
	if (a->n_addrs == LDM_DNS_MAX_ADDRS) {
		a->n_dropped++;
		return;
	}
	d = &a->addrs[a->n_addrs++];
	d->family = rr->type == LDM_DNS_TYPE_A ? AF_INET : AF_INET6;
	memcpy(d->addr, msg + rr->rdata, rr->rdlen);
	d->owner = (uint8_t)k;
	d->ttl = chain_ttl(link_ttl, (size_t)k, rr->ttl);
}

/* Reads AN answer records from *off: checks all of them, keeps the CNAMEs in CN. */
static int
answers_scan(const uint8_t *msg, size_t len, size_t *off, unsigned an, struct rr *cn, size_t *ret_n)
{
	struct rr rr;
	size_t n = 0;

	for (unsigned i = 0; i < an; i++) {
		if (rr_read(msg, len, off, &rr) < 0)
			return -EBADMSG;
		if (rr_is(&rr, LDM_DNS_TYPE_CNAME) && n < LDM_DNS_MAX_CNAME_RRS)
			cn[n++] = rr;
	}
	*ret_n = n;
	return 0;
}

/* The question and the header fields of a response; the records are read by the caller. */
static int
response_head(const uint8_t *msg, size_t len, size_t *off, struct hdr *h, struct ldm_dns_answer *a)
{
	if (hdr_read(msg, len, h) < 0)
		return -EBADMSG;
	if ((h->flags & FLAG_QR) == 0 || OPCODE(h->flags) != 0 || h->qd != 1)
		return -EBADMSG;
	if (question_read(msg, len, off, true, a->qname, &a->qtype) < 0)
		return -EBADMSG;
	a->id = h->id;
	a->qclass = LDM_DNS_CLASS_IN;
	a->rcode = (uint8_t)RCODE(h->flags);
	a->truncated = (h->flags & FLAG_TC) != 0;
	return 0;
}

int
ldm_dns_parse_answer(const uint8_t *msg, size_t len, struct ldm_dns_answer *ret)
{
	struct ldm_dns_answer a;
	struct rr cn[LDM_DNS_MAX_CNAME_RRS], rr;
	uint32_t link_ttl[LDM_DNS_MAX_CNAMES];
	size_t off = LDM_DNS_HDR_LEN, start, n_cn;
	struct hdr h;

	memset(&a, 0, sizeof(a));
	if (response_head(msg, len, &off, &h, &a) < 0)
		return -EBADMSG;
	start = off;
	if (answers_scan(msg, len, &off, h.an, cn, &n_cn) < 0)
		return -EBADMSG;
	if (chain_build(msg, len, cn, n_cn, &a, link_ttl) < 0)
		return -EBADMSG;
	/* Second pass: the records are known to be well-formed now. */
	off = start;
	for (unsigned i = 0; i < h.an; i++) {
		if (rr_read(msg, len, &off, &rr) < 0)
			return -EBADMSG;
		if (rr_is(&rr, LDM_DNS_TYPE_A) || rr_is(&rr, LDM_DNS_TYPE_AAAA))
			addr_keep(msg, len, &rr, &a, link_ttl);
	}
	*ret = a;
	return 0;
}

const char *
ldm_dns_addr_owner(const struct ldm_dns_answer *a, const struct ldm_dns_addr *addr)
{
	if (addr->owner == 0 || addr->owner > a->n_cnames)
		return a->qname;
	return a->cname[addr->owner - 1];
}

int
ldm_dns_tcp_frame(const uint8_t *buf, size_t len, const uint8_t **ret_msg, size_t *ret_len)
{
	size_t n;

	if (len < 2)
		return -EAGAIN;
	n = get16(buf);
	if (n < LDM_DNS_HDR_LEN)
		return -EBADMSG;
	if (len - 2 < n)
		return -EAGAIN;
	*ret_msg = buf + 2;
	*ret_len = n;
	return (int)(n + 2);
}
