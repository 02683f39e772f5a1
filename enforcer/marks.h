/* The packet and connection mark bits the ruleset and the enforcer share (marks.c). */
#ifndef LDM_MARKS_H
#define LDM_MARKS_H

#include <stdint.h>

#define LDM_DEFAULT_MARK_MASK 0x0ff00000u

/*
 * How the mark bits are used: the top bit of the mask approves (A), the next rejects (R),
 * the next says "reply direction" (D), the rest number the session slot (1..max_slots):
 * 0x0ff00000 gives 31 slots.
 */
struct ldm_marks {
	uint32_t mask;
	uint32_t approved;
	uint32_t reject;
	uint32_t reply;
	uint32_t slot_mask;
	unsigned slot_shift;
	unsigned max_slots;
};

/* Derives the bits from MASK: contiguous, at least 5 bits. Returns 0 or -EINVAL. */
int ldm_marks_init(uint32_t mask, struct ldm_marks *ret);
/* The mark value of SLOT (1..max_slots), or 0 if out of range. */
uint32_t ldm_marks_slot(const struct ldm_marks *m, unsigned slot);
/* The slot a packet mark names, or 0. */
unsigned ldm_marks_slot_of(const struct ldm_marks *m, uint32_t mark);

#endif
