/* The control socket's client side: framing on a stream socket, timeouts, validation. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "ldm/util.h"

const char *
ldm_client_socket_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("LDM_SOCKET");
	if (env != NULL && env[0] != '\0')
		return env;
	return LDM_CONTROL_SOCKET;
}

int
ldm_client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (path[0] == '\0')
		return -EINVAL;
	if (ldm_strscpy(sa.sun_path, sizeof(sa.sun_path), path) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return -errno;
	return TAKE_FD(fd);
}

int
ldm_client_send(int fd, const struct ldm_msg_hdr *msg)
{
	const char *p = (const char *)msg;
	size_t left = msg->len;

	while (left > 0) {
		ssize_t n = send(fd, p, left, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly SIZE bytes by DEADLINE (< 0: none). */
static int
read_full(int fd, void *buf, size_t size, int64_t deadline)
{
	char *p = buf;

	while (size > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		ssize_t n;

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left < 0 ? -1 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = recv(fd, p, size, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

int
ldm_client_recv(int fd, union ldm_msg_any *ret, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r;

	r = read_full(fd, &ret->hdr, sizeof(ret->hdr), deadline);
	if (r < 0)
		return r;
	/* Known type and exact size: hdr.len is at most LDM_MSG_MAX from here on. */
	r = ldm_msg_check_hdr(&ret->hdr);
	if (r < 0)
		return r;
	r = read_full(fd, ret->bytes + sizeof(ret->hdr), ret->hdr.len - sizeof(ret->hdr), deadline);
	if (r < 0)
		return r;
	r = ldm_msg_check(&ret->hdr);
	if (r < 0)
		return r;
	return ret->hdr.type;
}

/* Reads the first bytes of a message with recvmsg(), taking a descriptor passed along. */
static int
recv_first(int fd, void *buf, size_t size, int64_t deadline, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov,
		             .msg_iovlen = 1,
		             .msg_control = u.buf,
		             .msg_controllen = sizeof(u.buf) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left = deadline < 0 ? -1 : deadline - now_ms();
	struct cmsghdr *c;
	ssize_t n;

	if (deadline >= 0 && left <= 0)
		return -ETIMEDOUT;
	if (poll(&pfd, 1, left < 0 ? -1 : (int)left) <= 0)
		return -ETIMEDOUT;
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n == 0 ? -ECONNRESET : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *ret_fd < 0)
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
		else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			return -EBADMSG; /* more than one: not our daemon's answer */
	if (mh.msg_flags & MSG_CTRUNC)
		return -EBADMSG;
	return (int)n;
}

int
ldm_client_recv_fd(int fd, union ldm_msg_any *ret, int timeout_ms, int *ret_fd)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int got, r;

	*ret_fd = -1;
	got = recv_first(fd, &ret->hdr, sizeof(ret->hdr), deadline, ret_fd);
	if (got < 0)
		return got;
	r = read_full(fd, (char *)&ret->hdr + got, sizeof(ret->hdr) - (size_t)got, deadline);
	if (r == 0)
		r = ldm_msg_check_hdr(&ret->hdr);
	if (r == 0)
		r = read_full(fd, ret->bytes + sizeof(ret->hdr), ret->hdr.len - sizeof(ret->hdr),
		              deadline);
	if (r == 0)
		r = ldm_msg_check(&ret->hdr);
	if (r < 0 && *ret_fd >= 0) {
		(void)close(*ret_fd);
		*ret_fd = -1;
	}
	return r < 0 ? r : ret->hdr.type;
}

int
ldm_client_call(const char *path, const struct ldm_msg_hdr *req, union ldm_msg_any *ret,
                int timeout_ms)
{
	_cleanup_close_ int fd = ldm_client_connect(path);
	int r;

	if (fd < 0)
		return fd;
	r = ldm_client_send(fd, req);
	if (r < 0)
		return r;
	return ldm_client_recv(fd, ret, timeout_ms);
}
