/*
 * The log of refused writes: the supervisor's side of the write calls' notifications
 * (common/seccomp.h, "write calls"). For each, it reads the path(s) from the caller's
 * memory (process_vm_readv: the supervisor is the app's ancestor, outside its Landlock
 * domain and seccomp filter), makes them absolute (the caller's working directory or
 * dirfd, from /proc/PID), resolves the symlinks of the existing part as the kernel will,
 * and when one lies outside the write scope describes it for a report; then it lets the
 * call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE), and Landlock refuses it.
 *
 * Only the log depends on this reading: another thread of the app may change the path
 * between our read and the kernel's, or a symlink may be swapped; that can mislabel or
 * miss a record, never let a write through, since Landlock judges what the kernel opens.
 *
 * Some calls are refused here instead, because the domain does not handle Landlock's
 * TRUNCATE right (common/landlock.h): truncate(2) and an open with O_TRUNC but without
 * write access (Linux truncates then) with EPERM, logged; openat2 with ENOSYS, unlogged
 * (its flags are in memory, out of reach of a race-free check). Refusing needs no trust
 * in what we read, so it is safe against the races above; letting them run would not be.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/landlock.h"
#include "common/seccomp.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "run/run.h"

#define PAGE 4096u

/* Reads the NUL-terminated string at ADDR in PID into BUF. Returns 0 or -errno. */
static int
read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (addr == 0)
		return -EFAULT;
	while (got + 1 < size) {
		size_t n = PAGE - (size_t)((addr + got) % PAGE); /* never across a page */
		struct iovec l, r;
		ssize_t k;

		if (n > size - 1 - got)
			n = size - 1 - got;
		l = (struct iovec){ .iov_base = buf + got, .iov_len = n };
		r = (struct iovec){ .iov_base = (void *)(uintptr_t)(addr + got), .iov_len = n };
		k = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (k <= 0)
			return k < 0 ? -errno : -EFAULT;
		if (memchr(buf + got, '\0', (size_t)k) != NULL)
			return 0;
		got += (size_t)k;
	}
	return -ENAMETOOLONG;
}

/* The directory a relative path of PID starts from: its cwd, or DIRFD's target. */
static int
base_dir(pid_t pid, int dirfd_arg, const uint64_t *args, char *buf, size_t size)
{
	char link[64];
	int fd = dirfd_arg < 0 ? AT_FDCWD : (int)(int32_t)args[dirfd_arg];
	ssize_t n;

	if (fd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else if (fd >= 0)
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	else
		return -EBADF;
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return buf[0] == '/' ? 0 : -ENOENT; /* "socket:[...]", "anon_inode:..." */
}

/*
 * Where the call's path lands: absolute, normalized, symlinks of the existing directories
 * resolved (and of the last component too when FOLLOW). Writes it into OUT.
 */
static int
resolve(pid_t pid, const struct ldm_seccomp_write_call *c, int dirfd_arg, int path_arg,
        const uint64_t *args, bool follow, char *out, size_t size)
{
	char path[PATH_MAX], full[2 * PATH_MAX], norm[PATH_MAX], *rp, *slash;
	int r;

	(void)c;
	r = read_string(pid, args[path_arg], path, sizeof(path));
	if (r < 0)
		return r;
	if (path[0] == '/') {
		memcpy(full, path, strlen(path) + 1);
	} else {
		char base[PATH_MAX];

		r = base_dir(pid, dirfd_arg, args, base, sizeof(base));
		if (r < 0)
			return r;
		r = snprintf(full, sizeof(full), "%s/%s", base, path);
		if (r < 0 || (size_t)r >= sizeof(full))
			return -ENAMETOOLONG;
	}
	r = ldm_path_normalize(full, norm, sizeof(norm));
	if (r < 0)
		return r;
	if (follow && (rp = realpath(norm, NULL)) != NULL) {
		snprintf(out, size, "%s", rp);
		free(rp);
		return 0;
	}
	slash = strrchr(norm, '/');
	if (slash == NULL || slash == norm || slash[1] == '\0') {
		snprintf(out, size, "%s", norm);
		return 0;
	}
	*slash = '\0';
	rp = realpath(norm, NULL);
	r = snprintf(out, size, "%s/%s", rp != NULL ? rp : norm, slash + 1);
	free(rp);
	return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
}

bool
ldm_run_write_in_scope(const char *const *scope, size_t n, const char *path, bool dev_ok)
{
	for (size_t i = 0; i < n; i++)
		if (ldm_path_below(scope[i], path))
			return true;
	return dev_ok && ldm_path_below(LDM_LANDLOCK_DEV_DIR, path);
}

/* The open flags of the call, or -1 when it always writes. */
static int64_t
open_flags(pid_t pid, const struct ldm_seccomp_write_call *c, const uint64_t *args)
{
	uint64_t how = 0;
	struct iovec l = { .iov_base = &how, .iov_len = sizeof(how) };
	struct iovec r;

	if (c->flags_arg >= 0)
		return (int64_t)(uint32_t)args[c->flags_arg];
	if (c->flags_arg != LDM_SECCOMP_FLAGS_OPEN_HOW)
		return -1;
	r = (struct iovec){ .iov_base = (void *)(uintptr_t)args[2], .iov_len = sizeof(how) };
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(how))
		return -1;
	return (int64_t)(uint32_t)how;
}

/* The supervisor's own refusal for the call (EPERM), or 0 to let it run. */
static int
own_refusal(pid_t pid, const struct ldm_seccomp_write_call *c, const uint64_t *args)
{
	int64_t flags;

	if (strcmp(c->name, "truncate") == 0)
		return EPERM;
	if (c->flags_arg == LDM_SECCOMP_FLAGS_OPEN_HOW)
		return ENOSYS; /* openat2: see ldm_run_writelog_handle */
	flags = open_flags(pid, c, args);
	/* O_TRUNC truncates whatever the access mode, but Landlock (TRUNCATE not handled)
	 * checks only the mode's rights: O_RDONLY needs none to write, nor does mode 3
	 * (O_WRONLY|O_RDWR, "no read, no write"). Only a mode that asks for writing is left
	 * to Landlock's WRITE_FILE. */
	if (flags >= 0 && (flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != O_WRONLY &&
	    (flags & O_ACCMODE) != O_RDWR)
		return EPERM;
	return 0;
}

/* Checks one path of the call; 1 and the path in OUT when it lies outside the scope. */
static int
check_path(const struct ldm_run_writelog *wl, pid_t pid, const struct ldm_seccomp_write_call *c,
           int dirfd_arg, int path_arg, const uint64_t *args, char *out, size_t size)
{
	bool opener = c->flags_arg != -1 || strcmp(c->name, "creat") == 0 ||
	              strcmp(c->name, "truncate") == 0;
	int64_t flags = open_flags(pid, c, args);
	bool follow = opener && (flags < 0 || (flags & O_NOFOLLOW) == 0);
	struct stat st;
	bool exists;

	if (resolve(pid, c, dirfd_arg, path_arg, args, follow, out, size) < 0)
		return 0; /* cannot tell: no record (Landlock decides all the same) */
	exists = lstat(out, &st) == 0;
	/* O_CREAT on an existing file, for reading: no write, the kernel allows it. */
	if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY && (flags & O_TRUNC) == 0 && exists)
		return 0;
	if (ldm_run_write_in_scope((const char *const *)wl->scope, wl->n, out,
	                           opener && exists && !S_ISDIR(st.st_mode)))
		return 0;
	return 1;
}

int
ldm_run_writelog_init(struct ldm_run_writelog *wl)
{
	const char *const *paths;
	size_t n = ldm_run_write_scope_paths(&paths);

	*wl = (struct ldm_run_writelog){ 0 };
	for (size_t i = 0; i < n && wl->n < ELEMENTSOF(wl->scope); i++) {
		char *rp = realpath(paths[i], NULL);

		if (rp == NULL)
			rp = strdup(paths[i]);
		if (rp == NULL)
			return -ENOMEM;
		wl->scope[wl->n++] = rp;
	}
	return 0;
}

void
ldm_run_writelog_clear(struct ldm_run_writelog *wl)
{
	for (size_t i = 0; i < wl->n; i++)
		free(wl->scope[i]);
	wl->n = 0;
}

int
ldm_run_writelog_handle(const struct ldm_run_writelog *wl, int nfd, const struct seccomp_notif *req,
                        struct seccomp_notif_resp *resp, struct ldm_msg_write_denied *m)
{
	const struct ldm_seccomp_write_call *c = ldm_seccomp_write_call(req->data.nr);
	const uint64_t *args = (const uint64_t *)req->data.args;
	pid_t pid = (pid_t)req->pid;
	char out[PATH_MAX];
	int hit = 0, refuse = c == NULL ? EPERM : own_refusal(pid, c, args);

	/*
	 * openat2 keeps its flags in memory, where another thread could add O_TRUNC after we
	 * read them: it is refused like a kernel without it (ENOSYS; libc and apps fall back
	 * to openat), unlogged, as clone3 is.
	 */
	if (refuse == ENOSYS) {
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		resp->error = -ENOSYS;
		(void)seccomp_notify_respond(nfd, resp);
		return 0;
	}
	if (c != NULL && refuse != 0) {
		/* Logged whatever the path; the path only names it. */
		if (resolve(pid, c, c->dirfd_arg, c->path_arg, args, true, out, sizeof(out)) < 0)
			snprintf(out, sizeof(out), "/?");
		hit = 1;
	} else if (c != NULL) {
		hit = check_path(wl, pid, c, c->dirfd_arg, c->path_arg, args, out, sizeof(out));
		if (!hit && c->path2_arg >= 0)
			hit = check_path(wl, pid, c, c->dirfd2_arg, c->path2_arg, args, out,
			                 sizeof(out));
	}
	/* What we read belongs to this call only while it is still pending. */
	if (hit && seccomp_notify_id_valid(nfd, req->id) < 0)
		hit = 0;
	if (refuse != 0) {
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		resp->error = -refuse;
		(void)seccomp_notify_respond(nfd, resp);
	} else {
		(void)ldm_seccomp_notify_continue(nfd, req, resp);
	}
	if (!hit || c == NULL)
		return 0;
	memset(m, 0, sizeof(*m));
	ldm_msg_init(&m->hdr, LDM_MSG_WRITE_DENIED);
	m->pid = req->pid;
	m->nr = req->data.nr;
	m->err = refuse != 0 ? refuse : EACCES;
	(void)ldm_msg_set_str(m->name, sizeof(m->name), c->name);
	/* Cut to fit: the start of a path says where it is. */
	memcpy(m->path, out, strnlen(out, sizeof(m->path) - 1));
	return 1;
}
