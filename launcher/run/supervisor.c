/*
 * The supervisor (issue 4 step 4): the parent after fork, inside the session cgroup, using
 * no network. One poll loop over a signalfd (forwarded signals and SIGCHLD), the socket on
 * which the child hands over its seccomp listener, and the listener itself.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH are forwarded to the program,
 * except those the kernel sent (si_code SI_KERNEL: the terminal's ^C, ^\ and window size
 * changes), which reach the program directly as it shares our process group; forwarding
 * them would deliver them twice.
 *
 * Seccomp notifications: each is answered at once with the errno the baseline filter
 * gives (ldm_seccomp_notify_handle), then reported to the daemon as LDM_MSG_SYSCALL_DENIED
 * on one connection kept open for the purpose (the daemon answers nothing). At most
 * LDM_RUN_REPORTS_PER_SEC reports a second; the rest are counted and sent as one record
 * with nr -1, name "suppressed" and args[0] the count, when the next second starts or at
 * exit. A report that cannot be sent is dropped (the call was refused all the same); the
 * connection is retried at most once a second.
 *
 * When the program (our child) ends, pending notifications are answered and the supervisor
 * exits: processes the program left behind stay in the session, and their notified calls
 * then fail with ENOSYS from the kernel, unlogged but still refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "common/seccomp.h"
#include "ldm/util.h"
#include "run/run.h"
#include "run/unixmed.h"

#define REPORT_SEND_TIMEOUT_MS 200
#define BARRIER_TIMEOUT_MS     1000

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define LDM_SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#else
#define LDM_SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOCTL_NOTIF_SET_FLAGS
#endif
#define LDM_SECCOMP_NOTIF_FD_SYNC_WAKE_UP 1ULL

struct reporter {
	const char *socket;
	uint64_t session;
	int fd;
	uint64_t retry_at; /* monotonic second of the next connection attempt */
	struct ldm_run_ratelimit rl;
	struct ldm_run_ratelimit rl_unix; /* refused local sockets: their own limit */
};

struct sup {
	pid_t child;
	bool exited;
	int status;
	int sfd;  /* signalfd */
	int sock; /* the child's listener hand-over; -1 once done */
	int nfd;  /* the seccomp listener; -1 if none (yet) */
	uint64_t families;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct reporter rep;
	struct ldm_unixmed *unixmed;
};

static uint64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static void
report_send(struct reporter *rep, struct ldm_msg_hdr *hdr, uint64_t *session)
{
	struct timeval tv = { .tv_usec = REPORT_SEND_TIMEOUT_MS * 1000 };

	if (rep->fd < 0) {
		if (now_s() < rep->retry_at)
			return;
		rep->fd = ldm_client_connect(rep->socket);
		if (rep->fd < 0) {
			rep->retry_at = now_s() + 1;
			return;
		}
		/* A stuck daemon must not stall the listener: give up on this connection. */
		(void)setsockopt(rep->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	*session = rep->session;
	if (ldm_client_send(rep->fd, hdr) < 0) {
		(void)close(rep->fd);
		rep->fd = -1;
		rep->retry_at = now_s() + 1;
	}
}

/*
 * Waits until the daemon has read our reports: it names the sender's session by the
 * sender's pid, so a report still unread when we exit would be dropped. It answers a
 * summary request on the same connection only after the reports before it.
 */
static void
report_barrier(struct reporter *rep)
{
	struct ldm_msg_summary_request req = { .session = rep->session };
	union ldm_msg_any m;

	if (rep->fd < 0)
		return;
	ldm_msg_init(&req.hdr, LDM_MSG_SUMMARY_REQUEST);
	if (ldm_client_send(rep->fd, &req.hdr) == 0)
		(void)ldm_client_recv(rep->fd, &m, BARRIER_TIMEOUT_MS);
}

static void
report_flush(struct reporter *rep, bool force)
{
	struct ldm_msg_syscall_denied m;
	uint64_t n = ldm_run_ratelimit_flush(&rep->rl, now_s(), force);

	if (n == 0)
		return;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_SYSCALL_DENIED);
	m.nr = LDM_SYSCALL_SUPPRESSED;
	m.args[0] = n;
	(void)ldm_msg_set_str(m.name, sizeof(m.name), "suppressed");
	report_send(rep, &m.hdr, &m.session);
}

static void
report_send_unix(struct reporter *rep, struct ldm_msg_unix_blocked *m)
{
	report_send(rep, &m->hdr, &m->session);
}

static void
report_unix_flush(struct reporter *rep, bool force)
{
	struct ldm_msg_unix_blocked m;
	uint64_t n = ldm_run_ratelimit_flush(&rep->rl_unix, now_s(), force);

	if (n == 0)
		return;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_UNIX_BLOCKED);
	m.why = LDM_UNIX_WHY_SUPPRESSED;
	m.count = n;
	report_send_unix(rep, &m);
}

/* A refused connect (ldm_unixmed_report_fn); called from the supervisor's thread only. */
static void
report_unix(void *userdata, const struct ldm_unixmed_refusal *r)
{
	struct reporter *rep = userdata;
	struct ldm_msg_unix_blocked m;

	report_unix_flush(rep, false);
	if (!ldm_run_ratelimit_take(&rep->rl_unix, now_s()))
		return;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_UNIX_BLOCKED);
	m.pid = r->pid;
	m.why = r->why;
	m.rule = r->why == LDM_UNIX_WHY_RULE ? r->rule : 0;
	m.err = r->err;
	m.count = 1;
	(void)ldm_msg_set_str(m.target, sizeof(m.target), r->target);
	report_send_unix(rep, &m);
}

static void
report_denial(struct reporter *rep, const struct ldm_seccomp_denial *d)
{
	struct ldm_msg_syscall_denied m;
	char *name;

	report_flush(rep, false);
	if (!ldm_run_ratelimit_take(&rep->rl, now_s()))
		return;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_SYSCALL_DENIED);
	m.pid = d->pid;
	m.nr = d->nr;
	m.err = d->err;
	memcpy(m.args, d->args, sizeof(m.args));
	/* libseccomp's arch tokens are the AUDIT_ARCH_* values the kernel reports. */
	name = seccomp_syscall_resolve_num_arch(d->arch, d->nr);
	if (name == NULL || ldm_msg_set_str(m.name, sizeof(m.name), name) < 0)
		(void)snprintf(m.name, sizeof(m.name), "syscall_%d", d->nr);
	free(name);
	report_send(rep, &m.hdr, &m.session);
}

static void
handle_notification(struct sup *sp)
{
	struct ldm_seccomp_denial d;

	memset(sp->req, 0, sizeof(*sp->req));
	if (seccomp_notify_receive(sp->nfd, sp->req) < 0)
		return; /* the caller was killed meanwhile */
	/* The filter holds the native architecture only (seccomp.h): nr is native. */
	if (sp->req->data.nr == SCMP_SYS(connect)) {
		ldm_unixmed_connect(sp->unixmed, sp->nfd, sp->req);
		return;
	}
	ldm_seccomp_notify_deny(sp->nfd, sp->families, sp->req, sp->resp, &d);
	report_denial(&sp->rep, &d);
}

static void
reap(struct sup *sp)
{
	int status;
	pid_t r;

	/* As subreaper we also get the program's orphans: reap them, keep the program's status. */
	while ((r = waitpid(-1, &status, WNOHANG)) > 0 || (r < 0 && errno == EINTR)) {
		if (r == sp->child) {
			sp->exited = true;
			sp->status = status;
		}
	}
}

static void
handle_signals(struct sup *sp)
{
	struct signalfd_siginfo si;

	while (read(sp->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(sp);
		else if (si.ssi_code != SI_KERNEL && !sp->exited)
			(void)kill(sp->child, (int)si.ssi_signo);
	}
}

static void
take_listener(struct sup *sp)
{
	int fd = ldm_seccomp_recv_fd(sp->sock);

	if (fd == -EAGAIN || fd == -EINTR)
		return;
	if (fd >= 0) {
		sp->nfd = fd;
		/* Linux 6.6+: the caller's CPU switches straight to us and back (every connect()
		 * is notified). Older kernels refuse it: the usual wake-up then. */
		(void)ioctl(fd, LDM_SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		            LDM_SECCOMP_NOTIF_FD_SYNC_WAKE_UP);
	}
	/* The child sends one fd, then execs: the socket has nothing more to say. */
	(void)close(sp->sock);
	sp->sock = -1;
}

static void
poll_once(struct sup *sp)
{
	struct pollfd p[3] = {
		{ .fd = sp->sfd, .events = POLLIN },
		{ .fd = sp->sock, .events = POLLIN },
		{ .fd = sp->nfd, .events = POLLIN },
	};
	int timeout = sp->rep.rl.suppressed > 0 || sp->rep.rl_unix.suppressed > 0 ? 1000 : -1;

	if (poll(p, ELEMENTSOF(p), timeout) < 0)
		return; /* EINTR: nothing to do but poll again */
	if (p[2].revents & POLLIN)
		handle_notification(sp);
	else if (p[2].revents & (POLLHUP | POLLERR | POLLNVAL)) {
		(void)close(sp->nfd); /* no process uses the filter any more */
		sp->nfd = -1;
	}
	if (p[1].revents != 0)
		take_listener(sp);
	if (p[0].revents & POLLIN)
		handle_signals(sp);
	report_flush(&sp->rep, false);
	report_unix_flush(&sp->rep, false);
}

static void
release_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int i = 0; fd >= 0 && i < 3; i++)
		(void)dup2(fd, i);
	if (fd > 2)
		(void)close(fd);
}

/* Answers the notifications still pending once the program has ended. */
static void
drain_listener(struct sup *sp)
{
	struct pollfd p = { .fd = sp->nfd, .events = POLLIN };

	while (sp->nfd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0)
		handle_notification(sp);
	if (sp->nfd >= 0)
		(void)close(sp->nfd);
	sp->nfd = -1;
}

static int
sup_init(struct sup *sp, const struct ldm_msg_session_ready *s, const struct ldm_run_items *items)
{
	char why[512];
	sigset_t set;
	int r;

	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(ldm_run_forwarded_signals); i++)
		sigaddset(&set, ldm_run_forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	/* Orphans of the program become our children, not init's: we stay their ancestor, so
	 * Yama's ptrace_scope 1 still lets us read their memory and take their sockets. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -errno;
	sp->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sp->sfd < 0)
		return -errno;
	if (seccomp_notify_alloc(&sp->req, &sp->resp) < 0)
		return -ENOMEM;
	r = ldm_unixmed_new(items, s->cgroup, report_unix, &sp->rep, &sp->unixmed, why,
	                    sizeof(why));
	if (r < 0)
		fprintf(stderr, "ldm-run: local sockets: %s\n", why);
	return r;
}

int
ldm_run_supervise(const struct ldm_run_opts *o, const char *socket,
                  const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
                  pid_t child, int sock, int status_fd)
{
	struct sup sp = {
		.child = child,
		.sfd = -1,
		.sock = sock,
		.nfd = -1,
		.families = s->families,
		.rep = { .socket = socket, .session = s->session, .fd = -1 },
	};
	int r = sup_init(&sp, s, items);

	if (r < 0) {
		/* The program runs already: it must not run unsupervised. */
		fprintf(stderr, "ldm-run: cannot supervise the program: %s\n", strerror(-r));
		(void)kill(child, SIGKILL);
	}
	while (!sp.exited && r >= 0)
		poll_once(&sp);
	if (r < 0)
		while (waitpid(child, &sp.status, 0) < 0 && errno == EINTR)
			;
	ldm_run_keeper_send(status_fd, r < 0 ? LDM_RUN_KEEPER_FAIL : LDM_RUN_KEEPER_STATUS,
	                    r < 0 ? LDM_RUN_EXIT_FAIL : sp.status);
	if (status_fd >= 0)
		(void)close(status_fd);
	if (r >= 0 && sp.nfd >= 0) {
		/* The program left processes behind: keep judging their calls, out of the shell's
		 * way (its terminal or pipe must not wait for us). Until the last one ends. */
		release_stdio();
		while (sp.nfd >= 0)
			poll_once(&sp);
	}
	drain_listener(&sp);
	report_flush(&sp.rep, true);
	report_unix_flush(&sp.rep, true);
	report_barrier(&sp.rep);
	ldm_unixmed_free(sp.unixmed);
	if (sp.rep.fd >= 0)
		(void)close(sp.rep.fd);
	if (sp.sock >= 0)
		(void)close(sp.sock);
	if (sp.sfd >= 0)
		(void)close(sp.sfd);
	seccomp_notify_free(sp.req, sp.resp);
	(void)o;
	return r < 0 ? LDM_RUN_EXIT_FAIL : 0;
}

bool
ldm_run_ratelimit_take(struct ldm_run_ratelimit *rl, uint64_t now)
{
	if (now != rl->window) {
		rl->window = now;
		rl->sent = 0;
	}
	if (rl->sent < LDM_RUN_REPORTS_PER_SEC) {
		rl->sent++;
		return true;
	}
	rl->suppressed++;
	return false;
}

uint64_t
ldm_run_ratelimit_flush(struct ldm_run_ratelimit *rl, uint64_t now, bool force)
{
	uint64_t n = rl->suppressed;

	if (n == 0 || (!force && now == rl->window))
		return 0;
	rl->suppressed = 0;
	return n;
}
