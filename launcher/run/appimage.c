/*
 * AppImages under ldm-run. A type-2 AppImage mounts its own image through the setuid
 * fusermount, which a session forbids (no_new_privs, mount refused), so ldm-run extracts the
 * image with unsquashfs into a per-user cache, $XDG_CACHE_HOME/ldm/appimage/KEY (KEY: a hash
 * of the file's path, device, inode, size and modification time, so an unchanged file is
 * extracted once and a changed one again), and runs its AppRun, with APPIMAGE, APPDIR and
 * ARGV0 set as the AppImage runtime sets them. The extraction runs inside the session,
 * before the sandbox closes; the cache is not in any write scope, so the app cannot change
 * what a later launch runs.
 *
 * Trust: the AppImage is the app's: its header is checked by ldm_appimage_payload_offset(),
 * on the descriptor ldm-run hashed for exe_sha256 (exehash.c), refused when the path no
 * longer names that inode; unsquashfs reads exactly that file (through /proc/self/fd), and a cache
 * entry counts only once it is complete (extracted into a temporary directory, then
 * renamed).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ldm/appimage.h"
#include "ldm/logchain.h"
#include "ldm/util.h"
#include "run/run.h"

extern char **environ;

/* $XDG_CACHE_HOME/ldm/appimage, or HOME/.cache/ldm/appimage of the passwd entry. */
static int
cache_base(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/ldm/appimage", xdg);
	else if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL &&
	         pw.pw_dir[0] == '/')
		n = snprintf(buf, size, "%s/.cache/ldm/appimage", pw.pw_dir);
	else
		return -ENOENT;
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* The cache key: SHA-256 over what identifies this version of the file, 32 hex digits. */
static int
cache_key(const char *real, const struct stat *st, char key[33])
{
	uint8_t h[LDM_CHAIN_HASH_LEN];
	char text[PATH_MAX + 128], hex[2 * LDM_CHAIN_HASH_LEN + 1];
	int n = snprintf(text, sizeof(text), "%s\n%ju\n%ju\n%jd\n%jd.%09ld", real,
	                 (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, (intmax_t)st->st_size,
	                 (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);

	if (n < 0 || (size_t)n >= sizeof(text) || ldm_chain_hash(text, (size_t)n, h) < 0)
		return -EINVAL;
	ldm_chain_hex(h, hex);
	memcpy(key, hex, 32);
	key[32] = '\0';
	return 0;
}

/* Runs unsquashfs on FD (the checked file) from OFFSET into DEST; 0 when it succeeded. */
static int
extract(int fd, uint64_t offset, const char *dest)
{
	char src[64], off[32];
	char *argv[] = { "unsquashfs", "-no-progress", "-quiet",     "-no-xattrs", "-o",
		         off,          "-d",           (char *)dest, src,          NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	/* FD becomes fd 3 of unsquashfs (dup2 drops CLOEXEC there), read through /proc. */
	(void)snprintf(src, sizeof(src), "/proc/self/fd/%d", 3);
	(void)snprintf(off, sizeof(off), "%" PRIu64, offset);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	/* stdout to /dev/null: unsquashfs prints a summary; errors stay on stderr */
	if (posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, fd, 3) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	r = posix_spawnp(&pid, "unsquashfs", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Fills DIR with the extracted image of the file open on FD, once. */
static int
ensure_extracted(int fd, uint64_t offset, const char *dir)
{
	char tmp[PATH_MAX + 64], root[PATH_MAX + 72], done[PATH_MAX + 80];
	int r;

	(void)snprintf(done, sizeof(done), "%s/root/AppRun", dir);
	if (access(done, X_OK) == 0)
		return 0; /* extracted before: a complete entry is only ever renamed into place */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (mkdtemp(tmp) == NULL)
		return -errno;
	(void)snprintf(root, sizeof(root), "%s/root", tmp);
	r = extract(fd, offset, root);
	if (r == 0 && rename(tmp, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		r = -errno;
	/* A failed extraction leaves nothing; nor does one that lost the race to another
	 * launch of the same file (whose entry is as good). */
	if (access(tmp, F_OK) == 0)
		(void)nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}

/* The AppImage at PATH is still the inode hashed (open on FD)? -ESTALE after saying so. */
static int
still_hashed(int fd, const char *path, struct stat *ret_st)
{
	struct stat now;

	if (fstat(fd, ret_st) < 0 || !S_ISREG(ret_st->st_mode))
		return -EINVAL;
	if (stat(path, &now) == 0 && now.st_dev == ret_st->st_dev && now.st_ino == ret_st->st_ino)
		return 0;
	fprintf(stderr,
	        "ldm-run: %s was replaced after ldm-run hashed it; the program was not "
	        "started\n",
	        path);
	return -ESTALE;
}

int
ldm_run_appimage_prepare(int fd, char *path, size_t size, const char *argv0)
{
	uint8_t head[LDM_APPIMAGE_HEADER_MAX], magic[4];
	char real[PATH_MAX], base[PATH_MAX], dir[PATH_MAX + 40], key[33];
	enum ldm_appimage_kind kind;
	struct stat st;
	uint64_t offset;
	ssize_t n;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* not a file we can read: exec says what is wrong */
	n = pread(fd, head, sizeof(head), 0);
	kind = ldm_appimage_kind(head, n > 0 ? (size_t)n : 0);
	if (kind == LDM_APPIMAGE_NONE)
		return 0;
	if (kind == LDM_APPIMAGE_TYPE1) {
		fprintf(stderr,
		        "ldm-run: %s is a type-1 AppImage (an ISO image), which ldm-run "
		        "cannot run; use a type-2 AppImage or the extracted program\n",
		        path);
		return -ENOTSUP;
	}
	r = ldm_appimage_payload_offset(head, (size_t)n, (uint64_t)st.st_size, &offset);
	if (r == 0 && (pread(fd, magic, 4, (off_t)offset) != 4 || memcmp(magic, "hsqs", 4) != 0))
		r = -EINVAL;
	if (r < 0) {
		fprintf(stderr, "ldm-run: %s: %s\n", path,
		        r == -ENOTSUP
		                ? "an AppImage for another architecture (only x86-64 and "
		                  "other 64-bit little-endian runtimes are supported)"
		                : "not a valid AppImage: no squashfs image after its runtime");
		return r;
	}
	/* Read from the hashed descriptor; the path names it still (APPIMAGE, the key). */
	r = still_hashed(fd, path, &st);
	if (r < 0)
		return r;
	if (realpath(path, real) == NULL || cache_base(base, sizeof(base)) < 0 ||
	    ldm_mkdir_p(base, 0700) < 0 || cache_key(real, &st, key) < 0) {
		fprintf(stderr, "ldm-run: %s: cannot prepare the AppImage cache: %s\n", path,
		        strerror(errno != 0 ? errno : EINVAL));
		return -EIO;
	}
	(void)snprintf(dir, sizeof(dir), "%s/%s", base, key);
	r = ensure_extracted(fd, offset, dir);
	if (r < 0) {
		fprintf(stderr, "ldm-run: %s: cannot extract the AppImage into %s: %s%s\n", path,
		        base, strerror(-r),
		        r == -ENOENT ? " (is unsquashfs installed? Debian: squashfs-tools)" : "");
		return r;
	}
	/* What the AppImage runtime sets for the app (AppImage specification). */
	if (setenv("APPIMAGE", real, 1) < 0 || setenv("ARGV0", argv0, 1) < 0 ||
	    snprintf(path, size, "%s/root", dir) >= (int)size || setenv("APPDIR", path, 1) < 0 ||
	    snprintf(path, size, "%s/root/AppRun", dir) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}
