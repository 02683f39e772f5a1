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
	if (d->lan_valid && lan_equal(rs, k, d->lan, d->n_lan)) {
		free(rs);
		return 0;
	}
	free(d->lan);
	free(d->lan_entries);
	d->lan = rs;
	d->n_lan = k;
	d->lan_entries = TAKE_PTR(e);
	d->lan_valid = true;
	*ret_changed = true;
	return 0;
}

void
ldm_lan_tick(struct daemon *d, uint64_t now)
{
	bool changed = false;

	if (d->lan_check_at == 0 || now < d->lan_check_at)
		return;
	d->lan_check_at = 0;
	if (ldm_lan_refresh(d, &changed) == 0 && changed)
		ldm_rules_commit_later(d);
}

uint64_t
ldm_lan_next_deadline(const struct daemon *d)
{
	return d->lan_check_at != 0 ? d->lan_check_at : UINT64_MAX;
}
