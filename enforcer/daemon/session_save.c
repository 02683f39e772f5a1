/* Saved sessions: the files a restarted daemon takes sessions up from (session_save.h). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"
#include "session_save.h"

/* "" (not known) or 64 lower-case hex digits. */
static bool
sha256_ok(const char *v)
{
	size_t n = strspn(v, "0123456789abcdef");

	return v[0] == '\0' || (n == LDM_EVENT_SHA256_LEN && v[n] == '\0');
}

static int
saved_field(struct ldm_saved *v, const char *key, const char *val)
{
	uint64_t n;

	if (strcmp(key, "name") == 0)
		return ldm_strscpy(v->name, sizeof(v->name), val);
	if (strcmp(key, "policy") == 0)
		return ldm_strscpy(v->policy, sizeof(v->policy), val);
	if (strcmp(key, "user") == 0)
		return ldm_strscpy(v->user, sizeof(v->user), val);
	if (strcmp(key, "app") == 0)
		return ldm_strscpy(v->app, sizeof(v->app), val);
	if (strcmp(key, "exe_sha256") == 0)
		return sha256_ok(val) ? ldm_strscpy(v->exe_sha256, sizeof(v->exe_sha256), val)
		                      : -EINVAL;
	if (ldm_parse_u64(val, INT64_MAX, &n) < 0)
		return -EINVAL;
	if (strcmp(key, "id") == 0)
		v->id = n;
	else if (strcmp(key, "slot") == 0 && n <= LDM_MAX_SESSIONS)
		v->slot = (uint32_t)n;
	else if (strcmp(key, "uid") == 0 && n < UINT32_MAX)
		v->uid = (uint32_t)n;
	else if (strcmp(key, "audit") == 0 && n <= 1)
		v->audit = (uint32_t)n;
	else if (strcmp(key, "pid") == 0 && n <= INT32_MAX)
		v->pid = (int32_t)n;
	else if (strcmp(key, "started") == 0)
		v->started = (int64_t)n;
	else if (strcmp(key, "landlock_abi") == 0 && n <= 64)
		v->landlock_abi = (uint32_t)n;
	else if (strcmp(key, "seccomp_notify") == 0 && n <= 1)
		v->seccomp_notify = (uint32_t)n;
	else
		return -EINVAL;
	return 0;
}

/* SRC as one line's value: a control character (a newline above all: it would start a
 * line of its own) becomes '?'. The app path and user name are the requester's words. */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

int
ldm_session_save_format(const struct session *s, char *buf, size_t size)
{
	char name[sizeof(s->name)], policy[sizeof(s->policy_name)], user[sizeof(s->user)],
	        app[sizeof(s->app)];
	int n;

	one_line(name, sizeof(name), s->name);
	one_line(policy, sizeof(policy), s->policy_name);
	one_line(user, sizeof(user), s->user);
	one_line(app, sizeof(app), s->app);
	n = snprintf(buf, size,
	             "id=%llu\nslot=%u\nname=%s\npolicy=%s\nuid=%u\naudit=%d\npid=%d\n"
	             "started=%lld\nuser=%s\napp=%s\nexe_sha256=%s\nlandlock_abi=%u\n"
	             "seccomp_notify=%d\n",
	             (unsigned long long)s->id, s->slot, name, policy, (unsigned)s->uid, s->audit,
	             (int)s->pid, (long long)s->started.tv_sec, user, app,
	             sha256_ok(s->exe_sha256) ? s->exe_sha256 : "", (unsigned)s->landlock_abi,
	             s->seccomp_notify);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
ldm_session_save_parse(char *text, struct ldm_saved *v)
{
	static const char *const keys[] = {
		"id",      "slot", "name", "policy",     "uid",          "audit",         "pid",
		"started", "user", "app",  "exe_sha256", "landlock_abi", "seccomp_notify"
	};
	char *line, *save = NULL;
	unsigned seen = 0;

	*v = (struct ldm_saved){ 0 };
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		size_t k = 0;

		if (eq == NULL)
			return -EINVAL;
		*eq = '\0';
		while (k < ELEMENTSOF(keys) && strcmp(keys[k], line) != 0)
			k++;
		/* A key twice would let a later line win: not a file we wrote. */
		if (k == ELEMENTSOF(keys) || (seen & (1u << k)) != 0)
			return -EINVAL;
		seen |= 1u << k;
		if (saved_field(v, line, eq + 1) < 0)
			return -EINVAL;
	}
	return v->id > 0 && v->slot > 0 && v->name[0] != '\0' && v->policy[0] != '\0' ? 0 : -EINVAL;
}

static int
state_path(const struct daemon *d, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", d->cfg.state_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
ldm_session_save_write(const struct daemon *d, const struct session *s)
{
	char path[4200], name[64], text[LDM_SESSION_SAVE_MAX];
	int r;

	(void)snprintf(name, sizeof(name), "sessions/%llu", (unsigned long long)s->id);
	if (state_path(d, name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = ldm_session_save_format(s, text, sizeof(text));
	return r < 0 ? r : ldm_write_file_atomic(path, text);
}

void
ldm_session_save_forget(const struct daemon *d, const struct session *s)
{
	char path[4200], name[64];

	(void)snprintf(name, sizeof(name), "sessions/%llu", (unsigned long long)s->id);
	if (state_path(d, name, path, sizeof(path)) == 0)
		(void)unlink(path);
	ldm_counts_remove(d, s);
}

int
ldm_session_save_dir(const struct daemon *d)
{
	char path[4200];
	int fd;

	if (state_path(d, "sessions", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
ldm_session_save_read(int dirfd, const char *file, struct ldm_saved *v)
{
	char text[LDM_SESSION_SAVE_MAX];
	int n = ldm_read_small_at(dirfd, file, text, sizeof(text));

	*v = (struct ldm_saved){ 0 };
	if (n < 0)
		return n;
	return ldm_session_save_parse(text, v);
}
