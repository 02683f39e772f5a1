/*
 * AppImages (type 2): an ELF runtime with "AI\x02" at byte 8, followed by a squashfs image
 * that holds the application (AppDir, started through its AppRun). The runtime mounts the
 * image with the setuid fusermount, which a session forbids (no_new_privs, no mount), so
 * ldm-run extracts the image itself instead and runs AppRun. Pure: the header is read here,
 * the file by the caller.
 */
#ifndef LDM_APPIMAGE_H
#define LDM_APPIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define LDM_APPIMAGE_HEADER_MAX 64 /* bytes of the file the checks need */

enum ldm_appimage_kind {
	LDM_APPIMAGE_NONE = 0, /* not an AppImage */
	LDM_APPIMAGE_TYPE1 = 1,
	LDM_APPIMAGE_TYPE2 = 2,
};

/* What the first LEN bytes of a file (at most LDM_APPIMAGE_HEADER_MAX are looked at) say. */
enum ldm_appimage_kind ldm_appimage_kind(const uint8_t *head, size_t len);

/*
 * Where the squashfs image of a type-2 AppImage starts: the end of the runtime's ELF (its
 * section header table is the last thing in it), from the 64-bit little-endian ELF header
 * in HEAD (LEN bytes). FILE_SIZE is the whole file's. Returns 0 and the offset, -ENOTSUP for
 * an ELF class or byte order other than 64-bit little-endian, -EINVAL for a header whose
 * numbers do not fit the file.
 */
int ldm_appimage_payload_offset(const uint8_t *head, size_t len, uint64_t file_size, uint64_t *ret);

#endif
