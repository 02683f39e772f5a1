/*
 * The baseline syscall filter of a sandboxed app (DESIGN.md "Seccomp"). ldm-run's child
 * loads it last, right before execve (STYLE rule 13); it holds whatever the policy says.
 *
 * Denied calls return an errno and never kill the app:
 *   EPERM         namespaces (setns, CLONE_NEW* in clone/unshare), ptrace and the other
 *                 cross-process calls, bpf, perf_event_open, mounts, kexec, modules,
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

/*
 * Builds the filter without loading it. FAMILIES: bit N set allows socket family N (AF_PACKET
 * is refused whatever it says). ALLOW_MULTICAST lets the app join multicast groups. DENY:
 * N_DENY native syscall numbers (the policy's syscalls.deny), refused with EPERM; a number
 * the baseline already refuses with ENOSYS keeps ENOSYS. The list must not name a call that
 * the launcher still makes after loading (execve, write, exit_group).
 *
 * Returns 0 and a new context in *ret (free with seccomp_release() or
 * _cleanup_(ldm_seccomp_releasep)), or -errno: -EINVAL for a negative number or a NULL list,
 * -E2BIG for more than LDM_MAX_LIST_ITEMS numbers, -ENOSYS if libseccomp does not know a
 * baseline syscall name, or what libseccomp returned. Any rule that fails to add fails the
 * whole build: there is never a partial filter.
 */
int ldm_seccomp_build(uint64_t families, bool allow_multicast, const int *deny, size_t n_deny,
                      scmp_filter_ctx *ret);

/*
 * Builds the filter as ldm_seccomp_build() does and loads it into the calling thread. The
 * caller must have set PR_SET_NO_NEW_PRIVS (libseccomp sets it too, if it was not). Returns
 * 0 or -errno (the kernel's own errno when loading fails).
 */
int ldm_seccomp_load(uint64_t families, bool allow_multicast, const int *deny, size_t n_deny);

static inline void
ldm_seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}

#endif
