/*
 * The `lan` snapshot: which prefixes are on-link (reached without a gateway) right now, and
 * through which interface. Read from the main routing table over rtnetlink (ldm_lan_read in
 * kernel/lan_read.h), or given by hand (--lan CIDR). ldmctl uses it to explain verdicts;
 * ldm-enforcerd to compile `lan` rules. These are the pure parts (enforcer/lan.c).
 */
#ifndef LDM_LAN_H
#define LDM_LAN_H

#include <linux/netlink.h>
#include <stddef.h>

#include "ldm/policy.h"

#define LDM_MAX_LAN_ENTRIES 1024 /* more on-link routes than this: refuse, don't truncate */

/*
 * Appends the prefixes of LIST, a comma-separated list of CIDRs or addresses such as
 * "192.168.144.0/24,fd00:1::/64" (a space may follow each comma), to the array *V of *N
 * entries, with ifindex 0 (any interface). Entries already present are not repeated.
 * Returns 0; -EINVAL for a malformed item, -EDOM for a prefix with host bits set
 * ("192.168.144.7/24"), -E2BIG past LDM_MAX_LAN_ENTRIES, -ENOMEM. On failure *V and *N are
 * unchanged and, if RET_BAD is not NULL, *RET_BAD points at the offending item in LIST.
 */
int ldm_lan_parse_cidrs(const char *list, struct ldm_lan_entry **v, size_t *n,
                        const char **ret_bad);

/*
 * Appends E to the array *V of *N entries unless an equal entry is there. Returns 0,
 * -E2BIG past LDM_MAX_LAN_ENTRIES or -ENOMEM (then *V and *N are unchanged).
 */
int ldm_lan_add(struct ldm_lan_entry **v, size_t *n, const struct ldm_lan_entry *e);

/*
 * Judges one RTM_NEWROUTE message of a route dump. An on-link route (LDM_ROUTE_LINK) is a
 * unicast route of the main table with a destination prefix, an output interface other
 * than LO_IFINDEX, no gateway, via, multipath or nexthop object, and (IPv4) link scope;
 * loopback prefixes never count. A default route (LDM_ROUTE_DEFAULT, prefix length 0) is a
 * unicast main-table route of length 0 through one output interface (gateway or not; not
 * multipath or a nexthop object). A routed prefix (LDM_ROUTE_VIA) is a unicast main-table
 * route of a destination prefix through a gateway on one output interface (not lo, not
 * multipath or a nexthop object). A local address (LDM_ROUTE_LOCAL) is a local route of the
 * local table of full length, loopback addresses excepted. Every attribute is
 * bounds-checked. Returns 1 and fills *RET for one of these, 0 for any other route,
 * -EINVAL for a malformed message.
 */
int ldm_lan_route_parse(const struct nlmsghdr *nlh, int lo_ifindex, struct ldm_lan_entry *ret);

/*
 * Marks each on-link entry (LINK or UPLINK) of V as UPLINK when its interface is an uplink,
 * else LINK. The uplinks are the interfaces UPLINKS names (N_UPLINKS of them, possibly none)
 * or, when UPLINKS is NULL, the interfaces of V's DEFAULT entries.
 */
void ldm_lan_mark_uplinks(struct ldm_lan_entry *v, size_t n, const int *uplinks, size_t n_uplinks);

/*
 * The interface the kernel's routes pick for the address: that of the longest LINK, UPLINK,
 * VIA or DEFAULT entry in V that contains it, or 0 if none does or the best entry names no
 * interface. (A LOCAL address goes out the loopback device: the caller checks that.)
 */
int ldm_lan_ifindex(const struct ldm_lan_entry *v, size_t n, uint8_t family,
                    const uint8_t addr[16]);

#endif
