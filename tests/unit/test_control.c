/* The control protocol's checks (enforcer/control.c): the root daemon's only check on what a
 * client sends, and ldm-run's on what the daemon sends. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/control.h"
#include "ldm/util.h"

static void
test_header(void **state)
{
	struct ldm_msg_summary_request m;

	(void)state;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_SUMMARY_REQUEST);
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.hdr.len++;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.hdr.len--;
	m.hdr.reserved = 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.hdr.reserved = 0;
	m.hdr.magic ^= 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EPROTO);
	m.hdr.magic ^= 1;
	m.hdr.version++;
	assert_int_equal(ldm_msg_check(&m.hdr), -EPROTO);
	m.hdr.version--;
	m.hdr.type = 999;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.hdr.type = 0;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_session_request(void **state)
{
	struct ldm_msg_session_request m;

	(void)state;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_SESSION_REQUEST);
	assert_int_equal(ldm_msg_set_str(m.policy, sizeof(m.policy), "offline"), 0);
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG); /* no hash, no Landlock ABI */
	memcpy(m.exe_sha256, H64, 64);
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.landlock_abi = 3;
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.flags = 0x4; /* unknown flag */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.flags = LDM_SESSION_F_AUDIT | LDM_SESSION_F_SECCOMP_NOTIFY;
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.landlock_abi = LDM_CTL_LANDLOCK_ABI_MAX + 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.landlock_abi = 3;
	m.reserved = 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.reserved = 0;
	/* The hash: exactly 64 lower-case hex digits, nothing after them. */
	m.exe_sha256[0] = 'A';
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.exe_sha256[0] = '0';
	m.exe_sha256[70] = 'x';
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.exe_sha256[70] = '\0';
	m.exe_sha256[63] = '\0';
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.exe_sha256[63] = 'f';
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	memset(m.policy, 'a', sizeof(m.policy)); /* no NUL */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.policy[0] = '\0';
	memset(m.app, 'b', sizeof(m.app));
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
}

static void
test_session_item(void **state)
{
	struct ldm_msg_session_item m;

	(void)state;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_SESSION_ITEM);
	assert_int_equal(m.hdr.len, sizeof(m));
	assert_true(LDM_MSG_MAX >= sizeof(m));
	m.kind = LDM_ITEM_WRITE;
	assert_int_equal(ldm_msg_set_str(m.value, sizeof(m.value), "%h/.config/x"), 0);
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.kind = 0;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.kind = LDM_ITEM_KIND_MAX + 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.kind = LDM_ITEM_UNIX;
	m.reserved = 7;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.reserved = 0;
	memset(m.value, '/', sizeof(m.value));
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
}

/* A refused local socket: the fields that must agree with each other. */
static void
test_unix_blocked(void **state)
{
	struct ldm_msg_unix_blocked m;

	(void)state;
	memset(&m, 0, sizeof(m));
	ldm_msg_init(&m.hdr, LDM_MSG_UNIX_BLOCKED);
	assert_int_equal(m.hdr.len, sizeof(m));
	assert_true(LDM_MSG_MAX >= sizeof(m));
	m.why = LDM_UNIX_WHY_DEFAULT;
	m.count = 1;
	assert_int_equal(ldm_msg_set_str(m.target, sizeof(m.target), "/tmp/relay.sock"), 0);
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.rule = 3; /* a rule only with LDM_UNIX_WHY_RULE */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.why = LDM_UNIX_WHY_RULE;
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.rule = 0;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.why = LDM_UNIX_WHY_DEFAULT;
	m.count = 5; /* a count only in a summary of suppressed reports */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.why = LDM_UNIX_WHY_SUPPRESSED;
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.why = LDM_UNIX_WHY_NO_BUS; /* a withheld bus: one attempt, no rule */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.count = 1;
	assert_int_equal(ldm_msg_check(&m.hdr), 0);
	m.why = 0;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.why = LDM_UNIX_WHY_MAX + 1;
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
	m.why = LDM_UNIX_WHY_DEFAULT;
	m.count = 1;
	memset(m.target, '/', sizeof(m.target)); /* no NUL */
	assert_int_equal(ldm_msg_check(&m.hdr), -EBADMSG);
}

/* LDM_LOG_F_NOW names one session; unknown flags and reserved bits are refused. */
static void
test_log_request(void **state)
{
	static const struct {
		uint64_t session;
		uint32_t flags, reserved;
		int rc;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 0, LDM_LOG_F_FOLLOW, 0, 0 },
		{ 7, LDM_LOG_F_NOW, 0, 0 },
		{ 7, LDM_LOG_F_NOW | LDM_LOG_F_FOLLOW, 0, 0 },
		{ 0, LDM_LOG_F_NOW, 0, -EBADMSG },
		{ 0, LDM_LOG_F_NOW | LDM_LOG_F_FOLLOW, 0, -EBADMSG },
		{ 7, LDM_LOG_F_RESUME, 0, -EBADMSG }, /* resumes a NOW reader only */
		{ 7, LDM_LOG_F_RESUME | LDM_LOG_F_FOLLOW, 0, -EBADMSG },
		{ 7, LDM_LOG_F_NOW | LDM_LOG_F_FOLLOW | LDM_LOG_F_RESUME, 0, 0 },
		{ 7, 0x8, 0, -EBADMSG },
		{ 7, LDM_LOG_F_NOW, 1, -EBADMSG },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_msg_log_request m;

		memset(&m, 0, sizeof(m));
		ldm_msg_init(&m.hdr, LDM_MSG_LOG_REQUEST);
		m.session = cases[i].session;
		m.flags = cases[i].flags;
		m.reserved = cases[i].reserved;
		if (ldm_msg_check(&m.hdr) != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, ldm_msg_check(&m.hdr),
			         cases[i].rc);
	}
}

/* LDM_MSG_KEEPER_GONE: exact size, a pid, no reserved bits. */
static void
test_keeper_gone(void **state)
{
	static const struct {
		uint32_t pid, reserved;
		int rc;
	} cases[] = {
		{ 4242, 0, 0 },
		{ 0, 0, -EBADMSG },
		{ 4242, 1, -EBADMSG },
	};

	(void)state;
	assert_int_equal(ldm_msg_size(LDM_MSG_KEEPER_GONE), 32);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_msg_keeper_gone m;

		memset(&m, 0, sizeof(m));
		ldm_msg_init(&m.hdr, LDM_MSG_KEEPER_GONE);
		m.session = 7;
		m.pid = cases[i].pid;
		m.reserved = cases[i].reserved;
		if (ldm_msg_check(&m.hdr) != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, ldm_msg_check(&m.hdr),
			         cases[i].rc);
	}
}

static void
test_set_str(void **state)
{
	char f[4];

	(void)state;
	assert_int_equal(ldm_msg_set_str(f, sizeof(f), "abc"), 0);
	assert_string_equal(f, "abc");
	assert_int_equal(ldm_msg_set_str(f, sizeof(f), "abcd"), -ENAMETOOLONG);
	assert_string_equal(f, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),       cmocka_unit_test(test_session_request),
		cmocka_unit_test(test_session_item), cmocka_unit_test(test_unix_blocked),
		cmocka_unit_test(test_set_str),      cmocka_unit_test(test_log_request),
		cmocka_unit_test(test_keeper_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
