/*
 * Absolute ISO 8601 times as `ldmctl log --since/--until` take them, in the form of the
 * log records' `ts` or shorter: "2026-11-25", "2026-11-25T02:14", "2026-11-25T02:14:29",
 * "2026-11-25T02:14:29.123", each with "Z" or an offset "+02:00"/"-05:30" (a date alone is
 * midnight UTC; a time without a zone is refused: a log merged from laptops in different
 * zones must not be cut at a guess). Pure.
 */
#ifndef LDM_ISOTIME_H
#define LDM_ISOTIME_H

#include <stdint.h>

/*
 * Parses S (all of it) into milliseconds since the epoch (UTC). Years 0000-9999, real
 * dates only (no 02-30), seconds 00-59, 1-3 fraction digits, offsets up to 23:59.
 * Returns 0, or -EINVAL with *RET_MS untouched.
 */
int ldm_isotime_parse(const char *s, int64_t *ret_ms);

#endif
