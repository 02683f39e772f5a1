/*
 * ldmctl log: reads the daemon's JSON-lines log back and prints each record as one human
 * line (or the JSON line itself), optionally of one session only, of a time span only
 * (--since, --until), optionally following the file as it grows, is truncated or is
 * rotated. Without --follow the files are read as logfiles.h does: the rotated and
 * compressed files oldest first, then the log; or the files given, "-" standard input.
 *
 * Trust: the log is written by the root daemon, but its strings came from sandboxed apps,
 * and anyone who can write the file (or a disk error) may have put anything in it. No byte
 * is trusted: lines are bounded by LDM_EVENT_LINE_MAX, each is parsed strictly by
 * ldm_event_parse_json(), and only a line that parsed is printed, as ldm_event_text()
 * escapes it or as the JSON line that the parser proved is exactly what the daemon writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "ldm/control.h"
#include "ldm/event.h"
#include "ldm/logchain.h"
#include "ldm/util.h"
#include "isotime.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/logfiles.h"

#define LOG_DEFAULT_PATH      "/var/log/ldm/events.jsonl"
#define FOLLOW_POLL_NS        (200L * 1000 * 1000) /* --follow looks for more every 200 ms */
#define ROTATE_IDLE_S         60 /* a renamed log this long unchanged is done with (no HUP) */
#define LOG_DAEMON_TIMEOUT_MS 5000

struct log_args {
	uint64_t session; /* 0: every session */
	bool json;
	bool follow;
	const char *path;
	bool path_given; /* --log: those files, never the daemon's records */
	bool rotated;    /* --with-rotated: each --log FILE's rotated files before it */
	struct ldmctl_logfiles files;
	int64_t since, until; /* ms since the epoch: since <= ts < until */
};

/* Whole lines of a file that may grow, each at most LDM_LOG_LINE_MAX bytes with "\n". */
struct reader {
	int fd;
	unsigned long lineno; /* of the line returned last */
	size_t start, end;    /* the bytes read but not yet returned: buf[start..end) */
	bool skipping;        /* inside a line too long to be a record: drop up to its "\n" */
	char buf[2 * LDM_LOG_LINE_MAX];
};

enum { LINE_NONE, LINE_OK, LINE_LONG };

static void
log_usage(FILE *f)
{
	fputs("Usage: ldmctl log [SESSION] [--json] [--since TIME] [--until TIME] [--follow]\n"
	      "                  [--log FILE]... [--with-rotated] [--socket PATH]\n"
	      "\n"
	      "Prints the records of ldm-enforcerd's event log, one line each: blocked flows,\n"
	      "sessions started and ended, policy files, denied syscalls, tampering. Root reads\n"
	      "the files (the rotated ones, .gz too, oldest first, then the log); an ordinary\n"
	      "user gets the records of their own sessions from the daemon.\n"
	      "  SESSION       only the records of this session number (see ldmctl status)\n"
	      "  --json        print each record as the JSON line the daemon wrote, byte for byte\n"
	      "  --since TIME  only records written at TIME or later; TIME as the records' ts:\n"
	      "                2026-11-25T02:14:29.123Z, 2026-11-25T04:14+02:00, 2026-11-25 (UTC)\n"
	      "  --until TIME  only records written before TIME\n"
	      "  --follow      keep printing records as they are written (also across log\n"
	      "                rotation and truncation); stop with Ctrl-C\n"
	      "  --log FILE    read this file (repeatable, in order; - is standard input; .gz is\n"
	      "                read compressed; default, as root: " LOG_DEFAULT_PATH ")\n"
	      "  --with-rotated  read each --log FILE's rotated files (FILE.N, FILE.N.gz) first\n"
	      "  --socket PATH the daemon's control socket (ordinary users; default\n"
	      "                $LDM_SOCKET, else " LDM_CONTROL_SOCKET ")\n"
	      "\n"
	      "A line that is not a record is reported as 'FILE:LINE: unreadable record' on\n"
	      "stderr and skipped. A record of a later version, with keys this one does not\n"
	      "know, is printed (--json: as written).\n"
	      "\n"
	      "Exit status: 0 the log was read, 1 it cannot be read, 2 usage error.\n",
	      f);
}

static void
bad_record(const char *path, unsigned long lineno)
{
	fflush(stdout);
	fputs("ldmctl: ", stderr);
	ldmctl_put_escaped(stderr, path, false);
	fprintf(stderr, ":%lu: unreadable record\n", lineno);
}

/* Reads more of the file after the pending bytes. Returns the count read, 0 at EOF, -errno. */
static ssize_t
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->skipping)
		r->start = r->end = 0;
	memmove(r->buf, r->buf + r->start, r->end - r->start);
	r->end -= r->start;
	r->start = 0;
	do
		n = read(r->fd, r->buf + r->end, sizeof(r->buf) - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->end += (size_t)n;
	return n;
}

/*
 * Finds the next whole line. Returns LINE_OK with *RET_LINE, *RET_LEN (the line without its
 * "\n"), LINE_LONG for a line too long to be a record (skipped; r->lineno is its number),
 * LINE_NONE when no whole line is there yet, or -errno.
 */
static int
reader_next(struct reader *r, const char **ret_line, size_t *ret_len)
{
	for (;;) {
		char *line = r->buf + r->start;
		char *nl = memchr(line, '\n', r->end - r->start);
		ssize_t n;

		if (nl != NULL && r->skipping) {
			r->start += (size_t)(nl - line) + 1;
			r->skipping = false;
			continue;
		}
		if (nl != NULL) {
			r->start += (size_t)(nl - line) + 1;
			r->lineno++;
			if ((size_t)(nl - line) + 1 > LDM_LOG_LINE_MAX)
				return LINE_LONG;
			*ret_line = line;
			*ret_len = (size_t)(nl - line);
			return LINE_OK;
		}
		if (!r->skipping && r->end - r->start >= LDM_LOG_LINE_MAX) {
			/* No "\n" in the bytes a record may take: the rest of it goes unread. */
			r->skipping = true;
			r->lineno++;
			return LINE_LONG;
		}
		n = reader_fill(r);
		if (n <= 0)
			return n < 0 ? (int)n : LINE_NONE;
	}
}

/* The last line of the file when it does not end in "\n"; LINE_NONE if there is none. */
static int
reader_rest(struct reader *r, const char **ret_line, size_t *ret_len)
{
	if (r->skipping || r->start == r->end)
		return LINE_NONE;
	r->lineno++;
	*ret_line = r->buf + r->start;
	*ret_len = r->end - r->start;
	r->start = r->end = 0;
	return LINE_OK;
}

/* Starts R over at the beginning of FD (a new or truncated file). */
static void
reader_reset(struct reader *r, int fd)
{
	r->fd = fd;
	r->lineno = 0;
	r->start = r->end = 0;
	r->skipping = false;
}

static bool
in_span(const struct log_args *a, const struct timespec *ts)
{
	int64_t ms = (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;

	return ms >= a->since && ms < a->until;
}

static void
emit_from(const struct log_args *a, const char *file, const char *line, size_t len,
          unsigned long lineno)
{
	static struct ldm_event_view v;
	static char text[LDM_EVENT_LINE_MAX];

	/* The parser reads a sealed record without its chain keys (`ldmctl verify` checks
	 * those), and a line of a log written before the chain existed as it is. */
	if (ldm_event_parse_json(line, len, &v) < 0 ||
	    ldm_event_text(&v.ev, text, sizeof(text)) < 0) {
		bad_record(file, lineno);
		return;
	}
	if ((a->session != 0 && v.ev.session != a->session) || !in_span(a, &v.ev.ts))
		return;
	if (a->json) {
		/* It parsed, so it is exactly what ldm_event_json() writes (escaped), plus the
		 * chain keys ldm_chain_split() read strictly: digits and hex. */
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else {
		puts(text);
	}
}

static void
emit(const struct log_args *a, const char *line, size_t len, unsigned long lineno)
{
	emit_from(a, a->path, line, len, lineno);
}

static void
on_line(void *u, const char *file, unsigned long lineno, const char *line, size_t len,
        bool too_long)
{
	if (too_long)
		bad_record(file, lineno);
	else
		emit_from(u, file, line, len, lineno);
}

/* Prints every whole line there is (with AT_EOF, the unterminated last one too). */
static int
drain(const struct log_args *a, struct reader *r, bool at_eof)
{
	const char *line;
	size_t len;
	int k;

	while ((k = reader_next(r, &line, &len)) > 0) {
		if (k == LINE_LONG)
			bad_record(a->path, r->lineno);
		else
			emit(a, line, len, r->lineno);
	}
	if (k == LINE_NONE && at_eof && reader_rest(r, &line, &len) == LINE_OK)
		emit(a, line, len, r->lineno);
	if (k < 0) {
		fflush(stdout);
		fputs("ldmctl: cannot read ", stderr);
		ldmctl_put_escaped(stderr, a->path, false);
		fprintf(stderr, ": %s\n", strerror(-k));
	}
	if (fflush(stdout) != 0 && k >= 0)
		k = -EIO;
	return k;
}

/* Says why PATH cannot be opened, and what to do about it. */
static void
open_error(const char *path, int err)
{
	struct stat st;
	struct group *g;

	fflush(stdout);
	fputs("ldmctl: cannot read ", stderr);
	ldmctl_put_escaped(stderr, path, false);
	fprintf(stderr, ": %s", strerror(-err));
	if (err == -EACCES || err == -EPERM) {
		g = stat(path, &st) == 0 && (st.st_mode & S_IRGRP) != 0 && st.st_gid != 0
		            ? getgrgid(st.st_gid)
		            : NULL;
		fputs(" \xe2\x80\x94 the log is readable by root", stderr);
		if (g != NULL) {
			fputs(" and group ", stderr);
			ldmctl_put_escaped(stderr, g->gr_name, false);
		}
		fputs(" only; run 'sudo ldmctl log', or 'ldmctl log' without --log for the "
		      "records of your own sessions",
		      stderr);
	} else if (err == -ENOENT) {
		fputs(" \xe2\x80\x94 ldm-enforcerd creates it when it starts; is the path right "
		      "(--log FILE)?",
		      stderr);
	}
	fputc('\n', stderr);
}

/* Opens the log. Returns a CLOEXEC fd, or -errno after saying why. */
static int
open_log(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		fd = -errno;
		open_error(path, fd);
	}
	return fd;
}

/*
 * After EOF in --follow: reopens the log when its name now points to another file (it was
 * rotated) that the daemon writes to, or starts over when it shrank below what was read (it
 * was truncated). Returns 0 or -errno (reported). logrotate's `create` makes the new, empty
 * file before the daemon's HUP, and the daemon appends to the renamed one until then: the
 * new one is taken once it has data, or the old one has not changed for ROTATE_IDLE_S.
 */
static int
follow_check(const struct log_args *a, struct reader *r)
{
	struct stat now, cur;
	off_t pos;
	int fd;

	if (fstat(r->fd, &cur) < 0 || !S_ISREG(cur.st_mode))
		return 0;
	if (stat(a->path, &now) == 0 && (now.st_ino != cur.st_ino || now.st_dev != cur.st_dev) &&
	    (now.st_size > 0 || time(NULL) - cur.st_mtim.tv_sec >= ROTATE_IDLE_S)) {
		/* What was written to the old file before it was renamed goes out first. */
		if (drain(a, r, true) < 0)
			return -EIO;
		fd = open_log(a->path);
		if (fd < 0)
			return fd;
		(void)close(r->fd);
		reader_reset(r, fd);
		return 0;
	}
	pos = lseek(r->fd, 0, SEEK_CUR);
	if (pos >= 0 && cur.st_size < pos) {
		if (lseek(r->fd, 0, SEEK_SET) < 0)
			return -errno;
		reader_reset(r, r->fd);
	}
	return 0;
}

/* Prints what is there, then what comes; returns only on an error. */
static int
follow(const struct log_args *a, struct reader *r)
{
	const struct timespec tick = { 0, FOLLOW_POLL_NS };
	int k;

	for (;;) {
		k = drain(a, r, false);
		if (k < 0)
			return k;
		(void)nanosleep(&tick, NULL);
		k = follow_check(a, r);
		if (k < 0)
			return k;
	}
}

/* Handles one option of log. Returns 0 to go on, or an exit code (-1: --help done). */
static int
log_option(struct ldmctl_ctx *ctx, struct log_args *a, int c, const char *arg)
{
	int r;

	switch (c) {
	case 'j':
		a->json = true;
		return 0;
	case 'f':
		a->follow = true;
		return 0;
	case 'L':
		if (arg[0] == '\0' || ldmctl_logfiles_add(&a->files, arg) < 0)
			return ldmctl_usage_error("log", "--log needs a file (at most %d)",
			                          LDMCTL_LOG_MAX_FILES);
		a->path = arg;
		a->path_given = true;
		return 0;
	case 'R':
		a->rotated = true;
		return 0;
	case 'S':
	case 'U':
		if (ldm_isotime_parse(arg, c == 'S' ? &a->since : &a->until) < 0)
			return ldmctl_usage_error("log",
			                          "%s '%s' is not a time: give it as the records' "
			                          "ts, e.g. 2026-11-25T02:14:29.123Z, "
			                          "2026-11-25T04:14+02:00 or 2026-11-25",
			                          c == 'S' ? "--since" : "--until", arg);
		return 0;
	case '?':
		return ldmctl_usage_hint("log");
	default:
		r = ldmctl_common_option(ctx, c, arg);
		if (r == 1) {
			log_usage(stdout);
			return -1;
		}
		return r < 0 ? LDMCTL_EXIT_USAGE : 0;
	}
}

/* Returns 0 when A is complete, or the exit code (-1 for --help, which exits 0). */
static int
parse_args(struct ldmctl_ctx *ctx, int argc, char **argv, struct log_args *a)
{
	static const struct option options[] = {
		LDMCTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'L' },
		{ "with-rotated", no_argument, NULL, 'R' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{},
	};
	int c, r;

	optind = 0; /* glibc: restart and permute, so options may come anywhere */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		r = log_option(ctx, a, c, optarg);
		if (r != 0)
			return r;
	}
	if (a->follow && (a->files.n > 1 || a->rotated || (a->path_given && !strcmp(a->path, "-"))))
		return ldmctl_usage_error("log", "--follow follows one --log FILE (not -), "
		                                 "without --with-rotated");
	if (a->since >= a->until)
		return ldmctl_usage_error("log", "--since must be before --until");
	if (argc - optind > 1)
		return ldmctl_usage_error("log", "give at most one SESSION");
	if (argc - optind == 1 &&
	    (ldm_parse_u64(argv[optind], UINT64_MAX, &a->session) < 0 || a->session == 0))
		return ldmctl_usage_error("log", "SESSION '%s' is not a session number (1, 2, ...)",
		                          argv[optind]);
	return 0;
}

/*
 * The log through the daemon, for a user who may not read the file: a pipe of the records
 * of their own sessions (ldm-enforcerd filters by the caller's uid). Returns the pipe's fd,
 * or -errno after saying why.
 */
static int
open_via_daemon(const struct ldmctl_ctx *ctx, const struct log_args *a)
{
	struct ldm_msg_log_request req;
	const char *socket = ldm_client_socket_path(ctx->socket);
	_cleanup_close_ int fd = ldm_client_connect(socket);
	union ldm_msg_any m;
	int pipe_fd = -1, r;

	memset(&req, 0, sizeof(req));
	ldm_msg_init(&req.hdr, LDM_MSG_LOG_REQUEST);
	req.session = a->session;
	req.flags = a->follow ? LDM_LOG_F_FOLLOW : 0;
	r = fd < 0 ? fd : ldm_client_send(fd, &req.hdr);
	if (r == 0)
		r = ldm_client_recv_fd(fd, &m, LOG_DAEMON_TIMEOUT_MS, &pipe_fd);
	if (r == LDM_MSG_LOG_READY && pipe_fd >= 0)
		return pipe_fd;
	if (pipe_fd >= 0)
		(void)close(pipe_fd);
	fflush(stdout);
	if (r == LDM_MSG_ERROR)
		fprintf(stderr, "ldmctl: log: ldm-enforcerd: %s\n", m.error.text);
	else if (r == -ENOENT || r == -ECONNREFUSED) {
		fputs("ldmctl: log: ldm-enforcerd is not running (no daemon at ", stderr);
		ldmctl_put_escaped(stderr, socket, false);
		fputs("), and only it passes on the records of your sessions; root can read the "
		      "log file ('sudo ldmctl log')\n",
		      stderr);
	} else
		fprintf(stderr, "ldmctl: log: cannot get your records from ldm-enforcerd: %s\n",
		        strerror(r < 0 ? -r : EPROTO));
	return r < 0 ? r : -EPROTO;
}

/* The files to read, oldest first: the default log's set, or each FILE's with --rotated. */
static int
files_to_read(const struct log_args *a, struct ldmctl_logfiles *ret)
{
	int r = 0;

	if (!a->path_given)
		return ldmctl_logfiles_default(ret, LOG_DEFAULT_PATH);
	for (size_t i = 0; r == 0 && i < a->files.n; i++)
		r = a->rotated && strcmp(a->files.paths[i], "-") != 0
		            ? ldmctl_logfiles_default(ret, a->files.paths[i])
		            : ldmctl_logfiles_add(ret, a->files.paths[i]);
	return r;
}

/* Reads the files (no --follow) and prints their records. */
static int
log_files(struct log_args *a)
{
	static struct ldmctl_logfiles files;
	int r;

	/* A file given that cannot be opened: said with the advice on what to do. */
	for (size_t i = 0; i < a->files.n; i++) {
		int fd;

		if (strcmp(a->files.paths[i], "-") == 0)
			continue;
		fd = open_log(a->files.paths[i]);
		if (fd < 0)
			return LDMCTL_EXIT_FAIL;
		(void)close(fd);
	}
	r = files_to_read(a, &files);
	if (r == 0)
		r = ldmctl_logfiles_read(&files, "log", on_line, a);
	ldmctl_logfiles_clear(&files);
	if (fflush(stdout) != 0)
		r = -EIO;
	return r < 0 ? LDMCTL_EXIT_FAIL : LDMCTL_EXIT_OK;
}

/* The daemon's pipe (an ordinary user), or one file followed. Returns the exit code. */
static int
log_stream(struct ldmctl_ctx *ctx, struct log_args *a, struct reader *r)
{
	bool via_daemon = false;
	int fd, k;

	/* The log is root's: an ordinary user gets the records of their own sessions from
	 * the daemon (which knows its log file); only --log FILE reads a file itself. */
	if (!a->path_given && geteuid() != 0) {
		fd = open_via_daemon(ctx, a);
		if (fd < 0)
			return LDMCTL_EXIT_FAIL;
		via_daemon = true;
		a->path = "ldm-enforcerd";
		if (a->follow)
			setvbuf(stdout, NULL, _IOLBF, 0);
	} else {
		fd = open_log(a->path);
		if (fd < 0)
			return LDMCTL_EXIT_FAIL;
	}
	reader_reset(r, fd);
	/* Through the daemon its reader follows the file: the pipe ends when it does. */
	k = a->follow && !via_daemon ? follow(a, r) : drain(a, r, true);
	(void)close(r->fd);
	return k < 0 ? LDMCTL_EXIT_FAIL : LDMCTL_EXIT_OK;
}

int
ldmctl_log(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	static struct reader r; /* 32 KiB: not on the stack */
	static struct log_args a;
	int k;

	a = (struct log_args){ .path = LOG_DEFAULT_PATH, .since = INT64_MIN, .until = INT64_MAX };
	k = parse_args(ctx, argc, argv, &a);
	if (k == 0 && (a.path_given || geteuid() == 0) && !a.follow)
		k = log_files(&a);
	else if (k == 0)
		k = log_stream(ctx, &a, &r);
	ldmctl_logfiles_clear(&a.files);
	return k < 0 ? LDMCTL_EXIT_OK : k;
}
