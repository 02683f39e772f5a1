/*
 * Fork, and the child's fixed order (docs/session.md, step 6): restore the signal
 * mask, close every fd but 0-2 (a socket opened before the move into the session cgroup
 * would keep the old cgroup and escape the rules; main.c refused sockets on 0-2),
 * PR_SET_NO_NEW_PRIVS, Landlock (the write scope), the
 * seccomp filter last, hand its listener to the supervisor, exec. Any failure before exec
 * exits 125 with a one-line reason; the program never runs unprotected.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/landlock.h"
#include "common/seccomp.h"
#include "ldm/util.h"
#include "run/run.h"

extern char **environ;

const int ldm_run_forwarded_signals[5] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };

static _Noreturn void __attribute__((format(printf, 1, 2))) die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "ldm-run: %s; the program was not started\n", buf);
	_exit(LDM_RUN_EXIT_FAIL);
}

/* The executable that was hashed, -1: none; run by its path (after a check) or by it. */
static int exec_fd = -1;
static bool exec_by_path;

void
ldm_run_exec_fd_set(int fd, bool by_path)
{
	exec_fd = fd;
	exec_by_path = by_path;
}

/*
 * Executes the program: the hashed descriptor, or the path if it still names its inode.
 * By descriptor, ENOEXEC (a script without "#!", which execvp runs with /bin/sh) and ENOENT
 * (a binfmt_misc or script interpreter that would need the descriptor's /dev/fd path, gone
 * at exec: it is close-on-exec) fall back to the checked path, as before Linux 6.14.
 */
static void
exec_program(const struct ldm_run_opts *o, const char *path)
{
	struct stat hashed, now;

	if (exec_fd >= 0 && !exec_by_path) {
		syscall(SYS_execveat, exec_fd, "", o->argv, environ, AT_EMPTY_PATH);
		if (errno != ENOEXEC && errno != ENOENT)
			return;
	}
	if (exec_fd >= 0 && (fstat(exec_fd, &hashed) < 0 || stat(path, &now) < 0 ||
	                     hashed.st_dev != now.st_dev || hashed.st_ino != now.st_ino))
		die("%s was replaced after ldm-run hashed it", path);
	execvp(path, o->argv);
}

/* Closes fds 3 and up except KEEP and KEEP2 (-1: none). */
static int
close_other_fds(int keep, int keep2)
{
	int lo = keep2 >= 3 && keep2 < keep ? keep2 : keep;
	int hi = lo == keep ? (keep2 > keep ? keep2 : -1) : keep;
	struct rlimit rl;

	if ((lo <= 3 || close_range(3, (unsigned)lo - 1, 0) == 0) &&
	    (hi < 0 || hi == lo + 1 || close_range((unsigned)lo + 1, (unsigned)hi - 1, 0) == 0) &&
	    close_range((unsigned)(hi < 0 ? lo : hi) + 1, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.9. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < (1u << 20); fd++)
		if ((int)fd != keep && (int)fd != keep2)
			(void)close((int)fd);
	return 0;
}

/* The write scope (writescope.c); no Landlock means no program: never a silent downgrade. */
static void
enter_landlock(void)
{
	int r = ldm_run_write_scope_enter();

	if (r < 0)
		die("cannot enter the Landlock write scope: %s", strerror(-r));
}

static _Noreturn void
child_exec(const struct ldm_run_opts *o, const char *path, const struct ldm_msg_session_ready *s,
           const sigset_t *oldmask, int sock)
{
	struct ldm_seccomp_opts so = {
		.families = s->families,
		.allow_multicast = (s->flags & LDM_READY_F_MULTICAST) != 0,
		.notify = true,
		.notify_writes = true, /* for the log of refused writes: writelog.c */
		.deny = s->deny,
		.n_deny = s->n_deny,
	};
	int nfd, r;

	if (sigprocmask(SIG_SETMASK, oldmask, NULL) < 0)
		die("cannot restore the signal mask: %m");
	r = close_other_fds(sock, exec_fd);
	if (r < 0)
		die("cannot close inherited file descriptors: %s", strerror(-r));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("cannot set no_new_privs: %m");
	enter_landlock();
	r = ldm_seccomp_load(&so, &nfd);
	if (r < 0)
		die("cannot load the seccomp filter: %s", strerror(-r));
	/* Seccomp is in force. Only handing over the listener and exec remain. */
	r = ldm_seccomp_send_fd(sock, nfd);
	if (r < 0)
		die("cannot hand the seccomp listener to the supervisor: %s", strerror(-r));
	(void)close(nfd); /* our copy would keep the listener alive without the supervisor */
	(void)close(sock);
	exec_program(o, path); /* the file ldm-run hashed (exehash.c) */
	r = errno;
	dprintf(STDERR_FILENO, "ldm-run: %s: %s\n", o->argv[0], strerror(r));
	_exit(r == ENOENT ? LDM_RUN_EXIT_NOT_FOUND : LDM_RUN_EXIT_CANNOT_EXEC);
}

pid_t
ldm_run_spawn(const struct ldm_run_opts *o, const char *path, const struct ldm_msg_session_ready *s,
              const struct ldm_run_items *items, int *ret_sock)
{
	sigset_t set, old;
	int sv[2], r;
	pid_t pid;

	(void)items; /* the write scope was prepared from them: ldm_run_write_scope_prepare */
	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(ldm_run_forwarded_signals); i++)
		sigaddset(&set, ldm_run_forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	/* Blocked before fork: none gets lost; the supervisor reads them from a signalfd. */
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		return r;
	}
	pid = fork();
	if (pid == 0) {
		(void)close(sv[0]);
		child_exec(o, path, s, &old, sv[1]);
	}
	r = -errno;
	(void)close(sv[1]);
	if (pid < 0) {
		(void)close(sv[0]);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		return r;
	}
	*ret_sock = sv[0];
	return pid;
}
