/*
 * What every part of the policy loader uses: reporting a problem at FILE:LINE, reading a
 * string setting with a length limit, naming a setting's type, and adding a launcher item.
 * The loader's files call down into these and never into each other's callers:
 * policy_load.c (files, includes) -> policy_settings.c (a file's settings) -> rule_parse.c,
 * rule_dbus.c, policy_access.c, policy_write.c (one setting each) -> policy_loader.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/util.h"
#include "policy_int.h"

void
ldm_loader_error(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	l->errors++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	(void)ldm_diags_add(l->diags, file, line, "%s", msg != NULL ? msg : "out of memory");
	free(msg);
}

const char *
ldm_setting_type_name(const config_setting_t *s)
{
	static const char *const names[] = {
		[CONFIG_TYPE_NONE] = "nothing",   [CONFIG_TYPE_GROUP] = "a group",
		[CONFIG_TYPE_INT] = "a number",   [CONFIG_TYPE_INT64] = "a number",
		[CONFIG_TYPE_FLOAT] = "a number", [CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "a boolean", [CONFIG_TYPE_ARRAY] = "an array",
		[CONFIG_TYPE_LIST] = "a list",
	};
	int t = config_setting_type(s);

	return t >= 0 && (size_t)t < ELEMENTSOF(names) ? names[t] : "unknown";
}

/* Returns the string of S, or NULL (and reports) if S is not a string of at most MAX bytes. */
const char *
ldm_loader_get_string(struct loader *l, const char *file, const config_setting_t *s,
                      const char *what, size_t max)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ldm_loader_error(l, file, LINE(s), "%s: must be a string, not %s", what,
		                 ldm_setting_type_name(s));
		return NULL;
	}
	v = config_setting_get_string(s);
	if (strlen(v) > max) {
		ldm_loader_error(l, file, LINE(s), "%s: longer than %zu characters", what, max);
		return NULL;
	}
	return v;
}

int
ldm_loader_add_item(struct loader *l, const char *file, unsigned line, const struct ldm_item *item)
{
	struct ldm_policy *p = l->p;
	struct ldm_item *v, it = *item;

	if (p->n_items >= LDM_CTL_ITEMS_MAX) {
		ldm_loader_error(l, file, line,
		                 "more than %d unix, dbus and write rules (includes counted)",
		                 LDM_CTL_ITEMS_MAX);
		return -E2BIG;
	}
	it.value = strdup(item->value);
	it.comment = item->comment != NULL ? strdup(item->comment) : NULL;
	it.file = strdup(file);
	it.line = line;
	v = reallocarray(p->items, p->n_items + 1, sizeof(*v));
	if (v != NULL)
		p->items = v;
	if (v == NULL || it.value == NULL || it.file == NULL ||
	    (item->comment != NULL && it.comment == NULL)) {
		free(it.value);
		free(it.comment);
		free(it.file);
		ldm_loader_error(l, file, line, "out of memory");
		return -ENOMEM;
	}
	p->items[p->n_items++] = it;
	return 0;
}
