/* Who may use a policy (enforcer/policy_access.c): users, groups, the top file only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/policy.h"

static struct ldm_policy *
load(const char *text)
{
	struct ldm_load_opts opts = { 0 };
	struct ldm_diags diags = { 0 };
	struct ldm_policy *p = NULL;
	int r = ldm_policy_load_buffer(text, strlen(text), "t.conf", &opts, &p, &diags);

	if (r < 0)
		for (size_t i = 0; i < diags.n; i++)
			print_message("%s:%u: %s\n", diags.v[i].file, diags.v[i].line,
			              diags.v[i].msg);
	ldm_diags_clear(&diags);
	return p;
}

static void
test_everyone(void **state)
{
	struct ldm_policy *p = load("name = \"t\";");
	char who[64];

	(void)state;
	assert_non_null(p);
	assert_false(p->access_limited);
	assert_true(ldm_policy_user_allowed(p, "anyone", NULL, 0));
	assert_int_equal(ldm_policy_access_text(p, who, sizeof(who)), 0);
	assert_string_equal(who, "every user");
	ldm_policy_free(p);
}

static void
test_users_groups(void **state)
{
	struct ldm_policy *p = load("users = [ \"pilot1\" ]; groups = [ \"pilots\", \"ops\" ];");
	const char *const g1[] = { "users", "ops" }, *const g2[] = { "users", "audio" };
	char who[64];

	(void)state;
	assert_non_null(p);
	assert_true(p->access_limited);
	assert_true(ldm_policy_user_allowed(p, "pilot1", NULL, 0));
	assert_true(ldm_policy_user_allowed(p, "pilot2", g1, 2));
	assert_false(ldm_policy_user_allowed(p, "pilot2", g2, 2));
	assert_false(ldm_policy_user_allowed(p, NULL, NULL, 0));
	assert_false(ldm_policy_user_allowed(p, "pilot", NULL, 0)); /* no prefix match */
	assert_int_equal(ldm_policy_access_text(p, who, sizeof(who)), 0);
	assert_string_equal(who, "user pilot1, group pilots, group ops");
	assert_int_equal(ldm_policy_access_text(p, who, 10), -ENOBUFS);
	ldm_policy_free(p);
}

static void
test_nobody_and_bad_names(void **state)
{
	struct ldm_policy *p = load("users = [ ];");

	(void)state;
	assert_non_null(p);
	assert_false(ldm_policy_user_allowed(p, "root", NULL, 0));
	ldm_policy_free(p);
	assert_null(load("users = [ \"a b\" ];"));
	assert_null(load("groups = [ \"-x\" ];"));
	assert_null(load("users = \"pilot\";"));
	assert_null(load("users = [ \"abcdefghijklmnopqrstuvwxyz0123456\" ];")); /* 33 bytes */
	assert_true(ldm_account_name_valid("machine$"));
	assert_false(ldm_account_name_valid("ma$chine"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everyone),
		cmocka_unit_test(test_users_groups),
		cmocka_unit_test(test_nobody_and_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
