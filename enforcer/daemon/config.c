/*
 * The daemon's configuration: built-in defaults, then the config file (libconfig), then the
 * command-line flags, which win so that tests can run a private instance beside an
 * installed one. Everything is validated here once; the rest of the daemon trusts it.
 */
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ldm/control.h"
#include "ldm/paths.h"
#include "ldm/util.h"
#include "ruleset.h"

void
ldm_config_defaults(struct ldm_config *c)
{
	*c = (struct ldm_config){ .queue = 4242,
		                  .mark_mask = LDM_DEFAULT_MARK_MASK,
		                  .spares = LDM_DEFAULT_SPARES };
	(void)ldm_strscpy(c->config_file, sizeof(c->config_file), LDM_CONFIG_FILE);
	(void)ldm_strscpy(c->socket, sizeof(c->socket), LDM_CONTROL_SOCKET);
	(void)ldm_strscpy(c->policy_dirs[0], sizeof(c->policy_dirs[0]), LDM_POLICY_DIR_ADMIN);
	(void)ldm_strscpy(c->policy_dirs[1], sizeof(c->policy_dirs[1]), LDM_POLICY_DIR_PACKAGE);
	c->n_policy_dirs = 2;
	(void)ldm_strscpy(c->log, sizeof(c->log), "/var/log/ldm/events.jsonl");
	(void)ldm_strscpy(c->state_dir, sizeof(c->state_dir), "/run/ldm");
	(void)ldm_strscpy(c->persist_dir, sizeof(c->persist_dir), "/var/lib/ldm");
}

static int
set_path(char *dst, size_t size, const char *what, const char *v)
{
	if (v[0] != '/') {
		fprintf(stderr, "ldm-enforcerd: %s: '%s' must be an absolute path\n", what, v);
		return -EINVAL;
	}
	if (ldm_strscpy(dst, size, v) < 0) {
		fprintf(stderr, "ldm-enforcerd: %s: path too long\n", what);
		return -EINVAL;
	}
	return 0;
}

enum { OPT_SPARES = 256, OPT_UPLINK, OPT_PERSIST_DIR };

static int
set_spares(struct ldm_config *c, long long n, const char *text)
{
	if (n < 0 || n > LDM_MAX_SPARES) {
		fprintf(stderr, "ldm-enforcerd: spares: '%s' is not a number 0-%d\n", text,
		        LDM_MAX_SPARES);
		return -EINVAL;
	}
	c->spares = (unsigned)n;
	return 0;
}

static int
set_spares_text(struct ldm_config *c, const char *v)
{
	uint32_t n;

	return set_spares(c, ldm_parse_u32(v, &n) < 0 ? -1 : (long long)n, v);
}

static int
set_queue(struct ldm_config *c, const char *v)
{
	if (ldm_parse_u16(v, &c->queue) < 0) {
		fprintf(stderr, "ldm-enforcerd: queue: '%s' is not a number 0-65535\n", v);
		return -EINVAL;
	}
	return 0;
}

static int
set_mask(struct ldm_config *c, const char *v)
{
	struct ldm_marks m;
	unsigned long x;
	char *end;

	errno = 0;
	x = strtoul(v, &end, 16);
	if (v[0] == '\0' || v[0] == '-' || v[0] == '+' || v[0] == ' ' || *end != '\0' ||
	    errno != 0 || x > UINT32_MAX || ldm_marks_init((uint32_t)x, &m) < 0) {
		fprintf(stderr,
		        "ldm-enforcerd: mark mask: '%s' must be hex with 5 or more contiguous "
		        "bits, e.g. 0x0ff00000\n",
		        v);
		return -EINVAL;
	}
	c->mark_mask = (uint32_t)x;
	return 0;
}

static int
add_policy_dir(struct ldm_config *c, const char *v)
{
	if (!c->dirs_from_flags) {
		c->n_policy_dirs = 0;
		c->dirs_from_flags = true;
	}
	if (c->n_policy_dirs >= LDM_MAX_POLICY_DIRS) {
		fprintf(stderr, "ldm-enforcerd: at most %d policy directories\n",
		        LDM_MAX_POLICY_DIRS);
		return -EINVAL;
	}
	return set_path(c->policy_dirs[c->n_policy_dirs++], sizeof(c->policy_dirs[0]), "policy dir",
	                v);
}

static int
file_string(const config_t *cf, const char *key, char *dst, size_t size)
{
	const char *v;

	if (config_lookup_string(cf, key, &v) != CONFIG_TRUE)
		return 0;
	return set_path(dst, size, key, v);
}

static int
file_policy_dirs(const config_t *cf, struct ldm_config *c)
{
	config_setting_t *s = config_lookup(cf, "policy_dirs");
	int n, r;

	if (s == NULL)
		return 0;
	n = config_setting_length(s);
	if (!config_setting_is_array(s) || n < 1 || n > LDM_MAX_POLICY_DIRS) {
		fprintf(stderr, "ldm-enforcerd: %s: policy_dirs: a list of 1-%d paths\n",
		        c->config_file, LDM_MAX_POLICY_DIRS);
		return -EINVAL;
	}
	c->n_policy_dirs = 0;
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL)
			return -EINVAL;
		r = set_path(c->policy_dirs[c->n_policy_dirs++], sizeof(c->policy_dirs[0]),
		             "policy_dirs", v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An interface name: 1-15 bytes of [A-Za-z0-9._@:-], not "." or "..". */
static int
add_uplink(struct ldm_config *c, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 15 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789._@:-") != n ||
	    v[0] == '-' || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
		fprintf(stderr, "ldm-enforcerd: uplink: '%s' is not an interface name\n", v);
		return -EINVAL;
	}
	if (c->n_uplinks >= LDM_MAX_UPLINKS) {
		fprintf(stderr, "ldm-enforcerd: uplink: at most %d interfaces\n", LDM_MAX_UPLINKS);
		return -EINVAL;
	}
	memcpy(c->uplinks[c->n_uplinks++], v, n + 1);
	c->uplinks_given = true;
	return 0;
}

static int
file_uplinks(const config_t *cf, struct ldm_config *c)
{
	config_setting_t *s = config_lookup(cf, "uplink");
	int r;

	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		fprintf(stderr, "ldm-enforcerd: %s: uplink: a list of interface names\n",
		        c->config_file);
		return -EINVAL;
	}
	c->n_uplinks = 0;
	c->uplinks_given = true; /* [ ]: no interface is an uplink */
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL)
			return -EINVAL;
		r = add_uplink(c, v);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *const file_keys[] = { "socket",      "policy_dirs", "log",   "state_dir",
	                                 "persist_dir", "cgroup_root", "queue", "mark_mask",
	                                 "spares",      "uplink" };

static int
file_check_keys(const config_t *cf, const char *file)
{
	config_setting_t *root = config_root_setting(cf);
	int r = 0;

	for (int i = 0; i < config_setting_length(root); i++) {
		const char *key = config_setting_name(config_setting_get_elem(root, i));
		size_t j;

		for (j = 0; j < ELEMENTSOF(file_keys); j++)
			if (strcmp(key, file_keys[j]) == 0)
				break;
		if (j == ELEMENTSOF(file_keys)) {
			fprintf(stderr,
			        "ldm-enforcerd: %s: unknown setting '%s' (expected socket, "
			        "policy_dirs, log, state_dir, persist_dir, cgroup_root, queue, "
			        "mark_mask, spares, uplink)\n",
			        file, key);
			r = -EINVAL;
		}
	}
	return r;
}

static int
file_numbers(const config_t *cf, struct ldm_config *c)
{
	const char *v;
	int q;

	if (config_lookup_int(cf, "queue", &q) == CONFIG_TRUE) {
		if (q < 0 || q > 65535) {
			fprintf(stderr, "ldm-enforcerd: queue: %d is not 0-65535\n", q);
			return -EINVAL;
		}
		c->queue = (uint16_t)q;
	}
	if (config_lookup_int(cf, "spares", &q) == CONFIG_TRUE) {
		char text[16];

		(void)snprintf(text, sizeof(text), "%d", q);
		if (set_spares(c, q, text) < 0)
			return -EINVAL;
	}
	if (config_lookup_string(cf, "mark_mask", &v) == CONFIG_TRUE)
		return set_mask(c, v);
	return 0;
}

static int
read_file(struct ldm_config *c)
{
	config_t cf;
	int r;

	config_init(&cf);
	if (config_read_file(&cf, c->config_file) != CONFIG_TRUE) {
		bool missing = config_error_type(&cf) == CONFIG_ERR_FILE_IO;

		if (missing && !c->config_given) {
			config_destroy(&cf);
			return 0; /* the defaults stand */
		}
		fprintf(stderr, "ldm-enforcerd: %s:%d: %s\n", c->config_file,
		        config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	r = file_check_keys(&cf, c->config_file);
	if (r == 0)
		r = file_string(&cf, "socket", c->socket, sizeof(c->socket));
	if (r == 0)
		r = file_policy_dirs(&cf, c);
	if (r == 0)
		r = file_string(&cf, "log", c->log, sizeof(c->log));
	if (r == 0)
		r = file_string(&cf, "state_dir", c->state_dir, sizeof(c->state_dir));
	if (r == 0)
		r = file_string(&cf, "persist_dir", c->persist_dir, sizeof(c->persist_dir));
	if (r == 0)
		r = file_string(&cf, "cgroup_root", c->cgroup_root, sizeof(c->cgroup_root));
	if (r == 0)
		r = file_numbers(&cf, c);
	if (r == 0)
		r = file_uplinks(&cf, c);
	config_destroy(&cf);
	return r;
}

static const char usage[] =
        "Usage: ldm-enforcerd [OPTION]...\n"
        "The root daemon of ldm-enforcer: runs apps' sessions under their network policy.\n"
        "\n"
        "  -c, --config FILE     read FILE instead of " LDM_SYSCONFDIR "/ldm/enforcer.conf\n"
        "  -f, --foreground      stay in the foreground and log to stderr too\n"
        "  -s, --socket PATH     control socket (default " LDM_CONTROL_SOCKET ")\n"
        "  -p, --policy-dir DIR  look for policies in DIR (repeatable; replaces the defaults\n"
        "                        " LDM_SYSCONFDIR "/ldm/policies and " LDM_DATADIR
        "/ldm/policies)\n"
        "  -l, --log FILE        JSON event log (default /var/log/ldm/events.jsonl)\n"
        "  -S, --state-dir DIR   live session state (default /run/ldm)\n"
        "      --persist-dir DIR what outlives a reboot: the session id counter\n"
        "                        (default /var/lib/ldm)\n"
        "  -C, --cgroup-root DIR where session cgroups are made, in the cgroup2 file system\n"
        "                        (default: beside the daemon's own cgroup, in 'ldm')\n"
        "  -q, --queue N         NFQUEUE number (default 4242)\n"
        "  -m, --mark-mask HEX   packet mark bits ldm may use (default 0x0ff00000)\n"
        "  -k, --keep-rules      leave the base rules in place on exit (sessions still end)\n"
        "      --spares N        sessions kept ready so that a launch waits for no rule\n"
        "                        commit (0-4, default 2; 0: every launch commits first)\n"
        "      --uplink IF       IF is an uplink, never lan or broadcast (repeatable;\n"
        "                        default: the interfaces that carry a default route)\n"
        "  -h, --help            show this help\n"
        "  -V, --version         show the version\n"
        "\n"
        "Flags win over the config file. See ldm-enforcerd(8).\n";

/* First pass: --config only, so that the file can be read before the other flags. */
static int
find_config_flag(struct ldm_config *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;

		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc)
			v = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			v = argv[i] + 9;
		if (v != NULL) {
			c->config_given = true;
			return set_path(c->config_file, sizeof(c->config_file), "config", v);
		}
	}
	return 0;
}

static int
apply_flag(struct ldm_config *c, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		return 0;
	case 'f':
		c->foreground = true;
		return 0;
	case 'k':
		c->keep_rules = true;
		return 0;
	case 's':
		return set_path(c->socket, sizeof(c->socket), "socket", arg);
	case 'p':
		return add_policy_dir(c, arg);
	case 'l':
		return set_path(c->log, sizeof(c->log), "log", arg);
	case 'S':
		return set_path(c->state_dir, sizeof(c->state_dir), "state dir", arg);
	case 'C':
		return set_path(c->cgroup_root, sizeof(c->cgroup_root), "cgroup root", arg);
	case 'q':
		return set_queue(c, arg);
	case 'm':
		return set_mask(c, arg);
	case OPT_SPARES:
		return set_spares_text(c, arg);
	case OPT_UPLINK:
		if (!c->uplinks_from_flags) {
			c->uplinks_from_flags = true;
			c->n_uplinks = 0;
		}
		return add_uplink(c, arg);
	case OPT_PERSIST_DIR:
		return set_path(c->persist_dir, sizeof(c->persist_dir), "persist dir", arg);
	default:
		fprintf(stderr, "Try 'ldm-enforcerd --help'.\n");
		return -EINVAL;
	}
}

int
ldm_config_parse(struct ldm_config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "queue", required_argument, NULL, 'q' },
		{ "mark-mask", required_argument, NULL, 'm' },
		{ "keep-rules", no_argument, NULL, 'k' },
		{ "spares", required_argument, NULL, OPT_SPARES },
		{ "uplink", required_argument, NULL, OPT_UPLINK },
		{ "persist-dir", required_argument, NULL, OPT_PERSIST_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int opt, r;

	if (find_config_flag(c, argc, argv) < 0 || read_file(c) < 0)
		return -EINVAL;
	while ((opt = getopt_long(argc, argv, "c:fs:p:l:S:C:q:m:khV", opts, NULL)) != -1) {
		if (opt == 'h' || opt == 'V') {
			fputs(opt == 'h' ? usage : "ldm-enforcerd " LDM_VERSION "\n", stdout);
			return 1;
		}
		r = apply_flag(c, opt, optarg);
		if (r < 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "ldm-enforcerd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
