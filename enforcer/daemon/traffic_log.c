/*
 * A session's traffic, when it ends: its conntrack entries (connmark: its slot) are read
 * before the slot's entries are deleted, summed per allow rule and peer (traffic.c), and
 * written as `traffic` records just before session_end, which carries the totals and how
 * many traffic records precede it (so a removed one is noticed).
 *
 * Never a zero that was not measured: when the entries cannot be read, or some carry no
 * counters (accounting was off when they began), an error record says so and session_end
 * carries no totals.
 *
 * Trust: the entries come from the kernel and are read strictly (ctentry.c); the names are
 * the session's own DNS answers (nametab), used only to name the rule.
 */
#include <errno.h>
#include <string.h>

#include "session_table.h"
#include "state.h"
#include "ldm/util.h"
#include "nametab.h"
#include "traffic.h"

struct collect {
	struct daemon *d;
	struct session *s;
	struct ldm_traffic t;
};

static size_t
session_names(uint8_t family, const uint8_t addr[16], const char **names, size_t max, void *u)
{
	struct collect *c = u;
	int n = ldm_nametab_lookup(c->d->names, c->s->id, family, addr, ldm_now_ms(), names, max);

	return n > 0 ? (size_t)n : 0;
}

static void
on_entry(const struct ldm_ct_entry *e, void *u)
{
	struct collect *c = u;
	const struct ldm_lan lan = ldm_lan_current(c->d);

	ldm_traffic_add(&c->t, c->s->policy, &lan, session_names, c, e);
}

static void
log_row(struct daemon *d, const struct session *s, const struct ldm_traffic_row *r)
{
	struct ldm_event e;

	ldm_event_init(&e, LDM_EVENT_TRAFFIC, NULL);
	ldm_session_table_fill_event(s, &e);
	e.proto = r->proto;
	e.dst = r->peer;
	e.dport = r->port;
	e.rule = r->rule;
	e.comment = r->comment;
	e.packets_out = r->packets_out;
	e.bytes_out = r->bytes_out;
	e.packets_in = r->packets_in;
	e.bytes_in = r->bytes_in;
	ldm_record_log(d, &e);
}

void
ldm_traffic_log(struct daemon *d, struct session *s, struct ldm_event *end)
{
	struct collect c = { d, s, { 0 } };
	int r = ldm_traffic_init(&c.t);

	if (r == 0)
		r = ldm_conntrack_dump_slot(d, s->slot, on_entry, &c);
	for (size_t i = 0; i < c.t.n; i++)
		log_row(d, s, &c.t.rows[i]);
	if (r < 0)
		ldm_record_error(d, s,
		                 "the session's traffic was not counted: its conntrack entries "
		                 "could not be read (%s)",
		                 strerror(-r));
	else if (c.t.uncounted > 0)
		ldm_record_error(d, s,
		                 "the session's traffic was not counted: %llu of its connections "
		                 "carry no byte counters (conntrack accounting was off when they "
		                 "began)",
		                 (unsigned long long)c.t.uncounted);
	if (r == 0 && c.t.uncounted == 0) {
		end->traffic_known = true;
		end->traffic = c.t.n;
		end->packets_out = c.t.total.packets_out;
		end->bytes_out = c.t.total.bytes_out;
		end->packets_in = c.t.total.packets_in;
		end->bytes_in = c.t.total.bytes_in;
	}
	ldm_traffic_fini(&c.t);
}
