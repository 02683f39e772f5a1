/* A log record as journald fields (enforcer/journalfields.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/journalfields.h"

static char buf[LDM_JOURNAL_BUF_MAX];
static struct iovec iov[LDM_JOURNAL_FIELDS_MAX];

/* The value of field NAME among the N iovecs, as a NUL-terminated copy; NULL if absent. */
static const char *
value(int n, const char *name)
{
	static char v[LDM_EVENT_LINE_MAX];
	size_t nl = strlen(name);

	for (int i = 0; i < n; i++) {
		const char *b = iov[i].iov_base;

		if (iov[i].iov_len > nl && memcmp(b, name, nl) == 0 && b[nl] == '=') {
			memcpy(v, b + nl + 1, iov[i].iov_len - nl - 1);
			v[iov[i].iov_len - nl - 1] = '\0';
			return v;
		}
	}
	return NULL;
}

static void
test_blocked(void **state)
{
	struct ldm_event e;
	int n;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, NULL);
	e.session = 7;
	e.policy = "qgc";
	e.uid = 1000;
	e.user = "pilot";
	e.app = "/usr/bin/evil\napp";
	e.proto = LDM_PROTO_TCP;
	e.dst.family = AF_INET;
	memcpy(e.dst.addr, (unsigned char[]){ 198, 51, 100, 7 }, 4);
	e.dport = 443;
	e.host = "tiles.example.org";
	e.count = 3;
	e.reason = "no rule allows it";
	n = ldm_journal_fields(&e, "blocked tcp ...", 4, 42, buf, sizeof(buf), iov,
	                       LDM_JOURNAL_FIELDS_MAX);
	assert_true(n > 0);
	assert_string_equal(value(n, "MESSAGE"), "blocked tcp ...");
	assert_string_equal(value(n, "PRIORITY"), "4");
	assert_string_equal(value(n, "SYSLOG_IDENTIFIER"), "ldm-enforcerd");
	assert_string_equal(value(n, "LDM_EVENT"), "blocked");
	assert_string_equal(value(n, "LDM_SESSION"), "7");
	assert_string_equal(value(n, "LDM_UID"), "1000");
	assert_string_equal(value(n, "LDM_APP"), "/usr/bin/evil\napp"); /* bytes, not escaped */
	assert_string_equal(value(n, "LDM_PROTO"), "tcp");
	assert_string_equal(value(n, "LDM_DST"), "198.51.100.7");
	assert_string_equal(value(n, "LDM_DPORT"), "443");
	assert_string_equal(value(n, "LDM_HOST"), "tiles.example.org");
	assert_string_equal(value(n, "LDM_COUNT"), "3");
	assert_string_equal(value(n, "LDM_LOG_SEQ"), "42");
	assert_null(value(n, "LDM_SRC"));
	assert_null(value(n, "LDM_RULE")); /* default deny: no rule */
	assert_null(value(n, "LDM_SYSCALL"));
}

static void
test_session_end_and_limits(void **state)
{
	struct ldm_event e;
	char small[64];
	int n;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_SESSION_END, NULL);
	e.session = 9;
	n = ldm_journal_fields(&e, "session_end", 6, 0, buf, sizeof(buf), iov,
	                       LDM_JOURNAL_FIELDS_MAX);
	assert_true(n > 0);
	assert_null(value(n, "LDM_COUNT"));
	assert_null(value(n, "LDM_UID"));
	assert_null(value(n, "LDM_LOG_SEQ"));
	assert_int_equal(ldm_journal_fields(&e, "session_end", 6, 0, small, sizeof(small), iov,
	                                    LDM_JOURNAL_FIELDS_MAX),
	                 -ENOBUFS);
	assert_int_equal(ldm_journal_fields(&e, "session_end", 6, 0, buf, sizeof(buf), iov, 2),
	                 -ENOBUFS);
}

/* session_start's identity as fields; the most fields a record can have fit the array. */
static void
test_identity(void **state)
{
	static const char h[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct ldm_event e;
	int n;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_SESSION_START, NULL);
	e.session = 9;
	e.policy = "qgc";
	e.uid = 1000;
	e.user = "pilot";
	e.app = "/usr/bin/qgc";
	e.pid = 42;
	e.reason = "enforce";
	e.hostname = "gcs";
	e.version = "0.1.0";
	e.exe_sha256 = h;
	e.policy_sha256 = h;
	e.sha256 = "nope"; /* not a hash: left out */
	e.landlock_abi = 4;
	e.seccomp_notify = LDM_EVENT_YES;
	e.ipv6 = LDM_EVENT_NO;
	n = ldm_journal_fields(&e, "session_start", 6, 7, buf, sizeof(buf), iov,
	                       LDM_JOURNAL_FIELDS_MAX);
	assert_true(n > 0);
	assert_string_equal(value(n, "LDM_EXE_SHA256"), h);
	assert_string_equal(value(n, "LDM_POLICY_SHA256"), h);
	assert_string_equal(value(n, "LDM_VERSION"), "0.1.0");
	assert_string_equal(value(n, "LDM_LANDLOCK_ABI"), "4");
	assert_string_equal(value(n, "LDM_SECCOMP_NOTIFY"), "true");
	assert_string_equal(value(n, "LDM_IPV6"), "false");
	assert_null(value(n, "LDM_SHA256"));
	assert_null(value(n, "LDM_HOSTNAME")); /* journald's _HOSTNAME says it */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocked),
		cmocka_unit_test(test_session_end_and_limits),
		cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
