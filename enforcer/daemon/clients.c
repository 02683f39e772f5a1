/*
 * The clients' connections (server.c accepts them and reads their requests): replies, which
 * any module may send to the client it serves (a session's requester, ldm-run waiting for
 * its final counts, a log reader's caller), and closing. A client that does not read its
 * replies is dropped rather than waited for.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eventlog.h"
#include "ldm/util.h"
#include "state.h"

void
ldm_clients_close(struct daemon *d, int client)
{
	struct client *c = &d->clients[client];

	if (c->fd < 0)
		return;
	close(c->fd); /* leaves the epoll set with it */
	c->fd = -1;
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++) {
		if (d->sessions[i].client == client)
			d->sessions[i].client = -1;
		if (d->sessions[i].final_client == client)
			d->sessions[i].final_client = -1;
	}
}

int
ldm_clients_send(struct daemon *d, int client, const void *msg)
{
	const struct ldm_msg_hdr *h = msg;
	struct client *c = &d->clients[client];
	ssize_t n;

	if (c->fd < 0)
		return -EBADF;
	/* Replies are small and clients wait for them: a full buffer means a client that
	 * does not read, and it is dropped rather than waited for. */
	n = send(c->fd, msg, h->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != (ssize_t)h->len) {
		ldm_clients_close(d, client);
		return -EIO;
	}
	return 0;
}

int
ldm_clients_reserve(struct daemon *d, int client, size_t bytes)
{
	const struct client *c = &d->clients[client];
	int size = bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;

	if (c->fd < 0)
		return -EBADF;
	/* The kernel doubles the value for its bookkeeping; CAP_NET_ADMIN may pass rmem_max. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		return -errno;
	return 0;
}

void
ldm_clients_send_error(struct daemon *d, int client, int code, const char *text)
{
	struct ldm_msg_error m = { .code = code };

	ldm_msg_init(&m.hdr, LDM_MSG_ERROR);
	if (ldm_msg_set_str(m.text, sizeof(m.text), text) < 0)
		(void)ldm_msg_set_str(m.text, sizeof(m.text), "refused (message too long)");
	(void)ldm_clients_send(d, client, &m);
}

void
ldm_clients_send_summary(struct daemon *d, int client, const struct session *s, bool final,
                         unsigned running)
{
	struct ldm_msg_summary r = { 0 };

	ldm_msg_init(&r.hdr, LDM_MSG_SUMMARY);
	r.session = s->id;
	r.blocked = s->blocked;
	r.would_block = s->would_block;
	r.syscalls_denied = s->syscalls_denied;
	r.flags = (final ? LDM_SUMMARY_R_FINAL : 0) | (s->escapes > 0 ? LDM_SUMMARY_R_ESCAPED : 0);
	r.escapes = s->escapes < UINT32_MAX ? (uint32_t)s->escapes : UINT32_MAX;
	r.running = running;
	{
		uint8_t head[LDM_CHAIN_HASH_LEN];

		ldm_eventlog_chain_head(d->log, &r.log_seq, head);
		memcpy(r.log_hash, head, sizeof(r.log_hash));
	}
	(void)ldm_msg_set_str(r.policy, sizeof(r.policy), s->policy_name);
	(void)ldm_clients_send(d, client, &r);
}
