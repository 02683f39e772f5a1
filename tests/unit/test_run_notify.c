/*
 * ldm-run's notifications, the pure part (launcher/run/notifytext.c): when to notify,
 * folding per destination and the cap, the texts of a block and their escaping.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/event.h"
#include "ldm/util.h"
#include "run/notify.h"

static void
test_wanted(void **state)
{
	static const struct {
		enum ldm_run_notify_mode mode;
		bool in_tty, err_tty, want;
	} cases[] = {
		{ LDM_RUN_NOTIFY_AUTO, false, false, true },
		{ LDM_RUN_NOTIFY_AUTO, true, false, false },
		{ LDM_RUN_NOTIFY_AUTO, false, true, false },
		{ LDM_RUN_NOTIFY_AUTO, true, true, false },
		{ LDM_RUN_NOTIFY_ON, true, true, true },
		{ LDM_RUN_NOTIFY_ON, false, false, true },
		{ LDM_RUN_NOTIFY_OFF, false, false, false },
		{ LDM_RUN_NOTIFY_OFF, true, true, false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ldm_run_notify_wanted(cases[i].mode, cases[i].in_tty, cases[i].err_tty) !=
		    cases[i].want)
			fail_msg("case %zu", i);
}

/* One per destination per minute; after LDM_RUN_NOTIFY_MAX sends, one CAP, then quiet. */
static void
test_fold(void **state)
{
	struct ldm_run_notify_fold f;
	char key[32];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(ldm_run_notify_fold_take(&f, "a", 1000), LDM_RUN_NOTIFY_SEND);
	assert_int_equal(ldm_run_notify_fold_take(&f, "a", 1000), LDM_RUN_NOTIFY_FOLDED);
	assert_int_equal(ldm_run_notify_fold_take(&f, "b", 2000), LDM_RUN_NOTIFY_SEND);
	assert_int_equal(ldm_run_notify_fold_take(&f, "a", 1000 + LDM_RUN_NOTIFY_FOLD_MS - 1),
	                 LDM_RUN_NOTIFY_FOLDED);
	assert_int_equal(ldm_run_notify_fold_take(&f, "a", 1000 + LDM_RUN_NOTIFY_FOLD_MS),
	                 LDM_RUN_NOTIFY_SEND);
	for (unsigned i = 4; i < LDM_RUN_NOTIFY_MAX; i++) { /* 3 sent so far, "b" the last */
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(ldm_run_notify_fold_take(&f, key, 70000), LDM_RUN_NOTIFY_SEND);
	}
	assert_int_equal(ldm_run_notify_fold_take(&f, "b", 70000), LDM_RUN_NOTIFY_SEND);
	assert_int_equal(ldm_run_notify_fold_take(&f, "new", 70000), LDM_RUN_NOTIFY_CAP);
	assert_int_equal(ldm_run_notify_fold_take(&f, "newer", 70000), LDM_RUN_NOTIFY_QUIET);
	assert_int_equal(ldm_run_notify_fold_take(&f, "new", 70000), LDM_RUN_NOTIFY_FOLDED);
	assert_int_equal(ldm_run_notify_fold_take(&f, "b", 200000), LDM_RUN_NOTIFY_QUIET);
}

static void
test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t size;
		const char *out;
	} cases[] = {
		{ "plain", 64, "plain" },
		{ "<b>x</b> & y", 64, "&lt;b&gt;x&lt;/b&gt; &amp; y" },
		{ "a\nb\tc\x7f", 64, "a b c " },
		{ "bad \xff\xfe byte", 64, "bad ?? byte" },
		{ "overlong \xc0\xaf", 64, "overlong ??" },
		{ "surrogate \xed\xa0\x80", 64, "surrogate ???" },
		{ "caf\xc3\xa9", 64, "caf\xc3\xa9" },
		{ "abcdef", 4, "abc" },
		{ "ab&c", 6, "ab" },     /* the entity does not fit: not cut */
		{ "a\xc3\xa9", 3, "a" }, /* nor a character */
		{ "", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[64];
		size_t n = ldm_run_notify_escape(out, cases[i].size, cases[i].in);

		if (strcmp(out, cases[i].out) != 0 || n != strlen(out))
			fail_msg("case %zu: got '%s' (%zu)", i, out, n);
	}
}

static void
test_block_text(void **state)
{
	char key[LDM_RUN_NOTIFY_TEXT], summary[LDM_RUN_NOTIFY_TEXT], body[LDM_RUN_NOTIFY_TEXT];
	struct timespec ts = { 0 };
	struct ldm_event e;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, &ts);
	e.session = 7;
	e.policy = "qgc";
	e.app = "/usr/bin/curl";
	e.proto = LDM_PROTO_TCP;
	e.dst.family = AF_INET;
	memcpy(e.dst.addr, (const uint8_t[]){ 198, 51, 100, 7 }, 4);
	e.dport = 443;
	e.host = "<evil>.example.org";
	assert_int_equal(ldm_run_notify_block_text(&e, key, summary, body), 0);
	assert_string_equal(summary, "Connection blocked");
	assert_string_equal(body, "curl tried to reach &lt;evil&gt;.example.org (198.51.100.7) "
	                          "port 443 (tcp); policy 'qgc' does not allow it. See: "
	                          "ldmctl log 7");
	assert_string_equal(key, "<evil>.example.org (198.51.100.7) port 443 (tcp)");

	ldm_event_init(&e, LDM_EVENT_BLOCKED, &ts);
	e.session = 8;
	e.proto = LDM_PROTO_UNIX;
	e.sock = "/run/user/1000/bus";
	assert_int_equal(ldm_run_notify_block_text(&e, key, summary, body), 0);
	assert_string_equal(summary, "Local connection blocked");
	assert_string_equal(body, "The program tried to reach the local socket /run/user/1000/bus; "
	                          "policy '?' does not allow it. See: ldmctl log 8");

	assert_int_equal(ldm_strscpy(body, sizeof(body), "untouched"), 0);
	ldm_event_init(&e, LDM_EVENT_ALLOWED, &ts);
	assert_int_equal(ldm_run_notify_block_text(&e, key, summary, body), -EINVAL);
	ldm_event_init(&e, LDM_EVENT_WOULD_BLOCK, &ts);
	assert_int_equal(ldm_run_notify_block_text(&e, key, summary, body), -EINVAL);
	assert_string_equal(body, "untouched");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_block_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
