/*
 * Landlock without filesystem policy: a domain for its process-isolation side effects and
 * scopes. What it does and why is in landlock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
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

struct ldm_landlock_plan
ldm_landlock_plan(int abi)
{
	if (abi >= 6)
		return (struct ldm_landlock_plan){
			.enter = true,
			.scoped =
			        LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LDM_LANDLOCK_SCOPE_SIGNAL,
		};
	if (abi >= 2)
		return (struct ldm_landlock_plan){
			.enter = true,
			.handled_fs = LDM_LANDLOCK_ACCESS_FS_REFER,
			.refer_rule = true,
		};
	return (struct ldm_landlock_plan){ .enter = false };
}

int
ldm_landlock_abi(void)
{
	long r = syscall(__NR_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);

	return r < 0 ? -errno : (int)r;
}

/* Grants RIGHTS beneath "/" in RULESET. */
static int
add_root_rule(int ruleset, uint64_t rights)
{
	_cleanup_close_ int root = open("/", O_PATH | O_CLOEXEC | O_DIRECTORY);
	struct path_beneath_attr pb = { .allowed_access = rights };

	if (root < 0)
		return -errno;
	pb.parent_fd = root;
	if (syscall(__NR_landlock_add_rule, ruleset, RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

int
ldm_landlock_enter(int abi)
{
	struct ldm_landlock_plan p = ldm_landlock_plan(abi);
	struct ruleset_attr attr = { .handled_access_fs = p.handled_fs, .scoped = p.scoped };
	/* Older kernels refuse a larger struct with non-zero unknown fields: pass what ABI knows. */
	size_t size = abi >= 6 ? sizeof(attr) : sizeof(attr.handled_access_fs);
	_cleanup_close_ int fd = -1;
	int r;

	if (!p.enter)
		return 0;
	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -errno;
	if (p.refer_rule) {
		r = add_root_rule(fd, p.handled_fs);
		if (r < 0)
			return r;
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0) < 0)
		return -errno;
	return 1;
}
