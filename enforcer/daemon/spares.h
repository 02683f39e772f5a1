/*
 * Spares (spares.c): session cgroups whose generic chain (everything queued, no compiled
 * policy) is committed in advance, so that a request takes one and no commit is on the
 * launch path (docs/decisions.md). The daemon keeps cfg.spares of them.
 */
#ifndef LDM_DAEMON_SPARES_H
#define LDM_DAEMON_SPARES_H

#include <stdint.h>

#include "state.h"

/* A spare whose rules are in the kernel, or NULL. */
struct session *ldm_spares_ready(struct daemon *d);
/* Makes slot S a spare named ID/NAME (its cgroup exists), clearing what S held. */
void ldm_spares_make(struct daemon *d, struct session *s, unsigned slot, uint64_t id,
                     const char *name);
/* Makes spares until there are cfg.spares, a slot is free, and making one works. */
void ldm_spares_fill(struct daemon *d);

#endif
