/*
 * The self-test (probe.c): before a session is ready, a child of the daemon joins its cgroup
 * and sends one UDP datagram per family to a loopback port the policy blocks; the session
 * becomes ready only when the enforcer saw them in the queue (proof that the kernel rules of
 * the session are in force).
 */
#ifndef LDM_DAEMON_PROBE_H
#define LDM_DAEMON_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

/* A loopback port policy P blocks for UDP, v4 and v6, into *RET; -EADDRINUSE if none. */
int ldm_probe_pick_port(const struct daemon *d, const struct ldm_policy *p, uint16_t *ret);
/* Starts S's probe child and its deadline. 0 or -errno. */
int ldm_probe_start(struct daemon *d, struct session *s);
/* Kills and reaps S's probe child, if any. */
void ldm_probe_stop(struct session *s);
/* Has S's probe child exited? Then true, its exit status in *STATUS (255: killed). */
bool ldm_probe_collect(struct session *s, int *status);
/* Why a probe that exited with STATUS (not 0) failed, for the refusal. */
const char *ldm_probe_failure(int status);

#endif
