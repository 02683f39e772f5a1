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
 *
 * Before that, when a session ends, its entries are read (a dump filtered by the same mark)
 * for their accounting counters: the bytes of its traffic (traffic_log.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctentry.h"
#include "ldm/util.h"
#include "state.h"

/* A ctnetlink socket, bound: 0 and *RET, *PORTID, or -errno. */
static int
ctnl_open(struct mnl_socket **ret, uint32_t *portid)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int rc;

	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	*portid = mnl_socket_get_portid(nl);
	*ret = nl;
	return 0;
}

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

	rc = ctnl_open(&nl, &portid);
	if (rc < 0)
		return rc;
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

/* The state of one dump: each entry goes to FN; unreadable messages are counted. */
struct dump {
	uint32_t mark, mask;
	ldm_conntrack_entry_fn fn;
	void *userdata;
	unsigned bad;
};

static int
dump_one(const struct nlmsghdr *nlh, void *data)
{
	struct dump *dp = data;
	struct ldm_ct_entry e;
	int r = ldm_ct_entry_parse(nlh, nlh->nlmsg_len, &e);

	if (r == -ENOMSG)
		return MNL_CB_OK;
	if (r < 0) {
		dp->bad++;
		return MNL_CB_OK;
	}
	/* The kernel filters by mark; an entry it let through otherwise is not ours. */
	if ((e.mark & dp->mask) == dp->mark)
		dp->fn(&e, dp->userdata);
	return MNL_CB_OK;
}

static int
dump_request(struct mnl_socket *nl, uint32_t mark, uint32_t mask, uint32_t seq)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfh;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = AF_UNSPEC;
	nfh->version = NFNETLINK_V0;
	nfh->res_id = 0;
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

int
ldm_conntrack_dump(uint32_t mark, uint32_t mask, ldm_conntrack_entry_fn fn, void *userdata)
{
	static uint8_t buf[32768]; /* a dump's messages come in batches of up to this */
	struct dump dp = { mark & mask, mask, fn, userdata, 0 };
	uint32_t portid, seq = (uint32_t)time(NULL);
	struct mnl_socket *nl;
	int rc, cb = MNL_CB_OK;
	ssize_t n;

	rc = ctnl_open(&nl, &portid);
	if (rc < 0)
		return rc;
	rc = dump_request(nl, mark, mask, seq);
	while (rc == 0 && cb > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			break;
		}
		cb = mnl_cb_run(buf, (size_t)n, seq, portid, dump_one, &dp);
		if (cb == MNL_CB_ERROR)
			rc = -errno;
	}
	if (rc == 0 && dp.bad > 0)
		rc = -EBADMSG;
	mnl_socket_close(nl);
	return rc;
}

int
ldm_conntrack_dump_slot(struct daemon *d, unsigned slot, ldm_conntrack_entry_fn fn, void *userdata)
{
	uint32_t v = ldm_marks_slot(&d->marks, slot);

	if (v == 0)
		return -EINVAL;
	return ldm_conntrack_dump(v, d->marks.slot_mask, fn, userdata);
}

#define ACCT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_acct"

/*
 * Conntrack accounting in this network namespace: on, or turned on now. It applies to
 * connections that begin after it is on, so it is checked before a session's first flow.
 */
int
ldm_conntrack_accounting(void)
{
	char v[8] = "";
	int fd, rc = 0;

	if (ldm_read_small_at(AT_FDCWD, ACCT_SYSCTL, v, sizeof(v)) >= 0 && v[0] == '1')
		return 0;
	fd = open(ACCT_SYSCTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		rc = errno != 0 ? -errno : -EIO;
	close(fd);
	return rc;
}
