/*
 * Packet decoding: the IPv4/IPv6 and TCP/UDP/ICMP headers of a packet as NFQUEUE delivers it
 * (starting at the IP header, possibly cut short by the queue's copy range). Pure: a buffer
 * in, a struct out.
 *
 * This is the boundary for packet bytes: everything the packet claims (versions, header
 * lengths, total length, extension header chain, TCP data offset, UDP length) is checked
 * here, against the packet's own lengths and against LEN, before it is read. Past the
 * parser the daemon trusts struct ldm_packet, never the bytes. Anything malformed is
 * -EBADMSG, and the caller blocks and logs it (fail closed).
 *
 * Two kinds of "short" are told apart:
 *   - a header that runs past the end the packet itself declares (IPv4 total length, IPv6
 *     payload length) is malformed: -EBADMSG. That includes a first fragment too short to
 *     hold its L4 header (the tiny fragment attack, RFC 1858).
 *   - a well-formed packet whose copy ends early (LEN < the IP end): the headers that are
 *     wholly in BUF are decoded, payload_truncated is set, and if the copy cuts into the L4
 *     header, l4_truncated is set and the ports are unknown (has_ports false). IP and IPv6
 *     extension headers must always be wholly in BUF (the protocol cannot be named
 *     otherwise): -EBADMSG.
 *
 * Not accepted: IPv6 jumbograms (payload length 0 with data behind the header), more than
 * LDM_PACKET_MAX_EXT_HDRS IPv6 extension headers, a hop-by-hop header anywhere but first,
 * two fragment headers, TCP data offset < 5, UDP length < 8 or past the IP end. Checksums
 * are not verified (the kernel owns them; locally sent packets may carry offloaded, partial
 * checksums).
 */
#ifndef LDM_PACKET_H
#define LDM_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/policy.h"

#define LDM_PACKET_MAX_EXT_HDRS 8 /* IPv6 extension headers walked before giving up */

/* TCP header flag bits (byte 13 of the header). */
#define LDM_TCP_FIN 0x01u
#define LDM_TCP_SYN 0x02u
#define LDM_TCP_RST 0x04u
#define LDM_TCP_PSH 0x08u
#define LDM_TCP_ACK 0x10u
#define LDM_TCP_URG 0x20u
#define LDM_TCP_ECE 0x40u
#define LDM_TCP_CWR 0x80u

struct ldm_packet {
	uint8_t family;       /* AF_INET or AF_INET6 */
	uint8_t l4proto;      /* IP protocol number: IPv4 protocol, IPv6 last next-header */
	enum ldm_proto proto; /* TCP, UDP, ICMP (ICMPv6 for IPv6) or OTHER */
	uint8_t src[16];      /* IPv4: the first 4 bytes, the rest zero */
	uint8_t dst[16];
	uint16_t sport; /* host order; 0 unless has_ports */
	uint16_t dport;
	uint8_t tcp_flags; /* LDM_TCP_*; TCP only */
	uint8_t icmp_type; /* ICMP/ICMPv6 only */
	uint8_t icmp_code;
	bool is_fragment;        /* a non-first fragment: no L4 header, ports unknown */
	bool more_fragments;     /* a first fragment (MF set): the L4 payload continues later */
	bool has_ports;          /* TCP or UDP with its header in BUF */
	bool l4_truncated;       /* the copy ends inside the L4 header: ports etc. unknown */
	bool payload_truncated;  /* BUF lacks part of the payload: copy cut, or more fragments */
	uint32_t l4_offset;      /* where the L4 header starts in BUF */
	uint32_t payload_offset; /* where the L4 payload starts in BUF (TCP/UDP/ICMP data) */
	uint32_t payload_len;    /* payload bytes present in BUF (never past LEN) */
	uint32_t ip_total_len;   /* IPv4 total length; IPv6 40 + payload length */
};

/*
 * Parses the packet in BUF[0..LEN). Returns 0 and fills *ret, or -EBADMSG for an empty,
 * malformed or unsupported packet (then *ret is untouched). Never reads past LEN. Offsets
 * in *ret are into BUF; payload_offset + payload_len <= LEN.
 */
int ldm_packet_parse(const uint8_t *buf, size_t len, struct ldm_packet *ret);

/*
 * Fills *ret with the flow a packet the app sends belongs to. REPLY: the packet answers a
 * flow the peer opened (the conntrack reply direction): dir IN, peer = destination, port =
 * source port (the app's local port). Otherwise dir OUT, peer = destination, port =
 * destination port. ICMP and OTHER flows have port 0. host is NULL and ifindex 0;
 * IPv4-mapped IPv6 peers are left to the evaluator.
 *
 * Returns 0; -ENODATA for a TCP or UDP packet whose ports are unknown (a non-first fragment,
 * or l4_truncated): judging it as port 0 would slip past deny rules that name ports, so the
 * caller blocks it instead; -EINVAL if P is not a parsed packet. *ret is untouched on error.
 */
int ldm_packet_flow(const struct ldm_packet *p, bool reply, struct ldm_flow *ret);

#endif
