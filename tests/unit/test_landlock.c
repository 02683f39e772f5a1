/*
 * The Landlock domain: the plan per ABI, and live children that enter it (as each ABI's
 * domain, where the kernel has that ABI) and check that renames across directories still
 * work while the parent, outside the domain, is out of reach (/proc/PID/mem, signals
 * with ABI 6+). Kernels without Landlock skip the live part.
 */
#include <errno.h>
#include <fcntl.h>
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

static void
test_plan(void **state)
{
	static const struct {
		int abi;
		bool enter, refer_rule;
		uint64_t handled_fs, scoped;
	} cases[] = {
		{ -38, false },
		{ 0, false },
		{ 1, false }, /* would break cross-directory renames */
		{ 2, true, true, LDM_LANDLOCK_ACCESS_FS_REFER, 0 },
		{ 5, true, true, LDM_LANDLOCK_ACCESS_FS_REFER, 0 },
		{ 6, true, false, 0,
		  LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LDM_LANDLOCK_SCOPE_SIGNAL },
		{ 9, true, false, 0,
		  LDM_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LDM_LANDLOCK_SCOPE_SIGNAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_landlock_plan p = ldm_landlock_plan(cases[i].abi);

		assert_int_equal(p.enter, cases[i].enter);
		assert_int_equal(p.refer_rule, cases[i].refer_rule);
		assert_true(p.handled_fs == cases[i].handled_fs);
		assert_true(p.scoped == cases[i].scoped);
	}
}

enum { C_OK = 0, C_NNP = 10, C_ENTER, C_RENAME, C_PROCMEM, C_KILL, C_WRITE };

/* Inside the domain: TMP/a/f moves to TMP/b/f; the parent PARENT is out of reach. */
static _Noreturn void
child(int abi, const char *tmp, pid_t parent)
{
	char from[128], to[128], env[64];
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(C_NNP);
	if (ldm_landlock_enter(abi) != 1)
		_exit(C_ENTER);
	snprintf(from, sizeof(from), "%s/a/f", tmp);
	snprintf(to, sizeof(to), "%s/b/f", tmp);
	if (rename(from, to) < 0)
		_exit(C_RENAME);
	fd = open(to, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		_exit(C_WRITE);
	close(fd);
	snprintf(env, sizeof(env), "/proc/%d/mem", (int)parent);
	fd = open(env, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		_exit(C_PROCMEM);
	if (abi >= 6 && (kill(parent, 0) == 0 || errno != EPERM))
		_exit(C_KILL);
	_exit(C_OK);
}

static void
run_live(int abi)
{
	char tmp[] = "/tmp/ldm-landlock-test.XXXXXX", p[128];
	int status, fd;
	pid_t pid;

	assert_non_null(mkdtemp(tmp));
	snprintf(p, sizeof(p), "%s/a", tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/b", tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/f", tmp);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(abi, tmp, getppid());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != C_OK)
		fail_msg("ABI %d domain: child status %#x", abi, status);
	snprintf(p, sizeof(p), "%s/b/f", tmp);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/a", tmp);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/b", tmp);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(rmdir(tmp), 0);
}

static void
test_live(void **state)
{
	int abi = ldm_landlock_abi();

	(void)state;
	if (abi < 0) {
		print_message("skipped: no Landlock here (%s)\n", strerror(-abi));
		return;
	}
	/* ABI 1 enters no domain; ABI 2 is the REFER variant, 6 the scoped one. */
	assert_int_equal(ldm_landlock_enter(1), 0);
	for (int a = 2; a <= abi && a <= 6; a += 4)
		run_live(a);
	if (abi < 6)
		print_message("skipped the ABI 6 domain: the kernel has ABI %d\n", abi);
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
