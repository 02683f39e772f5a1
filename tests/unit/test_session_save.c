/*
 * The saved state of a session (enforcer/daemon/session_save.c): what is saved is what is
 * read back, and the requester's words (app path, user name) cannot add a line to the file:
 * a restarted daemon must take a session up under its own policy, user and mode.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/session_save.h"
#include "ldm/util.h"

static void
sample(struct session *s)
{
	*s = (struct session){ .state = SESSION_READY,
		               .slot = 7,
		               .id = 4242,
		               .uid = 1000,
		               .pid = 31337,
		               .audit = false };
	s->started.tv_sec = 1764700000;
	assert_int_equal(ldm_strscpy(s->name, sizeof(s->name), "s4242-0badf00d"), 0);
	assert_int_equal(ldm_strscpy(s->policy_name, sizeof(s->policy_name), "vehicle-mavlink"), 0);
	assert_int_equal(ldm_strscpy(s->user, sizeof(s->user), "pilot"), 0);
	assert_int_equal(ldm_strscpy(s->app, sizeof(s->app), "/opt/qgc/QGroundControl"), 0);
	assert_int_equal(
	        ldm_strscpy(s->exe_sha256, sizeof(s->exe_sha256),
	                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	        0);
	s->landlock_abi = 2;
	s->seccomp_notify = true;
}

static void
round_trip(const struct session *s, struct ldm_saved *v)
{
	char text[LDM_SESSION_SAVE_MAX];

	assert_int_equal(ldm_session_save_format(s, text, sizeof(text)), 0);
	assert_int_equal(ldm_session_save_parse(text, v), 0);
}

static void
test_round_trip(void **state)
{
	struct session s;
	struct ldm_saved v;

	(void)state;
	sample(&s);
	round_trip(&s, &v);
	assert_int_equal(v.id, 4242);
	assert_int_equal(v.slot, 7);
	assert_int_equal(v.uid, 1000);
	assert_int_equal(v.pid, 31337);
	assert_int_equal(v.audit, 0);
	assert_int_equal(v.started, 1764700000);
	assert_string_equal(v.name, "s4242-0badf00d");
	assert_string_equal(v.policy, "vehicle-mavlink");
	assert_string_equal(v.user, "pilot");
	assert_string_equal(v.app, "/opt/qgc/QGroundControl");
	assert_string_equal(v.exe_sha256, s.exe_sha256);
	assert_int_equal(v.landlock_abi, 2);
	assert_int_equal(v.seccomp_notify, 1);
}

/* A program named "x\naudit=1\npolicy=audit\nuid=0" must not resume as root in audit mode. */
static void
test_app_cannot_add_lines(void **state)
{
	struct session s;
	struct ldm_saved v;

	(void)state;
	sample(&s);
	assert_int_equal(
	        ldm_strscpy(s.app, sizeof(s.app), "/tmp/x\naudit=1\npolicy=audit\nuid=0\nslot=9"),
	        0);
	round_trip(&s, &v);
	assert_int_equal(v.audit, 0);
	assert_string_equal(v.policy, "vehicle-mavlink");
	assert_int_equal(v.uid, 1000);
	assert_int_equal(v.slot, 7);
	assert_null(strchr(v.app, '\n'));
	assert_non_null(strstr(v.app, "/tmp/x"));
}

static void
test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		/* a key twice: the second must not win */
		"id=1\nslot=1\nname=s1-x\npolicy=p\npolicy=audit\n",
		"id=1\nslot=1\nname=s1-x\npolicy=p\naudit=0\naudit=1\n",
		/* unknown key, no '=', out of range */
		"id=1\nslot=1\nname=s1-x\npolicy=p\nmode=audit\n",
		"id=1\nslot=1\nname=s1-x\npolicy=p\nnonsense\n",
		"id=1\nslot=1\nname=s1-x\npolicy=p\nexe_sha256=abc\n",
		"id=1\nslot=1\nname=s1-x\npolicy=p\nlandlock_abi=65\n",
		"id=1\nslot=999\nname=s1-x\npolicy=p\n",
		/* required fields missing */
		"slot=1\nname=s1-x\npolicy=p\n",
		"id=1\nslot=1\npolicy=p\n",
		"",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct ldm_saved v;

		assert_int_equal(ldm_strscpy(text, sizeof(text), bad[i]), 0);
		if (ldm_session_save_parse(text, &v) != -EINVAL)
			fail_msg("case %zu was accepted", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_app_cannot_add_lines),
		cmocka_unit_test(test_parse_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
