/*
 * The log for ordinary users. The log file is root's (it names every user's programs and
 * destinations); a user asks the daemon, which forks a reader: it reads the file, keeps
 * the records of that user's own sessions (a record's session and uid: both are the
 * daemon's own words) and writes them, as they are, into a pipe whose read end the daemon
 * hands to the caller (SCM_RIGHTS). The event loop never reads the log itself, so a slow
 * reader or a big file cannot stall enforcement.
 *
 * Without --follow the reader first reads the rotated files (PATH.N or PATH.N.gz, the
 * highest N, the oldest, first: logrotate numbers them from 1 without gaps), as root's
 * `ldmctl log` does; with --follow it starts at the current file.
 *
 * The reader closes every descriptor of the daemon first (the queue's netlink socket
 * above all: a reader left behind must not keep the queue bound), reads nothing but the log
 * files (the rotated ones too, oldest first, unless following or NOW), never execs, and ends at the end of the file, or with --follow when the caller
 * closes the pipe. With LDM_LOG_F_NOW (ldm-run's notifier) it starts where the file ended when
 * the request came and, following, ends after the session's session_end; it must name a live
 * session of the caller's, has a slot of its own (one per session, LDM_LOG_NOTIFIERS), and
 * counts against no user's limit. With LDM_LOG_F_RESUME it starts at the current file's
 * beginning instead (the notifier asks again after its reader went away and skips what it saw). At most LDM_LOG_READERS run at once, LDM_LOG_READERS_PER_UID of one
 * user; they are reaped on SIGCHLD, killed when the daemon stops, die with it if it is
 * killed (PR_SET_PDEATHSIG), and end when their caller takes nothing for 30 s.
 *
 * Trust: the request is checked by ldm_msg_check(); the uid is SO_PEERCRED's. The file's
 * lines are parsed strictly (ldm_event_parse_json): a line that does not parse is not
 * passed on, so what the caller gets is exactly what the daemon wrote for its sessions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "state.h"
#include "ldm/logchain.h"
#include "ldm/util.h"

#define FOLLOW_POLL_MS 200
#define STALL_MAX_MS   30000 /* a caller that takes nothing for this long is dropped */
#define ROTATED_MAX    1000  /* rotated files looked at (logrotate keeps 52) */
#define ROTATE_IDLE_MS 60000 /* a renamed file this idle is done with (no HUP came) */

struct filter {
	uid_t uid;
	uint64_t session;
	bool follow;
	bool now;    /* LDM_LOG_F_NOW: from START of the file named by DEV, INO */
	off_t start; /* the file's size at the request; -1: it had none */
	dev_t dev;
	ino_t ino;
};

/* 1: pass LINE on; 2: pass it on, and it is the last (the session's end under NOW); 0. */
static int
wanted(const struct filter *f, const char *line, size_t len)
{
	static struct ldm_event_view v;

	if (ldm_event_parse_json(line, len, &v) < 0 || v.ev.session == 0)
		return 0;
	if ((f->uid != 0 && v.ev.uid != f->uid) || (f->session != 0 && v.ev.session != f->session))
		return 0;
	return f->now && v.ev.event == LDM_EVENT_SESSION_END ? 2 : 1;
}

/*
 * Writes N bytes to the non-blocking pipe OUT; a caller that reads nothing for
 * STALL_MAX_MS (holding a reader slot by not reading) ends the reader. 0 or -EPIPE.
 */
static int
write_all(int out, const char *p, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = { .fd = out, .events = POLLOUT };
		ssize_t w = write(out, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -EPIPE;
		if (poll(&pfd, 1, STALL_MAX_MS) <= 0 || (pfd.revents & (POLLERR | POLLHUP)))
			return -EPIPE;
	}
	return 0;
}

/* Writes the wanted whole lines of BUF[0..*LEN) to OUT; keeps the unfinished rest. Returns
 * 0, 1 after the last line a NOW reader passes on, or -EPIPE. */
static int
pass_lines(const struct filter *f, int out, char *buf, size_t *len, bool *skipping)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(buf + start, '\n', *len - start)) != NULL) {
		size_t n = (size_t)(nl - (buf + start));
		int w = !*skipping && n + 1 <= LDM_LOG_LINE_MAX ? wanted(f, buf + start, n) : 0;

		if (w > 0 && write_all(out, buf + start, n + 1) < 0)
			return -EPIPE;
		if (w == 2)
			return 1;
		*skipping = false;
		start += n + 1;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
	if (*len >= LDM_LOG_LINE_MAX) { /* no "\n" where a record must have one */
		*skipping = true;
		*len = 0;
	}
	return 0;
}

/*
 * After EOF with --follow: waits a little; 1 when the file was truncated, or replaced and
 * the new file has data or the old one has been idle (*IDLE_MS, reset by the caller on
 * data) for ROTATE_IDLE_MS; -EPIPE once the caller is gone. logrotate's `create` renames the
 * file and makes an empty one before the daemon's HUP: the daemon appends to the renamed file
 * until it reopens, so the reader stays on it until the new one is in use (and the caller
 * drains the old descriptor once more before it switches).
 */
static int
follow_wait(int out, int fd, const char *path, int *idle_ms)
{
	struct pollfd p = { .fd = out, .events = 0 };
	struct stat now, cur;

	if (poll(&p, 1, FOLLOW_POLL_MS) > 0 && (p.revents & (POLLERR | POLLHUP)))
		return -EPIPE;
	if (*idle_ms < ROTATE_IDLE_MS)
		*idle_ms += FOLLOW_POLL_MS;
	if (fstat(fd, &cur) < 0)
		return -EIO;
	if (stat(path, &now) == 0 && (now.st_ino != cur.st_ino || now.st_dev != cur.st_dev))
		return now.st_size > 0 || *idle_ms >= ROTATE_IDLE_MS ? 1 : 0;
	return cur.st_size < lseek(fd, 0, SEEK_CUR) ? 1 : 0;
}

/*
 * A NOW reader starts at F's START in the file the request saw; a file rotated since then
 * is read from its beginning (all of it is newer). The daemon writes whole lines with one
 * write each (O_APPEND), so START is a line's beginning.
 */
static void
seek_now(int fd, const struct filter *f)
{
	struct stat st;

	if (f->now && f->start > 0 && fstat(fd, &st) == 0 && st.st_dev == f->dev &&
	    st.st_ino == f->ino && st.st_size >= f->start)
		(void)lseek(fd, f->start, SEEK_SET);
}

/* Opens rotated file N of PATH, plain or compressed (never through a link); -errno. */
static int
open_rotated(const char *path, unsigned n)
{
	char name[4200];
	int fd = -ENOENT;

	for (int gz = 0; gz < 2 && fd < 0; gz++) {
		if (snprintf(name, sizeof(name), "%s.%u%s", path, n, gz ? ".gz" : "") >=
		    (int)sizeof(name))
			return -ENAMETOOLONG;
		fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
		if (fd < 0)
			fd = -errno;
	}
	return fd;
}

/* Passes the wanted records of the rotated files of PATH, oldest first. 0 or -EPIPE. */
static int
pass_rotated(const char *path, int out, const struct filter *f, char *buf, size_t size)
{
	unsigned last = 0;

	while (last < ROTATED_MAX) {
		int fd = open_rotated(path, last + 1);

		if (fd < 0)
			break;
		(void)close(fd);
		last++;
	}
	for (unsigned n = last; n >= 1; n--) {
		int fd = open_rotated(path, n);
		gzFile g = fd >= 0 ? gzdopen(fd, "rb") : NULL;
		size_t len = 0;
		bool skipping = false;
		int k;

		if (g == NULL && fd >= 0)
			(void)close(fd);
		while (g != NULL && (k = gzread(g, buf + len, (unsigned)(size - len))) > 0) {
			len += (size_t)k;
			if (pass_lines(f, out, buf, &len, &skipping) < 0) {
				(void)gzclose(g);
				return -EPIPE;
			}
		}
		if (g != NULL)
			(void)gzclose(g);
	}
	return 0;
}

static void __attribute__((noreturn)) reader_main(const char *path, int out, const struct filter *f)
{
	static char buf[2 * LDM_LOG_LINE_MAX];
	size_t len = 0;
	bool skipping = false, switching = false;
	int fd, idle_ms = 0;

	if (!f->now && !f->follow && pass_rotated(path, out, f, buf, sizeof(buf)) < 0)
		_exit(0);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd >= 0)
		seek_now(fd, f);
	while (fd >= 0) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			idle_ms = 0;
			if (pass_lines(f, out, buf, &len, &skipping) != 0)
				break;
			continue;
		}
		if (!f->follow)
			break;
		if (switching) { /* rotated, and the old file drained since: the new one */
			(void)close(fd);
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
			len = 0;
			skipping = false;
			switching = false;
			idle_ms = 0;
			continue;
		}
		r = follow_wait(out, fd, path, &idle_ms);
		if (r < 0)
			break;
		/* Read the old one to its end once more: what the daemon wrote there before
		 * it reopened may have come after the EOF that led here. */
		switching = r > 0;
	}
	_exit(0);
}

/* Sends LDM_MSG_LOG_READY with FD to CLIENT. */
static int
send_fd(struct daemon *d, int client, int fd)
{
	struct ldm_msg_empty m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov,
		             .msg_iovlen = 1,
		             .msg_control = u.buf,
		             .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(&u, 0, sizeof(u));
	ldm_msg_init(&m.hdr, LDM_MSG_LOG_READY);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(d->clients[client].fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(m))
		return -EIO;
	return 0;
}

/* The module's own state: its children, 0 free: LDM_LOG_READERS, then LDM_LOG_NOTIFIERS
 * (their sessions in SESSIONS). */
struct ldm_logserve {
	pid_t pids[LDM_LOG_READERS + LDM_LOG_NOTIFIERS];
	uid_t uids[LDM_LOG_READERS + LDM_LOG_NOTIFIERS];
	uint64_t sessions[LDM_LOG_READERS + LDM_LOG_NOTIFIERS];
};

int
ldm_logserve_new(struct daemon *d)
{
	d->logserve = calloc(1, sizeof(*d->logserve));
	return d->logserve == NULL ? -ENOMEM : 0;
}

/* A free reader slot, or -1: none free, or UID has LDM_LOG_READERS_PER_UID already (so that
 * one user's --follow readers cannot keep every other user from the log). */
static int
free_reader(const struct daemon *d, uid_t uid)
{
	int slot = -1, mine = 0;

	for (int i = 0; i < LDM_LOG_READERS; i++) {
		if (d->logserve->pids[i] <= 0 && slot < 0)
			slot = i;
		else if (d->logserve->pids[i] > 0 && d->logserve->uids[i] == uid)
			mine++;
	}
	return mine < LDM_LOG_READERS_PER_UID ? slot : -1;
}

/*
 * A free notifier slot for SESSION, or -1: a NOW reader needs a live session of UID's (root:
 * any) and none of its own yet, so that ldm-run's notifiers take no slot `ldmctl log` needs.
 */
static int
free_notifier(const struct daemon *d, uid_t uid, uint64_t session)
{
	int slot = -1;
	bool live = false;

	for (unsigned k = 1; k <= LDM_MAX_SESSIONS; k++) {
		const struct session *s = &d->sessions[k];

		live |= SESSION_ACTIVE(s) && s->id == session && (uid == 0 || s->uid == uid);
	}
	for (int i = LDM_LOG_READERS; live && i < LDM_LOG_READERS + LDM_LOG_NOTIFIERS; i++) {
		if (d->logserve->pids[i] > 0 && d->logserve->sessions[i] == session)
			return -1;
		if (d->logserve->pids[i] <= 0 && slot < 0)
			slot = i;
	}
	return slot;
}

/* Where the file at PATH ends now, for a NOW reader: a stat, not a read, in the event loop. */
static void
mark_now(const char *path, struct filter *f)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return; /* no file yet: every record it will hold is newer */
	f->start = st.st_size;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
}

void
ldm_logserve_start(struct daemon *d, int client, const struct ldm_msg_log_request *m)
{
	struct filter f = { .uid = d->clients[client].uid,
		            .session = m->session,
		            .follow = (m->flags & LDM_LOG_F_FOLLOW) != 0,
		            .now = (m->flags & LDM_LOG_F_NOW) != 0,
		            .start = -1 };
	int slot = f.now ? free_notifier(d, f.uid, f.session) : free_reader(d, f.uid), p[2];
	pid_t pid, parent;

	/* RESUME: the current file from its beginning (start -1); the caller skips by seq. */
	if (f.now && !(m->flags & LDM_LOG_F_RESUME))
		mark_now(d->cfg.log, &f);

	if (slot < 0) {
		ldm_clients_send_error(
		        d, client, -EBUSY,
		        f.now ? "no live session of yours by that number, or it has a "
		                "reader already"
		              : "too many log readers; try again");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		ldm_clients_send_error(d, client, -errno, "cannot make a pipe for the log");
		return;
	}
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		/* Only the pipe's write end (as fd 3) and stdio stay open. The reader dies with
		 * the daemon (a reader of a crashed daemon must not live on as root), and never
		 * blocks on a caller that does not read. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
		    dup2(p[1], 3) < 0 || close_range(4, ~0u, 0) < 0 ||
		    fcntl(3, F_SETFL, O_NONBLOCK) < 0)
			_exit(1);
		reader_main(d->cfg.log, 3, &f);
	}
	(void)close(p[1]);
	if (pid < 0 || send_fd(d, client, p[0]) < 0) {
		if (pid < 0)
			ldm_clients_send_error(d, client, -EAGAIN, "cannot start a log reader");
		if (pid > 0)
			(void)kill(pid, SIGKILL);
	}
	(void)close(p[0]);
	if (pid > 0) {
		d->logserve->pids[slot] = pid;
		d->logserve->uids[slot] = f.uid;
		d->logserve->sessions[slot] = f.now ? f.session : 0;
	}
}

void
ldm_logserve_reap(struct daemon *d, bool kill_all)
{
	for (int i = 0; d->logserve != NULL && i < LDM_LOG_READERS + LDM_LOG_NOTIFIERS; i++) {
		pid_t pid = d->logserve->pids[i];

		if (pid <= 0)
			continue;
		if (kill_all)
			(void)kill(pid, SIGKILL);
		if (waitpid(pid, NULL, kill_all ? 0 : WNOHANG) == pid)
			d->logserve->pids[i] = 0;
	}
	if (kill_all) {
		free(d->logserve);
		d->logserve = NULL;
	}
}
