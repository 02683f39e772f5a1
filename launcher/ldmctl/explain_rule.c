/*
 * The lines `ldmctl explain` prints about a policy whatever it judges: a rule named with
 * where it was written (FILE:LINE, an included file's own), the DNS fate of a name, and who
 * may use the policy. Policy text is escaped on the way out.
 */
#include <stdio.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

#define RULE_TEXT_MAX 4096 /* a rule's match: a host name and up to 64 port ranges */

void
ldmctl_put_rule(FILE *f, const struct ldm_rule *r, bool match)
{
	char text[RULE_TEXT_MAX];

	fprintf(f, "rule %u", r->number);
	if (r->comment != NULL) {
		fputs(" \"", f);
		ldmctl_put_escaped(f, r->comment, true);
		fputc('"', f);
	}
	if (match) {
		if (ldm_rule_format(r, text, sizeof(text)) < 0)
			(void)ldm_strscpy(text, sizeof(text), "?");
		fputs(" (", f);
		ldmctl_put_escaped(f, text, false);
		fputc(')', f);
	}
	fputs(" at ", f);
	ldmctl_put_escaped(f, r->file != NULL ? r->file : "?", false);
	fprintf(f, ":%u", r->line);
}

bool
ldmctl_print_dns(const struct ldm_policy *p, const char *host)
{
	const struct ldm_rule *r = NULL;
	bool ok = ldm_policy_name_allowed(p, host, &r);

	fputs(ok ? "dns: the name may be looked up: " : "dns: the lookup is blocked: ", stdout);
	if (r != NULL) {
		ldmctl_put_rule(stdout, r, false);
		fputc('\n', stdout);
	} else {
		fputs(ok ? "dns_allow\n" : "no host rule or dns_allow names it\n", stdout);
	}
	return ok;
}

void
ldmctl_print_access(const struct ldm_policy *p)
{
	char who[1024];

	if (!p->access_limited)
		return;
	if (ldm_policy_access_text(p, who, sizeof(who)) < 0)
		(void)ldm_strscpy(who, sizeof(who), "(too many to list)");
	fputs("who: only ", stdout);
	ldmctl_put_escaped(stdout, who, false);
	fputs(" may use this policy\n", stdout);
}

int
ldmctl_explain_end(const struct ldm_policy *p, int code)
{
	if (code == LDMCTL_EXIT_OK || code == LDMCTL_EXIT_FAIL)
		ldmctl_print_access(p);
	return code;
}

void
ldmctl_print_known(const struct ldm_policy *p, const char *host)
{
	const char *label = host != NULL ? ldm_policy_known_label(p, host) : NULL;

	if (label == NULL)
		return;
	fputs("known: ", stdout);
	ldmctl_put_escaped(stdout, label, false);
	fputc('\n', stdout);
}
