/* Spares: sessions made in advance (spares.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "state.h"
#include "ldm/util.h"
#include "session_state.h"
#include "session_free.h"
#include "session_table.h"
#include "spares.h"

/* The spare, if its rules are in the kernel. */
struct session *
ldm_spares_ready(struct daemon *d)
{
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		if (d->sessions[i].state == SESSION_SPARE && ldm_rules_holds(d, i, false))
			return &d->sessions[i];
	return NULL;
}

/* Turns slot S into a spare named ID/NAME (its cgroup exists). */
void
ldm_spares_make(struct daemon *d, struct session *s, unsigned slot, uint64_t id, const char *name)
{
	ldm_session_free(d, s);
	s->slot = slot;
	s->id = id;
	(void)ldm_strscpy(s->name, sizeof(s->name), name);
	ldm_session_table_path(d, s);
	(void)ldm_session_state_set(s, SESSION_SPARE); /* from FREE */
}

void
ldm_spares_fill(struct daemon *d)
{
	unsigned slot, spares = 0;
	uint32_t rnd = 0;
	uint64_t id;
	char name[64];
	int r;

	if (d->stopping || ldm_rules_failing(d) || ldm_now_ms() < d->spare_hold_until)
		return;
	for (unsigned i = 1; i <= LDM_MAX_SESSIONS; i++)
		spares += d->sessions[i].state == SESSION_SPARE;
	if (spares >= d->cfg.spares)
		return;
	slot = ldm_session_table_free_slot(d);
	if (slot == 0)
		return;
	if (ldm_ids_take(d, &id) < 0 || getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		d->spare_hold_until = ldm_now_ms() + 10000;
		return;
	}
	(void)snprintf(name, sizeof(name), "s%llu-%08x", (unsigned long long)id, rnd);
	r = ldm_cgroup_create(&d->cg, name);
	if (r < 0) {
		ldm_record_error(d, NULL, "cannot create cgroup %s/%s: %s", d->cg.root, name,
		                 strerror(-r));
		d->spare_hold_until = ldm_now_ms() + 10000;
		return;
	}
	ldm_spares_make(d, &d->sessions[slot], slot, id, name);
	ldm_rules_forget_slot(d, slot); /* ready once a commit holding it is in */
	ldm_rules_commit_later(d);
	ldm_spares_fill(d); /* the next one, in the same commit */
}
