/* ISO 8601 absolute times for --since/--until (isotime.h). Pure. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "isotime.h"

/* N decimal digits at *SP (advanced), or -1 leaving *SP where it was. */
static int
digits(const char **sp, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*sp)[i] < '0' || (*sp)[i] > '9')
			return -1;
		v = v * 10 + ((*sp)[i] - '0');
	}
	*sp += n;
	return v;
}

static bool
eat(const char **sp, char c)
{
	if (**sp != c)
		return false;
	(*sp)++;
	return true;
}

/* "Z", or "+HH:MM"/"-HH:MM": the zone's offset east of UTC in minutes. */
static int
parse_zone(const char **sp, int *ret_min)
{
	int sign, h, m;

	if (eat(sp, 'Z')) {
		*ret_min = 0;
		return 0;
	}
	if (**sp != '+' && **sp != '-')
		return -EINVAL;
	sign = *(*sp)++ == '-' ? -1 : 1;
	if ((h = digits(sp, 2)) < 0 || h > 23 || !eat(sp, ':') || (m = digits(sp, 2)) < 0 || m > 59)
		return -EINVAL;
	*ret_min = sign * (h * 60 + m);
	return 0;
}

/* "THH:MM[:SS[.f{1,3}]]" into TM and *RET_MS. */
static int
parse_clock(const char **sp, struct tm *tm, int *ret_ms)
{
	int ms = 0, n = 0;

	if ((tm->tm_hour = digits(sp, 2)) < 0 || tm->tm_hour > 23 || !eat(sp, ':') ||
	    (tm->tm_min = digits(sp, 2)) < 0 || tm->tm_min > 59)
		return -EINVAL;
	if (!eat(sp, ':')) { /* no seconds: no fraction either */
		*ret_ms = 0;
		return 0;
	}
	if ((tm->tm_sec = digits(sp, 2)) < 0 || tm->tm_sec > 59)
		return -EINVAL;
	if (eat(sp, '.')) {
		for (; n < 3 && **sp >= '0' && **sp <= '9'; n++)
			ms = ms * 10 + (*(*sp)++ - '0');
		if (n == 0 || (**sp >= '0' && **sp <= '9'))
			return -EINVAL;
		for (int i = n; i < 3; i++)
			ms *= 10;
	}
	*ret_ms = ms;
	return 0;
}

int
ldm_isotime_parse(const char *s, int64_t *ret_ms)
{
	struct tm tm = { 0 }, back;
	int ms = 0, zone = 0, year, mon, mday;
	time_t t;

	if (s == NULL || strlen(s) > 40)
		return -EINVAL;
	if ((year = digits(&s, 4)) < 0 || !eat(&s, '-') || (mon = digits(&s, 2)) < 1 || mon > 12 ||
	    !eat(&s, '-') || (mday = digits(&s, 2)) < 1 || mday > 31)
		return -EINVAL;
	if (eat(&s, 'T') && (parse_clock(&s, &tm, &ms) < 0 || parse_zone(&s, &zone) < 0))
		return -EINVAL;
	if (*s != '\0')
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	t = timegm(&tm);
	/* timegm() normalizes 02-30 to 03-02: a date that does not come back is no date. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != mday || back.tm_mon != mon - 1)
		return -EINVAL;
	*ret_ms = ((int64_t)t - (int64_t)zone * 60) * 1000 + ms;
	return 0;
}
