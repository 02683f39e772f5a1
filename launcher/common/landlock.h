/*
 * The Landlock domain of a sandboxed app. Entering any Landlock domain confines ptrace,
 * pidfd_getfd and /proc/PID/mem to processes inside the domain; ABI 6 and later also scope
 * abstract Unix sockets and signals.
 *
 * The domain is the app's write scope: it handles the write-type filesystem rights the
 * kernel's ABI knows (writing files, creating and removing entries of every type, REFER
 * from ABI 2) and grants them all beneath each directory of the scope; existing files
 * under /dev may be written (ttys, /dev/null, serial radios) but nothing there created or
 * removed. Read rights (READ_FILE, READ_DIR, EXECUTE) are not handled, so reading is as
 * before, and neither is IOCTL_DEV (ABI 5: tty ioctls on the app's terminal would fail).
 *
 * TRUNCATE (ABI 3) is not handled either: Landlock decides it at every open(), reads
 * included, with a walk up the path (an open+read loop took 1.4-1.5x its bare time in a
 * session that handled it, 1.04x with the same domain without it: an earlier, averaging
 * run of tests/bench/writescope.sh). What it would check is closed by the seccomp filter and the
 * supervisor instead, on every ABI: truncate(2) by path and open with O_TRUNC but without
 * write access (which truncates on Linux) are refused; ftruncate(2) needs a file opened
 * for writing, which WRITE_FILE checks.
 *
 * ABI 1 has no REFER: there a rename or link across directories fails with EXDEV even
 * inside the scope (mv and most programs then copy). Kernels without Landlock cannot
 * enforce a write scope: the launcher refuses to start there.
 */
#ifndef LDM_LAUNCHER_LANDLOCK_H
#define LDM_LAUNCHER_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Scope bits of Landlock ABI 6 (linux/landlock.h of Linux 6.12; Debian 12's headers lack them). */
#define LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (UINT64_C(1) << 0)
#define LDM_LANDLOCK_SCOPE_SIGNAL               (UINT64_C(1) << 1)

/* Filesystem access rights (linux/landlock.h). */
#define LDM_LANDLOCK_ACCESS_FS_WRITE_FILE  (UINT64_C(1) << 1)
#define LDM_LANDLOCK_ACCESS_FS_REMOVE_DIR  (UINT64_C(1) << 4)
#define LDM_LANDLOCK_ACCESS_FS_REMOVE_FILE (UINT64_C(1) << 5)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_CHAR   (UINT64_C(1) << 6)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_DIR    (UINT64_C(1) << 7)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_REG    (UINT64_C(1) << 8)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_SOCK   (UINT64_C(1) << 9)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_FIFO   (UINT64_C(1) << 10)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_BLOCK  (UINT64_C(1) << 11)
#define LDM_LANDLOCK_ACCESS_FS_MAKE_SYM    (UINT64_C(1) << 12)
#define LDM_LANDLOCK_ACCESS_FS_REFER       (UINT64_C(1) << 13) /* ABI 2 */
#define LDM_LANDLOCK_ACCESS_FS_TRUNCATE    (UINT64_C(1) << 14) /* ABI 3 */

/* The rights a rule on a file (not a directory) may carry, among the write rights. */
#define LDM_LANDLOCK_FILE_RIGHTS                                                                   \
	(LDM_LANDLOCK_ACCESS_FS_WRITE_FILE | LDM_LANDLOCK_ACCESS_FS_TRUNCATE)

/* Where existing files may be written in every scope (ttys, /dev/null, serial radios). */
#define LDM_LANDLOCK_DEV_DIR "/dev"

/* What ldm_landlock_enter() asks of a kernel of a given ABI. */
struct ldm_landlock_plan {
	bool enter;          /* false: no Landlock: the launch must be refused */
	uint64_t handled_fs; /* handled filesystem rights: the write rights ABI knows */
	uint64_t dev_fs;     /* granted beneath /dev */
	uint64_t scoped;     /* LDM_LANDLOCK_SCOPE_* */
};

/* The plan for ABI (<= 0: Landlock not available). Pure. */
struct ldm_landlock_plan ldm_landlock_plan(int abi);

/* The kernel's Landlock ABI version, or -errno (-EOPNOTSUPP: built in but disabled). */
int ldm_landlock_abi(void);

/*
 * Reports a write-scope path that was left out (it does not exist, is a symlink, cannot be
 * opened): PATH and the -errno. Called in the child before exec; may print.
 */
typedef void (*ldm_landlock_skip_fn)(const char *path, int err);

/*
 * Enters the write-scope domain ldm_landlock_plan(ABI) describes (pass ldm_landlock_abi(),
 * or a lower ABI to get an older kernel's domain), granting the write rights beneath each
 * of the N absolute PATHS. A path whose last component is a symlink, or that cannot be
 * opened, is left out (the scope only narrows) and reported to SKIP (may be NULL); a path
 * that is a file gets the file rights only. PR_SET_NO_NEW_PRIVS must be set. Returns 1
 * when the domain was entered, or -errno: -EOPNOTSUPP when ABI has no Landlock (no domain
 * entered: the caller must not run the program).
 */
int ldm_landlock_enter(int abi, const char *const *paths, size_t n, ldm_landlock_skip_fn skip);

#endif
