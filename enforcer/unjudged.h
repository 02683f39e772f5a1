/*
 * The packets the kernel dropped, unjudged, while no daemon was bound to the queue: counted
 * per session slot by LDM-GUARD's LDM_UNJUDGED_COMMENT<slot> rules (see ruleset.h) and read
 * back from `iptables-save -c` by the next daemon before its first commit resets them.
 */
#ifndef LDM_UNJUDGED_H
#define LDM_UNJUDGED_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads `iptables-save -c` output TEXT (LEN bytes, NUL not needed): for every line
 * "[PACKETS:BYTES] -A LDM-GUARD ... LDM_UNJUDGED_COMMENT<slot> ..." with a slot of 1 to
 * N_COUNTS - 1, adds PACKETS to COUNTS[slot] (saturating). Other lines are ignored, as are
 * such lines without a counter (iptables-save without -c). Returns how many counted lines
 * were found, or -EINVAL for one whose counter or slot is malformed (COUNTS may then hold
 * what the lines before it added).
 */
int ldm_unjudged_parse(const char *text, size_t len, uint64_t *counts, size_t n_counts);

#endif
