/*
 * Better words for libconfig's syntax errors, which say only "syntax error" and a line:
 * the text of that line, and the likely cause where the text shows one (a missing ';' or
 * ',' at the end of the line before; an array of mixed types). Pure; the policy text is
 * untrusted, and the line is quoted with its control characters replaced.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

#define QUOTE_MAX 60

/* Line NO (1-based) of BUF: its start and length (without "\n"); false if there is none. */
static bool
line_of(const char *buf, unsigned no, const char **start, size_t *len)
{
	const char *p = buf;

	for (unsigned i = 1; i < no && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL || no == 0)
		return false;
	*start = p;
	*len = strcspn(p, "\n");
	return true;
}

/* The line without a trailing comment ('#' or '//' outside a string) and blanks. */
static size_t
meaningful_len(const char *s, size_t len)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' && (i == 0 || s[i - 1] != '\\'))
			in_str = !in_str;
		else if (!in_str &&
		         (s[i] == '#' || (s[i] == '/' && i + 1 < len && s[i + 1] == '/')))
			len = i;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return len;
}

/* More '{' than '}' outside strings: a group the line leaves open. */
static bool
opens_group(const char *s, size_t len)
{
	bool in_str = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' && (i == 0 || s[i - 1] != '\\'))
			in_str = !in_str;
		else if (!in_str && s[i] == '{')
			depth++;
		else if (!in_str && s[i] == '}')
			depth--;
	}
	return depth > 0;
}

static void
quote(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	for (size_t i = 0; i < len && n + 4 < size && i < QUOTE_MAX; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (len > QUOTE_MAX && n + 4 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

void
ldm_syntax_hint(const char *buf, unsigned line, const char *msg, char *out, size_t size)
{
	const char *s, *ps;
	size_t len, plen;
	char q[QUOTE_MAX + 8];
	unsigned prev;

	out[0] = '\0';
	if (strstr(msg, "mismatched element type") != NULL) {
		(void)snprintf(out, size,
		               "; an array [ ... ] holds one type: write a list ( ... ) "
		               "to mix numbers and strings");
		return;
	}
	if (buf == NULL || !line_of(buf, line, &s, &len))
		return;
	quote(s, meaningful_len(s, len), q, sizeof(q));
	/* The line before that holds something: does it end a setting without ';'? */
	for (prev = line - 1; prev > 0; prev--)
		if (line_of(buf, prev, &ps, &plen) && (plen = meaningful_len(ps, plen)) > 0)
			break;
	if (strcmp(msg, "syntax error") == 0 && prev > 0 && opens_group(ps, plen))
		(void)snprintf(out, size,
		               "; is a '}' missing at the end of line %u? (line %u: `%s`)", prev,
		               line, q);
	else if (strcmp(msg, "syntax error") == 0 && prev > 0 &&
	         strchr(";,({[=", ps[plen - 1]) == NULL)
		(void)snprintf(out, size,
		               "; is a ';' (or ',' in a list) missing at the end of line "
		               "%u? (line %u: `%s`)",
		               prev, line, q);
	else if (q[0] != '\0')
		(void)snprintf(out, size, " at `%s`", q);
}
