/* Diagnostics collected while loading a policy: every problem, each FILE:LINE: message. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/policy.h"

void
ldm_diags_clear(struct ldm_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	*d = (struct ldm_diags){ 0 };
}

int
ldm_diags_add(struct ldm_diags *d, const char *file, unsigned line, const char *fmt, ...)
{
	struct ldm_diag *v;
	char *msg = NULL;
	va_list ap;
	int r;

	if (d->n >= LDM_MAX_DIAGS) {
		d->dropped++;
		return 0;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	v = reallocarray(d->v, d->n + 1, sizeof(*v));
	if (v == NULL) {
		free(msg);
		return -ENOMEM;
	}
	d->v = v;
	d->v[d->n] = (struct ldm_diag){
		.file = strdup(file != NULL ? file : "(policy)"),
		.line = line,
		.msg = msg,
	};
	if (d->v[d->n].file == NULL) {
		free(msg);
		return -ENOMEM;
	}
	d->n++;
	return 0;
}
