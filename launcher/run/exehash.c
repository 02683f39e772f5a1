/*
 * The SHA-256 of the program ldm-run starts, for the session_start record (exe_sha256):
 * the file is opened once, judged by fstat() of that descriptor and hashed from it, so
 * the hash is of the inode opened, not of whatever a path names a moment later. The child
 * then executes that same descriptor (child.c, execveat AT_EMPTY_PATH), except a "#!"
 * script (its interpreter reopens it by path: a descriptor closed on exec cannot be
 * handed over) and an AppImage (ldm-run runs the AppRun it extracted from it).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ldm/logchain.h"
#include "ldm/util.h"
#include "run/run.h"

static void
md_freep(EVP_MD_CTX **p)
{
	EVP_MD_CTX_free(*p);
}

/* Hashes FD from its start to its end into HASH. */
static int
hash_fd(int fd, uint8_t hash[LDM_CHAIN_HASH_LEN])
{
	_cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	char buf[65536];
	unsigned len = 0;
	off_t off = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return -EIO;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			return -EIO;
		off += n;
	}
	if (EVP_DigestFinal_ex(md, hash, &len) != 1 || len != LDM_CHAIN_HASH_LEN)
		return -EIO;
	return 0;
}

int
ldm_run_exe_hash(const char *path, char hex[2 * LDM_CHAIN_HASH_LEN + 1], bool *ret_script)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	uint8_t hash[LDM_CHAIN_HASH_LEN];
	char magic[2] = { 0, 0 };
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES; /* what execve says of a directory or a device */
	r = hash_fd(fd, hash);
	if (r < 0)
		return r;
	ldm_chain_hex(hash, hex);
	*ret_script = pread(fd, magic, sizeof(magic), 0) == 2 && magic[0] == '#' && magic[1] == '!';
	return TAKE_FD(fd);
}

bool
ldm_run_kernel_at_least(const char *release, unsigned major, unsigned minor)
{
	unsigned a = 0, b = 0;

	if (sscanf(release, "%u.%u", &a, &b) != 2)
		return false; /* unknown: the older behaviour */
	return a > major || (a == major && b >= minor);
}

bool
ldm_run_exec_by_fd_ok(void)
{
	struct utsname u;

	return uname(&u) == 0 && ldm_run_kernel_at_least(u.release, 6, 14);
}
