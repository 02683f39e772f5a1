/*
 * What iptables-save says about one table: which LDM- chains exist and where the built-in
 * chains jump to ours. Pure: the text is the tool's output, untrusted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipt.h"
#include "ldm/util.h"

#define MAX_CHAINS 4096

void
ldm_ipt_table_clear(struct ldm_ipt_table *t)
{
	for (size_t i = 0; i < t->n_chains; i++)
		free(t->chains[i]);
	free(t->chains);
	*t = (struct ldm_ipt_table){ 0 };
}

static int
add_chain(struct ldm_ipt_table *t, const char *line, size_t len)
{
	char **v;
	size_t n = strcspn(line, " \n");

	if (n > len)
		n = len;
	if (t->n_chains >= MAX_CHAINS)
		return -E2BIG;
	v = reallocarray(t->chains, t->n_chains + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	t->chains = v;
	if ((v[t->n_chains] = strndup(line, n)) == NULL)
		return -ENOMEM;
	t->n_chains++;
	return 0;
}

/* "-A CHAIN -j TARGET" exactly, with nothing else on the line. */
static bool
is_plain_jump(const char *line, size_t len, const char *chain, const char *target)
{
	char want[128];
	int n = snprintf(want, sizeof(want), "-A %s -j %s", chain, target);

	return n > 0 && (size_t)n == len && strncmp(line, want, len) == 0;
}

struct hook_scan {
	const char *builtin; /* "OUTPUT" */
	const char *target;  /* our chain, NULL: not scanned */
	size_t pos;          /* rules of the built-in chain seen so far */
	int *first;          /* where our jump was first seen */
	size_t *count;
};

static void
scan_rule(struct hook_scan *hooks, size_t n, const char *line, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		struct hook_scan *h = &hooks[i];
		size_t bl = strlen(h->builtin);

		if (h->target == NULL || strncmp(line, "-A ", 3) != 0 ||
		    strncmp(line + 3, h->builtin, bl) != 0 || line[3 + bl] != ' ')
			continue;
		h->pos++;
		if (is_plain_jump(line, len, h->builtin, h->target)) {
			++*h->count;
			if (*h->first == 0)
				*h->first = (int)h->pos;
		}
	}
}

int
ldm_ipt_scan(const char *text, const char *table, const char *jump_chain, const char *post_chain,
             const char *in_chain, struct ldm_ipt_table *ret)
{
	struct ldm_ipt_table t = { 0 };
	struct hook_scan hooks[] = {
		{ "OUTPUT", jump_chain, 0, &t.jump_output, &t.n_output_jumps },
		{ "POSTROUTING", post_chain, 0, &t.jump_postrouting, &t.n_postrouting_jumps },
		{ "INPUT", in_chain, 0, &t.jump_input, &t.n_input_jumps },
	};
	bool in_table = false;

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (line[0] == '*')
			in_table =
			        len == strlen(table) + 1 && strncmp(line + 1, table, len - 1) == 0;
		else if (in_table && strncmp(line, ":LDM-", 5) == 0) {
			int r = add_chain(&t, line + 1, len - 1);

			if (r < 0) {
				ldm_ipt_table_clear(&t);
				return r;
			}
		} else if (in_table)
			scan_rule(hooks, ELEMENTSOF(hooks), line, len);
		line = nl != NULL ? nl + 1 : NULL;
	}
	*ret = t;
	return 0;
}
