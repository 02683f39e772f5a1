/* A log record as journald fields (include/ldm/journalfields.h). Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/journalfields.h"

struct fields {
	char *buf;
	size_t size, used;
	struct iovec *iov;
	size_t n, max;
	int err;
};

/* Adds "NAME=" and up to CAP bytes of VALUE as one field. */
static void
add_str(struct fields *f, const char *name, const char *value, size_t cap)
{
	size_t nl = strlen(name), vl;

	if (value == NULL || value[0] == '\0' || f->err != 0)
		return;
	vl = strnlen(value, cap);
	if (f->n >= f->max || nl + 1 + vl > f->size - f->used) {
		f->err = -ENOBUFS;
		return;
	}
	memcpy(f->buf + f->used, name, nl);
	f->buf[f->used + nl] = '=';
	memcpy(f->buf + f->used + nl + 1, value, vl);
	f->iov[f->n++] = (struct iovec){ f->buf + f->used, nl + 1 + vl };
	f->used += nl + 1 + vl;
}

static void __attribute__((format(printf, 3, 4)))
add_fmt(struct fields *f, const char *name, const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	add_str(f, name, v, sizeof(v));
}

static void
add_addr(struct fields *f, const char *name, const struct ldm_event_addr *a)
{
	char v[INET6_ADDRSTRLEN];

	if (a->family != 0 && inet_ntop(a->family, a->addr, v, sizeof(v)) != NULL)
		add_str(f, name, v, sizeof(v));
}

static void
add_flow(struct fields *f, const struct ldm_event *e)
{
	if (e->proto != LDM_PROTO_ANY)
		add_str(f, "LDM_PROTO", ldm_proto_name(e->proto), 16);
	add_addr(f, "LDM_SRC", &e->src);
	if (e->sport != 0)
		add_fmt(f, "LDM_SPORT", "%u", e->sport);
	add_addr(f, "LDM_DST", &e->dst);
	if (e->dport != 0)
		add_fmt(f, "LDM_DPORT", "%u", e->dport);
	add_str(f, "LDM_HOST", e->host, LDM_EVENT_HOST_MAX);
	add_str(f, "LDM_LABEL", e->label, LDM_EVENT_LABEL_MAX);
	if (e->rule != 0)
		add_fmt(f, "LDM_RULE", "%" PRIu32, e->rule);
	add_str(f, "LDM_COMMENT", e->comment, LDM_EVENT_COMMENT_MAX);
}

static const char *
bool_text(uint8_t v)
{
	return v == LDM_EVENT_YES ? "true" : v == LDM_EVENT_NO ? "false" : NULL;
}

/* The identity of session_start and policy_file; journald adds _HOSTNAME, _MACHINE_ID and
 * _BOOT_ID itself (trusted fields), so those are not repeated. */
static void
add_identity(struct fields *f, const struct ldm_event *e)
{
	if (e->event == LDM_EVENT_POLICY_FILE)
		add_str(f, "LDM_PATH", e->path, LDM_EVENT_PATH_MAX);
	add_str(f, "LDM_VERSION", e->version, LDM_EVENT_VERSION_MAX);
	if (ldm_event_sha256_ok(e->exe_sha256))
		add_str(f, "LDM_EXE_SHA256", e->exe_sha256, LDM_EVENT_SHA256_LEN);
	if (ldm_event_sha256_ok(e->policy_sha256))
		add_str(f, "LDM_POLICY_SHA256", e->policy_sha256, LDM_EVENT_SHA256_LEN);
	if (ldm_event_sha256_ok(e->sha256))
		add_str(f, "LDM_SHA256", e->sha256, LDM_EVENT_SHA256_LEN);
	if (e->landlock_abi != 0)
		add_fmt(f, "LDM_LANDLOCK_ABI", "%" PRIu32, e->landlock_abi);
	add_str(f, "LDM_SECCOMP_NOTIFY", bool_text(e->seccomp_notify), 8);
	add_str(f, "LDM_IPV6", bool_text(e->ipv6), 8);
}

int
ldm_journal_fields(const struct ldm_event *e, const char *text, int priority, uint64_t seq,
                   char *buf, size_t size, struct iovec *iov, size_t max_iov)
{
	struct fields f = { buf, size, 0, iov, 0, max_iov, 0 };
	enum ldm_event_type t = e->event;

	add_str(&f, "MESSAGE", text, LDM_EVENT_LINE_MAX);
	add_fmt(&f, "PRIORITY", "%d", priority);
	add_str(&f, "SYSLOG_IDENTIFIER", "ldm-enforcerd", 16);
	add_str(&f, "LDM_EVENT", ldm_event_type_name(t), 32);
	if (e->session != 0)
		add_fmt(&f, "LDM_SESSION", "%" PRIu64, e->session);
	add_str(&f, "LDM_POLICY", e->policy, LDM_EVENT_POLICY_MAX);
	if (e->uid != LDM_EVENT_UID_NONE)
		add_fmt(&f, "LDM_UID", "%" PRIu32, e->uid);
	add_str(&f, "LDM_USER", e->user, LDM_EVENT_USER_MAX);
	add_str(&f, "LDM_APP", e->app, LDM_EVENT_APP_MAX);
	if (e->pid != 0)
		add_fmt(&f, "LDM_PID", "%" PRIu32, e->pid);
	add_flow(&f, e);
	add_str(&f, "LDM_REASON", e->reason, LDM_EVENT_REASON_MAX);
	if (t == LDM_EVENT_BLOCKED || t == LDM_EVENT_WOULD_BLOCK || t == LDM_EVENT_ALLOWED ||
	    t == LDM_EVENT_SYSCALL_DENIED || t == LDM_EVENT_RESOLVED)
		add_fmt(&f, "LDM_COUNT", "%" PRIu64, e->count == 0 ? 1 : e->count);
	if (t == LDM_EVENT_SYSCALL_DENIED) {
		add_str(&f, "LDM_SYSCALL", e->syscall, LDM_EVENT_SYSCALL_MAX);
		add_fmt(&f, "LDM_ERRNO", "%" PRId32, e->err);
	}
	add_identity(&f, e);
	if (seq != 0)
		add_fmt(&f, "LDM_LOG_SEQ", "%" PRIu64, seq);
	return f.err != 0 ? f.err : (int)f.n;
}
