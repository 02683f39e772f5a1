/*
 * ldmctl explain POLICY unix TARGET: which unix rule decides a connect() to the socket
 * TARGET (an absolute path or @name), as ldm-run would judge it. Path patterns are expanded
 * with the caller's own %h, %t and %c. ldm-run judges the path the kernel resolves (after
 * symlinks); here TARGET is taken as written.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldm/control.h"
#include "ldm/unix_rule.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

static void
caller_vars(struct ldm_path_vars *v, char *home, size_t hsize, char *cwd, size_t csize)
{
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	const char *rt = getenv("XDG_RUNTIME_DIR");

	*v = (struct ldm_path_vars){ 0 };
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL &&
	    pw.pw_dir != NULL && ldm_strscpy(home, hsize, pw.pw_dir) >= 0)
		v->home = home;
	if (rt != NULL && rt[0] == '/')
		v->runtime = rt;
	if (getcwd(cwd, csize) != NULL)
		v->cwd = cwd;
}

static const struct ldm_rule *
rule_by_number(const struct ldm_policy *p, uint32_t n)
{
	return n >= 1 && n <= p->n_rules ? &p->rules[n - 1] : NULL;
}

int
ldmctl_explain_unix(const struct ldm_policy *p, const char *target)
{
	_cleanup_(ldm_unix_rules_clear) struct ldm_unix_rules rules = { 0 };
	char home[LDM_PATH_PATTERN_MAX], cwd[LDM_PATH_PATTERN_MAX], buf[LDM_PATH_PATTERN_MAX];
	struct ldm_path_vars vars;
	struct ldm_unix_verdict v;
	const struct ldm_rule *r;
	const char *why;

	if (ldm_unix_rule_check(target, &why) < 0 || target[0] == '%')
		return ldmctl_usage_error("explain",
		                          "unix '%s': give an absolute socket path or @name (%s)",
		                          target, target[0] == '%' ? "no pattern" : why);
	caller_vars(&vars, home, sizeof(home), cwd, sizeof(cwd));
	for (size_t i = 0; i < p->n_items; i++) {
		const struct ldm_item *it = &p->items[i];

		if (it->kind != LDM_ITEM_UNIX)
			continue;
		if (ldm_unix_rule_expand(it->value, &vars, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "note: rule %u (", it->rule);
			ldmctl_put_escaped(stderr, it->value, false);
			fputs(") cannot be expanded here (%h, %t or %c unknown, or too long): it "
			      "matches nothing\n",
			      stderr);
			continue;
		}
		if (ldm_unix_rules_add(&rules, (it->flags & LDM_ITEM_UNIX_ALLOW) != 0, it->rule,
		                       buf) < 0)
			return LDMCTL_EXIT_SYSTEM;
	}
	ldm_unix_judge(&rules, target, &v);
	r = rule_by_number(p, v.rule);
	fputs(v.decision == LDM_UNIX_ALLOW ? "allow: " : "block: ", stdout);
	if (v.decision == LDM_UNIX_NO_RULE || r == NULL) {
		fputs("no rule matches (default deny; sockets the session's own processes "
		      "opened are allowed)\n",
		      stdout);
	} else {
		ldmctl_put_rule(stdout, r, true);
		fputc('\n', stdout);
	}
	if (v.decision != LDM_UNIX_ALLOW && p->mode == LDM_MODE_AUDIT)
		fputs("note: audit mode does not apply to local sockets: ldm-run refuses this "
		      "connect and logs it as blocked\n",
		      stdout);
	return v.decision == LDM_UNIX_ALLOW ? LDMCTL_EXIT_OK : LDMCTL_EXIT_FAIL;
}
