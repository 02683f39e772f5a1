/* The /proc text parsers the daemon judges requesters by: the cgroup2 mount's root. */
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
		int rc = ldm_mountinfo_cgroup2_root(cases[i].text, cases[i].mnt, buf, sizeof(buf));

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
	assert_int_equal(ldm_mountinfo_cgroup2_root(text, "/m", buf, sizeof(buf)), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup2_root),
		cmocka_unit_test(test_cgroup2_root_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
