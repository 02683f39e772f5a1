/* ldm-run's D-Bus filter, its pure parts: item checks, the real addresses, the proxy's argv. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/control.h"
#include "run/run.h"

static void
add(struct ldm_run_items *items, uint32_t kind, uint32_t flags, const char *value)
{
	struct ldm_msg_session_item m = { .kind = kind, .flags = flags };

	strncpy(m.value, value, sizeof(m.value) - 1);
	assert_int_equal(ldm_run_items_add(items, &m), 0);
}

static void
test_check_items(void **state)
{
	struct ldm_run_items items = { 0 };
	bool need[2];
	char why[256];

	(void)state;
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), 0);
	assert_false(need[0] || need[1]);
	add(&items, LDM_ITEM_UNIX, 1, "/tmp/.X11-unix/X0");
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SESSION, "org.freedesktop.Notifications");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), 0);
	assert_true(need[0]);
	assert_false(need[1]);
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SYSTEM, "org.example.*");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), 0);
	assert_true(need[0] && need[1]);
	ldm_run_items_clear(&items);

	/* What the daemon sent is checked again: no bus, both buses, a name that is an option. */
	add(&items, LDM_ITEM_DBUS, 0, "org.a.b");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), -EINVAL);
	ldm_run_items_clear(&items);
	add(&items, LDM_ITEM_DBUS, 3, "org.a.b");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), -EINVAL);
	ldm_run_items_clear(&items);
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SESSION, "--sloppy-names");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--sloppy-names"));
	ldm_run_items_clear(&items);
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SESSION, "org.*");
	assert_int_equal(ldm_run_dbus_check_items(&items, need, why, sizeof(why)), -EINVAL);
	ldm_run_items_clear(&items);
}

static void
test_address(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ldm_run_dbus_address(0, "unix:path=/run/user/1000/bus,guid=1", NULL, buf,
	                                      sizeof(buf)),
	                 0);
	assert_string_equal(buf, "unix:path=/run/user/1000/bus,guid=1");
	assert_int_equal(ldm_run_dbus_address(0, NULL, "/run/user/1000", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/run/user/1000/bus");
	assert_int_equal(ldm_run_dbus_address(0, "", "/run/user/7", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/run/user/7/bus");
	assert_int_equal(ldm_run_dbus_address(0, NULL, NULL, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_run_dbus_address(0, NULL, "relative", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_run_dbus_address(1, NULL, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/run/dbus/system_bus_socket");
	assert_int_equal(ldm_run_dbus_address(1, "unix:path=/x", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/x");
	/* An address is an argument of the proxy: it must not read as an option. */
	assert_int_equal(ldm_run_dbus_address(0, "--log", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(
	        ldm_run_dbus_address(0, NULL, "/run/user/1000/a/very/long/runtime/dir", buf, 20),
	        -ENAMETOOLONG);
}

static void
test_unix_address(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ldm_run_dbus_unix_address("/run/user/1000/bus", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/run/user/1000/bus");
	/* ',' ';' '=' '%' and spaces would end or change the path: escaped. */
	assert_int_equal(ldm_run_dbus_unix_address("/r u/a,b;c=d%e\\f*g", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/r%20u/a%2cb%3bc%3dd%25e%5cf*g");
	assert_int_equal(ldm_run_dbus_unix_address("/\xc3\xa9", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/%c3%a9");
	assert_int_equal(ldm_run_dbus_unix_address("/aaaaaaaa", buf, 20), 0);
	assert_int_equal(ldm_run_dbus_unix_address("/aaaaaaa,", buf, 20), -ENAMETOOLONG);
	assert_int_equal(ldm_run_dbus_unix_address("/x", buf, 8), -ENAMETOOLONG);
	/* The fallback session address is escaped the same way. */
	assert_int_equal(ldm_run_dbus_address(0, NULL, "/run/a,b", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:path=/run/a%2cb/bus");
}

static void
test_argv(void **state)
{
	struct ldm_run_items items = { 0 };
	const char *addr[2] = { "unix:path=/real/bus", NULL };
	const char *path[2] = { "/p/session-bus", "/p/system-bus" };
	static const char *const want[] = {
		LDM_RUN_DBUS_PROXY,     "--fd=3",   "unix:path=/real/bus",
		"/p/session-bus",       "--filter", "--talk=org.freedesktop.Notifications",
		"--talk=org.example.*",
	};
	char *argv[16];
	size_t n = 0;

	(void)state;
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SESSION, "org.freedesktop.Notifications");
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.login1");
	add(&items, LDM_ITEM_UNIX, 1, "/tmp/x");
	add(&items, LDM_ITEM_DBUS, LDM_ITEM_DBUS_SESSION, "org.example.*");
	assert_int_equal(ldm_run_dbus_argv(&items, addr, path, 3, argv, 16), 0);
	while (argv[n] != NULL)
		n++;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	ldm_run_argv_free(argv);

	/* Both buses: each ADDRESS PATH --filter with its own names. */
	addr[1] = "unix:path=/sys/bus";
	assert_int_equal(ldm_run_dbus_argv(&items, addr, path, 3, argv, 16), 0);
	assert_string_equal(argv[7], "unix:path=/sys/bus");
	assert_string_equal(argv[8], "/p/system-bus");
	assert_string_equal(argv[9], "--filter");
	assert_string_equal(argv[10], "--talk=org.freedesktop.login1");
	assert_null(argv[11]);
	ldm_run_argv_free(argv);
	assert_int_equal(ldm_run_dbus_argv(&items, addr, path, 3, argv, 8), -E2BIG);
	assert_null(argv[0]);
	ldm_run_items_clear(&items);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_items),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_unix_address),
		cmocka_unit_test(test_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
