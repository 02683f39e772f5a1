/*
 * The log record's two forms (JSON line, text line) and the strict reader of the JSON form.
 * Pure: buffers in, results out. One key table drives the writer and the reader, so the
 * two cannot disagree on names, order or omission.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "ldm/event.h"
#include "ldm/logchain.h"
#include "ldm/util.h"

_Static_assert(sizeof(uint32_t) == sizeof(unsigned), "uid, pid and rule are read as unsigned");

/* A bounded writer: the first piece that does not fit marks it full and nothing more. */
struct out {
	char *buf;
	size_t size;
	size_t len;
	bool full;
};

static void
put_mem(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void put_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put_fmt(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->buf[o->len] = '\0';
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* Ends a format: the length, or -ENOBUFS with BUF emptied (never a truncated line). */
static int
put_end(struct out *o, int rc)
{
	if (rc == 0 && (o->full || o->len > INT32_MAX))
		rc = -ENOBUFS;
	if (rc < 0) {
		o->buf[0] = '\0';
		return rc;
	}
	return (int)o->len;
}

/*
 * The length of the valid UTF-8 sequence at S (N bytes left) and its code point, or 0 when
 * the byte at S starts none (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		len = 1, cp = s[0];
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Writes the first CAP bytes of S as a JSON string (see event.h for the escapes). */
static void
put_json_str(struct out *o, const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, cap);

	put_mem(o, "\"", 1);
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0xfffd;
		size_t k = utf8_seq(p + i, n - i, &cp);

		if (k == 0 || cp == 0xfffd)
			put_str(o, "\\ufffd");
		else if (cp == '"' || cp == '\\')
			put_mem(o, cp == '"' ? "\\\"" : "\\\\", 2);
		else if (is_control(cp))
			put_fmt(o, "\\u%04x", (unsigned)cp);
		else
			put_mem(o, s + i, k);
		i += k == 0 ? 1 : k;
	}
	put_mem(o, "\"", 1);
}

int
ldm_json_quote(const char *s, size_t cap, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };

	if (size == 0)
		return -ENOBUFS;
	put_json_str(&o, s != NULL ? s : "", cap);
	if (!o.full)
		o.buf[o.len] = '\0';
	return put_end(&o, 0);
}

/* Writes the first CAP bytes of S for a text line: C-like escapes, nothing raw but text. */
static void
put_text_str(struct out *o, const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, cap);

	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t k = utf8_seq(p + i, n - i, &cp);

		if (k == 0)
			k = 1, cp = 0xfffd;
		if (cp == '"' || cp == '\\')
			put_mem(o, cp == '"' ? "\\\"" : "\\\\", 2);
		else if (cp == 0xfffd || is_control(cp))
			for (size_t j = 0; j < k; j++)
				put_fmt(o, "\\x%02x", p[i + j]);
		else
			put_mem(o, s + i, k);
		i += k;
	}
}

static bool
str_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* RFC 3339 UTC with milliseconds; -EINVAL for a time out of years 0000-9999. */
static int
put_ts(struct out *o, const struct timespec *ts)
{
	struct tm tm;

	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -EINVAL;
	if (gmtime_r(&ts->tv_sec, &tm) == NULL)
		return -EINVAL;
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -EINVAL;
	put_fmt(o, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000L);
	return 0;
}

static int
put_addr(struct out *o, const struct ldm_event_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if (inet_ntop(a->family, a->addr, s, sizeof(s)) == NULL)
		return -EINVAL;
	put_str(o, s);
	return 0;
}

static const char *const type_names[] = {
	[LDM_EVENT_BLOCKED] = "blocked",
	[LDM_EVENT_WOULD_BLOCK] = "would_block",
	[LDM_EVENT_ALLOWED] = "allowed",
	[LDM_EVENT_SESSION_START] = "session_start",
	[LDM_EVENT_SESSION_END] = "session_end",
	[LDM_EVENT_TAMPER] = "tamper",
	[LDM_EVENT_SYSCALL_DENIED] = "syscall_denied",
	[LDM_EVENT_ERROR] = "error",
	[LDM_EVENT_RESOLVED] = "resolved",
	[LDM_EVENT_POLICY_FILE] = "policy_file",
	[LDM_EVENT_TRAFFIC] = "traffic",
};

const char *
ldm_event_type_name(enum ldm_event_type t)
{
	return (size_t)t < ELEMENTSOF(type_names) ? type_names[t] : NULL;
}

void
ldm_event_init(struct ldm_event *e, enum ldm_event_type type, const struct timespec *ts)
{
	*e = (struct ldm_event){ .event = type, .uid = LDM_EVENT_UID_NONE, .count = 1 };
	if (ts != NULL)
		e->ts = *ts;
}

/* The events that carry a count: the ones a flood can repeat (and logfold folds). */
static bool
counted(enum ldm_event_type t)
{
	return t == LDM_EVENT_BLOCKED || t == LDM_EVENT_WOULD_BLOCK || t == LDM_EVENT_ALLOWED ||
	       t == LDM_EVENT_SYSCALL_DENIED || t == LDM_EVENT_RESOLVED;
}

enum kind {
	K_TS,
	K_EVENT,
	K_U64,
	K_U32,
	K_U16,
	K_I32,
	K_STR,
	K_PROTO,
	K_ADDR,
	K_COUNT,
	K_DST,
	K_HEX, /* a string of exactly LDM_EVENT_SHA256_LEN lower-case hex digits */
	K_BOOL /* a uint8_t tri-state: 0 omitted, LDM_EVENT_NO false, LDM_EVENT_YES true */
};
enum when { W_SET, W_ALWAYS, W_UID, W_COUNTED, W_END, W_SYSCALL, W_TRAFFIC, W_END_TRAFFIC };

/* One JSON key: where its value lives in struct ldm_event, and in the view for strings. */
struct key {
	const char *name;
	enum kind kind;
	enum when when;
	size_t off;
	size_t buf;
	size_t cap;
};

#define F(m)         offsetof(struct ldm_event, m)
#define S(m, cap)    K_STR, W_SET, F(m), offsetof(struct ldm_event_view, m), cap
#define NUM(k, w, m) k, w, F(m), 0, 0
#define HEX(m)       K_HEX, W_SET, F(m), offsetof(struct ldm_event_view, m), LDM_EVENT_SHA256_LEN

static const struct key keys[] = {
	{ "ts", NUM(K_TS, W_ALWAYS, ts) },
	{ "event", NUM(K_EVENT, W_ALWAYS, event) },
	{ "session", NUM(K_U64, W_SET, session) },
	{ "policy", S(policy, LDM_EVENT_POLICY_MAX) },
	{ "uid", NUM(K_U32, W_UID, uid) },
	{ "user", S(user, LDM_EVENT_USER_MAX) },
	{ "app", S(app, LDM_EVENT_APP_MAX) },
	{ "pid", NUM(K_U32, W_SET, pid) },
	{ "proto", NUM(K_PROTO, W_SET, proto) },
	{ "src", NUM(K_ADDR, W_SET, src) },
	{ "sport", NUM(K_U16, W_SET, sport) },
	{ "dst", K_DST, W_SET, F(dst), offsetof(struct ldm_event_view, sock), LDM_EVENT_PATH_MAX },
	{ "dport", NUM(K_U16, W_SET, dport) },
	{ "host", S(host, LDM_EVENT_HOST_MAX) },
	{ "label", S(label, LDM_EVENT_LABEL_MAX) },
	{ "rule", NUM(K_U32, W_SET, rule) },
	{ "comment", S(comment, LDM_EVENT_COMMENT_MAX) },
	{ "reason", S(reason, LDM_EVENT_REASON_MAX) },
	{ "count", NUM(K_COUNT, W_COUNTED, count) },
	{ "blocked", NUM(K_U64, W_END, blocked) },
	{ "would_block", NUM(K_U64, W_END, would_block) },
	{ "syscalls_denied", NUM(K_U64, W_END, syscalls_denied) },
	{ "syscall", S(syscall, LDM_EVENT_SYSCALL_MAX) },
	{ "nr", NUM(K_I32, W_SYSCALL, nr) },
	{ "errno", NUM(K_I32, W_SYSCALL, err) },
	{ "path", S(path, LDM_EVENT_PATH_MAX) },
	{ "machine", S(machine, LDM_EVENT_MACHINE_MAX) },
	/* Identity (docs/contracts.md): added at the end, as every later key is. */
	{ "hostname", S(hostname, LDM_EVENT_HOSTNAME_MAX) },
	{ "version", S(version, LDM_EVENT_VERSION_MAX) },
	{ "boot_id", S(boot_id, LDM_EVENT_BOOT_ID_MAX) },
	{ "exe_sha256", HEX(exe_sha256) },
	{ "policy_sha256", HEX(policy_sha256) },
	{ "sha256", HEX(sha256) },
	{ "landlock_abi", NUM(K_U32, W_SET, landlock_abi) },
	{ "seccomp_notify", NUM(K_BOOL, W_SET, seccomp_notify) },
	{ "ipv6", NUM(K_BOOL, W_SET, ipv6) },
	/* Traffic: the session_end totals and the traffic records. */
	{ "traffic", NUM(K_U64, W_END_TRAFFIC, traffic) },
	{ "packets_out", NUM(K_U64, W_TRAFFIC, packets_out) },
	{ "bytes_out", NUM(K_U64, W_TRAFFIC, bytes_out) },
	{ "packets_in", NUM(K_U64, W_TRAFFIC, packets_in) },
	{ "bytes_in", NUM(K_U64, W_TRAFFIC, bytes_in) },
};

bool
ldm_event_sha256_ok(const char *s)
{
	if (s == NULL || strlen(s) != LDM_EVENT_SHA256_LEN)
		return false;
	for (size_t i = 0; i < LDM_EVENT_SHA256_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static const void *
field(const struct ldm_event *e, const struct key *k)
{
	return (const char *)e + k->off;
}

static uint64_t
get_u64(const struct ldm_event *e, const struct key *k)
{
	uint64_t v64 = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;

	switch (k->kind) {
	case K_U64:
	case K_COUNT:
		memcpy(&v64, field(e, k), sizeof(v64));
		return v64;
	case K_U32:
		memcpy(&v32, field(e, k), sizeof(v32));
		return v32;
	case K_U16:
		memcpy(&v16, field(e, k), sizeof(v16));
		return v16;
	case K_BOOL:
		return *(const uint8_t *)field(e, k);
	default:
		return 0;
	}
}

static const char *
get_str(const struct ldm_event *e, const struct key *k)
{
	const char *s;

	memcpy(&s, field(e, k), sizeof(s));
	return s;
}

static bool
key_set(const struct ldm_event *e, const struct key *k)
{
	switch (k->kind) {
	case K_STR:
		return str_set(get_str(e, k));
	case K_HEX:
		return ldm_event_sha256_ok(get_str(e, k));
	case K_BOOL:
		return get_u64(e, k) == LDM_EVENT_NO || get_u64(e, k) == LDM_EVENT_YES;
	case K_PROTO:
		return e->proto != LDM_PROTO_ANY;
	case K_ADDR:
		return ((const struct ldm_event_addr *)field(e, k))->family != 0;
	case K_DST:
		return e->dst.family != 0 || str_set(e->sock);
	default:
		return get_u64(e, k) != 0;
	}
}

static bool
key_present(const struct ldm_event *e, const struct key *k)
{
	switch (k->when) {
	case W_ALWAYS:
		return true;
	case W_UID:
		return e->uid != LDM_EVENT_UID_NONE;
	case W_COUNTED:
		return counted(e->event);
	case W_END:
		return e->event == LDM_EVENT_SESSION_END;
	case W_SYSCALL:
		return e->event == LDM_EVENT_SYSCALL_DENIED;
	case W_END_TRAFFIC:
		return e->event == LDM_EVENT_SESSION_END && e->traffic_known;
	case W_TRAFFIC:
		return e->event == LDM_EVENT_TRAFFIC ||
		       (e->event == LDM_EVENT_SESSION_END && e->traffic_known);
	default:
		return key_set(e, k);
	}
}

static int
put_json_value(struct out *o, const struct ldm_event *e, const struct key *k)
{
	int32_t i32;

	switch (k->kind) {
	case K_TS:
		put_mem(o, "\"", 1);
		if (put_ts(o, &e->ts) < 0)
			return -EINVAL;
		put_mem(o, "\"", 1);
		return 0;
	case K_EVENT:
		put_json_str(o, ldm_event_type_name(e->event), SIZE_MAX);
		return 0;
	case K_STR:
	case K_HEX:
		put_json_str(o, get_str(e, k), k->cap);
		return 0;
	case K_BOOL:
		put_str(o, get_u64(e, k) == LDM_EVENT_YES ? "true" : "false");
		return 0;
	case K_PROTO:
		put_json_str(o, ldm_proto_name(e->proto), SIZE_MAX);
		return 0;
	case K_DST:
		if (e->dst.family == 0) {
			put_json_str(o, e->sock, k->cap);
			return 0;
		}
		/* fall through */
	case K_ADDR:
		put_mem(o, "\"", 1);
		if (put_addr(o, field(e, k)) < 0)
			return -EINVAL;
		put_mem(o, "\"", 1);
		return 0;
	case K_I32:
		memcpy(&i32, field(e, k), sizeof(i32));
		put_fmt(o, "%" PRId32, i32);
		return 0;
	case K_COUNT:
		put_fmt(o, "%" PRIu64, e->count == 0 ? 1 : e->count);
		return 0;
	default:
		put_fmt(o, "%" PRIu64, get_u64(e, k));
		return 0;
	}
}

int
ldm_event_json(const struct ldm_event *e, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };
	int rc = 0;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	if (ldm_event_type_name(e->event) == NULL)
		return -EINVAL;
	put_mem(&o, "{", 1);
	for (size_t i = 0; rc == 0 && i < ELEMENTSOF(keys); i++) {
		if (!key_present(e, &keys[i]))
			continue;
		put_fmt(&o, "%s\"%s\":", i == 0 ? "" : ",", keys[i].name);
		rc = put_json_value(&o, e, &keys[i]);
	}
	put_mem(&o, "}\n", 2);
	return put_end(&o, rc);
}

static int
put_endpoint(struct out *o, const struct ldm_event_addr *a, uint16_t port)
{
	bool brackets = a->family == AF_INET6 && port != 0;
	int rc;

	put_str(o, brackets ? " [" : " ");
	rc = put_addr(o, a);
	put_str(o, brackets ? "]" : "");
	if (port != 0)
		put_fmt(o, ":%u", port);
	return rc;
}

/* Writes an item of the "(host h \"label\", rule 3 \"comment\")" list: WORD, then QUOTED. */
static void
put_item(struct out *o, int *n, const char *word, const char *quoted, size_t cap)
{
	if (word == NULL && !str_set(quoted))
		return;
	put_str(o, (*n)++ == 0 ? " (" : ", ");
	if (word != NULL)
		put_str(o, word);
	if (str_set(quoted)) {
		put_str(o, word != NULL ? " \"" : "\"");
		put_text_str(o, quoted, cap);
		put_str(o, "\"");
	}
}

/* " tcp 10.0.0.2:40000 -> 198.51.100.7:443 (host h \"label\", rule 3 \"comment\")" */
static int
text_flow(struct out *o, const struct ldm_event *e)
{
	char host[4 * LDM_EVENT_HOST_MAX + 8], rule[32];
	struct out h = { host, sizeof(host), 0, false };
	int rc = 0, n = 0;

	if (e->proto != LDM_PROTO_ANY)
		put_fmt(o, " %s", ldm_proto_name(e->proto));
	if (e->src.family != 0)
		rc = put_endpoint(o, &e->src, e->sport);
	if (rc == 0 && e->dst.family != 0) {
		put_str(o, " ->");
		rc = put_endpoint(o, &e->dst, e->dport);
	} else if (str_set(e->sock)) {
		put_str(o, " -> ");
		put_text_str(o, e->sock, LDM_EVENT_PATH_MAX);
	}
	put_str(&h, "host ");
	put_text_str(&h, str_set(e->host) ? e->host : "", LDM_EVENT_HOST_MAX);
	put_item(o, &n, str_set(e->host) ? host : NULL, e->label, LDM_EVENT_LABEL_MAX);
	(void)snprintf(rule, sizeof(rule), "rule %" PRIu32, e->rule);
	put_item(o, &n, e->rule != 0 ? rule : NULL, e->comment, LDM_EVENT_COMMENT_MAX);
	if (n > 0)
		put_str(o, ")");
	return rc;
}

/* " session 7 policy qgc uid 1000 user pilot pid 1234 app /usr/bin/curl" */
static void
text_who(struct out *o, const struct ldm_event *e)
{
	if (e->session != 0)
		put_fmt(o, " session %" PRIu64, e->session);
	if (str_set(e->policy)) {
		put_str(o, " policy ");
		put_text_str(o, e->policy, LDM_EVENT_POLICY_MAX);
	}
	if (e->uid != LDM_EVENT_UID_NONE)
		put_fmt(o, " uid %" PRIu32, e->uid);
	if (str_set(e->user)) {
		put_str(o, " user ");
		put_text_str(o, e->user, LDM_EVENT_USER_MAX);
	}
	if (e->pid != 0)
		put_fmt(o, " pid %" PRIu32, e->pid);
	if (str_set(e->app)) {
		put_str(o, " app ");
		put_text_str(o, e->app, LDM_EVENT_APP_MAX);
	}
}

/* " ptrace nr 101 errno EPERM" */
static void
text_syscall(struct out *o, const struct ldm_event *e)
{
	const char *name = strerrorname_np(e->err);

	if (str_set(e->syscall)) {
		put_str(o, " ");
		put_text_str(o, e->syscall, LDM_EVENT_SYSCALL_MAX);
	}
	put_fmt(o, " nr %" PRId32, e->nr);
	if (name != NULL)
		put_fmt(o, " errno %s", name);
	else
		put_fmt(o, " errno %" PRId32, e->err);
	if (str_set(e->path)) {
		put_str(o, " path ");
		put_text_str(o, e->path, LDM_EVENT_PATH_MAX);
	}
}

static const char *
yes_no(uint8_t v)
{
	return v == LDM_EVENT_YES ? "yes" : v == LDM_EVENT_NO ? "no" : NULL;
}

static void
text_word(struct out *o, const char *word, const char *s, size_t cap)
{
	if (!str_set(s))
		return;
	put_fmt(o, " %s ", word);
	put_text_str(o, s, cap);
}

/* " version 0.1.0 hostname h boot_id B exe_sha256 H policy_sha256 H landlock_abi 3 ..." */
static void
text_identity(struct out *o, const struct ldm_event *e)
{
	if (e->event == LDM_EVENT_POLICY_FILE)
		text_word(o, "path", e->path, LDM_EVENT_PATH_MAX);
	text_word(o, "version", e->version, LDM_EVENT_VERSION_MAX);
	if (e->event == LDM_EVENT_SESSION_START || e->event == LDM_EVENT_POLICY_FILE)
		text_word(o, "hostname", e->hostname, LDM_EVENT_HOSTNAME_MAX);
	text_word(o, "boot_id", e->boot_id, LDM_EVENT_BOOT_ID_MAX);
	if (ldm_event_sha256_ok(e->exe_sha256))
		put_fmt(o, " exe_sha256 %s", e->exe_sha256);
	if (ldm_event_sha256_ok(e->policy_sha256))
		put_fmt(o, " policy_sha256 %s", e->policy_sha256);
	if (ldm_event_sha256_ok(e->sha256))
		put_fmt(o, " sha256 %s", e->sha256);
	if (e->landlock_abi != 0)
		put_fmt(o, " landlock_abi %" PRIu32, e->landlock_abi);
	if (yes_no(e->seccomp_notify) != NULL)
		put_fmt(o, " seccomp_notify %s", yes_no(e->seccomp_notify));
	if (yes_no(e->ipv6) != NULL)
		put_fmt(o, " ipv6 %s", yes_no(e->ipv6));
}

int
ldm_event_text(const struct ldm_event *e, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };
	int rc;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	if (ldm_event_type_name(e->event) == NULL)
		return -EINVAL;
	put_str(&o, ldm_event_type_name(e->event));
	if (e->event == LDM_EVENT_SYSCALL_DENIED)
		text_syscall(&o, e);
	rc = text_flow(&o, e);
	text_who(&o, e);
	if (counted(e->event) && e->count > 1)
		put_fmt(&o, " count %" PRIu64, e->count);
	if (e->event == LDM_EVENT_SESSION_END)
		put_fmt(&o, " blocked %" PRIu64 " would_block %" PRIu64 " syscalls_denied %" PRIu64,
		        e->blocked, e->would_block, e->syscalls_denied);
	text_identity(&o, e);
	if (e->event == LDM_EVENT_SESSION_END && e->traffic_known)
		put_fmt(&o, " traffic %" PRIu64, e->traffic);
	if (e->event == LDM_EVENT_TRAFFIC ||
	    (e->event == LDM_EVENT_SESSION_END && e->traffic_known))
		put_fmt(&o,
		        " packets_out %" PRIu64 " bytes_out %" PRIu64 " packets_in %" PRIu64
		        " bytes_in %" PRIu64,
		        e->packets_out, e->bytes_out, e->packets_in, e->bytes_in);
	if (str_set(e->reason)) {
		put_str(&o, ": ");
		put_text_str(&o, e->reason, LDM_EVENT_REASON_MAX);
	}
	return put_end(&o, rc);
}

/*
 * The reader. It trusts no byte: every read is bounded by the line, every string by its
 * cap, every number by its type; the record read must format back to the very same line.
 */
struct in {
	const char *s;
	size_t n;
	size_t i;
};

static bool
eat(struct in *in, char c)
{
	if (in->i >= in->n || in->s[in->i] != c)
		return false;
	in->i++;
	return true;
}

/* The literal W (true, false, null) at the reader's place. */
static bool
eat_word(struct in *in, const char *w)
{
	size_t n = strlen(w);

	if (in->n - in->i < n || memcmp(in->s + in->i, w, n) != 0)
		return false;
	in->i += n;
	return true;
}

/* Four lower-case hex digits after "\u"; -1 if not. */
static long
parse_hex4(struct in *in)
{
	long v = 0;

	if (in->n - in->i < 4)
		return -1;
	for (int j = 0; j < 4; j++) {
		char c = in->s[in->i++];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* Decodes one escape (after the backslash) into B; returns its length or -EBADMSG. */
static int
parse_escape(struct in *in, unsigned char b[2])
{
	long v;

	if (eat(in, '"') || eat(in, '\\')) {
		b[0] = (unsigned char)in->s[in->i - 1];
		return 1;
	}
	if (!eat(in, 'u') || (v = parse_hex4(in)) < 0)
		return -EBADMSG;
	if (v == 0xfffd) {
		b[0] = 0xff; /* a byte that was not UTF-8: formats again as \ufffd */
		return 1;
	}
	if (v < 0x80) {
		b[0] = (unsigned char)v;
		return 1;
	}
	if (v <= 0x9f) {
		b[0] = 0xc2;
		b[1] = (unsigned char)v;
		return 2;
	}
	return -EBADMSG;
}

/* Reads a JSON string into BUF (CAP bytes and a NUL). */
static int
parse_string(struct in *in, char *buf, size_t cap)
{
	size_t len = 0;

	if (!eat(in, '"'))
		return -EBADMSG;
	while (!eat(in, '"')) {
		unsigned char b[2];
		int k = 1;

		if (in->i >= in->n || (unsigned char)in->s[in->i] < 0x20)
			return -EBADMSG;
		b[0] = (unsigned char)in->s[in->i++];
		if (b[0] == '\\' && (k = parse_escape(in, b)) < 0)
			return k;
		if ((size_t)k > cap - len)
			return -EBADMSG;
		memcpy(buf + len, b, (size_t)k);
		len += (size_t)k;
	}
	buf[len] = '\0';
	return 0;
}

/* A decimal number as the writer prints it: no sign, no leading zero, at most MAX. */
static int
parse_uint(struct in *in, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t start = in->i;

	while (in->i < in->n && in->s[in->i] >= '0' && in->s[in->i] <= '9') {
		unsigned d = (unsigned)(in->s[in->i++] - '0');

		if (in->i - start > 1 && v == 0)
			return -EBADMSG;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
			return -EBADMSG;
	}
	if (in->i == start || v > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int
parse_i32(struct in *in, int32_t *ret)
{
	bool neg = eat(in, '-');
	uint64_t v;

	if (parse_uint(in, neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX, &v) < 0)
		return -EBADMSG;
	*ret = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
	return 0;
}

/* N decimal digits at S, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2026-11-25T02:14:29.123Z"; impossible dates are caught by formatting them again. */
static int
parse_ts(const char *s, struct timespec *ret)
{
	static const char shape[] = "0000-00-00T00:00:00.000Z";
	struct tm tm = { 0 };
	int ms;

	if (strlen(s) != sizeof(shape) - 1)
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] != '0' && s[i] != shape[i])
			return -EBADMSG;
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	ms = digits(s + 20, 3);
	if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0 || ms < 0)
		return -EBADMSG;
	ret->tv_sec = timegm(&tm);
	ret->tv_nsec = ms * 1000000L;
	return 0;
}

static int
parse_enum(const char *s, struct ldm_event *e, enum kind kind)
{
	if (kind == K_PROTO) {
		if (strcmp(s, "other") == 0)
			e->proto = LDM_PROTO_OTHER;
		else if (ldm_proto_parse(s, &e->proto) < 0)
			return -EBADMSG;
		return 0;
	}
	for (size_t t = 0; t < ELEMENTSOF(type_names); t++) {
		if (type_names[t] != NULL && strcmp(s, type_names[t]) == 0) {
			e->event = (enum ldm_event_type)t;
			return 0;
		}
	}
	return -EBADMSG;
}

static int
parse_addr(const char *s, struct ldm_event_addr *ret)
{
	if (inet_pton(AF_INET, s, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		return -EBADMSG;
	return 0;
}

/* Reads the value of key K into V. */
static int
parse_value(struct in *in, const struct key *k, struct ldm_event_view *v)
{
	static const uint64_t max[] = { [K_U64] = UINT64_MAX,
		                        [K_COUNT] = UINT64_MAX,
		                        [K_U32] = UINT32_MAX,
		                        [K_U16] = UINT16_MAX };
	char *dst = (char *)&v->ev + k->off;
	char s[64];
	uint64_t u;
	int32_t i32;

	switch (k->kind) {
	case K_STR:
		return parse_string(in, (char *)v + k->buf, k->cap);
	case K_HEX:
		if (parse_string(in, (char *)v + k->buf, k->cap) < 0)
			return -EBADMSG;
		return ldm_event_sha256_ok((char *)v + k->buf) ? 0 : -EBADMSG;
	case K_BOOL:
		if (eat_word(in, "true"))
			*(uint8_t *)dst = LDM_EVENT_YES;
		else if (eat_word(in, "false"))
			*(uint8_t *)dst = LDM_EVENT_NO;
		else
			return -EBADMSG;
		return 0;
	case K_DST:
		/* An address, or a local socket's path (which is never an address). */
		if (parse_string(in, v->sock, k->cap) < 0)
			return -EBADMSG;
		if (parse_addr(v->sock, &v->ev.dst) == 0) {
			v->sock[0] = '\0';
			return 0;
		}
		/* A local socket: only with proto "unix" (read before dst), "/..." or "@...". */
		return v->ev.proto == LDM_PROTO_UNIX && (v->sock[0] == '/' || v->sock[0] == '@')
		               ? 0
		               : -EBADMSG;
	case K_TS:
	case K_EVENT:
	case K_PROTO:
	case K_ADDR:
		if (parse_string(in, s, sizeof(s) - 1) < 0)
			return -EBADMSG;
		if (k->kind == K_TS)
			return parse_ts(s, &v->ev.ts);
		if (k->kind == K_ADDR)
			return parse_addr(s, (struct ldm_event_addr *)dst);
		return parse_enum(s, &v->ev, k->kind);
	case K_I32:
		if (parse_i32(in, &i32) < 0)
			return -EBADMSG;
		memcpy(dst, &i32, sizeof(i32));
		return 0;
	default:
		if (parse_uint(in, max[k->kind], &u) < 0)
			return -EBADMSG;
		if (k->kind == K_U32)
			memcpy(dst, &(uint32_t){ (uint32_t)u }, sizeof(uint32_t));
		else if (k->kind == K_U16)
			memcpy(dst, &(uint16_t){ (uint16_t)u }, sizeof(uint16_t));
		else
			memcpy(dst, &u, sizeof(u));
		return 0;
	}
}

/*
 * Skipping the value of a key this version does not know (a record of a later version):
 * any well-formed JSON value (RFC 8259), strings valid UTF-8, nesting bounded.
 */
#define UNKNOWN_DEPTH_MAX 8
#define UNKNOWN_KEYS_MAX  32
#define UNKNOWN_NAME_MAX  64

static int skip_value(struct in *in, unsigned depth);

static bool
eat_digits(struct in *in)
{
	size_t start = in->i;

	while (in->i < in->n && in->s[in->i] >= '0' && in->s[in->i] <= '9')
		in->i++;
	return in->i > start;
}

/* -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int
skip_number(struct in *in)
{
	(void)eat(in, '-');
	if (!eat(in, '0') && (in->i >= in->n || in->s[in->i] < '1' || !eat_digits(in)))
		return -EBADMSG;
	if (eat(in, '.') && !eat_digits(in))
		return -EBADMSG;
	if (eat(in, 'e') || eat(in, 'E')) {
		if (!eat(in, '+'))
			(void)eat(in, '-');
		if (!eat_digits(in))
			return -EBADMSG;
	}
	return 0;
}

static int
skip_string(struct in *in)
{
	static const char simple[] = "\"\\/bfnrt";

	if (!eat(in, '"'))
		return -EBADMSG;
	while (!eat(in, '"')) {
		uint32_t cp;
		size_t k;

		if (in->i >= in->n || (unsigned char)in->s[in->i] < 0x20)
			return -EBADMSG;
		if (eat(in, '\\')) {
			if (in->i >= in->n)
				return -EBADMSG;
			if (eat(in, 'u')) {
				for (int j = 0; j < 4; j++, in->i++)
					if (in->i >= in->n ||
					    !isxdigit((unsigned char)in->s[in->i]))
						return -EBADMSG;
			} else if (in->s[in->i] == '\0' || strchr(simple, in->s[in->i++]) == NULL) {
				return -EBADMSG;
			}
			continue;
		}
		k = utf8_seq((const unsigned char *)in->s + in->i, in->n - in->i, &cp);
		/* DEL and C1 as the writer would escape them: `ldmctl log --json` prints the
		 * line as written, so no raw control may pass through an unknown key. */
		if (k == 0 || is_control(cp))
			return -EBADMSG;
		in->i += k;
	}
	return 0;
}

/* An array or an object (OPEN '[' or '{'), members skipped one nesting level deeper. */
static int
skip_container(struct in *in, char open, unsigned depth)
{
	char close = open == '[' ? ']' : '}';

	if (depth >= UNKNOWN_DEPTH_MAX)
		return -EBADMSG;
	in->i++;
	if (eat(in, close))
		return 0;
	do {
		if (open == '{' && (skip_string(in) < 0 || !eat(in, ':')))
			return -EBADMSG;
		if (skip_value(in, depth + 1) < 0)
			return -EBADMSG;
	} while (eat(in, ','));
	return eat(in, close) ? 0 : -EBADMSG;
}

static int
skip_value(struct in *in, unsigned depth)
{
	if (in->i >= in->n)
		return -EBADMSG;
	switch (in->s[in->i]) {
	case '"':
		return skip_string(in);
	case '[':
	case '{':
		return skip_container(in, in->s[in->i], depth);
	default:
		if (eat_word(in, "true") || eat_word(in, "false") || eat_word(in, "null"))
			return 0;
		return skip_number(in);
	}
}

/* The key name at the reader's place, unescaped: NAME and its length (at most MAX). */
static int
read_name(struct in *in, const char **ret, size_t *ret_len, size_t max)
{
	size_t start;

	if (!eat(in, '"'))
		return -EBADMSG;
	start = in->i;
	while (in->i < in->n && in->i - start <= max &&
	       ((in->s[in->i] >= 'a' && in->s[in->i] <= 'z') ||
	        (in->s[in->i] >= '0' && in->s[in->i] <= '9') || in->s[in->i] == '_'))
		in->i++;
	if (in->i == start || in->i - start > max || !eat(in, '"') || !eat(in, ':'))
		return -EBADMSG;
	*ret = in->s + start;
	*ret_len = in->i - 2 - start;
	return 0;
}

static ssize_t
key_index(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return (ssize_t)i;
	return -1;
}

/* The unknown keys of one record: each once, never a chain key. */
struct unknown {
	const char *name[UNKNOWN_KEYS_MAX];
	size_t len[UNKNOWN_KEYS_MAX];
	size_t n;
};

static int
unknown_add(struct unknown *u, const char *name, size_t len)
{
	if (u->n >= UNKNOWN_KEYS_MAX || (len == 3 && memcmp(name, "seq", 3) == 0) ||
	    (len == 4 && memcmp(name, "prev", 4) == 0))
		return -EBADMSG;
	for (size_t i = 0; i < u->n; i++)
		if (u->len[i] == len && memcmp(u->name[i], name, len) == 0)
			return -EBADMSG;
	u->name[u->n] = name;
	u->len[u->n++] = len;
	return 0;
}

/*
 * Known keys in table order, each at most once; unknown keys skipped; no whitespace,
 * nothing after the object. KNOWN gets the object without its unknown keys.
 */
static int
parse_object(struct in *in, struct ldm_event_view *v, struct out *known)
{
	struct unknown u = { .n = 0 };
	size_t next = 0;

	if (!eat(in, '{'))
		return -EBADMSG;
	put_mem(known, "{", 1);
	do {
		size_t start = in->i, len;
		const char *name;
		ssize_t i;
		int rc;

		if (read_name(in, &name, &len, UNKNOWN_NAME_MAX) < 0)
			return -EBADMSG;
		i = key_index(name, len);
		if (i < 0) {
			if (unknown_add(&u, name, len) < 0 || skip_value(in, 0) < 0)
				return -EBADMSG;
			continue;
		}
		if ((size_t)i < next)
			return -EBADMSG;
		rc = parse_value(in, &keys[i], v);
		if (rc < 0)
			return rc;
		put_mem(known, ",", known->len > 1 ? 1 : 0);
		put_mem(known, in->s + start, in->i - start);
		/* All of them or none: formatting the record again checks that. */
		if (keys[i].when == W_END_TRAFFIC || keys[i].when == W_TRAFFIC)
			v->ev.traffic_known = v->ev.event == LDM_EVENT_SESSION_END;
		next = (size_t)i + 1;
	} while (eat(in, ','));
	if (!eat(in, '}') || in->i != in->n)
		return -EBADMSG;
	put_mem(known, "}", 1);
	v->unknown = (unsigned)u.n;
	return known->full ? -EBADMSG : 0;
}

/* Points V's strings at its buffers; an empty buffer is an absent key. */
static void
view_fix(struct ldm_event_view *v)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const char *buf = (const char *)v + keys[i].buf;
		const char *p;

		if (keys[i].kind == K_DST)
			v->ev.sock = v->sock[0] != '\0' ? v->sock : NULL;
		if (keys[i].kind != K_STR && keys[i].kind != K_HEX)
			continue;
		p = buf[0] != '\0' ? buf : NULL;
		memcpy((char *)&v->ev + keys[i].off, &p, sizeof(p));
	}
}

int
ldm_event_parse_json(const char *line, size_t len, struct ldm_event_view *ret)
{
	struct ldm_event_view v = { .ev = { .uid = LDM_EVENT_UID_NONE } };
	char again[LDM_EVENT_LINE_MAX], body[LDM_EVENT_LINE_MAX], kbuf[LDM_EVENT_LINE_MAX];
	struct out known = { kbuf, sizeof(kbuf), 0, false };
	struct in in;
	int rc, n;

	/* A line of the log file: the record is what is left without the chain keys. */
	if (len <= LDM_LOG_LINE_MAX && (n = ldm_chain_unseal(line, len, body, sizeof(body))) >= 0) {
		line = body;
		len = (size_t)n;
	}
	in = (struct in){ line, len, 0 };
	if (len > LDM_EVENT_LINE_MAX)
		return -E2BIG;
	if (len > 0 && line[len - 1] == '\n')
		in.n = --len;
	rc = parse_object(&in, &v, &known);
	if (rc < 0)
		return rc;
	view_fix(&v);
	n = ldm_event_json(&v.ev, again, sizeof(again));
	if (n < 0 || (size_t)n != known.len + 1 || memcmp(again, kbuf, known.len) != 0)
		return -EBADMSG;
	*ret = v;
	view_fix(ret);
	return 0;
}
