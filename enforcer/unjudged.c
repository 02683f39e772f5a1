/*
 * The unjudged-drop counters of `iptables-save -c` (unjudged.h). Pure; the text comes from
 * a tool of ours but is read as untrusted: every read is bounded by LEN.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ruleset.h"
#include "unjudged.h"

#define GUARD_RULE " -A LDM-GUARD "

/* Finds NEEDLE in [S, S + N). */
static const char *
find(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (memcmp(s + i, needle, k) == 0)
			return s + i;
	return NULL;
}

/* A decimal number of at most 20 digits at *P (before END), no overflow. */
static bool
number(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*ret = v;
	return true;
}

/* One line [S, END): 1 counted, 0 not ours, -EINVAL malformed. */
static int
line(const char *s, const char *end, uint64_t *counts, size_t n_counts)
{
	const char *c = find(s, (size_t)(end - s), LDM_UNJUDGED_COMMENT), *p = s;
	uint64_t packets, bytes, slot;

	if (c == NULL || find(s, (size_t)(end - s), GUARD_RULE) == NULL)
		return 0;
	if (*p != '[')
		return 0; /* no counters: not -c output */
	p++;
	if (!number(&p, end, &packets) || p >= end || *p++ != ':' || !number(&p, end, &bytes) ||
	    p >= end || *p++ != ']' || p >= end || *p != ' ')
		return -EINVAL;
	if ((size_t)(end - p) < strlen(GUARD_RULE) ||
	    memcmp(p, GUARD_RULE, strlen(GUARD_RULE)) != 0)
		return 0; /* the chain name appears later: not a rule of LDM-GUARD */
	p = c + strlen(LDM_UNJUDGED_COMMENT);
	if (!number(&p, end, &slot) || slot < 1 || slot >= n_counts ||
	    (p < end && *p != '"' && *p != ' '))
		return -EINVAL;
	counts[slot] = counts[slot] > UINT64_MAX - packets ? UINT64_MAX : counts[slot] + packets;
	return 1;
}

int
ldm_unjudged_parse(const char *text, size_t len, uint64_t *counts, size_t n_counts)
{
	const char *s = text, *end = text + len;
	int found = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl != NULL ? nl : end;
		int r = line(s, e, counts, n_counts);

		if (r < 0)
			return r;
		if (found < INT32_MAX)
			found += r;
		s = nl != NULL ? nl + 1 : end;
	}
	return found;
}
