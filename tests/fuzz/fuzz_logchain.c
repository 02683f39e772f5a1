/*
 * libFuzzer target: the log chain's reader on arbitrary lines, as a damaged or forged log
 * could hold them. Checks: a line that splits gives a record inside the line that ends
 * where the chain keys start, unsealing agrees with splitting, and sealing that record
 * again after the same head gives back the same line (the reader is exactly the writer's
 * inverse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/logchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[LDM_LOG_LINE_MAX], body[LDM_LOG_LINE_MAX];
	uint8_t prev[LDM_CHAIN_HASH_LEN];
	struct ldm_chain c = { 0 };
	uint64_t seq;
	size_t blen;
	int n;

	if (size >= sizeof(line) - LDM_CHAIN_SEAL_MAX)
		return 0;
	memcpy(line, data, size);
	(void)ldm_chain_check(&c, line, size);
	if (ldm_chain_split(line, size, &blen, &seq, prev) < 0)
		return 0;
	if (blen == 0 || blen >= size || seq == 0 || line[0] != '{')
		abort();
	n = ldm_chain_unseal(line, size, body, sizeof(body));
	if (n != (int)blen + 1 || memcmp(body, line, blen) != 0 || body[blen] != '}')
		abort();
	c = (struct ldm_chain){ .seq = seq - 1 };
	memcpy(c.head, prev, sizeof(prev));
	n = ldm_chain_seal(&c, body, (size_t)n, sizeof(body));
	if (n < 0)
		abort();
	/* the same line, but for a final "\n" the input may have had */
	if ((size_t)n != size - (line[size - 1] == '\n') || memcmp(body, line, (size_t)n) != 0)
		abort();
	return 0;
}
