/*
 * ldmctl report SESSION: one flight on one screen, from the event log: who ran what under
 * which policy and when, the peers the enforcer allowed, the blocked attempts grouped by
 * destination (with host names and `known` labels), denied syscalls, tamper events, and
 * whether the session's records verify against the log's hash chain. --json gives the same
 * as one object; --html FILE writes one self-contained page (no external resource: the
 * laptop is offline) with a timeline of the session.
 *
 * Trust: the log's strings came from sandboxed apps. Every line is parsed strictly
 * (ldm_event_parse_json); what is printed is escaped for the terminal, for JSON or for
 * HTML; counts and rows are bounded.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "ldm/event.h"
#include "ldm/logchain.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/logfiles.h"
#include "ldmctl/report_identity.h"

#define REPORT_MAX_ROWS  4096 /* destinations per kind; the rest are counted */
#define REPORT_MAX_MARKS 240  /* timeline marks per row; later ones are summed in */

enum row_kind { ROW_BLOCKED, ROW_ALLOWED, ROW_SYSCALL, ROW_TAMPER, ROW_KINDS };

struct mark {
	double t; /* seconds since the epoch */
	uint64_t count;
};

struct row {
	enum ldm_proto proto;
	char dst[64];
	uint16_t dport;
	char *host, *label, *comment, *reason, *syscall;
	uint32_t rule;
	int32_t err;
	bool audit; /* would_block */
	uint64_t count;
	/* allowed rows: what the session's traffic records say the kernel counted */
	bool has_traffic;
	uint64_t packets_out, bytes_out, packets_in, bytes_in;
	struct mark marks[REPORT_MAX_MARKS];
	size_t n_marks;
};

struct rows {
	struct row *v;
	size_t n;
	uint64_t dropped;
};

struct report {
	uint64_t session;
	/* the session's place in the log: record indexes (0-based, over all files) */
	bool started, ended;
	uint64_t first_rec, last_rec, n_rec;
	double t_start, t_end, t_last;
	char start_ts[32], end_ts[32];
	char *policy, *user, *app, *start_reason, *end_reason;
	uint32_t uid;
	struct report_identity id;
	uint64_t blocked, would_block, syscalls_denied;
	/* traffic: session_end's totals (when counted) and the traffic records read */
	bool traffic_known;
	uint64_t traffic_records, traffic_seen;
	uint64_t packets_out, bytes_out, packets_in, bytes_in;
	struct rows rows[ROW_KINDS];
	/* the chain */
	struct ldm_chain chain;
	uint64_t *breaks; /* record indexes where the chain breaks */
	size_t n_breaks;
	uint64_t unreadable; /* lines that are not records */
};

struct report_args {
	uint64_t session;
	bool json;
	const char *html;
	struct ldmctl_logfiles files;
};

static void
report_usage(FILE *f)
{
	fputs("Usage: ldmctl report SESSION [--json | --html FILE] [--log FILE]...\n"
	      "\n"
	      "The flight of one session on one screen, from ldm-enforcerd's event log: the\n"
	      "user, program, policy and times; the session's identity (host, boot, ldm\n"
	      "version, SHA-256 of the program and of every policy file, kernel features);\n"
	      "what was allowed, per rule and peer, with the packets and bytes the kernel\n"
	      "counted each way; the blocked attempts grouped by destination, with host\n"
	      "names and known labels; denied syscalls; tamper events; and whether the\n"
	      "session's records verify against the log's hash chain.\n"
	      "  --json        the same as one JSON object\n"
	      "  --html FILE   also write one self-contained HTML page with a timeline, to\n"
	      "                print or attach to a flight record (- for standard output)\n"
	      "  --log FILE    a log file to read, in order (repeatable; - is standard input;\n"
	      "                gzip is read as it is). Default: the rotated files of\n"
	      "                " LDMCTL_LOG_DEFAULT ", oldest first, then the file itself\n"
	      "\n"
	      "Exit status: 0 the session's records verify, 1 they do not, the session is not\n"
	      "in the log or the log cannot be read, 2 usage error.\n",
	      f);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

static bool
same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static double
seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void
format_ts(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&ts->tv_sec, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		(void)snprintf(buf, size, "?");
	else
		(void)snprintf(buf + strlen(buf), size - strlen(buf), ".%03ldZ",
		               ts->tv_nsec / 1000000);
}

static void
addr_text(const struct ldm_event_addr *a, char *buf, size_t size)
{
	buf[0] = '\0';
	if (a->family != 0)
		(void)inet_ntop(a->family, a->addr, buf, (socklen_t)size);
}

/* Blocked rows are per destination and name; allowed rows per rule and peer (the traffic
 * records name no host: the first allowed record's host names the row). */
static bool
same_peer(enum row_kind kind, const struct row *r, const struct ldm_event *e)
{
	if (kind == ROW_ALLOWED)
		return r->rule == e->rule;
	return same(r->host, e->host) && r->audit == (e->event == LDM_EVENT_WOULD_BLOCK);
}

/* The row of KIND that E belongs to, made if new; NULL past REPORT_MAX_ROWS. */
static struct row *
find_row(struct rows *rs, enum row_kind kind, const struct ldm_event *e)
{
	char dst[64];
	struct row *r;

	addr_text(&e->dst, dst, sizeof(dst));
	for (size_t i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		if (kind == ROW_SYSCALL  ? same(r->syscall, e->syscall) && r->err == e->err
		    : kind == ROW_TAMPER ? same(r->reason, e->reason)
		                         : r->proto == e->proto && strcmp(r->dst, dst) == 0 &&
		                                   r->dport == e->dport && same_peer(kind, r, e))
			return r;
	}
	if (rs->n >= REPORT_MAX_ROWS)
		return NULL;
	r = reallocarray(rs->v, rs->n + 1, sizeof(*r));
	if (r == NULL)
		return NULL;
	rs->v = r;
	r = &rs->v[rs->n++];
	*r = (struct row){ .proto = e->proto,
		           .dport = e->dport,
		           .rule = e->rule,
		           .err = e->err,
		           .audit = e->event == LDM_EVENT_WOULD_BLOCK };
	memcpy(r->dst, dst, sizeof(dst));
	r->host = dup_or_null(e->host);
	r->label = dup_or_null(e->label);
	r->comment = dup_or_null(e->comment);
	r->reason = dup_or_null(e->reason);
	r->syscall = dup_or_null(e->syscall);
	return r;
}

static void
add_to_row(struct rows *rs, enum row_kind kind, const struct ldm_event *e)
{
	struct row *r = find_row(rs, kind, e);
	uint64_t n = e->count != 0 ? e->count : 1;

	if (r == NULL) {
		rs->dropped += n;
		return;
	}
	r->count += n;
	if (r->n_marks < REPORT_MAX_MARKS)
		r->marks[r->n_marks++] = (struct mark){ seconds(&e->ts), n };
	else
		r->marks[REPORT_MAX_MARKS - 1].count += n;
}

/* A traffic record: the kernel's counts for one allowed row (no mark: it is written at the
 * end; the allowed records give the times). */
static void
add_traffic(struct report *rp, const struct ldm_event *e)
{
	struct rows *rs = &rp->rows[ROW_ALLOWED];
	struct row *r = find_row(rs, ROW_ALLOWED, e);

	rp->traffic_seen++;
	if (r == NULL)
		return;
	r->has_traffic = true;
	r->packets_out += e->packets_out;
	r->bytes_out += e->bytes_out;
	r->packets_in += e->packets_in;
	r->bytes_in += e->bytes_in;
}

static void
take_end(struct report *rp, const struct ldm_event *e)
{
	rp->ended = true;
	rp->t_end = seconds(&e->ts);
	format_ts(&e->ts, rp->end_ts, sizeof(rp->end_ts));
	rp->end_reason = dup_or_null(e->reason);
	rp->blocked = e->blocked;
	rp->would_block = e->would_block;
	rp->syscalls_denied = e->syscalls_denied;
	rp->traffic_known = e->traffic_known;
	rp->traffic_records = e->traffic;
	rp->packets_out = e->packets_out;
	rp->bytes_out = e->bytes_out;
	rp->packets_in = e->packets_in;
	rp->bytes_in = e->bytes_in;
}

static void
rows_clear(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].host);
		free(rs->v[i].label);
		free(rs->v[i].comment);
		free(rs->v[i].reason);
		free(rs->v[i].syscall);
	}
	free(rs->v);
	*rs = (struct rows){ 0 };
}

/* Frees what the report holds of one session (not the chain state). */
static void
session_clear(struct report *rp)
{
	for (int k = 0; k < ROW_KINDS; k++)
		rows_clear(&rp->rows[k]);
	free(rp->policy);
	free(rp->user);
	free(rp->app);
	free(rp->start_reason);
	free(rp->end_reason);
	rp->policy = rp->user = rp->app = rp->start_reason = rp->end_reason = NULL;
	report_identity_clear(&rp->id);
	rp->n_rec = 0;
	rp->traffic_known = false;
	rp->traffic_records = rp->traffic_seen = 0;
}

static void
take_start(struct report *rp, const struct ldm_event *e, uint64_t rec)
{
	/* A later start of the same number (ids repeated after a reboot on old daemons) wins:
	 * the report is about the last flight with that number. */
	session_clear(rp);
	rp->started = true;
	rp->ended = false;
	rp->first_rec = rec;
	rp->t_start = seconds(&e->ts);
	format_ts(&e->ts, rp->start_ts, sizeof(rp->start_ts));
	rp->policy = dup_or_null(e->policy);
	rp->user = dup_or_null(e->user);
	rp->app = dup_or_null(e->app);
	rp->start_reason = dup_or_null(e->reason);
	rp->uid = e->uid;
	report_identity_start(&rp->id, e);
}

static void
take_event(struct report *rp, const struct ldm_event *e, uint64_t rec)
{
	bool mine = e->session == rp->session;

	if (mine && e->event == LDM_EVENT_SESSION_START)
		take_start(rp, e, rec);
	if (!rp->started || rp->ended)
		return;
	/* Tamper events name no session: those while the session ran are its business. */
	if (e->event == LDM_EVENT_TAMPER && (mine || e->session == 0)) {
		add_to_row(&rp->rows[ROW_TAMPER], ROW_TAMPER, e);
		return;
	}
	if (!mine)
		return;
	rp->last_rec = rec;
	rp->n_rec++;
	rp->t_last = seconds(&e->ts);
	switch (e->event) {
	case LDM_EVENT_BLOCKED:
	case LDM_EVENT_WOULD_BLOCK:
		add_to_row(&rp->rows[ROW_BLOCKED], ROW_BLOCKED, e);
		break;
	case LDM_EVENT_ALLOWED:
		add_to_row(&rp->rows[ROW_ALLOWED], ROW_ALLOWED, e);
		break;
	case LDM_EVENT_SYSCALL_DENIED:
		add_to_row(&rp->rows[ROW_SYSCALL], ROW_SYSCALL, e);
		break;
	case LDM_EVENT_POLICY_FILE:
		report_identity_file(&rp->id, e);
		break;
	case LDM_EVENT_TRAFFIC:
		add_traffic(rp, e);
		break;
	case LDM_EVENT_SESSION_END:
		take_end(rp, e);
		break;
	default:
		break;
	}
}

static uint64_t record_index; /* over all files: the next record's index */

static void
on_line(void *u, const char *file, unsigned long lineno, const char *line, size_t len,
        bool too_long)
{
	struct report *rp = u;
	struct ldm_event_view v;
	uint64_t rec = record_index++;
	enum ldm_chain_result r;
	uint64_t *b;

	(void)file;
	(void)lineno;
	r = too_long ? LDM_CHAIN_UNSEALED : ldm_chain_check(&rp->chain, line, len);
	if (r != LDM_CHAIN_OK && r != LDM_CHAIN_FIRST) {
		b = reallocarray(rp->breaks, rp->n_breaks + 1, sizeof(*b));
		if (b != NULL) {
			rp->breaks = b;
			b[rp->n_breaks++] = rec;
		}
	}
	if (too_long || ldm_event_parse_json(line, len, &v) < 0) {
		rp->unreadable++;
		return;
	}
	take_event(rp, &v.ev, rec);
}

/* Whether session_end's count of traffic records is the number read (a removed one shows). */
static bool
traffic_complete(const struct report *rp)
{
	return !rp->traffic_known || rp->traffic_records == rp->traffic_seen;
}

/* Whether the chain holds over the session's records and the one after its last (whose
 * prev vouches for it). */
static bool
verified(const struct report *rp)
{
	for (size_t i = 0; i < rp->n_breaks; i++)
		if (rp->breaks[i] >= rp->first_rec && rp->breaks[i] <= rp->last_rec + 1)
			return false;
	return rp->started && traffic_complete(rp);
}

/* ---- text ---- */

static void
put_row_text(const struct row *r)
{
	char dst[96];

	if (r->dport != 0)
		(void)snprintf(dst, sizeof(dst), strchr(r->dst, ':') ? "[%s]:%u" : "%s:%u", r->dst,
		               r->dport);
	else
		(void)snprintf(dst, sizeof(dst), "%s", r->dst[0] != '\0' ? r->dst : "-");
	printf("  %8" PRIu64 "  %-5s %-28s ", r->count, ldm_proto_name(r->proto), dst);
	ldmctl_put_escaped(stdout, r->host != NULL ? r->host : "-", false);
	if (r->label != NULL) {
		fputs(" \"", stdout);
		ldmctl_put_escaped(stdout, r->label, true);
		putchar('"');
	}
	if (r->rule != 0)
		printf(" (rule %" PRIu32 ")", r->rule);
	if (r->audit)
		fputs(" [audit: let through]", stdout);
	putchar('\n');
}

/* "out 100 packets 26800 bytes, in 100 packets 26800 bytes" or why there are none. */
static void
put_bytes_text(bool known, uint64_t po, uint64_t bo, uint64_t pi, uint64_t bi)
{
	if (known)
		printf("out %" PRIu64 " packets %" PRIu64 " bytes, in %" PRIu64 " packets %" PRIu64
		       " bytes",
		       po, bo, pi, bi);
	else
		fputs("bytes not counted", stdout);
}

/* An allowed row: its peer, its rule, what the kernel counted, the approvals logged. */
static void
put_allowed_text(const struct row *r)
{
	char dst[96];

	(void)snprintf(dst, sizeof(dst), strchr(r->dst, ':') ? "[%s]:%u" : "%s:%u", r->dst,
	               r->dport);
	printf("  %-5s %-28s ", ldm_proto_name(r->proto), r->dport != 0 ? dst : r->dst);
	if (r->rule != 0)
		printf("rule %" PRIu32, r->rule);
	else
		fputs("no allow rule (DNS queries, audit mode)", stdout);
	if (r->comment != NULL) {
		fputs(" \"", stdout);
		ldmctl_put_escaped(stdout, r->comment, true);
		putchar('"');
	}
	fputs(": ", stdout);
	put_bytes_text(r->has_traffic, r->packets_out, r->bytes_out, r->packets_in, r->bytes_in);
	if (r->host != NULL) {
		fputs("; host ", stdout);
		ldmctl_put_escaped(stdout, r->host, false);
	}
	if (r->count != 0)
		printf("; %" PRIu64 " approved by the enforcer", r->count);
	putchar('\n');
}

static void
print_allowed_text(const struct report *rp)
{
	const struct rows *al = &rp->rows[ROW_ALLOWED];

	printf("\nAllowed, per rule and peer: %zu\n", al->n);
	for (size_t i = 0; i < al->n; i++)
		put_allowed_text(&al->v[i]);
	fputs("  total: ", stdout);
	if (!rp->ended)
		fputs("no end in the log", stdout);
	else
		put_bytes_text(rp->traffic_known, rp->packets_out, rp->bytes_out, rp->packets_in,
		               rp->bytes_in);
	if (rp->ended && !rp->traffic_known)
		fputs(" (see the session's error records)", stdout);
	if (!traffic_complete(rp))
		printf("; MISSING %" PRIu64 " of %" PRIu64 " traffic records",
		       rp->traffic_records - rp->traffic_seen, rp->traffic_records);
	putchar('\n');
}

static void
print_text(const struct report *rp)
{
	const struct rows *bl = &rp->rows[ROW_BLOCKED];
	const struct rows *sc = &rp->rows[ROW_SYSCALL], *tp = &rp->rows[ROW_TAMPER];

	printf("Session %" PRIu64 ": policy ", rp->session);
	ldmctl_put_escaped(stdout, rp->policy != NULL ? rp->policy : "?", false);
	if (rp->start_reason != NULL) {
		fputs(" (", stdout);
		ldmctl_put_escaped(stdout, rp->start_reason, false);
		putchar(')');
	}
	fputs("\n  user ", stdout);
	ldmctl_put_escaped(stdout, rp->user != NULL ? rp->user : "?", false);
	printf(" (uid %" PRIu32 "), program ", rp->uid);
	ldmctl_put_escaped(stdout, rp->app != NULL ? rp->app : "?", false);
	putchar('\n');
	report_identity_text(stdout, &rp->id);
	printf("  started %s, ", rp->start_ts);
	if (rp->ended) {
		printf("ended %s (%.0f s): ", rp->end_ts, rp->t_end - rp->t_start);
		ldmctl_put_escaped(stdout, rp->end_reason != NULL ? rp->end_reason : "", false);
	} else {
		fputs("no end in the log (still running, or its end is missing)", stdout);
	}
	printf("\n  records: %" PRIu64 ", hash chain: %s\n", rp->n_rec,
	       verified(rp) ? "verified" : "BROKEN (see ldmctl verify)");
	print_allowed_text(rp);
	printf("\nBlocked: %" PRIu64 " attempts%s to %zu destinations\n",
	       rp->ended ? rp->blocked + rp->would_block : 0, rp->ended ? "" : " (so far)", bl->n);
	for (size_t i = 0; i < bl->n; i++)
		put_row_text(&bl->v[i]);
	if (bl->dropped != 0)
		printf("  (%" PRIu64 " more attempts to further destinations)\n", bl->dropped);
	printf("\nSyscalls denied: %zu kinds\n", sc->n);
	for (size_t i = 0; i < sc->n; i++) {
		printf("  %8" PRIu64 "  ", sc->v[i].count);
		ldmctl_put_escaped(stdout, sc->v[i].syscall != NULL ? sc->v[i].syscall : "?",
		                   false);
		printf(" (errno %" PRId32 ")\n", sc->v[i].err);
	}
	printf("\nTamper events while it ran: %zu\n", tp->n);
	for (size_t i = 0; i < tp->n; i++) {
		printf("  %8" PRIu64 "  ", tp->v[i].count);
		ldmctl_put_escaped(stdout, tp->v[i].reason != NULL ? tp->v[i].reason : "?", false);
		putchar('\n');
	}
}

/* ---- JSON ---- */

/* A JSON string: the parser gave back raw bytes (valid UTF-8, or 0xff where a byte was
 * lost), escaped here again. */
static void
put_json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p == 0xff)
			fputs("\\ufffd", f);
		else
			putc(*p, f);
	}
	putc('"', f);
}

static void
put_rows_json(const char *key, const struct rows *rs, bool allowed)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];

		printf("%s{\"proto\":\"%s\",\"dst\":", i ? "," : "", ldm_proto_name(r->proto));
		put_json_str(stdout, r->dst[0] != '\0' ? r->dst : NULL);
		printf(",\"dport\":%u,\"host\":", r->dport);
		put_json_str(stdout, r->host);
		fputs(",\"label\":", stdout);
		put_json_str(stdout, r->label);
		printf(",\"rule\":%" PRIu32 ",\"comment\":", r->rule);
		put_json_str(stdout, r->comment);
		printf(",\"count\":%" PRIu64, r->count);
		if (allowed && r->has_traffic)
			printf(",\"packets_out\":%" PRIu64 ",\"bytes_out\":%" PRIu64
			       ",\"packets_in\":%" PRIu64 ",\"bytes_in\":%" PRIu64,
			       r->packets_out, r->bytes_out, r->packets_in, r->bytes_in);
		else if (allowed) /* approved, but no traffic record counts it */
			fputs(",\"packets_out\":null,\"bytes_out\":null,\"packets_in\":null,"
			      "\"bytes_in\":null",
			      stdout);
		else
			printf(",\"audit\":%s", r->audit ? "true" : "false");
		putchar('}');
	}
	putchar(']');
}

static void
print_json(const struct report *rp)
{
	const struct rows *sc = &rp->rows[ROW_SYSCALL], *tp = &rp->rows[ROW_TAMPER];

	printf("{\"session\":%" PRIu64 ",\"policy\":", rp->session);
	put_json_str(stdout, rp->policy);
	/* The main policy file's SHA-256, as the daemon hashed the bytes it parsed. */
	fputs(",\"policy_sha256\":", stdout);
	put_json_str(stdout, rp->id.policy_sha256);
	fputs(",\"user\":", stdout);
	put_json_str(stdout, rp->user);
	printf(",\"uid\":%" PRIu32 ",\"app\":", rp->uid);
	put_json_str(stdout, rp->app);
	report_identity_json(stdout, &rp->id);
	printf(",\"start\":\"%s\",\"end\":", rp->start_ts);
	if (rp->ended)
		printf("\"%s\",\"end_reason\":", rp->end_ts);
	else
		fputs("null,\"end_reason\":", stdout);
	put_json_str(stdout, rp->end_reason);
	printf(",\"verified\":%s,\"records\":%" PRIu64, verified(rp) ? "true" : "false", rp->n_rec);
	printf(",\"blocked_total\":%" PRIu64 ",\"would_block_total\":%" PRIu64
	       ",\"syscalls_denied_total\":%" PRIu64,
	       rp->blocked, rp->would_block, rp->syscalls_denied);
	if (rp->traffic_known)
		printf(",\"traffic_total\":{\"packets_out\":%" PRIu64 ",\"bytes_out\":%" PRIu64
		       ",\"packets_in\":%" PRIu64 ",\"bytes_in\":%" PRIu64 "}",
		       rp->packets_out, rp->bytes_out, rp->packets_in, rp->bytes_in);
	else
		fputs(",\"traffic_total\":null", stdout);
	printf(",\"traffic_records\":%" PRIu64 ",\"traffic_complete\":%s", rp->traffic_seen,
	       traffic_complete(rp) ? "true" : "false");
	put_rows_json("allowed", &rp->rows[ROW_ALLOWED], true);
	put_rows_json("blocked", &rp->rows[ROW_BLOCKED], false);
	fputs(",\"syscalls_denied\":[", stdout);
	for (size_t i = 0; i < sc->n; i++) {
		printf("%s{\"syscall\":", i ? "," : "");
		put_json_str(stdout, sc->v[i].syscall);
		printf(",\"errno\":%" PRId32 ",\"count\":%" PRIu64 "}", sc->v[i].err,
		       sc->v[i].count);
	}
	fputs("],\"tamper\":[", stdout);
	for (size_t i = 0; i < tp->n; i++) {
		printf("%s{\"reason\":", i ? "," : "");
		put_json_str(stdout, tp->v[i].reason);
		printf(",\"count\":%" PRIu64 "}", tp->v[i].count);
	}
	fputs("]}\n", stdout);
}

/* ---- HTML ---- */

static void
put_html(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "&#%u;",
				        0x2400 + (*p == 0x7f ? 0x21 : *p)); /* a symbol */
			else if (*p == 0xff)
				fputs("&#xfffd;", f);
			else
				putc(*p, f);
		}
	}
}

static void
html_row_label(FILE *f, const struct row *r)
{
	if (r->host != NULL)
		put_html(f, r->host);
	else
		put_html(f, r->dst);
	if (r->dport != 0)
		fprintf(f, ":%u", r->dport);
	fprintf(f, " %s", ldm_proto_name(r->proto));
}

/* The timeline's time axis: seconds T0..T1 drawn from x LEFT, WIDTH wide. */
struct axis {
	double t0, t1, left, width;
};

static double
axis_x(const struct axis *ax, double t)
{
	double x = ax->left + (t - ax->t0) / (ax->t1 - ax->t0) * ax->width;

	return x < ax->left ? ax->left : x > ax->left + ax->width ? ax->left + ax->width : x;
}

/* An allowed row's traffic in its lane: a bar from its first approval (or the start) to the
 * end, what the kernel counted written over it. */
static void
html_traffic_bar(FILE *f, const struct row *r, const struct axis *ax, double ly)
{
	double x0 = r->n_marks > 0 ? axis_x(ax, r->marks[0].t) : ax->left;
	double x1 = ax->left + ax->width;

	if (!r->has_traffic)
		return;
	fprintf(f,
	        "<rect x='%.1f' y='%.0f' width='%.1f' height='6' class='bytes'><title>out %" PRIu64
	        " packets %" PRIu64 " bytes, in %" PRIu64 " packets %" PRIu64
	        " bytes</title></rect>\n"
	        "<text x='%.0f' y='%.0f' class='lane' text-anchor='end'>&#8593;%" PRIu64
	        " B &#8595;%" PRIu64 " B</text>\n",
	        x0, ly - 3, x1 > x0 ? x1 - x0 : 1, r->packets_out, r->bytes_out, r->packets_in,
	        r->bytes_in, x1 - 2, ly - 5, r->bytes_out, r->bytes_in);
}

/* One lane: its label, its line, the allowed row's traffic, a mark per record. */
static void
html_lane(FILE *f, const struct row *r, bool allowed, const struct axis *ax, double ly)
{
	fprintf(f, "<text x='%.0f' y='%.0f' class='lane' text-anchor='end'>", ax->left - 8, ly + 4);
	html_row_label(f, r);
	fprintf(f, "</text>\n<line x1='%.0f' x2='%.0f' y1='%.0f' y2='%.0f' class='grid'/>\n",
	        ax->left, ax->left + ax->width, ly, ly);
	if (allowed)
		html_traffic_bar(f, r, ax, ly);
	for (size_t m = 0; m < r->n_marks; m++) {
		double rad = 3 + 2 * log2((double)r->marks[m].count);

		fprintf(f,
		        "<circle cx='%.1f' cy='%.0f' r='%.1f' class='%s'><title>%" PRIu64
		        "</title></circle>\n",
		        axis_x(ax, r->marks[m].t), ly, rad > 12 ? 12 : rad, allowed ? "ok" : "no",
		        r->marks[m].count);
	}
}

/* The timeline: one lane per destination, a mark per record (area by count); allowed
 * lanes also show the traffic the kernel counted for them. */
static void
html_timeline(FILE *f, const struct report *rp)
{
	const struct rows *lanes[2] = { &rp->rows[ROW_ALLOWED], &rp->rows[ROW_BLOCKED] };
	struct axis ax = { rp->t_start, rp->ended ? rp->t_end : rp->t_last, 260, 620 };
	const double lane = 22;
	size_t n = lanes[0]->n + lanes[1]->n, y = 0;

	if (ax.t1 <= ax.t0)
		ax.t1 = ax.t0 + 1;
	fprintf(f,
	        "<svg xmlns='http://www.w3.org/2000/svg' width='900' height='%.0f' role='img' "
	        "aria-label='timeline'>\n"
	        "<rect x='%.0f' y='0' width='%.0f' height='%.0f' fill='#f4f6f8'/>\n"
	        "<text x='%.0f' y='14' class='axis'>%s</text>\n"
	        "<text x='%.0f' y='14' class='axis' text-anchor='end'>%s</text>\n",
	        (double)(n + 2) * lane + 10, ax.left, ax.width, (double)(n + 2) * lane + 10,
	        ax.left, rp->start_ts, ax.left + ax.width, rp->ended ? rp->end_ts : "(no end)");
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lanes[k]->n; i++, y++)
			html_lane(f, &lanes[k]->v[i], k == 0, &ax, (double)(y + 1) * lane + 14);
	fputs("</svg>\n", f);
}

/* The byte columns of an allowed row: the kernel's counts, or "not counted". */
static void
html_bytes(FILE *f, const struct row *r)
{
	if (r->has_traffic)
		fprintf(f,
		        "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		        "</td>",
		        r->packets_out, r->bytes_out, r->packets_in, r->bytes_in);
	else
		fputs("<td colspan='4' class='none'>not counted</td>", f);
}

static void
html_table(FILE *f, const char *title, const struct rows *rs, bool allowed)
{
	fprintf(f, "<h2>%s (%zu)</h2>\n", title, rs->n);
	if (rs->n == 0) {
		fputs("<p class='none'>none</p>\n", f);
		return;
	}
	fputs("<table><tr><th>count</th><th>proto</th><th>destination</th><th>host</th>"
	      "<th>label</th><th>rule</th>",
	      f);
	if (allowed)
		fputs("<th>packets out</th><th>bytes out</th><th>packets in</th><th>bytes in</th>",
		      f);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];

		fprintf(f, "<tr><td>%" PRIu64 "</td><td>%s</td><td>", r->count,
		        ldm_proto_name(r->proto));
		put_html(f, r->dst);
		if (r->dport != 0)
			fprintf(f, ":%u", r->dport);
		fputs("</td><td>", f);
		put_html(f, r->host);
		fputs("</td><td>", f);
		put_html(f, r->label);
		fputs("</td><td>", f);
		if (r->rule != 0)
			fprintf(f, "%" PRIu32 " ", r->rule);
		put_html(f, r->comment);
		fputs("</td>", f);
		if (allowed)
			html_bytes(f, r);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
html_traffic_total(FILE *f, const struct report *rp)
{
	if (rp->traffic_known)
		fprintf(f,
		        "<p>Total counted by the kernel: out %" PRIu64 " packets, %" PRIu64
		        " bytes; in %" PRIu64 " packets, %" PRIu64 " bytes.</p>\n",
		        rp->packets_out, rp->bytes_out, rp->packets_in, rp->bytes_in);
	else
		fputs("<p class='none'>The session's traffic was not counted (see its error "
		      "records).</p>\n",
		      f);
	if (!traffic_complete(rp))
		fprintf(f,
		        "<p class='v'>%" PRIu64 " of %" PRIu64
		        " traffic records are MISSING.</p>\n",
		        rp->traffic_records - rp->traffic_seen, rp->traffic_records);
}

static int
write_html(const struct report *rp, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");
	bool ok = verified(rp);

	if (f == NULL) {
		ldmctl_err("report: %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f,
	        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
	        "<title>ldm-enforcer session %" PRIu64 "</title>\n<style>\n"
	        "body{font:14px/1.4 sans-serif;margin:2em;color:#111}"
	        "h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}"
	        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;"
	        "text-align:left}.ok{fill:#2e7d32}.no{fill:#c62828}.grid{stroke:#ccc}"
	        ".axis,.lane{font:11px sans-serif;fill:#333}.none{color:#666}"
	        ".bytes{fill:#2e7d32;opacity:.35}"
	        ".v{font-weight:bold;color:%s}"
	        "@media print{body{margin:0}}\n</style></head><body>\n"
	        "<h1>ldm-enforcer: session %" PRIu64 "</h1>\n<table>\n",
	        rp->session, ok ? "#2e7d32" : "#c62828", rp->session);
	fputs("<tr><th>policy</th><td>", f);
	put_html(f, rp->policy);
	fputs("</td></tr>\n<tr><th>user</th><td>", f);
	put_html(f, rp->user);
	fprintf(f, " (uid %" PRIu32 ")</td></tr>\n<tr><th>program</th><td>", rp->uid);
	put_html(f, rp->app);
	fputs("</td></tr>\n", f);
	report_identity_html(f, &rp->id);
	fprintf(f, "<tr><th>started</th><td>%s</td></tr>\n", rp->start_ts);
	fprintf(f, "<tr><th>ended</th><td>%s ", rp->ended ? rp->end_ts : "no end in the log");
	put_html(f, rp->end_reason);
	fprintf(f,
	        "</td></tr>\n<tr><th>blocked</th><td>%" PRIu64 "</td></tr>\n"
	        "<tr><th>log records</th><td>%" PRIu64 ", hash chain <span class='v'>%s</span>"
	        "</td></tr>\n</table>\n<h2>Timeline</h2>\n",
	        rp->blocked, rp->n_rec, ok ? "verified" : "BROKEN");
	html_timeline(f, rp);
	fputs("<p class='none'>green: allowed (a mark per approval the enforcer logged, a bar for "
	      "the traffic the kernel counted: &#8593; bytes out, &#8595; bytes in); red: "
	      "blocked; a mark per log record, larger for folded repeats.</p>\n",
	      f);
	html_table(f, "Allowed, per rule and peer", &rp->rows[ROW_ALLOWED], true);
	html_traffic_total(f, rp);
	html_table(f, "Blocked", &rp->rows[ROW_BLOCKED], false);
	fprintf(f, "<h2>Syscalls denied (%zu kinds)</h2>\n<ul>\n", rp->rows[ROW_SYSCALL].n);
	for (size_t i = 0; i < rp->rows[ROW_SYSCALL].n; i++) {
		fprintf(f, "<li>%" PRIu64 " &times; ", rp->rows[ROW_SYSCALL].v[i].count);
		put_html(f, rp->rows[ROW_SYSCALL].v[i].syscall);
		fprintf(f, " (errno %" PRId32 ")</li>\n", rp->rows[ROW_SYSCALL].v[i].err);
	}
	fprintf(f, "</ul>\n<h2>Tamper events while it ran (%zu)</h2>\n<ul>\n",
	        rp->rows[ROW_TAMPER].n);
	for (size_t i = 0; i < rp->rows[ROW_TAMPER].n; i++) {
		fprintf(f, "<li>%" PRIu64 " &times; ", rp->rows[ROW_TAMPER].v[i].count);
		put_html(f, rp->rows[ROW_TAMPER].v[i].reason);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n</body></html>\n", f);
	if (f != stdout && fclose(f) != 0)
		return -EIO;
	return 0;
}

void
ldmctl_report_json_str(FILE *f, const char *s)
{
	put_json_str(f, s);
}

void
ldmctl_report_html(FILE *f, const char *s)
{
	put_html(f, s);
}

/* ---- command ---- */

static int
parse_args(struct ldmctl_ctx *ctx, int argc, char **argv, struct report_args *a)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "log", required_argument, NULL, 'L' },
		{},
	};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'H':
			if (optarg[0] == '\0')
				return ldmctl_usage_error("report", "--html needs a file");
			a->html = optarg;
			break;
		case 'L':
			if (optarg[0] == '\0' || ldmctl_logfiles_add(&a->files, optarg) < 0)
				return ldmctl_usage_error("report",
				                          "--log needs a file (at most %d)",
				                          LDMCTL_LOG_MAX_FILES);
			break;
		case '?':
			return ldmctl_usage_hint("report");
		default:
			r = ldmctl_common_option(ctx, c, optarg);
			if (r == 1) {
				report_usage(stdout);
				return -1;
			}
			if (r < 0)
				return LDMCTL_EXIT_USAGE;
		}
	}
	if (a->json && a->html != NULL && strcmp(a->html, "-") == 0)
		return ldmctl_usage_error("report",
		                          "--json and --html - both want standard output");
	if (argc - optind != 1)
		return ldmctl_usage_error("report", "give one SESSION number");
	if (ldm_parse_u64(argv[optind], UINT64_MAX, &a->session) < 0 || a->session == 0)
		return ldmctl_usage_error("report", "SESSION '%s' is not a session number",
		                          argv[optind]);
	return 0;
}

int
ldmctl_report(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static struct report_args a;
	static struct report rp;
	int r = parse_args(ctx, argc, argv, &a);

	if (r != 0) {
		ldmctl_logfiles_clear(&a.files);
		return r < 0 ? LDMCTL_EXIT_OK : r;
	}
	rp.session = a.session;
	r = a.files.n == 0 ? ldmctl_logfiles_default(&a.files, LDMCTL_LOG_DEFAULT) : 0;
	if (r == 0)
		r = ldmctl_logfiles_read(&a.files, "report", on_line, &rp);
	ldmctl_logfiles_clear(&a.files);
	if (!rp.started) {
		ldmctl_err("report: session %" PRIu64 " is not in the log%s", a.session,
		           r < 0 ? " (a file could not be read)" : "");
		free(rp.breaks);
		return LDMCTL_EXIT_FAIL;
	}
	if (a.json)
		print_json(&rp);
	else if (a.html == NULL || strcmp(a.html, "-") != 0)
		print_text(&rp);
	if (a.html != NULL && write_html(&rp, a.html) < 0)
		r = -EIO;
	else if (r == 0 && !verified(&rp))
		r = -EBADMSG;
	session_clear(&rp);
	free(rp.breaks);
	return r == 0 ? LDMCTL_EXIT_OK : LDMCTL_EXIT_FAIL;
}
