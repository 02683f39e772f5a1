/* The daemon's event log: lines read back, the directory made, refusals, failures, reopen. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/eventlog.h"
#include "ldm/event.h"
#include "ldm/logchain.h"
#include "ldm/util.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	umask(022);
	(void)ldm_strscpy(tmpdir, sizeof(tmpdir), "/tmp/test_eventlog.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
path(char *buf, size_t size, const char *rel)
{
	if (snprintf(buf, size, "%s/%s", tmpdir, rel) >= (int)size)
		fail_msg("path too long");
}

/* Reads FILE and checks that every line is a record ldm_event_parse_json() accepts. */
static size_t
check_lines(const char *file, struct ldm_event_view *last)
{
	static char buf[65536], rec[LDM_EVENT_LINE_MAX];
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
	size_t n = 0, lines = 0;
	ssize_t r;

	assert_true(fd >= 0);
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	assert_true(n < sizeof(buf) - 1);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);

		assert_non_null(nl);
		/* Each line is sealed into the chain, and reads back as the record. */
		r = ldm_chain_unseal(buf + i, (size_t)(nl - buf) + 1 - i, rec, sizeof(rec));
		if (r < 0 || ldm_event_parse_json(buf + i, (size_t)(nl - buf) + 1 - i, last) != 0)
			fail_msg("%s: line %zu does not read back", file, lines + 1);
		i = (size_t)(nl - buf) + 1;
		lines++;
	}
	return lines;
}

static void
blocked(struct ldm_event *e)
{
	ldm_event_init(e, LDM_EVENT_BLOCKED, NULL);
	e->session = 7;
	e->app = "/tmp/evil\napp";
	e->proto = LDM_PROTO_TCP;
	e->dst = (struct ldm_event_addr){ 2, { 198, 51, 100, 7 } };
	e->dport = 443;
	e->reason = "default deny";
}

static void
test_write_read_back(void **state)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;
	char file[128], dir[128];
	struct ldm_event_view v;
	struct ldm_event e;
	struct stat st;

	(void)state;
	path(dir, sizeof(dir), "made");
	path(file, sizeof(file), "made/events.jsonl");
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	blocked(&e);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	ldm_event_init(&e, LDM_EVENT_SESSION_END, &(struct timespec){ 1795572869, 0 });
	e.session = 7;
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	blocked(&e);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(check_lines(file, &v), 3);
	assert_int_equal(ldm_eventlog_failures(log), 0);
	/* The zero time was stamped with the time of writing; the newline stayed escaped. */
	assert_true(v.ev.ts.tv_sec > 1700000000);
	assert_string_equal(v.ev.app, "/tmp/evil\napp");

	/* Appends to what is there. */
	log = ldm_eventlog_close(log);
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(check_lines(file, &v), 4);
}

static void
test_open_refused(void **state)
{
	struct ldm_eventlog *log = (struct ldm_eventlog *)tmpdir;
	char file[128], target[128];
	static const struct {
		const char *rel;
		int rc;
	} cases[] = {
		{ "no/such/events.jsonl", -ENOENT }, /* one level of directory is made, not two */
		{ "link", -ELOOP },
		{ "dir", -EISDIR },
		{ "fifo", -EINVAL }, /* opened read-write (so at once, not hung), then refused */
	};

	(void)state;
	path(target, sizeof(target), "target");
	path(file, sizeof(file), "link");
	assert_int_equal(symlink(target, file), 0);
	path(file, sizeof(file), "dir");
	assert_int_equal(mkdir(file, 0700), 0);
	path(file, sizeof(file), "fifo");
	assert_int_equal(mkfifo(file, 0600), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int rc;

		path(file, sizeof(file), cases[i].rel);
		rc = ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].rel, rc, cases[i].rc);
		assert_ptr_equal(log, (struct ldm_eventlog *)tmpdir);
	}
	assert_int_equal(access(target, F_OK), -1);
}

/* /dev/full opens for appending and fails every write with ENOSPC: counted, returned. */
static void
test_write_failure(void **state)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;
	struct ldm_event e;

	(void)state;
	assert_int_equal(ldm_eventlog_open("/dev/full", LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	blocked(&e);
	assert_int_equal(ldm_eventlog_write(log, &e), -ENOSPC);
	assert_int_equal(ldm_eventlog_write(log, &e), -ENOSPC);
	assert_int_equal(ldm_eventlog_failures(log), 2);
	e.event = (enum ldm_event_type)0; /* cannot be formatted: counted too */
	assert_int_equal(ldm_eventlog_write(log, &e), -EINVAL);
	assert_int_equal(ldm_eventlog_failures(log), 3);
	assert_int_equal(ldm_eventlog_failures(NULL), 0);
	assert_null(ldm_eventlog_close(NULL));
}

/* logrotate: the file is moved away, SIGHUP, new lines go to a new file. */
static void
test_reopen(void **state)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;
	char file[128], old[128], target[128];
	struct ldm_event_view v;
	struct ldm_event e;

	(void)state;
	path(file, sizeof(file), "rot/events.jsonl");
	path(old, sizeof(old), "rot/events.jsonl.1");
	path(target, sizeof(target), "rot/elsewhere");
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	blocked(&e);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(rename(file, old), 0);
	assert_int_equal(ldm_eventlog_write(log, &e), 0); /* still the old file */
	assert_int_equal(ldm_eventlog_reopen(log), 0);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(check_lines(old, &v), 2);
	assert_int_equal(check_lines(file, &v), 1);

	/* A reopen that fails keeps the file in use, and is counted. */
	assert_int_equal(rename(file, old), 0);
	assert_int_equal(symlink(target, file), 0);
	assert_int_equal(ldm_eventlog_reopen(log), -ELOOP);
	assert_int_equal(ldm_eventlog_failures(log), 1);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(check_lines(old, &v), 2);
}

/* Checks the chain over FILES (NULL-terminated) read in order: every link holds. Returns the
 * number of records. */
static size_t
verify_chain(const char *const *files)
{
	static char buf[65536];
	struct ldm_chain c = { 0 };
	size_t records = 0;

	for (; *files != NULL; files++) {
		_cleanup_close_ int fd = open(*files, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		assert_true(n >= 0);
		for (char *p = buf, *nl; p < buf + n; p = nl + 1) {
			enum ldm_chain_result r;

			nl = memchr(p, '\n', (size_t)(buf + n - p));
			assert_non_null(nl);
			r = ldm_chain_check(&c, p, (size_t)(nl - p));
			if (r != (records == 0 ? LDM_CHAIN_FIRST : LDM_CHAIN_OK))
				fail_msg("%s: record %zu: %s", *files, records + 1,
				         ldm_chain_result_text(r));
			records++;
		}
	}
	return records;
}

/* The chain goes on across close and open, a rotation, and a restart on the empty file. */
static void
test_chain(void **state)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;
	char file[128], old[128], head[160];
	struct ldm_event e;
	uint64_t seq;
	uint8_t h[LDM_CHAIN_HASH_LEN];

	(void)state;
	path(file, sizeof(file), "chain/events.jsonl");
	path(old, sizeof(old), "chain/events.jsonl.1");
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_null(ldm_eventlog_chain_note(log));
	blocked(&e);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	log = ldm_eventlog_close(log);
	/* a restart: takes the head from the last line */
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_null(ldm_eventlog_chain_note(log));
	ldm_eventlog_chain_head(log, &seq, h);
	assert_int_equal(seq, 2);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	/* rotation as logrotate does it (create): the next record continues in the new file */
	assert_int_equal(rename(file, old), 0);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0640));
	assert_int_equal(ldm_eventlog_reopen(log), 0);
	log = ldm_eventlog_close(log);
	/* a restart on the empty file: the head file carries the chain */
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_null(ldm_eventlog_chain_note(log));
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	ldm_eventlog_chain_head(log, &seq, h);
	assert_int_equal(seq, 5);
	assert_int_equal(verify_chain((const char *const[]){ old, file, NULL }), 5);

	/* A last line that is not a record starts a new chain, and says why. */
	log = ldm_eventlog_close(log);
	{
		_cleanup_close_ int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "garbage", 7), 7); /* a write cut short */
	}
	assert_int_equal(ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG, &log), 0);
	assert_non_null(ldm_eventlog_chain_note(log));
	ldm_eventlog_chain_head(log, &seq, h);
	assert_int_equal(seq, 0);
	/* the cut line was ended, so the next record stands on a line of its own */
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	(void)snprintf(head, sizeof(head), "%s.chain", file);
	assert_int_equal(access(head, R_OK), 0);
}

/* The text line goes to stderr when asked, one escaped line. */
static void
test_stderr(void **state)
{
	_cleanup_(ldm_eventlog_closep) struct ldm_eventlog *log = NULL;
	_cleanup_close_ int saved = dup(STDERR_FILENO);
	char file[128], errfile[128], buf[512] = { 0 };
	_cleanup_close_ int fd = -1;
	struct ldm_event e;

	(void)state;
	path(file, sizeof(file), "stderr.jsonl");
	path(errfile, sizeof(errfile), "stderr.txt");
	fd = open(errfile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(
	        ldm_eventlog_open(file, LDM_EVENTLOG_NO_SYSLOG | LDM_EVENTLOG_STDERR, &log), 0);
	blocked(&e);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(ldm_eventlog_write(log, &e), 0);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	assert_string_equal(buf, "blocked tcp -> 198.51.100.7:443 session 7 app /tmp/evil\\x0aapp: "
	                         "default deny\n");
}

static void
test_priority(void **state)
{
	static const struct {
		enum ldm_event_type t;
		int prio;
	} cases[] = {
		{ LDM_EVENT_BLOCKED, LOG_WARNING },    { LDM_EVENT_TAMPER, LOG_WARNING },
		{ LDM_EVENT_WOULD_BLOCK, LOG_NOTICE }, { LDM_EVENT_SYSCALL_DENIED, LOG_NOTICE },
		{ LDM_EVENT_SESSION_START, LOG_INFO }, { LDM_EVENT_SESSION_END, LOG_INFO },
		{ LDM_EVENT_ALLOWED, LOG_INFO },       { LDM_EVENT_ERROR, LOG_ERR },
		{ LDM_EVENT_RESOLVED, LOG_INFO },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(ldm_eventlog_priority(cases[i].t), cases[i].prio);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_back), cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_write_failure),   cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_stderr),          cmocka_unit_test(test_priority),
		cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
