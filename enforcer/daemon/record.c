/*
 * The daemon's records: every module writes its log records through ldm_record_log() (blocked
 * attempts are folded first), errors through ldm_record_error(). A record gets the machine id
 * and the host name here, reaches the log file (and syslog or journald, eventlog.c), and the
 * session's counters learn what was written (counts.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"
#include "eventlog.h"
#include "logfold.h"
#include "session_table.h"

void
ldm_record_emit(const struct ldm_event *e, void *u)
{
	struct daemon *d = u;
	struct ldm_event m = *e;
	char host[LDM_EVENT_HOSTNAME_MAX + 1];

	m.machine = d->machine_id; /* (machine, session) names a session in merged logs */
	/* The name now (it can change while the daemon runs); never under `host`, a peer's. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		m.hostname = host;
	}
	/* A failure is counted there, never a verdict; only what reached the file counts as
	 * written (a restart logs the rest from the session's counters). */
	if (ldm_eventlog_write(d->log, &m) == 0)
		ldm_counts_written(d, e);
}

/* Logs E; blocked attempts go through the folding table first. The session's counters
 * (changed by the caller just before) reach its state file first. */
void
ldm_record_log(struct daemon *d, struct ldm_event *e)
{
	struct session *s = e->session != 0 ? ldm_session_table_by_id(d, e->session) : NULL;

	if (s != NULL)
		ldm_counts_sync(s);
	if (e->event == LDM_EVENT_BLOCKED || e->event == LDM_EVENT_WOULD_BLOCK ||
	    e->event == LDM_EVENT_RESOLVED || e->event == LDM_EVENT_ALLOWED) {
		if (ldm_fold_offer(d->fold, e, ldm_now_ms(), ldm_record_emit, d) ==
		    LDM_FOLD_COUNTED)
			return;
	}
	ldm_record_emit(e, d);
}

void
ldm_record_error(struct daemon *d, const struct session *s, const char *fmt, ...)
{
	char text[LDM_CTL_TEXT_MAX];
	struct ldm_event e;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ldm_event_init(&e, LDM_EVENT_ERROR, NULL);
	if (s != NULL)
		ldm_session_table_fill_event(s, &e);
	e.reason = text;
	ldm_record_log(d, &e);
}
