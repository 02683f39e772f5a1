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

/* Takes up C's values; HELD gets what folding held, not yet written, when the last daemon
 * died (blocked, would_block). */
static void
restore_values(struct session *s, const struct ldm_session_counts *c, uint64_t held[2])
{
	uint64_t held_b = c->blocked > c->blocked_written ? c->blocked - c->blocked_written : 0;
	uint64_t held_w = c->would_block > c->would_block_written
	                          ? c->would_block - c->would_block_written
	                          : 0;

	s->blocked = c->blocked;
	s->would_block = c->would_block;
	s->syscalls_denied = c->syscalls_denied;
	s->escapes = c->escapes;
	held[0] = held_b;
	held[1] = held_w;
}

int
ldm_counts_open(const struct daemon *d, struct session *s, bool restore, uint64_t held[2])
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
	held[0] = held[1] = 0;
	if (!fresh)
		restore_values(s, c, held);
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
