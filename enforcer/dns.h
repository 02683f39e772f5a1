/*
 * DNS message decoding: the query an app sends (judged by its name) and the response that
 * comes back (whose addresses are recorded for the name). Pure: a buffer in, a struct out.
 *
 * This is the boundary for DNS bytes. Every count, length, label and compression pointer is
 * checked against LEN before it is read; anything malformed is -EBADMSG and the output is
 * left untouched, so the caller blocks and logs (fail closed). Past the parser the daemon
 * trusts the structs, never the bytes.
 *
 * Names come out lower case, dotted, without the trailing dot, and always pass
 * ldm_host_name_normalize(): labels of letters, digits, '-' and '_' (no '-' at either end),
 * 1..63 bytes each, at most 255 bytes on the wire (253 as text). Nothing else can match a
 * policy name, and odd bytes in a query are the usual sign of data smuggled out in names.
 */
#ifndef LDM_DNS_H
#define LDM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/policy.h"

#define LDM_DNS_HDR_LEN       12
#define LDM_DNS_MAX_WIRE      255 /* a name on the wire, length bytes and root included */
#define LDM_DNS_MAX_HOPS      16  /* compression pointers followed for one name */
#define LDM_DNS_MAX_ADDRS     32  /* addresses kept from one answer; more are counted */
#define LDM_DNS_MAX_CNAMES    8   /* CNAME links followed from the question name */
#define LDM_DNS_MAX_CNAME_RRS 32  /* CNAME records considered per answer; more are skipped */

#define LDM_DNS_TYPE_A     1
#define LDM_DNS_TYPE_CNAME 5
#define LDM_DNS_TYPE_AAAA  28
#define LDM_DNS_TYPE_OPT   41
#define LDM_DNS_CLASS_IN   1

#define LDM_DNS_RCODE_NOERROR  0
#define LDM_DNS_RCODE_NXDOMAIN 3

struct ldm_dns_query {
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass; /* always LDM_DNS_CLASS_IN */
	bool edns;       /* an OPT record follows the question */
	char name[LDM_MAX_HOST_LEN + 1];
};

/* An address the answer gives for the question name, directly or through the CNAME chain. */
struct ldm_dns_addr {
	uint8_t family; /* AF_INET (addr[0..3], the rest zero) or AF_INET6 */
	uint8_t addr[16];
	uint8_t owner; /* 0: the question name; K: cname[K - 1] */
	uint32_t ttl;  /* seconds: the smallest TTL on the way from the question name */
};

struct ldm_dns_answer {
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass; /* always LDM_DNS_CLASS_IN */
	uint8_t rcode;   /* the header's 4 bits */
	bool truncated;  /* TC set */
	char qname[LDM_MAX_HOST_LEN + 1];
	/* The chain: qname is an alias of cname[0], which is an alias of cname[1], ... */
	char cname[LDM_DNS_MAX_CNAMES][LDM_MAX_HOST_LEN + 1];
	size_t n_cnames;
	bool chain_cut; /* cname[LDM_DNS_MAX_CNAMES - 1] has a CNAME too; not followed */
	struct ldm_dns_addr addrs[LDM_DNS_MAX_ADDRS];
	size_t n_addrs;
	size_t n_ignored; /* A/AAAA records whose owner is not on the chain: not for us */
	size_t n_dropped; /* A/AAAA records on the chain past LDM_DNS_MAX_ADDRS */
};

/*
 * Parses the DNS query MSG[0..LEN) (a UDP payload, or one message that
 * ldm_dns_tcp_frame() found). Accepted: QR 0, opcode QUERY, TC 0, RCODE 0, exactly one
 * question, no answer or authority records, at most one additional record which must be an
 * EDNS OPT record with the root owner and well-formed options; no bytes after it. The
 * question name may not use compression, its class must be IN, its type not 0 or OPT.
 *
 * Returns 0 and fills *ret, or -EBADMSG (then *ret is untouched). Never reads past LEN.
 */
int ldm_dns_parse_query(const uint8_t *msg, size_t len, struct ldm_dns_query *ret);

/*
 * Parses the DNS response MSG[0..LEN): QR 1, opcode QUERY, exactly one question of class
 * IN, then every record of the answer section, which must be well-formed (compression
 * pointers only to earlier bytes than the name part that holds them, past the header, at
 * most LDM_DNS_MAX_HOPS; A records of 4 bytes, AAAA of 16, CNAME data exactly one name).
 * The authority and additional sections are not read.
 *
 * The CNAME chain is followed from the question name (class IN records only; a loop, or two
 * different CNAMEs for one name, is -EBADMSG). A and AAAA records of class IN are kept when
 * their owner is the question name or on the chain; any other owner is counted in n_ignored
 * (records for names nobody asked about are how caches get poisoned). Records of other
 * types, and names with bytes outside the name rules, are skipped.
 *
 * Returns 0 and fills *ret, or -EBADMSG (then *ret is untouched). Never reads past LEN. The
 * caller matches id, qname and qtype against the query it let out.
 */
int ldm_dns_parse_answer(const uint8_t *msg, size_t len, struct ldm_dns_answer *ret);

/* The name an address of A belongs to: qname or a CNAME target. */
const char *ldm_dns_addr_owner(const struct ldm_dns_answer *a, const struct ldm_dns_addr *addr);

/*
 * Finds the first DNS message in the TCP payload BUF[0..LEN) (a 2-byte big-endian length,
 * then the message). Returns the bytes it takes (2 + message length) and sets *ret_msg and
 * *ret_len to the message; -EAGAIN when BUF holds less than the whole message (it continues
 * in a later segment); -EBADMSG when the length is shorter than a DNS header. Messages
 * after the first start at BUF + the return value.
 */
int ldm_dns_tcp_frame(const uint8_t *buf, size_t len, const uint8_t **ret_msg, size_t *ret_len);

#endif
