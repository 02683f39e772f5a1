/*
 * Folding of repeated events, so that a flood of identical blocked attempts cannot fill the
 * disk or slow enforcement (DESIGN, "Logs"). Pure: the caller passes a monotonic time in
 * milliseconds and writes what it is told to.
 *
 * Foldable: blocked, would_block, allowed, syscall_denied and resolved events with count 1 (or 0); any other
 * event is always LDM_FOLD_EMIT and not remembered. Two events are identical when they have
 * the same event type, session, proto, dst (family and address), dport, host, rule and
 * reason, and for syscall_denied the same syscall name, nr, errno and path. The source address
 * and port, the pid, and the other strings are not compared: a flood from new source ports
 * or new processes is one record.
 *
 * The first event of a kind opens a 1-second window and is written at once (count 1).
 * Identical events before the window ends (now < open + 1000) are counted, not written.
 * When the window ends (ldm_fold_flush()), one record is emitted if there were repeats:
 * count = the repeats, ts, src, sport and pid of the last repeat, the rest of the first
 * event. So the counts written add up to the attempts made. The next identical event after
 * the window opens a new one and is written at once.
 *
 * Memory is bounded: CAPACITY windows, allocated once. When all are open, the oldest is
 * closed early (its record emitted) to make room. A string longer than its
 * LDM_EVENT_*_MAX is compared and kept cut to that length, as ldm_event_json() writes it.
 */
#ifndef LDM_LOGFOLD_H
#define LDM_LOGFOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "ldm/event.h"

#define LDM_FOLD_WINDOW_MS        1000
#define LDM_FOLD_DEFAULT_CAPACITY 4096
#define LDM_FOLD_MAX_CAPACITY     (1u << 20)

enum ldm_fold_verdict {
	LDM_FOLD_EMIT = 0,    /* write the event now */
	LDM_FOLD_COUNTED = 1, /* a repeat: counted into a later record, do not write it */
};

struct ldm_fold;

/*
 * Called with each record a closed window leaves; E is valid during the call only. It must
 * not call back into the table.
 */
typedef void (*ldm_fold_emit_fn)(const struct ldm_event *e, void *userdata);

/* Returns 0 and a new table of CAPACITY (1..LDM_FOLD_MAX_CAPACITY) windows, or -errno. */
int ldm_fold_new(size_t capacity, struct ldm_fold **ret);

/* Frees F without emitting anything (flush with ALL first). Takes NULL, returns NULL. */
struct ldm_fold *ldm_fold_free(struct ldm_fold *f);
static inline void
ldm_fold_freep(struct ldm_fold **f)
{
	ldm_fold_free(*f);
}

/*
 * Offers event E at monotonic time NOW_MS. Windows ended by NOW_MS are closed first, and
 * when the table is full the oldest window is closed early: both emit through EMIT. Returns
 * LDM_FOLD_EMIT (the caller writes E now) or LDM_FOLD_COUNTED (it does not).
 */
enum ldm_fold_verdict ldm_fold_offer(struct ldm_fold *f, const struct ldm_event *e, uint64_t now_ms,
                                     ldm_fold_emit_fn emit, void *userdata);

/*
 * Closes the windows that ended by NOW_MS (every window when ALL, at shutdown) and emits the
 * count record of each that had repeats. Returns the number of records emitted.
 */
size_t ldm_fold_flush(struct ldm_fold *f, uint64_t now_ms, bool all, ldm_fold_emit_fn emit,
                      void *userdata);

/*
 * Emits now the count record of every window of SESSION that has repeats (a session's
 * records are complete before its session_end). The windows stay open, emptied: a later
 * repeat is counted into them as usual. Returns the number of records emitted.
 */
size_t ldm_fold_flush_session(struct ldm_fold *f, uint64_t session, ldm_fold_emit_fn emit,
                              void *userdata);

/*
 * When the oldest open window ends (call ldm_fold_flush() then), or UINT64_MAX if none. That
 * window may have nothing to emit: the wake-up only frees it.
 */
uint64_t ldm_fold_next_deadline(const struct ldm_fold *f);

/* Open windows, and attempts counted but not yet emitted: for status and tests. */
size_t ldm_fold_open(const struct ldm_fold *f);
uint64_t ldm_fold_pending(const struct ldm_fold *f);

#endif
