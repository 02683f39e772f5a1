/*
 * libFuzzer target: the enforcer's decisions (enforcer/verdict.c) on arbitrary packets, as
 * the queue could deliver them, under a fixed policy. Besides the sanitizers, it checks the
 * promises the daemon relies on: a query is allowed only for a name the policy allows, an
 * answer passes only for such a name (or in audit mode) with its records within their caps,
 * an ending session lets nothing out, and a flow is allowed only with an allowing rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "ldm/verdict.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
        "name = \"fuzz\";\n"
        "allow = ( { proto = \"tcp\"; host = \"*.example.org\"; ports = \"443\" },\n"
        "          { proto = \"udp\"; to = \"lan\"; ports = \"14550\" },\n"
        "          { proto = \"any\"; to = \"10.0.0.0/8\" } );\n"
        "deny = ( { host = \"bad.example.org\" }, { to = \"10.9.0.0/16\" } );\n"
        "dns_allow = [ \"ntp.example.net\" ];\n";

static struct ldm_policy *policy;

static void
load(void)
{
	struct ldm_load_opts o = { 0 };
	struct ldm_diags d = { 0 };

	if (ldm_policy_load_buffer(policy_text, strlen(policy_text), "fuzz.conf", &o, &policy,
	                           &d) != 0)
		abort();
	ldm_diags_clear(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ldm_lan_entry lan_v[] = {
		{ { AF_INET, 24, { 192, 168, 144, 0 } }, 3, LDM_ROUTE_LINK },
		{ { AF_INET, 0, { 0 } }, 4, LDM_ROUTE_DEFAULT },
		{ { AF_INET, 32, { 192, 168, 144, 1 } }, 0, LDM_ROUTE_LOCAL },
	};
	static const struct ldm_lan lan = { lan_v, 3 };
	static const char *const names[] = { "tiles.example.org", "bad.example.org" };
	struct ldm_dnsq_verdict q;
	struct ldm_dns_answer a;
	struct ldm_verdict v;
	struct ldm_packet k;
	struct ldm_flow f;
	bool empty;

	if (policy == NULL)
		load();
	if (ldm_packet_parse(data, size, &k) < 0)
		return 0;
	ldm_verdict_dns_query(policy, &k, data, size, &q);
	if (q.result == LDM_DNSQ_ALLOWED && !ldm_policy_name_allowed(policy, q.name, NULL))
		abort();
	for (int audit = 0; audit < 2; audit++) {
		enum ldm_decision d =
		        ldm_verdict_dns_answer(policy, audit, &k, data, size, &a, &empty);

		if (d != LDM_DECIDE_PASS && d != LDM_DECIDE_DROP)
			abort();
		if (d == LDM_DECIDE_PASS && !empty &&
		    (a.n_addrs > LDM_DNS_MAX_ADDRS ||
		     (!audit && !ldm_policy_name_allowed(policy, a.qname, NULL))))
			abort();
		if (d == LDM_DECIDE_DROP && a.n_addrs != 0)
			abort();
		if (ldm_verdict_final(d, true) != (d == LDM_DECIDE_PASS ? d : LDM_DECIDE_DROP))
			abort();
	}
	if (!k.is_fragment && ldm_packet_flow(&k, size > 0 && (data[size - 1] & 1), &f) == 0) {
		f.ifindex = size > 1 ? data[size - 2] % 5 : 0;
		for (size_t n = 0; n <= 2; n++) {
			ldm_verdict_flow(policy, &f, &lan, names, n, &v, NULL);
			if (v.allow && (v.rule == NULL || v.rule->action != LDM_ACTION_ALLOW))
				abort();
			if (!v.allow && v.rule != NULL && v.rule->action != LDM_ACTION_DENY)
				abort();
			if (ldm_verdict_final(ldm_verdict_decide(v.allow, false, k.proto), true) !=
			    LDM_DECIDE_DROP)
				abort();
		}
	}
	return 0;
}
