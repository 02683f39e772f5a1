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
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "ldm/logchain.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

#define VERIFY_DEFAULT_LOG "/var/log/ldm/events.jsonl"
#define VERIFY_MAX_FILES   1024
#define VERIFY_MAX_REPORTS 20 /* breaks printed one by one; the rest are counted */

struct verify {
	struct ldm_chain chain;
	uint64_t records, breaks, first_seq;
	const char *file;
	unsigned long lineno;
};

static void
verify_usage(FILE *f)
{
	fputs("Usage: ldmctl verify [--log FILE]...\n"
	      "\n"
	      "Checks the hash chain of ldm-enforcerd's event log: every record carries a\n"
	      "sequence number and the SHA-256 of the record before it, across rotations.\n"
	      "Names the first record of every break: a record edited, removed, reordered or\n"
	      "inserted, or a chain that starts anew (a log cut short).\n"
	      "  --log FILE   a file to check, in the order given (repeatable; - is standard\n"
	      "               input; gzip-compressed files are read as they are). Default: the\n"
	      "               rotated files of " VERIFY_DEFAULT_LOG " (.N and .N.gz,\n"
	      "               oldest first), then the file itself\n"
	      "\n"
	      "Prints the last record's number and hash, to compare with what ldm-run showed\n"
	      "at the end of a session: a log cut short after it verifies, but ends before it.\n"
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
check_line(struct verify *v, const char *line, size_t len)
{
	uint64_t before = v->chain.seq;
	enum ldm_chain_result r = ldm_chain_check(&v->chain, line, len);

	v->records++;
	if (r == LDM_CHAIN_FIRST)
		v->first_seq = v->chain.seq;
	else if (r != LDM_CHAIN_OK)
		report(v, r);
	if (r == LDM_CHAIN_UNSEALED)
		v->chain.seq = before; /* the head stays: the next record is checked against it */
}

/* Checks every line of the open file G. Returns 0, or -EIO when it cannot be read. */
static int
check_file(struct verify *v, gzFile g)
{
	static char line[LDM_LOG_LINE_MAX + 1];
	bool long_line = false;

	v->lineno = 0;
	while (gzgets(g, line, sizeof(line)) != NULL) {
		size_t len = strlen(line);
		bool whole = len > 0 && line[len - 1] == '\n';

		if (!long_line)
			v->lineno++;
		if (long_line || (!whole && len == sizeof(line) - 1)) {
			/* longer than any record: one break, skipped to its end */
			if (!long_line)
				report(v, LDM_CHAIN_UNSEALED);
			long_line = !whole;
			continue;
		}
		check_line(v, line, whole ? len - 1 : len);
	}
	if (!gzeof(g))
		return -EIO;
	return 0;
}

static int
check_path(struct verify *v, const char *path)
{
	gzFile g;
	int r;

	v->file = strcmp(path, "-") == 0 ? "(stdin)" : path;
	g = strcmp(path, "-") == 0 ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
	if (g == NULL) {
		fputs("ldmctl: verify: ", stderr);
		ldmctl_put_escaped(stderr, v->file, false);
		fprintf(stderr, ": %s\n", strerror(errno != 0 ? errno : ENOMEM));
		return -EIO;
	}
	r = check_file(v, g);
	if (r < 0) {
		fputs("ldmctl: verify: ", stderr);
		ldmctl_put_escaped(stderr, v->file, false);
		fputs(": read error\n", stderr);
	}
	(void)gzclose(g);
	return r;
}

/* The rotation number of NAME if it is BASE.N or BASE.N.gz, else 0. */
static unsigned long
rotation_of(const char *name, const char *base)
{
	size_t bl = strlen(base);
	char num[16];
	const char *p, *end;
	uint64_t n;

	if (strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	p = name + bl + 1;
	end = p + strspn(p, "0123456789");
	if (end == p || (size_t)(end - p) >= sizeof(num) ||
	    (*end != '\0' && strcmp(end, ".gz") != 0))
		return 0;
	memcpy(num, p, (size_t)(end - p));
	num[end - p] = '\0';
	return ldm_parse_u64(num, 100000, &n) == 0 ? (unsigned long)n : 0;
}

struct rotated {
	unsigned long n;
	char *path;
};

static int
by_rotation_desc(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

/* Checks LOG's rotated files (highest number, the oldest, first), then LOG. */
static int
check_default(struct verify *v, const char *log)
{
	static struct rotated files[VERIFY_MAX_FILES];
	const char *slash = strrchr(log, '/'), *base = slash != NULL ? slash + 1 : log;
	/* LOG's directory: "." without a slash, "/" for a file in the root */
	_cleanup_free_ char *dir = slash == NULL  ? strdup(".")
	                           : slash == log ? strdup("/")
	                                          : strndup(log, (size_t)(slash - log));
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int r = 0;

	if (dir == NULL)
		return -ENOMEM;
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL && n < VERIFY_MAX_FILES) {
		unsigned long k = rotation_of(de->d_name, base);

		if (k == 0 || asprintf(&files[n].path, "%s/%s", dir, de->d_name) < 0)
			continue;
		files[n++].n = k;
	}
	if (d != NULL)
		closedir(d);
	qsort(files, n, sizeof(files[0]), by_rotation_desc);
	for (size_t i = 0; i < n; i++) {
		if (check_path(v, files[i].path) < 0)
			r = -EIO;
		free(files[i].path);
	}
	if (check_path(v, log) < 0)
		r = -EIO;
	return r;
}

int
ldmctl_verify(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "log", required_argument, NULL, 'L' },
		{},
	};
	const char *logs[VERIFY_MAX_FILES];
	struct verify v = { 0 };
	char hex[2 * LDM_CHAIN_HASH_LEN + 1];
	size_t n_logs = 0;
	int c, r = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'L') {
			if (optarg[0] == '\0' || n_logs >= VERIFY_MAX_FILES)
				return ldmctl_usage_error("verify",
				                          "--log needs a file (at most %d)",
				                          VERIFY_MAX_FILES);
			logs[n_logs++] = optarg;
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
	r = 0;
	if (n_logs == 0)
		r = check_default(&v, VERIFY_DEFAULT_LOG);
	for (size_t i = 0; i < n_logs; i++)
		if (check_path(&v, logs[i]) < 0)
			r = -EIO;
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
	return r < 0 || v.breaks > 0 ? LDMCTL_EXIT_FAIL : LDMCTL_EXIT_OK;
}
