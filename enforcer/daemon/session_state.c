/* The session state machine: its one transition table (session_state.h). */
#include <errno.h>

#include "ldm/util.h"
#include "session_state.h"

#define N_STATES (SESSION_CLOSING + 1)

static const char *const names[N_STATES] = {
	[SESSION_FREE] = "free",     [SESSION_PROBING] = "probing", [SESSION_READY] = "ready",
	[SESSION_ENDING] = "ending", [SESSION_SPARE] = "spare",     [SESSION_CLOSING] = "closing",
};

/* moves[from][to] */
static const bool moves[N_STATES][N_STATES] = {
	[SESSION_FREE] = { [SESSION_FREE] = true,
	                   [SESSION_SPARE] = true,
	                   [SESSION_PROBING] = true,
	                   [SESSION_READY] = true,
	                   [SESSION_ENDING] = true },
	[SESSION_SPARE] = { [SESSION_FREE] = true, [SESSION_PROBING] = true },
	[SESSION_PROBING] = { [SESSION_FREE] = true,
	                      [SESSION_READY] = true,
	                      [SESSION_ENDING] = true,
	                      [SESSION_CLOSING] = true },
	[SESSION_READY] = { [SESSION_ENDING] = true },
	[SESSION_ENDING] = { [SESSION_ENDING] = true,
	                     [SESSION_FREE] = true,
	                     [SESSION_CLOSING] = true },
	[SESSION_CLOSING] = { [SESSION_FREE] = true },
};

const char *
ldm_session_state_name(enum session_state st)
{
	return (unsigned)st < N_STATES ? names[st] : "?";
}

bool
ldm_session_state_allowed(enum session_state from, enum session_state to)
{
	return (unsigned)from < N_STATES && (unsigned)to < N_STATES && moves[from][to];
}

int
ldm_session_state_set(struct session *s, enum session_state to)
{
	if (!ldm_session_state_allowed(s->state, to))
		return -EINVAL;
	s->state = to;
	return 0;
}
