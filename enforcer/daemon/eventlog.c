/*
 * The daemon's event log edge: the file, syslog, stderr. Trust: the records are built by the
 * daemon, but their strings may come from the app; the formatters in event.c escape them.
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

#include "eventlog.h"
#include "ldm/util.h"

struct ldm_eventlog {
	char *path;
	int fd;
	unsigned flags;
	bool syslog_open;
	uint64_t failures;
	char line[LDM_EVENT_LINE_MAX];
};

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

/* Opens PATH for appending; refuses symlinks, FIFOs, sockets and directories. */
static int
open_file(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = make_parent(path);

	if (r < 0)
		return r;
	fd = open(path,
	          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
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
	if (!(flags & LDM_EVENTLOG_NO_SYSLOG)) {
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

/* The text line to syslog and stderr; both are best effort and not counted. */
static void
write_text(struct ldm_eventlog *log, const struct ldm_event *e)
{
	int n = ldm_event_text(e, log->line, sizeof(log->line) - 1);

	if (n < 0)
		return;
	if (!(log->flags & LDM_EVENTLOG_NO_SYSLOG))
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
	n = ldm_event_json(e, log->line, sizeof(log->line));
	if (n >= 0)
		n = write_line(log->fd, log->line, (size_t)n);
	if (n < 0)
		log->failures++;
	write_text(log, e);
	return n < 0 ? n : 0;
}

int
ldm_eventlog_reopen(struct ldm_eventlog *log)
{
	int fd = open_file(log->path);

	if (fd < 0) {
		log->failures++;
		return fd;
	}
	(void)close(log->fd);
	log->fd = fd;
	return 0;
}

uint64_t
ldm_eventlog_failures(const struct ldm_eventlog *log)
{
	return log != NULL ? log->failures : 0;
}
