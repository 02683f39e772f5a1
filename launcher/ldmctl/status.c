/*
 * ldmctl status: asks ldm-enforcerd for its state over the control socket and prints the
 * lines it sends back, one per line.
 *
 * Trust: the daemon runs as root, but the lines it sends carry text that sandboxed apps and
 * users chose (program paths, user names); every message is checked by ldm_client_recv()
 * and every line is escaped before it reaches the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/client.h"
#include "ldm/control.h"
#include "ldm/util.h"
#include "ldmctl/ldmctl.h"

/* How long one reply may take: the daemon answers from memory, at once. */
#define STATUS_TIMEOUT_MS 5000

static void
status_usage(FILE *f)
{
	fputs("Usage: ldmctl status [--json] [--socket PATH]\n"
	      "\n"
	      "Asks ldm-enforcerd for its state and prints it: a 'daemon:' line with its queue,\n"
	      "cgroup root, mark mask and counters, then one 'session N:' line per live session\n"
	      "(an ordinary user sees their own sessions only).\n"
	      "  --json          one JSON object: {\"daemon\": {...}, \"sessions\": [{...}, ...]}\n"
	      "  --socket PATH   the daemon's control socket (default $LDM_SOCKET, else\n"
	      "                  " LDM_CONTROL_SOCKET ")\n"
	      "\n"
	      "Exit status: 0 the state was printed, 1 the daemon is not running or did not\n"
	      "answer, 2 usage error.\n",
	      f);
}

/*
 * The length of the valid UTF-8 sequence at P (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), or 0 if P does not start one. P is NUL-terminated, and a NUL
 * is never a continuation byte, so no read goes past it.
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Prints S and a newline with C0 and C1 controls, DEL and every byte that is not part of
 * valid UTF-8 written as \xNN, and '\' as \\ so that an escape can be told from the text.
 */
static void
put_line(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : utf8_len(p);
		bool c1 = n == 2 && p[0] == 0xc2 && p[1] < 0xa0;

		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			printf("\\x%02x", *p++);
		} else if (c1) {
			printf("\\x%02x\\x%02x", p[0], p[1]);
			p += 2;
		} else if (*p == '\\') {
			fputs("\\\\", stdout);
			p++;
		} else {
			fwrite(p, 1, n, stdout);
			p += n;
		}
	}
	putchar('\n');
}

/* Explains a failed connect to PATH on stderr. Returns LDMCTL_EXIT_FAIL. */
static int
connect_error(const char *path, int err)
{
	fflush(stdout);
	fputs("ldmctl: status: ", stderr);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fputs("ldm-enforcerd is not running (nothing listens on ", stderr);
		ldmctl_put_escaped(stderr, path, false);
		fputs(").\nStart it with 'systemctl start ldm-enforcerd', or run "
		      "'ldm-enforcerd --foreground' as root;\nif it uses another socket, give "
		      "it with --socket PATH or LDM_SOCKET.\n",
		      stderr);
		return LDMCTL_EXIT_FAIL;
	}
	fputs("cannot connect to ", stderr);
	ldmctl_put_escaped(stderr, path, false);
	fprintf(stderr, ": %s\n", strerror(-err));
	if (err == -EACCES)
		fputs("The control socket is for root and the users the daemon lets in; try "
		      "sudo.\n",
		      stderr);
	return LDMCTL_EXIT_FAIL;
}

/*
 * A JSON line as the daemon writes it: an object, printable ASCII and UTF-8 only (its
 * strings were escaped by the daemon). Anything else is not passed on.
 */
static bool
json_line_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Prints every STATUS_LINE until END (with JSON, as one object). Returns an LDMCTL_EXIT_*
 * code. */
static int
print_lines(int fd, bool json)
{
	union ldm_msg_any m;
	unsigned lines = 0;
	int r;

	for (;;) {
		r = ldm_client_recv(fd, &m, STATUS_TIMEOUT_MS);
		if (r == LDM_MSG_END) {
			if (json)
				fputs(lines == 0   ? "{}\n"
				      : lines == 1 ? ",\"sessions\":[]}\n"
				                   : "]}\n",
				      stdout);
			return fflush(stdout) == 0 ? LDMCTL_EXIT_OK : LDMCTL_EXIT_FAIL;
		}
		if (r == LDM_MSG_STATUS_LINE && json && json_line_ok(m.text.text)) {
			const char *t = m.text.text;

			/* {"daemon":{...}} opens the object; sessions follow in an array. */
			if (lines == 0)
				printf("%.*s", (int)strlen(t) - 1, t);
			else
				printf("%s%s", lines == 1 ? ",\"sessions\":[" : ",", t);
			lines++;
			continue;
		}
		if (r == LDM_MSG_STATUS_LINE && !json) {
			put_line(m.text.text);
			continue;
		}
		fflush(stdout);
		if (r == LDM_MSG_ERROR) {
			fputs("ldmctl: status: the daemon refused: ", stderr);
			ldmctl_put_escaped(stderr, m.error.text, false);
			fputc('\n', stderr);
		} else if (r < 0) {
			ldmctl_err("status: no complete answer from the daemon: %s", strerror(-r));
		} else {
			ldmctl_err("status: the daemon sent an unexpected message (type %d)", r);
		}
		return LDMCTL_EXIT_FAIL;
	}
}

/* Returns 0 to go on, or the exit code (-1 for --help, which exits 0). */
static int
parse_args(struct ldmctl_ctx *ctx, int argc, char **argv, bool *json)
{
	static const struct option options[] = { LDMCTL_COMMON_OPTIONS,
		                                 { "json", no_argument, NULL, 'j' },
		                                 {} };
	int c, r;

	optind = 0; /* glibc: restart and permute, as the other commands do */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
			continue;
		}
		if (c == '?')
			return ldmctl_usage_hint("status");
		r = ldmctl_common_option(ctx, c, optarg);
		if (r == 1) {
			status_usage(stdout);
			return -1;
		}
		if (r < 0)
			return LDMCTL_EXIT_USAGE;
	}
	if (optind < argc)
		return ldmctl_usage_error("status", "unexpected argument '%s'", argv[optind]);
	return 0;
}

int
ldmctl_status(struct ldmctl_ctx *ctx, int argc, char **argv)
{
	struct ldm_msg_status_request req = { 0 };
	_cleanup_close_ int fd = -1;
	const char *path;
	bool json = false;
	int r;

	r = parse_args(ctx, argc, argv, &json);
	if (r != 0)
		return r < 0 ? LDMCTL_EXIT_OK : r;
	path = ldm_client_socket_path(ctx->socket);
	fd = ldm_client_connect(path);
	if (fd < 0)
		return connect_error(path, fd);
	ldm_msg_init(&req.hdr, LDM_MSG_STATUS_REQUEST);
	req.flags = json ? LDM_STATUS_F_JSON : 0;
	r = ldm_client_send(fd, &req.hdr);
	if (r < 0) {
		ldmctl_err("status: cannot send the request: %s", strerror(-r));
		return LDMCTL_EXIT_FAIL;
	}
	return print_lines(fd, json);
}
