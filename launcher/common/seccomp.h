/*
 * The baseline syscall filter of a sandboxed app (docs/threat-model.md, "Layers"). ldm-run's child
 * loads it last, right before execve (STYLE rule 13); it holds whatever the policy says.
 *
 * Denied calls return an errno and never kill the app:
 *   EPERM         namespaces (setns, CLONE_NEW* in clone/unshare), ptrace and the other
 *                 cross-process calls, bpf, perf_event_open, mounts, kexec, modules,
 *                 keyrings (add_key, request_key, keyctl),
 *                 TIOCSTI/TIOCLINUX, multicast joins, raw and packet sockets (what an app
 *                 without CAP_NET_RAW gets from the kernel anyway), the policy's deny list.
 *   EAFNOSUPPORT  socket()/socketpair() of a family the policy does not list: what a kernel
 *                 without that family says, so apps take their "no such family" fallback.
 *   ENOSYS        clone3 (libc falls back to clone, whose flags we can inspect), io_uring
 *                 (apps fall back to plain syscalls), and every syscall of a foreign ABI.
 *
 * Only the native ABI is allowed: the filter holds the native architecture only, so i386
 * calls (int 0x80, socketcall) get the bad-arch action, ENOSYS, as on a kernel built without
 * that ABI; libseccomp also sends x32 calls (x86_64 arch, nr | 0x40000000) to the bad-arch
 * action when x32 is not in the filter. A 32-bit program exec'd under this filter therefore
 * cannot make a single syscall and dies at once.
 */
#ifndef LDM_LAUNCHER_SECCOMP_H
#define LDM_LAUNCHER_SECCOMP_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the filter holds besides the baseline. */
struct ldm_seccomp_opts {
	uint64_t families;    /* bit N set allows socket family N (AF_PACKET is refused anyway) */
	bool allow_multicast; /* the app may join multicast groups */
	bool notify;          /* socket-family and namespace rules go to a listener, see below */
	const int *deny;      /* the policy's syscalls.deny: native numbers, refused with EPERM */
	size_t n_deny;
	bool notify_writes; /* write-type calls go to the listener, for the log (below) */
};

/*
 * Builds the filter described by O without loading it. A number in o->deny that the baseline
 * already refuses with ENOSYS keeps ENOSYS. The list must not name a call that the launcher
 * still makes after loading (execve, sendmsg, close, write, exit_group).
 *
 * With o->notify, every connect() and the creation of AF_UNIX datagram sockets also go to
 * the listener (launcher/run/unixmed.c makes each connect() itself; the datagram sockets
 * are refused with EPERM), and the socket-family rules (socket() and socketpair() of an unlisted family,
 * AF_PACKET, raw and packet types) and the namespace rules (setns, CLONE_NEW* in clone and
 * unshare) use SCMP_ACT_NOTIFY instead of SCMP_ACT_ERRNO: the loader gets a listener fd and
 * the supervisor answers each such call with ldm_seccomp_denied_errno(), the errno the
 * filter would have returned itself, and logs it. If the listener is gone, the kernel fails
 * those calls with ENOSYS: they never succeed.
 *
 * Returns 0 and a new context in *ret (free with seccomp_release() or
 * _cleanup_(ldm_seccomp_releasep)), or -errno: -EINVAL for a negative number or a NULL list,
 * -E2BIG for more than LDM_MAX_LIST_ITEMS numbers, -ENOSYS if libseccomp does not know a
 * baseline syscall name, or what libseccomp returned. Any rule that fails to add fails the
 * whole build: there is never a partial filter.
 */
int ldm_seccomp_build(const struct ldm_seccomp_opts *o, scmp_filter_ctx *ret);

/*
 * Builds the filter as ldm_seccomp_build() does and loads it into the calling thread. The
 * caller must have set PR_SET_NO_NEW_PRIVS (libseccomp sets it too, if it was not). With
 * o->notify, *ret_notify_fd receives the listener (a new CLOEXEC fd owned by the caller);
 * otherwise it is set to -1. Returns 0 or -errno (the kernel's own errno when loading fails).
 */
int ldm_seccomp_load(const struct ldm_seccomp_opts *o, int *ret_notify_fd);

/*
 * The errno that the filter without notify returns for native syscall NR with ARGS, for a
 * call that hit a notify rule under FAMILIES: EAFNOSUPPORT for an unlisted family, EPERM for
 * the rest. Never 0: a notified call is always refused. Pure.
 */
int ldm_seccomp_denied_errno(uint64_t families, int nr, const uint64_t args[6]);

/* One refused call, as the listener saw it. */
struct ldm_seccomp_denial {
	uint32_t pid;  /* in the listener's pid namespace */
	uint32_t arch; /* AUDIT_ARCH_* */
	int nr;
	int err; /* the errno the caller got */
	uint64_t args[6];
};

/*
 * Takes one pending notification from listener FD (call when poll() says POLLIN), answers
 * it with ldm_seccomp_denied_errno() under FAMILIES, and describes it in *ret. REQ and RESP
 * come from seccomp_notify_alloc(). Returns 0, or -errno when nothing was received (the
 * caller was killed meanwhile: -ENOENT). A failed answer (the caller died) still returns 0:
 * the attempt was made.
 */
int ldm_seccomp_notify_handle(int fd, uint64_t families, struct seccomp_notif *req,
                              struct seccomp_notif_resp *resp, struct ldm_seccomp_denial *ret);

/*
 * Write calls (seccomp_write.c). With o->notify and o->notify_writes, the calls that can
 * create, change, rename or delete a file (open/openat with O_WRONLY, O_RDWR, O_CREAT or
 * O_TRUNC; openat2, creat, truncate, mkdir*, mknod*, rmdir, unlink*, rename*, link*,
 * symlink*) notify the listener, which answers them with ldm_seccomp_notify_continue()
 * (the kernel then runs the call, and Landlock decides) or refuses them (truncation, which
 * the launcher's Landlock domain does not check). Calls in o->deny are left to that list.
 */
#define LDM_SECCOMP_FLAGS_OPEN_HOW (-2) /* openat2: the flags are in struct open_how */

struct ldm_seccomp_write_call {
	const char *name;
	int dirfd_arg, path_arg;   /* dirfd_arg -1: relative to the working directory */
	int dirfd2_arg, path2_arg; /* rename's and link's second path; path2_arg -1: none */
	int flags_arg;             /* open flags; -1: always a write */
};

/* The write call NR is (native), or NULL. */
const struct ldm_seccomp_write_call *ldm_seccomp_write_call(int nr);

/* Adds the notify rules for write calls, leaving out the N numbers of SKIP. */
int ldm_seccomp_add_write_rules(scmp_filter_ctx ctx, const int *skip, size_t n_skip);

/* Lets the notified call REQ run (SECCOMP_USER_NOTIF_FLAG_CONTINUE). Returns 0 or -errno. */
int ldm_seccomp_notify_continue(int fd, const struct seccomp_notif *req,
                                struct seccomp_notif_resp *resp);

/*
 * Answers the received notification REQ as ldm_seccomp_notify_handle() does (refused with
 * ldm_seccomp_denied_errno()) and describes it in *RET.
 */
void ldm_seccomp_notify_refuse(int fd, uint64_t families, const struct seccomp_notif *req,
                               struct seccomp_notif_resp *resp, struct ldm_seccomp_denial *ret);

/* Sends FD over the Unix socket SOCK (SCM_RIGHTS, one byte of data). Returns 0 or -errno. */
int ldm_seccomp_send_fd(int sock, int fd);

/*
 * Receives one fd sent by ldm_seccomp_send_fd() (CLOEXEC). Returns the fd, -ENODATA when the
 * peer closed the socket without sending one, or -errno.
 */
int ldm_seccomp_recv_fd(int sock);

static inline void
ldm_seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}

#endif
