/*
 * What a unit test does when this machine lacks what it needs (a kernel feature, root): in
 * CI (CI=true) that is a failure, since CI promises every test ran; elsewhere the test says
 * so loudly and goes on (or calls skip(): cmocka counts it). Never pass silently.
 */
#ifndef LDM_TEST_LACKS_H
#define LDM_TEST_LACKS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline bool
ldm_test_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci != NULL && strcmp(ci, "true") == 0;
}

/*
 * Reports that the machine lacks something, with a printf format saying what and why it
 * matters. Fails the current test in CI; otherwise prints "SKIPPED: ..." and returns.
 */
__attribute__((format(printf, 1, 2))) static inline void
ldm_test_lacks(const char *fmt, ...)
{
	bool ci = ldm_test_in_ci();
	va_list ap;

	print_message(ci ? "[  ERROR   ] CI=true: a missing feature is a failure: "
	                 : "[ SKIPPED  ] ");
	va_start(ap, fmt);
	vprint_message(fmt, ap);
	va_end(ap);
	print_message("\n");
	if (ci)
		fail();
}

#endif
