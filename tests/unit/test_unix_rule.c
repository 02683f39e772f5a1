/* Local socket rules: checking, expanding, judging, socket addresses (enforcer/unix_rule.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "ldm/unix_rule.h"

static const struct ldm_path_vars vars = {
	.home = "/home/pilot",
	.runtime = "/run/user/1000",
	.cwd = "/home/pilot/missions",
};

static void
test_check(void **state)
{
	const char *why = NULL;
	char long_path[200];

	(void)state;
	assert_int_equal(ldm_unix_rule_check("/tmp/.X11-unix/X0", &why), 0);
	assert_int_equal(ldm_unix_rule_check("%t/wayland-0", &why), 0);
	assert_int_equal(ldm_unix_rule_check("@/tmp/.X11-unix/X0", &why), 0);
	assert_int_equal(ldm_unix_rule_check("@", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("@a b", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("@a\\x00", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("@a\tb", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("tmp/x", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("/tmp/../x", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("/tmp/", &why), -EINVAL);
	assert_int_equal(ldm_unix_rule_check("", &why), -EINVAL);
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	long_path[107] = '\0'; /* 107 bytes: fits sun_path with its NUL */
	assert_int_equal(ldm_unix_rule_check(long_path, &why), 0);
	long_path[107] = 'a';
	long_path[108] = '\0';
	assert_int_equal(ldm_unix_rule_check(long_path, &why), -EINVAL);
	long_path[0] = '@'; /* 107 name bytes after '@' */
	assert_int_equal(ldm_unix_rule_check(long_path, &why), 0);
	long_path[108] = 'a';
	long_path[109] = '\0';
	assert_int_equal(ldm_unix_rule_check(long_path, &why), -EINVAL);
}

static void
test_expand(void **state)
{
	char buf[LDM_PATH_PATTERN_MAX];
	struct ldm_path_vars longv = vars;
	char longrt[120];

	(void)state;
	assert_int_equal(ldm_unix_rule_expand("%t/wayland-0", &vars, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/wayland-0");
	assert_int_equal(ldm_unix_rule_expand("@x11", &vars, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "@x11");
	memset(longrt, 'r', sizeof(longrt));
	longrt[0] = '/';
	longrt[sizeof(longrt) - 1] = '\0';
	longv.runtime = longrt; /* the expansion no longer fits a socket address */
	assert_int_equal(ldm_unix_rule_expand("%t/bus", &longv, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	longv.runtime = NULL;
	assert_int_equal(ldm_unix_rule_expand("%t/bus", &longv, buf, sizeof(buf)), -ENOENT);
}

static void
test_judge(void **state)
{
	struct ldm_unix_rules rules = { 0 };
	struct ldm_unix_verdict v;

	(void)state;
	ldm_unix_judge(&rules, "/tmp/x", &v);
	assert_int_equal(v.decision, LDM_UNIX_NO_RULE);
	assert_int_equal(v.rule, 0);
	assert_int_equal(ldm_unix_rules_add(&rules, true, 3, "/tmp/.X11-unix/X0"), 0);
	assert_int_equal(ldm_unix_rules_add(&rules, true, 1, "/tmp/.X11-unix/X0"), 0);
	assert_int_equal(ldm_unix_rules_add(&rules, false, 7, "/run/user/1000/bus"), 0);
	assert_int_equal(ldm_unix_rules_add(&rules, true, 2, "/run/user/1000/bus"), 0);
	assert_int_equal(ldm_unix_rules_add(&rules, true, 4, "@/tmp/.X11-unix/X0"), 0);
	ldm_unix_judge(&rules, "/tmp/.X11-unix/X0", &v);
	assert_int_equal(v.decision, LDM_UNIX_ALLOW);
	assert_int_equal(v.rule, 1); /* the lowest-numbered allow */
	ldm_unix_judge(&rules, "/run/user/1000/bus", &v);
	assert_int_equal(v.decision, LDM_UNIX_DENY); /* deny wins over a lower allow */
	assert_int_equal(v.rule, 7);
	ldm_unix_judge(&rules, "@/tmp/.X11-unix/X0", &v);
	assert_int_equal(v.decision, LDM_UNIX_ALLOW);
	assert_int_equal(v.rule, 4);
	/* Exact matches only: no prefix, no trailing slash, no case folding. */
	ldm_unix_judge(&rules, "/tmp/.X11-unix/X0/", &v);
	assert_int_equal(v.decision, LDM_UNIX_NO_RULE);
	ldm_unix_judge(&rules, "/tmp/.X11-unix/X", &v);
	assert_int_equal(v.decision, LDM_UNIX_NO_RULE);
	ldm_unix_judge(&rules, "/tmp/.x11-unix/X0", &v);
	assert_int_equal(v.decision, LDM_UNIX_NO_RULE);
	ldm_unix_rules_clear(&rules);
	assert_null(rules.v);
}

static int
text_of(const void *addr, size_t len, char *buf)
{
	return ldm_unix_sockaddr_text(addr, len, buf, LDM_UNIX_TARGET_MAX);
}

static void
test_sockaddr(void **state)
{
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[LDM_UNIX_TARGET_MAX];

	(void)state;
	memcpy(a.sun_path, "/tmp/relay", 10);
	assert_int_equal(text_of(&a, off + 11, buf), 0);
	assert_string_equal(buf, "/tmp/relay");
	/* The kernel reads LEN bytes, without a NUL: so do we. */
	assert_int_equal(text_of(&a, off + 4, buf), 0);
	assert_string_equal(buf, "/tmp");
	/* A path filling sun_path entirely, no NUL. */
	memset(a.sun_path, 'p', sizeof(a.sun_path));
	assert_int_equal(text_of(&a, sizeof(a), buf), 0);
	assert_int_equal(strlen(buf), sizeof(a.sun_path));
	/* Abstract: "@" and the name; NUL and other bytes escaped, '\' too. */
	memset(a.sun_path, 0, sizeof(a.sun_path));
	memcpy(a.sun_path, "\0/tmp/.X11-unix/X0", 18);
	assert_int_equal(text_of(&a, off + 18, buf), 1);
	assert_string_equal(buf, "@/tmp/.X11-unix/X0");
	memcpy(a.sun_path, "\0a\0b\\c\n", 7);
	assert_int_equal(text_of(&a, off + 7, buf), 1);
	assert_string_equal(buf, "@a\\x00b\\x5cc\\x0a");
	assert_int_equal(text_of(&a, off + 1, buf), 1);
	assert_string_equal(buf, "@");
	/* A whole abstract name of NULs fits the buffer. */
	memset(a.sun_path, 0, sizeof(a.sun_path));
	assert_int_equal(text_of(&a, sizeof(a), buf), 1);
	assert_int_equal(strlen(buf), 1 + 4 * (sizeof(a.sun_path) - 1));
	/* What the kernel refuses. */
	assert_int_equal(text_of(&a, off, buf), -EINVAL);
	assert_int_equal(text_of(&a, sizeof(a) + 1, buf), -EINVAL);
	a.sun_family = AF_INET;
	assert_int_equal(text_of(&a, sizeof(a), buf), -EINVAL);
	assert_int_equal(ldm_unix_sockaddr_text(&a, sizeof(a), buf, 10), -ENOBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
