/* The event loop's epoll set, which the modules add their fds to. */
#include <errno.h>
#include <sys/epoll.h>

#include "state.h"

int
ldm_loop_watch_fd(struct daemon *d, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}
