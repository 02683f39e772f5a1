/*
 * The kernel rules are committed by iptables-restore (nft backend), one atomic transaction
 * per family; IPv4 and IPv6 run at the same time. The tools run with execve, a fixed argv
 * and an empty environment; their input is our own generated text, their output is parsed
 * as untrusted (bounded).
 *
 * A tool's stdin, stdout and stderr are memory files, not pipes: nothing has to be pumped
 * while it runs, so a commit can run in the background of the event loop (a pidfd says
 * when it ended) and no pipe can fill and block. A tool that hangs is killed after 30 s (and
 * given up on 5 s later); its output files are capped with RLIMIT_FSIZE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iptables.h"
#include "ldm/util.h"

#define MAX_OUTPUT   (64u * 1024 * 1024)
#define TOOL_TIMEOUT 30000 /* ms */
#define KILL_GRACE   5000  /* ms a killed tool has to go */

static const char *const tool_dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

/* The restore runs of late: a ruleset change whose transaction names one of these pids is
 * ours while it runs and for a moment after it ended (its notifications are read later);
 * after that a process that gets the pid again is a stranger. */
#define OURS_AFTER_END_MS 2000
static struct {
	pid_t pid;
	uint64_t until_ms; /* UINT64_MAX while it runs */
} recent[16];
static unsigned recent_next;

static uint64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void
ours_ended(pid_t pid)
{
	for (size_t i = 0; i < ELEMENTSOF(recent); i++)
		if (recent[i].pid == pid && recent[i].until_ms == UINT64_MAX)
			recent[i].until_ms = now_ms() + OURS_AFTER_END_MS;
}

static int
find_tool(const char *name, char *buf, size_t size)
{
	for (size_t i = 0; i < ELEMENTSOF(tool_dirs); i++) {
		int n = snprintf(buf, size, "%s/%s", tool_dirs[i], name);

		if (n > 0 && (size_t)n < size && access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static void
child_exec(const char *path, char *const argv[], int in, int out, int err)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	struct rlimit fsize = { MAX_OUTPUT, MAX_OUTPUT };
	sigset_t none;

	/* The daemon blocks the signals it reads from a signalfd; the tool must not. */
	sigemptyset(&none);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &fsize) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(127);
	(void)close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	execve(path, argv, envp);
	_exit(127);
}

static int
memfd_with(const char *text)
{
	int fd = memfd_create("ldm-tool", MFD_CLOEXEC);
	size_t len = text != NULL ? strlen(text) : 0, done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;

			close(fd);
			return r;
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void
tool_close(struct ldm_ipt_tool *t)
{
	int *fds[] = { &t->pidfd, &t->out, &t->err };

	for (size_t i = 0; i < ELEMENTSOF(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Starts NAME with INPUT (may be NULL) on stdin; COMMITS: it changes the ruleset. */
static int
tool_start(struct ldm_ipt_tool *t, const char *name, char *const argv[], const char *input,
           bool commits)
{
	char path[256];
	_cleanup_close_ int in = -1;
	int r;

	*t = (struct ldm_ipt_tool){ .pid = -1, .pidfd = -1, .out = -1, .err = -1, .rc = 1 };
	(void)ldm_strscpy(t->name, sizeof(t->name), name);
	if (find_tool(name, path, sizeof(path)) < 0)
		return t->rc = -ENOENT;
	in = memfd_with(input);
	t->out = memfd_with(NULL);
	t->err = memfd_with(NULL);
	if (in < 0 || t->out < 0 || t->err < 0) {
		r = in < 0 ? in : t->out < 0 ? t->out : t->err;
		tool_close(t);
		return t->rc = r;
	}
	t->pid = fork();
	if (t->pid < 0) {
		r = -errno;
		tool_close(t);
		return t->rc = r;
	}
	if (t->pid == 0)
		child_exec(path, argv, in, t->out, t->err);
	t->commits = commits;
	if (commits) {
		unsigned k = recent_next++ % ELEMENTSOF(recent);

		recent[k].pid = t->pid;
		recent[k].until_ms = UINT64_MAX;
	}
	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (t->pidfd < 0) {
		r = -errno;
		(void)kill(t->pid, SIGKILL);
		while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
			;
		tool_close(t);
		return t->rc = r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t->started);
	return 0;
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Reads at most SIZE - 1 bytes of memory file FD (from its start) into BUF. */
static void
read_text(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/*
 * Collects a tool's end: 1 if it ended (t->rc says how: 0, -EIO for a non-zero exit,
 * -ENOEXEC if it could not be run, -ETIMEDOUT if killed), 0 if it still runs and BLOCK is
 * false. Blocking waits at most until the 30 s timeout, then kills it.
 */
static int
tool_collect(struct ldm_ipt_tool *t, bool block)
{
	siginfo_t si;

	if (t->rc <= 0)
		return 1; /* never started, or collected */
	for (;;) {
		long left =
		        TOOL_TIMEOUT + (t->timed_out ? KILL_GRACE : 0) - elapsed_ms(&t->started);
		struct pollfd p = { t->pidfd, POLLIN, 0 };
		int n;

		if (left <= 0 && t->timed_out) {
			/* Killed and still there (stuck in the kernel): give up on it rather
			 * than hang the daemon. It stays a zombie. */
			t->rc = -ETIMEDOUT;
			goto out;
		}
		if (left <= 0) {
			(void)kill(t->pid, SIGKILL);
			t->timed_out = true;
			continue;
		}
		n = poll(&p, 1, block ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && !block)
			return 0;
		if (n > 0)
			break;
	}
	si = (siginfo_t){ 0 };
	while (waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED) < 0)
		if (errno != EINTR) {
			t->rc = -errno;
			goto out;
		}
	if (t->timed_out)
		t->rc = -ETIMEDOUT;
	else if (si.si_code == CLD_EXITED && si.si_status == 0)
		t->rc = 0;
	else
		t->rc = si.si_code == CLD_EXITED && si.si_status == 127 ? -ENOEXEC : -EIO;
out:
	if (t->commits)
		ours_ended(t->pid);
	read_text(t->err, t->errtext, sizeof(t->errtext));
	return 1;
}

static void
describe_failure(const struct ldm_ipt_tool *t, char *err, size_t err_size)
{
	char *nl;

	if (err == NULL || err_size == 0)
		return;
	(void)snprintf(err, err_size, "%s: %s", t->name,
	               t->errtext[0] != '\0' ? t->errtext
	               : t->rc == -ENOENT    ? "not installed"
	                                     : strerror(-t->rc));
	while ((nl = strchr(err, '\n')) != NULL)
		*nl = nl[1] == '\0' ? '\0' : ' ';
}

bool
ldm_ipt_is_ours(pid_t pid)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < ELEMENTSOF(recent); i++)
		if (pid > 0 && recent[i].pid == pid && now < recent[i].until_ms)
			return true;
	return false;
}

int
ldm_ipt_commit_start(struct ldm_ipt_commit *c, const char *text4, const char *text6)
{
	char *const argv4[] = { "iptables-restore", "--noflush", "--wait", "10", NULL };
	char *const argv6[] = { "ip6tables-restore", "--noflush", "--wait", "10", NULL };

	*c = (struct ldm_ipt_commit){ 0 };
	for (size_t k = 0; k < ELEMENTSOF(c->tool); k++)
		c->tool[k] = (struct ldm_ipt_tool){ .pid = -1, .pidfd = -1, .out = -1, .err = -1 };
	c->running = true;
	if (text4 != NULL)
		(void)tool_start(&c->tool[c->n++], argv4[0], argv4, text4, true);
	if (text6 != NULL)
		(void)tool_start(&c->tool[c->n++], argv6[0], argv6, text6, true);
	return 0;
}

int
ldm_ipt_commit_poll(struct ldm_ipt_commit *c, bool block, char *err, size_t err_size)
{
	int first = 0;

	if (!c->running)
		return 1;
	for (size_t k = 0; k < c->n; k++)
		if (tool_collect(&c->tool[k], block) == 0)
			return 0;
	for (size_t k = 0; k < c->n; k++) {
		if (c->tool[k].rc < 0 && first == 0) {
			first = c->tool[k].rc;
			describe_failure(&c->tool[k], err, err_size);
		}
		tool_close(&c->tool[k]);
	}
	c->running = false;
	c->rc = first;
	return 1;
}

int
ldm_ipt_restore_both(const char *text4, const char *text6, char *err, size_t err_size)
{
	struct ldm_ipt_commit c;

	(void)ldm_ipt_commit_start(&c, text4, text6);
	(void)ldm_ipt_commit_poll(&c, true, err, err_size);
	return c.rc;
}

int
ldm_ipt_restore(int family, const char *text, char *err, size_t err_size)
{
	return family == AF_INET6 ? ldm_ipt_restore_both(NULL, text, err, err_size)
	                          : ldm_ipt_restore_both(text, NULL, err, err_size);
}

static int
save(int family, const char *table, bool counters, char **ret)
{
	const char *tool = family == AF_INET6 ? "ip6tables-save" : "iptables-save";
	char *const argv[] = { (char *)tool, "-t", (char *)table, counters ? "-c" : NULL, NULL };
	struct ldm_ipt_tool t;
	struct stat st;
	char *out = NULL;
	ssize_t n = 0;
	int r = tool_start(&t, tool, argv, NULL, false);

	if (r < 0)
		return r;
	(void)tool_collect(&t, true);
	r = t.rc;
	if (r == 0 && fstat(t.out, &st) < 0)
		r = -errno;
	if (r == 0 && (st.st_size < 0 || (uint64_t)st.st_size >= MAX_OUTPUT))
		r = -E2BIG;
	if (r == 0 && (out = malloc((size_t)st.st_size + 1)) == NULL)
		r = -ENOMEM;
	if (r == 0 && (n = pread(t.out, out, (size_t)st.st_size, 0)) != st.st_size)
		r = -EIO;
	tool_close(&t);
	if (r < 0) {
		free(out);
		return r;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

int
ldm_ipt_save(int family, const char *table, char **ret)
{
	return save(family, table, false, ret);
}

int
ldm_ipt_save_counters(int family, const char *table, char **ret)
{
	return save(family, table, true, ret);
}
