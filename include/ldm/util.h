/* Small helpers shared by every part: scoped cleanup, strict number parsing. */
#ifndef LDM_UTIL_H
#define LDM_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f)    __attribute__((cleanup(f)))
#define _cleanup_free_  _cleanup_(ldm_freep)
#define _cleanup_close_ _cleanup_(ldm_closep)

/* Hands ownership of a pointer or fd out of a scoped variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

static inline void
ldm_freep(void *p)
{
	free(*(void **)p);
}

static inline void
ldm_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		(void)close(*fd);
		errno = saved;
	}
}

/*
 * Parses all of S as an unsigned decimal number no larger than MAX. Refuses signs, spaces,
 * empty strings, leading zeros of multi-digit numbers are accepted. Returns 0 or -EINVAL /
 * -ERANGE; writes *ret only on success.
 */
int ldm_parse_u64(const char *s, uint64_t max, uint64_t *ret);
int ldm_parse_u32(const char *s, uint32_t *ret);
int ldm_parse_u16(const char *s, uint16_t *ret);

/* Safe string copy: returns 0, or -ENAMETOOLONG (DST then holds a truncated, terminated copy). */
int ldm_strscpy(char *dst, size_t size, const char *src);

/*
 * Reads the small file PATH relative to DIRFD (a /proc or cgroup file; a final symlink is
 * refused) into BUF, at most SIZE - 1 bytes, NUL-terminated. Returns the length or -errno.
 */
int ldm_read_small_at(int dirfd, const char *path, char *buf, size_t size);

/*
 * mkdir -p: creates PATH (absolute) and the directories above it that are missing, each with
 * MODE (less the umask). An existing directory is fine. Returns 0 or -errno.
 */
int ldm_mkdir_p(const char *path, mode_t mode);

/* Writes PATH atomically and durably (a synced temporary file PATH.tmp renamed over it),
 * mode 0600, never through a symlink. Returns 0 or -errno. */
int ldm_write_file_atomic(const char *path, const char *text);

/* Monotonic milliseconds. */
uint64_t ldm_now_ms(void);

#endif
