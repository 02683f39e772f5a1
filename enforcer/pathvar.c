/* Path patterns: %h, %t, %c and %% (include/ldm/pathvar.h). Pure. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ldm/pathvar.h"

/* The value of variable C, or NULL for an unknown variable letter. *known is false when
 * the letter is valid but the value is missing. */
static const char *
var_value(char c, const struct ldm_path_vars *v, bool *known)
{
	const char *val;

	*known = true;
	switch (c) {
	case 'h':
		val = v->home;
		break;
	case 't':
		val = v->runtime;
		break;
	case 'c':
		val = v->cwd;
		break;
	default:
		*known = false;
		return NULL;
	}
	return val;
}

/* True when the component of S that starts at S[i] (after a '/') is "." or "..". */
static bool
dot_component(const char *s, size_t i)
{
	size_t n = strcspn(s + i, "/");

	return (n == 1 && s[i] == '.') || (n == 2 && s[i] == '.' && s[i + 1] == '.');
}

int
ldm_path_pattern_check(const char *pattern, const char **why)
{
	size_t len = strnlen(pattern, LDM_PATH_PATTERN_MAX);

	if (len == 0) {
		*why = "empty path";
		return -EINVAL;
	}
	if (len >= LDM_PATH_PATTERN_MAX) {
		*why = "path too long";
		return -EINVAL;
	}
	if (pattern[0] != '/' &&
	    !(pattern[0] == '%' && pattern[1] != '\0' && strchr("htc", pattern[1]))) {
		*why = "a path must start with '/', %h, %t or %c";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (pattern[i] == '%') {
			if (pattern[i + 1] != '%' &&
			    (i != 0 || pattern[i + 1] == '\0' || !strchr("htc", pattern[i + 1]))) {
				*why = "%h, %t and %c may only start a path; write %% for a '%'";
				return -EINVAL;
			}
			if (pattern[i + 1] != '%' && pattern[i + 2] != '\0' &&
			    pattern[i + 2] != '/') {
				*why = "%h, %t and %c must be followed by '/' or end the path";
				return -EINVAL;
			}
			i++;
			continue;
		}
		if (pattern[i] == '/' && dot_component(pattern, i + 1)) {
			*why = "a path must not contain \".\" or \"..\" components";
			return -EINVAL;
		}
	}
	return 0;
}

/* Appends N bytes of S to BUF at *at; -ENAMETOOLONG if that leaves no room for the NUL. */
static int
append(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
	if (n >= size - *at)
		return -ENAMETOOLONG;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
	return 0;
}

static int
append_var(char *buf, size_t size, size_t *at, const char *val)
{
	size_t n;

	if (val == NULL || val[0] != '/')
		return -ENOENT;
	n = strlen(val);
	while (n > 1 && val[n - 1] == '/')
		n--;
	if (n == 1) /* the root directory: the pattern's own '/' follows */
		n = 0;
	return append(buf, size, at, val, n);
}

int
ldm_path_expand(const char *pattern, const struct ldm_path_vars *vars, char *buf, size_t size)
{
	const char *why;
	size_t at = 0;
	int r;

	if (size == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (ldm_path_pattern_check(pattern, &why) < 0)
		return -EINVAL;
	for (const char *p = pattern; *p != '\0'; p++) {
		bool known;
		const char *val;

		if (*p != '%') {
			r = append(buf, size, &at, p, 1);
		} else if (*++p == '%') {
			r = append(buf, size, &at, "%", 1);
		} else {
			val = var_value(*p, vars, &known);
			r = known ? append_var(buf, size, &at, val) : -EINVAL;
		}
		if (r < 0) {
			buf[0] = '\0';
			return r;
		}
	}
	if (buf[0] == '\0') /* "%h" with home "/" */
		return append(buf, size, &at, "/", 1);
	return 0;
}
