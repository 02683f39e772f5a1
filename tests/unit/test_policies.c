/*
 * The shipped policies, the .conf files in policies/: each one loads without a diagnostic and
 * says what its comments promise. The verdicts are pure evaluation: no packet is sent.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"

#define OUT  LDM_DIR_OUT
#define IN   LDM_DIR_IN
#define TCP  LDM_PROTO_TCP
#define UDP  LDM_PROTO_UDP
#define ICMP LDM_PROTO_ICMP

/* Every file the package ships; test_all_load also finds any file missing from this list. */
static const char *const shipped[] = {
	"audit",          "local-data-mode", "mavproxy",        "mission-planner", "offline",
	"qgroundcontrol", "radio-herelink",  "vehicle-mavlink", "vehicle-video",
};

/* The aircraft's network, a Herelink hotspot and an IPv6 aircraft network, all on-link. */
static const struct ldm_lan_entry lan_entries[] = {
	{ .prefix = { AF_INET, 24, { 192, 168, 144, 0 } }, .ifindex = 0 },
	{ .prefix = { AF_INET, 24, { 192, 168, 43, 0 } }, .ifindex = 0 },
	{ .prefix = { AF_INET6, 64, { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x44 } }, .ifindex = 0 },
};
static const struct ldm_lan lan = { lan_entries, ELEMENTSOF(lan_entries) };

static const char *
srcdir(void)
{
	const char *s = getenv("LDM_TEST_SRCDIR");

	return s != NULL && s[0] != '\0' ? s : ".";
}

/* Loads policies/NAME.conf the way `ldmctl check` does; fails the test on any diagnostic. */
static struct ldm_policy *
load(const char *name)
{
	char dir[4096], path[4096 + 80];
	const char *dirs[1] = { dir };
	struct ldm_load_opts opts = { .dirs = dirs, .n_dirs = 1, .admin_owned = false };
	struct ldm_diags diags = { 0 };
	struct ldm_policy *p = NULL;
	int rc;

	assert_true(snprintf(dir, sizeof(dir), "%s/policies", srcdir()) < (int)sizeof(dir));
	assert_true(snprintf(path, sizeof(path), "%s/%s.conf", dir, name) < (int)sizeof(path));
	rc = ldm_policy_load_path(path, &opts, &p, &diags);
	for (size_t i = 0; i < diags.n; i++)
		print_error("%s:%u: %s\n", diags.v[i].file, diags.v[i].line, diags.v[i].msg);
	if (rc != 0 || diags.n != 0 || p == NULL) {
		size_t n = diags.n;

		ldm_diags_clear(&diags);
		fail_msg("%s: load returned %d with %zu diagnostics", path, rc, n);
	}
	ldm_diags_clear(&diags);
	return p;
}

static bool
ports_cover(const struct ldm_rule *r, uint16_t port)
{
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].lo <= port && port <= r->ports[i].hi)
			return true;
	return false;
}

/* What the design (docs/) promises of every shipped policy, checked rule by rule. */
static void
check_invariants(const struct ldm_policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ldm_rule *r = &p->rules[i];

		if (r->action != LDM_ACTION_ALLOW)
			continue;
		if (r->comment == NULL || r->comment[0] == '\0')
			fail_msg("%s: rule %u (%s:%u) has no comment", p->name, r->number, r->file,
			         r->line);
		/* DNS is never allowed wholesale: only by name, through host rules. */
		if (r->proto != LDM_PROTO_ICMP && r->peer != LDM_PEER_UNIX && ports_cover(r, 53))
			fail_msg("%s: rule %u allows port 53", p->name, r->number);
		/* Loopback is policed per port, never wholesale. */
		if (r->peer == LDM_PEER_LOOPBACK && r->n_ports == 0)
			fail_msg("%s: rule %u allows all of loopback", p->name, r->number);
		/* The shipped policies reach nothing on the internet, not even by name. */
		if (r->peer == LDM_PEER_HOST || r->peer == LDM_PEER_ANY)
			fail_msg("%s: rule %u allows peer kind %s", p->name, r->number,
			         ldm_peer_kind_name(r->peer));
	}
	assert_int_equal(p->n_dns_allow, 0);
}

static void
test_all_load(void **state)
{
	char dir[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	(void)state;
	assert_true(snprintf(dir, sizeof(dir), "%s/policies", srcdir()) < (int)sizeof(dir));
	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: %s (set LDM_TEST_SRCDIR to the source tree)", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char name[256];
		size_t len = strlen(de->d_name);
		struct ldm_policy *p;
		bool listed = false;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		assert_true(len - 5 < sizeof(name));
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		for (size_t i = 0; i < ELEMENTSOF(shipped); i++)
			listed |= strcmp(shipped[i], name) == 0;
		if (!listed)
			fail_msg("policies/%s is not in this test's list", de->d_name);
		p = load(name);
		assert_string_equal(p->name, name);
		assert_non_null(p->description);
		check_invariants(p);
		ldm_policy_free(p);
		n++;
	}
	closedir(d);
	assert_int_equal(n, ELEMENTSOF(shipped));
}

static void
test_modes(void **state)
{
	static const struct {
		const char *policy;
		enum ldm_mode mode;
	} cases[] = {
		{ "audit", LDM_MODE_AUDIT },
		{ "local-data-mode", LDM_MODE_ENFORCE },
		{ "mavproxy", LDM_MODE_ENFORCE },
		{ "mission-planner", LDM_MODE_ENFORCE },
		{ "offline", LDM_MODE_ENFORCE },
		{ "qgroundcontrol", LDM_MODE_ENFORCE },
		{ "radio-herelink", LDM_MODE_ENFORCE },
		{ "vehicle-mavlink", LDM_MODE_ENFORCE },
		{ "vehicle-video", LDM_MODE_ENFORCE },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_policy *p = load(cases[i].policy);

		if (p->mode != cases[i].mode)
			fail_msg("%s: mode %d, want %d", cases[i].policy, p->mode, cases[i].mode);
		/* No shipped policy lets a user turn enforcement off. */
		if (p->audit_override)
			fail_msg("%s: audit_override is true", cases[i].policy);
		ldm_policy_free(p);
	}
}

/* Offline and audit allow nothing; the app policies add no rule beyond their includes. */
static void
test_rule_counts(void **state)
{
	static const struct {
		const char *policy;
		size_t n_rules;
	} cases[] = {
		{ "offline", 0 },
		{ "audit", 0 },
		{ "vehicle-mavlink", 7 },
		{ "vehicle-video", 2 },
		{ "radio-herelink", 3 },
		{ "local-data-mode", 7 + 2 },
		{ "qgroundcontrol", 7 + 2 + 3 + 1 },      /* + the Wayland socket */
		{ "mission-planner", 7 + 2 + 3 + 1 + 2 }, /* + the X display, two names */
		{ "mavproxy", 7 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_policy *p = load(cases[i].policy);

		if (p->n_rules != cases[i].n_rules)
			fail_msg("%s: %zu rules, want %zu", cases[i].policy, p->n_rules,
			         cases[i].n_rules);
		ldm_policy_free(p);
	}
}

/*
 * One flow and the verdict it must get. COMMENT, when set, must occur in the comment of the
 * rule that allows; it is left NULL where several included rules match the same flow. A
 * blocked flow must be blocked by default deny (no shipped policy has deny rules).
 */
struct verdict_case {
	const char *policy;
	enum ldm_proto proto;
	enum ldm_dir dir;
	const char *addr;
	uint16_t port;
	const char *host;
	bool allow;
	const char *comment;
};

static const struct verdict_case verdict_cases[] = {
	/* qgroundcontrol: the aircraft, on-link, IPv4 and IPv6. */
	{ "qgroundcontrol", UDP, IN, "192.168.144.10", 14550, NULL, true, "MAVLink from" },
	{ "qgroundcontrol", UDP, OUT, "192.168.144.10", 14550, NULL, true, "MAVLink to" },
	{ "qgroundcontrol", UDP, OUT, "192.168.144.10", 14551, NULL, true, "MAVLink to" },
	{ "qgroundcontrol", UDP, OUT, "192.168.144.255", 14550, NULL, true, NULL },
	{ "qgroundcontrol", UDP, OUT, "255.255.255.255", 14550, NULL, true, "broadcast" },
	{ "qgroundcontrol", UDP, IN, "2001:db8:144::10", 14550, NULL, true, "MAVLink from" },
	{ "qgroundcontrol", UDP, OUT, "2001:db8:144::10", 14550, NULL, true, "MAVLink to" },
	{ "qgroundcontrol", TCP, OUT, "192.168.144.10", 5760, NULL, true, "TCP 5760" },
	{ "qgroundcontrol", UDP, IN, "192.168.144.20", 5600, NULL, true, "RTP video" },
	{ "qgroundcontrol", TCP, OUT, "192.168.144.20", 554, NULL, true, "RTSP" },
	{ "qgroundcontrol", TCP, OUT, "192.168.144.20", 8554, NULL, true, "RTSP" },
	{ "qgroundcontrol", TCP, OUT, "192.168.43.1", 8554, NULL, true, NULL },
	{ "qgroundcontrol", UDP, IN, "192.168.43.1", 14552, NULL, true, "Herelink" },
	/* qgroundcontrol: SITL on loopback, per port. */
	{ "qgroundcontrol", UDP, OUT, "127.0.0.1", 14540, NULL, true, "SITL" },
	{ "qgroundcontrol", UDP, IN, "127.0.0.1", 14550, NULL, true, "SITL" },
	{ "qgroundcontrol", UDP, IN, "::1", 14550, NULL, true, "SITL" },
	{ "qgroundcontrol", TCP, OUT, "127.0.0.1", 5760, NULL, true, "SITL" },
	{ "qgroundcontrol", TCP, OUT, "127.0.0.1", 8080, NULL, false, NULL },
	{ "qgroundcontrol", TCP, OUT, "127.0.0.1", 9050, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "127.0.0.1", 14561, NULL, false, NULL },
	/* qgroundcontrol: the internet, by address or by name, is blocked. */
	{ "qgroundcontrol", TCP, OUT, "198.51.100.7", 443, NULL, false, NULL },
	{ "qgroundcontrol", TCP, OUT, "2001:db8:100::7", 443, NULL, false, NULL },
	{ "qgroundcontrol", TCP, OUT, "198.51.100.7", 443, "terrain-ce.suite.auterion.com", false,
	  NULL },
	{ "qgroundcontrol", TCP, OUT, "198.51.100.8", 443, "mt1.google.com", false, NULL },
	{ "qgroundcontrol", ICMP, OUT, "198.51.100.7", 0, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "198.51.100.7", 14550, NULL, false, NULL },
	{ "qgroundcontrol", UDP, IN, "198.51.100.7", 14550, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "10.1.2.3", 14550, NULL, false, NULL },
	{ "qgroundcontrol", TCP, IN, "192.168.144.10", 5760, NULL, false, NULL },
	/* qgroundcontrol: on-link, but not MAVLink or video. */
	{ "qgroundcontrol", TCP, OUT, "192.168.144.1", 80, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "224.0.0.251", 5353, NULL, false, NULL },
	{ "qgroundcontrol", UDP, IN, "192.168.144.10", 5353, NULL, false, NULL },
	/* qgroundcontrol: DNS, never wholesale, wherever the resolver is. */
	{ "qgroundcontrol", UDP, OUT, "127.0.0.53", 53, NULL, false, NULL },
	{ "qgroundcontrol", TCP, OUT, "127.0.0.53", 53, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "8.8.8.8", 53, NULL, false, NULL },
	{ "qgroundcontrol", TCP, OUT, "8.8.8.8", 53, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "192.168.144.1", 53, NULL, false, NULL },
	{ "qgroundcontrol", UDP, OUT, "2001:4860:4860::8888", 53, NULL, false, NULL },

	/* mission-planner: the aircraft, and its web server for this computer only. */
	{ "mission-planner", UDP, IN, "192.168.144.10", 14550, NULL, true, "MAVLink from" },
	{ "mission-planner", TCP, OUT, "192.168.144.20", 8554, NULL, true, "RTSP" },
	{ "mission-planner", TCP, IN, "127.0.0.1", 56781, NULL, true, "web server" },
	{ "mission-planner", TCP, IN, "::1", 56781, NULL, true, "web server" },
	{ "mission-planner", TCP, IN, "192.168.144.10", 56781, NULL, false, NULL },
	{ "mission-planner", TCP, IN, "198.51.100.7", 56781, NULL, false, NULL },
	{ "mission-planner", TCP, OUT, "127.0.0.1", 56781, NULL, false, NULL },
	{ "mission-planner", TCP, OUT, "198.51.100.7", 443, "firmware.oborne.me", false, NULL },
	{ "mission-planner", TCP, OUT, "198.51.100.9", 80, "ip-api.com", false, NULL },
	{ "mission-planner", UDP, OUT, "127.0.0.53", 53, NULL, false, NULL },

	/* mavproxy: a MAVLink router, no video. */
	{ "mavproxy", UDP, IN, "192.168.144.10", 14550, NULL, true, "MAVLink from" },
	{ "mavproxy", UDP, OUT, "127.0.0.1", 14551, NULL, true, "SITL" },
	{ "mavproxy", UDP, OUT, "192.168.144.255", 14550, NULL, true, NULL },
	{ "mavproxy", TCP, OUT, "127.0.0.1", 5760, NULL, true, "SITL" },
	{ "mavproxy", UDP, IN, "192.168.144.20", 5600, NULL, false, NULL },
	{ "mavproxy", TCP, OUT, "192.168.144.20", 554, NULL, false, NULL },
	{ "mavproxy", TCP, OUT, "198.51.100.7", 443, "terrain.ardupilot.org", false, NULL },
	{ "mavproxy", UDP, OUT, "8.8.8.8", 53, NULL, false, NULL },

	/* vehicle-mavlink alone: each rule, and its edges. */
	{ "vehicle-mavlink", UDP, OUT, "192.168.144.10", 14551, NULL, true,
	  "MAVLink to an on-link" },
	{ "vehicle-mavlink", UDP, IN, "192.168.144.10", 14551, NULL, true,
	  "MAVLink from an on-link" },
	{ "vehicle-mavlink", UDP, OUT, "255.255.255.255", 14551, NULL, true, "broadcast" },
	{ "vehicle-mavlink", TCP, OUT, "192.168.144.10", 5760, NULL, true,
	  "TCP 5760 to an on-link" },
	{ "vehicle-mavlink", UDP, OUT, "127.0.0.1", 14560, NULL, true, "to SITL" },
	{ "vehicle-mavlink", UDP, IN, "127.0.0.1", 14540, NULL, true, "from SITL" },
	{ "vehicle-mavlink", TCP, OUT, "127.0.0.1", 5760, NULL, true, "ArduPilot SITL" },
	{ "vehicle-mavlink", UDP, OUT, "192.168.144.10", 14552, NULL, false, NULL },
	{ "vehicle-mavlink", UDP, IN, "192.168.144.10", 14549, NULL, false, NULL },
	{ "vehicle-mavlink", UDP, OUT, "255.255.255.255", 14552, NULL, false, NULL },
	{ "vehicle-mavlink", TCP, OUT, "192.168.144.10", 5761, NULL, false, NULL },
	{ "vehicle-mavlink", TCP, OUT, "127.0.0.1", 14550, NULL, false, NULL },
	{ "vehicle-mavlink", TCP, IN, "127.0.0.1", 5760, NULL, false, NULL },
	{ "vehicle-mavlink", UDP, IN, "192.168.144.20", 5600, NULL, false, NULL },
	{ "vehicle-mavlink", UDP, OUT, "198.51.100.7", 14550, NULL, false, NULL },

	/* vehicle-video alone. */
	{ "vehicle-video", UDP, IN, "192.168.144.20", 5000, NULL, true, "RTP video" },
	{ "vehicle-video", UDP, IN, "192.168.144.20", 5100, NULL, true, "RTP video" },
	{ "vehicle-video", UDP, IN, "192.168.144.20", 5600, NULL, true, "RTP video" },
	{ "vehicle-video", UDP, IN, "2001:db8:144::20", 5601, NULL, true, "RTP video" },
	{ "vehicle-video", TCP, OUT, "192.168.144.20", 554, NULL, true, "RTSP" },
	{ "vehicle-video", TCP, OUT, "192.168.144.20", 8554, NULL, true, "RTSP" },
	{ "vehicle-video", UDP, IN, "192.168.144.20", 5602, NULL, false, NULL },
	{ "vehicle-video", UDP, OUT, "192.168.144.20", 5600, NULL, false, NULL },
	{ "vehicle-video", UDP, IN, "198.51.100.7", 5600, NULL, false, NULL },
	{ "vehicle-video", TCP, OUT, "198.51.100.7", 554, NULL, false, NULL },
	{ "vehicle-video", TCP, OUT, "127.0.0.1", 8554, NULL, false, NULL },
	{ "vehicle-video", UDP, IN, "192.168.144.10", 14550, NULL, false, NULL },

	/* radio-herelink alone: the ground unit and nothing beside it. */
	{ "radio-herelink", TCP, OUT, "192.168.43.1", 8554, NULL, true,
	  "RTSP video from the Here" },
	{ "radio-herelink", UDP, OUT, "192.168.43.1", 14552, NULL, true, "MAVLink to the Here" },
	{ "radio-herelink", UDP, IN, "192.168.43.1", 14550, NULL, true, "MAVLink from the Here" },
	{ "radio-herelink", TCP, OUT, "192.168.43.1", 80, NULL, false, NULL },
	{ "radio-herelink", UDP, OUT, "192.168.43.1", 14553, NULL, false, NULL },
	{ "radio-herelink", TCP, OUT, "192.168.43.2", 8554, NULL, false, NULL },
	{ "radio-herelink", UDP, IN, "192.168.144.10", 14550, NULL, false, NULL },

	/* local-data-mode: the vehicle policies and nothing more. */
	{ "local-data-mode", UDP, IN, "192.168.144.10", 14550, NULL, true, "MAVLink from" },
	{ "local-data-mode", UDP, IN, "192.168.144.20", 5600, NULL, true, "RTP video" },
	{ "local-data-mode", TCP, OUT, "127.0.0.1", 5760, NULL, true, "SITL" },
	{ "local-data-mode", TCP, OUT, "198.51.100.7", 443, NULL, false, NULL },
	{ "local-data-mode", UDP, OUT, "127.0.0.53", 53, NULL, false, NULL },
	{ "local-data-mode", UDP, OUT, "192.168.144.1", 53, NULL, false, NULL },
	{ "local-data-mode", TCP, OUT, "127.0.0.1", 631, NULL, false, NULL },
	{ "local-data-mode", TCP, OUT, "192.168.144.1", 22, NULL, false, NULL },

	/* offline: nothing, loopback included. */
	{ "offline", UDP, OUT, "127.0.0.1", 14550, NULL, false, NULL },
	{ "offline", UDP, IN, "127.0.0.1", 14550, NULL, false, NULL },
	{ "offline", TCP, OUT, "127.0.0.1", 5760, NULL, false, NULL },
	{ "offline", TCP, OUT, "::1", 5760, NULL, false, NULL },
	{ "offline", UDP, OUT, "127.0.0.53", 53, NULL, false, NULL },
	{ "offline", UDP, IN, "192.168.144.10", 14550, NULL, false, NULL },
	{ "offline", UDP, OUT, "192.168.144.255", 14550, NULL, false, NULL },
	{ "offline", TCP, OUT, "192.168.43.1", 8554, NULL, false, NULL },
	{ "offline", TCP, OUT, "198.51.100.7", 443, NULL, false, NULL },
	{ "offline", ICMP, OUT, "192.168.144.10", 0, NULL, false, NULL },

	/* audit: would block everything (audit mode logs instead of blocking). */
	{ "audit", UDP, IN, "192.168.144.10", 14550, NULL, false, NULL },
	{ "audit", TCP, OUT, "127.0.0.1", 5760, NULL, false, NULL },
	{ "audit", TCP, OUT, "198.51.100.7", 443, NULL, false, NULL },
	{ "audit", UDP, OUT, "8.8.8.8", 53, NULL, false, NULL },
};

static void
check_verdict(const struct ldm_policy *p, const struct verdict_case *c)
{
	struct ldm_flow f = { .proto = c->proto, .dir = c->dir, .port = c->port, .host = c->host };
	struct ldm_verdict v = { .allow = !c->allow };
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "%s: %s %s %s port %u%s%s", c->policy,
	         ldm_proto_name(c->proto), c->dir == IN ? "in from" : "out to", c->addr, c->port,
	         c->host ? " host " : "", c->host ? c->host : "");
	if (ldm_addr_parse(c->addr, &f.family, f.addr) != 0)
		fail_msg("%s: bad address in the test", what);
	rc = ldm_policy_judge(p, &f, &lan, &v);
	if (rc != 0)
		fail_msg("%s: judge returned %d", what, rc);
	if (v.allow != c->allow)
		fail_msg("%s: %s by rule %u (%s), want %s", what, v.allow ? "allowed" : "blocked",
		         v.rule ? v.rule->number : 0,
		         v.rule && v.rule->comment ? v.rule->comment : "-",
		         c->allow ? "allowed" : "blocked");
	if (!c->allow) {
		if (v.rule != NULL)
			fail_msg("%s: blocked by rule %u, want default deny", what, v.rule->number);
		return;
	}
	if (v.rule == NULL || v.rule->action != LDM_ACTION_ALLOW)
		fail_msg("%s: allowed without an allow rule", what);
	if (c->comment != NULL &&
	    (v.rule->comment == NULL || strstr(v.rule->comment, c->comment) == NULL))
		fail_msg("%s: allowed by rule %u '%s', want a comment with '%s'", what,
		         v.rule->number, v.rule->comment ? v.rule->comment : "", c->comment);
}

static void
test_verdicts(void **state)
{
	struct ldm_policy *p = NULL;
	const char *loaded = "";

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(verdict_cases); i++) {
		const struct verdict_case *c = &verdict_cases[i];

		if (strcmp(c->policy, loaded) != 0) {
			ldm_policy_free(p);
			p = load(c->policy);
			loaded = c->policy;
		}
		check_verdict(p, c);
	}
	ldm_policy_free(p);
}

/* No shipped policy lets a DNS query leave, not even for the hosts it knows. */
static void
test_no_dns(void **state)
{
	static const char *const names[] = {
		"example.com",
		"terrain-ce.suite.auterion.com",
		"firmware.oborne.me",
		"mt1.google.com",
		"terrain.ardupilot.org",
		"localhost",
		"www.google-analytics.com",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
		struct ldm_policy *p = load(shipped[i]);

		for (size_t j = 0; j < ELEMENTSOF(names); j++) {
			const struct ldm_rule *r = NULL;

			if (ldm_policy_name_allowed(p, names[j], &r))
				fail_msg("%s: a query for %s may leave (rule %u)", shipped[i],
				         names[j], r ? r->number : 0);
		}
		ldm_policy_free(p);
	}
}

static void
test_known_labels(void **state)
{
	static const struct {
		const char *policy, *host, *label; /* LABEL: a part of it, or NULL for none */
	} cases[] = {
		{ "qgroundcontrol", "mt1.google.com", "Google" },
		{ "qgroundcontrol", "ecn.t3.tiles.virtualearth.net", "Bing" },
		{ "qgroundcontrol", "server.arcgisonline.com", "Esri" },
		{ "qgroundcontrol", "terrain-ce.suite.auterion.com", "terrain" },
		{ "qgroundcontrol", "docs.qgroundcontrol.com", "version check" },
		{ "qgroundcontrol", "api.github.com", "PX4 release" },
		{ "qgroundcontrol", "firmware.ardupilot.org", "ArduPilot firmware" },
		{ "qgroundcontrol", "px4-travis.s3.amazonaws.com", "PX4 firmware" },
		{ "qgroundcontrol", "logs.px4.io", "Flight Review" },
		{ "qgroundcontrol", "google.com", NULL },
		{ "qgroundcontrol", "example.com", NULL },
		{ "mission-planner", "firmware.oborne.me", "Mission Planner update" },
		{ "mission-planner", "www.google-analytics.com", "analytics" },
		{ "mission-planner", "ip-api.com", "geo-IP" },
		{ "mission-planner", "mt0.google.com", "Google" },
		{ "mission-planner", "autotest.ardupilot.org", "parameter" },
		{ "mission-planner", "terrain-ce.suite.auterion.com", NULL },
		{ "mavproxy", "terrain.ardupilot.org", "terrain" },
		{ "mavproxy", "tile.openstreetmap.org", "OpenStreetMap" },
		{ "mavproxy", "firmware.oborne.me", NULL },
		{ "local-data-mode", "mt1.google.com", NULL },
		{ "offline", "mt1.google.com", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_policy *p = load(cases[i].policy);
		const char *label = ldm_policy_known_label(p, cases[i].host);

		if (cases[i].label == NULL && label != NULL)
			fail_msg("%s: %s labelled '%s', want none", cases[i].policy, cases[i].host,
			         label);
		if (cases[i].label != NULL &&
		    (label == NULL || strstr(label, cases[i].label) == NULL))
			fail_msg("%s: %s labelled '%s', want '%s'", cases[i].policy, cases[i].host,
			         label ? label : "(none)", cases[i].label);
		ldm_policy_free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_load),    cmocka_unit_test(test_modes),
		cmocka_unit_test(test_rule_counts), cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_no_dns),      cmocka_unit_test(test_known_labels),
	};

	return cmocka_run_group_tests_name("policies", tests, NULL, NULL);
}
