/*
 * The write scope's pure parts: the `write` setting (errors with their line, union across
 * includes, the default scope, `write = []`), path containment and normalization, the
 * lookup `ldmctl explain` uses, the launcher's ABI limit (the test hook may only lower),
 * which sockets ldm-run accepts on fds 0-2, and the supervisor's in-scope test.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common/seccomp.h"
#include "ldm/control.h"
#include "ldm/policy.h"
#include "ldm/util.h"
#include "ldm/writescope.h"
#include "run/run.h"

static char tmpdir[] = "/tmp/ldm-writescope-test.XXXXXX";

static void
put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
load(const char *name, struct ldm_policy **ret, struct ldm_diags *d)
{
	const char *dirs[] = { tmpdir };
	struct ldm_load_opts o = { .dirs = dirs, .n_dirs = 1 };
	char p[256];

	snprintf(p, sizeof(p), "%s/%s.conf", tmpdir, name);
	return ldm_policy_load_path(p, &o, ret, d);
}

/* The write items of P, as "a|b|c", with a '*' before default ones. */
static void
items_text(const struct ldm_policy *p, char *buf, size_t size)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_items; i++) {
		if (p->items[i].kind != LDM_ITEM_WRITE)
			continue;
		at += (size_t)snprintf(buf + at, size - at, "%s%s%s", at > 0 ? "|" : "",
		                       (p->items[i].flags & LDM_ITEM_WRITE_F_DEFAULT) ? "*" : "",
		                       p->items[i].value);
	}
}

static void
test_loader(void **state)
{
	static const struct {
		const char *name, *want;
	} ok[] = {
		{ "none", "*/tmp|*/var/tmp|*/dev/shm" },
		{ "empty", "" },
		{ "top", "%h/.config/QGroundControl.org|/tmp|%h/Documents/QGroundControl" },
		{ "twice", "/tmp|%c/logs|%t/q" },
	};
	char buf[1024];

	(void)state;
	put("none.conf", "description = \"no write\";\n");
	put("empty.conf", "write = [];\n");
	put("part.conf", "write = [ \"%h/Documents/QGroundControl\", \"/tmp\" ];\n");
	put("top.conf", "include = [ \"part\" ];\n"
	                "write = [ \"%h/.config/QGroundControl.org\", \"/tmp\" ];\n");
	/* An include that sets no `write` adds nothing, and takes nothing away. */
	put("twice.conf",
	    "include = [ \"none\" ];\nwrite = [ \"/tmp\", \"%c/logs\", \"%t/q\" ];\n");
	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
		_cleanup_(ldm_diags_clear) struct ldm_diags d = { 0 };

		assert_int_equal(load(ok[i].name, &p, &d), 0);
		items_text(p, buf, sizeof(buf));
		assert_string_equal(buf, ok[i].want);
	}
}

static void
test_loader_errors(void **state)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	_cleanup_(ldm_diags_clear) struct ldm_diags d = { 0 };

	(void)state;
	put("bad.conf", "description = \"x\";\n"
	                "write = \"/tmp\";\n"
	                "\n");
	assert_int_equal(load("bad", &p, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "write: must be a list"));
	ldm_diags_clear(&d);
	put("bad2.conf", "write = [\n \"/ok\",\n \"%h/../x\" ];\n");
	assert_int_equal(load("bad2", &p, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "\"..\""));
}

static void
test_below(void **state)
{
	(void)state;
	assert_true(ldm_path_below("/tmp", "/tmp"));
	assert_true(ldm_path_below("/tmp", "/tmp/a/b"));
	assert_true(ldm_path_below("/tmp/", "/tmp//a"));
	assert_true(ldm_path_below("/", "/etc/passwd"));
	assert_false(ldm_path_below("/tmp", "/tmpx"));
	assert_false(ldm_path_below("/tmp", "/"));
	assert_false(ldm_path_below("/home/u/.config/Q", "/home/u/.config/Qx/a"));
	assert_false(ldm_path_below("/home/u/.config/Q", "/home/u/.bashrc"));
}

static void
test_normalize(void **state)
{
	static const char *const cases[][2] = {
		{ "/", "/" },
		{ "/tmp/", "/tmp" },
		{ "//tmp///a/./b", "/tmp/a/b" },
		{ "/a/b/../c", "/a/c" },
		{ "/../../etc", "/etc" },
		{ "/home/u/Documents/QGroundControl/../../.profile", "/home/u/.profile" },
		{ "/a/..", "/" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(ldm_path_normalize(cases[i][0], buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i][1]);
	}
	assert_int_equal(ldm_path_normalize("rel", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ldm_path_normalize("/aaaaaaaaaa/bbbbbbbbbb", buf, 8), -ENAMETOOLONG);
}

static void
test_lookup(void **state)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	_cleanup_(ldm_diags_clear) struct ldm_diags d = { 0 };
	struct ldm_path_vars v = { .home = "/home/u", .cwd = "/work" };
	char buf[256];

	(void)state;
	put("lk.conf", "write = [ \"%t/q\", \"%h/.config/Q\", \"%c\" ];\n");
	assert_int_equal(load("lk", &p, &d), 0);
	/* %t unknown: that entry is skipped, the others still match. */
	assert_int_equal(ldm_write_lookup(p, &v, "/home/u/.config/Q/a.ini", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/home/u/.config/Q");
	assert_int_equal(ldm_write_lookup(p, &v, "/work/out/x", buf, sizeof(buf)), 2);
	assert_int_equal(ldm_write_lookup(p, &v, "/home/u/.bashrc", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ldm_write_lookup(p, &v, "/run/user/1/q/s", buf, sizeof(buf)), -ENOENT);
	v.runtime = "/run/user/1";
	assert_int_equal(ldm_write_lookup(p, &v, "/run/user/1/q/s", buf, sizeof(buf)), 0);
}

static void
test_abi_limit(void **state)
{
	(void)state;
	assert_int_equal(ldm_run_landlock_abi_limit(7, NULL), 7);
	assert_int_equal(ldm_run_landlock_abi_limit(7, ""), 7);
	assert_int_equal(ldm_run_landlock_abi_limit(7, "2"), 2);
	assert_int_equal(ldm_run_landlock_abi_limit(7, "0"), 0);
	assert_int_equal(ldm_run_landlock_abi_limit(2, "7"), 2); /* never raises */
	assert_int_equal(ldm_run_landlock_abi_limit(-38, "7"), -38);
	assert_int_equal(ldm_run_landlock_abi_limit(7, "-1"), -EINVAL);
	assert_int_equal(ldm_run_landlock_abi_limit(7, "2x"), -EINVAL);
	assert_int_equal(ldm_run_landlock_abi_limit(7, "99999999999999999999"), -EINVAL);
}

static void
test_stdio_sockets(void **state)
{
	char why[512];
	int sv[2], saved;

	(void)state;
	assert_true(ldm_run_stdio_socket_ok(AF_UNIX, SOCK_STREAM, "/run/systemd/journal/stdout"));
	assert_false(ldm_run_stdio_socket_ok(AF_UNIX, SOCK_DGRAM, "/run/systemd/journal/stdout"));
	assert_false(ldm_run_stdio_socket_ok(AF_UNIX, SOCK_STREAM, "/tmp/journal/stdout"));
	assert_false(ldm_run_stdio_socket_ok(AF_UNIX, SOCK_STREAM, ""));
	assert_false(ldm_run_stdio_socket_ok(AF_INET, SOCK_STREAM, "/run/systemd/journal/stdout"));
	/* A live socketpair on stdin is refused, named. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	saved = dup(0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(sv[0], 0), 0);
	assert_int_equal(ldm_run_check_stdio(why, sizeof(why)), -EPERM);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	close(sv[0]);
	close(sv[1]);
	assert_non_null(strstr(why, "stdin (fd 0)"));
	assert_non_null(strstr(why, "AF_UNIX"));
}

static void
test_in_scope(void **state)
{
	const char *const scope[] = { "/tmp", "/home/u/.config/Q" };

	(void)state;
	assert_true(ldm_run_write_in_scope(scope, 2, "/tmp/a", false));
	assert_true(ldm_run_write_in_scope(scope, 2, "/home/u/.config/Q/x.ini", false));
	assert_false(ldm_run_write_in_scope(scope, 2, "/home/u/.bashrc", false));
	assert_false(ldm_run_write_in_scope(scope, 2, "/dev/null", false));
	assert_true(ldm_run_write_in_scope(scope, 2, "/dev/null", true));
	assert_false(ldm_run_write_in_scope(scope, 0, "/tmp/a", false));
}

/*
 * The filter's write rules: a child loads the filter, opens a file for reading, then one
 * for writing. The first notification the parent gets must be the write: the read never
 * left the kernel. Every notification is let run (CONTINUE), as the supervisor does.
 */
static void
test_write_notify(void **state)
{
	struct ldm_seccomp_opts o = { .families = UINT64_C(1) << AF_UNIX,
		                      .notify = true,
		                      .notify_writes = true };
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	char path[64];
	int sv[2], nfd, status, seen = 0, first_flags = -1;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/w", tmpdir);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ldm_seccomp_load(&o, &nfd) < 0 ||
		    ldm_seccomp_send_fd(sv[1], nfd) < 0)
			_exit(10);
		close(nfd);
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		close(fd);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(12);
		close(fd);
		_exit(unlink(path) == 0 ? 0 : 13);
	}
	close(sv[1]);
	nfd = ldm_seccomp_recv_fd(sv[0]);
	close(sv[0]);
	assert_true(nfd >= 0);
	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
	for (;;) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN))
			break; /* the child is gone (POLLHUP), or stuck: judged below */
		memset(req, 0, sizeof(*req));
		if (seccomp_notify_receive(nfd, req) < 0)
			continue;
		assert_non_null(ldm_seccomp_write_call(req->data.nr));
		if (seen++ == 0 && req->data.nr == SCMP_SYS(openat))
			first_flags = (int)req->data.args[2];
		assert_int_equal(ldm_seccomp_notify_continue(nfd, req, resp), 0);
	}
	seccomp_notify_free(req, resp);
	close(nfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(seen, 2); /* the open for writing, the unlink */
	assert_true(first_flags >= 0 && (first_flags & O_WRONLY) != 0);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_entry(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return unlink(p);
}

static int
teardown(void **state)
{
	static const char *const files[] = { "none.conf",  "empty.conf", "part.conf", "top.conf",
		                             "twice.conf", "bad.conf",   "bad2.conf", "lk.conf" };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		(void)remove_entry(tmpdir, files[i]);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader),        cmocka_unit_test(test_loader_errors),
		cmocka_unit_test(test_below),         cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_lookup),        cmocka_unit_test(test_abi_limit),
		cmocka_unit_test(test_stdio_sockets), cmocka_unit_test(test_in_scope),
		cmocka_unit_test(test_write_notify),
	};

	return cmocka_run_group_tests_name("writescope", tests, setup, teardown);
}
