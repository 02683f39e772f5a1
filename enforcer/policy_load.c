/*
 * Policy files: opening them safely, reading them with a size limit, parsing them with
 * libconfig, and resolving `include` inside the policy directories (depth limit, cycles).
 * The settings themselves are read in policy_settings.c.
 *
 * Trust: the file's bytes are untrusted until policy_settings.c has validated every setting.
 * When opts->admin_owned is set (the daemon), a file or directory that root does not own,
 * or that group/other may write, is refused, and symlinks are not followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldm/logchain.h"
#include "ldm/util.h"
#include "policy_int.h"

static const char *const default_families[] = { "unix", "inet", "inet6", "netlink" };

/*
 * Why a file or directory was refused, as codes below every errno (mapped to -EPERM where
 * they leave this file), so that the message can say which rule it broke and the fix.
 */
#define REFUSED_OWNER     (-10001)
#define REFUSED_WRITABLE  (-10002)
#define REFUSED_LINK      (-10003)
#define REFUSED_DIR_OWNER (-10004)
#define REFUSED_DIR_WRITE (-10005)

static int
public_errno(int r)
{
	return r <= REFUSED_OWNER && r >= REFUSED_DIR_WRITE ? -EPERM : r;
}

/* 0, or why ST (of a file, or with DIR of a directory) is not an administrator's. */
static int
admin_owned_check(const struct stat *st, bool dir)
{
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return dir ? REFUSED_DIR_WRITE : REFUSED_WRITABLE;
	if (st->st_uid != 0)
		return dir ? REFUSED_DIR_OWNER : REFUSED_OWNER;
	return 0;
}

static bool
admin_owned_ok(const struct stat *st)
{
	return admin_owned_check(st, false) == 0;
}

/* Opens NAME in DIRFD without following links; judges the fd, not the path. */
static int
policy_open_at(int dirfd, const char *name, bool admin_owned)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? REFUSED_LINK
		                      : -errno; /* a symlink is refused, not missed */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (admin_owned && admin_owned_check(&st, false) < 0)
		return admin_owned_check(&st, false);
	return TAKE_FD(fd);
}

/* Reads all of FD into a new NUL-terminated buffer; refuses more than LDM_MAX_POLICY_BYTES. */
static int
read_bounded(int fd, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(LDM_MAX_POLICY_BYTES + 2);
	size_t len = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (len <= LDM_MAX_POLICY_BYTES) {
		ssize_t n = read(fd, buf + len, LDM_MAX_POLICY_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > LDM_MAX_POLICY_BYTES)
		return -EFBIG;
	buf[len] = '\0';
	*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

static const char *
open_error_text(int r)
{
	switch (r) {
	case -EPERM:
		return "refused: not owned by root, writable by group or others, or a symlink";
	case REFUSED_OWNER:
		return "refused: the file is not owned by root (the daemon reads administrators' "
		       "files only; fix: chown root: FILE)";
	case REFUSED_WRITABLE:
		return "refused: the file is writable by group or others (anyone could change the "
		       "policy; fix: chmod go-w FILE)";
	case REFUSED_LINK:
		return "refused: a symlink (a link could point anywhere; put the file itself in "
		       "the "
		       "policy directory)";
	case REFUSED_DIR_OWNER:
		return "refused: its directory is not owned by root (fix: chown root: DIR)";
	case REFUSED_DIR_WRITE:
		return "refused: its directory is writable by group or others (fix: chmod go-w "
		       "DIR)";
	case -EFBIG:
		return "refused: larger than 1 MiB";
	case -EINVAL:
		return "not a regular file";
	default:
		return strerror(-r);
	}
}

const char *
ldm_policy_file_refusal(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	struct stat st;

	if (copy == NULL || lstat(path, &st) < 0)
		return NULL; /* loading it says what is wrong */
	if (S_ISLNK(st.st_mode))
		return open_error_text(REFUSED_LINK);
	if (admin_owned_check(&st, false) < 0)
		return open_error_text(admin_owned_check(&st, false));
	if (stat(dirname(copy), &st) == 0 && admin_owned_check(&st, true) < 0)
		return open_error_text(admin_owned_check(&st, true));
	return NULL;
}

/* Opens dir DIR judged like a policy file (when admin_owned), then NAME in it. */
static int
open_in_dir(const char *dir, const char *name, bool admin_owned)
{
	_cleanup_close_ int dfd = -1;
	struct stat st;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (admin_owned && fstat(dfd, &st) < 0)
		return -errno;
	if (admin_owned && admin_owned_check(&st, true) < 0)
		return admin_owned_check(&st, true);
	return policy_open_at(dfd, name, admin_owned);
}

/*
 * Finds NAME.conf: beside the top file first (unless opts say not), then in opts->dirs.
 * Returns an fd, -ENOENT if no directory has it, or another -errno for a refused file.
 * *ret_path gets the path that was opened.
 */
static int
find_policy(struct loader *l, const char *name, char **ret_path)
{
	char file[LDM_MAX_NAME_LEN + 8];
	size_t n = l->opts->n_dirs;

	(void)snprintf(file, sizeof(file), "%s.conf", name);
	for (size_t i = 0; i <= n; i++) {
		const char *dir;
		int fd;

		if (i == 0) {
			if (l->top_dir == NULL || l->opts->no_file_dir)
				continue;
			dir = l->top_dir;
		} else {
			dir = l->opts->dirs[i - 1];
		}
		fd = open_in_dir(dir, file, l->opts->admin_owned);
		if (fd == -ENOENT)
			continue;
		if (asprintf(ret_path, "%s/%s", dir, file) < 0) {
			if (fd >= 0)
				close(fd);
			return -ENOMEM;
		}
		return fd;
	}
	return -ENOENT;
}

/* "not found in DIR, DIR": where find_policy() looked, for the error message. */
static const char *
not_found_text(const struct loader *l, char *buf, size_t size)
{
	size_t pos = 0;
	int n = snprintf(buf, size, "not found in");

	for (size_t i = 0; n >= 0 && (size_t)n < size - pos && i <= l->opts->n_dirs; i++) {
		const char *dir = i == 0 ? l->top_dir : l->opts->dirs[i - 1];

		if (i == 0 && (dir == NULL || l->opts->no_file_dir))
			continue;
		pos += (size_t)n;
		n = snprintf(buf + pos, size - pos, "%s %s", pos > 12 ? "," : "", dir);
	}
	if (pos == 0 || n < 0 || (size_t)n >= size - pos)
		return "not found in the policy directories";
	return buf;
}

static bool
in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int load_buffer(struct loader *l, const char *buf, const char *file, const char *name,
                       bool top);

/* Records FILE and the SHA-256 of its LEN bytes at BUF: the bytes about to be parsed. */
static int
loader_add_file(struct loader *l, const char *file, const char *buf, size_t len)
{
	struct ldm_policy_file *v;
	uint8_t hash[LDM_CHAIN_HASH_LEN];

	if (ldm_chain_hash(buf, len, hash) < 0) {
		ldm_loader_error(l, file, 0, "cannot compute its SHA-256 (libcrypto)");
		return -EIO;
	}
	v = reallocarray(l->files, l->n_files + 1, sizeof(*v));
	if (v == NULL)
		goto nomem;
	l->files = v;
	v[l->n_files].path = strdup(file);
	if (v[l->n_files].path == NULL)
		goto nomem;
	ldm_chain_hex(hash, v[l->n_files].sha256);
	l->n_files++;
	return 0;
nomem:
	ldm_loader_error(l, file, 0, "out of memory");
	return -ENOMEM;
}

/* Loads included policy INC->name, named in FILE at INC->line. */
static void
load_include(struct loader *l, const char *file, const struct include_ref *inc)
{
	const char *name = inc->name;
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	for (size_t i = 0; i < l->depth; i++) {
		if (strcmp(l->stack[i], name) == 0) {
			ldm_loader_error(l, file, inc->line,
			                 "include: cycle: '%s' includes itself "
			                 "through '%s'",
			                 name, l->stack[l->depth - 1]);
			return;
		}
	}
	if (in_list(l->done, l->n_done, name))
		return;
	if (l->depth >= LDM_MAX_INCLUDE_DEPTH) {
		ldm_loader_error(l, file, inc->line, "include: '%s' nests deeper than %d levels",
		                 name, LDM_MAX_INCLUDE_DEPTH);
		return;
	}
	fd = find_policy(l, name, &path);
	if (fd < 0) {
		char where[512];

		ldm_loader_error(l, file, inc->line, "include: policy '%s': %s", name,
		                 fd == -ENOENT ? not_found_text(l, where, sizeof(where))
		                               : open_error_text(fd));
		return;
	}
	r = read_bounded(fd, &buf, &len);
	if (r < 0) {
		ldm_loader_error(l, path, 0, "%s", open_error_text(r));
		return;
	}
	if (loader_add_file(l, path, buf, len) < 0)
		return;
	(void)load_buffer(l, buf, path, name, false);
}

static void
report_parse_error(struct loader *l, const config_t *cfg, const char *file, const char *buf)
{
	const char *efile = config_error_file(cfg);
	unsigned line = (unsigned)config_error_line(cfg);
	char hint[256];

	/* The text is ours to quote only when the error is in this file, not an @include. */
	ldm_syntax_hint(efile == NULL ? buf : NULL, line, config_error_text(cfg), hint,
	                sizeof(hint));
	(void)ldm_diags_add(l->diags, efile != NULL ? efile : file, line, "%s (libconfig syntax)%s",
	                    config_error_text(cfg), hint);
	l->errors++;
}

/* Parses BUF (the text of FILE, policy NAME), merges it, then its includes. */
static int
load_buffer(struct loader *l, const char *buf, const char *file, const char *name, bool top)
{
	struct include_ref *includes = NULL;
	size_t n_includes = 0;
	char **done;
	config_t cfg;

	config_init(&cfg);
	config_set_auto_convert(&cfg, 0);
	if (l->top_dir != NULL)
		config_set_include_dir(&cfg, l->top_dir);
	if (config_read_string(&cfg, buf) != CONFIG_TRUE) {
		report_parse_error(l, &cfg, file, buf);
		config_destroy(&cfg);
		return -EINVAL;
	}
	ldm_loader_read_settings(l, &cfg, file, top, &includes, &n_includes);
	config_destroy(&cfg);

	done = reallocarray(l->done, l->n_done + 1, sizeof(*done));
	if (done != NULL) {
		l->done = done;
		l->done[l->n_done] = strdup(name);
		if (l->done[l->n_done] != NULL)
			l->n_done++;
	}
	l->stack[l->depth++] = name;
	for (size_t i = 0; i < n_includes; i++)
		load_include(l, file, &includes[i]);
	l->depth--;
	for (size_t i = 0; i < n_includes; i++)
		free(includes[i].name);
	free(includes);
	return 0;
}

static int
set_default_families(struct ldm_policy *p)
{
	static const int nums[] = { 1, 2, 10, 16 }; /* AF_UNIX, AF_INET, AF_INET6, AF_NETLINK */

	_Static_assert(ELEMENTSOF(nums) == ELEMENTSOF(default_families), "families table");
	for (size_t i = 0; i < ELEMENTSOF(nums); i++)
		p->families |= UINT64_C(1) << nums[i];
	return 0;
}

/* The policy name a file stands for: its base name without ".conf". */
static char *
name_from_file(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;

	base = base != NULL ? base + 1 : file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	return strndup(base, len);
}

static void
loader_done(struct loader *l)
{
	for (size_t i = 0; i < l->n_done; i++)
		free(l->done[i]);
	free(l->done);
	free(l->top_dir);
	if (l->p != NULL && l->errors == 0) {
		l->p->files = TAKE_PTR(l->files);
		l->p->n_files = l->n_files;
	}
	for (size_t i = 0; l->files != NULL && i < l->n_files; i++)
		free(l->files[i].path);
	free(l->files);
}

static int
load_top(const char *buf, size_t len, const char *file, const struct ldm_load_opts *opts,
         struct ldm_policy **ret, struct ldm_diags *diags)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *name = name_from_file(file);
	_cleanup_free_ char *dircopy = strdup(file);
	struct loader l = { .opts = opts, .diags = diags };
	int r;

	if (p == NULL || name == NULL || dircopy == NULL)
		return -ENOMEM;
	l.p = p;
	if (strchr(file, '/') != NULL)
		l.top_dir = strdup(dirname(dircopy));
	else
		l.top_dir = strdup(".");
	if (loader_add_file(&l, file, buf, len) == 0)
		(void)load_buffer(&l, buf, file, name, true);
	if (l.errors == 0)
		ldm_loader_unix_items(&l);
	loader_done(&l);
	if (l.errors > 0)
		return -EINVAL;
	if (!l.families_set)
		set_default_families(p);
	l.p->access_limited = l.access_set;
	r = ldm_loader_write_finish(&l);
	if (r < 0)
		return r;
	if (p->name == NULL && (p->name = strdup(name)) == NULL)
		return -ENOMEM;
	r = ldm_policy_index_build(p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

int
ldm_policy_load_buffer(const char *buf, size_t len, const char *display,
                       const struct ldm_load_opts *opts, struct ldm_policy **ret,
                       struct ldm_diags *diags)
{
	_cleanup_free_ char *copy = NULL;

	if (len > LDM_MAX_POLICY_BYTES) {
		(void)ldm_diags_add(diags, display, 0, "refused: larger than 1 MiB");
		return -EFBIG;
	}
	copy = strndup(buf, len);
	if (copy == NULL)
		return -ENOMEM;
	return load_top(copy, strlen(copy), display, opts, ret, diags);
}

static int
load_fd(int fd, const char *path, const struct ldm_load_opts *opts, struct ldm_policy **ret,
        struct ldm_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_bounded(fd, &buf, &len);
	if (r < 0) {
		(void)ldm_diags_add(diags, path, 0, "%s", open_error_text(r));
		return r;
	}
	return load_top(buf, len, path, opts, ret, diags);
}

int
ldm_policy_load_path(const char *path, const struct ldm_load_opts *opts, struct ldm_policy **ret,
                     struct ldm_diags *diags)
{
	_cleanup_close_ int fd = -1;
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	struct stat st;

	if (opts->admin_owned)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0) {
		int r = errno == ELOOP ? REFUSED_LINK : -errno;

		(void)ldm_diags_add(diags, path, 0, "cannot open: %s", open_error_text(r));
		return public_errno(r);
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		(void)ldm_diags_add(diags, path, 0, "%s", open_error_text(r));
		return r;
	}
	if (!S_ISREG(st.st_mode) || (opts->admin_owned && !admin_owned_ok(&st))) {
		int r = S_ISREG(st.st_mode) ? admin_owned_check(&st, false) : -EINVAL;

		(void)ldm_diags_add(diags, path, 0, "%s", open_error_text(r));
		return public_errno(r);
	}
	return load_fd(fd, path, opts, ret, diags);
}

int
ldm_policy_load_name(const char *name, const struct ldm_load_opts *opts, struct ldm_policy **ret,
                     struct ldm_diags *diags)
{
	struct loader l = { .opts = opts, .diags = diags };
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;

	if (!ldm_policy_name_valid(name)) {
		(void)ldm_diags_add(diags, name, 0,
		                    "not a policy name: use lower-case letters, digits, '-' "
		                    "and '_', at most %d characters",
		                    LDM_MAX_NAME_LEN);
		return -EINVAL;
	}
	fd = find_policy(&l, name, &path);
	if (fd < 0) {
		char buf[512], names[384] = "";

		if (fd == -ENOENT)
			(void)ldm_policy_suggest_names(name, opts->dirs, opts->n_dirs, names,
			                               sizeof(names));
		(void)ldm_diags_add(diags, name, 0, "policy %s%s",
		                    fd == -ENOENT ? not_found_text(&l, buf, sizeof(buf))
		                                  : open_error_text(fd),
		                    names);
		return public_errno(fd);
	}
	return load_fd(fd, path, opts, ret, diags);
}
