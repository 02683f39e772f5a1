/*
 * The process the shell waits for. ldm-run forks the supervisor, which forks the program
 * (child.c) and supervises it (supervisor.c); this first process only waits for the
 * program's exit status, forwards signals to it, prints the summary and exits with that
 * status. The supervisor lives on, out of the shell's sight, while any process the program
 * left behind still uses the seccomp filter: their connect() calls stay judged and logged.
 *
 * The supervisor tells us over a pipe: the program's pid, then its wait status (or that it
 * could not start it). A pipe closed without a status means the supervisor died: exit 125.
 *
 * With notifications on (notify.h) this process is also the notifier: it follows the
 * session's records and talks to the real session bus, out of the supervisor's way (which
 * answers the program's calls) and out of the program's reach (not dumpable, see below).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ldm/util.h"
#include "run/notify.h"
#include "run/run.h"

void
ldm_run_keeper_send(int fd, int kind, int value)
{
	struct ldm_run_keeper_msg m = { .kind = kind, .value = value };

	/* Atomic: smaller than PIPE_BUF. A keeper that is gone reads nothing: no error then. */
	if (fd >= 0 && write(fd, &m, sizeof(m)) < 0)
		return;
}

static _Noreturn void
run_supervisor(const struct ldm_run_opts *o, const char *socket,
               const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
               const char *path, const sigset_t *old, int status_fd)
{
	static struct ldm_run_dbus dbus;
	int sock, code;
	pid_t child;

	if (sigprocmask(SIG_SETMASK, old, NULL) < 0)
		_exit(LDM_RUN_EXIT_FAIL);
	/* The D-Bus filter lives as long as the supervisor: while any process of the program
	 * may still talk to the bus. Its socket becomes an allowed local socket (an item). */
	if (ldm_run_dbus_begin(&dbus, (struct ldm_run_items *)items) != 0) {
		ldm_run_keeper_send(status_fd, LDM_RUN_KEEPER_FAIL, LDM_RUN_EXIT_FAIL);
		_exit(LDM_RUN_EXIT_FAIL);
	}
	child = ldm_run_spawn(o, path, s, items, &sock);
	if (child < 0) {
		fprintf(stderr, "ldm-run: cannot start the program: %s\n", strerror(-child));
		ldm_run_dbus_stop(&dbus);
		ldm_run_keeper_send(status_fd, LDM_RUN_KEEPER_FAIL, LDM_RUN_EXIT_FAIL);
		_exit(LDM_RUN_EXIT_FAIL);
	}
	ldm_run_keeper_send(status_fd, LDM_RUN_KEEPER_PID, (int)child);
	code = ldm_run_supervise(o, socket, s, items, child, sock, status_fd);
	ldm_run_dbus_stop(&dbus);
	_exit(code);
}

/* Reads one message; returns 1 when the wait is over (*code set), 0 to go on. */
static int
read_msg(int fd, pid_t *program, int *code)
{
	struct ldm_run_keeper_msg m;
	ssize_t n;

	do
		n = read(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m)) {
		fprintf(stderr, "ldm-run: the supervisor ended without the program's status\n");
		*code = LDM_RUN_EXIT_FAIL;
		return 1;
	}
	switch (m.kind) {
	case LDM_RUN_KEEPER_PID:
		*program = (pid_t)m.value;
		return 0;
	case LDM_RUN_KEEPER_STATUS:
		*code = ldm_run_exit_status(m.value);
		return 1;
	default:
		*code = LDM_RUN_EXIT_FAIL;
		return 1;
	}
}

/*
 * Until the supervisor sends the program's status on FD (or dies): forwards signals from SFD
 * to the program and serves the NOTIFIER (NULL: none). Returns ldm-run's exit code.
 */
static int
wait_program(int sfd, int fd, pid_t sup, struct ldm_run_notifier *notifier)
{
	pid_t program = -1;
	int code = LDM_RUN_EXIT_FAIL;

	for (;;) {
		struct pollfd f[4] = { { .fd = sfd, .events = POLLIN },
			               { .fd = fd, .events = POLLIN } };
		struct signalfd_siginfo si;

		ldm_run_notifier_pollfds(notifier, f + 2);
		if (poll(f, notifier != NULL ? 4 : 2, ldm_run_notifier_timeout(notifier)) < 0)
			continue;
		ldm_run_notifier_handle(notifier, f + 2);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			/* The kernel's (the terminal's ^C) reach the program directly: its group. */
			if (si.ssi_signo == SIGCHLD)
				(void)waitpid(sup, NULL, WNOHANG);
			else if (si.ssi_code != SI_KERNEL && program > 0)
				(void)kill(program, (int)si.ssi_signo);
		}
		if ((f[1].revents & (POLLIN | POLLHUP)) != 0 && read_msg(fd, &program, &code))
			return code;
	}
}

int
ldm_run_keep(const struct ldm_run_opts *o, const char *socket,
             const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
             const char *path)
{
	struct ldm_run_notifier *notifier = NULL;
	char line[LDM_RUN_SUMMARY_MAX];
	uint64_t blocked = 0;
	bool have = false;
	sigset_t set, old;
	int p[2], sfd, code;
	pid_t sup;

	/* The program runs as our user: without Landlock it could open /proc/PID/mem of a
	 * dumpable ldm-run and rewrite the supervisor. Not dumpable: only root may. (The
	 * program is dumpable again after its execve.) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return LDM_RUN_EXIT_FAIL;
	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(ldm_run_forwarded_signals); i++)
		sigaddset(&set, ldm_run_forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return LDM_RUN_EXIT_FAIL;
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "ldm-run: cannot start the supervisor: %m\n");
		return LDM_RUN_EXIT_FAIL;
	}
	/* Before the program starts, so that its first block is seen. */
	if (o->notify == LDM_RUN_NOTIFY_ON)
		notifier = ldm_run_notifier_start(socket, s->session, o->notify_loud);
	sup = fork();
	if (sup == 0) {
		(void)close(p[0]);
		(void)close(sfd);
		ldm_run_notifier_forget(notifier); /* the bus is ours, never the program's side */
		run_supervisor(o, socket, s, items, path, &old, p[1]);
	}
	(void)close(p[1]);
	if (sup < 0) {
		fprintf(stderr, "ldm-run: cannot start the supervisor: %m\n");
		ldm_run_notifier_end(notifier, NULL, 0);
		return LDM_RUN_EXIT_FAIL;
	}
	code = wait_program(sfd, p[0], sup, notifier);
	(void)close(p[0]);
	/* The supervisor serves processes the program left behind: it is ours, not theirs. */
	if (!o->quiet)
		have = ldm_run_session_summary(socket, s, sfd,
		                               waitpid(sup, NULL, WNOHANG) == 0 ? 1 : 0, line,
		                               sizeof(line), &blocked) == 0;
	ldm_run_notifier_end(notifier, have ? line : NULL, blocked);
	(void)close(sfd);
	return code;
}
