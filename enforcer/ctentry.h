/*
 * One conntrack entry as ctnetlink reports it (IPCTNL_MSG_CT_NEW in a dump): its original
 * tuple, its mark and its accounting counters. Pure: a message in, a struct out.
 *
 * Trust: the message comes from the kernel, but it is read as any outside input: every
 * attribute's length is checked before it is read (libmnl's validation), nested
 * attributes stay within their parent, and an entry that lacks what is needed is refused.
 */
#ifndef LDM_CTENTRY_H
#define LDM_CTENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ldm_ct_entry {
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t l4proto; /* IPPROTO_* */
	uint8_t src[16]; /* the original direction: who opened the connection */
	uint8_t dst[16];
	uint16_t sport, dport; /* 0 for protocols without ports */
	uint32_t mark;
	/* Accounting (nf_conntrack_acct): false when the entry carries none (accounting was
	 * off when the connection began). Bytes are of the IP packets, headers included. */
	bool has_counters;
	uint64_t packets_orig, bytes_orig;
	uint64_t packets_reply, bytes_reply;
};

/*
 * Reads the ctnetlink message of LEN bytes at MSG (nlmsghdr, nfgenmsg, attributes; MSG
 * aligned as a netlink buffer is, to 4 bytes). Only the message's own nlmsg_len is read.
 * Returns 0 and fills *ret, -EBADMSG for a message that is not a well-formed conntrack
 * entry of IPv4 or IPv6 with an original tuple, or -ENOMSG for one that is not an entry
 * (another message type). *ret is written only on success.
 */
int ldm_ct_entry_parse(const void *msg, size_t len, struct ldm_ct_entry *ret);

#endif
