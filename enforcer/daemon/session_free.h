/* Clearing a session's slot (session_free.c). */
#ifndef LDM_DAEMON_SESSION_FREE_H
#define LDM_DAEMON_SESSION_FREE_H

#include "state.h"

/* Frees everything S holds (its probe, watch, counters, processes, policy) and makes its
 * slot FREE. The caller has taken it out of the ruleset and the kernel first. */
void ldm_session_free(struct daemon *d, struct session *s);

#endif
