/*
 * ldm-run and the daemon: the session request, the cgroup check, the summary line.
 *
 * Trust: the daemon is root and its replies are checked by ldm_client_recv() (sizes,
 * strings, counts) before anything here reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/client.h"
#include "ldm/util.h"
#include "run/run.h"

#define SESSION_TIMEOUT_MS 30000 /* the daemon installs and proves rules before "ready" */
#define SUMMARY_WAIT_MS    5000  /* for processes the program left in the session */
#define SUMMARY_TIMEOUT_MS (SUMMARY_WAIT_MS + 3000)
#define CGROUP_FILE_MAX    8192

static void
say_connect_error(const char *socket, int r)
{
	if (r == -ENOENT || r == -ECONNREFUSED)
		fprintf(stderr,
		        "ldm-run: ldm-enforcerd is not running (no daemon at %s: %s); "
		        "start it with 'sudo systemctl start ldm-enforcerd', or pass --socket\n",
		        socket, strerror(-r));
	else if (r == -EACCES)
		fprintf(stderr,
		        "ldm-run: %s: %s: ask the administrator for access to "
		        "ldm-enforcerd\n",
		        socket, strerror(-r));
	else
		fprintf(stderr, "ldm-run: cannot reach ldm-enforcerd at %s: %s\n", socket,
		        strerror(-r));
}

/* Reads the reply to a session request on FD: the items, then READY or an error. */
static int
read_ready(int fd, struct ldm_msg_session_ready *ret, struct ldm_run_items *items)
{
	union ldm_msg_any m;
	int r;

	while ((r = ldm_client_recv(fd, &m, SESSION_TIMEOUT_MS)) == LDM_MSG_SESSION_ITEM) {
		int e = ldm_run_items_add(items, &m.item);

		if (e < 0) {
			fprintf(stderr, "ldm-run: the session's policy items: %s\n", strerror(-e));
			return e;
		}
	}
	if (r == LDM_MSG_SESSION_READY) {
		*ret = m.ready;
		return 0;
	}
	if (r == LDM_MSG_ERROR) {
		fprintf(stderr, "ldm-run: %s\n", m.error.text); /* the daemon's words, verbatim */
		return m.error.code < 0 ? m.error.code : -EPERM;
	}
	if (r >= 0) {
		fprintf(stderr, "ldm-run: unexpected reply from ldm-enforcerd (message type %d)\n",
		        r);
		return -EPROTO;
	}
	fprintf(stderr, "ldm-run: no session: %s\n",
	        r == -ECONNRESET ? "ldm-enforcerd closed the connection without an answer"
	                         : strerror(-r));
	return r;
}

int
ldm_run_session_request(const char *socket, const struct ldm_run_opts *o, const char *app,
                        const char *exe_sha256, uint32_t landlock_abi,
                        struct ldm_msg_session_ready *ret, struct ldm_run_items *items)
{
	struct ldm_msg_session_request req;
	_cleanup_close_ int fd = -1;
	int r;

	memset(&req, 0, sizeof(req));
	ldm_msg_init(&req.hdr, LDM_MSG_SESSION_REQUEST);
	req.pid = (uint32_t)getpid();
	/* The child always mediates calls by seccomp user notification (child.c). */
	req.flags = (o->audit ? LDM_SESSION_F_AUDIT : 0) | LDM_SESSION_F_SECCOMP_NOTIFY;
	(void)ldm_strscpy(req.exe_sha256, sizeof(req.exe_sha256), exe_sha256);
	req.landlock_abi = landlock_abi;
	if (ldm_msg_set_str(req.policy, sizeof(req.policy), o->policy) < 0) {
		fprintf(stderr, "ldm-run: policy name too long: %s\n", o->policy);
		return -ENAMETOOLONG;
	}
	(void)ldm_strscpy(req.app, sizeof(req.app), app); /* for logs: truncation is fine */
	fd = ldm_client_connect(socket);
	if (fd < 0) {
		say_connect_error(socket, fd);
		return fd;
	}
	r = ldm_client_send(fd, &req.hdr);
	if (r < 0) {
		fprintf(stderr, "ldm-run: cannot send the session request to %s: %s\n", socket,
		        strerror(-r));
		return r;
	}
	ldm_run_items_clear(items);
	r = read_ready(fd, ret, items);
	if (r < 0)
		ldm_run_items_clear(items);
	return r;
}

bool
ldm_run_cgroup_matches(const char *text, const char *cgroup)
{
	const char *p = text;
	size_t len = strlen(cgroup);

	for (; p != NULL; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, "0::/", 4) != 0)
			continue;
		p += 4;
		return strncmp(p, cgroup, len) == 0 && (p[len] == '\n' || p[len] == '\0');
	}
	return false;
}

int
ldm_run_session_check_cgroup(const struct ldm_msg_session_ready *s)
{
	_cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	char buf[CGROUP_FILE_MAX];
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		fprintf(stderr, "ldm-run: cannot read /proc/self/cgroup: %m\n");
		return -errno;
	}
	buf[n] = '\0';
	/* A path above our cgroup namespace's root: the daemon names cgroups from its own. */
	if (strstr(buf, "0::/..") != NULL) {
		fprintf(stderr, "ldm-run: refused: ldm-run runs in another cgroup namespace than "
		                "ldm-enforcerd, so it cannot check that it is in the session; the "
		                "program was not started\n");
		return -EXDEV;
	}
	/* An empty name would be the root: never a session's cgroup. */
	if (s->cgroup[0] == '\0' || s->cgroup[0] == '/' ||
	    !ldm_run_cgroup_matches(buf, s->cgroup)) {
		fprintf(stderr,
		        "ldm-run: not moved into the session cgroup (/%s); the program "
		        "was not started\n",
		        s->cgroup);
		return -ESRCH;
	}
	return 0;
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The warnings after the counts: processes that left the sandbox, or still run in it. */
static int
format_warnings(char *buf, size_t size, const struct ldm_msg_summary *sum)
{
	int n = 0;

	buf[0] = '\0';
	if (sum->escapes > 0)
		n = snprintf(buf, size,
		             " \u2014 WARNING: %" PRIu32 " %s of the program left the sandbox "
		             "while it ran and %s no longer restricted",
		             sum->escapes, plural(sum->escapes, "process", "processes"),
		             plural(sum->escapes, "was", "were"));
	if (n >= 0 && (size_t)n < size && !(sum->flags & LDM_SUMMARY_R_FINAL) && sum->running > 0)
		n += snprintf(buf + n, size - (size_t)n,
		              " \u2014 %" PRIu32 " %s still running in the session: counts so far",
		              sum->running, plural(sum->running, "process is", "processes are"));
	else if (n >= 0 && (size_t)n < size && !(sum->flags & LDM_SUMMARY_R_FINAL))
		n += snprintf(buf + n, size - (size_t)n, " \u2014 counts so far");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
ldm_run_format_summary(char *buf, size_t size, uint64_t session, const char *policy, bool audit,
                       const struct ldm_msg_summary *sum)
{
	char counts[160] = "", warn[256] = "";
	int n;

	if (sum != NULL && audit)
		n = snprintf(counts, sizeof(counts), ": %" PRIu64 " %s would have been blocked",
		             sum->would_block,
		             plural(sum->would_block, "connection", "connections"));
	else if (sum != NULL)
		n = snprintf(counts, sizeof(counts), ": %" PRIu64 " %s blocked", sum->blocked,
		             plural(sum->blocked, "connection", "connections"));
	else
		n = snprintf(counts, sizeof(counts), " (counts unavailable)");
	if (n >= 0 && sum != NULL && sum->syscalls_denied > 0)
		n = snprintf(counts + n, sizeof(counts) - (size_t)n, ", %" PRIu64 " %s denied",
		             sum->syscalls_denied,
		             plural(sum->syscalls_denied, "syscall", "syscalls"));
	if (sum != NULL && format_warnings(warn, sizeof(warn), sum) < 0)
		return -ENAMETOOLONG;
	n = snprintf(buf, size,
	             "ldm: session %" PRIu64 " (%s) ended%s%s \u2014 see: ldmctl log %" PRIu64,
	             session, policy, counts, warn, session);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Asks for the counts with FLAGS on a connection of its own; the reply in *RET. */
static int
ask_summary(const char *socket, uint64_t session, uint32_t flags, int *ret_fd)
{
	struct ldm_msg_summary_request req;
	int fd = ldm_client_connect(socket), r;

	if (fd < 0)
		return fd;
	memset(&req, 0, sizeof(req));
	ldm_msg_init(&req.hdr, LDM_MSG_SUMMARY_REQUEST);
	req.session = session;
	req.flags = flags;
	req.wait_ms = flags & LDM_SUMMARY_F_FINAL ? SUMMARY_WAIT_MS : 0;
	r = ldm_client_send(fd, &req.hdr);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* True when SFD (the supervisor's signalfd) holds a signal that asks ldm-run to stop. */
static bool
interrupted(int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		stop |= si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH;
	return stop;
}

/*
 * The session's final counters, or -errno. The daemon answers once the session holds
 * nothing but ldm-run (or after SUMMARY_WAIT_MS); a signal to stop (Ctrl-C) on SFD ends the
 * wait, and the counts so far are asked for instead.
 */
static int
get_summary(const char *socket, uint64_t session, int sfd, struct ldm_msg_summary *ret)
{
	_cleanup_close_ int fd = -1;
	union ldm_msg_any m;
	int r = ask_summary(socket, session, LDM_SUMMARY_F_FINAL, &fd);

	while (r == 0) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			               { .fd = sfd, .events = POLLIN } };
		int n = poll(p, sfd >= 0 ? 2 : 1, SUMMARY_TIMEOUT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ETIMEDOUT;
			break;
		}
		if (p[0].revents != 0)
			break;
		/* Only a stop ends the wait, once: the counts so far come at once. */
		if ((p[1].revents & POLLIN) && interrupted(sfd)) {
			(void)close(TAKE_FD(fd));
			r = ask_summary(socket, session, 0, &fd);
			sfd = -1;
		}
	}
	if (r == 0)
		r = ldm_client_recv(fd, &m, SUMMARY_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (r != LDM_MSG_SUMMARY || m.summary.session != session)
		return -EPROTO;
	*ret = m.summary;
	return 0;
}

int
ldm_run_session_summary(const char *socket, const struct ldm_msg_session_ready *s, int sfd,
                        unsigned own_helpers, char *line, size_t size, uint64_t *ret_blocked)
{
	struct ldm_msg_summary sum;
	bool have = get_summary(socket, s->session, sfd, &sum) == 0;
	int r;

	/* ldm-run's own helpers (the keeper) are no process of the program's. */
	if (have)
		sum.running = sum.running > own_helpers ? sum.running - own_helpers : 0;
	r = ldm_run_format_summary(line, size, s->session, s->policy,
	                           (s->flags & LDM_READY_F_AUDIT) != 0, have ? &sum : NULL);
	if (r == 0)
		fprintf(stderr, "%s\n", line);
	*ret_blocked = have ? sum.blocked : 0;
	/* What the pilot saw, to hold the log to later: a log cut short or edited up to here
	 * fails `ldmctl verify --expect`. */
	if (have && sum.log_seq != 0) {
		char hex[2 * sizeof(sum.log_hash) + 1];

		for (size_t i = 0; i < sizeof(sum.log_hash); i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", sum.log_hash[i]);
		fprintf(stderr,
		        "ldm: log record %" PRIu64 ", sha256 %s (check the log: ldmctl verify "
		        "--expect %" PRIu64 ":%s)\n",
		        sum.log_seq, hex, sum.log_seq, hex);
	}
	return r;
}
