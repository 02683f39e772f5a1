/*
 * The daemon's event log: each record as one JSON line appended to the log file (one write(),
 * so lines never interleave), as one text line to journald with the record's fields
 * (ldm/journalfields.h) where journald runs, else to syslog, and to stderr in the
 * foreground.
 *
 * A failure to log never changes a verdict: callers decide before they log, and failures
 * come back as -errno only to be counted and reported (`ldmctl status`).
 */
#ifndef LDM_EVENTLOG_H
#define LDM_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "ldm/event.h"
#include "ldm/logchain.h"

#define LDM_EVENTLOG_PATH "/var/log/ldm/events.jsonl"

/* Flags of ldm_eventlog_open(); `true` as the flags means LDM_EVENTLOG_STDERR. */
#define LDM_EVENTLOG_STDERR    0x1u /* also write the text line to stderr */
#define LDM_EVENTLOG_NO_SYSLOG 0x2u /* no syslog (tests) */

struct ldm_eventlog;

/*
 * Opens (creates, 0640) the log file PATH for appending, creating its parent directory (one
 * level, 0750) if missing, and opens syslog as "ldm-enforcerd". PATH must not be a symlink
 * and must be a regular file or a character device (/dev/null, /dev/full). Returns 0 and a
 * new log in *ret, or -errno.
 */
int ldm_eventlog_open(const char *path, unsigned flags, struct ldm_eventlog **ret);

/* Closes the file and syslog. Takes NULL, returns NULL. */
struct ldm_eventlog *ldm_eventlog_close(struct ldm_eventlog *log);
static inline void
ldm_eventlog_closep(struct ldm_eventlog **log)
{
	ldm_eventlog_close(*log);
}

/*
 * Writes E everywhere (no folding: the caller folds with ldm_fold_offer() first), the JSON
 * line sealed into the log's hash chain (ldm/logchain.h). A zero
 * E->ts is stamped with the wall clock now. Returns 0, or -errno of the file write (a
 * short write is -EIO, a record that cannot be formatted -EINVAL): counted as a failure.
 */
int ldm_eventlog_write(struct ldm_eventlog *log, const struct ldm_event *e);

/*
 * Opens PATH again (after logrotate moved it, on SIGHUP). On failure the old file stays in
 * use, the failure is counted and -errno returned.
 */
int ldm_eventlog_reopen(struct ldm_eventlog *log);

/* Why the hash chain started anew when the log was opened (the caller logs it), or NULL. */
const char *ldm_eventlog_chain_note(const struct ldm_eventlog *log);

/* The chain's head: the last written record's number and hash. */
void ldm_eventlog_chain_head(const struct ldm_eventlog *log, uint64_t *ret_seq,
                             uint8_t ret_head[LDM_CHAIN_HASH_LEN]);

/* Records that could not be written to the file, and reopen failures. NULL: 0. */
uint64_t ldm_eventlog_failures(const struct ldm_eventlog *log);

/* The syslog priority of an event: warning for blocked and tamper, and so on. */
int ldm_eventlog_priority(enum ldm_event_type t);

#endif
