/* The mark bits: approved, reject, reply and the session slot, carved out of one mask. */
#include <errno.h>

#include "marks.h"

int
ldm_marks_init(uint32_t mask, struct ldm_marks *ret)
{
	struct ldm_marks m = { .mask = mask };
	unsigned shift, bits;
	uint32_t low;

	if (mask == 0)
		return -EINVAL;
	shift = (unsigned)__builtin_ctz(mask);
	low = mask >> shift;
	if ((low & (low + 1)) != 0) /* not contiguous */
		return -EINVAL;
	bits = (unsigned)__builtin_popcount(mask);
	if (bits < 5)
		return -EINVAL;
	m.approved = 1u << (shift + bits - 1);
	m.reject = m.approved >> 1;
	m.reply = m.approved >> 2;
	m.slot_mask = mask & ~(m.approved | m.reject | m.reply);
	m.slot_shift = shift;
	m.max_slots = (unsigned)(m.slot_mask >> shift);
	*ret = m;
	return 0;
}

uint32_t
ldm_marks_slot(const struct ldm_marks *m, unsigned slot)
{
	if (slot < 1 || slot > m->max_slots)
		return 0;
	return (uint32_t)slot << m->slot_shift;
}

unsigned
ldm_marks_slot_of(const struct ldm_marks *m, uint32_t mark)
{
	return (unsigned)((mark & m->slot_mask) >> m->slot_shift);
}
