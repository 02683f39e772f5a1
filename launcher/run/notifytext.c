/*
 * The pure part of the notifications (notify.h): when a block is notified, and its texts.
 *
 * Trust: the records come from the daemon's log through its reader, parsed strictly
 * (ldm_event_parse_json); their strings may still come from the app (its name, the names it
 * resolved) or the policy, so every one is escaped for the body's markup and for D-Bus.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/util.h"
#include "run/notify.h"

bool
ldm_run_notify_wanted(enum ldm_run_notify_mode mode, bool stdin_tty, bool stderr_tty)
{
	if (mode != LDM_RUN_NOTIFY_AUTO)
		return mode == LDM_RUN_NOTIFY_ON;
	return !stdin_tty && !stderr_tty;
}

/* FNV-1a, never 0 (0 marks a free slot). */
static uint64_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h != 0 ? h : 1;
}

/* The slot of hash H (*FOUND), else a free one, else the one notified longest ago. */
static size_t
find_slot(const struct ldm_run_notify_fold *f, uint64_t h, bool *found)
{
	size_t best = 0;

	*found = false;
	for (size_t i = 0; i < ELEMENTSOF(f->v); i++) {
		if (f->v[i].key == h) {
			*found = true;
			return i;
		}
		if (f->v[best].key != 0 &&
		    (f->v[i].key == 0 || f->v[i].last_ms < f->v[best].last_ms))
			best = i;
	}
	return best;
}

enum ldm_run_notify_fold_verdict
ldm_run_notify_fold_take(struct ldm_run_notify_fold *f, const char *key, uint64_t now_ms)
{
	uint64_t h = key_hash(key);
	bool found;
	size_t slot = find_slot(f, h, &found);

	if (found && now_ms - f->v[slot].last_ms < LDM_RUN_NOTIFY_FOLD_MS)
		return LDM_RUN_NOTIFY_FOLDED;
	if (f->capped)
		return LDM_RUN_NOTIFY_QUIET;
	f->v[slot].key = h;
	f->v[slot].last_ms = now_ms;
	if (f->sent >= LDM_RUN_NOTIFY_MAX) {
		f->capped = true;
		return LDM_RUN_NOTIFY_CAP;
	}
	f->sent++;
	return LDM_RUN_NOTIFY_SEND;
}

/* The length of the valid UTF-8 sequence at P (RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || p[0] > 0xf4)
		return 0;
	c = p[0] & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

size_t
ldm_run_notify_escape(char *out, size_t size, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t len = 0;

	if (size == 0)
		return 0;
	while (*p != '\0') {
		size_t n = utf8_len(p);
		const char *rep = *p == '&'   ? "&amp;"
		                  : *p == '<' ? "&lt;"
		                  : *p == '>' ? "&gt;"
		                              : NULL;
		const char *src = rep != NULL ? rep : (const char *)p;
		size_t want = rep != NULL ? strlen(rep) : n == 0 ? 1 : n;

		if (len + want >= size)
			break;
		if (n == 0 || *p < 0x20 || *p == 0x7f)
			out[len] = n == 0 ? '?' : ' ';
		else
			memcpy(out + len, src, want);
		len += want;
		p += n == 0 ? 1 : n;
	}
	out[len] = '\0';
	return len;
}

/* "HOST (ADDR) port N (PROTO)", "ADDR port N (PROTO)" or "the local socket PATH": raw. */
static int
destination(const struct ldm_event *e, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "", port[16] = "";
	int fam = e->dst.family == AF_INET ? AF_INET : e->dst.family == AF_INET6 ? AF_INET6 : 0;
	int n;

	if (e->proto == LDM_PROTO_UNIX || (fam == 0 && e->sock != NULL && e->sock[0] != '\0'))
		n = snprintf(buf, size, "the local socket %s", e->sock != NULL ? e->sock : "?");
	else {
		if (fam == 0 || inet_ntop(fam, e->dst.addr, addr, sizeof(addr)) == NULL)
			(void)ldm_strscpy(addr, sizeof(addr), "an unknown address");
		if (e->dport != 0)
			(void)snprintf(port, sizeof(port), " port %u", (unsigned)e->dport);
		if (e->host != NULL && e->host[0] != '\0')
			n = snprintf(buf, size, "%s (%s)%s (%s)", e->host, addr, port,
			             ldm_proto_name(e->proto));
		else
			n = snprintf(buf, size, "%s%s (%s)", addr, port, ldm_proto_name(e->proto));
	}
	return n < 0 ? -EINVAL : 0; /* cut when long: still a name for the pilot */
}

static const char *
base_name(const char *path)
{
	const char *s;

	if (path == NULL || path[0] == '\0')
		return "The program";
	s = strrchr(path, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

int
ldm_run_notify_block_text(const struct ldm_event *e, char *key, char *summary, char *body)
{
	char dest[LDM_RUN_NOTIFY_TEXT], raw[3 * LDM_RUN_NOTIFY_TEXT];
	bool local = e->proto == LDM_PROTO_UNIX;

	if (e->event != LDM_EVENT_BLOCKED || destination(e, dest, sizeof(dest)) < 0)
		return -EINVAL;
	(void)ldm_strscpy(key, LDM_RUN_NOTIFY_TEXT, dest);
	(void)snprintf(raw, sizeof(raw), "%s blocked", local ? "Local connection" : "Connection");
	(void)ldm_run_notify_escape(summary, LDM_RUN_NOTIFY_TEXT, raw);
	(void)snprintf(raw, sizeof(raw),
	               "%s tried to reach %s; policy '%s' does not allow it. "
	               "See: ldmctl log %" PRIu64,
	               base_name(e->app), dest, e->policy != NULL ? e->policy : "?", e->session);
	(void)ldm_run_notify_escape(body, LDM_RUN_NOTIFY_TEXT, raw);
	return 0;
}
