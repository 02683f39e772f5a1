/* DNS names and host patterns ("name", "*.suffix"): validation and matching. Pure. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "ldm/policy.h"
#include "ldm/util.h"

/* Letters, digits, '-' and '_' (SRV-style labels occur), 1..63 per label, no edge '-'. */
static bool
label_valid(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return false;
	}
	return true;
}

/* Validates a lower-cased name with no trailing dot. */
static bool
name_valid(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > LDM_MAX_HOST_LEN)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!label_valid(p, l))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

static void
lower_and_strip(char *s)
{
	size_t len;

	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[len - 1] = '\0';
}

int
ldm_host_name_normalize(const char *s, char *buf, size_t size)
{
	if (ldm_strscpy(buf, size, s) < 0)
		return -ENAMETOOLONG;
	lower_and_strip(buf);
	if (!name_valid(buf))
		return -EINVAL;
	return 0;
}

int
ldm_host_pattern_normalize(char *s)
{
	lower_and_strip(s);
	if (s[0] == '*') {
		/* "*.suffix" needs a suffix of at least two labels: "*.com" is too wide. */
		if (s[1] != '.' || !name_valid(s + 2) || strchr(s + 2, '.') == NULL)
			return -EINVAL;
		return 0;
	}
	return name_valid(s) ? 0 : -EINVAL;
}

bool
ldm_host_match(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (pattern[0] != '*')
		return strcmp(pattern, name) == 0;
	pl = strlen(pattern + 1); /* ".suffix" */
	nl = strlen(name);
	return nl > pl && strcmp(name + nl - pl, pattern + 1) == 0;
}
