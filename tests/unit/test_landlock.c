/*
 * The Landlock write scope: the plan per ABI, and live children that enter each ABI's
 * domain the kernel has (1, 2, 3, 6 and the kernel's own) with one directory in scope,
 * then try writes inside and outside it, renames and links across its border, and that the
 * parent, outside the domain, is out of reach (truncate(2) is the supervisor's: not here).
 * A kernel without Landlock fails the live test in CI (CI=true); elsewhere it is reported
 * as skipped (lacks.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/landlock.h"
#include "ldm/util.h"
#include "lacks.h"

#define W1                                                                                         \
	(LDM_LANDLOCK_ACCESS_FS_WRITE_FILE | LDM_LANDLOCK_ACCESS_FS_REMOVE_DIR |                   \
	 LDM_LANDLOCK_ACCESS_FS_REMOVE_FILE | LDM_LANDLOCK_ACCESS_FS_MAKE_CHAR |                   \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_DIR | LDM_LANDLOCK_ACCESS_FS_MAKE_REG |                       \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_SOCK | LDM_LANDLOCK_ACCESS_FS_MAKE_FIFO |                     \
	 LDM_LANDLOCK_ACCESS_FS_MAKE_BLOCK | LDM_LANDLOCK_ACCESS_FS_MAKE_SYM)
#define REFER  LDM_LANDLOCK_ACCESS_FS_REFER
#define TRUNC  LDM_LANDLOCK_ACCESS_FS_TRUNCATE
#define WF     LDM_LANDLOCK_ACCESS_FS_WRITE_FILE
#define SCOPES (LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LDM_LANDLOCK_SCOPE_SIGNAL)

static void
test_plan(void **state)
{
	static const struct {
		int abi;
		bool enter;
		uint64_t handled_fs, dev_fs, scoped;
	} cases[] = {
		{ -38, false, 0, 0, 0 },
		{ 0, false, 0, 0, 0 },
		{ 1, true, W1, WF, 0 },
		{ 2, true, W1 | REFER, WF, 0 },
		/* TRUNCATE (3) would cost every open a path walk; IOCTL_DEV (5) would break
		 * tty ioctls: neither is handled. */
		{ 3, true, W1 | REFER, WF, 0 },
		{ 5, true, W1 | REFER, WF, 0 },
		{ 6, true, W1 | REFER, WF, SCOPES },
		{ 9, true, W1 | REFER, WF, SCOPES },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_landlock_plan p = ldm_landlock_plan(cases[i].abi);

		assert_int_equal(p.enter, cases[i].enter);
		assert_true(p.handled_fs == cases[i].handled_fs);
		assert_true(p.dev_fs == cases[i].dev_fs);
		assert_true(p.scoped == cases[i].scoped);
		/* Reads, TRUNCATE and IOCTL_DEV are never handled. */
		assert_true((p.handled_fs &
		             ((1u << 0) | (1u << 2) | (1u << 3) | TRUNC | (1u << 15))) == 0);
	}
	assert_int_equal(ldm_landlock_enter(0, NULL, 0, NULL), -EOPNOTSUPP);
}

enum {
	C_OK = 0,
	C_NNP = 10,
	C_ENTER,
	C_IN_WRITE,
	C_OUT_WRITE,
	C_OUT_CREATE,
	C_RENAME_IN,
	C_RENAME_OUT,
	C_LINK_OUT,
	C_LINK_IN,
	C_READ,
	C_DEVNULL,
	C_PROCMEM,
	C_KILL,
	C_SYMLINK_DIR,
};

static char *
pj(char *buf, size_t size, const char *a, const char *b)
{
	snprintf(buf, size, "%s/%s", a, b);
	return buf;
}

/* A write that must fail with Landlock's EACCES (or EXDEV for links and renames). */
static bool
refused(int r, int err)
{
	return r < 0 && (err == EACCES || err == EXDEV);
}

/*
 * Inside the domain: TMP/in is the scope, TMP/out is not, TMP/lnk is a symlink to TMP/out
 * that the scope also names (left out: symlinks are never granted).
 */
static _Noreturn void
child(int abi, const char *tmp, pid_t parent)
{
	char in[256], out[256], lnk[256], a[300], b[300];
	const char *paths[2];
	char buf[8];
	int fd;

	pj(in, sizeof(in), tmp, "in");
	pj(out, sizeof(out), tmp, "out");
	pj(lnk, sizeof(lnk), tmp, "lnk");
	paths[0] = in;
	paths[1] = lnk;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(C_NNP);
	if (ldm_landlock_enter(abi, paths, 2, NULL) != 1)
		_exit(C_ENTER);
	/* Inside: create, write, rename across its own directories (EXDEV on ABI 1). */
	fd = open(pj(a, sizeof(a), in, "a/new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		_exit(C_IN_WRITE);
	close(fd);
	fd = rename(a, pj(b, sizeof(b), in, "b/new"));
	if (abi >= 2 ? fd < 0 : !refused(fd, errno))
		_exit(C_RENAME_IN);
	/* Outside: no write, no create, nothing moved or linked across the border. */
	fd = open(pj(a, sizeof(a), out, "f"), O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		_exit(C_OUT_WRITE);
	fd = open(pj(a, sizeof(a), out, "g"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EACCES)
		_exit(C_OUT_CREATE);
	if (!refused(rename(pj(a, sizeof(a), in, "keep"), pj(b, sizeof(b), out, "keep")), errno))
		_exit(C_RENAME_OUT);
	if (!refused(link(pj(a, sizeof(a), in, "keep"), pj(b, sizeof(b), out, "k2")), errno))
		_exit(C_LINK_OUT);
	if (!refused(link(pj(a, sizeof(a), out, "f"), pj(b, sizeof(b), in, "f2")), errno))
		_exit(C_LINK_IN);
	if (symlink("x", pj(a, sizeof(a), lnk, "s")) == 0 || errno != EACCES)
		_exit(C_SYMLINK_DIR);
	/* Reading and /dev/null (O_TRUNC as a shell's '>' does) as before. */
	fd = open(pj(a, sizeof(a), out, "f"), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		_exit(C_READ);
	close(fd);
	fd = open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		_exit(C_DEVNULL);
	close(fd);
	snprintf(a, sizeof(a), "/proc/%d/mem", (int)parent);
	fd = open(a, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		_exit(C_PROCMEM);
	if (abi >= 6 && (kill(parent, 0) == 0 || errno != EPERM))
		_exit(C_KILL);
	_exit(C_OK);
}

static void
mk(const char *tmp, const char *rel, bool dir)
{
	char p[300];
	int fd;

	pj(p, sizeof(p), tmp, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0700), 0);
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data\n", 5), 5);
	close(fd);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
run_live(int abi)
{
	char tmp[] = "/tmp/ldm-landlock-test.XXXXXX", p[300], q[300];
	struct stat st;
	int status;
	pid_t pid;

	assert_non_null(mkdtemp(tmp));
	mk(tmp, "in", true);
	mk(tmp, "in/a", true);
	mk(tmp, "in/b", true);
	mk(tmp, "in/keep", false);
	mk(tmp, "out", true);
	mk(tmp, "out/f", false);
	assert_int_equal(symlink(pj(p, sizeof(p), tmp, "out"), pj(q, sizeof(q), tmp, "lnk")), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(abi, tmp, getppid());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != C_OK)
		fail_msg("ABI %d domain: child status %#x", abi, status);
	/* Judged from outside too: the files outside the scope are as they were. */
	assert_int_equal(stat(pj(p, sizeof(p), tmp, "out/f"), &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(stat(pj(p, sizeof(p), tmp, "in/keep"), &st), 0);
	assert_int_equal(access(pj(p, sizeof(p), tmp, "out/keep"), F_OK), -1);
	assert_int_equal(access(pj(p, sizeof(p), tmp, "out/g"), F_OK), -1);
	assert_int_equal(nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void
test_live(void **state)
{
	static const int abis[] = { 1, 2, 3, 6 };
	int abi = ldm_landlock_abi();

	(void)state;
	if (abi < 0) {
		ldm_test_lacks("landlock live: no Landlock on this kernel (%s)", strerror(-abi));
		skip();
	}
	for (size_t i = 0; i < ELEMENTSOF(abis); i++)
		if (abis[i] <= abi)
			run_live(abis[i]);
	run_live(abi);
	/* An older ABI is a kernel ldm-run supports (it plans per ABI): said, not failed. */
	if (abi < 6)
		print_message("[ SKIPPED  ] the ABI 6 domain: the kernel has ABI %d\n", abi);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests_name("landlock", tests, NULL, NULL);
}
