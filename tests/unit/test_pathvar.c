/* Path patterns: %h, %t, %c, %% (enforcer/pathvar.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/pathvar.h"

static const struct ldm_path_vars vars = {
	.home = "/home/pilot",
	.runtime = "/run/user/1000/",
	.cwd = "/home/pilot/missions",
};

static void
check_ok(const char *pattern, const char *want)
{
	char buf[LDM_PATH_PATTERN_MAX];
	const char *why = NULL;

	assert_int_equal(ldm_path_pattern_check(pattern, &why), 0);
	assert_int_equal(ldm_path_expand(pattern, &vars, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_expands(void **state)
{
	(void)state;
	check_ok("/tmp", "/tmp");
	check_ok("%h", "/home/pilot");
	check_ok("%h/.config/QGroundControl.org", "/home/pilot/.config/QGroundControl.org");
	check_ok("%t/wayland-0", "/run/user/1000/wayland-0"); /* trailing '/' of the value */
	check_ok("%c", "/home/pilot/missions");
	check_ok("/tmp/100%%", "/tmp/100%");
	check_ok("/a/.hidden/..x/x..", "/a/.hidden/..x/x..");
}

static void
test_refuses(void **state)
{
	static const char *const bad[] = {
		"",          "tmp",    "~/x", "%x/y",  "/a/%h", "%",   "/a%", "%hh",
		"/a/../etc", "/a/./b", "/..", "%h/..", "/a/.",  "%%h", "./x", "h%h",
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (ldm_path_pattern_check(bad[i], &why) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(why);
	}
}

static void
test_too_long(void **state)
{
	char pattern[LDM_PATH_PATTERN_MAX + 1], buf[16];
	const char *why;

	(void)state;
	memset(pattern, 'a', sizeof(pattern));
	pattern[0] = '/';
	pattern[sizeof(pattern) - 1] = '\0';
	assert_int_equal(ldm_path_pattern_check(pattern, &why), -EINVAL);
	assert_int_equal(ldm_path_expand("%h/abcdefgh", &vars, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	assert_int_equal(ldm_path_expand("/123456789012345", &vars, buf, sizeof(buf)),
	                 -ENAMETOOLONG);
	assert_int_equal(ldm_path_expand("/12345678901234", &vars, buf, sizeof(buf)), 0);
}

static void
test_missing_vars(void **state)
{
	const struct ldm_path_vars none = { .home = "", .runtime = NULL, .cwd = "relative" };
	const struct ldm_path_vars root = { .home = "/" };
	char buf[64];

	(void)state;
	assert_int_equal(ldm_path_expand("%h/x", &none, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_path_expand("%t/x", &none, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_path_expand("%c", &none, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_path_expand("/tmp", &none, buf, sizeof(buf)), 0);
	assert_int_equal(ldm_path_expand("%h", &root, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(ldm_path_expand("%h/x", &root, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x");
	assert_int_equal(ldm_path_expand("x", &root, buf, sizeof(buf)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expands),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_missing_vars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
