/*
 * ldm-ruleset: prints the ruleset text that ldm_ruleset_build() (or, with --remove,
 * ldm_ruleset_remove()) writes for one session, for the kernel test and for people.
 *
 *   ldm-ruleset --family 4|6 --root ROOT [--policy FILE --cgroup PATH] [--slot N]
 *               [--queue N] [--mark-mask HEX] [--lan [KIND:]CIDR@IFNAME]... [--jump ok|missing|
 *               not-first] [--old-mangle CHAIN]... [--old-filter CHAIN]... [--remove]
 *
 * KIND is uplink:, default: (CIDR 0.0.0.0/0 or ::/0), via: or local: (IFNAME may be empty); none is
 * an aircraft-side on-link prefix. Without --policy and --cgroup the state has no session. --jump applies to all three
 * built-in chains (default missing). --remove prints the removal text of the --old-* chains
 * (and of the jumps unless --jump missing). Exits 0, 1 on a refused input, 2 on usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "ruleset.h"

#define MAX_LIST 256

struct opts {
	int family;
	const char *policy, *cgroup, *root;
	unsigned slot;
	uint16_t queue;
	uint32_t mask;
	struct ldm_rs_lan lan[MAX_LIST];
	size_t n_lan;
	enum ldm_rs_jump jump;
	const char *old_mangle[MAX_LIST], *old_filter[MAX_LIST];
	size_t n_old_mangle, n_old_filter;
	int remove;
};

static void
usage(void)
{
	fprintf(stderr, "usage: ldm-ruleset --family 4|6 --root ROOT [--policy FILE --cgroup PATH]"
	                " [--slot N] [--queue N]\n"
	                "       [--mark-mask HEX] [--lan CIDR@IFNAME]... [--jump ok|missing|"
	                "not-first]\n"
	                "       [--old-mangle CHAIN]... [--old-filter CHAIN]... [--remove]\n");
	exit(2);
}

static int
parse_lan(const char *s, struct ldm_rs_lan *ret)
{
	static const struct {
		const char *prefix;
		enum ldm_route_kind kind;
	} kinds[] = { { "uplink:", LDM_ROUTE_UPLINK },
		      { "default:", LDM_ROUTE_DEFAULT },
		      { "via:", LDM_ROUTE_VIA },
		      { "local:", LDM_ROUTE_LOCAL } };
	enum ldm_route_kind kind = LDM_ROUTE_LINK;
	const char *at;
	char cidr[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strncmp(s, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			kind = kinds[i].kind;
			s += strlen(kinds[i].prefix);
			break;
		}
	}
	at = strchr(s, '@');
	if (at == NULL || (size_t)(at - s) >= sizeof(cidr))
		return -EINVAL;
	memcpy(cidr, s, (size_t)(at - s));
	cidr[at - s] = '\0';
	*ret = (struct ldm_rs_lan){ .kind = kind };
	if (ldm_prefix_parse(cidr, &ret->prefix) < 0)
		return -EINVAL;
	return ldm_strscpy(ret->ifname, sizeof(ret->ifname), at + 1);
}

static int
parse_jump(const char *s, enum ldm_rs_jump *ret)
{
	if (strcmp(s, "ok") == 0)
		*ret = LDM_JUMP_OK;
	else if (strcmp(s, "missing") == 0)
		*ret = LDM_JUMP_MISSING;
	else if (strcmp(s, "not-first") == 0)
		*ret = LDM_JUMP_NOT_FIRST;
	else
		return -EINVAL;
	return 0;
}

static int
push(const char **v, size_t *n, const char *s)
{
	if (*n >= MAX_LIST)
		return -E2BIG;
	v[(*n)++] = s;
	return 0;
}

static int
parse_mask(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (strncmp(s, "0x", 2) != 0 || s[2] == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 2, &end, 16);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int
parse_opt(struct opts *o, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case 'f':
		if (strcmp(arg, "4") != 0 && strcmp(arg, "6") != 0)
			return -EINVAL;
		o->family = arg[0] == '4' ? AF_INET : AF_INET6;
		return 0;
	case 'p':
		o->policy = arg;
		return 0;
	case 'c':
		o->cgroup = arg;
		return 0;
	case 'r':
		o->root = arg;
		return 0;
	case 's':
		if (ldm_parse_u32(arg, &v) < 0)
			return -EINVAL;
		o->slot = v;
		return 0;
	case 'q':
		return ldm_parse_u16(arg, &o->queue);
	case 'm':
		return parse_mask(arg, &o->mask);
	case 'l':
		if (o->n_lan >= MAX_LIST)
			return -E2BIG;
		return parse_lan(arg, &o->lan[o->n_lan++]);
	case 'j':
		return parse_jump(arg, &o->jump);
	case 'M':
		return push(o->old_mangle, &o->n_old_mangle, arg);
	case 'F':
		return push(o->old_filter, &o->n_old_filter, arg);
	default:
		return -EINVAL;
	}
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "slot", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "mark-mask", required_argument, NULL, 'm' },
		{ "lan", required_argument, NULL, 'l' },
		{ "jump", required_argument, NULL, 'j' },
		{ "old-mangle", required_argument, NULL, 'M' },
		{ "old-filter", required_argument, NULL, 'F' },
		{ "remove", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'R')
			o->remove = 1;
		else if (c == '?' || parse_opt(o, c, optarg) < 0)
			usage();
	}
	if (optind != argc || o->family == 0 || (o->root == NULL && !o->remove) ||
	    (o->policy == NULL) != (o->cgroup == NULL))
		usage();
}

static int
load_policy(const char *path, struct ldm_policy **ret)
{
	struct ldm_load_opts lo = { 0 };
	struct ldm_diags d = { 0 };
	int rc = ldm_policy_load_path(path, &lo, ret, &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
	ldm_diags_clear(&d);
	return rc;
}

static int
build(const struct opts *o, char **ret)
{
	_cleanup_(ldm_policy_freep) struct ldm_policy *p = NULL;
	struct ldm_marks m;
	struct ldm_rs_session s = { .slot = o->slot, .id = 1, .cgroup = o->cgroup };
	struct ldm_rs_input in = {
		.family = o->family,
		.marks = &m,
		.queue = o->queue,
		.root = o->root,
		.lan = o->lan,
		.n_lan = o->n_lan,
		.jump_mangle_output = o->jump,
		.jump_mangle_postrouting = o->jump,
		.jump_mangle_input = o->jump,
		.jump_filter_output = o->jump,
		.old_mangle = o->old_mangle,
		.n_old_mangle = o->n_old_mangle,
		.old_filter = o->old_filter,
		.n_old_filter = o->n_old_filter,
	};
	int rc = ldm_marks_init(o->mask, &m);

	if (rc < 0)
		return rc;
	if (o->policy != NULL) {
		rc = load_policy(o->policy, &p);
		if (rc < 0)
			return rc;
		s.policy = p;
		in.sessions = &s;
		in.n_sessions = 1;
	}
	return ldm_ruleset_build(&in, ret);
}

int
main(int argc, char **argv)
{
	struct opts o = { .slot = 1, .mask = LDM_DEFAULT_MARK_MASK, .jump = LDM_JUMP_MISSING };
	_cleanup_free_ char *text = NULL;
	int rc;

	parse_args(&o, argc, argv);
	if (o.remove) {
		bool j = o.jump != LDM_JUMP_MISSING;

		rc = ldm_ruleset_remove(o.family, o.old_mangle, o.n_old_mangle, o.old_filter,
		                        o.n_old_filter, j, j, j, j, &text);
	} else {
		rc = build(&o, &text);
	}
	if (rc < 0) {
		fprintf(stderr, "ldm-ruleset: %s\n", strerror(-rc));
		return 1;
	}
	fputs(text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
