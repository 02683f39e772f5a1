/*
 * Parsers for what the kernel tells us in text: /proc/self/mountinfo (where cgroup2 is
 * mounted), /proc/PID/cgroup (a process's cgroup2 path), /proc/PID/stat, cgroup.procs and
 * cgroup.events. Pure: text in, results out; the text is
 *  untrusted (a /proc file of another process): every field is bounded.
 */
#ifndef LDM_PROCPARSE_H
#define LDM_PROCPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LDM_PATH_MAX 4096

/* The mount point of the cgroup2 file system in mountinfo TEXT (with octal escapes
 * decoded). Returns 0, -ENOENT if none, -ENAMETOOLONG. Prefers /sys/fs/cgroup, then
 * /sys/fs/cgroup/unified, then the first one. */
int ldm_procparse_cgroup2_mount(const char *text, char *buf, size_t size);

/* The root of the cgroup2 mount at MNT in mountinfo TEXT: the cgroup its mount point shows,
 * as the reader's cgroup namespace sees it ("/" for the whole tree). Returns 0, -ENOENT if
 * no cgroup2 file system is mounted there, -ENAMETOOLONG; BUF is written only on success. A later mount over the same point
 * wins, as it hides the earlier one. */
int ldm_procparse_cgroup2_root(const char *text, const char *mnt, char *buf, size_t size);

/* The cgroup2 path ("0::/a/b" line) in /proc/PID/cgroup TEXT, e.g. "/a/b". */
int ldm_procparse_cgroup2_path(const char *text, char *buf, size_t size);

/*
 * The pids in a cgroup.procs TEXT (one decimal number per line), at most MAX into PIDS.
 * Returns how many, or -EINVAL for a line that is not a pid (1..2^22) and -E2BIG when more
 * than MAX are listed (the first MAX are in PIDS).
 */
int ldm_procparse_pid_list(const char *text, int *pids, size_t max);

/*
 * The state (field 3: 'R', 'S', 'Z', ...), start time (field 22, clock ticks since boot: with
 * the pid, it names one process for good) and name (field 2, cut to COMM_SIZE - 1 bytes) in
 * /proc/PID/stat TEXT. The name is the process's to choose: it may hold spaces and ')'; the
 * fields after it start after the last ')'. Returns 0 or -EINVAL; outputs only on success.
 */
int ldm_procparse_stat(const char *text, char *ret_state, uint64_t *ret_start, char *comm,
                       size_t comm_size);

/* The value of "populated" in cgroup.events TEXT: 0 or 1, or -EINVAL. */
int ldm_procparse_populated(const char *text);

#endif
