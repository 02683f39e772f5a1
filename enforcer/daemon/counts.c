/*
 * A session's counters, kept where a daemon killed with SIGKILL cannot lose them: a small
 * file per session in the state directory (sessions/<id>.counts), mapped shared, so each
 * update is a store into the page cache that outlives the process. No syscall per blocked
 * packet, no fsync: the state directory is /run (sessions do not outlive a reboot).
 *
 * Besides what session_end reports (blocked, would_block, syscalls_denied, escapes), the
 * file keeps how many of the blocked and would-block attempts were written to the log. The
 * difference is what log folding still held (repeats of a record, written up to a second
 * later) when the daemon died; the next daemon writes it as one record, so that the records
 * of a session always add up to its counts.
 *
 * Trust: the files are the daemon's own (state directory, 0700, root); they are read with
 * an exact size and a magic, and a file that does not match is started afresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "session_table.h"
#include "ldm/util.h"

#define COUNTS_MAGIC "LDMCNT1"

struct ldm_session_counts {
	char magic[8];
	uint64_t id;
	uint64_t blocked, would_block, syscalls_denied, escapes;
	uint64_t blocked_written, would_block_written;
};

static int
counts_path(const struct daemon *d, uint64_t id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/sessions/%llu.counts", d->cfg.state_dir,
	                 (unsigned long long)id);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Logs what folding held when the last daemon died: count = held, one record per type. */
static void
log_held(struct daemon *d, struct session *s, enum ldm_event_type type, uint64_t held)
{
	struct ldm_event e;

	if (held == 0)
		return;
	ldm_event_init(&e, type, NULL);
	ldm_session_table_fill_event(s, &e);
	e.count = held;
	e.reason = "repeats of the records before, counted but not yet written when the "
	           "daemon stopped";
	ldm_record_log(d, &e);
}

static void
restore_values(struct daemon *d, struct session *s, const struct ldm_session_counts *c)
{
	uint64_t held_b = c->blocked > c->blocked_written ? c->blocked - c->blocked_written : 0;
	uint64_t held_w = c->would_block > c->would_block_written
	                          ? c->would_block - c->would_block_written
	                          : 0;

	s->blocked = c->blocked;
	s->would_block = c->would_block;
	s->syscalls_denied = c->syscalls_denied;
	s->escapes = c->escapes;
	log_held(d, s, LDM_EVENT_BLOCKED, held_b);
	log_held(d, s, LDM_EVENT_WOULD_BLOCK, held_w);
}

int
ldm_counts_open(struct daemon *d, struct session *s, bool restore)
{
	char path[4200];
	_cleanup_close_ int fd = -1;
	struct ldm_session_counts *c;
	struct stat st;
	bool fresh;
	int r = counts_path(d, s->id, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fresh = !restore || st.st_size != (off_t)sizeof(*c);
	if (fresh && (ftruncate(fd, 0) < 0 || ftruncate(fd, sizeof(*c)) < 0))
		return -errno;
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	if (!fresh && (memcmp(c->magic, COUNTS_MAGIC, sizeof(c->magic)) != 0 || c->id != s->id))
		fresh = true;
	if (fresh) {
		memset(c, 0, sizeof(*c));
		memcpy(c->magic, COUNTS_MAGIC, sizeof(c->magic));
		c->id = s->id;
	}
	s->counts = c;
	if (!fresh)
		restore_values(d, s, c);
	ldm_counts_sync(s);
	return 0;
}

void
ldm_counts_close(struct session *s)
{
	if (s->counts != NULL)
		(void)munmap(s->counts, sizeof(*s->counts));
	s->counts = NULL;
}

void
ldm_counts_remove(const struct daemon *d, const struct session *s)
{
	char path[4200];

	if (counts_path(d, s->id, path, sizeof(path)) == 0)
		(void)unlink(path);
}

void
ldm_counts_sync(struct session *s)
{
	struct ldm_session_counts *c = s->counts;

	if (c == NULL)
		return;
	c->blocked = s->blocked;
	c->would_block = s->would_block;
	c->syscalls_denied = s->syscalls_denied;
	c->escapes = s->escapes;
}

void
ldm_counts_written(struct daemon *d, const struct ldm_event *e)
{
	struct session *s;
	uint64_t n = e->count > 0 ? e->count : 1;

	if (e->session == 0 || (e->event != LDM_EVENT_BLOCKED && e->event != LDM_EVENT_WOULD_BLOCK))
		return;
	s = ldm_session_table_by_id(d, e->session);
	if (s == NULL || s->counts == NULL)
		return;
	if (e->event == LDM_EVENT_BLOCKED)
		s->counts->blocked_written += n;
	else
		s->counts->would_block_written += n;
}

void
ldm_session_count_dropped(struct daemon *d, struct session *s, uint64_t n, const char *reason)
{
	struct ldm_event e;

	if (n == 0)
		return;
	s->blocked += n;
	ldm_event_init(&e, LDM_EVENT_BLOCKED, NULL);
	ldm_session_table_fill_event(s, &e);
	e.count = n;
	e.reason = reason;
	ldm_record_log(d, &e);
}
