/*
 * The saved state of live sessions (session_save.c): one small file per session in the state
 * directory (sessions/<id>: key=value lines), written when a session is in force and removed
 * when it ends, so that a restarted daemon takes the session up again (session.c).
 *
 * Trust: the files are root's, but some values are the requester's words (the app path, the
 * user name): they are written so that they cannot add a line, and a file read back that has
 * a key twice or one that is not known is refused.
 */
#ifndef LDM_DAEMON_SESSION_SAVE_H
#define LDM_DAEMON_SESSION_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct ldm_saved {
	uint64_t id;
	uint32_t slot, uid, audit;
	int32_t pid;
	int64_t started;
	char name[64], policy[LDM_CTL_NAME_MAX], user[33], app[LDM_CTL_PATH_MAX];
	/* ldm-run's word for session_start, kept for the one a restarted daemon writes */
	char exe_sha256[LDM_EVENT_SHA256_LEN + 1];
	uint32_t landlock_abi, seccomp_notify;
};

/* The longest file text: the app path and the rest. */
#define LDM_SESSION_SAVE_MAX (LDM_CTL_PATH_MAX + 1024)

/* The file's text for S into BUF. 0 or -ENAMETOOLONG. */
int ldm_session_save_format(const struct session *s, char *buf, size_t size);
/* Parses TEXT (changed: split in place) into *V. 0 or -EINVAL. */
int ldm_session_save_parse(char *text, struct ldm_saved *v);

/* Writes S's file; removes it (and S's counters file). 0 or -errno. */
int ldm_session_save_write(const struct daemon *d, const struct session *s);
void ldm_session_save_forget(const struct daemon *d, const struct session *s);
/* The directory of the files (made if missing), opened: an fd or -errno. */
int ldm_session_save_dir(const struct daemon *d);
/* Reads file FILE of directory DIRFD into *V. 0 or -errno. */
int ldm_session_save_read(int dirfd, const char *file, struct ldm_saved *v);

#endif
