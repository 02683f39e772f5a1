/* sd_notify without libsystemd: the datagram a service manager receives, on a path and an
 * abstract name, and the refused forms of $NOTIFY_SOCKET. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"

/* A datagram socket bound to NAME (a path, or "@name" for an abstract one). */
static int
listener(const char *name, socklen_t *ret_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, *ret_len), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_int_equal(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_path(void **state)
{
	char path[64];
	socklen_t len;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_notify.%d", (int)getpid());
	(void)unlink(path);
	fd = listener(path, &len);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(ldm_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(ldm_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	/* Nobody listening any more: the error comes back, nothing is sent. */
	assert_int_equal(ldm_notify("READY=1"), -ECONNREFUSED);
	(void)unlink(path);
	assert_int_equal(ldm_notify("READY=1"), -ENOENT);
}

static void
test_abstract(void **state)
{
	char name[64];
	socklen_t len;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@test_notify.%d", (int)getpid());
	fd = listener(name, &len);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(ldm_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
}

static void
test_unset_and_refused(void **state)
{
	char longname[200];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(ldm_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(ldm_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(ldm_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(ldm_notify("READY=1"), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(ldm_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_abstract),
		cmocka_unit_test(test_unset_and_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
