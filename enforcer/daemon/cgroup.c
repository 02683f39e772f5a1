/*
 * Session cgroups. The sandbox root is a directory in the cgroup2 file system owned by root;
 * each session gets a child named once and never again. Moving a process needs write
 * access to the target's and the common ancestor's cgroup.procs, which only root has here,
 * so a sandboxed app cannot leave.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "ldm/util.h"
#include "procparse.h"

#define MAX_PROC_TEXT (1024 * 1024)

static int
default_root(const struct ldm_cgroups *cg, char *buf, size_t size)
{
	char own[4096];
	int r = ldm_cgroup_of_pid(getpid(), own, sizeof(own));
	int n;

	if (r < 0)
		return r;
	n = snprintf(buf, size, "%s%s%s", cg->mount, strcmp(own, "/") == 0 ? "" : own, "/ldm");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
ldm_cgroup_init(const char *configured, struct ldm_cgroups *ret)
{
	_cleanup_free_ char *text = malloc(MAX_PROC_TEXT);
	char abs[4096];
	size_t mlen;
	int r;

	*ret = (struct ldm_cgroups){ .root_fd = -1 };
	if (text == NULL)
		return -ENOMEM;
	r = ldm_read_small_at(AT_FDCWD, "/proc/self/mountinfo", text, MAX_PROC_TEXT);
	if (r < 0)
		return r;
	r = ldm_procparse_cgroup2_mount(text, ret->mount, sizeof(ret->mount));
	if (r < 0)
		return r;
	if (configured[0] != '\0')
		r = ldm_strscpy(abs, sizeof(abs), configured);
	else
		r = default_root(ret, abs, sizeof(abs));
	if (r < 0)
		return r;
	mlen = strlen(ret->mount);
	if (strncmp(abs, ret->mount, mlen) != 0 || abs[mlen] != '/' || abs[mlen + 1] == '\0')
		return -EXDEV; /* not below the cgroup2 mount */
	r = ldm_mkdir_p(abs, 0755);
	if (r < 0)
		return r;
	(void)ldm_strscpy(ret->root, sizeof(ret->root), abs + mlen + 1);
	ret->root_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return ret->root_fd < 0 ? -errno : 0;
}

void
ldm_cgroup_done(struct ldm_cgroups *cg)
{
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	cg->root_fd = -1;
}

int
ldm_cgroup_create(const struct ldm_cgroups *cg, const char *name)
{
	return mkdirat(cg->root_fd, name, 0755) < 0 ? -errno : 0;
}

int
ldm_cgroup_remove(const struct ldm_cgroups *cg, const char *name)
{
	if (unlinkat(cg->root_fd, name, AT_REMOVEDIR) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int
ldm_cgroup_move(const struct ldm_cgroups *cg, const char *name, pid_t pid)
{
	char path[256], num[32];
	_cleanup_close_ int fd = -1;
	int n;

	n = snprintf(path, sizeof(path), "%s/cgroup.procs", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(cg->root_fd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = snprintf(num, sizeof(num), "%d", (int)pid);
	if (write(fd, num, (size_t)n) != n)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

int
ldm_cgroup_populated(const struct ldm_cgroups *cg, const char *name)
{
	char path[256], buf[512];
	int n = snprintf(path, sizeof(path), "%s/cgroup.events", name);
	int r;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = ldm_read_small_at(cg->root_fd, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return ldm_procparse_populated(buf);
}

int
ldm_cgroup_watch(const struct ldm_cgroups *cg, const char *name, int inotify_fd)
{
	char path[8192];
	int n = snprintf(path, sizeof(path), "%s/%s/%s/cgroup.events", cg->mount, cg->root, name);
	int wd;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	wd = inotify_add_watch(inotify_fd, path, IN_MODIFY);
	return wd < 0 ? -errno : wd;
}

int
ldm_cgroup_of_pid(pid_t pid, char *buf, size_t size)
{
	char path[64], text[8192];
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = ldm_read_small_at(AT_FDCWD, path, text, sizeof(text));
	if (r < 0)
		return r;
	return ldm_procparse_cgroup2_path(text, buf, size);
}

bool
ldm_cgroup_in_sandbox(const struct ldm_cgroups *cg, const char *path)
{
	size_t n = strlen(cg->root);

	return path[0] == '/' && strncmp(path + 1, cg->root, n) == 0 &&
	       (path[n + 1] == '\0' || path[n + 1] == '/');
}

int
ldm_cgroup_list(const struct ldm_cgroups *cg, char ***ret, size_t *ret_n)
{
	int fd = openat(cg->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **v = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		char **nv;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		nv = reallocarray(v, n + 1, sizeof(*v));
		if (nv == NULL || (nv[n] = strdup(e->d_name)) == NULL) {
			v = nv != NULL ? nv : v;
			break;
		}
		v = nv;
		n++;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}
