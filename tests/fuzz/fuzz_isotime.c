/*
 * libFuzzer target: --since/--until times (isotime.h). Whatever is accepted is a time of
 * years 0000-9999 (give or take a day of zone offset).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64];
	int64_t ms;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ldm_isotime_parse(s, &ms) == 0 &&
	    (ms < INT64_C(-62167219200000) - 86400000 || ms > INT64_C(253402300800000) + 86400000))
		abort();
	return 0;
}
