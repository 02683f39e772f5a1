/* Parsers for the kernel's text files: mountinfo, /proc/PID/cgroup, /proc/PID/stat, cgroup.procs,
 * cgroup.events. Pure: the text is untrusted and read by the caller. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "procparse.h"

/* Copies one whitespace-delimited field at *sp into BUF decoding \NNN octal escapes. */
static int
take_field(const char **sp, char *buf, size_t size)
{
	const char *s = *sp;
	size_t n = 0;

	while (*s == ' ')
		s++;
	while (*s != '\0' && *s != ' ' && *s != '\n') {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
			s += 3;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n++] = c;
	}
	buf[n] = '\0';
	*sp = s;
	return 0;
}

/* Parses one mountinfo line: is it cgroup2? Its mount point goes to MNT, its root (the
 * cgroup shown at the mount point) to ROOT when ROOT is not NULL. */
static bool
line_is_cgroup2_root(const char *line, char *mnt, size_t size, char *root, size_t root_size)
{
	char field[LDM_PATH_MAX];
	const char *s = line, *sep;

	for (int i = 0; i < 5; i++) { /* id, parent, dev, root, mount point */
		char *dst = i == 4 ? mnt : i == 3 && root != NULL ? root : field;
		size_t n = i == 4 ? size : i == 3 && root != NULL ? root_size : sizeof(field);

		if (take_field(&s, dst, n) < 0)
			return false;
	}
	sep = strstr(s, " - ");
	if (sep == NULL)
		return false;
	s = sep + 3;
	if (take_field(&s, field, sizeof(field)) < 0)
		return false;
	return strcmp(field, "cgroup2") == 0;
}

static bool
line_is_cgroup2(const char *line, char *mnt, size_t size)
{
	return line_is_cgroup2_root(line, mnt, size, NULL, 0);
}

int
ldm_procparse_cgroup2_root(const char *text, const char *mnt, char *buf, size_t size)
{
	char m[LDM_PATH_MAX], root[LDM_PATH_MAX], found[LDM_PATH_MAX];
	bool seen = false;

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (line_is_cgroup2_root(line, m, sizeof(m), root, sizeof(root)) &&
		    strcmp(m, mnt) == 0) {
			memcpy(found, root, sizeof(found));
			seen = true;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (!seen)
		return -ENOENT;
	if (strlen(found) >= size)
		return -ENAMETOOLONG; /* BUF untouched */
	memcpy(buf, found, strlen(found) + 1);
	return 0;
}

int
ldm_procparse_cgroup2_mount(const char *text, char *buf, size_t size)
{
	static const char *const preferred[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char first[LDM_PATH_MAX] = "", mnt[LDM_PATH_MAX];
	int best = (int)ELEMENTSOF(preferred);

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (line_is_cgroup2(line, mnt, sizeof(mnt))) {
			if (first[0] == '\0')
				(void)ldm_strscpy(first, sizeof(first), mnt);
			for (int i = 0; i < best; i++)
				if (strcmp(mnt, preferred[i]) == 0)
					best = i;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (best < (int)ELEMENTSOF(preferred))
		return ldm_strscpy(buf, size, preferred[best]);
	if (first[0] == '\0')
		return -ENOENT;
	return ldm_strscpy(buf, size, first);
}

int
ldm_procparse_cgroup2_path(const char *text, char *buf, size_t size)
{
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (len >= 4 && strncmp(line, "0::/", 4) == 0) {
			if (len - 3 >= size)
				return -ENAMETOOLONG;
			memcpy(buf, line + 3, len - 3);
			buf[len - 3] = '\0';
			return 0;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int
ldm_procparse_pid_list(const char *text, int *pids, size_t max)
{
	size_t n = 0;

	for (const char *line = text; *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char num[16];
		uint32_t v;

		if (len == 0 || len >= sizeof(num))
			return -EINVAL;
		memcpy(num, line, len);
		num[len] = '\0';
		if (ldm_parse_u32(num, &v) < 0 || v == 0 || v > (1u << 22))
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		pids[n++] = (int)v;
		line = nl != NULL ? nl + 1 : line + len;
	}
	return (int)n;
}

int
ldm_procparse_stat(const char *text, char *ret_state, uint64_t *ret_start, char *comm,
                   size_t comm_size)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *s;
	size_t len;
	char num[24];
	uint64_t start;

	if (open == NULL || close == NULL || close < open || close[1] != ' ' || close[2] == '\0' ||
	    close[3] != ' ' || comm_size == 0)
		return -EINVAL;
	s = close + 4;                             /* field 4 */
	for (int field = 4; field < 22; field++) { /* to the start of field 22 */
		s = strchr(s, ' ');
		if (s == NULL)
			return -EINVAL;
		s++;
	}
	len = strcspn(s, " \n");
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	if (ldm_parse_u64(num, UINT64_MAX, &start) < 0)
		return -EINVAL;
	len = (size_t)(close - open - 1);
	if (len >= comm_size)
		len = comm_size - 1;
	memcpy(comm, open + 1, len);
	comm[len] = '\0';
	*ret_state = close[2];
	*ret_start = start;
	return 0;
}

int
ldm_procparse_populated(const char *text)
{
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, "populated ", 10) == 0) {
			if (line[10] == '0' && (line[11] == '\n' || line[11] == '\0'))
				return 0;
			if (line[10] == '1' && (line[11] == '\n' || line[11] == '\0'))
				return 1;
			return -EINVAL;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return -EINVAL;
}
