/*
 * One `allow` or `deny` rule: its settings checked one by one, then against each other
 * (a peer is needed, `to` goes with out and `from` with in, ports need a port protocol).
 * A rule with any error is not added; the policy will be refused anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/unix_rule.h"
#include "ldm/util.h"
#include "policy_int.h"

struct rule_ctx {
	struct loader *l;
	const char *file;
	const config_setting_t *group;
	struct ldm_rule r;
	bool have_dir;
	const config_setting_t *peer; /* the to/from/host setting */
	const config_setting_t *ports;
	unsigned errors_before;
};

static const struct {
	const char *name;
	enum ldm_peer_kind kind;
} peer_keywords[] = {
	{ "loopback", LDM_PEER_LOOPBACK },     { "lan", LDM_PEER_LAN },
	{ "link-local", LDM_PEER_LINK_LOCAL }, { "private", LDM_PEER_PRIVATE },
	{ "multicast", LDM_PEER_MULTICAST },   { "broadcast", LDM_PEER_BROADCAST },
};

/* The fixed address ranges behind the keywords; `lan` and subnet broadcasts are dynamic. */
static const struct {
	enum ldm_peer_kind kind;
	const char *cidr;
} keyword_prefixes[] = {
	{ LDM_PEER_LOOPBACK, "127.0.0.0/8" },         { LDM_PEER_LOOPBACK, "::1/128" },
	{ LDM_PEER_LINK_LOCAL, "169.254.0.0/16" },    { LDM_PEER_LINK_LOCAL, "fe80::/10" },
	{ LDM_PEER_PRIVATE, "10.0.0.0/8" },           { LDM_PEER_PRIVATE, "172.16.0.0/12" },
	{ LDM_PEER_PRIVATE, "192.168.0.0/16" },       { LDM_PEER_PRIVATE, "fc00::/7" },
	{ LDM_PEER_MULTICAST, "224.0.0.0/4" },        { LDM_PEER_MULTICAST, "ff00::/8" },
	{ LDM_PEER_BROADCAST, "255.255.255.255/32" },
};

int
ldm_peer_keyword_prefixes(enum ldm_peer_kind kind, struct ldm_prefix *out, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < ELEMENTSOF(keyword_prefixes); k++) {
		if (keyword_prefixes[k].kind != kind)
			continue;
		if (n == max || ldm_prefix_parse(keyword_prefixes[k].cidr, &out[n]) < 0)
			return -ENOBUFS; /* the table is ours: neither happens */
		n++;
	}
	return (int)n;
}

int
ldm_peer_keyword_parse(const char *s, enum ldm_peer_kind *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(peer_keywords); i++) {
		if (strcmp(s, peer_keywords[i].name) == 0) {
			*ret = peer_keywords[i].kind;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
ldm_peer_kind_name(enum ldm_peer_kind k)
{
	for (size_t i = 0; i < ELEMENTSOF(peer_keywords); i++)
		if (peer_keywords[i].kind == k)
			return peer_keywords[i].name;
	return k == LDM_PEER_HOST ? "host" : k == LDM_PEER_CIDR ? "address" : "any";
}

/* LDM_PROTO_OTHER has no name a policy may use: it is written "other", never parsed. */
static const char *const proto_names[] = {
	[LDM_PROTO_ANY] = "any",   [LDM_PROTO_TCP] = "tcp",  [LDM_PROTO_UDP] = "udp",
	[LDM_PROTO_ICMP] = "icmp", [LDM_PROTO_OTHER] = NULL, [LDM_PROTO_UNIX] = "unix",
};

const char *
ldm_proto_name(enum ldm_proto p)
{
	return (size_t)p < ELEMENTSOF(proto_names) && proto_names[p] != NULL ? proto_names[p]
	                                                                     : "other";
}

int
ldm_proto_parse(const char *s, enum ldm_proto *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(proto_names); i++) {
		if (proto_names[i] != NULL && strcmp(s, proto_names[i]) == 0) {
			*ret = (enum ldm_proto)i;
			return 0;
		}
	}
	return -EINVAL;
}

#define ERR(c, s, ...) ldm_loader_error((c)->l, (c)->file, LINE(s), __VA_ARGS__)

static void
rule_proto(struct rule_ctx *c, const config_setting_t *s)
{
	const char *v = ldm_loader_get_string(c->l, c->file, s, "proto", 16);

	if (v != NULL && ldm_proto_parse(v, &c->r.proto) < 0)
		ERR(c, s, "proto: '%s' is not one of tcp, udp, icmp, any, unix", v);
}

static void
rule_direction(struct rule_ctx *c, const config_setting_t *s)
{
	const char *v = ldm_loader_get_string(c->l, c->file, s, "direction", 16);

	if (v == NULL)
		return;
	c->have_dir = true;
	if (strcmp(v, "out") == 0)
		c->r.dir = LDM_DIR_OUT;
	else if (strcmp(v, "in") == 0)
		c->r.dir = LDM_DIR_IN;
	else
		ERR(c, s, "direction: '%s' is not \"out\" or \"in\"", v);
}

static void
rule_comment(struct rule_ctx *c, const config_setting_t *s)
{
	const char *v = ldm_loader_get_string(c->l, c->file, s, "comment", LDM_MAX_TEXT_LEN);

	if (v != NULL && c->r.comment == NULL && (c->r.comment = strdup(v)) == NULL)
		ERR(c, s, "out of memory");
}

static void
rule_member(struct rule_ctx *c, const config_setting_t *m)
{
	const char *key = config_setting_name(m);

	if (strcmp(key, "proto") == 0) {
		rule_proto(c, m);
	} else if (strcmp(key, "direction") == 0) {
		rule_direction(c, m);
	} else if (strcmp(key, "comment") == 0) {
		rule_comment(c, m);
	} else if (strcmp(key, "ports") == 0) {
		c->ports = m;
	} else if (strcmp(key, "to") == 0 || strcmp(key, "from") == 0 || strcmp(key, "host") == 0) {
		if (c->peer != NULL)
			ERR(c, m,
			    "%s: a rule takes one of to, from or host, not both '%s' and "
			    "'%s' (write two rules)",
			    key, config_setting_name(c->peer), key);
		else
			c->peer = m;
	} else {
		ERR(c, m, "unknown setting '%s' in a rule (expected one of: %s)", key,
		    "proto, to, from, host, ports, direction, comment");
	}
}

static void
rule_address(struct rule_ctx *c, const char *key, const char *v)
{
	int r;

	if (ldm_peer_keyword_parse(v, &c->r.peer) == 0)
		return;
	c->r.peer = LDM_PEER_CIDR;
	r = ldm_prefix_parse(v, &c->r.prefix);
	if (r == -EDOM)
		ERR(c, c->peer, "%s: '%s' has host bits set below the prefix length", key, v);
	else if (r < 0)
		ERR(c, c->peer,
		    "%s: '%s' is not an IPv4/IPv6 address, a CIDR or a keyword (loopback, lan, "
		    "link-local, private, multicast, broadcast)",
		    key, v);
}

static void
rule_host(struct rule_ctx *c, const char *v)
{
	c->r.peer = LDM_PEER_HOST;
	c->r.host = strdup(v);
	if (c->r.host == NULL) {
		ERR(c, c->peer, "out of memory");
		return;
	}
	if (ldm_host_pattern_normalize(c->r.host) < 0)
		ERR(c, c->peer,
		    "host: '%s' is not a DNS name or '*.suffix' pattern (the suffix needs two "
		    "labels or more)",
		    v);
}

/* The peer setting against the direction: to/out, from/in, host/out; deny: both. */
static void
rule_peer(struct rule_ctx *c)
{
	const char *key, *v;

	if (c->peer == NULL) {
		ERR(c, c->group,
		    "a rule needs one of 'to' (outbound), 'from' (direction \"in\") "
		    "or 'host'");
		return;
	}
	key = config_setting_name(c->peer);
	v = ldm_loader_get_string(c->l, c->file, c->peer, key, LDM_MAX_HOST_LEN + 2);
	if (v == NULL)
		return;
	if (strcmp(key, "to") == 0 && c->r.dir == LDM_DIR_IN)
		ERR(c, c->peer, "to: a direction \"in\" rule names its peers with 'from'");
	else if (strcmp(key, "from") == 0 && c->r.dir == LDM_DIR_OUT)
		ERR(c, c->peer, "from: only direction \"in\" rules take 'from'; use 'to'");
	else if (strcmp(key, "host") == 0 && c->r.dir == LDM_DIR_IN)
		ERR(c, c->peer, "host: direction \"in\" rules take 'from' with an address");
	if (strcmp(key, "host") == 0)
		rule_host(c, v);
	else
		rule_address(c, key, v);
}

/*
 * `ports = [ 14550, 14551, "5760-5770" ]`: the elements (numbers, or strings as a single
 * `ports` string takes them) joined with commas into BUF, to be read as one list. NULL
 * after an error.
 */
static const char *
ports_list(struct rule_ctx *c, const config_setting_t *s, char *buf, size_t size)
{
	int n = config_setting_length(s);
	size_t used = 0;

	if (n == 0) {
		ERR(c, s, "ports: an empty list (leave 'ports' out for every port)");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char item[32];
		const char *v = item;
		int k;

		if (config_setting_type(e) == CONFIG_TYPE_INT ||
		    config_setting_type(e) == CONFIG_TYPE_INT64)
			(void)snprintf(item, sizeof(item), "%lld", config_setting_get_int64(e));
		else if ((v = ldm_loader_get_string(c->l, c->file, e, "ports", 1024)) == NULL)
			return NULL;
		k = snprintf(buf + used, size - used, "%s%s", i ? "," : "", v);
		if (k < 0 || (size_t)k >= size - used) {
			ERR(c, s, "ports: more than %d ports or ranges", LDM_MAX_PORT_RANGES);
			return NULL;
		}
		used += (size_t)k;
	}
	return buf;
}

static void
rule_ports(struct rule_ctx *c)
{
	struct ldm_port_range buf[LDM_MAX_PORT_RANGES];
	const config_setting_t *s = c->ports;
	char num[16], joined[1024];
	const char *v;
	int n;

	if (s == NULL)
		return;
	if (c->r.proto == LDM_PROTO_ICMP) {
		ERR(c, s, "ports: icmp has no ports (remove 'ports' or use tcp/udp)");
		return;
	}
	if (config_setting_is_array(s) || config_setting_is_list(s)) {
		v = ports_list(c, s, joined, sizeof(joined));
		if (v == NULL)
			return;
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
	           config_setting_type(s) == CONFIG_TYPE_INT64) {
		(void)snprintf(num, sizeof(num), "%lld", config_setting_get_int64(s));
		v = num;
	} else {
		v = ldm_loader_get_string(c->l, c->file, s, "ports", 1024);
		if (v == NULL)
			return;
	}
	n = ldm_parse_port_list(v, buf, ELEMENTSOF(buf));
	if (n == -ERANGE)
		ERR(c, s, "ports: '%s': a range must go from low to high", v);
	else if (n == -E2BIG)
		ERR(c, s, "ports: '%s': more than %d ports or ranges", v, LDM_MAX_PORT_RANGES);
	else if (n < 0 && v[0] != '\0' && strspn(v, "0123456789,- ") == strlen(v))
		ERR(c, s, "ports: '%s': a port must be 1-65535", v);
	else if (n < 0)
		ERR(c, s,
		    "ports: '%s': expected ports 1-65535, lists \"80,443\" or ranges "
		    "\"14550-14560\"",
		    v);
	if (n <= 0)
		return;
	c->r.ports = calloc((size_t)n, sizeof(*c->r.ports));
	if (c->r.ports == NULL) {
		ERR(c, s, "out of memory");
		return;
	}
	memcpy(c->r.ports, buf, (size_t)n * sizeof(*buf));
	c->r.n_ports = (size_t)n;
}

/* A local socket rule: `to` a path pattern or "@name"; no ports, from, host or direction in. */
static void
rule_unix(struct rule_ctx *c)
{
	const char *key, *v, *why;

	if (c->ports != NULL)
		ERR(c, c->ports, "ports: a unix rule has no ports");
	if (c->r.dir == LDM_DIR_IN)
		ERR(c, c->group, "direction: a unix rule is about connect(); only \"out\"");
	c->r.dir = LDM_DIR_OUT;
	c->r.peer = LDM_PEER_UNIX;
	if (c->peer == NULL || strcmp(config_setting_name(c->peer), "to") != 0) {
		ERR(c, c->peer != NULL ? c->peer : c->group,
		    "a unix rule names its socket with 'to': a path (/tmp/.X11-unix/X0, "
		    "%%t/wayland-0) or @name for an abstract socket");
		return;
	}
	key = config_setting_name(c->peer);
	v = ldm_loader_get_string(c->l, c->file, c->peer, key, LDM_PATH_PATTERN_MAX - 1);
	if (v == NULL)
		return;
	if (ldm_unix_rule_check(v, &why) < 0) {
		ERR(c, c->peer, "to: '%s': %s", v, why);
		return;
	}
	c->r.path = strdup(v);
	if (c->r.path == NULL)
		ERR(c, c->peer, "out of memory");
}

static void
rule_free(struct ldm_rule *r)
{
	free(r->path);
	free(r->host);
	free(r->ports);
	free(r->comment);
	free(r->file);
}

static void
rule_append(struct rule_ctx *c)
{
	struct ldm_policy *p = c->l->p;
	struct ldm_rule *v;

	if (p->n_rules >= LDM_MAX_RULES) {
		if (!c->l->too_many_rules)
			ERR(c, c->group, "more than %d rules (includes counted)", LDM_MAX_RULES);
		c->l->too_many_rules = true;
		rule_free(&c->r);
		return;
	}
	c->r.file = strdup(c->file);
	v = reallocarray(p->rules, p->n_rules + 1, sizeof(*v));
	if (v == NULL || c->r.file == NULL) {
		if (v != NULL)
			p->rules = v;
		ERR(c, c->group, "out of memory");
		rule_free(&c->r);
		return;
	}
	p->rules = v;
	c->r.number = (unsigned)p->n_rules + 1;
	c->r.line = LINE(c->group);
	p->rules[p->n_rules++] = c->r;
}

static void
read_rule(struct loader *l, const char *file, const config_setting_t *g, enum ldm_action action)
{
	struct rule_ctx c = { .l = l, .file = file, .group = g, .errors_before = l->errors };
	const config_setting_t *proto = config_setting_get_member(g, "proto");
	int n = config_setting_length(g);

	if (proto != NULL && config_setting_type(proto) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(proto), "dbus") == 0) {
		ldm_loader_read_dbus_rule(l, file, g, action);
		return;
	}
	c.r.action = action;
	for (int i = 0; i < n; i++)
		rule_member(&c, config_setting_get_elem(g, i));
	if (!c.have_dir)
		c.r.dir = action == LDM_ACTION_DENY ? LDM_DIR_BOTH : LDM_DIR_OUT;
	if (c.r.proto == LDM_PROTO_UNIX) {
		rule_unix(&c);
	} else {
		rule_peer(&c);
		rule_ports(&c);
	}
	if (l->errors != c.errors_before) {
		rule_free(&c.r);
		return;
	}
	rule_append(&c);
}

void
ldm_loader_unix_items(struct loader *l)
{
	struct ldm_policy *p = l->p;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ldm_rule *r = &p->rules[i];
		struct ldm_item *v;

		if (r->peer != LDM_PEER_UNIX)
			continue;
		if (p->n_items >= LDM_CTL_ITEMS_MAX) {
			ldm_loader_error(
			        l, r->file, r->line,
			        "more than %d unix, write and dbus rules (includes counted)",
			        LDM_CTL_ITEMS_MAX);
			return;
		}
		v = reallocarray(p->items, p->n_items + 1, sizeof(*v));
		if (v == NULL) {
			ldm_loader_error(l, r->file, r->line, "out of memory");
			return;
		}
		p->items = v;
		v[p->n_items] = (struct ldm_item){
			.kind = LDM_ITEM_UNIX,
			.rule = r->number,
			.flags = r->action == LDM_ACTION_ALLOW ? LDM_ITEM_UNIX_ALLOW
			                                       : LDM_ITEM_UNIX_DENY,
			.value = strdup(r->path),
		};
		if (v[p->n_items].value == NULL) {
			ldm_loader_error(l, r->file, r->line, "out of memory");
			return;
		}
		p->n_items++;
	}
}

void
ldm_loader_read_rules(struct loader *l, const char *file, const config_setting_t *s,
                      enum ldm_action action)
{
	const char *what = action == LDM_ACTION_ALLOW ? "allow" : "deny";
	int n;

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		ldm_loader_error(l, file, LINE(s),
		                 "%s: must be a list of rules ( { ... }, ... ), "
		                 "not %s",
		                 what, ldm_setting_type_name(s));
		return;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i);

		if (!config_setting_is_group(g)) {
			ldm_loader_error(l, file, LINE(g),
			                 "%s: each rule must be a group { ... }, "
			                 "not %s",
			                 what, ldm_setting_type_name(g));
			continue;
		}
		read_rule(l, file, g, action);
	}
}
