/* The log's hash chain (enforcer/logchain.c): sealing, splitting, and what the verifier
 * says about edited, removed, reordered and inserted records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/logchain.h"

#define N 6

static char lines[N][256];
static size_t lens[N];

/* Writes N sealed records as the daemon would, chained from an empty head. */
static void
make_log(void)
{
	struct ldm_chain c = { 0 };

	for (int i = 0; i < N; i++) {
		int n = snprintf(lines[i], sizeof(lines[i]),
		                 "{\"ts\":\"2026-12-02T10:00:0%d.000Z\",\"event\":\"blocked\","
		                 "\"session\":7,\"count\":1}\n",
		                 i);

		n = ldm_chain_seal(&c, lines[i], (size_t)n, sizeof(lines[i]));
		assert_true(n > 0);
		lens[i] = (size_t)n;
		assert_int_equal(ldm_chain_advance(&c, lines[i], lens[i]), 0);
	}
	assert_int_equal(c.seq, N);
}

static void
test_seal_form(void **state)
{
	char buf[256] = "{\"event\":\"tamper\"}\n", body[256];
	struct ldm_chain c = { .seq = 41 };
	uint8_t prev[LDM_CHAIN_HASH_LEN], want[LDM_CHAIN_HASH_LEN];
	uint64_t seq;
	size_t blen;
	int n;

	(void)state;
	memset(c.head, 0xab, sizeof(c.head));
	n = ldm_chain_seal(&c, buf, strlen(buf), sizeof(buf));
	assert_string_equal(buf, "{\"event\":\"tamper\",\"seq\":42,\"prev\":\""
	                         "abababababababababababababababab"
	                         "abababababababababababababababab\"}\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(ldm_chain_split(buf, (size_t)n, &blen, &seq, prev), 0);
	assert_int_equal(seq, 42);
	assert_memory_equal(prev, c.head, sizeof(prev));
	assert_int_equal(ldm_chain_unseal(buf, (size_t)n, body, sizeof(body)), 18);
	assert_string_equal(body, "{\"event\":\"tamper\"}");
	/* advancing hashes the line without its "\n" */
	assert_int_equal(ldm_chain_advance(&c, buf, (size_t)n), 0);
	assert_int_equal(ldm_chain_hash(buf, (size_t)n - 1, want), 0);
	assert_memory_equal(c.head, want, sizeof(want));
	assert_int_equal(c.seq, 42);
}

static void
test_seal_refuses(void **state)
{
	struct ldm_chain c = { 0 };
	char small[40] = "{\"event\":\"tamper\"}";
	char notobj[64] = "[1,2]";

	(void)state;
	assert_int_equal(ldm_chain_seal(&c, small, strlen(small), sizeof(small)), -ENOBUFS);
	assert_string_equal(small, "{\"event\":\"tamper\"}");
	assert_int_equal(ldm_chain_seal(&c, notobj, strlen(notobj), sizeof(notobj)), -EINVAL);
}

static void
test_split_strict(void **state)
{
	static const char *const bad[] = {
		"{\"a\":1}",
		"{\"seq\":1,\"prev\":\"" /* no comma before seq: it is the only key */
		"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"a\":1,\"seq\":01,\"prev\":\""
		"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"a\":1,\"seq\":0,\"prev\":\""
		"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"a\":1,\"seq\":1,\"prev\":\""
		"000000000000000000000000000000000000000000000000000000000000000A\"}",
		"{\"a\":1,\"seq\":1,\"prev\":\"00\"}",
		"{\"a\":1,\"seq\":-1,\"prev\":\""
		"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"a\":1,\"seq\":99999999999999999999,\"prev\":\""
		"0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	uint8_t prev[LDM_CHAIN_HASH_LEN];
	uint64_t seq;
	size_t blen;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ldm_chain_split(bad[i], strlen(bad[i]), &blen, &seq, prev) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

/* Checks LOG (indexes into lines[], -1 ends it) and returns the results. */
static void
check_log(const int *order, enum ldm_chain_result *res)
{
	struct ldm_chain c = { 0 };

	for (int i = 0; order[i] >= 0; i++)
		res[i] = ldm_chain_check(&c, lines[order[i]], lens[order[i]]);
}

static void
test_verify_intact(void **state)
{
	const int order[] = { 0, 1, 2, 3, 4, 5, -1 };
	enum ldm_chain_result res[N];

	(void)state;
	make_log();
	check_log(order, res);
	assert_int_equal(res[0], LDM_CHAIN_FIRST);
	for (int i = 1; i < N; i++)
		assert_int_equal(res[i], LDM_CHAIN_OK);
}

static void
test_verify_edited(void **state)
{
	const int order[] = { 0, 1, 2, 3, 4, 5, -1 };
	enum ldm_chain_result res[N];

	(void)state;
	make_log();
	lines[2][strlen("{\"ts\":\"2026-12-02T10:00:0")] = '9'; /* one digit of record 3 */
	check_log(order, res);
	assert_int_equal(res[1], LDM_CHAIN_OK);
	assert_int_equal(res[2], LDM_CHAIN_OK);     /* its own prev still fits */
	assert_int_equal(res[3], LDM_CHAIN_EDITED); /* the next one names it */
	assert_int_equal(res[4], LDM_CHAIN_OK);
}

static void
test_verify_removed_swapped(void **state)
{
	const int removed[] = { 0, 1, 3, 4, 5, -1 };
	const int swapped[] = { 0, 2, 1, 3, 4, 5, -1 };
	const int restarted[] = { 3, 4, 0, 1, -1 };
	enum ldm_chain_result res[N];

	(void)state;
	make_log();
	check_log(removed, res);
	assert_int_equal(res[2], LDM_CHAIN_MISSING);
	assert_int_equal(res[3], LDM_CHAIN_OK);
	check_log(swapped, res);
	assert_int_equal(res[1], LDM_CHAIN_MISSING);
	assert_int_equal(res[2], LDM_CHAIN_REORDERED);
	assert_int_equal(res[3], LDM_CHAIN_MISSING); /* 3 after 1: 2 is not where it belongs */
	check_log(restarted, res);
	assert_int_equal(res[0], LDM_CHAIN_FIRST);
	assert_int_equal(res[2], LDM_CHAIN_RESTARTED);
	assert_int_equal(res[3], LDM_CHAIN_OK);
}

static void
test_verify_inserted(void **state)
{
	struct ldm_chain c = { 0 };
	char forged[256] = "{\"event\":\"session_end\",\"blocked\":0}";
	struct ldm_chain fake = { .seq = 2 };
	int n;

	(void)state;
	make_log();
	/* A forger who knows the scheme but not record 3's hash: seq 3 after record 2. */
	n = ldm_chain_seal(&fake, forged, strlen(forged), sizeof(forged));
	assert_true(n > 0);
	assert_int_equal(ldm_chain_check(&c, lines[0], lens[0]), LDM_CHAIN_FIRST);
	assert_int_equal(ldm_chain_check(&c, lines[1], lens[1]), LDM_CHAIN_OK);
	assert_int_equal(ldm_chain_check(&c, forged, (size_t)n), LDM_CHAIN_EDITED);
	assert_int_equal(ldm_chain_check(&c, lines[2], lens[2]), LDM_CHAIN_REORDERED);
	/* and an unsealed line */
	assert_int_equal(ldm_chain_check(&c, "{\"event\":\"blocked\"}", 19), LDM_CHAIN_UNSEALED);
}

static void
test_head_text(void **state)
{
	struct ldm_chain c = { .seq = 1234 }, back = { 0 };
	char buf[LDM_CHAIN_HEAD_TEXT_MAX];

	(void)state;
	memset(c.head, 0x5a, sizeof(c.head));
	assert_true(ldm_chain_head_format(&c, buf, sizeof(buf)) > 0);
	assert_int_equal(ldm_chain_head_parse(buf, &back), 0);
	assert_int_equal(back.seq, 1234);
	assert_memory_equal(back.head, c.head, sizeof(c.head));
	assert_int_equal(ldm_chain_head_parse("12 abc\n", &back), -EBADMSG);
	assert_int_equal(ldm_chain_head_parse(" 5a5a\n", &back), -EBADMSG);
	assert_int_equal(ldm_chain_head_parse("x 5a\n", &back), -EBADMSG);
	buf[5] = 'G';
	assert_int_equal(ldm_chain_head_parse(buf, &back), -EBADMSG);
	assert_int_equal(back.seq, 1234);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_form),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_split_strict),
		cmocka_unit_test(test_verify_intact),
		cmocka_unit_test(test_verify_edited),
		cmocka_unit_test(test_verify_removed_swapped),
		cmocka_unit_test(test_verify_inserted),
		cmocka_unit_test(test_head_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
