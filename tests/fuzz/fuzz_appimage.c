/*
 * libFuzzer target: the AppImage header checks on arbitrary bytes, as a hostile file could
 * hold them, with the file size taken from the input too. A payload offset that is returned
 * must lie inside the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/appimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t file_size = 0, off;

	if (size < 8)
		return 0;
	memcpy(&file_size, data, 8);
	data += 8;
	size -= 8;
	(void)ldm_appimage_kind(data, size);
	if (ldm_appimage_payload_offset(data, size, file_size, &off) == 0 && off >= file_size)
		abort();
	return 0;
}
