/*
 * The `write` setting: where the app may create, change, rename or delete files. Each entry
 * is a path pattern (ldm/pathvar.h) and becomes one LDM_ITEM_WRITE item; ldm-run expands
 * the patterns and enforces them with Landlock.
 *
 * Merge: the entries of every file that sets `write` are united (duplicates dropped), as
 * `allow` rules are: an included policy describes more of what the app needs, and every
 * file an include can name is an administrator's (the daemon reads only its policy
 * directories). Intersection would make a shared building block that writes nothing
 * (`write = []`) silently take every write away from the policies that include it.
 *
 * Without `write` in any file the default scope applies: /tmp, /var/tmp and /dev/shm, as
 * items with LDM_ITEM_WRITE_F_DEFAULT, so ldm-run and `ldmctl explain` see one list.
 * Writes to existing character devices (ttys, /dev/null) are granted by ldm-run in every
 * scope; they are no item.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/pathvar.h"
#include "ldm/policy.h"
#include "ldm/writescope.h"
#include "ldm/util.h"
#include "policy_int.h"

const char *const ldm_write_default[3] = { "/tmp", "/var/tmp", "/dev/shm" };

static bool
have_write(const struct ldm_policy *p, const char *v)
{
	for (size_t i = 0; i < p->n_items; i++)
		if (p->items[i].kind == LDM_ITEM_WRITE && strcmp(p->items[i].value, v) == 0)
			return true;
	return false;
}

/* Adds write item V, written at FILE:LINE (NULL, 0: the built-in default scope). */
static int
push_item(struct ldm_policy *p, unsigned flags, const char *v, const char *file, unsigned line)
{
	_cleanup_free_ char *c = NULL, *f = NULL;
	struct ldm_item *nv;

	if (p->n_items >= LDM_CTL_ITEMS_MAX)
		return -E2BIG;
	c = strdup(v);
	f = file != NULL ? strdup(file) : NULL;
	if (c == NULL || (file != NULL && f == NULL))
		return -ENOMEM;
	nv = reallocarray(p->items, p->n_items + 1, sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	p->items = nv;
	nv[p->n_items++] = (struct ldm_item){ .kind = LDM_ITEM_WRITE,
		                              .flags = flags,
		                              .value = TAKE_PTR(c),
		                              .file = TAKE_PTR(f),
		                              .line = line };
	return 0;
}

void
ldm_loader_read_write(struct loader *l, const char *file, const config_setting_t *s)
{
	int n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		ldm_loader_error(l, file, LINE(s), "write: must be a list of paths, not %s",
		                 ldm_setting_type_name(s));
		return;
	}
	l->write_set = true;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = ldm_loader_get_string(l, file, e, "write", LDM_PATH_PATTERN_MAX);
		const char *why;
		int r;

		if (v == NULL)
			continue;
		if (ldm_path_pattern_check(v, &why) < 0) {
			ldm_loader_error(l, file, LINE(e), "write: '%s': %s", v, why);
			continue;
		}
		if (have_write(l->p, v))
			continue;
		r = push_item(l->p, 0, v, file, LINE(e));
		if (r == -E2BIG) {
			ldm_loader_error(l, file, LINE(e),
			                 "write: more than %d launcher items (write paths and "
			                 "others) in the policy",
			                 LDM_CTL_ITEMS_MAX);
			return;
		}
		if (r < 0) {
			ldm_loader_error(l, file, LINE(e), "out of memory");
			return;
		}
	}
}

int
ldm_loader_write_finish(struct loader *l)
{
	if (l->write_set)
		return 0;
	for (size_t i = 0; i < sizeof(ldm_write_default) / sizeof(ldm_write_default[0]); i++) {
		int r = push_item(l->p, LDM_ITEM_WRITE_F_DEFAULT, ldm_write_default[i], NULL, 0);

		if (r < 0)
			return r;
	}
	return 0;
}

bool
ldm_path_below(const char *dir, const char *path)
{
	const char *d = dir, *p = path;

	for (;;) {
		while (*d == '/')
			d++;
		while (*p == '/')
			p++;
		if (*d == '\0')
			return true; /* every component of DIR matched */
		if (*p == '\0')
			return false;
		size_t nd = strcspn(d, "/"), np = strcspn(p, "/");

		if (nd != np || memcmp(d, p, nd) != 0)
			return false;
		d += nd;
		p += np;
	}
}

int
ldm_path_normalize(const char *in, char *buf, size_t size)
{
	size_t at = 0;

	if (size < 2)
		return -ENAMETOOLONG;
	if (in[0] != '/')
		return -EINVAL;
	for (const char *s = in; *s != '\0';) {
		size_t n;

		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.')) {
			s += n;
			continue;
		}
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (at > 0 && buf[at - 1] != '/')
				at--;
			if (at > 0)
				at--; /* the '/' before the dropped component */
			s += n;
			continue;
		}
		if (at + 1 + n >= size)
			return -ENAMETOOLONG;
		buf[at++] = '/';
		memcpy(buf + at, s, n);
		at += n;
		s += n;
	}
	if (at == 0)
		buf[at++] = '/';
	buf[at] = '\0';
	return 0;
}

int
ldm_write_lookup(const struct ldm_policy *p, const struct ldm_path_vars *vars, const char *path,
                 char *buf, size_t size)
{
	for (size_t i = 0; i < p->n_items; i++) {
		if (p->items[i].kind != LDM_ITEM_WRITE)
			continue;
		if (ldm_path_expand(p->items[i].value, vars, buf, size) < 0)
			continue;
		if (ldm_path_below(buf, path))
			return (int)i;
	}
	if (size > 0)
		buf[0] = '\0';
	return -ENOENT;
}
