/*
 * Mediation of connect() (launcher/run/unixmed.c): the seccomp filter sends every connect()
 * of the session to the supervisor, which makes the call itself on the app's own socket and
 * answers with its result. For a local (AF_UNIX) socket it first judges the target against
 * the policy's unix rules (ldm/unix_rule.h) and refuses, with a report, what is neither
 * allowed by a rule nor a socket of the session's own processes. The kernel never re-reads
 * the app's address or fd number after the decision (no SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 * Entry points for other launcher code:
 *   ldm_unixmed_new()        at supervisor start, with the session's items and cgroup
 *   ldm_unixmed_connect()    for each notification of connect()
 *   ldm_unixmed_free()       at exit; waits for connects still running in workers
 */
#ifndef LDM_RUN_UNIXMED_H
#define LDM_RUN_UNIXMED_H

#include <linux/seccomp.h>
#include <stdint.h>

#include "ldm/control.h"
#include "ldm/unix_rule.h"

struct ldm_run_items;
struct ldm_unixmed;

/* One refused connect, for the report to the daemon (LDM_MSG_UNIX_BLOCKED). */
struct ldm_unixmed_refusal {
	uint32_t pid;
	enum ldm_unix_why why;
	uint32_t rule;
	int err;
	char target[LDM_UNIX_TARGET_MAX];
};

/* Called for each refusal, from the supervisor's thread or a worker thread. */
typedef void (*ldm_unixmed_report_fn)(void *userdata, const struct ldm_unixmed_refusal *r);

/*
 * Builds the mediator: the LDM_ITEM_UNIX items expanded with ldm_run_path_vars() (a pattern
 * whose variable is unknown matches nothing; an item the launcher cannot read is an error:
 * the session must not start), CGROUP the session's cgroup relative to the cgroup2 mount
 * (whose processes own "the session's sockets"), REPORT called for each refusal. Returns 0
 * or -errno with a reason in WHY.
 */
int ldm_unixmed_new(const struct ldm_run_items *items, const char *cgroup,
                    ldm_unixmed_report_fn report, void *userdata, struct ldm_unixmed **ret,
                    char *why, size_t why_size);

/*
 * Handles REQ, a connect() notification received from listener NFD: answers it now or from a
 * worker thread (a blocking connect). Never continues the call in the kernel.
 */
void ldm_unixmed_connect(struct ldm_unixmed *m, int nfd, const struct seccomp_notif *req);

void ldm_unixmed_free(struct ldm_unixmed *m);

#endif
