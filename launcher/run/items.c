/*
 * The session's launcher items: what the daemon sent before READY (write paths, local
 * sockets, D-Bus names; ldm/control.h), and the values of %h, %t and %c that expand their
 * path patterns (ldm/pathvar.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldm/control.h"
#include "ldm/pathvar.h"
#include "run/run.h"

int
ldm_run_items_add(struct ldm_run_items *items, const struct ldm_msg_session_item *m)
{
	struct ldm_run_item *v;
	char *value;

	if (items->n >= LDM_CTL_ITEMS_MAX)
		return -E2BIG;
	value = strndup(m->value, sizeof(m->value)); /* NUL-terminated: ldm_msg_check */
	if (value == NULL)
		return -ENOMEM;
	v = reallocarray(items->v, items->n + 1, sizeof(*v));
	if (v == NULL) {
		free(value);
		return -ENOMEM;
	}
	items->v = v;
	v[items->n++] = (struct ldm_run_item){
		.kind = m->kind, .rule = m->rule, .flags = m->flags, .value = value
	};
	return 0;
}

void
ldm_run_items_clear(struct ldm_run_items *items)
{
	for (size_t i = 0; i < items->n; i++)
		free(items->v[i].value);
	free(items->v);
	*items = (struct ldm_run_items){ 0 };
}

/* Copies S into BUF at *at; returns the copy, or NULL when it does not fit. */
static const char *
keep(char *buf, size_t size, size_t *at, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = buf + *at;

	if (n > size - *at)
		return NULL;
	memcpy(p, s, n);
	*at += n;
	return p;
}

int
ldm_run_path_vars(struct ldm_path_vars *ret, char *buf, size_t size)
{
	char pwbuf[4096], cwd[LDM_PATH_PATTERN_MAX];
	struct passwd pw, *res = NULL;
	const char *rt = getenv("XDG_RUNTIME_DIR");
	size_t at = 0;

	*ret = (struct ldm_path_vars){ 0 };
	/* The home directory of the account, not $HOME: the policy means the user's home. */
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL &&
	    pw.pw_dir != NULL && pw.pw_dir[0] == '/')
		ret->home = keep(buf, size, &at, pw.pw_dir);
	if (rt != NULL && rt[0] == '/')
		ret->runtime = keep(buf, size, &at, rt);
	if (getcwd(cwd, sizeof(cwd)) != NULL && cwd[0] == '/')
		ret->cwd = keep(buf, size, &at, cwd);
	return 0;
}
