/* iptables-save's text, scanned for the chains and jumps of ours (ipt.c). */
#ifndef LDM_IPT_H
#define LDM_IPT_H

#include <stddef.h>

/* What iptables-save says about one table. */
struct ldm_ipt_table {
	char **chains; /* LDM- chains present */
	size_t n_chains;
	int jump_output;       /* position of "-A OUTPUT -j LDM-*" in OUTPUT: 0 none, 1 first */
	int jump_postrouting;  /* likewise in POSTROUTING */
	int jump_input;        /* likewise in INPUT */
	size_t n_output_jumps; /* how many OUTPUT rules jump to our chain (duplicates) */
	size_t n_postrouting_jumps;
	size_t n_input_jumps;
};

/* Scans iptables-save output TEXT for table TABLE ("mangle", "filter"); JUMP_CHAIN is our
 * chain jumped to from OUTPUT ("LDM-OUT" / "LDM-GUARD"), POST_CHAIN from POSTROUTING and
 * IN_CHAIN from INPUT (or NULL). Returns 0 or -ENOMEM/-E2BIG. */
int ldm_ipt_scan(const char *text, const char *table, const char *jump_chain,
                 const char *post_chain, const char *in_chain, struct ldm_ipt_table *ret);
void ldm_ipt_table_clear(struct ldm_ipt_table *t);

#endif
