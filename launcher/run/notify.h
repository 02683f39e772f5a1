/*
 * Desktop notifications for the pilot (docs/session.md, "Notifications"): ldm-run's first
 * process (keeper.c) follows the session's own log records through the daemon
 * (LDM_LOG_F_NOW) and sends one org.freedesktop.Notifications call per blocked destination
 * and minute (at most LDM_RUN_NOTIFY_MAX in a session), then the summary; main.c sends the
 * reason when the program could not start. They go to the real session bus, from outside the
 * program's reach: the program's own bus address is withheld or proxied (dbus_proxy.c).
 *
 *   notifytext.c  pure: when, what (folding, the texts, escaping for the body's markup)
 *   notify.c      the bus (sd-bus, never waited on while the program runs) and the log pipe
 */
#ifndef LDM_RUN_NOTIFY_H
#define LDM_RUN_NOTIFY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ldm/event.h"

#define LDM_RUN_NOTIFY_FOLD_MS 60000 /* one notification per destination per minute */
#define LDM_RUN_NOTIFY_MAX     10    /* block notifications in a session, then one "more" */
#define LDM_RUN_NOTIFY_KEYS    16    /* destinations remembered for folding (> the cap) */
#define LDM_RUN_NOTIFY_TEXT    1024  /* a summary or body, NUL included */

/* --notify, --no-notify, or neither (auto: when there is no terminal). */
enum ldm_run_notify_mode { LDM_RUN_NOTIFY_AUTO = 0, LDM_RUN_NOTIFY_ON, LDM_RUN_NOTIFY_OFF };

/*
 * Whether to notify: ON and OFF say so; AUTO notifies when neither stdin nor stderr is a
 * terminal (a menu entry, a script: nobody reads the summary line). Pure.
 */
bool ldm_run_notify_wanted(enum ldm_run_notify_mode mode, bool stdin_tty, bool stderr_tty);

/* What ldm_run_notify_fold_take() decides for one block. */
enum ldm_run_notify_fold_verdict {
	LDM_RUN_NOTIFY_SEND,   /* notify it */
	LDM_RUN_NOTIFY_FOLDED, /* its destination was notified less than a minute ago */
	LDM_RUN_NOTIFY_CAP,    /* the cap is reached now: notify "more are not shown" */
	LDM_RUN_NOTIFY_QUIET,  /* past the cap */
};

struct ldm_run_notify_fold {
	struct {
		uint64_t key; /* a hash of the destination; 0: free */
		uint64_t last_ms;
	} v[LDM_RUN_NOTIFY_KEYS];
	unsigned sent;
	bool capped;
};

/*
 * Decides for a block of destination KEY (any text naming it) at monotonic NOW_MS; a full
 * table forgets the destination notified longest ago. Pure.
 */
enum ldm_run_notify_fold_verdict ldm_run_notify_fold_take(struct ldm_run_notify_fold *f,
                                                          const char *key, uint64_t now_ms);

/*
 * Copies IN into OUT (SIZE bytes, NUL included) for a notification: the markup a body may
 * hold (&, <, >) as entities, control characters as spaces, bytes that are not valid UTF-8
 * as '?' (D-Bus refuses invalid strings); cut at a character, never inside one, when OUT is
 * full. Returns the length written. Pure.
 */
size_t ldm_run_notify_escape(char *out, size_t size, const char *in);

/*
 * The texts for a blocked record E (event "blocked"): the destination KEY for folding, the
 * SUMMARY and the BODY (escaped), each LDM_RUN_NOTIFY_TEXT bytes. Returns 0, or -EINVAL for
 * a record that is no block (nothing written). Pure.
 */
int ldm_run_notify_block_text(const struct ldm_event *e, char *key, char *summary, char *body);

/* The notifier of a session (notify.c). */
struct ldm_run_notifier;

/*
 * Opens the real session bus and asks the daemon at SOCKET for SESSION's records from now
 * on. LOUD (--notify, or a configured bus address): say on stderr why not, once. Returns a
 * notifier, or NULL when none can run (said, if LOUD).
 */
struct ldm_run_notifier *ldm_run_notifier_start(const char *socket, uint64_t session, bool loud);

/* Its descriptors for poll() (2 slots; unused ones get fd -1) and what poll said of them. */
void ldm_run_notifier_pollfds(struct ldm_run_notifier *n, struct pollfd p[2]);
void ldm_run_notifier_handle(struct ldm_run_notifier *n, const struct pollfd p[2]);

/* Milliseconds until N must be handled again though poll() saw nothing (it asks the daemon
 * for its reader again), or -1: only when a descriptor is ready. */
int ldm_run_notifier_timeout(const struct ldm_run_notifier *n);

/* In a forked child that must not hold the bus or the log pipe: closes its fds only. */
void ldm_run_notifier_forget(struct ldm_run_notifier *n);

/*
 * The end: waits (at most about 1.5 s) for the records of the last BLOCKED blocks when not
 * all were seen, then notifies LINE (the summary line; NULL: none), sends what is queued
 * (at most 1 s) and frees N.
 */
void ldm_run_notifier_end(struct ldm_run_notifier *n, const char *line, uint64_t blocked);

/*
 * Tells the pilot that PROGRAM was not started, and WHY (a line ldm-run printed), waiting
 * at most 2 s for the bus. LOUD as above.
 */
void ldm_run_notify_failed(const char *program, const char *why, bool loud);

/*
 * Until ldm_run_notify_tee_stop(), what ldm-run writes to stderr also keeps its last line,
 * for ldm_run_notify_failed(): ldm_run_notify_last_said() (without "ldm-run: ").
 */
void ldm_run_notify_tee_start(void);
void ldm_run_notify_tee_stop(void);
const char *ldm_run_notify_last_said(void);

#endif
