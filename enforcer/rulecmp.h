/*
 * The tamper check's comparison: does the kernel hold, rule by rule, the LDM- rules that
 * were committed? Pure: both sides are texts (our iptables-restore input, and
 * iptables-save's output of the same tables).
 */
#ifndef LDM_RULECMP_H
#define LDM_RULECMP_H

#include <stddef.h>

/*
 * Compares the rules of every LDM- chain ("-A LDM-..." lines, per table) in COMMITTED and in
 * SAVED, in order. Each rule is normalised first, so that what iptables-save prints for a
 * rule equals the text that made it: counters, quoting, implicit -m tcp/udp/icmp, hex
 * spelling (leading zeros, case), /32 and /128 on single addresses, and the order of the
 * address part, of matches and of options within a match or target. Other lines (chain
 * declarations, jumps from built-in chains, -X, comments) are ignored. Returns 0 when
 * every chain holds the same rules in the same order, 1 when not (DIFF, if not NULL, gets
 * a one-line description of the first difference), -ENOMEM, or -EINVAL for a NULL text.
 */
int ldm_rules_compare(const char *committed, const char *saved, char *diff, size_t diff_size);

#endif
