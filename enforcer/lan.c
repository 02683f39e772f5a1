/*
 * The `lan` snapshot's pure parts: --lan lists, route messages, uplinks, the route an
 * address takes. Unit-tested and fuzzed; kernel/lan_read.c asks the kernel. Trust boundary:
 * route messages come from the kernel, but every attribute is still length-checked before
 * use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/lan.h"
#include "ldm/util.h"

static bool
entry_equal(const struct ldm_lan_entry *a, const struct ldm_lan_entry *b)
{
	return a->ifindex == b->ifindex && a->kind == b->kind &&
	       a->prefix.family == b->prefix.family && a->prefix.plen == b->prefix.plen &&
	       memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr)) == 0;
}

int
ldm_lan_add(struct ldm_lan_entry **v, size_t *n, const struct ldm_lan_entry *e)
{
	struct ldm_lan_entry *nv;

	for (size_t i = 0; i < *n; i++)
		if (entry_equal(&(*v)[i], e))
			return 0;
	if (*n >= LDM_MAX_LAN_ENTRIES)
		return -E2BIG;
	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (nv == NULL)
		return -ENOMEM;
	nv[*n] = *e;
	*v = nv;
	(*n)++;
	return 0;
}

/* Parses one item of a --lan list, [S, S + LEN). */
static int
parse_item(const char *s, size_t len, struct ldm_lan_entry *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct ldm_lan_entry e = { 0 };
	int r;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	r = ldm_prefix_parse(buf, &e.prefix);
	if (r < 0)
		return r == -EDOM ? -EDOM : -EINVAL;
	*ret = e;
	return 0;
}

int
ldm_lan_parse_cidrs(const char *list, struct ldm_lan_entry **v, size_t *n, const char **ret_bad)
{
	_cleanup_free_ struct ldm_lan_entry *nv = NULL;
	size_t nn = 0;
	const char *s = list;
	int r;

	/* Work on a copy so that a bad item leaves the caller's array as it was. */
	for (size_t i = 0; i < *n; i++) {
		r = ldm_lan_add(&nv, &nn, &(*v)[i]);
		if (r < 0)
			return r;
	}
	for (;;) {
		size_t len = strcspn(s, ",");
		struct ldm_lan_entry e;

		r = parse_item(s, len, &e);
		if (r == 0)
			r = ldm_lan_add(&nv, &nn, &e);
		if (r < 0) {
			if (ret_bad != NULL)
				*ret_bad = s;
			return r;
		}
		if (s[len] == '\0')
			break;
		s += len + 1;
		if (*s == ' ')
			s++;
	}
	free(*v);
	*v = TAKE_PTR(nv);
	*n = nn;
	return 0;
}

struct route_attrs {
	const struct nlattr *tb[RTA_MAX + 1];
	uint8_t family;
};

/* Keeps the attributes we read, each checked for its exact size; ignores the others. */
static int
route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_attrs *ra = data;
	uint16_t type = mnl_attr_get_type(attr);
	size_t alen = ra->family == AF_INET ? 4 : 16;

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK; /* newer than our headers: not one we read */
	switch (type) {
	case RTA_OIF:
	case RTA_TABLE:
	case RTA_NH_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_DST:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, alen) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_GATEWAY:
	case RTA_VIA:
	case RTA_MULTIPATH:
		break; /* only their presence matters */
	default:
		return MNL_CB_OK;
	}
	ra->tb[type] = attr;
	return MNL_CB_OK;
}

static bool
prefix_is_loopback(const struct ldm_prefix *p)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };

	if (p->family == AF_INET)
		return p->addr[0] == 127;
	return p->plen == 128 && memcmp(p->addr, v6_lo, 16) == 0;
}

/* Copies the destination prefix, clearing any host bits the kernel would not have set. */
static void
route_prefix(const struct route_attrs *ra, uint8_t plen, struct ldm_prefix *ret)
{
	size_t alen = ra->family == AF_INET ? 4 : 16;

	*ret = (struct ldm_prefix){ .family = ra->family, .plen = plen };
	memcpy(ret->addr, mnl_attr_get_payload(ra->tb[RTA_DST]), alen);
	for (unsigned i = plen; i < alen * 8; i++)
		ret->addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

int
ldm_lan_route_parse(const struct nlmsghdr *nlh, int lo_ifindex, struct ldm_lan_entry *ret)
{
	struct route_attrs ra = { 0 };
	const struct rtmsg *rtm;
	struct ldm_lan_entry e = { 0 };
	uint32_t table, oif;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0; /* another family (a dump may answer with more) */
	ra.family = rtm->rtm_family;
	if (rtm->rtm_dst_len > (ra.family == AF_INET ? 32 : 128))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &ra) != MNL_CB_OK)
		return -EINVAL;
	table = ra.tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(ra.tb[RTA_TABLE]) : rtm->rtm_table;
	if ((rtm->rtm_flags & RTM_F_CLONED) != 0)
		return 0;
	/* This machine's own addresses: the local table's local routes. */
	if (table == RT_TABLE_LOCAL && rtm->rtm_type == RTN_LOCAL && ra.tb[RTA_DST] != NULL &&
	    rtm->rtm_dst_len == (ra.family == AF_INET ? 32 : 128)) {
		route_prefix(&ra, rtm->rtm_dst_len, &e.prefix);
		if (prefix_is_loopback(&e.prefix))
			return 0;
		e.kind = LDM_ROUTE_LOCAL;
		*ret = e;
		return 1;
	}
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
		return 0;
	/* A default route through one interface (with or without a gateway): an uplink. */
	if (rtm->rtm_dst_len == 0 && ra.tb[RTA_OIF] != NULL && ra.tb[RTA_MULTIPATH] == NULL &&
	    ra.tb[RTA_NH_ID] == NULL) {
		oif = mnl_attr_get_u32(ra.tb[RTA_OIF]);
		if (oif == 0 || oif > INT32_MAX || (int)oif == lo_ifindex)
			return 0;
		e.prefix.family = ra.family;
		e.ifindex = (int)oif;
		e.kind = LDM_ROUTE_DEFAULT;
		*ret = e;
		return 1;
	}
	if (ra.tb[RTA_MULTIPATH] != NULL || ra.tb[RTA_NH_ID] != NULL)
		return 0;
	/* A prefix behind a gateway: where address rules for it are pinned, never `lan`. */
	if (ra.tb[RTA_GATEWAY] != NULL || ra.tb[RTA_VIA] != NULL) {
		if (rtm->rtm_dst_len == 0 || ra.tb[RTA_DST] == NULL || ra.tb[RTA_OIF] == NULL)
			return 0;
		oif = mnl_attr_get_u32(ra.tb[RTA_OIF]);
		if (oif == 0 || oif > INT32_MAX || (int)oif == lo_ifindex)
			return 0;
		route_prefix(&ra, rtm->rtm_dst_len, &e.prefix);
		e.ifindex = (int)oif;
		e.kind = LDM_ROUTE_VIA;
		*ret = e;
		return 1;
	}
	if (ra.family == AF_INET && rtm->rtm_scope != RT_SCOPE_LINK)
		return 0;
	if (rtm->rtm_dst_len == 0 || ra.tb[RTA_DST] == NULL || ra.tb[RTA_OIF] == NULL)
		return 0; /* a default route through a device is no LAN */
	oif = mnl_attr_get_u32(ra.tb[RTA_OIF]);
	if (oif == 0 || oif > INT32_MAX || (int)oif == lo_ifindex)
		return 0;
	route_prefix(&ra, rtm->rtm_dst_len, &e.prefix);
	if (prefix_is_loopback(&e.prefix))
		return 0;
	e.ifindex = (int)oif;
	*ret = e;
	return 1;
}

void
ldm_lan_mark_uplinks(struct ldm_lan_entry *v, size_t n, const int *uplinks, size_t n_uplinks)
{
	for (size_t i = 0; i < n; i++) {
		bool up = false;

		if (v[i].kind != LDM_ROUTE_LINK && v[i].kind != LDM_ROUTE_UPLINK)
			continue;
		if (uplinks != NULL) {
			for (size_t k = 0; k < n_uplinks && !up; k++)
				up = v[i].ifindex != 0 && v[i].ifindex == uplinks[k];
		} else {
			for (size_t k = 0; k < n && !up; k++)
				up = v[k].kind == LDM_ROUTE_DEFAULT && v[i].ifindex != 0 &&
				     v[k].ifindex == v[i].ifindex;
		}
		v[i].kind = up ? LDM_ROUTE_UPLINK : LDM_ROUTE_LINK;
	}
}

int
ldm_lan_ifindex(const struct ldm_lan_entry *v, size_t n, uint8_t family, const uint8_t addr[16])
{
	const struct ldm_lan_entry *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == LDM_ROUTE_LOCAL)
			continue;
		if (v[i].kind == LDM_ROUTE_DEFAULT && v[i].prefix.family != family)
			continue;
		if (!ldm_prefix_contains(&v[i].prefix, family, addr))
			continue;
		if (best == NULL || v[i].prefix.plen > best->prefix.plen)
			best = &v[i];
	}
	return best != NULL ? best->ifindex : 0;
}
