/* The session slots (session_table.c): finding a session or a free slot, naming a
 * session's cgroup, a session's fields in a record. */
#ifndef LDM_DAEMON_SESSION_TABLE_H
#define LDM_DAEMON_SESSION_TABLE_H

#include <stdint.h>

#include "state.h"

/* The session in force (probing, ready or ending) with id ID, or NULL. */
struct session *ldm_session_table_by_id(struct daemon *d, uint64_t id);
/* Fills E's session, policy, uid, user and app from S. */
void ldm_session_table_fill_event(const struct session *s, struct ldm_event *e);
/* A free slot the mark bits can name, or 0 if none. */
unsigned ldm_session_table_free_slot(const struct daemon *d);
/* Sets S's cgroup path (relative to the cgroup2 mount) from the root and S's name. */
void ldm_session_table_path(const struct daemon *d, struct session *s);

#endif
