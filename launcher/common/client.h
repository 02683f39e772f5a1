/*
 * A client of ldm-enforcerd's control socket (include/ldm/control.h): connect, send one
 * fixed-size message, read one back. Used by ldm-run and ldmctl status.
 *
 * Trust: replies come from a root daemon, but they are still checked with ldm_msg_check()
 * before any field is read, so a reader never walks past a string or a count.
 */
#ifndef LDM_LAUNCHER_CLIENT_H
#define LDM_LAUNCHER_CLIENT_H

#include <stddef.h>

#include "ldm/control.h"

/* Room for any message, aligned for each. */
union ldm_msg_any {
	struct ldm_msg_hdr hdr;
	struct ldm_msg_session_ready ready;
	struct ldm_msg_error error;
	struct ldm_msg_summary summary;
	struct ldm_msg_text text;
	struct ldm_msg_session_item item;
	char bytes[LDM_MSG_MAX];
};

/* The socket to use: OPT (--socket) if set, else $LDM_SOCKET if set and not empty, else
 * LDM_CONTROL_SOCKET. */
const char *ldm_client_socket_path(const char *opt);

/*
 * Connects to the Unix stream socket PATH. Returns a new CLOEXEC fd, or -errno:
 * -ENAMETOOLONG for a path that does not fit sockaddr_un, -ENOENT / -ECONNREFUSED when no
 * daemon listens there.
 */
int ldm_client_connect(const char *path);

/* Sends MSG, its hdr.len bytes, in full (no SIGPIPE). Returns 0 or -errno. */
int ldm_client_send(int fd, const struct ldm_msg_hdr *msg);

/*
 * Reads one message into *RET within TIMEOUT_MS (< 0: no limit) and validates it with
 * ldm_msg_check(). Returns its type, or -errno: -ECONNRESET if the daemon closed the
 * connection first, -ETIMEDOUT, -EPROTO / -EBADMSG for a malformed message.
 */
int ldm_client_recv(int fd, union ldm_msg_any *ret, int timeout_ms);

/*
 * As ldm_client_recv(), and a descriptor the daemon passed with the message (SCM_RIGHTS,
 * made CLOEXEC) goes to *RET_FD (-1 if none; closed again on any error).
 */
int ldm_client_recv_fd(int fd, union ldm_msg_any *ret, int timeout_ms, int *ret_fd);

/*
 * connect + send REQ + recv into *RET on a connection of its own, closed afterwards. Returns
 * the reply's type or -errno as the steps do.
 */
int ldm_client_call(const char *path, const struct ldm_msg_hdr *req, union ldm_msg_any *ret,
                    int timeout_ms);

#endif
