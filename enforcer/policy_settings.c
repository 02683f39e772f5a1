/*
 * Reading a parsed policy file's settings into the policy model. Every setting is checked
 * here, once: type, value, unknown keys. Each problem is reported with its file and line and
 * reading goes on, so the admin sees every error at once; any error refuses the policy.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "policy_int.h"

#define KNOWN_TOP                                                                                  \
	"name, description, mode, audit_override, allow, deny, include, "                          \
	"dns_allow, known, syscalls, write, users, groups"
#define KNOWN_RULE "proto, to, from, host, ports, direction, comment"
#define KEYWORDS   "loopback, lan, link-local, private, multicast, broadcast"

struct family_name {
	const char *name;
	int af;
};

/* Socket families a policy may allow. packet is always denied (DESIGN: Seccomp). */
static const struct family_name families[] = {
	{ "unix", AF_UNIX },       { "inet", AF_INET },           { "inet6", AF_INET6 },
	{ "netlink", AF_NETLINK }, { "bluetooth", AF_BLUETOOTH }, { "can", AF_CAN },
	{ "vsock", AF_VSOCK },     { "tipc", AF_TIPC },           { "alg", AF_ALG },
};

/* Stores a copy of S's string in *dst (replacing it), or reports. */
static void
set_text(struct loader *l, const char *file, const config_setting_t *s, const char *what,
         char **dst)
{
	const char *v = ldm_loader_get_string(l, file, s, what, LDM_MAX_TEXT_LEN);
	char *c;

	if (v == NULL)
		return;
	c = strdup(v);
	if (c == NULL) {
		ldm_loader_error(l, file, LINE(s), "out of memory");
		return;
	}
	free(*dst);
	*dst = c;
}

/* Checks that S is an array or list of at most LDM_MAX_LIST_ITEMS; returns its length or -1. */
static int
get_list(struct loader *l, const char *file, const config_setting_t *s, const char *what)
{
	int n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		ldm_loader_error(l, file, LINE(s), "%s: must be a list, not %s", what,
		                 ldm_setting_type_name(s));
		return -1;
	}
	n = config_setting_length(s);
	if (n > LDM_MAX_LIST_ITEMS) {
		ldm_loader_error(l, file, LINE(s), "%s: more than %d entries", what,
		                 LDM_MAX_LIST_ITEMS);
		return -1;
	}
	return n;
}

/* Appends a normalized copy of host pattern V to *v; reports a bad pattern. */
static int
push_pattern(struct loader *l, const char *file, unsigned line, const char *what, const char *v,
             char ***vec, size_t *n)
{
	_cleanup_free_ char *c = strdup(v);
	char **nv;

	if (c == NULL)
		return -ENOMEM;
	if (ldm_host_pattern_normalize(c) < 0) {
		ldm_loader_error(l, file, line,
		                 "%s: '%s' is not a DNS name or '*.suffix' pattern "
		                 "(the suffix needs two labels or more)",
		                 what, v);
		return -EINVAL;
	}
	nv = reallocarray(*vec, *n + 1, sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	*vec = nv;
	(*vec)[(*n)++] = TAKE_PTR(c);
	return 0;
}

static void
read_dns_allow(struct loader *l, const char *file, const config_setting_t *s)
{
	int n = get_list(l, file, s, "dns_allow");

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v =
		        ldm_loader_get_string(l, file, e, "dns_allow", LDM_MAX_HOST_LEN + 2);

		if (v != NULL)
			(void)push_pattern(l, file, LINE(e), "dns_allow", v, &l->p->dns_allow,
			                   &l->p->n_dns_allow);
	}
}

static void
read_known_entry(struct loader *l, const char *file, const config_setting_t *e)
{
	struct ldm_known k = { 0 };
	struct ldm_known *v;
	int n = config_setting_length(e);
	char **hosts = NULL;
	size_t n_hosts = 0;

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(e, i);
		const char *key = config_setting_name(m);
		const char *s;

		if (strcmp(key, "host") == 0) {
			s = ldm_loader_get_string(l, file, m, "known: host", LDM_MAX_HOST_LEN + 2);
			if (s != NULL)
				(void)push_pattern(l, file, LINE(m), "known: host", s, &hosts,
				                   &n_hosts);
		} else if (strcmp(key, "label") == 0) {
			set_text(l, file, m, "known: label", &k.label);
		} else {
			ldm_loader_error(l, file, LINE(m),
			                 "known: unknown setting '%s' (expected host, label)", key);
		}
	}
	if (n_hosts != 1 || k.label == NULL) {
		if (n_hosts == 0 || k.label == NULL)
			ldm_loader_error(l, file, LINE(e),
			                 "known: each entry needs host and label");
		free(k.label);
		for (size_t i = 0; i < n_hosts; i++)
			free(hosts[i]);
		free(hosts);
		return;
	}
	k.host = hosts[0];
	free(hosts);
	v = reallocarray(l->p->known, l->p->n_known + 1, sizeof(*v));
	if (v == NULL) {
		free(k.host);
		free(k.label);
		ldm_loader_error(l, file, LINE(e), "out of memory");
		return;
	}
	l->p->known = v;
	l->p->known[l->p->n_known++] = k;
}

static void
read_known(struct loader *l, const char *file, const config_setting_t *s)
{
	int n = get_list(l, file, s, "known");

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (!config_setting_is_group(e)) {
			ldm_loader_error(l, file, LINE(e),
			                 "known: each entry must be a group { host = ...; "
			                 "label = ...; }, not %s",
			                 ldm_setting_type_name(e));
			continue;
		}
		read_known_entry(l, file, e);
	}
}

static void
read_families(struct loader *l, const char *file, const config_setting_t *s, uint64_t *mask)
{
	int n = get_list(l, file, s, "syscalls: address_families");

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = ldm_loader_get_string(l, file, e, "syscalls: address_families", 32);
		size_t j;

		if (v == NULL)
			continue;
		for (j = 0; j < ELEMENTSOF(families); j++)
			if (strcmp(v, families[j].name) == 0)
				break;
		if (j < ELEMENTSOF(families)) {
			*mask |= UINT64_C(1) << families[j].af;
			continue;
		}
		ldm_loader_error(l, file, LINE(e),
		                 "syscalls: address_families: '%s' is %s (expected unix, inet, "
		                 "inet6, netlink, bluetooth, can, vsock, tipc, alg)",
		                 v,
		                 strcmp(v, "packet") == 0 ? "always denied"
		                                          : "not a known address family");
	}
}

static void
read_deny_syscalls(struct loader *l, const char *file, const config_setting_t *s)
{
	struct ldm_policy *p = l->p;
	int n = get_list(l, file, s, "syscalls: deny");

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = ldm_loader_get_string(l, file, e, "syscalls: deny", 64);
		char **names;
		int *nums, nr;

		if (v == NULL)
			continue;
		nr = seccomp_syscall_resolve_name(v);
		if (nr == __NR_SCMP_ERROR) {
			ldm_loader_error(l, file, LINE(e),
			                 "syscalls: deny: '%s' is not a system call libseccomp "
			                 "knows",
			                 v);
			continue;
		}
		/*
		 * A negative number is a call that does not exist in the native ABI here (such
		 * as socketcall on x86_64): the app cannot make it, since the filter admits the
		 * native ABI only, so there is nothing to add.
		 */
		if (nr < 0)
			continue;
		names = reallocarray(p->deny_syscall_names, p->n_deny_syscalls + 1, sizeof(*names));
		if (names != NULL)
			p->deny_syscall_names = names;
		nums = reallocarray(p->deny_syscalls, p->n_deny_syscalls + 1, sizeof(*nums));
		if (nums != NULL)
			p->deny_syscalls = nums;
		if (names == NULL || nums == NULL ||
		    (names[p->n_deny_syscalls] = strdup(v)) == NULL) {
			ldm_loader_error(l, file, LINE(e), "out of memory");
			continue;
		}
		nums[p->n_deny_syscalls++] = nr;
	}
}

/* Families: when several files set them, the allowed set is their intersection. */
static void
read_syscalls(struct loader *l, const char *file, const config_setting_t *s)
{
	int n;

	if (!config_setting_is_group(s)) {
		ldm_loader_error(l, file, LINE(s), "syscalls: must be a group, not %s",
		                 ldm_setting_type_name(s));
		return;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, i);
		const char *key = config_setting_name(m);

		if (strcmp(key, "address_families") == 0) {
			uint64_t mask = 0;

			read_families(l, file, m, &mask);
			l->p->families = l->families_set ? l->p->families & mask : mask;
			l->families_set = true;
		} else if (strcmp(key, "deny") == 0) {
			read_deny_syscalls(l, file, m);
		} else {
			ldm_loader_error(l, file, LINE(m),
			                 "syscalls: unknown setting '%s' (expected "
			                 "address_families, deny)",
			                 key);
		}
	}
}

static void
read_includes(struct loader *l, const char *file, const config_setting_t *s,
              struct include_ref **inc, size_t *n_inc)
{
	int n = get_list(l, file, s, "include");

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = ldm_loader_get_string(l, file, e, "include", LDM_MAX_NAME_LEN + 1);
		struct include_ref *ni;

		if (v == NULL)
			continue;
		if (!ldm_policy_name_valid(v)) {
			ldm_loader_error(l, file, LINE(e),
			                 "include: '%s' is not a policy name (lower-case letters, "
			                 "digits, '-', '_'; no paths)",
			                 v);
			continue;
		}
		ni = reallocarray(*inc, *n_inc + 1, sizeof(*ni));
		if (ni == NULL || (ni[*n_inc].name = strdup(v)) == NULL) {
			if (ni != NULL)
				*inc = ni;
			ldm_loader_error(l, file, LINE(e), "out of memory");
			continue;
		}
		ni[*n_inc].line = LINE(e);
		*inc = ni;
		(*n_inc)++;
	}
}

static void
read_mode(struct loader *l, const char *file, const config_setting_t *s)
{
	const char *v = ldm_loader_get_string(l, file, s, "mode", 16);

	if (v == NULL)
		return;
	if (strcmp(v, "enforce") == 0)
		l->p->mode = LDM_MODE_ENFORCE;
	else if (strcmp(v, "audit") == 0)
		l->p->mode = LDM_MODE_AUDIT;
	else
		ldm_loader_error(l, file, LINE(s), "mode: '%s' is not \"enforce\" or \"audit\"", v);
}

static void
read_name(struct loader *l, const char *file, const config_setting_t *s)
{
	const char *v = ldm_loader_get_string(l, file, s, "name", LDM_MAX_NAME_LEN);

	if (v == NULL)
		return;
	if (!ldm_policy_name_valid(v)) {
		ldm_loader_error(l, file, LINE(s),
		                 "name: '%s' is not a policy name (lower-case letters, digits, "
		                 "'-', '_')",
		                 v);
		return;
	}
	set_text(l, file, s, "name", &l->p->name);
}

static void
read_audit_override(struct loader *l, const char *file, const config_setting_t *s, bool top)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		ldm_loader_error(l, file, LINE(s), "audit_override: must be true or false, not %s",
		                 ldm_setting_type_name(s));
	else if (top)
		l->p->audit_override = config_setting_get_bool(s);
}

/* One top-level setting. Only the top file sets name, description, mode, audit_override. */
static void
read_top_setting(struct loader *l, const config_setting_t *m, const char *file, bool top,
                 struct include_ref **inc, size_t *n_inc)
{
	const char *key = config_setting_name(m);

	if (strcmp(key, "allow") == 0)
		ldm_loader_read_rules(l, file, m, LDM_ACTION_ALLOW);
	else if (strcmp(key, "deny") == 0)
		ldm_loader_read_rules(l, file, m, LDM_ACTION_DENY);
	else if (strcmp(key, "include") == 0)
		read_includes(l, file, m, inc, n_inc);
	else if (strcmp(key, "dns_allow") == 0)
		read_dns_allow(l, file, m);
	else if (strcmp(key, "known") == 0)
		read_known(l, file, m);
	else if (strcmp(key, "syscalls") == 0)
		read_syscalls(l, file, m);
	else if (strcmp(key, "write") == 0)
		ldm_loader_read_write(l, file, m);
	else if (strcmp(key, "users") == 0 || strcmp(key, "groups") == 0)
		ldm_loader_read_access(l, file, m, top);
	else if (strcmp(key, "name") == 0)
		top ? read_name(l, file, m) : (void)ldm_loader_get_string(l, file, m, "name", 64);
	else if (strcmp(key, "description") == 0)
		top ? set_text(l, file, m, "description", &l->p->description)
		    : (void)ldm_loader_get_string(l, file, m, "description", LDM_MAX_TEXT_LEN);
	else if (strcmp(key, "mode") == 0)
		top ? read_mode(l, file, m) : (void)ldm_loader_get_string(l, file, m, "mode", 16);
	else if (strcmp(key, "audit_override") == 0)
		read_audit_override(l, file, m, top);
	else
		ldm_loader_error(l, file, LINE(m), "unknown setting '%s' (expected one of: %s)",
		                 key, KNOWN_TOP);
}

void
ldm_loader_read_settings(struct loader *l, const config_t *cfg, const char *file, bool top,
                         struct include_ref **inc, size_t *n_inc)
{
	const config_setting_t *root = config_root_setting(cfg);
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++)
		read_top_setting(l, config_setting_get_elem(root, i), file, top, inc, n_inc);
}
