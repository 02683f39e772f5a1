/*
 * ldmctl verify: checks the log's hash chain (ldm/logchain.h) over the live log and its
 * rotated files, oldest first, and names the first record of every break: edited, removed,
 * reordered, inserted, or a chain that starts anew. Rotated files may be gzip-compressed
 * (logrotate's compress); zlib reads plain files as they are.
 *
 * Trust: no byte of the files is trusted. Lines are bounded by LDM_LOG_LINE_MAX (a longer
 * one is a break, and skipped to its end); the chain keys are read strictly; file names are
 * printed escaped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldm/logchain.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/logfiles.h"

#define VERIFY_MAX_REPORTS 20 /* breaks printed one by one; the rest are counted */

struct verify {
	struct ldm_chain chain;
	uint64_t records, breaks, first_seq;
	const char *file;
	unsigned long lineno;
	/* --expect SEQ:HEX: the record the pilot was shown at the end of a session */
	uint64_t expect_seq;
	char expect_hex[2 * LDM_CHAIN_HASH_LEN + 1];
	bool expect_seen, expect_ok;
};

static void
verify_usage(FILE *f)
{
	fputs("Usage: ldmctl verify [--log FILE]... [--expect RECORD:HASH]\n"
	      "\n"
	      "Checks the hash chain of ldm-enforcerd's event log: every record carries a\n"
	      "sequence number and the SHA-256 of the record before it, across rotations.\n"
	      "Names the first record of every break: a record edited, removed, reordered or\n"
	      "inserted, or a chain that starts anew (a log cut short).\n"
	      "  --log FILE   a file to check, in the order given (repeatable; - is standard\n"
	      "               input; gzip-compressed files are read as they are). Default: the\n"
	      "               rotated files of " LDMCTL_LOG_DEFAULT " (.N and .N.gz,\n"
	      "               oldest first), then the file itself\n"
	      "  --expect RECORD:HASH   the record ldm-run named at the end of a session\n"
	      "               (\"log record N, sha256 HEX\"): it must be in the log with that\n"
	      "               hash (HASH: at least 16 hex digits of it). The chain alone cannot\n"
	      "               vouch for the log's last records or catch a log cut short; the\n"
	      "               record the pilot saw can\n"
	      "\n"
	      "Prints the last record's number and hash.\n"
	      "\n"
	      "Exit status: 0 the chain holds, 1 it is broken or a file cannot be read,\n"
	      "2 usage error.\n",
	      f);
}

static void
report(struct verify *v, enum ldm_chain_result r)
{
	v->breaks++;
	if (v->breaks > VERIFY_MAX_REPORTS)
		return;
	fflush(stdout);
	ldmctl_put_escaped(stdout, v->file, false);
	printf(":%lu: record %llu: %s\n", v->lineno, (unsigned long long)v->chain.seq,
	       ldm_chain_result_text(r));
}

static void
on_line(void *u, const char *file, unsigned long lineno, const char *line, size_t len,
        bool too_long)
{
	struct verify *v = u;
	uint64_t before = v->chain.seq;
	enum ldm_chain_result r;

	v->file = file;
	v->lineno = lineno;
	if (too_long) { /* longer than any record: a break, and skipped */
		report(v, LDM_CHAIN_UNSEALED);
		return;
	}
	r = ldm_chain_check(&v->chain, line, len);
	v->records++;
	if (v->expect_seq != 0 && r != LDM_CHAIN_UNSEALED && v->chain.seq == v->expect_seq) {
		char hex[2 * LDM_CHAIN_HASH_LEN + 1];

		ldm_chain_hex(v->chain.head, hex);
		v->expect_seen = true;
		v->expect_ok = strncmp(hex, v->expect_hex, strlen(v->expect_hex)) == 0;
	}
	if (r == LDM_CHAIN_FIRST)
		v->first_seq = v->chain.seq;
	else if (r != LDM_CHAIN_OK)
		report(v, r);
	if (r == LDM_CHAIN_UNSEALED)
		v->chain.seq = before; /* the head stays: the next record is checked against it */
}

/* "SEQ:HEX", HEX 16 to 64 lower-case hex digits. */
static int
parse_expect(const char *arg, struct verify *v)
{
	const char *colon = strchr(arg, ':');
	char num[21];
	size_t hl;

	if (colon == NULL || colon == arg || (size_t)(colon - arg) >= sizeof(num))
		return -EINVAL;
	memcpy(num, arg, (size_t)(colon - arg));
	num[colon - arg] = '\0';
	hl = strlen(colon + 1);
	if (ldm_parse_u64(num, UINT64_MAX, &v->expect_seq) < 0 || v->expect_seq == 0 || hl < 16 ||
	    hl > 2 * LDM_CHAIN_HASH_LEN || strspn(colon + 1, "0123456789abcdef") != hl)
		return -EINVAL;
	memcpy(v->expect_hex, colon + 1, hl + 1);
	return 0;
}

int
ldmctl_verify(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "log", required_argument, NULL, 'L' },
		{ "expect", required_argument, NULL, 'E' },
		{},
	};
	static struct ldmctl_logfiles files;
	struct verify v = { 0 };
	char hex[2 * LDM_CHAIN_HASH_LEN + 1];
	int c, r = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'L') {
			if (optarg[0] == '\0' || ldmctl_logfiles_add(&files, optarg) < 0)
				return ldmctl_usage_error("verify",
				                          "--log needs a file (at most %d)",
				                          LDMCTL_LOG_MAX_FILES);
			continue;
		}
		if (c == 'E') {
			if (parse_expect(optarg, &v) < 0)
				return ldmctl_usage_error(
				        "verify", "--expect takes RECORD:HASH, e.g. "
				                  "1234:0123456789abcdef (16 to 64 hex digits)");
			continue;
		}
		if (c == '?')
			return ldmctl_usage_hint("verify");
		r = ldmctl_common_option(ctx, c, optarg);
		if (r == 1) {
			verify_usage(stdout);
			return LDMCTL_EXIT_OK;
		}
		if (r < 0)
			return LDMCTL_EXIT_USAGE;
	}
	if (optind < argc)
		return ldmctl_usage_error(
		        "verify", "unexpected argument '%s' (files go with --log)", argv[optind]);
	r = files.n == 0 ? ldmctl_logfiles_default(&files, LDMCTL_LOG_DEFAULT) : 0;
	if (r == 0)
		r = ldmctl_logfiles_read(&files, "verify", on_line, &v);
	ldmctl_logfiles_clear(&files);
	if (v.breaks > VERIFY_MAX_REPORTS)
		printf("... and %llu more breaks\n",
		       (unsigned long long)(v.breaks - VERIFY_MAX_REPORTS));
	if (v.records == 0) {
		printf("ldmctl verify: no records\n");
		return r < 0 ? LDMCTL_EXIT_FAIL : LDMCTL_EXIT_OK;
	}
	ldm_chain_hex(v.chain.head, hex);
	printf("ldmctl verify: %llu records, %s; records %llu to %llu, last %.16s\n",
	       (unsigned long long)v.records, v.breaks == 0 ? "chain intact" : "CHAIN BROKEN",
	       (unsigned long long)v.first_seq, (unsigned long long)v.chain.seq, hex);
	if (v.expect_seq != 0 && !v.expect_ok)
		printf("ldmctl verify: record %llu %s\n", (unsigned long long)v.expect_seq,
		       v.expect_seen ? "is not the record expected: its hash differs (edited)"
		                     : "is not in the log (cut short, or the wrong log)");
	return r < 0 || v.breaks > 0 || (v.expect_seq != 0 && !v.expect_ok) ? LDMCTL_EXIT_FAIL
	                                                                    : LDMCTL_EXIT_OK;
}
