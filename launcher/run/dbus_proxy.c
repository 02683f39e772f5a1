/*
 * The D-Bus filter: when the policy names bus names (LDM_ITEM_DBUS items), ldm-run starts
 * one xdg-dbus-proxy before the program, outside its Landlock domain and seccomp filter (the
 * proxy must reach the real bus) but inside the session cgroup, listening on sockets in a
 * private mode-0700 directory; the program's environment points at those sockets. With
 * `--filter` the proxy lets a client see and talk to the bus itself and the names given with
 * `--talk` only, and always refuses UpdateActivationEnvironment and BecomeMonitor.
 *
 * A bus no item names is not proxied: the program's address for it points at a path that
 * cannot exist (LDM_RUN_DBUS_NO_*_BUS_PATH), so its D-Bus library reports the bus unreachable
 * instead of falling back to $XDG_RUNTIME_DIR/bus or X11 autolaunch. The real addresses
 * are not handed to the program in any variable we know of.
 *
 * The proxy lives as long as ldm-run's supervisor: it stops when the sync socket we hold
 * (--fd) closes, and PR_SET_PDEATHSIG kills it if ldm-run is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ldm/control.h"
#include "ldm/dbus.h"
#include "ldm/util.h"
#include "run/run.h"

#define READY_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS  1000

static const char *const bus_socket[2] = { "session-bus", "system-bus" };
static const char *const bus_env[2] = { "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS" };

/* Index 0 (session) or 1 (system) of an item's FLAGS; -1 for anything else. */
static int
bus_index(uint32_t flags)
{
	return flags == LDM_ITEM_DBUS_SESSION ? 0 : flags == LDM_ITEM_DBUS_SYSTEM ? 1 : -1;
}

int
ldm_run_dbus_check_items(const struct ldm_run_items *items, bool need[2], char *why, size_t size)
{
	need[0] = need[1] = false;
	for (size_t i = 0; i < items->n; i++) {
		const struct ldm_run_item *it = &items->v[i];
		const char *reason;
		int b;

		if (it->kind != LDM_ITEM_DBUS)
			continue;
		b = bus_index(it->flags);
		if (b < 0) {
			(void)snprintf(why, size, "a D-Bus item names no bus (flags %#x)",
			               it->flags);
			return -EINVAL;
		}
		if (ldm_dbus_name_check(it->value, &reason) < 0) {
			(void)snprintf(why, size, "D-Bus item '%.255s': %s", it->value, reason);
			return -EINVAL;
		}
		need[b] = true;
	}
	return 0;
}

int
ldm_run_dbus_unix_address(const char *path, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;

	if (ldm_strscpy(buf, size, "unix:path=") < 0)
		return -ENAMETOOLONG;
	at = strlen(buf);
	/* The D-Bus specification's optionally-escaped bytes; any other is %XX. */
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("-_/.*", *p) != NULL;

		if (at + (plain ? 1 : 3) >= size)
			return -ENAMETOOLONG;
		if (plain) {
			buf[at++] = (char)*p;
		} else {
			buf[at++] = '%';
			buf[at++] = hex[*p >> 4];
			buf[at++] = hex[*p & 0xf];
		}
	}
	buf[at] = '\0';
	return 0;
}

int
ldm_run_dbus_address(int bus, const char *env_addr, const char *runtime, char *buf, size_t size)
{
	char path[LDM_RUN_DBUS_ADDR_MAX];
	int n;

	if (env_addr != NULL && env_addr[0] != '\0') {
		/* Passed as the proxy's ADDRESS argument: it must not read as an option. */
		if (env_addr[0] == '-')
			return -EINVAL;
		return ldm_strscpy(buf, size, env_addr) < 0 ? -ENAMETOOLONG : 0;
	}
	if (bus == 1)
		return ldm_run_dbus_unix_address("/run/dbus/system_bus_socket", buf, size);
	if (runtime == NULL || runtime[0] != '/')
		return -ENOENT;
	n = snprintf(path, sizeof(path), "%s/bus", runtime);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return ldm_run_dbus_unix_address(path, buf, size);
}

/* Appends a copy of S to ARGV (of capacity MAX, NULL-terminated). */
static int
push(char **argv, size_t max, size_t *n, const char *s)
{
	if (*n + 1 >= max)
		return -E2BIG;
	argv[*n] = strdup(s);
	if (argv[*n] == NULL)
		return -ENOMEM;
	argv[++*n] = NULL;
	return 0;
}

int
ldm_run_dbus_argv(const struct ldm_run_items *items, const char *const addr[2],
                  const char *const path[2], int fd, char **argv, size_t max)
{
	char opt[32 + LDM_DBUS_NAME_MAX];
	size_t n = 0;
	int r;

	argv[0] = NULL;
	(void)snprintf(opt, sizeof(opt), "--fd=%d", fd);
	r = push(argv, max, &n, LDM_RUN_DBUS_PROXY);
	if (r == 0)
		r = push(argv, max, &n, opt);
	for (int b = 0; b < 2 && r == 0; b++) {
		if (addr[b] == NULL)
			continue;
		r = push(argv, max, &n, addr[b]);
		if (r == 0)
			r = push(argv, max, &n, path[b]);
		if (r == 0)
			r = push(argv, max, &n, "--filter");
		for (size_t i = 0; i < items->n && r == 0; i++) {
			if (items->v[i].kind != LDM_ITEM_DBUS || bus_index(items->v[i].flags) != b)
				continue;
			(void)snprintf(opt, sizeof(opt), "--talk=%s", items->v[i].value);
			r = push(argv, max, &n, opt);
		}
	}
	if (r < 0)
		ldm_run_argv_free(argv);
	return r;
}

void
ldm_run_argv_free(char **argv)
{
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	argv[0] = NULL;
}

/* A directory DIR of ours, mode 0700, no symlink: fit to hold a private one. */
static bool
private_parent(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return false;
	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
	       (st.st_mode & 077) == 0;
}

/* Makes the private directory: $XDG_RUNTIME_DIR/ldm/dbus-XXXXXX, else /tmp/ldm-dbus-XXXXXX. */
static int
make_dir(struct ldm_run_dbus *d)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char parent[sizeof(d->dir)];
	int n;

	if (rt != NULL && rt[0] == '/') {
		n = snprintf(parent, sizeof(parent), "%s/ldm", rt);
		if (n > 0 && (size_t)n < sizeof(parent) && private_parent(parent)) {
			n = snprintf(d->dir, sizeof(d->dir), "%s/dbus-XXXXXX", parent);
			if (n > 0 && (size_t)n < sizeof(d->dir) && mkdtemp(d->dir) != NULL)
				return 0;
		}
	}
	(void)ldm_strscpy(d->dir, sizeof(d->dir), "/tmp/ldm-dbus-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		d->dir[0] = '\0';
		return -errno;
	}
	return 0;
}

static _Noreturn void
proxy_exec(char **argv, int fd, pid_t parent)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigset_t none;

	/* Dies with ldm-run; a terminal's ^C is for the program, not for its bus. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	(void)setpgid(0, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(127);
	/* dup2 onto itself would keep FD_CLOEXEC: the proxy would start without its --fd. */
	if (fd == 3 ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, 3) < 0)
		_exit(127);
	if (close_range(4, ~0U, 0) < 0)
		_exit(127);
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "ldm-run: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Waits for the proxy's ready byte on FD. Returns 0, or -errno (-ETIMEDOUT, -EPIPE). */
static int
wait_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, READY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = read(fd, &c, 1);
	return n == 1 ? 0 : -EPIPE;
}

/* Adds the proxy's socket PATH as an allowed local socket of the session. */
static int
allow_socket(struct ldm_run_items *items, const char *path)
{
	struct ldm_msg_session_item m = { .kind = LDM_ITEM_UNIX, .flags = LDM_ITEM_UNIX_ALLOW };

	if (ldm_strscpy(m.value, sizeof(m.value), path) < 0)
		return -ENAMETOOLONG;
	return ldm_run_items_add(items, &m);
}

static int
start_proxy(struct ldm_run_dbus *d, struct ldm_run_items *items, const bool need[2],
            char addr[2][LDM_RUN_DBUS_ADDR_MAX], char *why, size_t size)
{
	const char *a[2] = { need[0] ? addr[0] : NULL, need[1] ? addr[1] : NULL };
	const char *paths[2] = { d->path[0], d->path[1] };
	char *argv[8 + 2 * LDM_CTL_ITEMS_MAX];
	pid_t parent = getpid();
	int sv[2], r;

	r = make_dir(d);
	if (r < 0) {
		(void)snprintf(why, size, "cannot make a private directory: %s", strerror(-r));
		return r;
	}
	for (int b = 0; b < 2; b++) {
		struct sockaddr_un sun;

		if (!need[b])
			continue;
		r = snprintf(d->path[b], sizeof(d->path[b]), "%s/%s", d->dir, bus_socket[b]);
		if (r < 0 || (size_t)r >= sizeof(sun.sun_path)) {
			(void)snprintf(why, size, "the proxy's socket path is too long");
			return -ENAMETOOLONG;
		}
		r = allow_socket(items, d->path[b]);
		if (r < 0) {
			(void)snprintf(why, size, "too many local socket items");
			return r;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		(void)snprintf(why, size, "socketpair: %s", strerror(-r));
		return r;
	}
	r = ldm_run_dbus_argv(items, a, paths, 3, argv, ELEMENTSOF(argv));
	if (r < 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		(void)snprintf(why, size, "the proxy's arguments: %s", strerror(-r));
		return r;
	}
	d->pid = fork();
	if (d->pid == 0)
		proxy_exec(argv, sv[1], parent);
	r = -errno;
	ldm_run_argv_free(argv);
	(void)close(sv[1]);
	d->sync_fd = sv[0];
	if (d->pid < 0) {
		d->pid = 0;
		(void)snprintf(why, size, "fork: %s", strerror(-r));
		return r;
	}
	r = wait_ready(d->sync_fd);
	if (r < 0)
		(void)snprintf(why, size, "%s did not start (%s)", LDM_RUN_DBUS_PROXY,
		               r == -EPIPE ? "it exited" : strerror(-r));
	return r;
}

int
ldm_run_dbus_start(struct ldm_run_dbus *d, struct ldm_run_items *items, char *why, size_t size)
{
	static const char *const env_of[2] = { "DBUS_SESSION_BUS_ADDRESS",
		                               "DBUS_SYSTEM_BUS_ADDRESS" };
	char addr[2][LDM_RUN_DBUS_ADDR_MAX];
	bool need[2];
	int r;

	*d = (struct ldm_run_dbus){ .sync_fd = -1 };
	r = ldm_run_dbus_check_items(items, need, why, size);
	if (r < 0)
		return r;
	for (int b = 0; b < 2; b++) {
		if (!need[b])
			continue;
		r = ldm_run_dbus_address(b, getenv(env_of[b]), getenv("XDG_RUNTIME_DIR"), addr[b],
		                         sizeof(addr[b]));
		if (r == -ENOENT) {
			/* Nothing to proxy to: the program gets no bus, as without the rule. */
			fprintf(stderr,
			        "ldm-run: warning: the policy names %s bus names, but there is no "
			        "%s "
			        "bus (neither $%s nor $XDG_RUNTIME_DIR/bus): the program gets "
			        "none\n",
			        b == 0 ? "session" : "system", b == 0 ? "session" : "system",
			        env_of[b]);
			need[b] = false;
		} else if (r < 0) {
			(void)snprintf(why, size, "$%s: %s", env_of[b],
			               r == -EINVAL ? "not a D-Bus address" : strerror(-r));
			return r;
		}
	}
	if (need[0] || need[1]) {
		r = start_proxy(d, items, need, addr, why, size);
		if (r < 0) {
			ldm_run_dbus_stop(d);
			return r;
		}
	}
	for (int b = 0; b < 2; b++) {
		const char *none =
		        b == 0 ? LDM_RUN_DBUS_NO_SESSION_BUS_PATH : LDM_RUN_DBUS_NO_SYSTEM_BUS_PATH;

		r = ldm_run_dbus_unix_address(need[b] ? d->path[b] : none, d->env[b],
		                              sizeof(d->env[b]));
		if (r < 0) {
			(void)snprintf(why, size, "the proxy's address is too long");
			ldm_run_dbus_stop(d);
			return r;
		}
	}
	return 0;
}

int
ldm_run_dbus_setenv(const struct ldm_run_dbus *d)
{
	/* Variables that carry a real bus's address (or the accessibility bus's) to a client. */
	static const char *const drop[] = { "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE",
		                            "DBUS_SESSION_BUS_PID", "DBUS_SESSION_BUS_WINDOWID",
		                            "AT_SPI_BUS_ADDRESS" };

	for (size_t i = 0; i < ELEMENTSOF(drop); i++)
		if (unsetenv(drop[i]) < 0)
			return -errno;
	for (int b = 0; b < 2; b++)
		if (setenv(bus_env[b], d->env[b], 1) < 0)
			return -errno;
	return 0;
}

/* Waits up to MS for PID; returns true once it was reaped. */
static bool
reap_within(pid_t pid, int ms)
{
	struct timespec step = { .tv_nsec = 10 * 1000 * 1000 };

	for (int waited = 0; waited <= ms; waited += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		(void)nanosleep(&step, NULL);
	}
	return false;
}

void
ldm_run_dbus_stop(struct ldm_run_dbus *d)
{
	if (d->sync_fd >= 0)
		(void)close(d->sync_fd); /* the proxy's --fd: closing it stops the proxy */
	d->sync_fd = -1;
	if (d->pid > 0 && !reap_within(d->pid, STOP_TIMEOUT_MS)) {
		(void)kill(d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	d->pid = 0;
	for (int b = 0; b < 2; b++)
		if (d->path[b][0] != '\0')
			(void)unlink(d->path[b]);
	if (d->dir[0] != '\0')
		(void)rmdir(d->dir);
	d->dir[0] = '\0';
}

int
ldm_run_dbus_begin(struct ldm_run_dbus *d, struct ldm_run_items *items)
{
	char why[256] = "";
	int r = ldm_run_dbus_start(d, items, why, sizeof(why));

	if (r == 0)
		r = ldm_run_dbus_setenv(d);
	if (r == 0)
		return 0;
	fprintf(stderr, "ldm-run: D-Bus: %s; the program was not started\n",
	        why[0] != '\0' ? why : strerror(-r));
	ldm_run_dbus_stop(d);
	return LDM_RUN_EXIT_FAIL;
}
