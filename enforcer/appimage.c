/* AppImage headers (include/ldm/appimage.h). Pure; every number is checked against the
 * file's size, since the file is the app's, not ours. */
#include <errno.h>
#include <string.h>

#include "ldm/appimage.h"

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

enum ldm_appimage_kind
ldm_appimage_kind(const uint8_t *head, size_t len)
{
	if (len < 11 ||
	    memcmp(head,
	           "\x7f"
	           "ELF",
	           4) != 0 ||
	    head[8] != 'A' || head[9] != 'I')
		return LDM_APPIMAGE_NONE;
	if (head[10] == 1)
		return LDM_APPIMAGE_TYPE1;
	if (head[10] == 2)
		return LDM_APPIMAGE_TYPE2;
	return LDM_APPIMAGE_NONE;
}

int
ldm_appimage_payload_offset(const uint8_t *head, size_t len, uint64_t file_size, uint64_t *ret)
{
	uint64_t shoff, shentsize, shnum, end;

	if (len < 64)
		return -EINVAL;
	if (head[4] != 2 /* ELFCLASS64 */ || head[5] != 1 /* ELFDATA2LSB */)
		return -ENOTSUP;
	shoff = le(head + 0x28, 8);
	shentsize = le(head + 0x3a, 2);
	shnum = le(head + 0x3c, 2);
	if (shoff == 0 || shentsize == 0 || shnum == 0 || shoff > file_size)
		return -EINVAL;
	end = shoff + shentsize * shnum; /* at most 2^64 - 1 + 65535^2: checked below */
	if (end < shoff || end >= file_size)
		return -EINVAL;
	*ret = end;
	return 0;
}
