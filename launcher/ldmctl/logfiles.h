/*
 * The event log as a sequence of files: the rotated files of a log path (PATH.N and
 * PATH.N.gz, the highest N, the oldest, first) and then PATH itself, or the files named on
 * the command line ("-" is standard input). Compressed files are read through zlib, which
 * reads plain files as they are. Lines are bounded by LDM_LOG_LINE_MAX: a longer one is
 * handed over once, flagged, and skipped to its end.
 */
#ifndef LDMCTL_LOGFILES_H
#define LDMCTL_LOGFILES_H

#include <stdbool.h>
#include <stddef.h>

#define LDMCTL_LOG_DEFAULT   "/var/log/ldm/events.jsonl"
#define LDMCTL_LOG_MAX_FILES 1024

struct ldmctl_logfiles {
	char *paths[LDMCTL_LOG_MAX_FILES];
	size_t n;
};

/* The rotated files of LOG, oldest first, then LOG. Returns 0 or -ENOMEM. */
int ldmctl_logfiles_default(struct ldmctl_logfiles *f, const char *log);
/* Adds PATH at the end. Returns 0, -E2BIG or -ENOMEM. */
int ldmctl_logfiles_add(struct ldmctl_logfiles *f, const char *path);
void ldmctl_logfiles_clear(struct ldmctl_logfiles *f);

/*
 * Calls LINE_CB for every line of every file in order: the file's name as given, the line
 * number, the line without its "\n" and whether it was too long to be a record (then LINE
 * holds its start only). A file that cannot be opened or read is reported on stderr (as
 * "ldmctl: CMD: FILE: why") and the others are still read. Returns 0, or -EIO if a file
 * could not be read whole.
 */
typedef void (*ldmctl_line_cb)(void *u, const char *file, unsigned long lineno, const char *line,
                               size_t len, bool too_long);
int ldmctl_logfiles_read(const struct ldmctl_logfiles *f, const char *cmd, ldmctl_line_cb cb,
                         void *u);

/* The rotation number of NAME if it is BASE.N or BASE.N.gz (N 1..100000), else 0. Pure. */
unsigned long ldmctl_log_rotation(const char *name, const char *base);

#endif
