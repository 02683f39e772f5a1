/* Suggestions for a policy name that is not found (enforcer/policy_names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldm/policy.h"

static void
test_distance(void **state)
{
	(void)state;
	assert_int_equal(ldm_edit_distance("vehicle-mavlnk", "vehicle-mavlink"), 1);
	assert_int_equal(ldm_edit_distance("qgc", "qgc"), 0);
	assert_int_equal(ldm_edit_distance("", "abc"), 3);
	assert_int_equal(ldm_edit_distance("kitten", "sitting"), 3);
}

static void
test_suggest(void **state)
{
	char dir[] = "/tmp/ldm-names-XXXXXX", path[256], buf[256];
	const char *dirs[1];
	static const char *const files[] = { "vehicle-mavlink.conf", "offline.conf", "Bad.conf",
		                             "notes.txt" };

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	dirs[0] = dir;
	assert_int_equal(ldm_policy_suggest_names("vehicle-mavlnk", dirs, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "; did you mean 'vehicle-mavlink'? Available: offline, "
	                         "vehicle-mavlink");
	assert_int_equal(ldm_policy_suggest_names("zzz", dirs, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "; available: offline, vehicle-mavlink");
	assert_int_equal(ldm_policy_suggest_names("zzz", dirs, 1, buf, 12), 0);
	assert_true(strlen(buf) < 12);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	assert_int_equal(ldm_policy_suggest_names("x", dirs, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
