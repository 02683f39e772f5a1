/*
 * ldmctl explain POLICY --host NAME: what the policy says about a host name alone, with no
 * address to judge: the `host` rules whose pattern matches NAME (allow and deny), whether
 * NAME may be looked up, and which address rules could also decide a connection once NAME
 * has resolved (they are judged by the address, so not here).
 */
#include <stdio.h>

#include "ldm/policy.h"
#include "ldmctl/ldmctl.h"

#define ADDRESS_RULES_SHOWN 8

static const char *
action_name(const struct ldm_rule *r)
{
	return r->action == LDM_ACTION_ALLOW ? "allow" : "deny";
}

/* Prints the host rules that match HOST; sets *ret_allow and *ret_deny. */
static void
print_host_rules(const struct ldm_policy *p, const char *host, bool *ret_allow, bool *ret_deny)
{
	size_t n = 0;

	*ret_allow = *ret_deny = false;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ldm_rule *r = &p->rules[i];

		if (r->peer != LDM_PEER_HOST || !ldm_host_match(r->host, host))
			continue;
		printf("%s: ", action_name(r));
		ldmctl_put_rule(stdout, r, true);
		fputc('\n', stdout);
		if (r->action == LDM_ACTION_ALLOW)
			*ret_allow = true;
		else
			*ret_deny = true;
		n++;
	}
	if (n == 0)
		fputs("block: no host rule names it (default deny)\n", stdout);
}

/* Lists the address rules (by protocol, address and port), which the name alone cannot
 * decide: the address it resolves to does. */
static void
print_address_rules(const struct ldm_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ldm_rule *r = &p->rules[i];

		if (r->peer == LDM_PEER_HOST || r->peer == LDM_PEER_UNIX)
			continue;
		if (n++ == 0)
			fputs("not judged without an address (give PROTO DEST[:PORT] --host NAME): "
			      "these address rules decide by the address the name resolves to\n",
			      stdout);
		if (n > ADDRESS_RULES_SHOWN)
			continue;
		printf("  %s ", action_name(r));
		ldmctl_put_rule(stdout, r, true);
		fputc('\n', stdout);
	}
	if (n > ADDRESS_RULES_SHOWN)
		printf("  and %zu more\n", n - ADDRESS_RULES_SHOWN);
}

int
ldmctl_explain_host(const struct ldm_policy *p, const char *host)
{
	bool allow, deny, dns;

	fputs("host: ", stdout);
	ldmctl_put_escaped(stdout, host, false);
	fputs(" (no address: only host rules are judged)\n", stdout);
	print_host_rules(p, host, &allow, &deny);
	dns = ldmctl_print_dns(p, host);
	ldmctl_print_known(p, host);
	if (deny)
		fputs("note: a deny rule names it: the connections it matches are blocked whatever "
		      "an allow rule says\n",
		      stdout);
	print_address_rules(p);
	if (p->mode == LDM_MODE_AUDIT)
		fputs("note: the policy is in audit mode: what it blocks is logged as "
		      "would_block, not blocked\n",
		      stdout);
	ldmctl_print_access(p);
	return allow && dns ? LDMCTL_EXIT_OK : LDMCTL_EXIT_FAIL;
}
