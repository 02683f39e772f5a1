/*
 * Who else is in the session: the supervisor serves the seccomp listener while processes
 * of the session remain, and stops once only it and the ldm-run waiting for the program are
 * left in the session's cgroup. A process that left the session (moved out: an escape, logged by the daemon) keeps
 * the filter but loses its supervisor: its notified calls then fail with ENOSYS, closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldm/util.h"
#include "procparse.h"
#include "run/run.h"

#define PEERS_TEXT_MAX (256 * 1024)
#define PEERS_MAX      4096

int
ldm_run_session_cgroup_dir(const char *cgroup, char *buf, size_t size)
{
	_cleanup_free_ char *text = malloc(PEERS_TEXT_MAX);
	char mnt[LDM_PATH_MAX];
	int n;

	if (text == NULL)
		return -ENOMEM;
	if (ldm_read_small_at(AT_FDCWD, "/proc/self/mountinfo", text, PEERS_TEXT_MAX) < 0 ||
	    ldm_procparse_cgroup2_mount(text, mnt, sizeof(mnt)) < 0)
		return -ENOENT;
	n = snprintf(buf, size, "%s/%s", mnt, cgroup);
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

int
ldm_run_session_procs_path(const char *cgroup, char *buf, size_t size)
{
	char dir[LDM_PATH_MAX];
	int r = ldm_run_session_cgroup_dir(cgroup, dir, sizeof(dir));

	if (r < 0)
		return r;
	r = snprintf(buf, size, "%s/cgroup.procs", dir);
	return r > 0 && (size_t)r < size ? 0 : -ENAMETOOLONG;
}

int
ldm_run_session_others(const char *procs_path, pid_t also_ours)
{
	_cleanup_free_ char *text = malloc(PEERS_TEXT_MAX);
	_cleanup_free_ int *pids = calloc(PEERS_MAX, sizeof(int));
	int n, others = 0;

	if (text == NULL || pids == NULL)
		return -ENOMEM;
	if (ldm_read_small_at(AT_FDCWD, procs_path, text, PEERS_TEXT_MAX) < 0)
		return -EIO;
	n = ldm_procparse_pid_list(text, pids, PEERS_MAX);
	if (n == -E2BIG)
		return PEERS_MAX; /* more than we read: surely others */
	if (n < 0)
		return -EIO;
	for (int i = 0; i < n; i++)
		others += pids[i] != (int)getpid() && pids[i] != (int)also_ours;
	return others;
}
