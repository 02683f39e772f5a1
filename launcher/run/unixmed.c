/*
 * Mediation of connect() (unixmed.h). The steps for one notification:
 *
 *   1. Copy the address once from the caller's memory (process_vm_readv), at most
 *      sizeof(struct sockaddr_storage) bytes, as the kernel would.
 *   2. Take the caller's socket with pidfd_getfd() (a pidfd of its thread group), then check
 *      that the notification is still pending (SECCOMP_IOCTL_NOTIF_ID_VALID): the pid, the
 *      memory and the fd we read belonged to the caller.
 *   3. Not AF_UNIX: connect the taken socket to the copied address; the socket keeps the
 *      session's cgroup, so the netfilter rules judge it as before.
 *   4. AF_UNIX, a path: resolve it ourselves (relative to /proc/TID/cwd, following
 *      symlinks but no /proc magic links) to an O_PATH fd of the socket inode, judge the
 *      path the kernel gives for that fd (/proc/self/fd/N), and connect through
 *      /proc/self/fd/N, so the inode connected is the inode judged. Symlinks and relative
 *      paths are judged by their target; a rename after the decision changes nothing.
 *      An abstract name: judge "@name", connect to the copied name.
 *   5. No rule: the socket must be the session's own: sock_diag finds the bound socket
 *      (by the inode of the socket file, or by the abstract name), and a process of the
 *      session cgroup must hold it (/proc/PID/fd). Otherwise ECONNREFUSED (abstract: what
 *      X11 clients expect before they try the path) or EACCES (a path), and a report.
 *   6. Answer with connect()'s result. A connect that may block (the socket's file is not
 *      O_NONBLOCK) runs in a worker thread, so other threads' calls are not held up.
 *
 * Nothing is connected before the decision, so no outside listener ever sees a connection
 * from a refused attempt. The mediator runs as the app's user, in its cgroup, outside its
 * seccomp filter and Landlock domain.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "ldm/control.h"
#include "ldm/util.h"
#include "procparse.h"
#include "run/run.h"
#include "run/unixmed.h"

#define WORKERS_MAX 64
/* The session's cgroup.procs: 64 KiB, about 9,000 pids; more is "not decided". */
#define SESSION_PROCS_TEXT_MAX 65536
#define SESSION_PROCS_MAX      (SESSION_PROCS_TEXT_MAX / 2)

struct ldm_unixmed {
	struct ldm_unix_rules rules;
	int cgroup_fd; /* the session cgroup's directory: cgroup.procs */
	ldm_unixmed_report_fn report;
	void *userdata;
	atomic_int workers;
	pid_t pidfd_tid; /* the last caller whose pidfd we keep, 0 for none */
	int pidfd;
};

/* One allowed connect, made by a worker. */
struct job {
	struct ldm_unixmed *m;
	int nfd; /* a dup of the listener */
	uint64_t id;
	int sock;       /* the caller's socket */
	int target;     /* the O_PATH fd ADDR names through /proc/self/fd, or -1 */
	bool wait;      /* the connect is in progress: wait for its end; else connect */
	int timeout_ms; /* the caller's own SO_SNDTIMEO for WAIT, -1 for none */
	struct sockaddr_storage addr;
	socklen_t len;
};

/* Answers notification ID with ERR (0: success). */
static void
answer(int nfd, uint64_t id, int err)
{
	struct seccomp_notif_resp resp = { .id = id, .error = err == 0 ? 0 : -err };

	(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static bool
still_pending(int nfd, uint64_t id)
{
	return ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static int
do_connect(int sock, const struct sockaddr_storage *addr, socklen_t len)
{
	int r;

	do
		r = connect(sock, (const struct sockaddr *)addr, len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? errno : 0;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct pollfd p = { .fd = j->sock, .events = POLLOUT };
	socklen_t el = sizeof(int);
	int err, r;

	if (!j->wait) {
		err = do_connect(j->sock, &j->addr, j->len);
	} else {
		while ((r = poll(&p, 1, j->timeout_ms)) < 0 && errno == EINTR)
			;
		/* Timed out: what the caller's own timeout gives it, the connect goes on. */
		err = EINPROGRESS;
		if (r > 0 && getsockopt(j->sock, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
	}

	answer(j->nfd, j->id, err);
	(void)close(j->sock);
	if (j->target >= 0)
		(void)close(j->target);
	(void)close(j->nfd);
	atomic_fetch_sub(&j->m->workers, 1);
	free(j);
	return NULL;
}

/*
 * A connect on a blocking socket, bounded to one clock tick with a temporary SO_SNDTIMEO
 * (which bounds connect() of stream sockets; the caller's value is put back at once).
 * Returns the errno (0: connected). *WAIT_MS is -2 when the call ended, else the caller's
 * own timeout in ms (-1: none) for the rest: EINPROGRESS (TCP goes on in the background)
 * or EAGAIN (a Unix listener's queue is full) then mean it would have blocked longer.
 */
static int
connect_briefly(int sock, const struct sockaddr_storage *addr, socklen_t len, int *wait_ms)
{
	struct timeval old, tick = { .tv_usec = 1 };
	socklen_t ol = sizeof(old);
	bool set = getsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &old, &ol) == 0 &&
	           setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tick, sizeof(tick)) == 0;
	int err;

	*wait_ms = -1;
	if (!set)
		return EWOULDBLOCK; /* cannot bound it: a worker makes the whole call */
	err = do_connect(sock, addr, len);
	(void)setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &old, sizeof(old));
	if (err != EINPROGRESS && err != EAGAIN) {
		*wait_ms = -2;
		return err;
	}
	if (old.tv_sec != 0 || old.tv_usec != 0)
		*wait_ms = (int)(old.tv_sec > 1000000 ? 1000000000
		                                      : old.tv_sec * 1000 + old.tv_usec / 1000);
	return err;
}

/*
 * Connects SOCK and answers ID: at once for a non-blocking socket or a connect that ends
 * within a clock tick, else in a worker thread, so that no other call waits for it. Takes
 * SOCK and TARGET (an fd ADDR names as /proc/self/fd/N, or -1), which live until the
 * connect ends.
 */
static void
connect_and_answer(struct ldm_unixmed *m, int nfd, uint64_t id, int sock, int target,
                   const struct sockaddr_storage *addr, socklen_t len)
{
	int fl = fcntl(sock, F_GETFL), err, wait_ms;
	struct job *j;
	pthread_attr_t attr;
	pthread_t t;

	if (fl >= 0 && (fl & O_NONBLOCK) != 0) {
		answer(nfd, id, do_connect(sock, addr, len));
		goto done;
	}
	err = connect_briefly(sock, addr, len, &wait_ms);
	if (wait_ms == -2) {
		answer(nfd, id, err);
		goto done;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || atomic_fetch_add(&m->workers, 1) >= WORKERS_MAX) {
		if (j != NULL)
			atomic_fetch_sub(&m->workers, 1);
		free(j);
		answer(nfd, id, EAGAIN); /* too many connects at once: refused, the app retries */
		goto done;
	}
	*j = (struct job){ .m = m,
		           .nfd = fcntl(nfd, F_DUPFD_CLOEXEC, 3),
		           .id = id,
		           .sock = sock,
		           .target = target,
		           .wait = err == EINPROGRESS,
		           .timeout_ms = wait_ms };
	memcpy(&j->addr, addr, sizeof(j->addr));
	j->len = len;
	if (j->nfd >= 0 && pthread_attr_init(&attr) == 0) {
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, worker, j) == 0) {
			(void)pthread_attr_destroy(&attr);
			return;
		}
		(void)pthread_attr_destroy(&attr);
	}
	if (j->nfd >= 0)
		(void)close(j->nfd);
	atomic_fetch_sub(&m->workers, 1);
	free(j);
	answer(nfd, id, EAGAIN); /* no thread for it: the app may retry */
done:
	(void)close(sock);
	if (target >= 0)
		(void)close(target);
}

/* A pidfd for TID's process, or -errno. Tries TID first (a leader), then its thread group. */
static int
open_pidfd(pid_t tid)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	char path[64], buf[512];
	_cleanup_close_ int sfd = -1;
	ssize_t n;
	long tgid = -1;
	char *p;
	int r;

	if (pidfd < 0 && (errno == EINVAL || errno == ENOENT)) {
		/* Not a thread-group leader (EINVAL before Linux 6.9, ENOENT since): find its
		 * process. */
		(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
		sfd = open(path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0)
			return -errno;
		n = read(sfd, buf, sizeof(buf) - 1);
		if (n <= 0)
			return -EIO;
		buf[n] = '\0';
		p = strstr(buf, "\nTgid:");
		if (p == NULL)
			return -EIO;
		for (p += 6; *p == ' ' || *p == '\t'; p++)
			;
		for (tgid = 0; *p >= '0' && *p <= '9' && tgid < INT32_MAX; p++)
			tgid = tgid * 10 + (*p - '0');
		if (*p != '\n' || tgid <= 0 || tgid >= INT32_MAX)
			return -EIO;
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)tgid, 0);
	}
	if (pidfd < 0)
		return -errno;
	r = pidfd;
	pidfd = -1;
	return r;
}

/*
 * The caller's socket FD, or -errno. The pidfd of the last caller is kept: a pidfd names one
 * process, so if pidfd_getfd() works through it that process lives, and a live process
 * keeps its pid; the caller (checked pending afterwards) is that process then.
 */
static int
take_fd(struct ldm_unixmed *m, pid_t tid, int fd)
{
	int r;

	if (m->pidfd_tid == tid && m->pidfd >= 0) {
		r = (int)syscall(SYS_pidfd_getfd, m->pidfd, fd, 0);
		if (r >= 0 || errno != ESRCH)
			return r >= 0 ? r : -errno;
	}
	if (m->pidfd >= 0)
		(void)close(m->pidfd);
	m->pidfd_tid = 0;
	m->pidfd = open_pidfd(tid);
	if (m->pidfd < 0)
		return m->pidfd;
	m->pidfd_tid = tid;
	r = (int)syscall(SYS_pidfd_getfd, m->pidfd, fd, 0);
	return r < 0 ? -errno : r;
}

/* Reads the caller's address: LEN bytes at ADDR of TID. Returns 0 or an errno. */
static int
read_addr(pid_t tid, uint64_t addr, uint64_t len, struct sockaddr_storage *ret)
{
	struct iovec local = { .iov_base = ret, .iov_len = (size_t)len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = (size_t)len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? ESRCH : EFAULT;
	return (size_t)n == len ? 0 : EFAULT;
}

/* Finds the socket bound at the socket file ST, or to abstract NAME (LEN bytes after the
 * leading NUL), of socket TYPE; its inode in *ret_ino. Returns 0, -ENOENT or -errno. */
struct diag_find {
	const struct stat *st;
	const char *name;
	size_t name_len;
	int type;
	uint32_t ino;
	bool found;
};

static int
diag_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= UNIX_DIAG_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int
diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_find *f = data;
	const struct unix_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[UNIX_DIAG_MAX + 1] = { 0 };

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m) || f->found)
		return MNL_CB_OK;
	if (m->udiag_type != f->type)
		return MNL_CB_OK;
	/* Accepted stream sockets carry their listener's name and inode too: listeners only. */
	if (m->udiag_type != SOCK_DGRAM && m->udiag_state != 10 /* TCP_LISTEN */)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*m), diag_attr, tb) < 0)
		return MNL_CB_OK;
	if (f->st != NULL) {
		const struct unix_diag_vfs *v;
		uint32_t dev;

		if (tb[UNIX_DIAG_VFS] == NULL ||
		    mnl_attr_get_payload_len(tb[UNIX_DIAG_VFS]) < sizeof(*v))
			return MNL_CB_OK;
		v = mnl_attr_get_payload(tb[UNIX_DIAG_VFS]);
		dev = v->udiag_vfs_dev; /* the kernel's encoding: major << 20 | minor */
		if (v->udiag_vfs_ino != f->st->st_ino || (dev >> 20) != major(f->st->st_dev) ||
		    (dev & 0xfffff) != minor(f->st->st_dev))
			return MNL_CB_OK;
	} else {
		const char *n;

		if (tb[UNIX_DIAG_NAME] == NULL)
			return MNL_CB_OK;
		n = mnl_attr_get_payload(tb[UNIX_DIAG_NAME]);
		if (mnl_attr_get_payload_len(tb[UNIX_DIAG_NAME]) != f->name_len + 1 ||
		    n[0] != '\0' || memcmp(n + 1, f->name, f->name_len) != 0)
			return MNL_CB_OK;
	}
	f->ino = m->udiag_ino;
	f->found = true;
	return MNL_CB_OK;
}

static int
diag_find(struct diag_find *f)
{
	char buf[32768];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	struct nlmsghdr *nlh;
	struct unix_diag_req *req;
	unsigned seq = 1, portid;
	int r = -EIO;
	ssize_t n;

	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_UNIX;
	req->udiag_states = ~0u;
	req->udiag_show = f->st != NULL ? UDIAG_SHOW_VFS : UDIAG_SHOW_NAME;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, diag_cb, f);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = r < 0 ? -EIO : 0;
out:
	mnl_socket_close(nl);
	if (r == 0 && !f->found)
		r = -ENOENT;
	return r;
}

/* True when process PID holds socket inode INO. */
static bool
pid_holds(int pid, uint32_t ino)
{
	char path[64], want[32], link[64];
	_cleanup_close_ int dfd = -1;
	struct dirent *de;
	DIR *d;
	bool found = false;
	int wl = snprintf(want, sizeof(want), "socket:[%u]", ino);

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (d == NULL)
		return false;
	dfd = -1; /* closedir() closes it */
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link));

		found = n == wl && memcmp(link, want, (size_t)n) == 0;
	}
	closedir(d);
	return found;
}

/* True when a process of the session (other than us) holds socket inode INO. */
static bool
session_holds(const struct ldm_unixmed *m, uint32_t ino)
{
	_cleanup_free_ char *text = malloc(SESSION_PROCS_TEXT_MAX);
	_cleanup_free_ int *pids = calloc(SESSION_PROCS_MAX, sizeof(int));
	int n, len;

	if (text == NULL || pids == NULL)
		return false;
	len = ldm_read_small_at(m->cgroup_fd, "cgroup.procs", text, SESSION_PROCS_TEXT_MAX);
	/* A full buffer may end in a cut pid (123456 read as 123): not decided, not ours. */
	if (len < 0 || len == SESSION_PROCS_TEXT_MAX - 1)
		return false;
	n = ldm_procparse_pid_list(text, pids, SESSION_PROCS_MAX);
	for (int i = 0; i < n; i++)
		if (pids[i] != (int)getpid() && pid_holds(pids[i], ino))
			return true;
	return false; /* -E2BIG, -EINVAL: not decided, not ours */
}

/* Is the bound socket F describes (a path's inode or an abstract name) the session's? */
static bool
session_owns(const struct ldm_unixmed *m, struct diag_find *f)
{
	return diag_find(f) == 0 && session_holds(m, f->ino);
}

static void
refuse(struct ldm_unixmed *m, int nfd, const struct seccomp_notif *req, enum ldm_unix_why why,
       uint32_t rule, int err, const char *target)
{
	struct ldm_unixmed_refusal r = { .pid = req->pid, .why = why, .rule = rule, .err = err };

	/* The report first: the record is on its way before the app learns of the refusal
	 * (and before its summary line can ask for the counts). */
	(void)ldm_strscpy(r.target, sizeof(r.target), target);
	m->report(m->userdata, &r);
	answer(nfd, req->id, err);
}

/* True when PATH is absolute with no "//", "." or ".." and no trailing '/'. */
static bool
path_clean(const char *path)
{
	if (path[0] != '/' || path[strlen(path) - 1] == '/')
		return false;
	for (const char *p = path; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0')) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
			return false;
	}
	return true;
}

/*
 * Opens the socket file PATH as TID sees it. Returns an O_PATH fd or -errno; *RESOLVED
 * says whether PATH itself is the file's path (absolute, clean, no symlink on the way), so
 * that it need not be asked for.
 */
static int
open_socket_file(pid_t tid, const char *path, bool *resolved)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int dfd = AT_FDCWD;
	char cwd[64];
	int fd;

	*resolved = false;
	if (path_clean(path)) {
		struct open_how strict = how;

		strict.resolve |= RESOLVE_NO_SYMLINKS;
		fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &strict, sizeof(strict));
		if (fd >= 0 || errno != ELOOP) {
			*resolved = fd >= 0;
			return fd < 0 ? -errno : fd;
		}
	}
	if (path[0] != '/') {
		(void)snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", (int)tid);
		dfd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
	}
	fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	if (dfd == AT_FDCWD)
		dfd = -1;
	return fd < 0 ? -errno : fd;
}

/* The path the kernel knows for FD, into BUF. Returns 0 or -errno. */
static int
fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	if (buf[0] != '/' || (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0))
		return -ENOENT;
	return 0;
}

/* A path socket: resolve, judge, check ownership, connect through the fd. */
static void
connect_path(struct ldm_unixmed *m, int nfd, const struct seccomp_notif *req, int sock, int type,
             const char *path)
{
	char target[PATH_MAX];
	bool resolved;
	_cleanup_close_ int pfd = open_socket_file((pid_t)req->pid, path, &resolved);
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *su = (struct sockaddr_un *)&ss;
	struct ldm_unix_verdict v;
	struct stat st;
	int r;

	/* The address ldm-run gave for a bus it withholds (dbus_proxy.c): the kernel would say
	 * ENOTDIR, as it does here, but the attempt is a block and is reported. */
	if (strcmp(path, LDM_RUN_DBUS_NO_SESSION_BUS_PATH) == 0 ||
	    strcmp(path, LDM_RUN_DBUS_NO_SYSTEM_BUS_PATH) == 0) {
		refuse(m, nfd, req, LDM_UNIX_WHY_NO_BUS, 0, ENOTDIR, path);
		goto out;
	}
	/* A relative path went through /proc/TID/cwd: was TID still the caller? */
	if (pfd < 0 || (path[0] != '/' && !still_pending(nfd, req->id))) {
		/* What the kernel says for a path that does not resolve: not a refusal. */
		answer(nfd, req->id, pfd < 0 ? -pfd : ENOENT);
		goto out;
	}
	if (fstat(pfd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		answer(nfd, req->id, ECONNREFUSED); /* as the kernel: not a socket */
		goto out;
	}
	r = resolved ? ldm_strscpy(target, sizeof(target), path)
	             : fd_path(pfd, target, sizeof(target));
	if (r < 0) {
		refuse(m, nfd, req, LDM_UNIX_WHY_UNDECIDED, 0, ECONNREFUSED, path);
		goto out;
	}
	ldm_unix_judge(&m->rules, target, &v);
	if (v.decision == LDM_UNIX_DENY) {
		refuse(m, nfd, req, LDM_UNIX_WHY_RULE, v.rule, EACCES, target);
		goto out;
	}
	if (v.decision == LDM_UNIX_NO_RULE) {
		struct diag_find f = { .st = &st, .type = type };

		if (!session_owns(m, &f)) {
			refuse(m, nfd, req, LDM_UNIX_WHY_DEFAULT, 0, EACCES, target);
			goto out;
		}
	}
	su->sun_family = AF_UNIX;
	(void)snprintf(su->sun_path, sizeof(su->sun_path), "/proc/self/fd/%d", pfd);
	connect_and_answer(
	        m, nfd, req->id, sock, pfd, &ss,
	        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(su->sun_path) + 1));
	sock = -1;
	pfd = -1;
out:
	if (sock >= 0)
		(void)close(sock);
}

static void
connect_abstract(struct ldm_unixmed *m, int nfd, const struct seccomp_notif *req, int sock,
                 int type, const struct sockaddr_storage *ss, socklen_t len, const char *target)
{
	const struct sockaddr_un *su = (const struct sockaddr_un *)ss;
	struct ldm_unix_verdict v;

	ldm_unix_judge(&m->rules, target, &v);
	if (v.decision == LDM_UNIX_DENY) {
		refuse(m, nfd, req, LDM_UNIX_WHY_RULE, v.rule, ECONNREFUSED, target);
		(void)close(sock);
		return;
	}
	if (v.decision == LDM_UNIX_NO_RULE) {
		struct diag_find f = {
			.name = su->sun_path + 1,
			.name_len = len - offsetof(struct sockaddr_un, sun_path) - 1,
			.type = type,
		};

		if (!session_owns(m, &f)) {
			refuse(m, nfd, req, LDM_UNIX_WHY_DEFAULT, 0, ECONNREFUSED, target);
			(void)close(sock);
			return;
		}
	}
	connect_and_answer(m, nfd, req->id, sock, -1, ss, len);
}

void
ldm_unixmed_connect(struct ldm_unixmed *m, int nfd, const struct seccomp_notif *req)
{
	struct sockaddr_storage ss = { 0 };
	uint64_t len = req->data.args[2] & 0xffffffffu; /* socklen_t */
	char target[LDM_UNIX_TARGET_MAX];
	int sock, err, domain = -1, type = -1, abstract;
	socklen_t ol = sizeof(int);

	if ((int32_t)len < 0 || len > sizeof(ss)) {
		answer(nfd, req->id, EINVAL); /* as the kernel */
		return;
	}
	err = read_addr((pid_t)req->pid, req->data.args[1], len, &ss);
	if (err != 0) {
		answer(nfd, req->id, err == ESRCH ? EFAULT : err);
		return;
	}
	sock = take_fd(m, (pid_t)req->pid, (int)(req->data.args[0] & 0xffffffffu));
	if (sock < 0) {
		/* EBADF: no such fd; anything else: we cannot act for the caller. */
		answer(nfd, req->id, sock == -EBADF ? EBADF : EPERM);
		return;
	}
	if (!still_pending(nfd, req->id)) {
		(void)close(sock);
		return;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0) {
		answer(nfd, req->id, errno == ENOTSOCK ? ENOTSOCK : EPERM);
		(void)close(sock);
		return;
	}
	ol = sizeof(int);
	if (domain != AF_UNIX || ss.ss_family == AF_UNSPEC || len < sizeof(sa_family_t)) {
		/* The network, a dgram disconnect, a malformed address: the kernel decides. */
		connect_and_answer(m, nfd, req->id, sock, -1, &ss, (socklen_t)len);
		return;
	}
	(void)getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &ol);
	abstract = ldm_unix_sockaddr_text(&ss, (size_t)len, target, sizeof(target));
	if (abstract < 0) {
		connect_and_answer(m, nfd, req->id, sock, -1, &ss, (socklen_t)len); /* EINVAL */
		return;
	}
	if (abstract)
		connect_abstract(m, nfd, req, sock, type, &ss, (socklen_t)len, target);
	else
		connect_path(m, nfd, req, sock, type, target);
}

/* Judged paths are resolved ones: resolves the directory of rule path BUF the same way. */
static void
resolve_rule_dir(char *buf, size_t size)
{
	char *slash = strrchr(buf, '/'), real[PATH_MAX], dir[PATH_MAX + LDM_PATH_PATTERN_MAX];
	int n;

	if (buf[0] != '/' || slash == NULL || slash == buf)
		return;
	*slash = '\0';
	if (realpath(buf, real) == NULL) {
		*slash = '/'; /* not there (yet): the rule stays as written */
		return;
	}
	n = snprintf(dir, sizeof(dir), "%s/%s", strcmp(real, "/") == 0 ? "" : real, slash + 1);
	*slash = '/';
	if (n > 0 && (size_t)n < size)
		memcpy(buf, dir, (size_t)n + 1); /* else the rule stays as written */
}

/* Adds the LDM_ITEM_UNIX item IT. Returns 0 or -errno with a reason in WHY. */
static int
add_item(struct ldm_unixmed *m, const struct ldm_run_item *it, const struct ldm_path_vars *vars,
         char *why, size_t why_size)
{
	char buf[LDM_PATH_PATTERN_MAX];
	int r;

	if (it->flags != LDM_ITEM_UNIX_ALLOW && it->flags != LDM_ITEM_UNIX_DENY) {
		(void)snprintf(why, why_size, "unix rule %u: unknown flags 0x%x", it->rule,
		               it->flags);
		return -EINVAL;
	}
	r = ldm_unix_rule_expand(it->value, vars, buf, sizeof(buf));
	if (r == -ENOENT)
		return 0; /* %t or %h unknown here: the rule names nothing */
	if (r < 0) {
		(void)snprintf(why, why_size, "unix rule %u (%.200s): %s", it->rule, it->value,
		               strerror(-r));
		return r;
	}
	resolve_rule_dir(buf, sizeof(buf));
	return ldm_unix_rules_add(&m->rules, it->flags == LDM_ITEM_UNIX_ALLOW, it->rule, buf);
}

int
ldm_unixmed_new(const struct ldm_run_items *items, const char *cgroup, ldm_unixmed_report_fn report,
                void *userdata, struct ldm_unixmed **ret, char *why, size_t why_size)
{
	struct ldm_unixmed *m = calloc(1, sizeof(*m));
	char varbuf[3 * LDM_PATH_PATTERN_MAX], dir[PATH_MAX];
	struct ldm_path_vars vars;
	int r = 0;

	if (m == NULL)
		return -ENOMEM;
	m->cgroup_fd = -1;
	m->pidfd = -1;
	m->report = report;
	m->userdata = userdata;
	(void)ldm_run_path_vars(&vars, varbuf, sizeof(varbuf));
	for (size_t i = 0; r == 0 && i < items->n; i++)
		if (items->v[i].kind == LDM_ITEM_UNIX)
			r = add_item(m, &items->v[i], &vars, why, why_size);
	if (r < 0)
		goto fail;
	r = ldm_run_session_cgroup_dir(cgroup, dir, sizeof(dir));
	if (r == 0) {
		m->cgroup_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = m->cgroup_fd < 0 ? -errno : 0;
	}
	if (r < 0) {
		(void)snprintf(why, why_size, "cannot open the session cgroup: %s", strerror(-r));
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	ldm_unixmed_free(m);
	return r;
}

void
ldm_unixmed_free(struct ldm_unixmed *m)
{
	if (m == NULL)
		return;
	/* Workers answer connects still running and use M: wait a little for them. A connect
	 * to a silent TCP peer can take minutes; then M is left to the exit. */
	for (int i = 0; i < 20 && atomic_load(&m->workers) > 0; i++)
		(void)usleep(10000);
	if (atomic_load(&m->workers) > 0)
		return; /* leak rather than free what a worker still uses */
	ldm_unix_rules_clear(&m->rules);
	if (m->pidfd >= 0)
		(void)close(m->pidfd);
	if (m->cgroup_fd >= 0)
		(void)close(m->cgroup_fd);
	free(m);
}
