/*
 * ldm-run: runs a program in an ldm-enforcer session. The steps, in the order
 * docs/session.md gives; each lives in its own module (run.h). Any failure before the
 * program starts: a one-line reason on stderr and exit 125.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/client.h"
#include "ldm/control.h"
#include "ldm/display.h"
#include "ldm/util.h"
#include "run/notify.h"
#include "run/run.h"

/* fds 0-2 open, so that no descriptor of ours is mistaken for stdio (or closed with it). */
static int
ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -EBADF;
	}
	return 0;
}

/* Says so on stderr when the policy lets the program reach an X display (a loud choice). */
static void
warn_x11(const struct ldm_run_items *items)
{
	for (size_t i = 0; i < items->n; i++) {
		const struct ldm_run_item *it = &items->v[i];

		if (it->kind == LDM_ITEM_UNIX && (it->flags & LDM_ITEM_UNIX_ALLOW) != 0 &&
		    ldm_unix_target_is_x11(it->value)) {
			fprintf(stderr,
			        "ldm-run: warning: the policy lets the program reach the X "
			        "display (%.200s): X11 lets it read the screen and type into "
			        "every other window of that display\n",
			        it->value);
			return;
		}
	}
}

static int
find_program(const char *name, char *buf, size_t size)
{
	int r = ldm_run_find_program(name, getenv("PATH"), buf, size);

	if (r == 0)
		return 0;
	fprintf(stderr, "ldm-run: %s: %s\n", name, strerror(-r));
	return r == -ENOENT ? LDM_RUN_EXIT_NOT_FOUND : LDM_RUN_EXIT_CANNOT_EXEC;
}

/* Settles --notify, --no-notify or neither (notify.h) to ON or OFF. */
static void
settle_notify(struct ldm_run_opts *o)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");

	o->notify_loud = o->notify == LDM_RUN_NOTIFY_ON || (addr != NULL && addr[0] != '\0');
	o->notify = ldm_run_notify_wanted(o->notify, isatty(STDIN_FILENO) == 1,
	                                  isatty(STDERR_FILENO) == 1)
	                    ? LDM_RUN_NOTIFY_ON
	                    : LDM_RUN_NOTIFY_OFF;
}

/*
 * The program's file, hashed from the descriptor that will be executed (exehash.c), and
 * the Landlock ABI in force: what the session request tells the daemon for session_start.
 * Returns 0, or ldm-run's exit code after saying why.
 */
static int
hash_program(const char *path, char *sha256, int *ret_fd, bool *ret_script, int *ret_abi)
{
	int fd = ldm_run_exe_hash(path, sha256, ret_script);

	if (fd < 0) {
		fprintf(stderr, "ldm-run: %s: cannot read it to hash it: %s\n", path,
		        strerror(-fd));
		return fd == -ENOENT ? LDM_RUN_EXIT_NOT_FOUND : LDM_RUN_EXIT_CANNOT_EXEC;
	}
	*ret_fd = fd;
	*ret_abi = ldm_run_write_scope_abi();
	return *ret_abi < 0 ? LDM_RUN_EXIT_FAIL : 0;
}

/*
 * The steps before the program: the session, its cgroup, the AppImage, the write scope.
 * Returns 0 with PATH the program to run, or ldm-run's exit code after saying why.
 */
static int
prepare(const struct ldm_run_opts *o, char *path, size_t size, const char *socket,
        struct ldm_msg_session_ready *ready, struct ldm_run_items *items)
{
	char why[512], hashed[PATH_MAX], exe_sha256[65];
	int r = ldm_run_check_privileges(why, sizeof(why)), landlock_abi = 0, exe_fd = -1;
	bool script = false;

	if (r < 0) {
		fprintf(stderr, "ldm-run: %s\n",
		        r == -EPERM ? why : "cannot read this process's capabilities");
		return LDM_RUN_EXIT_FAIL;
	}
	r = ldm_run_check_stdio(why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "ldm-run: %s; the program was not started\n", why);
		return LDM_RUN_EXIT_FAIL;
	}
	r = find_program(o->argv[0], path, size);
	if (r != 0)
		return r;
	r = hash_program(path, exe_sha256, &exe_fd, &script, &landlock_abi);
	if (r != 0)
		return r;
	(void)ldm_strscpy(hashed, sizeof(hashed), path);
	if (ldm_run_session_request(socket, o, path, exe_sha256, (uint32_t)landlock_abi, ready,
	                            items) < 0)
		return LDM_RUN_EXIT_FAIL;
	if (ldm_run_session_check_cgroup(ready) < 0)
		return LDM_RUN_EXIT_FAIL;
	/* Inside the session already: the extraction's own traffic (none) would be judged. */
	if (ldm_run_appimage_prepare(exe_fd, path, size, o->argv[0]) < 0)
		return LDM_RUN_EXIT_FAIL;
	if (ldm_run_write_scope_prepare(items) < 0)
		return LDM_RUN_EXIT_FAIL;
	/* The inode hashed is the one executed; a script runs by its path, checked to be
	 * still the hashed inode (its interpreter reopens it by name); an AppImage's AppRun
	 * is not the hashed file (exehash.c). */
	if (strcmp(path, hashed) == 0)
		ldm_run_exec_fd_set(exe_fd, script || !ldm_run_exec_by_fd_ok());
	return 0;
}

int
main(int argc, char **argv)
{
	static struct ldm_msg_session_ready ready;
	static struct ldm_run_items items;
	struct ldm_run_opts o;
	char path[PATH_MAX];
	const char *socket;
	int r;

	if (ensure_stdio() < 0)
		return LDM_RUN_EXIT_FAIL;
	r = ldm_run_parse_options(argc, argv, &o, stdout, stderr);
	if (r != 0)
		return r > 0 ? 0 : LDM_RUN_EXIT_FAIL;
	settle_notify(&o);
	socket = ldm_client_socket_path(o.socket);
	if (o.notify == LDM_RUN_NOTIFY_ON)
		ldm_run_notify_tee_start();
	r = prepare(&o, path, sizeof(path), socket, &ready, &items);
	ldm_run_notify_tee_stop();
	if (r != 0) {
		/* A menu entry has no terminal: the pilot would see nothing happen. */
		if (o.notify == LDM_RUN_NOTIFY_ON)
			ldm_run_notify_failed(o.argv[0], ldm_run_notify_last_said(), o.notify_loud);
		return r;
	}
	if (!o.quiet)
		warn_x11(&items);
	return ldm_run_keep(&o, socket, &ready, &items, path);
}
