/*
 * Log-only notifications for write-type calls (seccomp.h, "write calls"). The filter sends
 * the calls that can create, change, rename or delete a file to the listener: open and
 * openat only when their flags ask for writing (O_WRONLY, O_RDWR, O_CREAT or O_TRUNC), so
 * an open for reading never leaves the kernel. The supervisor answers each with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE: Landlock decides, the notification only names the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/seccomp.h"
#include "ldm/util.h"

#define NONE (-1)

/* Where each call keeps its paths: dirfd and path argument, twice for rename and link. */
static const struct ldm_seccomp_write_call calls[] = {
	{ "open", NONE, 0, NONE, NONE, 1 },
	{ "openat", 0, 1, NONE, NONE, 2 },
	{ "openat2", 0, 1, NONE, NONE, LDM_SECCOMP_FLAGS_OPEN_HOW },
	{ "creat", NONE, 0, NONE, NONE, NONE },
	{ "truncate", NONE, 0, NONE, NONE, NONE },
	{ "mkdir", NONE, 0, NONE, NONE, NONE },
	{ "mkdirat", 0, 1, NONE, NONE, NONE },
	{ "mknod", NONE, 0, NONE, NONE, NONE },
	{ "mknodat", 0, 1, NONE, NONE, NONE },
	{ "rmdir", NONE, 0, NONE, NONE, NONE },
	{ "unlink", NONE, 0, NONE, NONE, NONE },
	{ "unlinkat", 0, 1, NONE, NONE, NONE },
	{ "rename", NONE, 0, NONE, 1, NONE },
	{ "renameat", 0, 1, 2, 3, NONE },
	{ "renameat2", 0, 1, 2, 3, NONE },
	{ "link", NONE, 0, NONE, 1, NONE },
	{ "linkat", 0, 1, 2, 3, NONE },
	{ "symlink", NONE, 1, NONE, NONE, NONE }, /* the link's path; the target is text */
	{ "symlinkat", 1, 2, NONE, NONE, NONE },
};

static const int write_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };

const struct ldm_seccomp_write_call *
ldm_seccomp_write_call(int nr)
{
	/* Resolved once: the supervisor asks for every notification. */
	static int nrs[ELEMENTSOF(calls)];
	static bool resolved;

	if (!resolved) {
		for (size_t i = 0; i < ELEMENTSOF(calls); i++)
			nrs[i] = seccomp_syscall_resolve_name(calls[i].name);
		resolved = true;
	}
	for (size_t i = 0; i < ELEMENTSOF(calls) && nr >= 0; i++)
		if (nrs[i] == nr)
			return &calls[i];
	return NULL;
}

static bool
in_list(int nr, const int *skip, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (skip[i] == nr)
			return true;
	return false;
}

int
ldm_seccomp_add_write_rules(scmp_filter_ctx ctx, const int *skip, size_t n_skip)
{
	for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
		int nr = seccomp_syscall_resolve_name(calls[i].name);
		int r = 0;

		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		if (nr < 0 || in_list(nr, skip, n_skip))
			continue; /* not on this architecture, or refused outright */
		if (calls[i].flags_arg < 0) {
			r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
		} else {
			for (size_t j = 0; j < ELEMENTSOF(write_flags) && r >= 0; j++) {
				struct scmp_arg_cmp c = {
					.arg = (unsigned)calls[i].flags_arg,
					.op = SCMP_CMP_MASKED_EQ,
					.datum_a = (scmp_datum_t)write_flags[j],
					.datum_b = (scmp_datum_t)write_flags[j],
				};

				r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 1, &c);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int
ldm_seccomp_notify_continue(int fd, const struct seccomp_notif *req,
                            struct seccomp_notif_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return seccomp_notify_respond(fd, resp);
}
