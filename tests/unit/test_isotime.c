/* --since/--until times: every accepted form, every refusal, output untouched on error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "isotime.h"
#include "ldm/util.h"

#define T0 INT64_C(1795572869000) /* 2026-11-25T02:14:29Z */

static void
test_parse(void **state)
{
	static const struct {
		const char *in;
		int rc;
		int64_t ms;
	} cases[] = {
		{ "2026-11-25T02:14:29.123Z", 0, T0 + 123 },
		{ "2026-11-25T02:14:29Z", 0, T0 },
		{ "2026-11-25T02:14:29.1Z", 0, T0 + 100 },
		{ "2026-11-25T02:14Z", 0, T0 - 29000 },
		{ "2026-11-25T04:14:29+02:00", 0, T0 },
		{ "2026-11-24T20:44:29-05:30", 0, T0 },
		{ "2026-11-25", 0, T0 - (2 * 3600 + 14 * 60 + 29) * 1000 },
		{ "2024-02-29", 0, INT64_C(1709164800000) },
		{ "", -EINVAL },
		{ "2026-11-25T02:14:29", -EINVAL }, /* no zone */
		{ "2026-11-25T02:14:29.1234Z", -EINVAL },
		{ "2026-11-25T02:14:29.Z", -EINVAL },
		{ "2026-11-25T02:14:60Z", -EINVAL },
		{ "2026-11-25T24:00Z", -EINVAL },
		{ "2026-02-30", -EINVAL },
		{ "2026-13-01", -EINVAL },
		{ "2026-00-01", -EINVAL },
		{ "2026-1-01", -EINVAL },
		{ "2026-11-25 02:14Z", -EINVAL },
		{ "2026-11-25T02:14Z ", -EINVAL },
		{ "2026-11-25T02:14+24:00", -EINVAL },
		{ "2026-11-25T02:14+0200", -EINVAL },
		{ "yesterday", -EINVAL },
		{ "1795572869", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int64_t ms = 7;
		int rc = ldm_isotime_parse(cases[i].in, &ms);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].in, rc, cases[i].rc);
		if (ms != (rc == 0 ? cases[i].ms : 7))
			fail_msg("'%s': got %lld", cases[i].in, (long long)ms);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("isotime", tests, NULL, NULL);
}
