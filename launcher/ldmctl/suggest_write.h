/*
 * ldmctl suggest's write scope: the paths a session wrote outside its write scope (its
 * `syscall_denied` records with a path, errno EACCES) become the entries of a drafted
 * `write` list, one per directory, or are listed as not suggested with the reason.
 *
 * Trust: the paths come from the log, and the log's from the app; only absolute,
 * normalized paths of printable ASCII without '"' and '\' are taken (others are counted as
 * skipped), so nothing read can end a libconfig string or comment.
 */
#ifndef LDMCTL_SUGGEST_WRITE_H
#define LDMCTL_SUGGEST_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ldm/event.h"

/* What becomes of a path written outside the scope (ldmctl_suggest_write_entry). */
enum ldmctl_write_class {
	LDMCTL_WRITE_SUGGEST = 0, /* the entry is suggested */
	LDMCTL_WRITE_DEFAULT,     /* inside the default scope: nothing to add */
	LDMCTL_WRITE_HOOK,        /* a shell start file, autostart, user unit, ...: never */
	LDMCTL_WRITE_TOO_WIDE, /* its entry would be /, the home directory or above, or hold a hook */
	LDMCTL_WRITE_HOME_UNKNOWN, /* no home directory to judge it by */
};

/*
 * Judges PATH, which the app wrote (MADE_DIR: made as a directory by mkdir), for a session
 * whose user's home directory is HOME (NULL: unknown). The entry is PATH itself for a
 * directory made or a file directly in HOME, else PATH's directory; it is written into BUF
 * as a path pattern (%h for HOME, '%' as "%%"), also when it is not suggested (then
 * literally, without %h). Returns the class, -EINVAL for a path that is not absolute,
 * normalized and printable ASCII without '"' and '\', or -ENAMETOOLONG.
 */
int ldmctl_suggest_write_entry(const char *path, bool made_dir, const char *home, char *buf,
                               size_t size);

struct ldmctl_written; /* a path written, its call and count */

struct ldmctl_suggest_writes {
	struct ldmctl_written *v;
	size_t n;
	uint64_t skipped; /* records whose path could not be taken */
};

/* Takes E if it is a write refused outside the scope (a syscall_denied with a path, EACCES). */
void ldmctl_suggest_write_take(struct ldmctl_suggest_writes *w, const struct ldm_event *e);

/* Prints the `write` list and the comment blocks of the paths not suggested to F. */
void ldmctl_suggest_write_print(const struct ldmctl_suggest_writes *w, const char *home, FILE *f);

void ldmctl_suggest_write_clear(struct ldmctl_suggest_writes *w);

#endif
