/*
 * The policy index's layout, private to the policy engine: policy_index.c builds it when a
 * policy is loaded, policy_judge.c looks flows and names up in it. The lookups are inline:
 * they run for every judged packet.
 */
#ifndef LDM_POLICY_INDEX_H
#define LDM_POLICY_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LDM_INDEX_END UINT32_MAX /* no link: an empty slot, the end of a chain */

struct link {
	uint32_t value; /* a rule, dns_allow or known index */
	uint32_t next;
};

struct addr_slot {
	uint32_t head; /* END: empty */
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];
};

struct str_slot {
	const char *key; /* borrowed from the policy; NULL: empty */
	uint32_t head;
};

struct str_table {
	struct str_slot *slots;
	size_t mask;
};

struct ldm_policy_index {
	struct addr_slot *aslots;
	size_t amask;
	uint8_t plens4[33], plens6[129]; /* prefix lengths in use, longest first */
	size_t n_plens4, n_plens6;
	struct str_table hosts, dns, known;
	struct link *links;
	size_t n_links, cap_links;
	uint32_t *lan, *bcast; /* rule indexes */
	size_t n_lan, n_bcast;
};

static inline uint64_t
ldm_index_fnv1a(const void *data, size_t len, uint64_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static inline void
ldm_index_mask_addr(const uint8_t *addr, unsigned plen, uint8_t out[16])
{
	unsigned full = plen / 8, rest = plen % 8;

	memset(out, 0, 16);
	memcpy(out, addr, full);
	if (rest != 0)
		out[full] = addr[full] & (uint8_t)(0xff00 >> rest);
}

static inline size_t
ldm_index_addr_hash(uint8_t family, uint8_t plen, const uint8_t addr[16])
{
	uint8_t key[18] = { family, plen };

	memcpy(key + 2, addr, 16);
	return (size_t)ldm_index_fnv1a(key, sizeof(key), UINT64_C(0xcbf29ce484222325));
}

/* Finds the slot for a key: its own if present, else the empty one where it would go. */
static inline struct addr_slot *
ldm_index_addr_find(const struct ldm_policy_index *ix, uint8_t family, uint8_t plen,
                    const uint8_t masked[16])
{
	size_t i = ldm_index_addr_hash(family, plen, masked) & ix->amask;

	for (;;) {
		struct addr_slot *s = &ix->aslots[i];

		if (s->head == LDM_INDEX_END ||
		    (s->family == family && s->plen == plen && memcmp(s->addr, masked, 16) == 0))
			return s;
		i = (i + 1) & ix->amask;
	}
}

static inline struct str_slot *
ldm_index_str_find(const struct str_table *t, const char *key)
{
	size_t i =
	        (size_t)ldm_index_fnv1a(key, strlen(key), UINT64_C(0xcbf29ce484222325)) & t->mask;

	for (;;) {
		struct str_slot *s = &t->slots[i];

		if (s->key == NULL || strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & t->mask;
	}
}

#endif
