/*
 * ldm-run: starts a program under a policy (docs/session.md).
 * main.c strings the steps together; each module here is one step:
 *   options.c     command line, PATH lookup, exit codes (pure but for the lookup)
 *   privs.c       refusing root and capabilities
 *   session.c     the daemon: session request, cgroup check, summary line
 *   appimage.c    type-2 AppImages: extracted into a cache, AppRun run instead
 *   items.c       the session's launcher items (write paths, local sockets) and %h/%t/%c
 *   writescope.c  the write scope: paths expanded and checked, Landlock entered in the child
 *   stdio.c       refusing sockets on fds 0-2
 *   dbus_proxy.c  the D-Bus filter (xdg-dbus-proxy) and the program's bus addresses
 *   child.c       fork, then the child's fixed order: fds, no_new_privs, Landlock, seccomp
 *   keeper.c      the process the shell waits for: the program's status, the summary
 *   supervisor.c  signals, the seccomp listener and its reports, waiting for the child
 *   unixmed.c     connect() made by the supervisor: local sockets judged (unixmed.h)
 *   notify.c      desktop notifications for the pilot (notify.h; notifytext.c pure)
 */
#ifndef LDM_RUN_H
#define LDM_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ldm/control.h"

/* Exit codes of ldm-run itself, as env(1) and timeout(1) use them. */
#define LDM_RUN_EXIT_FAIL        125 /* ldm-run failed; the program did not run */
#define LDM_RUN_EXIT_CANNOT_EXEC 126
#define LDM_RUN_EXIT_NOT_FOUND   127

#define LDM_RUN_OFFLINE_POLICY "offline"

struct ldm_run_opts {
	const char *socket; /* --socket PATH, or NULL */
	const char *policy; /* --policy NAME, or "offline" for --offline */
	bool audit;
	bool quiet;
	int notify;       /* enum ldm_run_notify_mode (notify.h): --notify, --no-notify, or neither;
	              * main.c then settles it to ON or OFF */
	bool notify_loud; /* say on stderr when there is no bus (--notify, or a bus address) */
	char **argv;      /* PROGRAM ARGS..., NULL-terminated (points into main's argv) */
};

/*
 * Parses ldm-run's command line into *RET. Returns 0 to run the program, 1 when --help or
 * --version was printed on OUT (exit 0), or -EINVAL after printing a usage error on ERR.
 */
int ldm_run_parse_options(int argc, char **argv, struct ldm_run_opts *ret, FILE *out, FILE *err);

/*
 * Finds NAME as env(1) and execvp(3) do: a NAME with a slash is used as is, otherwise each
 * element of PATH_ENV (NULL: "/bin:/usr/bin"; an empty element is the current directory) is
 * tried in order and the first executable regular file wins. Writes the path into BUF.
 * Returns 0, -ENOENT (exit 127), -EACCES when only non-executable candidates were found
 * (exit 126), or -ENAMETOOLONG.
 */
int ldm_run_find_program(const char *name, const char *path_env, char *buf, size_t size);

/* ldm-run's exit code for a child's wait status: its exit code, or 128+N for signal N. */
int ldm_run_exit_status(int wstatus);

/*
 * Reads the CapEff, CapPrm and CapAmb lines of TEXT, the contents of /proc/self/status.
 * Returns 0, or -EINVAL if one is missing or malformed; writes the outputs only on success.
 */
int ldm_run_parse_caps(const char *text, uint64_t *ret_eff, uint64_t *ret_prm, uint64_t *ret_amb);

/*
 * Refuses to go on as root or with any capability in the effective, permitted or ambient
 * set. Returns 0, or -EPERM after writing the reason into WHY, or another -errno when the
 * sets cannot be read (refused as well: fail closed).
 */
int ldm_run_check_privileges(char *why, size_t size);

/*
 * True when TEXT, the contents of /proc/self/cgroup, puts this process at "/" + CGROUP in
 * the cgroup2 hierarchy (the "0::" line). Pure.
 */
bool ldm_run_cgroup_matches(const char *text, const char *cgroup);

/*
 * If FD (the descriptor hashed for exe_sha256, not taken) is a type-2 AppImage: checks that
 * PATH (SIZE bytes) still names it, extracts it from FD into the user's cache (once per
 * version of the file) and points PATH at its AppRun, with APPIMAGE, APPDIR and ARGV0 (from
 * ARGV0) set in the environment. Any other file: PATH unchanged. Returns 0, or -errno after
 * printing the reason (replaced since hashed, a type-1 AppImage, a damaged one, no
 * unsquashfs).
 */
int ldm_run_appimage_prepare(int fd, char *path, size_t size, const char *argv0);

/*
 * The session cgroup's directory (CGROUP relative to the cgroup2 mount, as READY names it)
 * into BUF; its cgroup.procs into BUF; and how many processes other than this one and ALSO_OURS are in it
 * (-errno when it cannot be read: the caller then keeps serving, failing safe).
 */
int ldm_run_session_cgroup_dir(const char *cgroup, char *buf, size_t size);
int ldm_run_session_procs_path(const char *cgroup, char *buf, size_t size);
int ldm_run_session_others(const char *procs_path, pid_t also_ours);

/* The launcher items of a session (ldm/control.h), as the daemon sent them. */
struct ldm_run_item {
	uint32_t kind; /* LDM_ITEM_* */
	uint32_t rule;
	uint32_t flags;
	char *value; /* as the policy wrote it: path patterns unexpanded */
};

struct ldm_run_items {
	struct ldm_run_item *v;
	size_t n;
};

/* Appends the item M carries. Returns 0, -E2BIG past LDM_CTL_ITEMS_MAX, or -ENOMEM. */
int ldm_run_items_add(struct ldm_run_items *items, const struct ldm_msg_session_item *m);
void ldm_run_items_clear(struct ldm_run_items *items);

/*
 * The values of %h (the passwd entry's home of this uid, not $HOME), %t ($XDG_RUNTIME_DIR
 * when absolute) and %c (the working directory) for ldm_path_expand(), in storage BUF.
 * A value that cannot be had (or does not fit BUF) is NULL. Returns 0.
 */
struct ldm_path_vars;
int ldm_run_path_vars(struct ldm_path_vars *ret, char *buf, size_t size);

/*
 * The Landlock ABI the launcher uses: ABI (the kernel's answer, or -errno) lowered to the
 * number in ENV (LDM_RUN_TEST_LANDLOCK_ABI, a test hook; NULL or "": no change). Never
 * raises it. Returns the ABI, or -EINVAL for an ENV that is no number >= 0. Pure.
 */
int ldm_run_landlock_abi_limit(int abi, const char *env);

/*
 * In the parent: refuses (one line on stderr, -EOPNOTSUPP) where Landlock is missing, then
 * expands the LDM_ITEM_WRITE items, creates missing directories and keeps the paths for
 * the child (warning about each entry left out). Returns 0 or -errno.
 */
int ldm_run_write_scope_prepare(const struct ldm_run_items *items);

/*
 * The Landlock ABI the child will enforce (the kernel's, lowered by the test hook); refuses
 * as ldm_run_write_scope_prepare() does where there is none. Returns the ABI or -errno.
 */
int ldm_run_write_scope_abi(void);

/*
 * exehash.c: opens PATH, checks it is a regular file and writes the SHA-256 of its bytes
 * (read from that descriptor) as 64 hex digits and a NUL into HEX; *RET_SCRIPT says
 * whether it starts with "#!". Returns the descriptor (O_CLOEXEC) or -errno.
 */
int ldm_run_exe_hash(const char *path, char hex[65], bool *ret_script);

/*
 * Whether RELEASE (uname -r) is Linux MAJOR.MINOR or later; false when it cannot be read.
 * Pure. ldm_run_exec_by_fd_ok(): this kernel names a program executed from a descriptor by
 * its file (6.14 and later), not by the descriptor's number.
 */
bool ldm_run_kernel_at_least(const char *release, unsigned major, unsigned minor);
bool ldm_run_exec_by_fd_ok(void);

/*
 * child.c: the child executes FD (the descriptor that was hashed) instead of looking the
 * program up by path, or, BY_PATH, executes the path after checking that it still names
 * FD's inode; FD -1 (the default) looks it up. Call before ldm_run_keep().
 */
void ldm_run_exec_fd_set(int fd, bool by_path);

/* In the child: enters the Landlock domain of the prepared scope. Returns 1 or -errno. */
int ldm_run_write_scope_enter(void);
void ldm_run_write_scope_clear(void);

/* The prepared scope's paths (in the parent, after ldm_run_write_scope_prepare). */
size_t ldm_run_write_scope_paths(const char *const **ret);

/*
 * The supervisor's log of writes outside the scope (writelog.c). SCOPE: the scope's
 * directories with their symlinks resolved.
 */
struct ldm_run_writelog {
	char *scope[LDM_CTL_ITEMS_MAX];
	size_t n;
};

int ldm_run_writelog_init(struct ldm_run_writelog *wl);
void ldm_run_writelog_clear(struct ldm_run_writelog *wl);

/*
 * True when the absolute, resolved PATH may be written: below one of the N SCOPE paths,
 * or (DEV_OK: an existing file opened for writing) below /dev. Pure.
 */
bool ldm_run_write_in_scope(const char *const *scope, size_t n, const char *path, bool dev_ok);

/*
 * Handles the received notification REQ of a write call: lets it run (Landlock decides)
 * and returns 1 with the report in *M when a path it names lies outside the scope, else 0.
 */
struct seccomp_notif;
struct seccomp_notif_resp;
int ldm_run_writelog_handle(const struct ldm_run_writelog *wl, int nfd,
                            const struct seccomp_notif *req, struct seccomp_notif_resp *resp,
                            struct ldm_msg_write_denied *m);

/*
 * True for a socket ldm-run accepts on fds 0-2: only journald's stream socket (AF_UNIX,
 * SOCK_STREAM, PEER "/run/systemd/journal/stdout"). Pure.
 */
bool ldm_run_stdio_socket_ok(int family, int type, const char *peer);

/*
 * Checks fds 0-2: any socket but journald's stream is refused, with the reason (naming
 * the fd and what it is) in WHY. Returns 0, -EPERM, or another -errno.
 */
int ldm_run_check_stdio(char *why, size_t size);

/*
 * The D-Bus filter (dbus_proxy.c). A bus no item names gets LDM_RUN_DBUS_NO_SESSION_BUS_PATH
 * or LDM_RUN_DBUS_NO_SYSTEM_BUS_PATH, a path that cannot exist (a file is no directory), so
 * the program's D-Bus library fails to reach it and falls back to nothing. The connect()
 * mediation (unixmed.c) refuses a connect to either with a report (LDM_UNIX_WHY_NO_BUS): a
 * withheld bus is a block, and a block is logged.
 */
#define LDM_RUN_DBUS_PROXY               "/usr/bin/xdg-dbus-proxy"
#define LDM_RUN_DBUS_NO_SESSION_BUS_PATH "/dev/null/ldm-run-no-session-bus"
#define LDM_RUN_DBUS_NO_SYSTEM_BUS_PATH  "/dev/null/ldm-run-no-system-bus"
#define LDM_RUN_DBUS_ADDR_MAX            1024

struct ldm_run_dbus {
	pid_t pid;         /* the proxy; 0 if none runs */
	int sync_fd;       /* our end of its --fd: closing it stops the proxy; -1 if none */
	char dir[256];     /* the private directory of its sockets, "" if none */
	char path[2][256]; /* its sockets: [0] session, [1] system; "" if not proxied */
	char env[2][800];  /* DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS for the program */
};

/*
 * Checks ITEMS' D-Bus items (a valid name, exactly one bus) and says in NEED which buses
 * they name ([0] session, [1] system). Returns 0, or -EINVAL with the reason in WHY.
 */
int ldm_run_dbus_check_items(const struct ldm_run_items *items, bool need[2], char *why,
                             size_t size);

/*
 * The real address of BUS (0 session, 1 system): ENV_ADDR (the DBUS_*_BUS_ADDRESS ldm-run
 * was started with) if set, else unix:path=RUNTIME/bus (session; RUNTIME is
 * $XDG_RUNTIME_DIR) or unix:path=/run/dbus/system_bus_socket (system). Returns 0, -ENOENT
 * (session: no address and no RUNTIME), -EINVAL (an address starting with '-'), or
 * -ENAMETOOLONG.
 */
int ldm_run_dbus_address(int bus, const char *env_addr, const char *runtime, char *buf,
                         size_t size);

/*
 * "unix:path=PATH" into BUF, with PATH's bytes that a D-Bus address does not take as they
 * are written %XX (a ',' or ';' in $XDG_RUNTIME_DIR would otherwise end the path). Returns
 * 0 or -ENAMETOOLONG.
 */
int ldm_run_dbus_unix_address(const char *path, char *buf, size_t size);

/*
 * xdg-dbus-proxy's command line: --fd=FD, then for each bus with an ADDR, ADDR PATH
 * --filter and one --talk=NAME per D-Bus item of that bus. ARGV holds MAX pointers (copies;
 * ldm_run_argv_free frees them). Returns 0, -E2BIG or -ENOMEM.
 */
int ldm_run_dbus_argv(const struct ldm_run_items *items, const char *const addr[2],
                      const char *const path[2], int fd, char **argv, size_t max);
void ldm_run_argv_free(char **argv);

/*
 * Starts the proxy for the buses ITEMS name and waits until it listens (5 s at most); adds
 * each of its sockets to ITEMS as an allowed local socket (LDM_ITEM_UNIX), and fills D's
 * addresses for the program. Without D-Bus items nothing is started. Returns 0, or -errno
 * with the reason in WHY (the proxy, if any, is stopped).
 */
int ldm_run_dbus_start(struct ldm_run_dbus *d, struct ldm_run_items *items, char *why, size_t size);

/* Puts D's addresses in ldm-run's environment (the program inherits it) and drops the
 * variables that carry a real bus address. Returns 0 or -errno. */
int ldm_run_dbus_setenv(const struct ldm_run_dbus *d);

/* Stops the proxy (closes its --fd, SIGKILL after 1 s), removes its sockets and directory. */
void ldm_run_dbus_stop(struct ldm_run_dbus *d);

/*
 * ldm_run_dbus_start() and ldm_run_dbus_setenv(), before the program is forked: returns 0,
 * or prints why not and returns LDM_RUN_EXIT_FAIL (the proxy stopped). The caller calls
 * ldm_run_dbus_stop() when its supervision ends.
 */
int ldm_run_dbus_begin(struct ldm_run_dbus *d, struct ldm_run_items *items);

/*
 * Asks the daemon at SOCKET for a session for this pid: policy and flags from O, APP the
 * resolved program. Prints a one-line reason on stderr on failure. Returns 0 and the reply
 * in *RET and the session's launcher items in *ITEMS (cleared first; the caller clears
 * them), or -errno.
 */
int ldm_run_session_request(const char *socket, const struct ldm_run_opts *o, const char *app,
                            const char *exe_sha256, uint32_t landlock_abi,
                            struct ldm_msg_session_ready *ret, struct ldm_run_items *items);

/* Checks /proc/self/cgroup against the session's cgroup; prints why not. Returns 0 or -errno. */
int ldm_run_session_check_cgroup(const struct ldm_msg_session_ready *s);

/*
 * Formats the end-of-session line into BUF: with SUM, the counts it holds (would-be blocks
 * when AUDIT); with SUM NULL, the line without counts. Returns 0 or -ENAMETOOLONG.
 */
int ldm_run_format_summary(char *buf, size_t size, uint64_t session, const char *policy, bool audit,
                           const struct ldm_msg_summary *sum);

/* The summary line's size, NUL included. */
#define LDM_RUN_SUMMARY_MAX (LDM_CTL_NAME_MAX + 512)

/*
 * Asks the daemon for the session's final counters and prints the summary line on stderr,
 * and into LINE (SIZE bytes), with the blocked count in *RET_BLOCKED (0 without counts).
 * Returns 0, or -ENAMETOOLONG when the line did not fit (nothing printed).
 * The daemon answers once nothing but ldm-run is left in the session (a child the program
 * left behind may still be blocked), or after 5 s with the counts so far and how many
 * processes still run; the line then says so. A signal to stop on SFD (the supervisor's
 * signalfd, or -1), such as Ctrl-C, ends the wait: the line gives the counts so far.
 * OWN_HELPERS of the processes still in the session are ldm-run's own (its keeper), not
 * the program's.
 */
int ldm_run_session_summary(const char *socket, const struct ldm_msg_session_ready *s, int sfd,
                            unsigned own_helpers, char *line, size_t size, uint64_t *ret_blocked);

/*
 * Blocks the signals the supervisor handles, forks, and runs the program in the child
 * (ldm_run_child_exec; never returns there). Returns the child's pid and, in *RET_SOCK, the
 * parent's end of the socket on which the child sends its seccomp listener; or -errno.
 */
pid_t ldm_run_spawn(const struct ldm_run_opts *o, const char *path,
                    const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
                    int *ret_sock);

/* The signals forwarded to the program; SIGCHLD is added to the blocked set as well. */
extern const int ldm_run_forwarded_signals[5];

/*
 * The supervisor: forwards signals, answers and reports seccomp notifications, waits for
 * CHILD and sends its wait status to STATUS_FD (ldm_run_keeper_send), then goes on
 * answering notifications while any process still uses the filter. Returns its own exit
 * code (0, or LDM_RUN_EXIT_FAIL when it could not supervise).
 */
int ldm_run_supervise(const struct ldm_run_opts *o, const char *socket,
                      const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
                      pid_t child, int sock, int status_fd);

/* What the supervisor tells the keeper (keeper.c) over a pipe. */
enum { LDM_RUN_KEEPER_PID = 1, LDM_RUN_KEEPER_STATUS = 2, LDM_RUN_KEEPER_FAIL = 3 };
struct ldm_run_keeper_msg {
	int kind;
	int value; /* the program's pid, its wait status, or ldm-run's exit code */
};
void ldm_run_keeper_send(int fd, int kind, int value);

/*
 * Forks the supervisor (which starts PATH and supervises it), waits for the program's
 * status, forwards signals to the program, prints the summary (unless o->quiet). Returns
 * ldm-run's exit code.
 */
int ldm_run_keep(const struct ldm_run_opts *o, const char *socket,
                 const struct ldm_msg_session_ready *s, const struct ldm_run_items *items,
                 const char *path);

/*
 * The report rate limit: at most LDM_RUN_REPORTS_PER_SEC syscall reports in each second
 * of the monotonic clock; the rest are counted and reported as one record when the next
 * second starts (or at exit).
 */
#define LDM_RUN_REPORTS_PER_SEC LDM_CTL_REPORTS_PER_SEC

struct ldm_run_ratelimit {
	uint64_t window; /* the second the counts belong to */
	unsigned sent;
	uint64_t suppressed; /* reports not sent in earlier windows, not yet flushed */
};

/*
 * Accounts for one report at second NOW. Returns true if it may be sent. Pure.
 */
bool ldm_run_ratelimit_take(struct ldm_run_ratelimit *rl, uint64_t now);

/*
 * Returns the number of suppressed reports to flush at second NOW (and zeroes it), or 0
 * while the window they were suppressed in is still current. FORCE flushes anyway. Pure.
 */
uint64_t ldm_run_ratelimit_flush(struct ldm_run_ratelimit *rl, uint64_t now, bool force);

#endif
