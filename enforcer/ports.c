/* Port numbers, ranges and lists as policy files write them. Pure. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/policy.h"

/* Parses a port 1..65535 at *sp; advances *sp. strtoul() alone takes " +1". */
int
ldm_parse_port(const char **sp, uint16_t *ret_port)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)**sp))
		return -EINVAL;
	errno = 0;
	v = strtoul(*sp, &end, 10);
	if (errno != 0 || v < 1 || v > 65535)
		return -EINVAL;
	*sp = end;
	*ret_port = (uint16_t)v;
	return 0;
}

/* Parses "N" or "A-B" at *sp, advancing it. -ERANGE for a reversed range. */
static int
parse_range_at(const char **sp, struct ldm_port_range *ret)
{
	struct ldm_port_range r;
	const char *s = *sp;

	if (ldm_parse_port(&s, &r.lo) < 0)
		return -EINVAL;
	r.hi = r.lo;
	if (*s == '-') {
		s++;
		if (ldm_parse_port(&s, &r.hi) < 0)
			return -EINVAL;
		if (r.hi < r.lo)
			return -ERANGE;
	}
	*sp = s;
	*ret = r;
	return 0;
}

int
ldm_parse_port_range(const char *s, struct ldm_port_range *ret)
{
	struct ldm_port_range r;
	int rc = parse_range_at(&s, &r);

	if (rc < 0)
		return rc;
	if (*s != '\0')
		return -EINVAL;
	*ret = r;
	return 0;
}

/* Returns the number of ranges written, -EINVAL, -ERANGE (reversed), -E2BIG (too many). */
int
ldm_parse_port_list(const char *s, struct ldm_port_range *ret, size_t max)
{
	size_t n = 0;
	int rc;

	for (;;) {
		struct ldm_port_range r;

		rc = parse_range_at(&s, &r);
		if (rc < 0)
			return rc;
		if (n >= max)
			return -E2BIG;
		ret[n++] = r;
		if (*s == '\0')
			return (int)n;
		if (*s != ',')
			return -EINVAL;
		s++;
		while (*s == ' ')
			s++;
	}
}
