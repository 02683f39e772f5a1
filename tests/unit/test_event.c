/* The log record: exact JSON and text lines, escaping, bounds, and the strict reader. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/event.h"
#include "ldm/util.h"

#define TS_SEC 1795572869 /* 2026-11-25T02:14:29Z */

static const struct timespec ts0 = { TS_SEC, 123456789 };

static struct ldm_event_addr
addr(const char *s)
{
	struct ldm_event_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = AF_INET6;
	else
		fail_msg("bad address %s", s);
	return a;
}

static void
blocked_event(struct ldm_event *e)
{
	ldm_event_init(e, LDM_EVENT_BLOCKED, &ts0);
	e->session = 7;
	e->policy = "qgc";
	e->uid = 1000;
	e->user = "pilot";
	e->app = "/usr/bin/curl";
	e->pid = 1234;
	e->proto = LDM_PROTO_TCP;
	e->src = addr("10.0.0.2");
	e->sport = 40000;
	e->dst = addr("198.51.100.7");
	e->dport = 443;
	e->host = "tiles.example.org";
	e->label = "Tiles";
	e->rule = 3;
	e->comment = "x";
	e->reason = "deny rule";
}

static void
check_json(const struct ldm_event *e, const char *want)
{
	char buf[LDM_EVENT_LINE_MAX];
	int n = ldm_event_json(e, buf, sizeof(buf));

	if (n < 0)
		fail_msg("ldm_event_json: %d, want\n%s", n, want);
	if (strcmp(buf, want) != 0)
		fail_msg("got\n%swant\n%s", buf, want);
	assert_int_equal(n, strlen(want));
}

static void
check_text(const struct ldm_event *e, const char *want)
{
	char buf[LDM_EVENT_LINE_MAX];
	int n = ldm_event_text(e, buf, sizeof(buf));

	if (n < 0)
		fail_msg("ldm_event_text: %d, want\n%s", n, want);
	if (strcmp(buf, want) != 0)
		fail_msg("got\n%s\nwant\n%s", buf, want);
	assert_int_equal(n, strlen(want));
}

static void
check_text_traffic(const struct ldm_event *e)
{
	check_text(e, "traffic udp -> 192.168.144.10:14550 (rule 1 \"MAVLink\") session 7 "
	              "packets_out 0 bytes_out 26800 packets_in 0 bytes_in 0");
}

static void
test_json_golden(void **state)
{
	struct ldm_event e;

	(void)state;
	blocked_event(&e);
	check_json(&e,
	           "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"blocked\",\"session\":7,"
	           "\"policy\":\"qgc\",\"uid\":1000,\"user\":\"pilot\",\"app\":\"/usr/bin/curl\","
	           "\"pid\":1234,\"proto\":\"tcp\",\"src\":\"10.0.0.2\",\"sport\":40000,"
	           "\"dst\":\"198.51.100.7\",\"dport\":443,\"host\":\"tiles.example.org\","
	           "\"label\":\"Tiles\",\"rule\":3,\"comment\":\"x\",\"reason\":\"deny rule\","
	           "\"count\":1}\n");

	ldm_event_init(&e, LDM_EVENT_WOULD_BLOCK, &(struct timespec){ 0, 999999999 });
	e.proto = LDM_PROTO_UDP;
	e.dst = addr("2001:db8::1");
	e.dport = 53;
	e.count = 17;
	check_json(&e, "{\"ts\":\"1970-01-01T00:00:00.999Z\",\"event\":\"would_block\","
	               "\"proto\":\"udp\",\"dst\":\"2001:db8::1\",\"dport\":53,\"count\":17}\n");

	ldm_event_init(&e, LDM_EVENT_SESSION_END, &ts0);
	e.session = 7;
	e.uid = 0;
	e.pid = 0;
	e.policy = "";
	e.blocked = 3;
	check_json(&e,
	           "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"session_end\",\"session\":7,"
	           "\"uid\":0,\"blocked\":3,\"would_block\":0,\"syscalls_denied\":0}\n");

	/* Counted traffic: the totals after the counts, "traffic" before them. */
	e.traffic_known = true;
	e.traffic = 2;
	e.packets_out = 100;
	e.bytes_out = 26800;
	e.packets_in = 99;
	e.bytes_in = 26532;
	check_json(&e,
	           "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"session_end\",\"session\":7,"
	           "\"uid\":0,\"blocked\":3,\"would_block\":0,\"syscalls_denied\":0,"
	           "\"traffic\":2,\"packets_out\":100,\"bytes_out\":26800,\"packets_in\":99,"
	           "\"bytes_in\":26532}\n");

	/* A traffic record always has its four counters, zeros included. */
	ldm_event_init(&e, LDM_EVENT_TRAFFIC, &ts0);
	e.session = 7;
	e.proto = LDM_PROTO_UDP;
	e.dst = addr("192.168.144.10");
	e.dport = 14550;
	e.rule = 1;
	e.comment = "MAVLink";
	e.bytes_out = 26800;
	e.traffic = 9;          /* session_end only */
	e.traffic_known = true; /* session_end only */
	check_json(&e, "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"traffic\","
	               "\"session\":7,\"proto\":\"udp\",\"dst\":\"192.168.144.10\","
	               "\"dport\":14550,\"rule\":1,\"comment\":\"MAVLink\",\"packets_out\":0,"
	               "\"bytes_out\":26800,\"packets_in\":0,\"bytes_in\":0}\n");
	check_text_traffic(&e);

	ldm_event_init(&e, LDM_EVENT_SYSCALL_DENIED, &ts0);
	e.session = 2;
	e.syscall = "ptrace";
	e.nr = 101;
	e.err = EPERM;
	check_json(&e,
	           "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"syscall_denied\","
	           "\"session\":2,\"count\":1,\"syscall\":\"ptrace\",\"nr\":101,\"errno\":1}\n");

	/* A name the session resolved to an address: counted (folded like floods). */
	ldm_event_init(&e, LDM_EVENT_RESOLVED, &ts0);
	e.session = 7;
	e.dst = addr("198.51.100.7");
	e.host = "cdn.example.net";
	check_json(&e, "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"resolved\","
	               "\"session\":7,\"dst\":\"198.51.100.7\",\"host\":\"cdn.example.net\","
	               "\"count\":1}\n");

	ldm_event_init(&e, LDM_EVENT_ERROR, &ts0);
	e.reason = "rules removed";
	e.count = 5; /* not a counted event: no count */
	check_json(&e, "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"error\","
	               "\"reason\":\"rules removed\"}\n");
}

static void
test_text_golden(void **state)
{
	struct ldm_event e;

	(void)state;
	blocked_event(&e);
	check_text(&e, "blocked tcp 10.0.0.2:40000 -> 198.51.100.7:443 (host tiles.example.org "
	               "\"Tiles\", rule 3 \"x\") session 7 policy qgc uid 1000 user pilot pid 1234 "
	               "app /usr/bin/curl: deny rule");
	e.label = NULL;
	e.comment = NULL;
	e.count = 4;
	e.src = addr("2001:db8::2");
	e.dst = addr("2001:db8::1");
	check_text(&e,
	           "blocked tcp [2001:db8::2]:40000 -> [2001:db8::1]:443 (host "
	           "tiles.example.org, rule 3) session 7 policy qgc uid 1000 user pilot pid 1234 "
	           "app /usr/bin/curl count 4: deny rule");

	ldm_event_init(&e, LDM_EVENT_BLOCKED, &ts0);
	e.proto = LDM_PROTO_ICMP;
	e.dst = addr("192.0.2.1");
	e.label = "Router";
	check_text(&e, "blocked icmp -> 192.0.2.1 (\"Router\")");

	ldm_event_init(&e, LDM_EVENT_SYSCALL_DENIED, &ts0);
	e.session = 2;
	e.syscall = "ptrace";
	e.nr = 101;
	e.err = EPERM;
	e.reason = "denied";
	check_text(&e, "syscall_denied ptrace nr 101 errno EPERM session 2: denied");

	ldm_event_init(&e, LDM_EVENT_SESSION_END, &ts0);
	e.session = 7;
	e.would_block = 2;
	check_text(&e, "session_end session 7 blocked 0 would_block 2 syscalls_denied 0");
}

/* Each string goes in as the reason of an error event; the JSON and text forms of it. */
static void
test_escape(void **state)
{
	static const struct {
		const char *in, *json, *text;
	} cases[] = {
		{ "plain", "plain", "plain" },
		{ "a\"b\\c", "a\\\"b\\\\c", "a\\\"b\\\\c" },
		{ "l1\nl2\r\t", "l1\\u000al2\\u000d\\u0009", "l1\\x0al2\\x0d\\x09" },
		{ "\x01\x1f\x7f", "\\u0001\\u001f\\u007f", "\\x01\\x1f\\x7f" },
		{ "\x1b[2J", "\\u001b[2J", "\\x1b[2J" },
		{ "caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9" },                /* é */
		{ "\xf0\x9f\x9a\x81", "\xf0\x9f\x9a\x81", "\xf0\x9f\x9a\x81" }, /* U+1F681 */
		{ "\xc2\x9b", "\\u009b", "\\xc2\\x9b" },                        /* C1 CSI */
		{ "\xe2\x80\xa8", "\xe2\x80\xa8", "\xe2\x80\xa8" },             /* U+2028 */
		{ "a\xff", "a\\ufffd", "a\\xff" },
		{ "\xe2\x82", "\\ufffd\\ufffd", "\\xe2\\x82" },    /* cut short */
		{ "\xe2\x82x", "\\ufffd\\ufffdx", "\\xe2\\x82x" }, /* bad continuation */
		{ "\xc0\xaf", "\\ufffd\\ufffd", "\\xc0\\xaf" },    /* overlong '/' */
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd", "\\xe0\\x80\\xaf" },
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd", "\\xed\\xa0\\x80" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd", "\\xf4\\x90\\x80\\x80" },
		{ "\xef\xbf\xbd", "\\ufffd", "\\xef\\xbf\\xbd" }, /* U+FFFD itself */
		{ "\x80", "\\ufffd", "\\x80" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char want[256];
		struct ldm_event e;

		ldm_event_init(&e, LDM_EVENT_ERROR, &ts0);
		e.reason = cases[i].in;
		(void)snprintf(want, sizeof(want),
		               "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"error\","
		               "\"reason\":\"%s\"}\n",
		               cases[i].json);
		check_json(&e, want);
		(void)snprintf(want, sizeof(want), "error: %s", cases[i].text);
		check_text(&e, want);
	}
}

/* Every buffer too small gets -ENOBUFS and "", never a cut line. */
static void
test_nobufs(void **state)
{
	int (*fmt[])(const struct ldm_event *, char *, size_t) = { ldm_event_json, ldm_event_text };
	struct ldm_event e;
	char buf[1024];

	(void)state;
	blocked_event(&e);
	for (size_t f = 0; f < ELEMENTSOF(fmt); f++) {
		int len = fmt[f](&e, buf, sizeof(buf));

		assert_true(len > 0);
		assert_int_equal(fmt[f](&e, NULL, 0), -ENOBUFS);
		for (size_t size = 1; size <= (size_t)len; size++) {
			memset(buf, 'x', sizeof(buf));
			assert_int_equal(fmt[f](&e, buf, size), -ENOBUFS);
			assert_string_equal(buf, "");
		}
		assert_int_equal(fmt[f](&e, buf, (size_t)len + 1), len);
	}
}

static void
test_invalid(void **state)
{
	static const struct {
		int type;
		struct timespec ts;
	} cases[] = {
		{ 0, { TS_SEC, 0 } },
		{ 64, { TS_SEC, 0 } }, /* past every type */
		{ LDM_EVENT_BLOCKED, { TS_SEC, 1000000000 } },
		{ LDM_EVENT_BLOCKED, { TS_SEC, -1 } },
		{ LDM_EVENT_BLOCKED, { 253402300800, 0 } }, /* 10000-01-01 */
		{ LDM_EVENT_BLOCKED, { -62167219201, 0 } }, /* -0001-12-31T23:59:59 */
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_event e;

		ldm_event_init(&e, (enum ldm_event_type)cases[i].type, &cases[i].ts);
		assert_int_equal(ldm_event_json(&e, buf, sizeof(buf)), -EINVAL);
		assert_string_equal(buf, "");
	}
	{
		struct ldm_event e;

		ldm_event_init(&e, LDM_EVENT_BLOCKED, &(struct timespec){ 253402300799, 0 });
		e.dst.family = 99; /* an address of an unknown family */
		assert_int_equal(ldm_event_json(&e, buf, sizeof(buf)), -EINVAL);
		assert_int_equal(ldm_event_text(&e, buf, sizeof(buf)), -EINVAL);
		e.dst.family = 0;
		assert_true(ldm_event_json(&e, buf, sizeof(buf)) > 0);
		assert_non_null(strstr(buf, "\"9999-12-31T23:59:59.000Z\""));
	}
}

/* Strings past their caps are cut; the worst record still fits LDM_EVENT_LINE_MAX. */
static void
test_caps(void **state)
{
	static char junk[4096], big[4096];
	char buf[LDM_EVENT_LINE_MAX], want[600];
	struct ldm_event e;
	int n;

	(void)state;
	memset(junk, 0xff, sizeof(junk) - 1);
	memset(big, 'a', sizeof(big) - 1);
	blocked_event(&e);
	e.event = LDM_EVENT_SYSCALL_DENIED;
	e.src = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	e.dst = e.src;
	e.session = e.count = UINT64_MAX;
	e.policy = e.user = e.app = e.host = e.label = e.comment = e.reason = e.syscall = e.path =
	        junk;
	n = ldm_event_json(&e, buf, sizeof(buf));
	assert_true(n > 0 && n < LDM_EVENT_LINE_MAX);
	n = ldm_event_text(&e, buf, sizeof(buf));
	assert_true(n > 0 && n < LDM_EVENT_LINE_MAX);

	ldm_event_init(&e, LDM_EVENT_ERROR, &ts0);
	e.reason = big;
	assert_true(ldm_event_json(&e, buf, sizeof(buf)) > 0);
	memset(want, 'a', LDM_EVENT_REASON_MAX);
	want[LDM_EVENT_REASON_MAX] = '\0';
	assert_non_null(strstr(buf, want));
	assert_int_equal(strlen(buf), strlen("{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":"
	                                     "\"error\",\"reason\":\"\"}\n") +
	                                      LDM_EVENT_REASON_MAX);
	/* A character cut in two by the cap is not UTF-8 any more: one U+FFFD. */
	big[LDM_EVENT_REASON_MAX - 1] = '\xc3';
	big[LDM_EVENT_REASON_MAX] = '\xa9';
	n = ldm_event_json(&e, buf, sizeof(buf));
	assert_true(n > 10);
	assert_string_equal(buf + n - 10, "a\\ufffd\"}\n");
}

static void
roundtrip(const struct ldm_event *e)
{
	char line[LDM_EVENT_LINE_MAX], again[LDM_EVENT_LINE_MAX];
	struct ldm_event_view v;
	int n = ldm_event_json(e, line, sizeof(line));

	assert_true(n > 0);
	if (ldm_event_parse_json(line, (size_t)n, &v) != 0)
		fail_msg("cannot read back %s", line);
	assert_int_equal(ldm_event_json(&v.ev, again, sizeof(again)), n);
	assert_string_equal(again, line);
	/* Without the newline too. */
	assert_int_equal(ldm_event_parse_json(line, (size_t)n - 1, &v), 0);
}

static void
test_parse_roundtrip(void **state)
{
	struct ldm_event e;
	struct ldm_event_view v;
	char line[LDM_EVENT_LINE_MAX];
	int n;

	(void)state;
	blocked_event(&e);
	roundtrip(&e);
	e.src = addr("::1");
	e.dst = addr("fe80::1:2");
	e.proto = LDM_PROTO_OTHER;
	e.count = UINT64_MAX;
	e.reason = "a\"\\\n\x01\x7f\xc2\x9b\xff\xe2\x82 caf\xc3\xa9 \xef\xbf\xbd";
	roundtrip(&e);
	ldm_event_init(&e, LDM_EVENT_SYSCALL_DENIED, &ts0);
	e.nr = INT32_MIN;
	e.err = INT32_MAX;
	e.uid = LDM_EVENT_UID_NONE - 1;
	roundtrip(&e);
	ldm_event_init(&e, LDM_EVENT_SESSION_END, &(struct timespec){ -62167219200, 0 });
	e.blocked = UINT64_MAX;
	roundtrip(&e);
	e.traffic_known = true;
	e.bytes_in = UINT64_MAX;
	roundtrip(&e);
	n = ldm_event_json(&e, line, sizeof(line));
	assert_int_equal(ldm_event_parse_json(line, (size_t)n, &v), 0);
	assert_true(v.ev.traffic_known);
	assert_true(v.ev.bytes_in == UINT64_MAX);
	ldm_event_init(&e, LDM_EVENT_TRAFFIC, &ts0);
	e.dst = addr("2001:db8::1");
	e.packets_out = 1;
	roundtrip(&e);
	ldm_event_init(&e, LDM_EVENT_RESOLVED, &ts0);
	e.session = 3;
	e.dst = addr("2001:db8::7");
	e.host = "tiles.example.org";
	e.count = 9;
	roundtrip(&e);

	/* What the reader gives: invalid bytes and U+FFFD come back as 0xff. */
	blocked_event(&e);
	e.reason = "x\xe2\x82y\xef\xbf\xbd";
	e.label = NULL;
	n = ldm_event_json(&e, line, sizeof(line));
	assert_int_equal(ldm_event_parse_json(line, (size_t)n, &v), 0);
	assert_string_equal(v.ev.reason, "x\xff\xffy\xff");
	assert_null(v.ev.label);
	assert_string_equal(v.ev.host, "tiles.example.org");
	assert_int_equal(v.ev.ts.tv_sec, TS_SEC);
	assert_int_equal(v.ev.ts.tv_nsec, 123000000);
	assert_int_equal(v.ev.dst.family, AF_INET);
	assert_memory_equal(v.ev.dst.addr, e.dst.addr, 4);
	assert_int_equal(v.ev.sport, 40000);
	assert_int_equal(v.ev.rule, 3);
	assert_int_equal(v.ev.count, 1);
}

#define HEAD "{\"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":"
/* Lines the reader refuses (and a few it takes), one per rejection path. */
static const struct {
	const char *in;
	int rc;
} reject_cases[] = {
	{ "", -EBADMSG },
	{ "\n", -EBADMSG },
	{ "{}", -EBADMSG },
	{ HEAD "\"error\"}\n\n", -EBADMSG },
	{ HEAD "\"error\"} ", -EBADMSG },
	{ HEAD "\"error\",}", -EBADMSG },
	{ HEAD "\"error\"", -EBADMSG },
	{ "{ \"ts\":\"2026-11-25T02:14:29.123Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"event\":\"error\",\"ts\":\"2026-11-25T02:14:29.123Z\"}", -EBADMSG },
	{ "{\"event\":\"error\"}", -EBADMSG },
	{ HEAD "\"error\",\"session\":1,\"session\":1}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\",\"session\":1}", -EBADMSG },
	/* Unknown keys are skipped, but only with a well-formed JSON value (bounded). */
	{ HEAD "\"error\",\"nope\":}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":01}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":1.}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":tru}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":\"a}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":\"\\x\"}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":[1,]}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":{\"a\":1,}}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":{\"a\"}}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":1,\"nope\":2}", -EBADMSG },
	{ HEAD "\"error\",\"seq\":1}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":1,\"session\":1,\"session\":1}", -EBADMSG },
	{ HEAD "\"error\",\"session\":1,\"nope\":1,\"event\":\"error\"}", -EBADMSG },
	{ HEAD "\"error\",\"nope\":1,\"session\":\"1\"}", -EBADMSG },
	{ HEAD "\"error\",\"nope\" :1}", -EBADMSG },
	{ HEAD "\"nope\"}", -EBADMSG },
	{ HEAD "\"error\",\"session\":0}", -EBADMSG },
	{ HEAD "\"error\",\"session\":01}", -EBADMSG },
	{ HEAD "\"error\",\"session\":+1}", -EBADMSG },
	{ HEAD "\"error\",\"session\":-1}", -EBADMSG },
	{ HEAD "\"error\",\"session\":1.0}", -EBADMSG },
	{ HEAD "\"error\",\"session\":18446744073709551616}", -EBADMSG },
	{ HEAD "\"error\",\"uid\":4294967295}", -EBADMSG },
	{ HEAD "\"error\",\"uid\":4294967296}", -EBADMSG },
	{ HEAD "\"error\",\"sport\":65536}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\u00e9\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\u000A\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\n\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\u0000\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\u0041\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\n\"}", -EBADMSG },
	/* traffic keys: all four or none, only on traffic and session_end */
	{ HEAD "\"traffic\",\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3}", -EBADMSG },
	{ HEAD "\"traffic\"}", -EBADMSG },
	{ HEAD "\"error\",\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3,\"bytes_in\":4}",
	  -EBADMSG },
	{ HEAD "\"traffic\",\"traffic\":1,\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3,"
	       "\"bytes_in\":4}",
	  -EBADMSG },
	{ HEAD "\"session_end\",\"blocked\":0,\"would_block\":0,\"syscalls_denied\":0,"
	       "\"traffic\":1}",
	  -EBADMSG },
	{ HEAD "\"session_end\",\"blocked\":0,\"would_block\":0,\"syscalls_denied\":0,"
	       "\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3,\"bytes_in\":4}",
	  -EBADMSG },
	{ HEAD "\"traffic\",\"bytes_in\":4,\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3}",
	  -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\xff\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"\xef\xbf\xbd\"}", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\", -EBADMSG },
	{ HEAD "\"error\",\"policy\":\"a\\u00", -EBADMSG },
	{ HEAD "\"error\",\"dst\":\"1.2.3\"}", -EBADMSG },
	{ HEAD "\"error\",\"dst\":\"::ffff:1.2.3.4\"}", 0 },
	{ HEAD "\"error\",\"dst\":\"2001:DB8::1\"}", -EBADMSG },
	{ HEAD "\"error\",\"dst\":\"2001:db8:0::1\"}", -EBADMSG },
	{ HEAD "\"blocked\",\"proto\":\"unix\",\"dst\":\"/tmp/.X11-unix/X0\",\"count\":1}", 0 },
	{ HEAD "\"blocked\",\"proto\":\"unix\",\"dst\":\"@a\\\\x00b\",\"count\":1}", 0 },
	{ HEAD "\"blocked\",\"proto\":\"tcp\",\"dst\":\"/tmp/x\",\"count\":1}", -EBADMSG },
	{ HEAD "\"blocked\",\"dst\":\"/tmp/x\",\"count\":1}", -EBADMSG },
	{ HEAD "\"blocked\",\"proto\":\"unix\",\"dst\":\"tmp/x\",\"count\":1}", -EBADMSG },
	{ HEAD "\"blocked\",\"proto\":\"unix\",\"dst\":\"\",\"count\":1}", -EBADMSG },
	{ HEAD "\"error\",\"proto\":\"any\"}", -EBADMSG },
	{ HEAD "\"error\",\"proto\":\"tcp\"}", 0 },
	{ HEAD "\"error\",\"count\":1}", -EBADMSG },
	{ HEAD "\"blocked\"}", -EBADMSG },
	{ HEAD "\"blocked\",\"count\":0}", -EBADMSG },
	{ HEAD "\"blocked\",\"count\":2}", 0 },
	{ HEAD "\"session_end\",\"blocked\":1}", -EBADMSG },
	{ HEAD "\"syscall_denied\",\"count\":1,\"nr\":-0,\"errno\":1}", -EBADMSG },
	{ HEAD "\"syscall_denied\",\"count\":1,\"nr\":-1,\"errno\":1}", 0 },
	{ HEAD "\"syscall_denied\",\"count\":1,\"nr\":2147483648,\"errno\":1}", -EBADMSG },
	{ HEAD "\"syscall_denied\",\"count\":1,\"nr\":-2147483649,\"errno\":1}", -EBADMSG },
	{ "{\"ts\":\"2026-02-30T02:14:29.123Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-11-25T24:00:00.000Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-11-25T02:14:60.000Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-11-25 02:14:29.123Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-11-25T02:14:29.12Z\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-11-25T02:14:29.123+00:00\",\"event\":\"error\"}", -EBADMSG },
	{ "{\"ts\":\"2026-1a-25T02:14:29.123Z\",\"event\":\"error\"}", -EBADMSG },
	{ HEAD "\"error\"}", 0 },
};

/* A refused local socket: JSON and text name it as dst; it reads back and folds by it. */
static void
test_unix_dst(void **state)
{
	struct ldm_event e;
	struct ldm_event_view v;
	char buf[LDM_EVENT_LINE_MAX];
	int n;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, &(struct timespec){ 1764037469, 123000000 });
	e.session = 7;
	e.proto = LDM_PROTO_UNIX;
	e.sock = "/run/user/1000/bus";
	e.rule = 3;
	e.reason = "local socket denied by a rule";
	n = ldm_event_json(&e, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(
	        strstr(buf, "\"proto\":\"unix\",\"dst\":\"/run/user/1000/bus\",\"rule\":3"));
	assert_int_equal(ldm_event_parse_json(buf, (size_t)n, &v), 0);
	assert_string_equal(v.ev.sock, "/run/user/1000/bus");
	assert_int_equal(v.ev.dst.family, 0);
	assert_int_equal(v.ev.proto, LDM_PROTO_UNIX);
	n = ldm_event_text(&e, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "blocked unix -> /run/user/1000/bus (rule 3)"));
}

static void
test_parse_reject(void **state)
{
	struct ldm_event_view v;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(reject_cases); i++) {
		int rc;

		memset(&v, 0x5a, sizeof(v));
		rc = ldm_event_parse_json(reject_cases[i].in, strlen(reject_cases[i].in), &v);
		if (rc != reject_cases[i].rc)
			fail_msg("'%s': got %d, want %d", reject_cases[i].in, rc,
			         reject_cases[i].rc);
		if (rc != 0)
			assert_int_equal(v.ev.session, 0x5a5a5a5a5a5a5a5aull);
	}
}

/* Forward compatibility: a record of a later version, with keys this one does not know. */
static void
test_parse_unknown(void **state)
{
	static const struct {
		const char *in;
		uint64_t session;
	} cases[] = {
		{ HEAD "\"error\",\"nope\":1}", 0 },
		{ HEAD "\"error\",\"session\":7,\"nope\":-1.5e+3}", 7 },
		{ HEAD "\"error\",\"nope\":null,\"session\":7}", 7 },
		{ HEAD "\"error\",\"a\":true,\"b\":false,\"session\":7}", 7 },
		{ HEAD "\"error\",\"nope\":\"\\n\\u00e9\\/\",\"session\":7}", 7 },
		{ HEAD "\"error\",\"nope\":[1,\"x\",{\"y\":[]},{}],\"session\":7}", 7 },
		{ HEAD "\"error\",\"session\":7,\"nope\":{\"a\":{\"b\":1}}}\n", 7 },
	};
	struct ldm_event_view v;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int rc = ldm_event_parse_json(cases[i].in, strlen(cases[i].in), &v);

		if (rc != 0)
			fail_msg("'%s': got %d, want 0", cases[i].in, rc);
		assert_int_equal(v.ev.event, LDM_EVENT_ERROR);
		assert_int_equal(v.ev.session, cases[i].session);
	}
	/* Raw DEL and C1 (U+009B, the 8-bit CSI) in an unknown key's string: ldmctl log
	 * --json prints the line as written, so they are refused as a writer never makes them. */
	static const char *const raw[] = {
		HEAD "\"error\",\"nope\":\"\x7f\"}",
		HEAD "\"error\",\"nope\":[\"\xc2\x9b\x33\x31m\"]}",
	};
	for (size_t i = 0; i < ELEMENTSOF(raw); i++)
		assert_int_equal(ldm_event_parse_json(raw[i], strlen(raw[i]), &v), -EBADMSG);
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The identity keys: written at the end, read back, a bad hash never written nor read. */
static void
test_identity(void **state)
{
	static const char *const bad[] = {
		HEAD "\"session_start\",\"exe_sha256\":\"" H64 "0\"}",
		HEAD "\"session_start\",\"exe_sha256\":\"0123456789ABCDEF" H64 "\"}",
		HEAD "\"session_start\",\"sha256\":\"abc\"}",
		HEAD "\"session_start\",\"ipv6\":1}",
		HEAD "\"session_start\",\"ipv6\":\"true\"}",
		HEAD "\"session_start\",\"landlock_abi\":0}",
		HEAD "\"session_start\",\"ipv6\":true,\"hostname\":\"h\"}",
	};
	char line[LDM_EVENT_LINE_MAX];
	struct ldm_event_view v;
	struct ldm_event e;
	int n;

	(void)state;
	ldm_event_init(&e, LDM_EVENT_SESSION_START, &ts0);
	e.session = 7;
	e.machine = "0123456789abcdef0123456789abcdef";
	e.hostname = "gcs-laptop";
	e.version = "0.1.0";
	e.boot_id = "5f0c2a64-1b9e-4c1e-9d4e-2f6b1c9a0e11";
	e.exe_sha256 = H64;
	e.policy_sha256 = H64;
	e.landlock_abi = 3;
	e.seccomp_notify = LDM_EVENT_YES;
	e.ipv6 = LDM_EVENT_NO;
	n = ldm_event_json(&e, line, sizeof(line));
	assert_true(n > 0);
	assert_non_null(strstr(line, "\"machine\":\"0123456789abcdef0123456789abcdef\","
	                             "\"hostname\":\"gcs-laptop\",\"version\":\"0.1.0\","));
	assert_non_null(strstr(line, ",\"landlock_abi\":3,\"seccomp_notify\":true,"
	                             "\"ipv6\":false}\n"));
	roundtrip(&e);
	assert_int_equal(ldm_event_parse_json(line, (size_t)n, &v), 0);
	assert_string_equal(v.ev.exe_sha256, H64);
	assert_int_equal(v.ev.ipv6, LDM_EVENT_NO);
	assert_int_equal(v.unknown, 0);
	e.exe_sha256 = "not a hash"; /* never written: a reader would refuse the record */
	assert_true(ldm_event_json(&e, line, sizeof(line)) > 0);
	assert_null(strstr(line, "exe_sha256"));
	ldm_event_init(&e, LDM_EVENT_POLICY_FILE, &ts0);
	e.path = "/etc/ldm/policies/qgc.conf";
	e.sha256 = H64;
	roundtrip(&e);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (ldm_event_parse_json(bad[i], strlen(bad[i]), &v) != -EBADMSG)
			fail_msg("'%s' was read", bad[i]);
}

#undef H64
#undef HEAD

static void
test_parse_too_long(void **state)
{
	static char line[LDM_EVENT_LINE_MAX + 2];
	struct ldm_event_view v;

	(void)state;
	memset(line, ' ', sizeof(line));
	assert_int_equal(ldm_event_parse_json(line, sizeof(line), &v), -E2BIG);
	assert_int_equal(ldm_event_parse_json(line, LDM_EVENT_LINE_MAX, &v), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_golden),     cmocka_unit_test(test_text_golden),
		cmocka_unit_test(test_escape),          cmocka_unit_test(test_nobufs),
		cmocka_unit_test(test_invalid),         cmocka_unit_test(test_caps),
		cmocka_unit_test(test_parse_roundtrip), cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_unix_dst),        cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_parse_unknown),   cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
