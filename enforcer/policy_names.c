/*
 * Policy names: which are valid (ldm_policy_name_valid), and the policies there are, for a
 * name that is not: "did you mean vehicle-mavlink?" and the
 * list of available names, from the *.conf files of the policy directories (the first
 * directory that has a name wins, as for loading). Names are listed only if valid; the
 * directories are the administrator's.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/policy.h"
#include "ldm/util.h"

#define NAMES_MAX 64

size_t
ldm_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[LDM_MAX_NAME_LEN + 2];

	if (la > LDM_MAX_NAME_LEN || lb > LDM_MAX_NAME_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the policy names of DIR (NAME.conf) to V, without repeats. */
static void
scan_dir(const char *dir, char **v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL && *n < NAMES_MAX) {
		size_t len = strlen(de->d_name);
		char name[LDM_MAX_NAME_LEN + 1];
		bool seen = false;

		if (len <= 5 || len - 5 > LDM_MAX_NAME_LEN ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (!ldm_policy_name_valid(name))
			continue;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp(v[i], name) == 0;
		if (!seen && (v[*n] = strdup(name)) != NULL)
			(*n)++;
	}
	if (d != NULL)
		closedir(d);
}

int
ldm_policy_suggest_names(const char *name, const char *const *dirs, size_t n_dirs, char *buf,
                         size_t size)
{
	char *v[NAMES_MAX];
	size_t n = 0, used = 0, best = SIZE_MAX, limit = strlen(name) / 3 + 1;
	const char *near = NULL;
	int k;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < n_dirs; i++)
		scan_dir(dirs[i], v, &n);
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(v[0]), by_name);
	for (size_t i = 0; i < n; i++) {
		size_t d = ldm_edit_distance(name, v[i]);

		if (d < best && d <= limit) {
			best = d;
			near = v[i];
		}
	}
	k = near != NULL ? snprintf(buf, size, "; did you mean '%s'?", near) : 0;
	if (k >= 0 && (size_t)k < size)
		used = (size_t)k;
	k = snprintf(buf + used, size - used, near != NULL ? " Available:" : "; available:");
	for (size_t i = 0; k >= 0 && (size_t)k < size - used && i < n; i++) {
		used += (size_t)k;
		k = snprintf(buf + used, size - used, " %s%s", v[i], i + 1 < n ? "," : "");
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	if (k < 0 || (size_t)k >= size - used) /* cut: end the list cleanly */
		(void)snprintf(buf + (used < size - 5 ? used : size - 5), 5, " ...");
	return 0;
}

bool
ldm_policy_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > LDM_MAX_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!ok && (i == 0 || (c != '-' && c != '_')))
			return false;
	}
	return true;
}
