/*
 * The notifier's edge (notify.h): the real session bus through sd-bus, and the session's own
 * log records through the daemon (LDM_MSG_LOG_REQUEST with LDM_LOG_F_NOW: from the moment
 * of the request, this session only, ending after its session_end).
 *
 * It runs in ldm-run's first process (keeper.c), never in the supervisor, which answers the
 * program's connect() and write calls: a slow bus must not slow enforcement. Notify calls
 * are queued without waiting for their answer (an answer that is an error is said once);
 * only at the end does ldm-run wait for the queue to leave, at most END_FLUSH_MS.
 *
 * When the pipe ends before the session's session_end (the daemon was restarted: its
 * readers die with it), the notifier asks again, with LDM_LOG_F_RESUME (the current file from
 * its beginning), at most RETRY_MAX times with a growing pause, each ask waiting at most
 * RETRY_TIMEOUT_MS; it skips the records up to the last "seq" it saw, so the blocks logged
 * in between are notified too, and says once on stderr that notifications resumed, or stopped.
 *
 * Trust: the records are checked by ldm_event_parse_json(); the pipe's lines are cut at
 * LDM_EVENT_LINE_MAX (a longer one is skipped whole). The bus is the user's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "common/client.h"
#include "ldm/logchain.h"
#include "ldm/util.h"
#include "run/notify.h"

#define LOG_REQUEST_TIMEOUT_MS 2000
#define END_WAIT_MS            1500 /* for the last records: the daemon folds for a second */
#define END_FLUSH_MS           1000
#define FAILED_TIMEOUT_US      (2000 * 1000ULL)
#define RETRY_MAX              8   /* asks after the reader went away: about 30 s in all */
#define RETRY_FIRST_MS         250 /* doubled after each failed ask, at most RETRY_PAUSE_MAX */
#define RETRY_PAUSE_MAX_MS     8000
#define RETRY_TIMEOUT_MS       500 /* one ask's wait for the daemon's answer */

#define NOTIFY_DEST  "org.freedesktop.Notifications"
#define NOTIFY_PATH  "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"

struct ldm_run_notifier {
	sd_bus *bus;
	int log_fd;       /* the session's records; -1 once ended */
	bool said;        /* a failure was said on stderr */
	unsigned pending; /* Notify calls not answered yet */
	uint64_t session;
	uint64_t seen; /* blocked attempts the records read so far stand for */
	uint64_t
	        last_seq; /* of the last record of the session read: a resumed reader skips to it */
	bool ended;       /* the session's session_end was read: the pipe's end is the end */
	unsigned retries; /* asks since the reader went away */
	uint64_t retry_at; /* now_ms() of the next ask; 0: none due */
	char socket[LDM_CTL_TEXT_MAX];
	struct ldm_run_notify_fold fold;
	size_t len;
	bool skipping;
	char buf[2 * LDM_EVENT_LINE_MAX];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 2, 3)))
say_once(struct ldm_run_notifier *n, const char *fmt, ...)
{
	va_list ap;

	if (n != NULL && n->said)
		return;
	if (n != NULL)
		n->said = true;
	fputs("ldm-run: desktop notifications: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; the pilot gets none from this session\n", stderr);
}

/* The bus's answer to a Notify call: an error is said once. */
static int
on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);
	struct ldm_run_notifier *n = userdata;

	(void)ret_error;
	n->pending -= n->pending > 0;
	if (e != NULL)
		say_once(n, "%s: %s", NOTIFY_DEST, e->message != NULL ? e->message : e->name);
	return 0;
}

/* Queues one Notify call (SUMMARY and BODY escaped already); never waits. */
static void
send_notify(struct ldm_run_notifier *n, const char *icon, const char *summary, const char *body)
{
	int r = sd_bus_call_method_async(n->bus, NULL, NOTIFY_DEST, NOTIFY_PATH, NOTIFY_IFACE,
	                                 "Notify", on_reply, n, "susssasa{sv}i", "ldm-run", 0, icon,
	                                 summary, body, 0, 0, -1);

	if (r < 0)
		say_once(n, "cannot send: %s", strerror(-r));
	else
		n->pending++;
}

static void
on_record(struct ldm_run_notifier *n, const char *line, size_t len)
{
	static struct ldm_event_view v;
	char key[LDM_RUN_NOTIFY_TEXT], summary[LDM_RUN_NOTIFY_TEXT], body[LDM_RUN_NOTIFY_TEXT];

	uint8_t prev[LDM_CHAIN_HASH_LEN];
	uint64_t seq;
	size_t body_len;

	if (ldm_event_parse_json(line, len, &v) < 0 || v.ev.session != n->session)
		return;
	if (ldm_chain_split(line, len, &body_len, &seq, prev) == 0) {
		if (seq <= n->last_seq)
			return; /* read before the reader went away */
		n->last_seq = seq;
	}
	if (v.ev.event == LDM_EVENT_SESSION_END)
		n->ended = true;
	if (ldm_run_notify_block_text(&v.ev, key, summary, body) < 0)
		return;
	n->seen += v.ev.count > 0 ? v.ev.count : 1;
	switch (ldm_run_notify_fold_take(&n->fold, key, now_ms())) {
	case LDM_RUN_NOTIFY_SEND:
		send_notify(n, "dialog-warning", summary, body);
		break;
	case LDM_RUN_NOTIFY_CAP:
		(void)snprintf(body, sizeof(body),
		               "Further blocks of session %" PRIu64 " are not shown. "
		               "See: ldmctl log %" PRIu64,
		               n->session, n->session);
		send_notify(n, "dialog-warning", "More connections blocked", body);
		break;
	default:
		break;
	}
}

/* Reads what the pipe holds; the whole lines are records. */
static void
read_records(struct ldm_run_notifier *n)
{
	ssize_t got = read(n->log_fd, n->buf + n->len, sizeof(n->buf) - n->len);
	size_t start = 0;
	char *nl;

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		(void)close(n->log_fd);
		n->log_fd = -1;
		n->len = 0;
		n->skipping = false;
		if (!n->ended) { /* the reader went away early: ask again */
			n->retries = 0;
			n->retry_at = now_ms() + RETRY_FIRST_MS;
		}
		return;
	}
	n->len += (size_t)got;
	while ((nl = memchr(n->buf + start, '\n', n->len - start)) != NULL) {
		size_t len = (size_t)(nl - (n->buf + start));

		if (!n->skipping)
			on_record(n, n->buf + start, len);
		n->skipping = false;
		start += len + 1;
	}
	memmove(n->buf, n->buf + start, n->len - start);
	n->len -= start;
	if (n->len >= LDM_EVENT_LINE_MAX) { /* no record is this long: skip to its end */
		n->skipping = true;
		n->len = 0;
	}
}

/* The session's records from now on, as a non-blocking pipe; -errno. */
static int
open_records(const char *socket, uint64_t session, uint32_t flags, int timeout_ms, char *why,
             size_t size)
{
	struct ldm_msg_log_request req;
	_cleanup_close_ int fd = ldm_client_connect(socket);
	union ldm_msg_any m;
	int pipe_fd = -1, r;

	memset(&req, 0, sizeof(req));
	ldm_msg_init(&req.hdr, LDM_MSG_LOG_REQUEST);
	req.session = session;
	req.flags = LDM_LOG_F_NOW | LDM_LOG_F_FOLLOW | flags;
	r = fd < 0 ? fd : ldm_client_send(fd, &req.hdr);
	if (r == 0)
		r = ldm_client_recv_fd(fd, &m, timeout_ms, &pipe_fd);
	if (r == LDM_MSG_LOG_READY && pipe_fd >= 0 && fcntl(pipe_fd, F_SETFL, O_NONBLOCK) == 0)
		return pipe_fd;
	if (pipe_fd >= 0)
		(void)close(pipe_fd);
	(void)snprintf(why, size, "%s",
	               r == LDM_MSG_ERROR ? m.error.text : strerror(r < 0 ? -r : EPROTO));
	return r < 0 ? r : -EPROTO;
}

struct ldm_run_notifier *
ldm_run_notifier_start(const char *socket, uint64_t session, bool loud)
{
	struct ldm_run_notifier *n = calloc(1, sizeof(*n));
	char why[LDM_CTL_TEXT_MAX];
	int r;

	if (n == NULL)
		return NULL;
	n->session = session;
	n->log_fd = -1;
	(void)ldm_strscpy(n->socket, sizeof(n->socket), socket);
	r = sd_bus_open_user(&n->bus);
	if (r < 0) {
		if (loud)
			say_once(n, "no session bus: %s", strerror(-r));
		ldm_run_notifier_end(n, NULL, 0);
		return NULL;
	}
	n->log_fd = open_records(socket, session, 0, LOG_REQUEST_TIMEOUT_MS, why, sizeof(why));
	if (n->log_fd < 0)
		say_once(n, "cannot follow the session's log: %s", why); /* the summary still */
	return n;
}

void
ldm_run_notifier_pollfds(struct ldm_run_notifier *n, struct pollfd p[2])
{
	int ev = n != NULL && n->bus != NULL ? sd_bus_get_events(n->bus) : -1;

	p[0] = (struct pollfd){ .fd = n != NULL ? n->log_fd : -1, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = ev >= 0 ? sd_bus_get_fd(n->bus) : -1,
		                .events = (short)(ev >= 0 ? ev : 0) };
}

/* Asks for the session's records again once an ask is due; says how it ended, once. */
static void
retry_records(struct ldm_run_notifier *n)
{
	char why[LDM_CTL_TEXT_MAX];
	uint64_t pause;

	if (n->retry_at == 0 || now_ms() < n->retry_at)
		return;
	n->log_fd = open_records(n->socket, n->session, LDM_LOG_F_RESUME, RETRY_TIMEOUT_MS, why,
	                         sizeof(why));
	if (n->log_fd >= 0) {
		n->retry_at = 0;
		fprintf(stderr, "ldm-run: desktop notifications: the session's log reader went "
		                "away (was the daemon restarted?) and is back; notifications "
		                "resumed\n");
		return;
	}
	if (++n->retries >= RETRY_MAX) {
		n->retry_at = 0;
		fprintf(stderr,
		        "ldm-run: desktop notifications: the session's log reader went away "
		        "and cannot be had again (%s); notifications stopped; see: ldmctl log "
		        "%" PRIu64 "\n",
		        why, n->session);
		return;
	}
	pause = (uint64_t)RETRY_FIRST_MS << n->retries;
	n->retry_at = now_ms() + (pause < RETRY_PAUSE_MAX_MS ? pause : RETRY_PAUSE_MAX_MS);
}

int
ldm_run_notifier_timeout(const struct ldm_run_notifier *n)
{
	uint64_t now = now_ms();

	if (n == NULL || n->retry_at == 0)
		return -1;
	return n->retry_at > now ? (int)(n->retry_at - now) : 0;
}

void
ldm_run_notifier_handle(struct ldm_run_notifier *n, const struct pollfd p[2])
{
	if (n == NULL)
		return;
	if (p[0].fd >= 0 && p[0].revents != 0)
		read_records(n);
	retry_records(n);
	/* Writes what is queued and reads the answers; a lost bus is said once. */
	if (n->bus != NULL) {
		int r;

		while ((r = sd_bus_process(n->bus, NULL)) > 0)
			;
		if (r < 0 && r != -ECONNRESET)
			say_once(n, "the session bus: %s", strerror(-r));
	}
}

void
ldm_run_notifier_forget(struct ldm_run_notifier *n)
{
	int fd;

	if (n == NULL)
		return;
	if (n->log_fd >= 0)
		(void)close(n->log_fd);
	fd = n->bus != NULL ? sd_bus_get_fd(n->bus) : -1;
	if (fd >= 0)
		(void)close(fd);
}

/* Reads records until SEEN reaches BLOCKED, at most END_WAIT_MS. */
static void
wait_records(struct ldm_run_notifier *n, uint64_t blocked)
{
	uint64_t end = now_ms() + END_WAIT_MS;

	while ((n->log_fd >= 0 || n->retry_at != 0) && n->seen < blocked && now_ms() < end) {
		struct pollfd p[2];
		int t = ldm_run_notifier_timeout(n), left = (int)(end - now_ms());

		ldm_run_notifier_pollfds(n, p);
		if (poll(p, 2, t >= 0 && t < left ? t : left) >= 0)
			ldm_run_notifier_handle(n, p);
	}
}

void
ldm_run_notifier_end(struct ldm_run_notifier *n, const char *line, uint64_t blocked)
{
	char summary[LDM_RUN_NOTIFY_TEXT], body[LDM_RUN_NOTIFY_TEXT];

	if (n == NULL)
		return;
	wait_records(n, blocked);
	if (line != NULL && n->bus != NULL) {
		(void)snprintf(summary, sizeof(summary), "Session %" PRIu64 " ended", n->session);
		(void)ldm_run_notify_escape(body, sizeof(body), line);
		send_notify(n, "", summary, body);
	}
	if (n->bus != NULL) {
		uint64_t end = now_ms() + END_FLUSH_MS;

		/* Until every call was answered (its error said) or the time is up. */
		while (n->pending > 0 && now_ms() < end) {
			struct pollfd p[2];

			int r = sd_bus_process(n->bus, NULL);

			if (r < 0)
				break;
			if (r > 0)
				continue;
			ldm_run_notifier_pollfds(n, p);
			if (p[1].fd < 0 || poll(&p[1], 1, (int)(end - now_ms())) < 0)
				break;
		}
		sd_bus_flush_close_unref(n->bus);
	}
	if (n->log_fd >= 0)
		(void)close(n->log_fd);
	free(n);
}

void
ldm_run_notify_failed(const char *program, const char *why, bool loud)
{
	char summary[LDM_RUN_NOTIFY_TEXT], body[LDM_RUN_NOTIFY_TEXT], raw[LDM_RUN_NOTIFY_TEXT];
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r = sd_bus_open_user(&bus);

	if (r < 0) {
		if (loud)
			say_once(NULL, "no session bus: %s", strerror(-r));
		return;
	}
	(void)sd_bus_set_method_call_timeout(bus, FAILED_TIMEOUT_US);
	(void)ldm_run_notify_escape(body, sizeof(body), why);
	(void)snprintf(raw, sizeof(raw), "%s was not started", program);
	(void)ldm_run_notify_escape(summary, sizeof(summary), raw);
	r = sd_bus_call_method(bus, NOTIFY_DEST, NOTIFY_PATH, NOTIFY_IFACE, "Notify", &err, NULL,
	                       "susssasa{sv}i", "ldm-run", 0, "dialog-error", summary, body, 0, 0,
	                       -1);
	if (r < 0)
		say_once(NULL, "%s: %s", NOTIFY_DEST,
		         err.message != NULL ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
}

/*
 * The last line ldm-run said on stderr before the program could start: main.c points stderr
 * at this tee while notifications are on, so the notification says what the terminal
 * would have (without the "ldm-run: " all lines begin with).
 */
static struct {
	FILE *orig;
	char cur[LDM_RUN_NOTIFY_TEXT];
	char last[LDM_RUN_NOTIFY_TEXT];
	size_t len;
} said;

static ssize_t
tee_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	for (size_t done = 0; done < size;) {
		ssize_t w = write(STDERR_FILENO, buf + done, size - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a closed stderr: the line is kept all the same */
		done += (size_t)w;
	}
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			said.cur[said.len] = '\0';
			memcpy(said.last, said.cur, said.len + 1);
			said.len = 0;
		} else if (said.len + 1 < sizeof(said.cur))
			said.cur[said.len++] = buf[i];
	}
	return (ssize_t)size;
}

void
ldm_run_notify_tee_start(void)
{
	static const cookie_io_functions_t io = { .write = tee_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (f == NULL || setvbuf(f, NULL, _IONBF, 0) != 0) {
		if (f != NULL)
			(void)fclose(f);
		return; /* no tee: the notification then says less, the terminal all */
	}
	said.orig = stderr;
	stderr = f;
}

void
ldm_run_notify_tee_stop(void)
{
	if (said.orig == NULL)
		return;
	(void)fclose(stderr);
	stderr = said.orig;
	said.orig = NULL;
}

const char *
ldm_run_notify_last_said(void)
{
	const char *p = said.last;

	if (strncmp(p, "ldm-run: ", 9) == 0)
		p += 9;
	return p[0] != '\0' ? p : "see the messages of ldm-run";
}
