/*
 * ldmctl suggest: the drafted write scope (suggest_write.h). Setting `write` replaces the
 * default scope (enforcer/policy_write.c), so a draft that sets it lists the default
 * entries first. An entry is the directory of what was written, or the path itself for a
 * directory the app made or a file directly in the home directory: never /, the home
 * directory or a directory above it, nor one that holds a place an app must never write
 * (shell start files, autostart, user units, menu entries, ...; README "The write scope").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/pathvar.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "ldmctl/suggest_write.h"

#define WRITE_MAX          1000 /* paths remembered */
#define WRITE_COMMENT_MAX  4    /* paths named in one entry's comment */
#define WRITE_DEFAULT_TEXT "/tmp, /var/tmp, /dev/shm"

struct ldmctl_written {
	char path[LDM_EVENT_PATH_MAX + 1];
	char syscall[LDM_EVENT_SYSCALL_MAX + 1];
	bool made_dir;
	uint64_t count;
};

/* Below the home directory: what an app must never write (README "The write scope"). */
static const char *const hooks[] = {
	".bashrc",
	".bash_profile",
	".bash_login",
	".bash_logout",
	".profile",
	".zshrc",
	".zshenv",
	".zprofile",
	".zlogin",
	".xprofile",
	".xinitrc",
	".xsession",
	".xsessionrc",
	".pam_environment",
	".tmux.conf",
	".config/autostart",
	".config/systemd",
	".config/environment.d",
	".config/fish",
	".local/share/applications",
	".local/share/systemd",
	".local/share/dbus-1",
	".ssh",
	".gnupg",
};

/* Absolute, normalized, printable ASCII without '"' and '\': safe in a string or comment. */
static bool
path_ok(const char *path)
{
	char norm[LDM_PATH_PATTERN_MAX];

	for (const char *p = path; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			return false;
	return path[0] == '/' && ldm_path_normalize(path, norm, sizeof(norm)) == 0 &&
	       strcmp(norm, path) == 0;
}

/* True when PATH is a hook of HOME or lies below one (BELOW), or holds one (!BELOW). */
static bool
hook_match(const char *home, const char *path, bool below)
{
	char hook[LDM_PATH_PATTERN_MAX];

	for (size_t i = 0; i < ELEMENTSOF(hooks); i++) {
		int n = snprintf(hook, sizeof(hook), "%s/%s", strcmp(home, "/") ? home : "",
		                 hooks[i]);

		if (n < 0 || (size_t)n >= sizeof(hook))
			continue;
		if (below ? ldm_path_below(hook, path) : ldm_path_below(path, hook))
			return true;
	}
	return false;
}

/* The entry for PATH (see ldmctl_suggest_write_entry) into BUF, absolute. */
static int
entry_of(const char *path, bool made_dir, const char *home, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len = (size_t)(slash - path);

	if (made_dir || (home != NULL && len == strlen(home) && strncmp(path, home, len) == 0))
		len = strlen(path);
	if (len == 0)
		len = 1; /* "/x": its directory is "/" */
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return 0;
}

/* ENTRY as a path pattern into BUF: "%h/..." below HOME (when not NULL), '%' as "%%".
 * BUF is written only on success. */
static int
pattern_of(const char *entry, const char *home, char *buf, size_t size)
{
	char tmp[2 * LDM_PATH_PATTERN_MAX];
	size_t n = 0;
	const char *p = entry;

	if (home != NULL && strcmp(home, "/") != 0 && ldm_path_below(home, entry) &&
	    strcmp(home, entry) != 0) {
		memcpy(tmp, "%h", 2);
		n = 2;
		p = entry + strlen(home);
	}
	for (; *p != '\0'; p++) {
		if (n + 3 > sizeof(tmp))
			return -ENAMETOOLONG;
		if (*p == '%')
			tmp[n++] = '%';
		tmp[n++] = *p;
	}
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return 0;
}

static bool
in_default(const char *path)
{
	for (size_t i = 0; i < ELEMENTSOF(ldm_write_default); i++)
		if (ldm_path_below(ldm_write_default[i], path))
			return true;
	return false;
}

int
ldmctl_suggest_write_entry(const char *path, bool made_dir, const char *home, char *buf,
                           size_t size)
{
	char entry[LDM_PATH_PATTERN_MAX];
	int r;

	if (!path_ok(path) || (home != NULL && !path_ok(home)))
		return -EINVAL;
	r = entry_of(path, made_dir, home, entry, sizeof(entry));
	if (r < 0)
		return r;
	if (in_default(path))
		return pattern_of(entry, NULL, buf, size) < 0 ? -ENAMETOOLONG
		                                              : LDMCTL_WRITE_DEFAULT;
	if (home == NULL)
		return pattern_of(entry, NULL, buf, size) < 0 ? -ENAMETOOLONG
		                                              : LDMCTL_WRITE_HOME_UNKNOWN;
	if (hook_match(home, path, true))
		return pattern_of(entry, NULL, buf, size) < 0 ? -ENAMETOOLONG : LDMCTL_WRITE_HOOK;
	if (strcmp(entry, "/") == 0 || ldm_path_below(entry, home) ||
	    hook_match(home, entry, false))
		return pattern_of(entry, NULL, buf, size) < 0 ? -ENAMETOOLONG
		                                              : LDMCTL_WRITE_TOO_WIDE;
	return pattern_of(entry, home, buf, size) < 0 ? -ENAMETOOLONG : LDMCTL_WRITE_SUGGEST;
}

void
ldmctl_suggest_write_take(struct ldmctl_suggest_writes *w, const struct ldm_event *e)
{
	struct ldmctl_written *v;
	uint64_t count = e->count != 0 ? e->count : 1;

	if (e->event != LDM_EVENT_SYSCALL_DENIED || e->path == NULL || e->err != EACCES ||
	    e->syscall == NULL)
		return; /* not a write outside the scope (a truncation, another call) */
	if (strlen(e->path) >= LDM_EVENT_PATH_MAX || !path_ok(e->path)) {
		w->skipped += count; /* perhaps cut, or nothing a pattern can name */
		return;
	}
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].path, e->path) == 0 &&
		    strcmp(w->v[i].syscall, e->syscall) == 0) {
			w->v[i].count += count;
			return;
		}
	if (w->n >= WRITE_MAX || (v = reallocarray(w->v, w->n + 1, sizeof(*v))) == NULL) {
		w->skipped += count;
		return;
	}
	w->v = v;
	v = &w->v[w->n++];
	*v = (struct ldmctl_written){ .count = count };
	(void)ldm_strscpy(v->path, sizeof(v->path), e->path);
	(void)ldm_strscpy(v->syscall, sizeof(v->syscall), e->syscall);
	v->made_dir = strcmp(e->syscall, "mkdir") == 0 || strcmp(e->syscall, "mkdirat") == 0;
}

void
ldmctl_suggest_write_clear(struct ldmctl_suggest_writes *w)
{
	free(w->v);
	*w = (struct ldmctl_suggest_writes){};
}

/* What print needs of each path: its class, its entry (absolute) and the entry owning it. */
struct judged {
	int cls;
	char entry[LDM_PATH_PATTERN_MAX];
	size_t owner; /* the outermost suggested entry holding this one (first of equals) */
};

static void
judge_all(const struct ldmctl_suggest_writes *w, const char *home, struct judged *j)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct ldmctl_written *x = &w->v[i];

		j[i].cls = ldmctl_suggest_write_entry(x->path, x->made_dir, home, j[i].entry,
		                                      sizeof(j[i].entry));
		if (j[i].cls >= 0)
			(void)entry_of(x->path, x->made_dir, home, j[i].entry, sizeof(j[i].entry));
		j[i].owner = i;
	}
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->n && j[i].cls == LDMCTL_WRITE_SUGGEST; k++) {
			const char *o = j[j[i].owner].entry, *c = j[k].entry;

			if (j[k].cls == LDMCTL_WRITE_SUGGEST && ldm_path_below(c, j[i].entry) &&
			    (strlen(c) < strlen(o) || (strcmp(c, o) == 0 && k < j[i].owner)))
				j[i].owner = k;
		}
}

static void
print_count(FILE *f, const struct ldmctl_written *x)
{
	fprintf(f, "(%s, %" PRIu64 " attempt%s)", x->syscall, x->count, x->count == 1 ? "" : "s");
}

/* The comment of entry E: what was written there, relative to it, the first few. */
static void
print_entry_comment(FILE *f, const struct ldmctl_suggest_writes *w, const struct judged *j,
                    size_t e)
{
	size_t shown = 0, more = 0, len = strlen(j[e].entry);
	bool file = false;

	for (size_t i = 0; i < w->n; i++) {
		const struct ldmctl_written *x = &w->v[i];

		if (j[i].cls != LDMCTL_WRITE_SUGGEST || j[i].owner != e)
			continue;
		file |= strcmp(x->path, j[e].entry) == 0 && !x->made_dir;
		if (shown == WRITE_COMMENT_MAX) {
			more++;
			continue;
		}
		fprintf(f, "%s%s ", shown++ ? ", " : " # ",
		        x->path[len] == '/' ? x->path + len + 1 : "itself");
		print_count(f, x);
	}
	if (more > 0)
		fprintf(f, " and %zu more", more);
	if (file)
		fputs("; a file: it must exist when a session starts (ldm-run makes a missing "
		      "entry a directory)",
		      f);
}

static void
print_list(FILE *f, const struct ldmctl_suggest_writes *w, const char *home, const struct judged *j)
{
	char pat[LDM_PATH_PATTERN_MAX];
	size_t last = SIZE_MAX;

	for (size_t i = 0; i < w->n; i++)
		if (j[i].cls == LDMCTL_WRITE_SUGGEST && j[i].owner == i)
			last = i;
	if (last == SIZE_MAX)
		return;
	fputs("# Where the program wrote outside the default write scope. Setting `write` "
	      "replaces\n"
	      "# the default, so it is listed first; each other entry is the directory of what "
	      "was\n"
	      "# written (a directory it made, or a file directly in the home directory: itself).\n"
	      "write = [\n"
	      "  \"/tmp\", \"/var/tmp\", \"/dev/shm\", # the default scope\n",
	      f);
	for (size_t i = 0; i <= last; i++) {
		if (j[i].cls != LDMCTL_WRITE_SUGGEST || j[i].owner != i ||
		    pattern_of(j[i].entry, home, pat, sizeof(pat)) < 0)
			continue;
		fprintf(f, "  \"%s\"%s", pat, i == last ? "" : ",");
		print_entry_comment(f, w, j, i);
		fputc('\n', f);
	}
	fputs("];\n", f);
}

/* The paths of class CLS, under HEAD; the entry they would need with NEED. */
static void
print_refused(FILE *f, const struct ldmctl_suggest_writes *w, const struct judged *j, int cls,
              const char *head, bool need)
{
	bool any = false;

	for (size_t i = 0; i < w->n; i++) {
		if (j[i].cls != cls)
			continue;
		if (!any)
			fprintf(f, "# %s\n", head);
		any = true;
		fprintf(f, "#   %s ", w->v[i].path);
		print_count(f, &w->v[i]);
		if (need)
			fprintf(f, ": would need %s", j[i].entry);
		fputc('\n', f);
	}
}

void
ldmctl_suggest_write_print(const struct ldmctl_suggest_writes *w, const char *home, FILE *f)
{
	struct judged *j;

	if (w->n == 0 && w->skipped == 0)
		return;
	j = calloc(w->n ? w->n : 1, sizeof(*j));
	if (j == NULL) {
		fputs("# The write scope could not be drafted: out of memory.\n", f);
		return;
	}
	judge_all(w, home, j);
	print_list(f, w, home, j);
	print_refused(f, w, j, LDMCTL_WRITE_HOOK,
	              "NOT suggested: writes an app must never get (they run or configure programs "
	              "outside any session):",
	              false);
	print_refused(f, w, j, LDMCTL_WRITE_TOO_WIDE,
	              "Not suggested, too wide (/, the home directory or above it, or a directory "
	              "holding one of the above); name a directory of the program's own:",
	              true);
	print_refused(f, w, j, LDMCTL_WRITE_HOME_UNKNOWN,
	              "Not suggested: the home directory of the session's user is unknown here "
	              "(give --home):",
	              false);
	print_refused(f, w, j, -EINVAL, "Not suggested: not a usable path:", false);
	print_refused(f, w, j, -ENAMETOOLONG, "Not suggested: too long for a write entry:", false);
	if (w->skipped != 0)
		fprintf(f, "# %" PRIu64 " refused writes name no path a write entry can hold.\n",
		        w->skipped);
	free(j);
}
