/*
 * The requester's namespaces. The kernel rules see a packet in the network namespace it
 * was sent from, and the daemon's rules live in its own: a session for a process in another
 * network namespace would enforce nothing. Its cgroup view (cgroup namespace, or a cgroup2
 * file system mounted from another root) must be the daemon's too, or the session cgroup
 * the daemon names is not the one the requester sees.
 *
 * /proc/PID/ns/ needs ptrace rights over PID (CAP_SYS_PTRACE for another user), which the
 * daemon lacks under its unit (CAP_NET_ADMIN only). So the network namespace is told by
 * /proc/PID/net/dev, which anyone may stat: each namespace has its own entry, with an inode
 * number unique among the entries that exist (both exist while we compare). The cgroup
 * view is told by the cgroup2 mount in /proc/PID/mountinfo (world-readable; its root is
 * shown as the daemon's namespace sees it), and by /proc/PID/ns/cgroup where the daemon may
 * read it.
 *
 * Trust: PID is the peer's (SO_PEERCRED); what /proc says is the kernel's word, but the
 * mountinfo text is the requester's to shape (mount points it made): it is parsed bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"
#include "procparse.h"

#define MOUNTINFO_MAX (1024 * 1024)

static int
stat_id(const char *path, struct ldm_ns_id *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ret = (struct ldm_ns_id){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

static bool
same_id(const struct ldm_ns_id *a, const struct ldm_ns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* The root of the cgroup2 mount at MNT as PID ("self") sees its mounts. */
static int
cgroup_root_of(const char *pid, const char *mnt, char *buf, size_t size)
{
	_cleanup_free_ char *text = malloc(MOUNTINFO_MAX);
	_cleanup_close_ int fd = -1;
	char path[64];
	size_t len = 0;

	if (text == NULL)
		return -ENOMEM;
	(void)snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, text + len, MOUNTINFO_MAX - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == MOUNTINFO_MAX - 1)
			return -E2BIG;
	}
	text[len] = '\0';
	return ldm_procparse_cgroup2_root(text, mnt, buf, size);
}

int
ldm_peerns_init(struct daemon *d)
{
	int r = stat_id("/proc/self/net/dev", &d->own_net);

	if (r < 0)
		return r;
	r = stat_id("/proc/self/ns/cgroup", &d->own_cgns);
	if (r < 0)
		return r;
	return cgroup_root_of("self", d->cg.mount, d->own_cgroot, sizeof(d->own_cgroot));
}

int
ldm_peerns_same_net(const struct daemon *d, pid_t pid)
{
	char path[64];
	struct ldm_ns_id id = { 0 };
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	r = stat_id(path, &id);
	return r < 0 ? r : same_id(&id, &d->own_net);
}

int
ldm_peerns_check(const struct daemon *d, pid_t pid, char *err, size_t err_size)
{
	char path[64], p[32], root[LDM_PATH_MAX];
	struct ldm_ns_id id = { 0 };
	int r;

	(void)snprintf(p, sizeof(p), "%d", (int)pid);
	(void)snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	r = stat_id(path, &id);
	if (r < 0) {
		(void)snprintf(err, err_size,
		               "refused: cannot tell the caller's network namespace: %s",
		               strerror(-r));
		return r;
	}
	if (!same_id(&id, &d->own_net)) {
		(void)snprintf(err, err_size,
		               "refused: ldm-run runs in another network namespace than "
		               "ldm-enforcerd (a container, 'ip netns exec', an app's own "
		               "namespace), where the enforcer's rules would not see its traffic; "
		               "run ldm-run in the host's network namespace");
		return -EXDEV;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
	r = stat_id(path, &id);
	if (r == 0 && !same_id(&id, &d->own_cgns)) {
		(void)snprintf(err, err_size,
		               "refused: ldm-run runs in another cgroup namespace than "
		               "ldm-enforcerd: it would not see the session's cgroup as the "
		               "daemon names it; run ldm-run in the host's cgroup namespace");
		return -EXDEV;
	}
	/* -EACCES: no ptrace rights; the mount below still tells a container's own view. */
	r = cgroup_root_of(p, d->cg.mount, root, sizeof(root));
	if (r < 0 || strcmp(root, d->own_cgroot) != 0) {
		(void)snprintf(err, err_size,
		               "refused: ldm-run does not see the cgroup file system as "
		               "ldm-enforcerd does (%s at %s: another cgroup namespace or mount); "
		               "run ldm-run in the host's namespaces",
		               r < 0 ? "no cgroup2 file system" : root, d->cg.mount);
		return -EXDEV;
	}
	return 0;
}
