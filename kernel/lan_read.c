/*
 * Reads the `lan` snapshot from the kernel: a dump of the routing tables over rtnetlink,
 * each message judged by ldm_lan_route_parse(). Edge code shared by ldm-enforcerd (which
 * compiles `lan` rules) and ldmctl (which explains verdicts).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/lan_read.h"
#include "ldm/util.h"

#define DUMP_RETRIES 3 /* a dump interrupted by route changes is restarted this often */

struct dump_state {
	struct ldm_lan_entry *v;
	size_t n;
	int lo_ifindex;
	int err;
};

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *st = data;
	struct ldm_lan_entry e;
	int r;

	if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
		st->err = -EAGAIN;
		return MNL_CB_ERROR;
	}
	r = ldm_lan_route_parse(nlh, st->lo_ifindex, &e);
	if (r > 0)
		r = ldm_lan_add(&st->v, &st->n, &e);
	if (r < 0) {
		st->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Dumps FAMILY's routes into ST. Returns 0 or -errno. */
static int
dump_family(struct mnl_socket *nl, uint8_t family, uint32_t seq, struct dump_state *st)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	ssize_t len;
	int r = MNL_CB_OK;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_table = RT_TABLE_UNSPEC; /* all tables: main for routes, local for addresses */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (r > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		st->err = 0;
		errno = 0;
		r = mnl_cb_run(buf, (size_t)len, seq, portid, dump_cb, st);
	}
	if (r < 0)
		return st->err != 0 ? st->err : (errno != 0 ? -errno : -EINVAL);
	return 0;
}

static void
mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl != NULL)
		mnl_socket_close(*nl);
}

/* One attempt at reading both families. Returns 0 or -errno; fills ST. */
static int
read_once(struct dump_state *st, uint32_t seq)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	int r;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	r = dump_family(nl, AF_INET, seq, st);
	if (r < 0)
		return r;
	r = dump_family(nl, AF_INET6, seq + 1, st);
	if (r == -EAFNOSUPPORT)
		r = 0; /* a kernel without IPv6 has no IPv6 LAN */
	return r;
}

int
ldm_lan_read(struct ldm_lan_entry **ret, size_t *ret_n)
{
	int lo = (int)if_nametoindex("lo"); /* 0 if absent: then no route is skipped for it */
	int r = -EAGAIN;

	for (unsigned try = 0; try < DUMP_RETRIES && r == -EAGAIN; try++) {
		struct dump_state st = { .lo_ifindex = lo };

		r = read_once(&st, 1 + try * 2);
		if (r < 0) {
			free(st.v);
			continue;
		}
		ldm_lan_mark_uplinks(st.v, st.n, NULL, 0);
		*ret = st.v;
		*ret_n = st.n;
	}
	return r;
}
