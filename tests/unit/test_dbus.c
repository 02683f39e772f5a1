/* D-Bus names, patterns, buses and rules in policies (ldm/dbus.h, rule_dbus.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/control.h"
#include "ldm/dbus.h"
#include "ldm/display.h"
#include "ldm/policy.h"
#include "ldm/util.h"

static void
test_name_check(void **state)
{
	static const char *const good[] = {
		"org.freedesktop.Notifications",
		"org.example",
		"a.b",
		"org.example.*",
		"org.mpris.MediaPlayer2.vlc",
		"com.example-corp.App_1",
		"_a.-b",
	};
	static const struct {
		const char *name;
		const char *why;
	} bad[] = {
		{ "", "empty" },
		{ "org", "two elements" },
		{ "org.*", "two elements or more before" },
		{ "*", "'*' may only end" },
		{ "org.example*", "'*' may only end" },
		{ "org.*.x", "'*' may only end" },
		{ "org.ex*ample.*", "'*' may only end" },
		{ ":1.42", "unique names" },
		{ ".org.example", "empty element" },
		{ "org.example.", "empty element" },
		{ "org..example", "empty element" },
		{ "org.example..*", "empty element" },
		{ "org.1example", "digit" },
		{ "1org.example", "digit" },
		{ "org.exa mple", "only letters" },
		{ "org.exa/mple", "only letters" },
		{ "org.examplé", "only letters" },
		{ "--sloppy-names", "two elements" },
		{ "-a.b=c", "only letters" },
	};
	char longname[300];
	const char *why;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		if (ldm_dbus_name_check(good[i], &why) != 0)
			fail_msg("'%s' refused: %s", good[i], why);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		if (ldm_dbus_name_check(bad[i].name, &why) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].name);
		if (why == NULL || strstr(why, bad[i].why) == NULL)
			fail_msg("'%s': '%s' does not say '%s'", bad[i].name, why ? why : "(null)",
			         bad[i].why);
	}
	/* 255 bytes is the limit. */
	memset(longname, 'a', sizeof(longname));
	longname[1] = '.';
	longname[255] = '\0';
	assert_int_equal(ldm_dbus_name_check(longname, &why), 0);
	longname[255] = 'a';
	longname[256] = '\0';
	assert_int_equal(ldm_dbus_name_check(longname, &why), -EINVAL);
}

static void
test_name_match(void **state)
{
	(void)state;
	/* xdg-dbus-proxy: "org.foo.*" matches org.foo, org.foo.bar, org.foo.bar.gazonk. */
	assert_true(ldm_dbus_name_match("org.example.*", "org.example"));
	assert_true(ldm_dbus_name_match("org.example.*", "org.example.Foo"));
	assert_true(ldm_dbus_name_match("org.example.*", "org.example.Foo.Bar"));
	assert_false(ldm_dbus_name_match("org.example.*", "org.examples"));
	assert_false(ldm_dbus_name_match("org.example.*", "org.exampl"));
	assert_false(ldm_dbus_name_match("org.example.*", "org"));
	assert_true(ldm_dbus_name_match("org.example.Foo", "org.example.Foo"));
	assert_false(ldm_dbus_name_match("org.example.Foo", "org.example.Foo.Bar"));
	assert_false(ldm_dbus_name_match("org.example.Foo", "org.example.foo"));
}

static void
test_bus(void **state)
{
	unsigned b = 0;

	(void)state;
	assert_int_equal(ldm_dbus_bus_parse("session", &b), 0);
	assert_int_equal(b, LDM_ITEM_DBUS_SESSION);
	assert_int_equal(ldm_dbus_bus_parse("system", &b), 0);
	assert_int_equal(b, LDM_ITEM_DBUS_SYSTEM);
	assert_int_equal(ldm_dbus_bus_parse("Session", &b), -EINVAL);
	assert_int_equal(ldm_dbus_bus_parse("", &b), -EINVAL);
	assert_string_equal(ldm_dbus_bus_name(LDM_ITEM_DBUS_SESSION), "session");
	assert_string_equal(ldm_dbus_bus_name(LDM_ITEM_DBUS_SYSTEM), "system");
	assert_string_equal(ldm_dbus_bus_name(3), "?");
}

static void
test_risk(void **state)
{
	(void)state;
	assert_non_null(ldm_dbus_name_risk("org.freedesktop.systemd1", LDM_ITEM_DBUS_SESSION));
	assert_non_null(ldm_dbus_name_risk("org.freedesktop.*", LDM_ITEM_DBUS_SESSION));
	assert_non_null(
	        ldm_dbus_name_risk("org.freedesktop.portal.Desktop", LDM_ITEM_DBUS_SESSION));
	assert_non_null(ldm_dbus_name_risk("org.freedesktop.resolve1", LDM_ITEM_DBUS_SYSTEM));
	assert_null(ldm_dbus_name_risk("org.freedesktop.Notifications", LDM_ITEM_DBUS_SESSION));
	assert_null(ldm_dbus_name_risk("org.freedesktop.resolve1", LDM_ITEM_DBUS_SESSION));
	assert_null(ldm_dbus_name_risk("org.example.*", LDM_ITEM_DBUS_SYSTEM));
}

static void
test_x11_targets(void **state)
{
	(void)state;
	assert_true(ldm_unix_target_is_x11("x11"));
	assert_true(ldm_unix_target_is_x11("/tmp/.X11-unix/X0"));
	assert_true(ldm_unix_target_is_x11("@/tmp/.X11-unix/X0"));
	assert_true(ldm_unix_target_is_x11("/tmp/.X11-unix"));
	assert_true(ldm_unix_target_is_x11("/tmp/.X11-unix/*"));
	assert_true(ldm_unix_target_is_x11("/tmp"));
	assert_false(ldm_unix_target_is_x11("/tmp/.X11-unixy/X0"));
	assert_false(ldm_unix_target_is_x11("%t/wayland-0"));
	assert_false(ldm_unix_target_is_x11("wayland"));
	assert_false(ldm_unix_target_is_x11("@x11"));
	assert_non_null(ldm_unix_target_risk("x11"));
	assert_non_null(strstr(ldm_unix_target_risk("%t/pulse/native"), "module-tunnel-sink"));
	assert_non_null(ldm_unix_target_risk("/run/user/1000/pipewire-0"));
	assert_non_null(ldm_unix_target_risk("%t/bus"));
	assert_non_null(ldm_unix_target_risk("%t/systemd/private"));
	assert_non_null(ldm_unix_target_risk("/tmp/tmux-1000/default"));
	assert_non_null(ldm_unix_target_risk("/run/screen/S-pilot/123.main"));
	assert_null(ldm_unix_target_risk("%t/wayland-0"));
	assert_null(ldm_unix_target_risk("@qgc-single-instance"));
}

static void
test_session_note(void **state)
{
	struct ldm_item items[2] = {
		{ .kind = LDM_ITEM_UNIX, .flags = 0x2u, .value = (char *)"/tmp/.X11-unix/X0" },
		{ .kind = LDM_ITEM_DBUS, .flags = 1, .value = (char *)"org.a.b" },
	};
	struct ldm_policy p = { .items = items, .n_items = 2 };

	(void)state;
	/* A deny rule for the X socket allows nothing: no note. */
	assert_null(ldm_session_start_note(&p, false));
	assert_string_equal(ldm_session_start_note(&p, true), "audit mode");
	items[0].flags = 0x1u; /* allow */
	assert_non_null(strstr(ldm_session_start_note(&p, false), "X11 display allowed"));
	assert_non_null(strstr(ldm_session_start_note(&p, true), "audit mode; X11"));
	assert_null(ldm_session_start_note(NULL, false));
}

static int
load(const char *text, struct ldm_policy **p, struct ldm_diags *d)
{
	struct ldm_load_opts o = { .no_file_dir = true };

	return ldm_policy_load_buffer(text, strlen(text), "t.conf", &o, p, d);
}

static bool
has_diag(const struct ldm_diags *d, unsigned line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && strstr(d->v[i].msg, needle) != NULL)
			return true;
	return false;
}

static void
test_rules_load(void **state)
{
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	const struct ldm_item *it;

	(void)state;
	assert_int_equal(
	        load("allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"14550\"; },\n"
	             "  { proto = \"dbus\"; bus = \"session\"; name = "
	             "\"org.freedesktop.Notifications\";"
	             " comment = \"alerts\"; },\n"
	             "  { proto = \"dbus\"; bus = \"system\"; name = \"org.example.*\"; } );\n",
	             &p, &d),
	        0);
	/* D-Bus rules are launcher items, not flow rules: the flow rules are untouched. */
	assert_int_equal(p->n_rules, 1);
	/* The two dbus items first; after them the default write scope's (no `write` here). */
	assert_true(p->n_items >= 2);
	for (size_t i = 2; i < p->n_items; i++)
		assert_int_equal(p->items[i].kind, LDM_ITEM_WRITE);
	assert_int_equal(p->items[0].kind, LDM_ITEM_DBUS);
	assert_int_equal(p->items[0].flags, LDM_ITEM_DBUS_SESSION);
	assert_string_equal(p->items[0].value, "org.freedesktop.Notifications");
	assert_string_equal(p->items[0].comment, "alerts");
	assert_int_equal(p->items[0].line, 2);
	assert_int_equal(p->items[1].flags, LDM_ITEM_DBUS_SYSTEM);
	assert_null(p->items[1].comment);

	it = ldm_policy_dbus_allowed(p, LDM_ITEM_DBUS_SESSION, "org.freedesktop.Notifications");
	assert_ptr_equal(it, &p->items[0]);
	assert_null(
	        ldm_policy_dbus_allowed(p, LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.Notifications"));
	assert_null(ldm_policy_dbus_allowed(p, LDM_ITEM_DBUS_SESSION, "org.freedesktop.systemd1"));
	assert_ptr_equal(ldm_policy_dbus_allowed(p, LDM_ITEM_DBUS_SYSTEM, "org.example.A.B"),
	                 &p->items[1]);
	assert_null(ldm_policy_dbus_allowed(p, LDM_ITEM_DBUS_SESSION, "org.example.A"));
	ldm_policy_free(p);
	ldm_diags_clear(&d);
}

static void
test_rules_rejected(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "allow = ( { proto = \"dbus\"; name = \"org.a.b\"; } );\n", 1, "needs bus" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; } );\n", 1, "needs name" },
		{ "allow = ( { proto = \"dbus\"; bus = \"user\"; name = \"org.a.b\"; } );\n", 1,
		  "'user' is not \"session\" or \"system\"" },
		{ "allow = ( { proto = \"dbus\"; bus = 1; name = \"org.a.b\"; } );\n", 1,
		  "bus: must be a string" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; name = \"org\"; } );\n", 1,
		  "name: 'org'" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; name = \"org.*\"; } );\n", 1,
		  "two elements or more before" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; name = \"org.a.b\";\n"
		  "  ports = \"1\"; } );\n",
		  2, "unknown setting 'ports' in a dbus rule" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; name = \"org.a.b\";\n"
		  "  to = \"lan\"; } );\n",
		  2, "unknown setting 'to' in a dbus rule" },
		{ "deny = ( { proto = \"dbus\"; bus = \"session\"; name = \"org.a.b\"; } );\n", 1,
		  "'allow' only" },
		{ "allow = ( { proto = \"dbus\"; bus = \"session\"; name = [ \"org.a.b\" ]; } );\n",
		  1, "name: must be a string" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_policy *p = NULL;
		struct ldm_diags d = { 0 };

		if (load(cases[i].text, &p, &d) == 0)
			fail_msg("case %zu loaded", i);
		if (!has_diag(&d, cases[i].line, cases[i].msg)) {
			for (size_t j = 0; j < d.n; j++)
				print_message("  %u: %s\n", d.v[j].line, d.v[j].msg);
			fail_msg("case %zu: no '%s' at line %u", i, cases[i].msg, cases[i].line);
		}
		assert_null(p);
		ldm_diags_clear(&d);
	}
}

/* More items than a session can carry is an error at load time, not a launch failure. */
static void
test_items_limit(void **state)
{
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	char *text = malloc(200 * (LDM_CTL_ITEMS_MAX + 2));
	size_t at = 0;

	(void)state;
	assert_non_null(text);
	at += (size_t)snprintf(text, 16, "allow = (\n");
	for (int i = 0; i <= LDM_CTL_ITEMS_MAX; i++)
		at += (size_t)snprintf(
		        text + at, 200,
		        "{ proto = \"dbus\"; bus = \"session\"; name = \"org.n%d.x\"; }%s\n", i,
		        i < LDM_CTL_ITEMS_MAX ? "," : "");
	(void)snprintf(text + at, 8, ");\n");
	assert_int_not_equal(load(text, &p, &d), 0);
	assert_true(has_diag(&d, LDM_CTL_ITEMS_MAX + 2, "more than 256"));
	ldm_diags_clear(&d);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_check),   cmocka_unit_test(test_name_match),
		cmocka_unit_test(test_bus),          cmocka_unit_test(test_risk),
		cmocka_unit_test(test_x11_targets),  cmocka_unit_test(test_rules_load),
		cmocka_unit_test(test_session_note), cmocka_unit_test(test_rules_rejected),
		cmocka_unit_test(test_items_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
