/* Local socket rules: checking, expanding and judging (include/ldm/unix_rule.h). Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ldm/unix_rule.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == LDM_UNIX_PATH_MAX, "sun_path");

static bool
name_char_ok(char c)
{
	return c > ' ' && c < 0x7f && c != '\\';
}

int
ldm_unix_rule_check(const char *value, const char **why)
{
	size_t len = strnlen(value, LDM_PATH_PATTERN_MAX);

	if (value[0] == '@') {
		if (len < 2) {
			*why = "an abstract socket needs a name after '@'";
			return -EINVAL;
		}
		if (len > LDM_UNIX_PATH_MAX) { /* '@' stands for the leading NUL */
			*why = "an abstract socket name has at most 107 characters";
			return -EINVAL;
		}
		for (size_t i = 1; i < len; i++) {
			if (!name_char_ok(value[i])) {
				*why = "an abstract socket name must be printable ASCII without "
				       "spaces "
				       "or '\\'";
				return -EINVAL;
			}
		}
		return 0;
	}
	if (ldm_path_pattern_check(value, why) < 0)
		return -EINVAL;
	if (len >= LDM_UNIX_PATH_MAX) {
		*why = "a socket path has at most 107 characters";
		return -EINVAL;
	}
	if (value[len - 1] == '/') {
		*why = "a socket path names a socket, not a directory (no trailing '/')";
		return -EINVAL;
	}
	return 0;
}

int
ldm_unix_rule_expand(const char *value, const struct ldm_path_vars *vars, char *buf, size_t size)
{
	const char *why;
	size_t len;
	int r;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	if (ldm_unix_rule_check(value, &why) < 0)
		return -EINVAL;
	if (value[0] == '@') {
		len = strlen(value);
		if (len >= size)
			return -ENAMETOOLONG;
		memcpy(buf, value, len + 1);
		return 0;
	}
	r = ldm_path_expand(value, vars, buf, size);
	if (r == 0 && strlen(buf) >= LDM_UNIX_PATH_MAX)
		r = -ENAMETOOLONG;
	if (r < 0)
		buf[0] = '\0';
	return r;
}

int
ldm_unix_rules_add(struct ldm_unix_rules *rules, bool allow, uint32_t rule, const char *target)
{
	struct ldm_unix_rule *v;
	char *copy = strdup(target);

	if (copy == NULL)
		return -ENOMEM;
	v = reallocarray(rules->v, rules->n + 1, sizeof(*v));
	if (v == NULL) {
		free(copy);
		return -ENOMEM;
	}
	rules->v = v;
	v[rules->n++] = (struct ldm_unix_rule){ .allow = allow, .rule = rule, .target = copy };
	return 0;
}

void
ldm_unix_rules_clear(struct ldm_unix_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		free(rules->v[i].target);
	free(rules->v);
	*rules = (struct ldm_unix_rules){ 0 };
}

void
ldm_unix_judge(const struct ldm_unix_rules *rules, const char *target, struct ldm_unix_verdict *ret)
{
	const struct ldm_unix_rule *deny = NULL, *allow = NULL;

	for (size_t i = 0; i < rules->n; i++) {
		const struct ldm_unix_rule *r = &rules->v[i];
		const struct ldm_unix_rule **slot = r->allow ? &allow : &deny;

		if (strcmp(r->target, target) != 0)
			continue;
		if (*slot == NULL || r->rule < (*slot)->rule)
			*slot = r;
	}
	if (deny != NULL)
		*ret = (struct ldm_unix_verdict){ .decision = LDM_UNIX_DENY, .rule = deny->rule };
	else if (allow != NULL)
		*ret = (struct ldm_unix_verdict){ .decision = LDM_UNIX_ALLOW, .rule = allow->rule };
	else
		*ret = (struct ldm_unix_verdict){ .decision = LDM_UNIX_NO_RULE };
}

int
ldm_unix_sockaddr_text(const void *addr, size_t len, char *buf, size_t size)
{
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	const unsigned char *b = addr;
	sa_family_t family;
	size_t at = 0, n;

	if (size < LDM_UNIX_TARGET_MAX)
		return -ENOBUFS;
	buf[0] = '\0';
	if (len <= off || len > sizeof(struct sockaddr_un))
		return -EINVAL;
	memcpy(&family, b, sizeof(family));
	if (family != AF_UNIX)
		return -EINVAL;
	b += off;
	n = len - off;
	if (b[0] != '\0') {
		n = strnlen((const char *)b, n);
		memcpy(buf, b, n);
		buf[n] = '\0';
		return 0;
	}
	buf[at++] = '@';
	for (size_t i = 1; i < n; i++) {
		if (name_char_ok((char)b[i]) || b[i] == ' ')
			buf[at++] = (char)b[i];
		else
			at += (size_t)snprintf(buf + at, size - at, "\\x%02x", b[i]);
	}
	buf[at] = '\0';
	return 1;
}
