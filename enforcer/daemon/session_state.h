/*
 * The session state machine (docs/session.md): every change of a session's state goes
 * through ldm_session_state_set(), which refuses a move the life cycle does not have.
 *
 *   FREE -> SPARE            a spare is made (spares.c)
 *   FREE | SPARE -> PROBING  a request takes a free slot or a spare (session.c)
 *   FREE -> READY | ENDING   a session taken up again after a daemon restart (session.c)
 *   PROBING -> READY         the self-test packet was seen
 *   PROBING | READY -> ENDING  the self-test failed / the cgroup emptied
 *   PROBING | ENDING -> CLOSING  out of the ruleset, waiting for a commit
 *   ENDING -> ENDING         an empty cgroup seen again
 *   any but READY -> FREE    the slot is cleared (session_table.c); READY goes through ENDING
 */
#ifndef LDM_DAEMON_SESSION_STATE_H
#define LDM_DAEMON_SESSION_STATE_H

#include <stdbool.h>

#include "state.h"

/* "free", "probing", ...; "?" for a value out of the enum. */
const char *ldm_session_state_name(enum session_state st);
/* May a session go from FROM to TO? */
bool ldm_session_state_allowed(enum session_state from, enum session_state to);
/* Moves S to TO: 0, or -EINVAL (S unchanged) for a move the life cycle does not have. */
int ldm_session_state_set(struct session *s, enum session_state to);

#endif
