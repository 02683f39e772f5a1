/* ldmctl suggest's write entries: what a path written outside the scope becomes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ldm/util.h"
#include "ldmctl/suggest_write.h"

#define H "/home/pilot"

static void
test_write_entry(void **state)
{
	static const struct {
		const char *path;
		bool made_dir;
		const char *home;
		int rc;
		const char *entry;
	} cases[] = {
		{ H "/.config/QGC/QGC.ini", false, H, LDMCTL_WRITE_SUGGEST, "%h/.config/QGC" },
		{ H "/Documents/QGC", true, H, LDMCTL_WRITE_SUGGEST, "%h/Documents/QGC" },
		{ H "/.qgc_history", false, H, LDMCTL_WRITE_SUGGEST, "%h/.qgc_history" },
		{ H "/d/odd%name", false, H, LDMCTL_WRITE_SUGGEST, "%h/d" },
		{ H "/odd%dir/x", false, H, LDMCTL_WRITE_SUGGEST, "%h/odd%%dir" },
		{ "/srv/qgc/a.tlog", false, H, LDMCTL_WRITE_SUGGEST, "/srv/qgc" },
		{ "/srv/qgc/a.tlog", false, NULL, LDMCTL_WRITE_HOME_UNKNOWN, "/srv/qgc" },
		{ "/tmp/x", false, NULL, LDMCTL_WRITE_DEFAULT, "/tmp" },
		{ "/dev/shm/a/b", false, H, LDMCTL_WRITE_DEFAULT, "/dev/shm/a" },
		/* Never: shell start files, autostart, units, menu entries, keys. */
		{ H "/.bashrc", false, H, LDMCTL_WRITE_HOOK, H "/.bashrc" },
		{ H "/.profile", false, H, LDMCTL_WRITE_HOOK, H "/.profile" },
		{ H "/.config/autostart/x.desktop", false, H, LDMCTL_WRITE_HOOK,
		  H "/.config/autostart" },
		{ H "/.config/systemd/user", true, H, LDMCTL_WRITE_HOOK,
		  H "/.config/systemd/user" },
		{ H "/.local/share/applications/q.desktop", false, H, LDMCTL_WRITE_HOOK,
		  H "/.local/share/applications" },
		{ H "/.ssh/authorized_keys", false, H, LDMCTL_WRITE_HOOK, H "/.ssh" },
		/* Too wide: /, the home directory, above it, or holding a hook. */
		{ "/evil", false, H, LDMCTL_WRITE_TOO_WIDE, "/" },
		{ H, true, H, LDMCTL_WRITE_TOO_WIDE, H },
		{ "/home/other.txt", false, H, LDMCTL_WRITE_TOO_WIDE, "/home" },
		{ H "/.config/x.conf", false, H, LDMCTL_WRITE_TOO_WIDE, H "/.config" },
		{ H "/.local", true, H, LDMCTL_WRITE_TOO_WIDE, H "/.local" },
		{ H "/.bashrcx", false, H, LDMCTL_WRITE_SUGGEST, "%h/.bashrcx" },
		/* Not a path a pattern can hold. */
		{ "relative/x", false, H, -EINVAL },
		{ "/a/../b", false, H, -EINVAL },
		{ "/a//b", false, H, -EINVAL },
		{ "/a/b/", false, H, -EINVAL },
		{ "/a/\"b", false, H, -EINVAL },
		{ "/a/\\b", false, H, -EINVAL },
		{ "/a/\nb", false, H, -EINVAL },
		{ "/a/\xffz", false, H, -EINVAL },
		{ "/srv/x", false, "home", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[256] = "untouched";
		int rc = ldmctl_suggest_write_entry(cases[i].path, cases[i].made_dir, cases[i].home,
		                                    buf, sizeof(buf));

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].path, rc, cases[i].rc);
		if (rc >= 0 && strcmp(buf, cases[i].entry) != 0)
			fail_msg("'%s': entry '%s', want '%s'", cases[i].path, buf, cases[i].entry);
		if (rc < 0)
			assert_string_equal(buf, "untouched");
	}
}

static void
test_write_entry_too_long(void **state)
{
	char buf[16] = "untouched";

	(void)state;
	assert_int_equal(ldmctl_suggest_write_entry("/srv/qgc/a", false, H, buf, 8), -ENAMETOOLONG);
	assert_string_equal(buf, "untouched");
	assert_int_equal(ldmctl_suggest_write_entry("/srv/qgc/a", false, H, buf, 9),
	                 LDMCTL_WRITE_SUGGEST);
	assert_string_equal(buf, "/srv/qgc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_entry),
		cmocka_unit_test(test_write_entry_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
