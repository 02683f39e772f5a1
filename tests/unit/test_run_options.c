/*
 * ldm-run's pure parts: the command line, PATH lookup, exit codes, capability sets from
 * /proc/self/status, the cgroup check, the summary line and the report rate limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "run/run.h"

#define MAX_ARGS 8

static void
test_parse_options(void **state)
{
	static const struct {
		const char *argv[MAX_ARGS];
		int rc;
		const char *policy, *socket, *prog;
		int audit, quiet, notify;
	} cases[] = {
		{ { "--policy", "qgc", "--", "prog", "-x" }, 0, "qgc", NULL, "prog" },
		{ { "--policy=qgc", "prog", "--policy", "y" }, 0, "qgc", NULL, "prog" },
		{ { "--offline", "--audit", "--quiet", "prog" }, 0, "offline", NULL, "prog", 1, 1 },
		{ { "--socket", "/s", "--policy", "p", "prog" }, 0, "p", "/s", "prog" },
		{ { "--help" }, 1 },
		{ { "-V" }, 1 },
		{ { "--policy", "qgc" }, -EINVAL },
		{ { "prog" }, -EINVAL },
		{ { "--offline", "--policy", "p", "prog" }, -EINVAL },
		{ { "--policy", "", "prog" }, -EINVAL },
		{ { "--policy", "a2345678901234567890123456789012345678901234567890123456789012345",
		    "prog" },
		  -EINVAL },
		{ { "--policy", "a234567890123456789012345678901234567890123456789012345678901234",
		    "prog" },
		  0,
		  "a234567890123456789012345678901234567890123456789012345678901234",
		  NULL,
		  "prog" },
		{ { "--socket", "", "--offline", "prog" }, -EINVAL },
		{ { "--bogus", "--offline", "prog" }, -EINVAL },
		{ { "--offline", "--policy" }, -EINVAL },
		{ { "--notify", "--offline", "prog" }, 0, "offline", NULL, "prog", 0, 0, 1 },
		{ { "--no-notify", "--offline", "prog" }, 0, "offline", NULL, "prog", 0, 0, 2 },
		{ { "--notify", "--no-notify", "--offline", "prog" },
		  0,
		  "offline",
		  NULL,
		  "prog",
		  0,
		  0,
		  2 },
		{ { "--no-notify", "--notify", "--offline", "prog" },
		  0,
		  "offline",
		  NULL,
		  "prog",
		  0,
		  0,
		  1 },
		{ { "--offline", "prog", "--notify" }, 0, "offline", NULL, "prog", 0, 0, 0 },
		{ { "--notify=yes", "--offline", "prog" }, -EINVAL },
	};
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(null);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *argv[MAX_ARGS + 2] = { "ldm-run" };
		struct ldm_run_opts o = { .policy = "untouched" };
		int argc = 1, rc;

		while (argc <= MAX_ARGS && cases[i].argv[argc - 1] != NULL) {
			argv[argc] = (char *)cases[i].argv[argc - 1];
			argc++;
		}
		rc = ldm_run_parse_options(argc, argv, &o, null, null);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		if (rc != 0) {
			assert_string_equal(o.policy, "untouched");
			continue;
		}
		assert_string_equal(o.policy, cases[i].policy);
		assert_string_equal(o.argv[0], cases[i].prog);
		if (cases[i].socket != NULL)
			assert_string_equal(o.socket, cases[i].socket);
		else
			assert_null(o.socket);
		assert_int_equal(o.audit, cases[i].audit);
		assert_int_equal(o.quiet, cases[i].quiet);
		assert_int_equal(o.notify, cases[i].notify);
	}
	fclose(null);
}

static void
make_file(const char *dir, const char *name, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void
remove_tree(const char *tmp)
{
	static const char *const paths[] = { "a/both", "b/both", "a/noexec", "b/only",
		                             "a/sub",  "a",      "b" };
	char p[128];

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, paths[i]);
		assert_int_equal(remove(p), 0);
	}
	assert_int_equal(rmdir(tmp), 0);
}

/* Two PATH directories: "a" has a non-executable "both", "b" an executable one. */
static void
test_find_program(void **state)
{
	char tmp[] = "/tmp/ldm-run-test.XXXXXX", a[64], b[64], path[128], buf[256];
	static const struct {
		const char *name;
		int path_kind; /* 0: a:b, 1: a only, 2: b only */
		int rc;
		const char *want; /* relative to tmp */
	} cases[] = {
		{ "both", 0, 0, "/b/both" }, { "both", 1, -EACCES },
		{ "noexec", 0, -EACCES },    { "missing", 0, -ENOENT },
		{ "", 0, -ENOENT },          { "sub", 0, -EACCES }, /* a directory */
		{ "only", 2, 0, "/b/only" }, { "only", 1, -ENOENT },
	};

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(a, sizeof(a), "%s/a", tmp);
	snprintf(b, sizeof(b), "%s/b", tmp);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	make_file(a, "both", 0644);
	make_file(b, "both", 0755);
	make_file(a, "noexec", 0644);
	make_file(b, "only", 0755);
	snprintf(path, sizeof(path), "%s/sub", a);
	assert_int_equal(mkdir(path, 0755), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char p[160], want[128];
		int rc;

		if (cases[i].path_kind == 0)
			snprintf(p, sizeof(p), "%s:%s", a, b);
		else
			snprintf(p, sizeof(p), "%s", cases[i].path_kind == 1 ? a : b);
		rc = ldm_run_find_program(cases[i].name, p, buf, sizeof(buf));
		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].name, rc, cases[i].rc);
		if (rc == 0) {
			snprintf(want, sizeof(want), "%s%s", tmp, cases[i].want);
			assert_string_equal(buf, want);
		}
	}
	/* A name with a slash is taken as is; absent PATH means /bin:/usr/bin. */
	snprintf(path, sizeof(path), "%s/both", b);
	assert_int_equal(ldm_run_find_program(path, "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, path);
	snprintf(path, sizeof(path), "%s/both", a);
	assert_int_equal(ldm_run_find_program(path, NULL, buf, sizeof(buf)), -EACCES);
	assert_int_equal(ldm_run_find_program("sh", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(ldm_run_find_program("sh", "/bin", buf, 4), -ENAMETOOLONG);
	remove_tree(tmp);
}

static void
test_exit_status(void **state)
{
	static const struct {
		int wstatus;
		int want;
	} cases[] = {
		{ 0, 0 },        { 3 << 8, 3 },    { 127 << 8, 127 }, { 255 << 8, 255 },
		{ SIGINT, 130 }, { SIGKILL, 137 }, { SIGTERM, 143 },  { SIGSEGV | 0x80, 139 },
		{ 0x137f, 125 }, /* stopped: not an end */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ldm_run_exit_status(cases[i].wstatus) != cases[i].want)
			fail_msg("status %#x: got %d, want %d", cases[i].wstatus,
			         ldm_run_exit_status(cases[i].wstatus), cases[i].want);
}

static void
test_parse_caps(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t eff, prm, amb;
	} cases[] = {
		{ "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
		  "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:"
		  "\t0000000000000000\n",
		  0, 0, 0, 0 },
		{ "CapPrm:\t0000000000003000\nCapEff:\t0000000000002000\nCapAmb:\t8000000000000000",
		  0, 0x2000, 0x3000, UINT64_C(0x8000000000000000) },
		{ "CapPrm:\t0\nCapEff:\t0\n", -EINVAL },               /* no CapAmb */
		{ "CapPrm:\t0\nCapEff:\t0\nCapAmb:\t\n", -EINVAL },    /* empty */
		{ "CapPrm:\t0\nCapEff:\t0x1\nCapAmb:\t0\n", -EINVAL }, /* not plain hex */
		{ "CapPrm:\t0\nCapEff:\t10000000000000000\nCapAmb:\t0\n", -EINVAL }, /* 65 bits */
		{ "XCapEff:\t0\nCapPrm:\t0\nCapAmb:\t0\n", -EINVAL }, /* not at a line start */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t eff = 7, prm = 7, amb = 7;
		int rc = ldm_run_parse_caps(cases[i].text, &eff, &prm, &amb);

		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		assert_true(eff == (rc == 0 ? cases[i].eff : 7));
		assert_true(prm == (rc == 0 ? cases[i].prm : 7));
		assert_true(amb == (rc == 0 ? cases[i].amb : 7));
	}
}

static void
test_cgroup_matches(void **state)
{
	static const struct {
		const char *text, *cgroup;
		bool want;
	} cases[] = {
		{ "0::/ldm/s7\n", "ldm/s7", true },
		{ "12:pids:/\n1:name=systemd:/x\n0::/ldm/s7\n", "ldm/s7", true },
		{ "0::/ldm/s7", "ldm/s7", true },
		{ "0::/ldm/s77\n", "ldm/s7", false },
		{ "0::/ldm\n", "ldm/s7", false },
		{ "0::/\n", "ldm/s7", false },
		{ "1:name=systemd:/ldm/s7\n", "ldm/s7", false },
		{ "", "ldm/s7", false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ldm_run_cgroup_matches(cases[i].text, cases[i].cgroup) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
}

static void
test_format_summary(void **state)
{
#define FINAL LDM_SUMMARY_R_FINAL
	static const struct ldm_msg_summary s3 = { .blocked = 3, .would_block = 0, .flags = FINAL };
	static const struct ldm_msg_summary s1 = { .blocked = 1,
		                                   .syscalls_denied = 2,
		                                   .flags = FINAL };
	static const struct ldm_msg_summary a1 = { .blocked = 0, .would_block = 1, .flags = FINAL };
	static const struct ldm_msg_summary n5 = { .blocked = 5 }; /* not final: interrupted */
	static const struct ldm_msg_summary e1 = {
		.flags = LDM_SUMMARY_R_FINAL | LDM_SUMMARY_R_ESCAPED, .escapes = 1
	};
	static const struct ldm_msg_summary r2 = { .blocked = 4, .escapes = 2, .running = 2 };
	static const struct ldm_msg_summary f2 = { .flags = LDM_SUMMARY_R_FINAL, .running = 2 };
	static const struct {
		uint64_t session;
		const char *policy;
		bool audit;
		const struct ldm_msg_summary *sum;
		const char *want;
	} cases[] = {
		{ 7, "qgroundcontrol", false, &s3,
		  "ldm: session 7 (qgroundcontrol) ended: 3 connections blocked \u2014 see: ldmctl "
		  "log 7" },
		{ 8, "qgc", false, &s1,
		  "ldm: session 8 (qgc) ended: 1 connection blocked, 2 syscalls denied \u2014 see: "
		  "ldmctl log 8" },
		{ 9, "qgc", true, &a1,
		  "ldm: session 9 (qgc) ended: 1 connection would have been blocked \u2014 see: "
		  "ldmctl log 9" },
		{ 10, "qgc", false, NULL,
		  "ldm: session 10 (qgc) ended (counts unavailable) \u2014 see: ldmctl log 10" },
		{ 11, "offline", false, &e1,
		  "ldm: session 11 (offline) ended: 0 connections blocked \u2014 WARNING: 1 "
		  "process "
		  "of the program left the sandbox while it ran and was no longer restricted "
		  "\u2014 see: ldmctl log 11" },
		{ 12, "qgc", false, &r2,
		  "ldm: session 12 (qgc) ended: 4 connections blocked \u2014 WARNING: 2 processes "
		  "of the program left the sandbox while it ran and were no longer restricted "
		  "\u2014 2 processes are still running in the session: counts so far \u2014 see: "
		  "ldmctl log 12" },
		{ 13, "qgc", false, &f2,
		  "ldm: session 13 (qgc) ended: 0 connections blocked \u2014 see: ldmctl log 13" },
		{ 14, "qgc", false, &n5,
		  "ldm: session 14 (qgc) ended: 5 connections blocked \u2014 counts so far \u2014 "
		  "see: "
		  "ldmctl log 14" },
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(ldm_run_format_summary(buf, sizeof(buf), cases[i].session,
		                                        cases[i].policy, cases[i].audit,
		                                        cases[i].sum),
		                 0);
		assert_string_equal(buf, cases[i].want);
	}
	assert_int_equal(ldm_run_format_summary(buf, 20, 7, "qgc", false, &s3), -ENAMETOOLONG);
}

static void
test_ratelimit(void **state)
{
	struct ldm_run_ratelimit rl = { 0 };
	unsigned sent = 0;

	(void)state;
	for (int i = 0; i < LDM_RUN_REPORTS_PER_SEC + 50; i++)
		sent += ldm_run_ratelimit_take(&rl, 100);
	assert_int_equal(sent, LDM_RUN_REPORTS_PER_SEC);
	assert_int_equal(ldm_run_ratelimit_flush(&rl, 100, false), 0); /* same second */
	assert_int_equal(ldm_run_ratelimit_flush(&rl, 101, false), 50);
	assert_int_equal(ldm_run_ratelimit_flush(&rl, 102, false), 0); /* flushed once */
	assert_true(ldm_run_ratelimit_take(&rl, 101));                 /* a new window */
	assert_false(ldm_run_ratelimit_take(&(struct ldm_run_ratelimit){ 5, 100, 0 }, 5));
	rl = (struct ldm_run_ratelimit){ 5, 100, 4 };
	assert_int_equal(ldm_run_ratelimit_flush(&rl, 5, true), 4); /* at exit */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_options),  cmocka_unit_test(test_find_program),
		cmocka_unit_test(test_exit_status),    cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_cgroup_matches), cmocka_unit_test(test_format_summary),
		cmocka_unit_test(test_ratelimit),
	};

	return cmocka_run_group_tests_name("run_options", tests, NULL, NULL);
}
