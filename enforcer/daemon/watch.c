/*
 * Notifications: nf_tables ruleset changes (someone flushed or edited the firewall: check
 * our rules at once and put them back, logging a tamper event) and route/address changes
 * (recompile `lan`). Both only schedule a check a few milliseconds later, so that a burst of
 * events costs one check. A periodic check in daemon.c backs them up.
 *
 * Our own commits change the ruleset too: every nf_tables transaction ends with a NEWGEN
 * message naming the pid that committed it, and a transaction of one of our iptables-restore
 * children needs no check. Anything else (another pid, no pid, a message we cannot parse, a
 * lost message) is checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"
#include "iptables.h"

#define NFT_DEBOUNCE_MS 10
#define NFT_GEN_WAIT_MS 500 /* longer than a commit takes: ours end with their NEWGEN */
#define LAN_DEBOUNCE_MS 50

static int
open_group_socket(int proto, const unsigned *groups, size_t n)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	int rcvbuf = 4 * 1024 * 1024;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
		               sizeof(groups[i])) < 0)
			goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	return fd;
fail:
	close(fd);
	return -errno;
}

/* The module's own state. */
struct ldm_watch {
	int nft_fd, rtnl_fd;
	bool pending;           /* ruleset notifications seen, their transaction's end not yet */
	uint64_t pending_until; /* then check anyway */
};

int
ldm_watch_open(struct daemon *d)
{
	static const unsigned nft[] = { NFNLGRP_NFTABLES };
	static const unsigned route[] = { RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
		                          RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK };
	int r;

	d->watch = calloc(1, sizeof(*d->watch));
	if (d->watch == NULL)
		return -ENOMEM;
	d->watch->nft_fd = d->watch->rtnl_fd = -1;
	d->watch->nft_fd = open_group_socket(NETLINK_NETFILTER, nft, 1);
	if (d->watch->nft_fd < 0)
		return d->watch->nft_fd;
	d->watch->rtnl_fd =
	        open_group_socket(NETLINK_ROUTE, route, sizeof(route) / sizeof(route[0]));
	if (d->watch->rtnl_fd < 0)
		return d->watch->rtnl_fd;
	r = ldm_loop_watch_fd(d, d->watch->nft_fd, EPOLLIN);
	return r < 0 ? r : ldm_loop_watch_fd(d, d->watch->rtnl_fd, EPOLLIN);
}

/* Drains FD; returns whether anything (or an overrun: events were lost) arrived. */
static bool
drain(int fd)
{
	static char buf[65536];
	bool any = false;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0 && errno != ENOBUFS)
			break;
		any = true;
	}
	return any;
}

/* The pid a NEWGEN message names, or 0. */
static pid_t
gen_pid(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			return (pid_t)ntohl(mnl_attr_get_u32(a));
	}
	return 0;
}

/* Reads every pending notification; returns whether one calls for a check. */
static bool
nft_changes_foreign(struct daemon *d)
{
	static char buf[65536] __attribute__((aligned(4)));
	bool check = false;
	ssize_t n;

	while ((n = recv(d->watch->nft_fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		int len = (int)n;

		if (n < 0) {
			if (errno != ENOBUFS)
				break;
			check = true; /* notifications were lost */
			continue;
		}
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			bool newgen = NFNL_SUBSYS_ID(h->nlmsg_type) == NFNL_SUBSYS_NFTABLES &&
			              NFNL_MSG_TYPE(h->nlmsg_type) == NFT_MSG_NEWGEN;

			if (!newgen) {
				d->watch->pending = true;
				continue;
			}
			if (d->watch->pending && !ldm_ipt_is_ours(gen_pid(h)))
				check = true;
			d->watch->pending = false;
		}
		if (len != 0)
			check = true; /* a truncated or malformed message */
	}
	/* A transaction whose end (NEWGEN) has not come yet, e.g. one of our background
	 * commits still running: wait for it a moment, then check anyway. */
	if (!d->watch->pending)
		d->watch->pending_until = 0;
	else if (d->watch->pending_until == 0)
		d->watch->pending_until = ldm_now_ms() + NFT_GEN_WAIT_MS;
	return check;
}

static void
schedule_check(struct daemon *d)
{
	ldm_rules_check_after(d, ldm_now_ms() + NFT_DEBOUNCE_MS);
}

static void
nft_input(struct daemon *d)
{
	if (nft_changes_foreign(d))
		schedule_check(d);
}

void
ldm_watch_tick(struct daemon *d, uint64_t now)
{
	if (d->watch->pending && now >= d->watch->pending_until) {
		d->watch->pending = false;
		d->watch->pending_until = 0;
		schedule_check(d);
	}
}

uint64_t
ldm_watch_next_deadline(const struct daemon *d)
{
	return d->watch->pending ? d->watch->pending_until : UINT64_MAX;
}

static void
rtnl_input(struct daemon *d)
{
	if (drain(d->watch->rtnl_fd))
		ldm_lan_check_after(d, ldm_now_ms() + LAN_DEBOUNCE_MS);
}

bool
ldm_watch_input(struct daemon *d, int fd)
{
	if (d->watch == NULL)
		return false;
	if (fd == d->watch->nft_fd)
		nft_input(d);
	else if (fd == d->watch->rtnl_fd)
		rtnl_input(d);
	else
		return false;
	return true;
}

void
ldm_watch_close(struct daemon *d)
{
	if (d->watch == NULL)
		return;
	if (d->watch->nft_fd >= 0)
		(void)close(d->watch->nft_fd);
	if (d->watch->rtnl_fd >= 0)
		(void)close(d->watch->rtnl_fd);
	free(d->watch);
	d->watch = NULL;
}
