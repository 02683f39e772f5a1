/* ldmctl check's warnings for rules that hand the app more than they name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldm/control.h"
#include "ldm/policy.h"
#include "ldmctl/ldmctl.h"

/* Runs ldmctl_print_item_warnings(P) with stderr in a temporary file; returns its text. */
static char *
warnings_of(const struct ldm_policy *p)
{
	static char buf[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	ldmctl_print_item_warnings(p, "p.conf");
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void
test_warnings(void **state)
{
	struct ldm_item items[] = {
		{ .kind = LDM_ITEM_UNIX,
		  .flags = 0x1u,
		  .value = (char *)"/tmp/.X11-unix/X0",
		  .file = (char *)"a.conf",
		  .line = 3 },
		{ .kind = LDM_ITEM_UNIX,
		  .flags = 0x2u,
		  .value = (char *)"@/tmp/.X11-unix/X0",
		  .file = (char *)"a.conf",
		  .line = 4 },
		{ .kind = LDM_ITEM_UNIX,
		  .flags = 0x1u,
		  .value = (char *)"%t/pulse/native",
		  .file = (char *)"b.conf",
		  .line = 5 },
		{ .kind = LDM_ITEM_UNIX,
		  .flags = 0x1u,
		  .value = (char *)"%t/wayland-0",
		  .file = (char *)"b.conf",
		  .line = 6 },
		{ .kind = LDM_ITEM_DBUS,
		  .flags = LDM_ITEM_DBUS_SESSION,
		  .value = (char *)"org.freedesktop.systemd1",
		  .line = 7 },
		{ .kind = LDM_ITEM_DBUS,
		  .flags = LDM_ITEM_DBUS_SESSION,
		  .value = (char *)"org.freedesktop.Notifications",
		  .line = 8 },
		{ .kind = LDM_ITEM_DBUS,
		  .flags = LDM_ITEM_DBUS_SYSTEM,
		  .value = (char *)"org.freedesktop.*",
		  .file = (char *)"c.conf",
		  .line = 9 },
	};
	struct ldm_policy p = { .items = items, .n_items = sizeof(items) / sizeof(items[0]) };
	const char *w;

	(void)state;
	w = warnings_of(&p);
	print_message("%s", w);
	assert_non_null(strstr(w, "a.conf:3: warning: the app may reach the X display "
	                          "'/tmp/.X11-unix/X0': X11 lets the app read the screen"));
	assert_null(strstr(w, "a.conf:4:")); /* a deny rule exposes nothing */
	assert_non_null(strstr(w, "b.conf:5: warning: the app may connect to '%t/pulse/native'"));
	assert_null(strstr(w, "b.conf:6:")); /* Wayland: no warning */
	/* No file: the path given names it. */
	assert_non_null(strstr(w, "p.conf:7: warning: the app may talk to "
	                          "'org.freedesktop.systemd1' on the session bus"));
	assert_null(strstr(w, ":8:"));
	assert_non_null(strstr(w, "c.conf:9: warning: the app may talk to 'org.freedesktop.*' on "
	                          "the system bus: systemd"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_warnings) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
