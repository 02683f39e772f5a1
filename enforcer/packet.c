/*
 * Packet decoding for the queue: IPv4/IPv6, the IPv6 extension header chain, TCP, UDP,
 * ICMP/ICMPv6. Pure. Every read is preceded by a length check against the bytes in the
 * buffer (the copy) and, for headers, against the end the packet declares; see packet.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"

#define IPV4_HDR_MIN 20u
#define IPV6_HDR_LEN 40u
#define TCP_HDR_MIN  20u
#define UDP_HDR_LEN  8u
#define ICMP_HDR_LEN 8u /* type, code, checksum and 4 bytes of rest-of-header */

enum {
	IPPROTO_NUM_HOPOPTS = 0,
	IPPROTO_NUM_ICMP = 1,
	IPPROTO_NUM_TCP = 6,
	IPPROTO_NUM_UDP = 17,
	IPPROTO_NUM_ROUTING = 43,
	IPPROTO_NUM_FRAGMENT = 44,
	IPPROTO_NUM_AH = 51,
	IPPROTO_NUM_ICMPV6 = 58,
	IPPROTO_NUM_DSTOPTS = 60,
};

/*
 * The three ends of a packet: LEN bytes were copied, the IP header declares END, and AVAIL
 * (the smaller) is what may be decoded. Invariant once set: l4_offset <= avail <= len.
 */
struct bounds {
	size_t len;
	size_t end;
	size_t avail;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void
set_bounds(struct bounds *b, size_t len, size_t end)
{
	b->len = len;
	b->end = end;
	b->avail = len < end ? len : end;
}

/* Validates the IPv4 header: version, IHL within LEN, total length covering the header. */
static int
parse_ipv4(const uint8_t *buf, size_t len, struct ldm_packet *p, struct bounds *b)
{
	size_t ihl, total;
	uint16_t frag;

	if (len < IPV4_HDR_MIN || buf[0] >> 4 != 4)
		return -EBADMSG;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN || ihl > len)
		return -EBADMSG;
	total = get16(buf + 2);
	if (total < ihl)
		return -EBADMSG;
	frag = get16(buf + 6);
	p->family = AF_INET;
	p->l4proto = buf[9];
	memcpy(p->src, buf + 12, 4);
	memcpy(p->dst, buf + 16, 4);
	p->ip_total_len = (uint32_t)total;
	p->l4_offset = (uint32_t)ihl;
	p->is_fragment = (frag & 0x1fff) != 0;
	p->more_fragments = !p->is_fragment && (frag & 0x2000) != 0;
	set_bounds(b, len, total);
	return 0;
}

static bool
is_ipv6_ext(uint8_t nh)
{
	return nh == IPPROTO_NUM_HOPOPTS || nh == IPPROTO_NUM_ROUTING ||
	       nh == IPPROTO_NUM_FRAGMENT || nh == IPPROTO_NUM_AH || nh == IPPROTO_NUM_DSTOPTS;
}

/* The length of the extension header NH at H; at least 8 bytes of it are in the buffer. */
static size_t
ipv6_ext_len(uint8_t nh, const uint8_t *h)
{
	if (nh == IPPROTO_NUM_FRAGMENT)
		return 8;
	if (nh == IPPROTO_NUM_AH)
		return ((size_t)h[1] + 2) * 4;
	return ((size_t)h[1] + 1) * 8;
}

/*
 * Walks the extension headers from P->l4_offset, leaving there the offset and protocol of
 * what follows them. Stops at the first non-extension header (ESP, no-next-header and
 * unknown headers included: the caller names those OTHER) or at a non-first fragment.
 * Hop-by-hop must come first and a fragment header at most once, as RFC 8200 says.
 */
static int
walk_ipv6_ext(const uint8_t *buf, const struct bounds *b, struct ldm_packet *p)
{
	size_t off = p->l4_offset;
	uint8_t nh = p->l4proto;
	bool seen_frag = false;

	for (unsigned n = 0; is_ipv6_ext(nh); n++) {
		const uint8_t *h = buf + off;
		size_t hlen;

		if (n == LDM_PACKET_MAX_EXT_HDRS || (nh == IPPROTO_NUM_HOPOPTS && n != 0))
			return -EBADMSG;
		if (b->avail - off < 8)
			return -EBADMSG;
		hlen = ipv6_ext_len(nh, h);
		if (hlen > b->avail - off)
			return -EBADMSG;
		if (nh == IPPROTO_NUM_FRAGMENT) {
			uint16_t fo = get16(h + 2);

			if (seen_frag)
				return -EBADMSG; /* at most once (RFC 8200 4.1) */
			seen_frag = true;
			p->is_fragment = (fo >> 3) != 0;
			p->more_fragments = !p->is_fragment && (fo & 1) != 0;
		}
		nh = h[0];
		off += hlen;
		if (p->is_fragment)
			break; /* what follows is the middle of the fragmentable part */
	}
	p->l4proto = nh;
	p->l4_offset = (uint32_t)off;
	return 0;
}

/* Validates the fixed IPv6 header (version, payload length) and the extension headers. */
static int
parse_ipv6(const uint8_t *buf, size_t len, struct ldm_packet *p, struct bounds *b)
{
	size_t total;

	if (len < IPV6_HDR_LEN || buf[0] >> 4 != 6)
		return -EBADMSG;
	total = IPV6_HDR_LEN + get16(buf + 4);
	p->family = AF_INET6;
	p->l4proto = buf[6];
	memcpy(p->src, buf + 8, 16);
	memcpy(p->dst, buf + 24, 16);
	p->ip_total_len = (uint32_t)total;
	p->l4_offset = IPV6_HDR_LEN;
	set_bounds(b, len, total);
	return walk_ipv6_ext(buf, b, p);
}

static enum ldm_proto
proto_of(uint8_t family, uint8_t l4proto)
{
	if (l4proto == IPPROTO_NUM_TCP)
		return LDM_PROTO_TCP;
	if (l4proto == IPPROTO_NUM_UDP)
		return LDM_PROTO_UDP;
	if (family == AF_INET && l4proto == IPPROTO_NUM_ICMP)
		return LDM_PROTO_ICMP;
	if (family == AF_INET6 && l4proto == IPPROTO_NUM_ICMPV6)
		return LDM_PROTO_ICMP;
	return LDM_PROTO_OTHER;
}

/*
 * Is an L4 header of HLEN bytes at the L4 offset wholly there? 1: in the buffer; 0: the
 * packet holds it but the copy ends inside it (P is marked l4_truncated); -EBADMSG: it runs
 * past the end the packet declares.
 */
static int
l4_room(const struct bounds *b, struct ldm_packet *p, size_t hlen)
{
	if (hlen > b->end - p->l4_offset)
		return -EBADMSG;
	if (hlen > b->avail - p->l4_offset) {
		p->l4_truncated = true;
		p->payload_offset = (uint32_t)b->avail;
		p->payload_len = 0;
		return 0;
	}
	return 1;
}

/* Sets the payload to [OFF, min(PEND, avail)); OFF <= avail holds. */
static void
set_payload(const struct bounds *b, struct ldm_packet *p, size_t off, size_t pend)
{
	size_t stop = pend < b->avail ? pend : b->avail;

	p->payload_offset = (uint32_t)off;
	p->payload_len = (uint32_t)(stop - off);
}

static int
parse_tcp(const uint8_t *buf, const struct bounds *b, struct ldm_packet *p)
{
	const uint8_t *h = buf + p->l4_offset;
	size_t doff;
	int r;

	r = l4_room(b, p, TCP_HDR_MIN);
	if (r <= 0)
		return r;
	doff = (size_t)(h[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN)
		return -EBADMSG;
	r = l4_room(b, p, doff);
	if (r <= 0)
		return r;
	p->sport = get16(h);
	p->dport = get16(h + 2);
	p->tcp_flags = h[13];
	p->has_ports = true;
	set_payload(b, p, p->l4_offset + doff, b->end);
	return 0;
}

/*
 * UDP: the length field covers header and data and ends within the IP packet (trailing
 * bytes after it are ignored, as the kernel does). In a first fragment the datagram goes
 * on in later fragments, so it only has to be at least as long as this one's share.
 */
static int
parse_udp(const uint8_t *buf, const struct bounds *b, struct ldm_packet *p)
{
	const uint8_t *h = buf + p->l4_offset;
	size_t ulen, share = b->end - p->l4_offset;
	int r;

	r = l4_room(b, p, UDP_HDR_LEN);
	if (r <= 0)
		return r;
	ulen = get16(h + 4);
	if (ulen < UDP_HDR_LEN)
		return -EBADMSG;
	if (p->more_fragments ? ulen < share : ulen > share)
		return -EBADMSG;
	p->sport = get16(h);
	p->dport = get16(h + 2);
	p->has_ports = true;
	set_payload(b, p, p->l4_offset + UDP_HDR_LEN,
	            p->more_fragments ? b->end : p->l4_offset + ulen);
	return 0;
}

static int
parse_icmp(const uint8_t *buf, const struct bounds *b, struct ldm_packet *p)
{
	const uint8_t *h = buf + p->l4_offset;
	int r;

	r = l4_room(b, p, ICMP_HDR_LEN);
	if (r <= 0)
		return r;
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	set_payload(b, p, p->l4_offset + ICMP_HDR_LEN, b->end);
	return 0;
}

/* Decodes the L4 header, unless this is a non-first fragment (which has none). */
static int
parse_l4(const uint8_t *buf, const struct bounds *b, struct ldm_packet *p)
{
	p->proto = proto_of(p->family, p->l4proto);
	if (b->len < b->end || p->more_fragments)
		p->payload_truncated = true;
	switch (p->is_fragment ? LDM_PROTO_OTHER : p->proto) {
	case LDM_PROTO_TCP:
		return parse_tcp(buf, b, p);
	case LDM_PROTO_UDP:
		return parse_udp(buf, b, p);
	case LDM_PROTO_ICMP:
		return parse_icmp(buf, b, p);
	default:
		set_payload(b, p, p->l4_offset, b->end);
		return 0;
	}
}

int
ldm_packet_parse(const uint8_t *buf, size_t len, struct ldm_packet *ret)
{
	struct ldm_packet p;
	struct bounds b;
	int r;

	if (buf == NULL || len == 0)
		return -EBADMSG;
	memset(&p, 0, sizeof(p));
	switch (buf[0] >> 4) {
	case 4:
		r = parse_ipv4(buf, len, &p, &b);
		break;
	case 6:
		r = parse_ipv6(buf, len, &p, &b);
		break;
	default:
		return -EBADMSG;
	}
	if (r < 0)
		return r;
	r = parse_l4(buf, &b, &p);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

int
ldm_packet_flow(const struct ldm_packet *p, bool reply, struct ldm_flow *ret)
{
	struct ldm_flow f;

	if (p->family != AF_INET && p->family != AF_INET6)
		return -EINVAL;
	if ((p->proto == LDM_PROTO_TCP || p->proto == LDM_PROTO_UDP) && !p->has_ports)
		return -ENODATA;
	memset(&f, 0, sizeof(f));
	f.family = p->family;
	f.proto = p->proto;
	f.dir = reply ? LDM_DIR_IN : LDM_DIR_OUT;
	memcpy(f.addr, p->dst, sizeof(f.addr));
	f.port = reply ? p->sport : p->dport; /* 0 without ports */
	f.host = NULL;
	f.ifindex = 0;
	*ret = f;
	return 0;
}
