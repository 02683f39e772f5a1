/* ldm-run's hash of the program (exehash.c): the bytes of the file opened, "#!" seen, and
 * the kernel release check that decides whether the child executes the descriptor. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "run/run.h"

static int
write_tmp(const char *text, char *path)
{
	int fd;

	(void)snprintf(path, 64, "/tmp/ldm-test-exehash-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	return close(fd);
}

static void
test_hash(void **state)
{
	static const struct {
		const char *text;
		const char *sha256;
		bool script;
	} cases[] = {
		{ "hello\n", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
		  false },
		{ "#!/bin/sh\n", "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf",
		  true },
	};
	char path[64], hex[65];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		bool script = !cases[i].script;
		int fd;

		assert_int_equal(write_tmp(cases[i].text, path), 0);
		fd = ldm_run_exe_hash(path, hex, &script);
		(void)unlink(path);
		assert_true(fd >= 0);
		(void)close(fd);
		assert_string_equal(hex, cases[i].sha256);
		assert_int_equal(script, cases[i].script);
	}
	assert_int_equal(ldm_run_exe_hash("/", hex, &(bool){ false }), -EACCES);
	assert_int_equal(ldm_run_exe_hash("/nonexistent/ldm", hex, &(bool){ false }), -ENOENT);
}

static void
test_kernel_release(void **state)
{
	static const struct {
		const char *release;
		bool ok;
	} cases[] = {
		{ "6.14.0", true },   { "6.18.44-fc-v1045", true }, { "7.0", true },
		{ "6.13.12", false }, { "6.1.0-28-amd64", false },  { "5.19", false },
		{ "", false },        { "linux", false },           { "6", false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ldm_run_kernel_at_least(cases[i].release, 6, 14) != cases[i].ok)
			fail_msg("'%s'", cases[i].release);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_kernel_release),
	};

	return cmocka_run_group_tests_name("exehash", tests, NULL, NULL);
}
