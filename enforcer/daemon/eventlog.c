/*
 * The daemon's event log edge: the file, syslog, stderr. Trust: the records are built by the
 * daemon, but their strings may come from the app; the formatters in event.c escape them.
 *
 * Each JSON line is sealed into the log's hash chain (ldm/logchain.h). The chain goes on
 * across restarts and rotations: at open, its head is the last sealed line of the file, or,
 * when the file is empty (just rotated), the head file PATH.chain that every reopen and
 * close writes. A last line that is not a sealed record starts a new chain, and says so.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "eventlog.h"
#include "ldm/journalfields.h"
#include "ldm/logchain.h"
#include "ldm/util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct ldm_eventlog {
	char *path;
	int fd;
	unsigned flags;
	bool syslog_open;
	bool journal; /* journald runs: records go there with their fields, not to syslog */
	uint64_t failures;
	struct ldm_chain chain;
	const char *chain_note; /* why the chain starts anew at open, or NULL */
	char line[LDM_EVENT_LINE_MAX + LDM_CHAIN_SEAL_MAX];
};

static int write_line(int fd, const char *buf, size_t len);

/* PATH.chain: the chain's head while the log file is empty. */
static int
head_path(const struct ldm_eventlog *log, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s.chain", log->path);

	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* Writes the head ("SEQ HEX\n") to PATH.chain, through a temporary file and a rename. */
static int
save_head(const struct ldm_eventlog *log)
{
	char path[4200], tmp[4210], text[LDM_CHAIN_HEAD_TEXT_MAX];
	_cleanup_close_ int fd = -1;
	int n;

	if (head_path(log, path, sizeof(path)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	n = ldm_chain_head_format(&log->chain, text, sizeof(text));
	if (n < 0)
		return n;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (write_line(fd, text, (size_t)n) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
		n = errno != 0 ? -errno : -EIO;
		(void)unlink(tmp);
		return n;
	}
	return 0;
}

/* Reads PATH.chain into the chain; -ENOENT when there is none, -EBADMSG when malformed. */
static int
load_head(struct ldm_eventlog *log)
{
	char path[4200], text[LDM_CHAIN_HEAD_TEXT_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (head_path(log, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	return ldm_chain_head_parse(text, &log->chain);
}

/*
 * Takes the chain up from the file FD is open on: its last complete line. An empty file
 * continues from the head file. If the file does not end with "\n" (a write cut short), a
 * "\n" is added so the next record starts a line of its own.
 */
static void
resume_chain(struct ldm_eventlog *log)
{
	static char tail[LDM_EVENT_LINE_MAX + LDM_CHAIN_SEAL_MAX + 2];
	struct stat st;
	off_t from;
	ssize_t n;
	char *end, *start;

	log->chain = (struct ldm_chain){ 0 };
	log->chain_note = NULL;
	if (fstat(log->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (st.st_size == 0) {
		int r = load_head(log);

		if (r < 0 && r != -ENOENT)
			log->chain_note = "the log's chain head file is unreadable";
		return;
	}
	from = st.st_size > (off_t)sizeof(tail) ? st.st_size - (off_t)sizeof(tail) : 0;
	n = pread(log->fd, tail, sizeof(tail), from);
	if (n <= 0) {
		log->chain_note = "the end of the log file is unreadable";
		return;
	}
	end = tail + n;
	if (end[-1] != '\n' && write_line(log->fd, "\n", 1) < 0)
		log->failures++;
	else if (end[-1] == '\n')
		end--;
	/* The last complete line: from the "\n" before END (exclusive) to END. */
	start = end;
	while (start > tail && start[-1] != '\n')
		start--;
	if (start == tail && from > 0) {
		log->chain_note = "the log's last line is too long to be a record";
		return;
	}
	log->chain.seq = 0;
	if (ldm_chain_check(&log->chain, start, (size_t)(end - start)) != LDM_CHAIN_FIRST) {
		log->chain = (struct ldm_chain){ 0 };
		log->chain_note = "the log's last line is not a sealed record";
	}
}

/* Creates PATH's parent directory (one level) if it is missing. */
static int
make_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (dir == NULL)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Opens PATH for appending (and reading: the chain resumes from its last line); refuses symlinks, FIFOs, sockets and directories. */
static int
open_file(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = make_parent(path);

	if (r < 0)
		return r;
	fd = open(path,
	          O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
	          0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EINVAL;
	return TAKE_FD(fd);
}

int
ldm_eventlog_open(const char *path, unsigned flags, struct ldm_eventlog **ret)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;

	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return -ENOMEM;
	log->fd = -1;
	log->flags = flags;
	log->path = strdup(path);
	if (log->path == NULL)
		return -ENOMEM;
	log->fd = open_file(path);
	if (log->fd < 0)
		return log->fd;
	resume_chain(log);
	if (!(flags & LDM_EVENTLOG_NO_SYSLOG)) {
		struct stat st;

		log->journal = stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
		openlog("ldm-enforcerd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log->syslog_open = true;
	}
	*ret = TAKE_PTR(log);
	return 0;
}

struct ldm_eventlog *
ldm_eventlog_close(struct ldm_eventlog *log)
{
	if (log == NULL)
		return NULL;
	if (log->fd >= 0)
		(void)save_head(log);
	if (log->fd >= 0)
		(void)close(log->fd);
	if (log->syslog_open)
		closelog();
	free(log->path);
	free(log);
	return NULL;
}

int
ldm_eventlog_priority(enum ldm_event_type t)
{
	switch (t) {
	case LDM_EVENT_BLOCKED:
	case LDM_EVENT_TAMPER:
		return LOG_WARNING;
	case LDM_EVENT_WOULD_BLOCK:
	case LDM_EVENT_SYSCALL_DENIED:
		return LOG_NOTICE;
	case LDM_EVENT_ERROR:
		return LOG_ERR;
	default:
		return LOG_INFO;
	}
}

/* Writes LEN bytes with one write(): all of the line or a failure, never a retry of part. */
static int
write_line(int fd, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The record to journald with its fields (journalctl LDM_SESSION=7); syslog if that fails. */
static void
write_journal(const struct ldm_event *e, const char *text, uint64_t seq)
{
	static char buf[LDM_JOURNAL_BUF_MAX];
	struct iovec iov[LDM_JOURNAL_FIELDS_MAX];
	int prio = ldm_eventlog_priority(e->event);
	int n = ldm_journal_fields(e, text, prio, seq, buf, sizeof(buf), iov, ELEMENTSOF(iov));

	if (n < 0 || sd_journal_sendv(iov, n) < 0)
		syslog(prio, "%s", text);
}

/* The text line to journald or syslog, and stderr; best effort and not counted. SEQ is the
 * record's number in the file's chain, 0 if it was not written there. */
static void
write_text(struct ldm_eventlog *log, const struct ldm_event *e, uint64_t seq)
{
	int n = ldm_event_text(e, log->line, sizeof(log->line) - 1);

	if (n < 0)
		return;
	if (!(log->flags & LDM_EVENTLOG_NO_SYSLOG) && log->journal)
		write_journal(e, log->line, seq);
	else if (!(log->flags & LDM_EVENTLOG_NO_SYSLOG))
		syslog(ldm_eventlog_priority(e->event), "%s", log->line);
	if (log->flags & LDM_EVENTLOG_STDERR) {
		log->line[n] = '\n';
		(void)write_line(STDERR_FILENO, log->line, (size_t)n + 1);
	}
}

int
ldm_eventlog_write(struct ldm_eventlog *log, const struct ldm_event *e)
{
	struct ldm_event stamped;
	int n;

	if (e->ts.tv_sec == 0 && e->ts.tv_nsec == 0) {
		stamped = *e;
		(void)clock_gettime(CLOCK_REALTIME, &stamped.ts);
		e = &stamped;
	}
	/* Room for the chain keys: a record always fits LDM_EVENT_LINE_MAX before them. */
	n = ldm_event_json(e, log->line, sizeof(log->line) - LDM_CHAIN_SEAL_MAX);
	if (n >= 0)
		n = ldm_chain_seal(&log->chain, log->line, (size_t)n, sizeof(log->line));
	if (n >= 0) {
		size_t len = (size_t)n;

		n = write_line(log->fd, log->line, len);
		/* Only a written record moves the head: the next one points at it. */
		if (n == 0 && ldm_chain_advance(&log->chain, log->line, len) < 0)
			n = -EIO;
	}
	if (n < 0)
		log->failures++;
	write_text(log, e, n < 0 ? 0 : log->chain.seq);
	return n < 0 ? n : 0;
}

const char *
ldm_eventlog_chain_note(const struct ldm_eventlog *log)
{
	return log->chain_note;
}

void
ldm_eventlog_chain_head(const struct ldm_eventlog *log, uint64_t *ret_seq,
                        uint8_t ret_head[LDM_CHAIN_HASH_LEN])
{
	*ret_seq = log->chain.seq;
	memcpy(ret_head, log->chain.head, LDM_CHAIN_HASH_LEN);
}

int
ldm_eventlog_reopen(struct ldm_eventlog *log)
{
	int fd = open_file(log->path);

	if (fd < 0) {
		log->failures++;
		return fd;
	}
	/* The head outlives the rotated file: a restart before the next record continues. */
	if (save_head(log) < 0)
		log->failures++;
	(void)close(log->fd);
	log->fd = fd;
	return 0;
}

uint64_t
ldm_eventlog_failures(const struct ldm_eventlog *log)
{
	return log != NULL ? log->failures : 0;
}
