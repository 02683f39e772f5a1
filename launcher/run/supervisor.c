/*
 * The supervisor: the parent of the program, inside the session cgroup, using
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
 * Notified calls: connect() is made by the supervisor itself (unixmed.c), write calls are
 * logged when they leave the write scope and then run for Landlock to judge (writelog.c),
 * the rest are refused.
 *
 * When the program (our child) ends, its status goes to the ldm-run that waits for it
 * (keeper.c); the supervisor serves the listener on while processes the program left
 * behind still use the filter and are in the session, and then exits. If the supervisor
 * is killed, notified calls (connects and write calls included) fail with ENOSYS from the
 * kernel, unlogged but still refused.
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
#define KEEPER_CHECK_MS        200 /* after the program: who is left in the session */

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
	struct ldm_run_writelog wl;
	char procs[4200];    /* the session cgroup's cgroup.procs; "" if unknown */
	pid_t waiter;        /* the ldm-run that waits for the program: our parent */
	uint64_t next_check; /* monotonic ms: when only_escapes_left() looks again */
	struct ldm_unixmed *unixmed;
	int status_fd;    /* the pipe to the keeper, until the status is sent; -1 */
	bool keeper_gone; /* it closed its end first: reported */
};

static uint64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends M, whose session field the caller set. */
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
 * Closes the report connection once the daemon has read every report: it checks each
 * against the sender's cgroup, so we must still be alive then. Our EOF reaches it after
 * the reports; its close (at most a second) tells us it got there.
 */
static void
report_close(struct reporter *rep)
{
	struct pollfd p = { .fd = rep->fd, .events = POLLIN };
	ssize_t n;
	char c;

	if (rep->fd < 0)
		return;
	/* The daemon sends nothing on this connection: EOF (or an error) ends it. */
	if (shutdown(rep->fd, SHUT_WR) == 0 && poll(&p, 1, 1000) == 1) {
		n = read(rep->fd, &c, 1);
		(void)n;
	}
	(void)close(rep->fd);
	rep->fd = -1;
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

/* A write outside the scope: under the same rate limit as the syscall reports. */
static void
report_write(struct reporter *rep, struct ldm_msg_write_denied *m)
{
	report_flush(rep, false);
	if (!ldm_run_ratelimit_take(&rep->rl, now_s()))
		return;
	report_send(rep, &m->hdr, &m->session);
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
	struct ldm_msg_write_denied w;

	memset(sp->req, 0, sizeof(*sp->req));
	if (seccomp_notify_receive(sp->nfd, sp->req) < 0)
		return; /* the caller was killed meanwhile */
	if (ldm_seccomp_write_call(sp->req->data.nr) != NULL) {
		if (ldm_run_writelog_handle(&sp->wl, sp->nfd, sp->req, sp->resp, &w) > 0)
			report_write(&sp->rep, &w);
		return;
	}
	/* The filter holds the native architecture only (seccomp.h): nr is native. */
	if (sp->req->data.nr == SCMP_SYS(connect)) {
		ldm_unixmed_connect(sp->unixmed, sp->nfd, sp->req);
		return;
	}
	ldm_seccomp_notify_refuse(sp->nfd, sp->families, sp->req, sp->resp, &d);
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

/*
 * The keeper closed its end of the status pipe before the program's status was sent: it was
 * killed (below Landlock ABI 6 the program may signal it). Nobody notifies the pilot or
 * prints the summary now: the daemon is told once, and logs it.
 */
static void
report_keeper_gone(struct sup *sp)
{
	struct ldm_msg_keeper_gone m;

	sp->keeper_gone = true;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_KEEPER_GONE);
	m.pid = sp->waiter > 0 ? (uint32_t)sp->waiter : 1;
	report_send(&sp->rep, &m.hdr, &m.session);
}

static void
poll_once(struct sup *sp)
{
	struct pollfd p[4] = {
		{ .fd = sp->sfd, .events = POLLIN },
		{ .fd = sp->sock, .events = POLLIN },
		{ .fd = sp->nfd, .events = POLLIN },
		{ .fd = sp->keeper_gone ? -1 : sp->status_fd, .events = 0 },
	};
	int timeout = sp->rep.rl.suppressed > 0 || sp->rep.rl_unix.suppressed > 0 ? 1000
	              : sp->exited                                                ? KEEPER_CHECK_MS
	                                                                          : -1;

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
	if (p[3].revents & (POLLERR | POLLHUP))
		report_keeper_gone(sp);
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

/*
 * True when nobody but this supervisor and the ldm-run that waits for the program (our
 * parent) is left in the session's cgroup: the processes still using the filter left the
 * session. Looked at every KEEPER_CHECK_MS at most.
 */
static bool
only_escapes_left(struct sup *sp)
{
	uint64_t now = now_ms();

	if (sp->procs[0] == '\0' || now < sp->next_check)
		return false;
	sp->next_check = now + KEEPER_CHECK_MS;
	return ldm_run_session_others(sp->procs, sp->waiter) == 0;
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
	r = ldm_run_writelog_init(&sp->wl);
	if (r < 0)
		return r;
	r = ldm_unixmed_new(items, s->cgroup, report_unix, &sp->rep, &sp->unixmed, why,
	                    sizeof(why));
	if (r < 0)
		fprintf(stderr, "ldm-run: local sockets: %s\n", why);
	if (ldm_run_session_procs_path(s->cgroup, sp->procs, sizeof(sp->procs)) < 0)
		sp->procs[0] = '\0'; /* then served until the filter has no user */
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
		.waiter = getppid(),
		.status_fd = status_fd,
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
	sp.status_fd = -1;
	if (r >= 0 && sp.nfd >= 0) {
		/* The program left processes behind: keep judging their calls, out of the shell's
		 * way (its terminal or pipe must not wait for us). Until the last one ends, or
		 * until only processes that left the session use the filter (escapes, which the
		 * daemon logs: their notified calls then fail with ENOSYS, closed). */
		release_stdio();
		while (sp.nfd >= 0 && !only_escapes_left(&sp))
			poll_once(&sp);
	}
	drain_listener(&sp);
	report_flush(&sp.rep, true);
	report_unix_flush(&sp.rep, true);
	ldm_unixmed_free(sp.unixmed);
	report_close(&sp.rep);
	if (sp.sock >= 0)
		(void)close(sp.sock);
	seccomp_notify_free(sp.req, sp.resp);
	ldm_run_writelog_clear(&sp.wl);
	if (sp.sfd >= 0)
		(void)close(sp.sfd);
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
