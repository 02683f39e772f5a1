/* Session cgroups (cgroup v2): where they live, making them, moving pids in, watching them. */
#ifndef LDM_DAEMON_CGROUP_H
#define LDM_DAEMON_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ldm_cgroups {
	char mount[4096]; /* the cgroup2 mount point */
	char root[4096];  /* the sandbox root, relative to the mount, no leading '/' */
	int root_fd;      /* O_PATH-less directory fd of mount/root */
};

/* Finds cgroup2 (unified or hybrid host) and makes the sandbox root: CONFIGURED (an absolute
 * path under the mount) or, if "", "ldm" beside the daemon's own cgroup. */
int ldm_cgroup_init(const char *configured, struct ldm_cgroups *ret);
void ldm_cgroup_done(struct ldm_cgroups *cg);

/* Makes ROOT/NAME (mode 0755, root-owned: the app cannot write its cgroup.procs). */
int ldm_cgroup_create(const struct ldm_cgroups *cg, const char *name);
/* Removes ROOT/NAME; -EBUSY while processes are in it. */
int ldm_cgroup_remove(const struct ldm_cgroups *cg, const char *name);
int ldm_cgroup_move(const struct ldm_cgroups *cg, const char *name, pid_t pid);
/* 1 populated, 0 empty, -errno (-ENOENT: gone). */
int ldm_cgroup_populated(const struct ldm_cgroups *cg, const char *name);
/* Adds an inotify watch on ROOT/NAME/cgroup.events; returns the watch descriptor. */
int ldm_cgroup_watch(const struct ldm_cgroups *cg, const char *name, int inotify_fd);
/* The cgroup2 path of PID ("/a/b"). */
int ldm_cgroup_of_pid(pid_t pid, char *buf, size_t size);
/* Is PATH ("/a/b", from ldm_cgroup_of_pid) the sandbox root or below it? */
bool ldm_cgroup_in_sandbox(const struct ldm_cgroups *cg, const char *path);
/* Lists the directory names under the sandbox root (for a restart). */
int ldm_cgroup_list(const struct ldm_cgroups *cg, char ***ret, size_t *ret_n);

#endif
