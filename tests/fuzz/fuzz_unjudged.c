/*
 * libFuzzer target: the unjudged-drop counters of `iptables-save -c` output. Besides the
 * sanitizers, it checks that only slots 1..N-1 are touched and that a second parse of the
 * same text adds the same amounts again (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unjudged.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t a[N + 1] = { 0 }, b[N + 1] = { 0 };
	int ra = ldm_unjudged_parse((const char *)data, size, a, N);
	int rb = ldm_unjudged_parse((const char *)data, size, b, N);

	if (ra != rb || memcmp(a, b, sizeof(a)) != 0)
		abort();
	if (a[0] != 0 || a[N] != 0) /* slot 0 and past the end: never written */
		abort();
	return 0;
}
