/*
 * The Landlock write-scope domain. What it does and why is in landlock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/landlock.h"
#include "ldm/util.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule       445
#define __NR_landlock_restrict_self  446
#endif

#define CREATE_RULESET_VERSION (1U << 0)
#define RULE_PATH_BENEATH      1

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes its size, so ABI 1 works too. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define WRITE_RIGHTS_ABI1                                                                          \
	(LDM_LANDLOCK_ACCESS_FS_WRITE_FILE | LDM_LANDLOCK_ACCESS_FS_REMOVE_DIR |                   \
	 LDM_LANDLOCK_ACCESS_FS_REMOVE_FILE | LDM_LANDLOCK_ACCESS_FS_MAKE_CHAR |                   \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_DIR | LDM_LANDLOCK_ACCESS_FS_MAKE_REG |                       \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_SOCK | LDM_LANDLOCK_ACCESS_FS_MAKE_FIFO |                     \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_BLOCK | LDM_LANDLOCK_ACCESS_FS_MAKE_SYM)

struct ldm_landlock_plan
ldm_landlock_plan(int abi)
{
	struct ldm_landlock_plan p = { .enter = abi >= 1 };

	if (!p.enter)
		return p;
	p.handled_fs = WRITE_RIGHTS_ABI1;
	if (abi >= 2)
		p.handled_fs |= LDM_LANDLOCK_ACCESS_FS_REFER;
	/* Not TRUNCATE (ABI 3): see landlock.h. */
	p.dev_fs = LDM_LANDLOCK_ACCESS_FS_WRITE_FILE;
	if (abi >= 6)
		p.scoped = LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LDM_LANDLOCK_SCOPE_SIGNAL;
	return p;
}

int
ldm_landlock_abi(void)
{
	long r = syscall(__NR_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);

	return r < 0 ? -errno : (int)r;
}

/*
 * Grants RIGHTS (the file rights only, for a file) beneath PATH in RULESET. The last
 * component must not be a symlink: a scope entry means the place it names.
 */
static int
add_path_rule(int ruleset, const char *path, uint64_t rights)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct path_beneath_attr pb = { .allowed_access = rights };
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= LDM_LANDLOCK_FILE_RIGHTS;
	pb.parent_fd = fd;
	if (syscall(__NR_landlock_add_rule, ruleset, RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

int
ldm_landlock_enter(int abi, const char *const *paths, size_t n, ldm_landlock_skip_fn skip)
{
	struct ldm_landlock_plan p = ldm_landlock_plan(abi);
	struct ruleset_attr attr = { .handled_access_fs = p.handled_fs, .scoped = p.scoped };
	/* Older kernels refuse a larger struct with non-zero unknown fields: pass what ABI knows. */
	size_t size = abi >= 6 ? sizeof(attr) : sizeof(attr.handled_access_fs);
	_cleanup_close_ int fd = -1;
	int r;

	if (!p.enter)
		return -EOPNOTSUPP;
	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -errno;
	r = add_path_rule(fd, LDM_LANDLOCK_DEV_DIR, p.dev_fs);
	if (r < 0 && skip != NULL)
		skip(LDM_LANDLOCK_DEV_DIR, r);
	for (size_t i = 0; i < n; i++) {
		r = add_path_rule(fd, paths[i], p.handled_fs);
		if (r == -EBADF || r == -EINVAL || r == -EMSGSIZE || r == -ENOMEM)
			return r; /* the ruleset itself is wrong: no half-built domain */
		if (r < 0 && skip != NULL)
			skip(paths[i], r);
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0) < 0)
		return -errno;
	return 1;
}
