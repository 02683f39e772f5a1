/*
 * libFuzzer target: the tamper check's comparison on arbitrary texts (the kernel side is
 * iptables-save output). The input is split at its first NUL byte into the committed and
 * the saved text. Besides the sanitizers: a text always equals itself (or is refused the
 * same way twice), and the answer is 0, 1 or a negative errno.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rulecmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size + 1), *b;
	const uint8_t *nul = memchr(data, 0, size);
	size_t na = nul != NULL ? (size_t)(nul - data) : size;
	char diff[128];
	int r1, r2, r3;

	if (a == NULL)
		return 0;
	memcpy(a, data, na);
	a[na] = '\0';
	b = malloc(size - na + 1);
	if (b == NULL) {
		free(a);
		return 0;
	}
	if (nul != NULL) {
		memcpy(b, nul + 1, size - na - 1);
		b[size - na - 1] = '\0';
	} else {
		b[0] = '\0';
	}
	r1 = ldm_rules_compare(a, b, diff, sizeof(diff));
	r2 = ldm_rules_compare(a, a, diff, sizeof(diff));
	r3 = ldm_rules_compare(a, a, NULL, 0);
	if (r1 > 1 || r2 > 0 || r2 != r3 || strlen(diff) >= sizeof(diff))
		abort();
	free(a);
	free(b);
	return 0;
}
