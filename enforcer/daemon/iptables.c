/*
 * The kernel rules are committed by iptables-restore (nft backend), one atomic transaction
 * per family. The tools run with execve, a fixed argv and an empty environment; their input
 * is our own generated text, their output is parsed as untrusted (bounded).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iptables.h"
#include "ldm/util.h"

#define MAX_OUTPUT (64u * 1024 * 1024)

static const char *const tool_dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

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

struct run {
	const char *input; /* written to stdin, may be NULL */
	size_t input_len;
	char *out; /* stdout, grown up to MAX_OUTPUT */
	size_t out_len;
	char err[2048]; /* stderr, truncated */
	size_t err_len;
};

static void
child_exec(const char *path, char *const argv[], int in, int out, int err)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	(void)close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	execve(path, argv, envp);
	_exit(127);
}

static int
grow_read(int fd, struct run *r, bool is_err)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : (int)n;
	if (is_err) {
		size_t room = sizeof(r->err) - 1 - r->err_len;
		size_t k = (size_t)n < room ? (size_t)n : room;

		memcpy(r->err + r->err_len, buf, k);
		r->err_len += k;
		r->err[r->err_len] = '\0';
		return 1;
	}
	if (r->out_len + (size_t)n > MAX_OUTPUT)
		return -E2BIG;
	char *nb = realloc(r->out, r->out_len + (size_t)n + 1);
	if (nb == NULL)
		return -ENOMEM;
	r->out = nb;
	memcpy(r->out + r->out_len, buf, (size_t)n);
	r->out_len += (size_t)n;
	r->out[r->out_len] = '\0';
	return 1;
}

/* Feeds stdin and drains stdout/stderr together so that no pipe can fill and block. */
static int
pump(int in, int out, int err, struct run *r)
{
	size_t written = 0;
	int rc = 0;

	if (r->input == NULL) {
		close(in);
		in = -1;
	}
	while (out >= 0 || err >= 0) {
		struct pollfd p[3] = { { in, POLLOUT, 0 }, { out, POLLIN, 0 }, { err, POLLIN, 0 } };
		int ready = poll(p, 3, 30000);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (in >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in, r->input + written, r->input_len - written);

			if (n > 0)
				written += (size_t)n;
			if (n < 0 || written == r->input_len) {
				close(in);
				in = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			int *fd = i == 1 ? &out : &err;
			int k;

			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = grow_read(*fd, r, i == 2);
			if (k < 0 && rc == 0)
				rc = k;
			if (k <= 0) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? in : i == 1 ? out : err;

		if (fd >= 0)
			close(fd);
	}
	return rc;
}

static int
run_tool(const char *name, char *const argv[], struct run *r)
{
	int pin[2], pout[2], perr[2], status, rc;
	int fds[6] = { -1, -1, -1, -1, -1, -1 };
	char path[256];
	pid_t pid;

	if (find_tool(name, path, sizeof(path)) < 0)
		return -ENOENT;
	if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(fds + 2, O_CLOEXEC) < 0 ||
	    pipe2(fds + 4, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		rc = -errno;
		for (int i = 0; i < 6; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return rc;
	}
	memcpy(pin, fds, sizeof(pin));
	memcpy(pout, fds + 2, sizeof(pout));
	memcpy(perr, fds + 4, sizeof(perr));
	if (pid == 0)
		child_exec(path, argv, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	rc = pump(pin[1], pout[0], perr[0], r);
	if (rc < 0)
		(void)kill(pid, SIGKILL); /* hung or flooding: never wait on it forever */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (rc < 0)
		return rc;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOEXEC : -EIO;
	return 0;
}

int
ldm_ipt_restore(int family, const char *text, char *err, size_t err_size)
{
	const char *tool = family == AF_INET6 ? "ip6tables-restore" : "iptables-restore";
	char *const argv[] = { (char *)tool, "--noflush", "--wait", "10", NULL };
	struct run r = { .input = text, .input_len = strlen(text) };
	int rc;

	rc = run_tool(tool, argv, &r);
	free(r.out);
	if (rc < 0 && err != NULL) {
		char *nl;

		(void)snprintf(err, err_size, "%s: %s", tool,
		               r.err_len > 0 ? r.err
		                             : (rc == -ENOENT ? "not installed" : strerror(-rc)));
		while ((nl = strchr(err, '\n')) != NULL)
			*nl = nl[1] == '\0' ? '\0' : ' ';
	}
	return rc;
}

int
ldm_ipt_save(int family, const char *table, char **ret)
{
	const char *tool = family == AF_INET6 ? "ip6tables-save" : "iptables-save";
	char *const argv[] = { (char *)tool, "-t", (char *)table, NULL };
	struct run r = { 0 };
	int rc = run_tool(tool, argv, &r);

	if (rc < 0) {
		free(r.out);
		return rc;
	}
	if (r.out == NULL && (r.out = strdup("")) == NULL)
		return -ENOMEM;
	*ret = r.out;
	return 0;
}
