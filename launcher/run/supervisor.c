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
 * When the program (our child) ends and no other process uses the filter, pending
 * notifications are answered and the supervisor exits. If processes the program left
 * behind still use it, a keeper process (keep_listener) serves the listener until they
 * are gone. If the supervisor is killed, notified calls (write calls included) fail with
 * ENOSYS from the kernel, unlogged but still refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "common/seccomp.h"
#include "ldm/util.h"
#include "run/run.h"

#define REPORT_SEND_TIMEOUT_MS 200
#define KEEPER_CHECK_MS        200 /* the keeper looks who is left in the session */

struct reporter {
	const char *socket;
	uint64_t session;
	int fd;
	uint64_t retry_at; /* monotonic second of the next connection attempt */
	struct ldm_run_ratelimit rl;
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
	char procs[4200]; /* the session cgroup's cgroup.procs; "" if unknown */
};

static uint64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Sends M, whose session field the caller set. */
static void
report_send_hdr(struct reporter *rep, const struct ldm_msg_hdr *m)
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
	if (ldm_client_send(rep->fd, m) < 0) {
		(void)close(rep->fd);
		rep->fd = -1;
		rep->retry_at = now_s() + 1;
	}
}

static void
report_send(struct reporter *rep, struct ldm_msg_syscall_denied *m)
{
	m->session = rep->session;
	report_send_hdr(rep, &m->hdr);
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
	report_send(rep, &m);
}

/* A write outside the scope: under the same rate limit as the syscall reports. */
static void
report_write(struct reporter *rep, struct ldm_msg_write_denied *m)
{
	report_flush(rep, false);
	if (!ldm_run_ratelimit_take(&rep->rl, now_s()))
		return;
	m->session = rep->session;
	report_send_hdr(rep, &m->hdr);
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
	report_send(rep, &m);
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
	ldm_seccomp_notify_refuse(sp->nfd, sp->families, sp->req, sp->resp, &d);
	report_denial(&sp->rep, &d);
}

static void
reap(struct sup *sp)
{
	int status;
	pid_t r;

	while ((r = waitpid(sp->child, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == sp->child) {
		sp->exited = true;
		sp->status = status;
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
	if (fd >= 0)
		sp->nfd = fd;
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
	int timeout = sp->rep.rl.suppressed > 0 ? 1000 : -1;

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
 * The program ended but processes it left behind still use the filter: their write calls
 * (and the other notified ones) need a listener, or they would fail with ENOSYS. A keeper
 * process takes the listener over, in its own process group with stdio on /dev/null, and
 * serves it until the last of them is gone (POLLHUP), reporting as we do.
 */
static bool
keep_listener(struct sup *sp)
{
	struct pollfd p = { .fd = sp->nfd, .events = POLLIN };
	pid_t k;
	int fd;

	if (sp->nfd < 0 || poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
		return false; /* nobody left: drain_listener() answers what is pending */
	report_flush(&sp->rep, true);
	report_close(&sp->rep); /* the keeper makes its own connection: none is shared */
	k = fork();
	if (k < 0)
		return false;
	if (k > 0) {
		(void)close(sp->nfd);
		sp->nfd = -1;
		return true;
	}
	(void)setpgid(0, 0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < 3; i++)
		(void)dup2(fd, i);
	if (sp->sfd >= 0)
		(void)close(sp->sfd);
	sp->rep.retry_at = 0;
	for (;;) {
		p = (struct pollfd){ .fd = sp->nfd, .events = POLLIN };
		if (poll(&p, 1, KEEPER_CHECK_MS) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN)
			handle_notification(sp);
		else if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
		report_flush(&sp->rep, false);
		/* Only processes that left the session use the filter now (escapes, which the
		 * daemon logs): they are not served, and the session may end. */
		if (sp->procs[0] != '\0' && ldm_run_session_others(sp->procs) == 0)
			break;
	}
	report_flush(&sp->rep, true);
	report_close(&sp->rep);
	_exit(0);
}

static int
sup_init(struct sup *sp)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(ldm_run_forwarded_signals); i++)
		sigaddset(&set, ldm_run_forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	sp->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sp->sfd < 0)
		return -errno;
	if (seccomp_notify_alloc(&sp->req, &sp->resp) < 0)
		return -ENOMEM;
	return ldm_run_writelog_init(&sp->wl);
}

int
ldm_run_supervise(const struct ldm_run_opts *o, const char *socket,
                  const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
                  pid_t child, int sock)
{
	struct sup sp = {
		.child = child,
		.sfd = -1,
		.sock = sock,
		.nfd = -1,
		.families = s->families,
		.rep = { .socket = socket, .session = s->session, .fd = -1 },
	};
	int r = sup_init(&sp);
	bool keeper = false;

	(void)items; /* the write scope's paths come from writescope.c */
	if (ldm_run_session_procs_path(s->cgroup, sp.procs, sizeof(sp.procs)) < 0)
		sp.procs[0] = '\0'; /* the keeper then serves until the filter has no user */
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
	if (r >= 0)
		keeper = keep_listener(&sp);
	drain_listener(&sp);
	report_flush(&sp.rep, true);
	report_close(&sp.rep);
	if (sp.sock >= 0)
		(void)close(sp.sock);
	seccomp_notify_free(sp.req, sp.resp);
	ldm_run_writelog_clear(&sp.wl);
	if (!o->quiet)
		ldm_run_session_summary(socket, s, sp.sfd, keeper ? 1 : 0);
	if (sp.sfd >= 0)
		(void)close(sp.sfd);
	return r < 0 ? LDM_RUN_EXIT_FAIL : ldm_run_exit_status(sp.status);
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
