/*
 * Conntrack entries outlive the session that made them: a connection a session's policy
 * approved keeps the approval (A|slot) in its connmark until conntrack forgets it, and a
 * DNS query's connection keeps the slot. Before a slot serves another session, every entry
 * whose connmark names the slot is deleted, so that the next session on the slot never
 * inherits an approval, nor the answers to another session's queries.
 *
 * One ctnetlink request: IPCTNL_MSG_CT_DELETE without a tuple and with CTA_MARK /
 * CTA_MARK_MASK deletes every entry of this network namespace whose mark matches (the
 * kernel's filtered flush; both families). The kernel acknowledges once the walk is done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "state.h"

int
ldm_conntrack_forget(uint32_t mark, uint32_t mask)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfh;
	uint32_t portid, seq = (uint32_t)time(NULL);
	int rc = 0;
	ssize_t n;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = AF_UNSPEC;
	nfh->version = NFNETLINK_V0;
	nfh->res_id = 0;
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	/* The ack: 0, or the kernel's error (ENOENT when nothing matched is fine). */
	if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0 && errno != ENOENT)
		rc = -errno;
out:
	mnl_socket_close(nl);
	return rc;
}

int
ldm_conntrack_forget_slot(struct daemon *d, unsigned slot)
{
	uint32_t v = ldm_marks_slot(&d->marks, slot);

	if (v == 0)
		return -EINVAL;
	return ldm_conntrack_forget(v, d->marks.slot_mask);
}
