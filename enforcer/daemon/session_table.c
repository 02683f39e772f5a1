/* The session slots: d->sessions[1..], indexed by the slot their marks carry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>

#include "state.h"
#include "session_table.h"

unsigned
ldm_session_table_free_slot(const struct daemon *d)
{
	unsigned max =
	        d->marks.max_slots < LDM_MAX_SESSIONS ? d->marks.max_slots : LDM_MAX_SESSIONS;

	for (unsigned i = 1; i <= max; i++)
		if (d->sessions[i].state == SESSION_FREE)
			return i;
	return 0;
}

void
ldm_session_table_path(const struct daemon *d, struct session *s)
{
	char buf[sizeof(s->cgroup)];

	(void)snprintf(buf, sizeof(buf), "%s/%s", d->cg.root, s->name);
	memcpy(s->cgroup, buf, sizeof(buf));
}

struct session *
ldm_session_table_by_id(struct daemon *d, uint64_t id)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (SESSION_ACTIVE(&d->sessions[i]) && d->sessions[i].id == id)
			return &d->sessions[i];
	return NULL;
}

void
ldm_session_table_fill_event(const struct session *s, struct ldm_event *e)
{
	e->session = s->id;
	e->policy = s->policy_name;
	e->uid = s->uid;
	e->user = s->user;
	e->app = s->app;
}
