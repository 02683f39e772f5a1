/* The event log's files, rotated and compressed ones included (logfiles.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "ldm/logchain.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/logfiles.h"

unsigned long
ldmctl_log_rotation(const char *name, const char *base)
{
	size_t bl = strlen(base);
	char num[16];
	const char *p, *end;
	uint64_t n;

	if (strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	p = name + bl + 1;
	end = p + strspn(p, "0123456789");
	if (end == p || (size_t)(end - p) >= sizeof(num) ||
	    (*end != '\0' && strcmp(end, ".gz") != 0))
		return 0;
	memcpy(num, p, (size_t)(end - p));
	num[end - p] = '\0';
	return ldm_parse_u64(num, 100000, &n) == 0 ? (unsigned long)n : 0;
}

int
ldmctl_logfiles_add(struct ldmctl_logfiles *f, const char *path)
{
	if (f->n >= LDMCTL_LOG_MAX_FILES)
		return -E2BIG;
	f->paths[f->n] = strdup(path);
	if (f->paths[f->n] == NULL)
		return -ENOMEM;
	f->n++;
	return 0;
}

void
ldmctl_logfiles_clear(struct ldmctl_logfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	f->n = 0;
}

struct rotated {
	unsigned long n;
	char *path;
};

static int
by_rotation_desc(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

int
ldmctl_logfiles_default(struct ldmctl_logfiles *f, const char *log)
{
	static struct rotated files[LDMCTL_LOG_MAX_FILES - 1];
	const char *slash = strrchr(log, '/'), *base = slash != NULL ? slash + 1 : log;
	/* LOG's directory: "." without a slash, "/" for a file in the root */
	_cleanup_free_ char *dir = slash == NULL  ? strdup(".")
	                           : slash == log ? strdup("/")
	                                          : strndup(log, (size_t)(slash - log));
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int r = 0;

	if (dir == NULL)
		return -ENOMEM;
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL && n < ELEMENTSOF(files)) {
		unsigned long k = ldmctl_log_rotation(de->d_name, base);

		if (k == 0 || asprintf(&files[n].path, "%s/%s", dir, de->d_name) < 0)
			continue;
		files[n++].n = k;
	}
	if (d != NULL)
		closedir(d);
	qsort(files, n, sizeof(files[0]), by_rotation_desc);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = ldmctl_logfiles_add(f, files[i].path);
		free(files[i].path);
	}
	return r < 0 ? r : ldmctl_logfiles_add(f, log);
}

static void
file_error(const char *cmd, const char *file, const char *why)
{
	fflush(stdout);
	fprintf(stderr, "ldmctl: %s: ", cmd);
	ldmctl_put_escaped(stderr, file, false);
	fprintf(stderr, ": %s\n", why);
}

static int
read_one(gzFile g, const char *file, ldmctl_line_cb cb, void *u)
{
	static char line[LDM_LOG_LINE_MAX + 1];
	unsigned long lineno = 0;
	bool skipping = false;

	while (gzgets(g, line, sizeof(line)) != NULL) {
		size_t len = strlen(line);
		bool whole = len > 0 && line[len - 1] == '\n';

		if (skipping) { /* the rest of a line too long to be a record */
			skipping = !whole;
			continue;
		}
		lineno++;
		if (!whole && len == sizeof(line) - 1) {
			cb(u, file, lineno, line, len, true);
			skipping = true;
			continue;
		}
		cb(u, file, lineno, line, whole ? len - 1 : len, false);
	}
	return gzeof(g) ? 0 : -EIO;
}

int
ldmctl_logfiles_read(const struct ldmctl_logfiles *f, const char *cmd, ldmctl_line_cb cb, void *u)
{
	int r = 0;

	for (size_t i = 0; i < f->n; i++) {
		const char *path = f->paths[i];
		bool in = strcmp(path, "-") == 0;
		const char *name = in ? "(stdin)" : path;
		gzFile g;

		errno = 0;
		g = in ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
		if (g == NULL) {
			file_error(cmd, name, strerror(errno != 0 ? errno : ENOMEM));
			r = -EIO;
			continue;
		}
		if (read_one(g, name, cb, u) < 0) {
			file_error(cmd, name, "read error");
			r = -EIO;
		}
		(void)gzclose(g);
	}
	return r;
}
