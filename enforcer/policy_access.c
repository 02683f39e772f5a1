/*
 * Who may use a policy: `users = [ "pilot1" ]; groups = [ "pilots" ];`. Without either,
 * every user may; with them, the requesting user must be named in `users` or be a member
 * (primary or supplementary) of a group named in `groups`. The daemon checks it with the
 * uid it authenticated (SO_PEERCRED) and that user's groups from the system's databases.
 *
 * Only the top file says it: an included policy is a building block, and its users and
 * groups are checked, then ignored (as its name and mode are). Names are POSIX portable
 * user and group names, at most 32 bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/policy.h"
#include "policy_int.h"

#define ACCESS_NAME_MAX 32

bool
ldm_account_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > ACCESS_NAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || (c == '$' && i == len - 1)))
			return false;
	}
	return true;
}

void
ldm_loader_read_access(struct loader *l, const char *file, const config_setting_t *s, bool top)
{
	const char *key = config_setting_name(s);
	bool users = strcmp(key, "users") == 0;
	char ***v = users ? &l->p->users : &l->p->groups;
	size_t *n = users ? &l->p->n_users : &l->p->n_groups;
	int len;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		ldm_loader_error(l, file, LINE(s), "%s: must be a list of names, not %s", key,
		                 ldm_setting_type_name(s));
		return;
	}
	len = config_setting_length(s);
	if (top)
		l->access_set = true;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = ldm_loader_get_string(l, file, e, key, ACCESS_NAME_MAX + 1);
		char **nv;

		if (name == NULL)
			continue;
		if (!ldm_account_name_valid(name)) {
			ldm_loader_error(
			        l, file, LINE(e),
			        "%s: '%s' is not a %s name (letters, digits, '_', '-', '.', "
			        "at most %d bytes)",
			        key, name, users ? "user" : "group", ACCESS_NAME_MAX);
			continue;
		}
		if (!top || *n >= LDM_MAX_LIST_ITEMS)
			continue;
		nv = reallocarray(*v, *n + 1, sizeof(*nv));
		if (nv == NULL || (nv[*n] = strdup(name)) == NULL) {
			if (nv != NULL)
				*v = nv;
			ldm_loader_error(l, file, LINE(e), "out of memory");
			return;
		}
		*v = nv;
		(*n)++;
	}
}

bool
ldm_policy_user_allowed(const struct ldm_policy *p, const char *user, const char *const *groups,
                        size_t n_groups)
{
	if (!p->access_limited)
		return true;
	for (size_t i = 0; i < p->n_users; i++)
		if (user != NULL && strcmp(p->users[i], user) == 0)
			return true;
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t k = 0; k < n_groups; k++)
			if (strcmp(p->groups[i], groups[k]) == 0)
				return true;
	return false;
}

int
ldm_policy_access_text(const struct ldm_policy *p, char *buf, size_t size)
{
	size_t used = 0;
	int n;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	if (!p->access_limited)
		return snprintf(buf, size, "every user") < (int)size ? 0 : -ENOBUFS;
	for (int k = 0; k < 2; k++) {
		char **v = k == 0 ? p->users : p->groups;
		size_t nv = k == 0 ? p->n_users : p->n_groups;

		for (size_t i = 0; i < nv; i++) {
			n = snprintf(buf + used, size - used, "%s%s%s", used == 0 ? "" : ", ",
			             k == 0 ? "user " : "group ", v[i]);
			if (n < 0 || (size_t)n >= size - used)
				return -ENOBUFS;
			used += (size_t)n;
		}
	}
	if (used == 0)
		return snprintf(buf, size, "no user") < (int)size ? 0 : -ENOBUFS;
	return 0;
}
