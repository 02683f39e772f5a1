/*
 * Keeps the daemon's `lan` prefixes current: reads the routes (kernel/lan_read.c), marks the
 * uplinks (configured, or the interfaces of default routes), names each interface, and says
 * whether anything changed, so that the daemon commits the `lan` rules again only then.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "kernel/lan_read.h"
#include "ldm/lan.h"
#include "ldm/util.h"

/* The module's own state. */
struct ldm_lanstate {
	struct ldm_rs_lan *named;      /* on-link prefixes with interface names (the ruleset) */
	struct ldm_lan_entry *entries; /* the same, for the evaluator */
	size_t n;
	bool valid;
	uint64_t check_at; /* read the routes again at this time (settled changes), 0 none */
};

int
ldm_lan_new(struct daemon *d)
{
	d->lan = calloc(1, sizeof(*d->lan));
	return d->lan == NULL ? -ENOMEM : 0;
}

void
ldm_lan_free(struct daemon *d)
{
	if (d->lan == NULL)
		return;
	free(d->lan->named);
	free(d->lan->entries);
	free(d->lan);
	d->lan = NULL;
}

struct ldm_lan
ldm_lan_current(const struct daemon *d)
{
	return (struct ldm_lan){ d->lan->entries, d->lan->n };
}

const struct ldm_rs_lan *
ldm_lan_named(const struct daemon *d, size_t *n)
{
	*n = d->lan->n;
	return d->lan->named;
}

void
ldm_lan_check_after(struct daemon *d, uint64_t at)
{
	if (d->lan->check_at == 0)
		d->lan->check_at = at;
}

static bool
lan_equal(const struct ldm_rs_lan *a, size_t na, const struct ldm_rs_lan *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

int
ldm_lan_refresh(struct daemon *d, bool *ret_changed)
{
	_cleanup_free_ struct ldm_lan_entry *e = NULL;
	struct ldm_rs_lan *rs;
	size_t n = 0, k = 0;
	int r = ldm_lan_read(&e, &n);

	*ret_changed = false;
	if (r < 0)
		return r;
	if (d->cfg.uplinks_given) {
		int up[LDM_MAX_UPLINKS];
		size_t k_up = 0;

		/* A named uplink that does not exist (yet) has no routes to mark. */
		for (size_t i = 0; i < d->cfg.n_uplinks; i++) {
			unsigned idx = if_nametoindex(d->cfg.uplinks[i]);

			if (idx > 0 && idx <= INT32_MAX)
				up[k_up++] = (int)idx;
		}
		ldm_lan_mark_uplinks(e, n, up, k_up);
	}
	rs = calloc(n > 0 ? n : 1, sizeof(*rs));
	if (rs == NULL)
		return -ENOMEM;
	/* An interface without a name (gone meanwhile) cannot be named in a rule: skip it.
	 * This machine's own addresses need none. */
	for (size_t i = 0; i < n; i++) {
		char name[IF_NAMESIZE];

		if (e[i].kind != LDM_ROUTE_LOCAL &&
		    (if_indextoname((unsigned)e[i].ifindex, name) == NULL ||
		     ldm_strscpy(rs[k].ifname, sizeof(rs[k].ifname), name) < 0))
			continue;
		rs[k].prefix = e[i].prefix;
		rs[k].kind = e[i].kind;
		e[k++] = e[i];
	}
	if (d->lan->valid && lan_equal(rs, k, d->lan->named, d->lan->n)) {
		free(rs);
		return 0;
	}
	free(d->lan->named);
	free(d->lan->entries);
	d->lan->named = rs;
	d->lan->n = k;
	d->lan->entries = TAKE_PTR(e);
	d->lan->valid = true;
	*ret_changed = true;
	return 0;
}

bool
ldm_lan_tick(struct daemon *d, uint64_t now)
{
	bool changed = false;

	if (d->lan->check_at == 0 || now < d->lan->check_at)
		return false;
	d->lan->check_at = 0;
	return ldm_lan_refresh(d, &changed) == 0 && changed;
}

uint64_t
ldm_lan_next_deadline(const struct daemon *d)
{
	return d->lan->check_at != 0 ? d->lan->check_at : UINT64_MAX;
}
