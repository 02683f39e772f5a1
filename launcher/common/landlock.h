/*
 * The Landlock domain of a sandboxed app (DESIGN.md "Seccomp"). Entering any Landlock domain
 * confines ptrace, pidfd_getfd and /proc/PID/mem to processes inside the domain; ABI 6 and
 * later also scope abstract Unix sockets and signals. The domain changes nothing about file
 * access: the ruleset handles no filesystem right where the kernel allows that (ABI 6+, the
 * scopes make it a valid ruleset), and otherwise only LANDLOCK_ACCESS_FS_REFER with a rule
 * that grants it beneath "/", so renames and links work as before (a domain that handles any
 * filesystem right denies cross-directory renames unless REFER is granted).
 *
 * ABI 1 cannot grant REFER, so such a domain would break cross-directory renames: ABI 1 and
 * kernels without Landlock get no domain (seccomp still refuses ptrace, process_vm_* and
 * pidfd_getfd; /proc/PID/mem of other processes of the user stays a known gap there).
 */
#ifndef LDM_LAUNCHER_LANDLOCK_H
#define LDM_LAUNCHER_LANDLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Scope bits of Landlock ABI 6 (linux/landlock.h of Linux 6.12; Debian 12's headers lack them). */
#define LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (UINT64_C(1) << 0)
#define LDM_LANDLOCK_SCOPE_SIGNAL               (UINT64_C(1) << 1)
#define LDM_LANDLOCK_ACCESS_FS_REFER            (UINT64_C(1) << 13)

/* What ldm_landlock_enter() asks of a kernel of a given ABI. */
struct ldm_landlock_plan {
	bool enter;          /* false: no domain (no Landlock, or ABI 1) */
	uint64_t handled_fs; /* handled filesystem rights */
	uint64_t scoped;     /* LDM_LANDLOCK_SCOPE_* */
	bool refer_rule;     /* grant handled_fs beneath "/" */
};

/* The plan for ABI (<= 0: Landlock not available). Pure. */
struct ldm_landlock_plan ldm_landlock_plan(int abi);

/* The kernel's Landlock ABI version, or -errno (-EOPNOTSUPP: built in but disabled). */
int ldm_landlock_abi(void);

/*
 * Enters the domain ldm_landlock_plan(ABI) describes (pass ldm_landlock_abi(), or a lower
 * ABI to get an older kernel's domain). PR_SET_NO_NEW_PRIVS must be set. Returns 1 when a
 * domain was entered, 0 when the plan says none, or -errno.
 */
int ldm_landlock_enter(int abi);

#endif
