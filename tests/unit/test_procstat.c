/* The /proc parsers for pids and process status (enforcer/procparse.c): cgroup.procs, /proc/PID/stat. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "procparse.h"

#define HOST_MI                                                                                    \
	"24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"                                            \
	"30 24 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"                                        \
	"41 30 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"

static void
test_cgroup2_root(void **state)
{
	static const struct {
		const char *text, *mnt;
		int rc;
		const char *root;
	} cases[] = {
		{ HOST_MI, "/sys/fs/cgroup/unified", 0, "/" },
		/* a cgroup bound over the mount point: the later mount hides the first */
		{ HOST_MI "90 41 0:38 /ldm-view /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
		  "/sys/fs/cgroup/unified", 0, "/ldm-view" },
		/* another namespace's root, shown relative to ours; octal escapes decoded */
		{ "5 1 0:38 /../a\\040b /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup",
		  0, "/../a b" },
		{ HOST_MI, "/sys/fs/cgroup", -ENOENT, NULL }, /* tmpfs there, not cgroup2 */
		{ "41 30 0:38 / /x rw - cgroup2", "/sys/fs/cgroup/unified", -ENOENT, NULL },
		{ "41 30 0:38 / /sys/fs/cgroup/unified rw cgroup2\n", "/sys/fs/cgroup/unified",
		  -ENOENT, NULL }, /* no " - " separator */
		{ "", "/sys/fs/cgroup", -ENOENT, NULL },
		{ "41 30", "/sys/fs/cgroup", -ENOENT, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[64] = "untouched";
		int rc = ldm_procparse_cgroup2_root(cases[i].text, cases[i].mnt, buf, sizeof(buf));

		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		assert_string_equal(buf, rc == 0 ? cases[i].root : "untouched");
	}
}

static void
test_cgroup2_root_long(void **state)
{
	char text[8192], buf[16] = "untouched";
	int n = snprintf(text, sizeof(text), "41 30 0:38 /%0200d /m rw - cgroup2 cgroup2 rw\n", 0);

	(void)state;
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(ldm_procparse_cgroup2_root(text, "/m", buf, sizeof(buf)), -ENAMETOOLONG);
}

static void
test_pid_list(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int pids[3];
	} cases[] = {
		{ "", 0, { 0 } },
		{ "1\n", 1, { 1 } },
		{ "12\n4194304\n7", 3, { 12, 4194304, 7 } },
		{ "1\n2\n3\n4\n", -E2BIG, { 1, 2, 3 } }, /* more than the 3 asked for */
		{ "0\n", -EINVAL, { 0 } },
		{ "4194305\n", -EINVAL, { 0 } },
		{ "1\n\n2\n", -EINVAL, { 0 } },
		{ " 1\n", -EINVAL, { 0 } },
		{ "+1\n", -EINVAL, { 0 } },
		{ "1x\n", -EINVAL, { 0 } },
		{ "99999999999999999999\n", -EINVAL, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int pids[3] = { 0 };
		int rc = ldm_procparse_pid_list(cases[i].text, pids, 3);

		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		for (int k = 0; k < (rc >= 0 ? rc : rc == -E2BIG ? 3 : 0); k++)
			assert_int_equal(pids[k], cases[i].pids[k]);
	}
}

#define STAT_TAIL "1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 1 1\n"

static void
test_proc_stat(void **state)
{
	static const struct {
		const char *text;
		int rc;
		char state;
		uint64_t start;
		const char *comm;
	} cases[] = {
		{ "4242 (sleep) S " STAT_TAIL, 0, 'S', 987654, "sleep" },
		/* a name with ") " in it: the fields start after the last ')' */
		{ "4242 (a) R 1 (b) S " STAT_TAIL, 0, 'S', 987654, "a) R 1 " }, /* cut to 7 */
		{ "4242 (a very long process name) Z " STAT_TAIL, 0, 'Z', 987654, "a very " },
		{ "4242 () X " STAT_TAIL, 0, 'X', 987654, "" },
		{ "4242 sleep S " STAT_TAIL, -EINVAL, 0, 0, NULL },  /* no parentheses */
		{ "4242 (sleep)S " STAT_TAIL, -EINVAL, 0, 0, NULL }, /* no space */
		{ "4242 (sleep) S 1 2 3\n", -EINVAL, 0, 0, NULL },   /* too few fields */
		{ "4242 (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 1\n", -EINVAL, 0,
		  0, NULL }, /* start not a number */
		{ "4242 (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18  1\n", -EINVAL, 0, 0,
		  NULL }, /* empty field */
		{ "", -EINVAL, 0, 0, NULL },
		{ ")(", -EINVAL, 0, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char comm[8] = "keep", st = '?';
		uint64_t start = 1;
		int rc = ldm_procparse_stat(cases[i].text, &st, &start, comm, sizeof(comm));

		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		assert_int_equal(st, rc == 0 ? cases[i].state : '?');
		assert_int_equal(start, rc == 0 ? cases[i].start : 1);
		assert_string_equal(comm, rc == 0 ? cases[i].comm : "keep");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup2_root),
		cmocka_unit_test(test_cgroup2_root_long),
		cmocka_unit_test(test_pid_list),
		cmocka_unit_test(test_proc_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
