/* The policy loader: every rejection path reports its line and message; good files load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldm/policy.h"
#include "ldm/util.h"
#include "lacks.h"

static char tmpdir[] = "/tmp/ldm-test-load-XXXXXX";

static void
write_file_at(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
write_file(const char *name, const char *text)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	write_file_at(path, text);
}

/* Loads TEXT as t.conf; returns the load result, diagnostics in *d. */
static int
load_text(const char *text, struct ldm_policy **ret, struct ldm_diags *d)
{
	const char *dirs[] = { tmpdir };
	struct ldm_load_opts o = { .dirs = dirs, .n_dirs = 1 };
	char path[256];

	write_file("t.conf", text);
	(void)snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	return ldm_policy_load_path(path, &o, ret, d);
}

static bool
has_diag(const struct ldm_diags *d, unsigned line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && strstr(d->v[i].msg, needle) != NULL)
			return true;
	return false;
}

static void
print_diags(const struct ldm_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s:%u: %s\n", d->v[i].file, d->v[i].line, d->v[i].msg);
}

static void
test_rejections(void **state)
{
	/* Line 1 is the rule or setting under test; each case has one problem. */
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"14550\" } \n", 2,
		  "syntax error" },
		{ "alow = ();\n", 1, "unknown setting 'alow'" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; port = \"1\" } );\n", 1,
		  "unknown setting 'port' in a rule" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"0\" } );\n", 1,
		  "a port must be 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"70000\" } );\n", 1,
		  "a port must be 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = 70000 } );\n", 1,
		  "a port must be 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = -1 } );\n", 1,
		  "a port must be 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"20-10\" } );\n", 1,
		  "from low to high" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"80-\" } );\n", 1,
		  "a port must be 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = \"http\" } );\n", 1,
		  "expected ports 1-65535" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; ports = 1.5 } );\n", 1,
		  "ports: must be a string, not a number" },
		{ "allow = ( { proto = \"tcp\"; to = \"10.0.0.1/8\" } );\n", 1, "host bits set" },
		{ "allow = ( { proto = \"tcp\"; to = \"10.0.0.0/33\" } );\n", 1,
		  "is not an IPv4/IPv6 address" },
		{ "allow = ( { proto = \"tcp\"; to = \"10.0.0\" } );\n", 1,
		  "is not an IPv4/IPv6 address" },
		{ "allow = ( { proto = \"tcp\"; to = \"2001:db8::1/64\" } );\n", 1,
		  "host bits set" },
		{ "allow = ( { proto = \"tcp\"; to = \"2001:db8::/129\" } );\n", 1,
		  "is not an IPv4/IPv6 address" },
		{ "allow = ( { proto = \"tcp\"; to = \"internet\" } );\n", 1,
		  "or a keyword (loopback, lan" },
		{ "allow = ( { proto = \"sctp\"; to = \"lan\" } );\n", 1,
		  "proto: 'sctp' is not one of tcp, udp, icmp, any" },
		{ "allow = ( { proto = \"icmp\"; to = \"lan\"; ports = \"80\" } );\n", 1,
		  "icmp has no ports" },
		{ "allow = ( { proto = \"tcp\"; ports = \"80\" } );\n", 1,
		  "a rule needs one of 'to'" },
		{ "allow = ( { proto = \"tcp\"; to = \"lan\"; host = \"a.example.org\" } );\n", 1,
		  "a rule takes one of to, from or host" },
		{ "allow = ( { proto = \"tcp\"; host = \"-bad-.example.org\" } );\n", 1,
		  "is not a DNS name" },
		{ "allow = ( { proto = \"tcp\"; host = \"*.org\" } );\n", 1,
		  "the suffix needs two labels" },
		{ "allow = ( { proto = \"tcp\"; host = \"a..example.org\" } );\n", 1,
		  "is not a DNS name" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; direction = \"up\" } );\n", 1,
		  "direction: 'up'" },
		{ "allow = ( { proto = \"udp\"; to = \"lan\"; direction = \"in\" } );\n", 1,
		  "names its peers with 'from'" },
		{ "allow = ( { proto = \"udp\"; from = \"lan\" } );\n", 1,
		  "only direction \"in\" rules take 'from'" },
		{ "allow = ( { host = \"a.example.org\"; direction = \"in\" } );\n", 1,
		  "host: direction \"in\"" },
		{ "allow = ( { proto = 6; to = \"lan\" } );\n", 1,
		  "proto: must be a string, not a number" },
		{ "allow = { proto = \"tcp\"; to = \"lan\" };\n", 1, "allow: must be a list" },
		{ "allow = ( \"tcp lan\" );\n", 1, "each rule must be a group" },
		{ "mode = \"permissive\";\n", 1, "mode: 'permissive'" },
		{ "audit_override = \"yes\";\n", 1, "audit_override: must be true or false" },
		{ "name = \"Bad Name\";\n", 1, "name: 'Bad Name' is not a policy name" },
		{ "syscalls = { address_families = [ \"ipx\" ]; };\n", 1,
		  "'ipx' is not a known address family" },
		{ "syscalls = { address_families = [ \"packet\" ]; };\n", 1,
		  "'packet' is always denied" },
		{ "syscalls = { deny = [ \"no_such_call\" ]; };\n", 1,
		  "not a system call libseccomp knows" },
		{ "syscalls = { allow = [ \"read\" ]; };\n", 1,
		  "syscalls: unknown setting 'allow'" },
		{ "syscalls = [ \"read\" ];\n", 1, "syscalls: must be a group" },
		{ "dns_allow = [ \"bad name.org\" ];\n", 1, "dns_allow: 'bad name.org'" },
		{ "known = ( { host = \"a.example.org\" } );\n", 1, "needs host and label" },
		{ "known = ( { host = \"a.example.org\"; label = \"x\"; url = \"y\" } );\n", 1,
		  "known: unknown setting 'url'" },
		{ "include = [ \"../etc/passwd\" ];\n", 1, "is not a policy name" },
		{ "include = [ \"nowhere\" ];\n", 1, "policy 'nowhere': not found" },
		{ "include = [ \"t\" ];\n", 1, "include: cycle" },
		{ "description = 5;\n", 1, "description: must be a string" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ldm_policy *p = (struct ldm_policy *)0x1;
		struct ldm_diags d = { 0 };
		int rc = load_text(cases[i].text, &p, &d);

		if (rc == 0 || !has_diag(&d, cases[i].line, cases[i].msg)) {
			print_diags(&d);
			fail_msg("case %zu '%s': rc %d, want line %u '%s'", i, cases[i].text, rc,
			         cases[i].line, cases[i].msg);
		}
		assert_ptr_equal(p, (struct ldm_policy *)0x1); /* untouched on error */
		ldm_diags_clear(&d);
	}
}

/* One file with several problems reports all of them, each at its own line. */
static void
test_every_error(void **state)
{
	static const char text[] = "name = \"t\";\n"
	                           "allow = (\n"
	                           "  { proto = \"udp\"; to = \"lan\"; ports = \"0\" },\n"
	                           "  { proto = \"tcp\"; to = \"1.2.3.4/8\" },\n"
	                           "  { proto = \"udp\"; to = \"lan\"; prots = \"53\" }\n"
	                           ");\n"
	                           "modee = \"audit\";\n";
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };

	(void)state;
	assert_int_equal(load_text(text, &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(d.n, 4);
	assert_true(has_diag(&d, 3, "a port must be 1-65535"));
	assert_true(has_diag(&d, 4, "host bits set"));
	assert_true(has_diag(&d, 5, "unknown setting 'prots'"));
	assert_true(has_diag(&d, 7, "unknown setting 'modee'"));
	ldm_diags_clear(&d);
}

static void
test_too_large(void **state)
{
	size_t len = LDM_MAX_POLICY_BYTES + 10;
	char *big = malloc(len + 1);
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	big[len] = '\0';
	assert_int_equal(load_text(big, &p, &d), -EFBIG);
	assert_true(has_diag(&d, 0, "larger than 1 MiB"));
	free(big);
	ldm_diags_clear(&d);
}

static void
test_too_many_rules(void **state)
{
	const char *rule = "{ proto = \"udp\"; to = \"lan\"; ports = \"1\" },\n";
	size_t n = LDM_MAX_RULES + 1, len = strlen(rule);
	char *text = malloc(n * len + 64);
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	size_t pos;

	(void)state;
	assert_non_null(text);
	pos = (size_t)snprintf(text, 64, "allow = (\n");
	for (size_t i = 0; i < n; i++, pos += len)
		memcpy(text + pos, rule, len);
	memcpy(text + pos - 2, "\n);\n", 5);
	assert_int_equal(load_text(text, &p, &d), -EINVAL);
	assert_true(d.n == 1 && strstr(d.v[0].msg, "more than 10000 rules") != NULL);
	free(text);
	ldm_diags_clear(&d);
}

static void
test_include_depth(void **state)
{
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	char name[32], text[128];

	(void)state;
	for (int i = 0; i < LDM_MAX_INCLUDE_DEPTH + 2; i++) {
		(void)snprintf(name, sizeof(name), "deep%d.conf", i);
		(void)snprintf(text, sizeof(text), "include = [ \"deep%d\" ];\n", i + 1);
		write_file(name, text);
	}
	assert_int_equal(load_text("include = [ \"deep0\" ];\n", &p, &d), -EINVAL);
	assert_true(d.n == 1 && strstr(d.v[0].msg, "nests deeper than") != NULL);
	ldm_diags_clear(&d);
}

static void
test_good_policy(void **state)
{
	static const char text[] =
	        "name = \"t\";\n"
	        "description = \"a test\";\n"
	        "mode = \"audit\";\n"
	        "audit_override = true;\n"
	        "allow = (\n"
	        "  { proto = \"udp\"; to = \"lan\"; ports = \"14550-14560\"; comment = \"MAVLink\" "
	        "},\n"
	        "  { proto = \"udp\"; from = \"lan\"; direction = \"in\"; ports = 14550 },\n"
	        "  { proto = \"tcp\"; host = \"Tiles.Example.ORG.\"; ports = \"443\" }\n"
	        ");\n"
	        "deny = ( { to = \"192.168.1.1\"; comment = \"router\" } );\n"
	        "include = [ \"inc\", \"inc\" ];\n"
	        "dns_allow = [ \"*.ntp.example.org\" ];\n"
	        "known = ( { host = \"*.google.com\"; label = \"Google tiles\" } );\n"
	        "syscalls = { address_families = [ \"unix\", \"inet\" ]; deny = [ \"uname\" ]; "
	        "};\n";
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };

	(void)state;
	write_file("inc.conf",
	           "mode = \"enforce\";\n"
	           "allow = ( { proto = \"tcp\"; to = \"loopback\"; ports = \"5760\" } );\n"
	           "syscalls = { address_families = [ \"inet\", \"inet6\" ]; };\n");
	if (load_text(text, &p, &d) != 0) {
		print_diags(&d);
		fail_msg("good policy refused");
	}
	assert_string_equal(p->name, "t");
	assert_string_equal(p->description, "a test");
	assert_int_equal(p->mode, LDM_MODE_AUDIT); /* the top file decides */
	assert_true(p->audit_override);
	assert_int_equal(p->n_rules, 5); /* the top file's rules first, the include once */
	assert_string_equal(p->rules[0].comment, "MAVLink");
	assert_int_equal(p->rules[1].dir, LDM_DIR_IN);
	assert_string_equal(p->rules[2].host, "tiles.example.org");
	assert_int_equal(p->rules[3].action, LDM_ACTION_DENY);
	assert_int_equal(p->rules[3].dir, LDM_DIR_BOTH);
	assert_int_equal(p->rules[4].peer, LDM_PEER_LOOPBACK);
	assert_int_equal(p->rules[4].number, 5);
	assert_int_equal(p->rules[4].line, 2);
	assert_non_null(strstr(p->rules[4].file, "inc.conf"));
	assert_true(p->families == (UINT64_C(1) << AF_INET)); /* intersection */
	assert_int_equal(p->n_deny_syscalls, 1);
	assert_string_equal(p->known[0].label, "Google tiles");
	ldm_policy_free(p);
	ldm_diags_clear(&d);
}

static void
test_defaults(void **state)
{
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };

	(void)state;
	assert_int_equal(load_text("", &p, &d), 0);
	assert_string_equal(p->name, "t");
	assert_int_equal(p->mode, LDM_MODE_ENFORCE);
	assert_false(p->audit_override);
	assert_int_equal(p->n_rules, 0);
	assert_true(p->families == ((UINT64_C(1) << AF_UNIX) | (UINT64_C(1) << AF_INET) |
	                            (UINT64_C(1) << AF_INET6) | (UINT64_C(1) << AF_NETLINK)));
	ldm_policy_free(p);
	ldm_diags_clear(&d);
}

/* Makes directory NAME in tmpdir with MODE and a policy w.conf (mode 0644) in it. */
static void
admin_dir(const char *name, mode_t mode, char *ret_dir, size_t size)
{
	char f[512];

	(void)snprintf(ret_dir, size, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(ret_dir, 0755), 0);
	(void)snprintf(f, sizeof(f), "%s/w.conf", ret_dir);
	write_file_at(f, "allow = ();\n");
	assert_int_equal(chmod(f, 0644), 0);
	assert_int_equal(chmod(ret_dir, mode), 0);
}

/*
 * Loads w in DIR in the daemon's mode (admin_owned); wants RC and, for a refusal, one
 * diagnostic that contains WHY.
 */
static void
admin_load(const char *what, const char *dir, int rc, const char *why)
{
	const char *dirs[] = { dir };
	struct ldm_load_opts o = { .dirs = dirs, .n_dirs = 1, .admin_owned = true };
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	int r = ldm_policy_load_name("w", &o, &p, &d);

	if (r != rc || (why != NULL && (d.n != 1 || strstr(d.v[0].msg, why) == NULL)))
		fail_msg("%s: want %d (%s), got %d (%s)", what, rc, why ? why : "-", r,
		         d.n > 0 ? d.v[0].msg : "no diagnostic");
	if (rc < 0)
		assert_null(p);
	ldm_policy_free(p);
	ldm_diags_clear(&d);
}

/*
 * The daemon's mode refuses files and directories that are not an administrator's: owner
 * not root, writable by group or others, symlinks. The directory is judged first, so
 * without root (every directory the caller makes is not root's) only the directory cases
 * can be told apart: the file cases need root (a failure in CI, skipped elsewhere).
 */
static void
test_admin_refused(void **state)
{
	const uid_t nobody = 65534;
	char dir[256], path[512], link[512];

	(void)state;
	admin_dir("dw", 0775, dir, sizeof(dir));
	admin_load("group-writable directory", dir, -EPERM, "directory is writable");
	admin_dir("down", 0755, dir, sizeof(dir));
	if (geteuid() == 0)
		assert_int_equal(chown(dir, nobody, nobody), 0);
	admin_load("directory not root's", dir, -EPERM, "directory is not owned by root");
	if (geteuid() != 0) {
		ldm_test_lacks("policy_load admin_refused: the file cases need root-owned "
		               "directories");
		skip();
	}

	admin_dir("gw", 0755, dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/w.conf", dir);
	assert_int_equal(chmod(path, 0664), 0);
	admin_load("group-writable file", dir, -EPERM, "writable by group or others");
	assert_int_equal(chmod(path, 0646), 0);
	admin_load("other-writable file", dir, -EPERM, "writable by group or others");

	admin_dir("own", 0755, dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/w.conf", dir);
	assert_int_equal(chown(path, nobody, nobody), 0);
	admin_load("file not root's", dir, -EPERM, "not owned by root");

	admin_dir("lnk", 0755, dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/w.conf", dir);
	(void)snprintf(link, sizeof(link), "%s/l.conf", dir);
	assert_int_equal(rename(path, link), 0);
	assert_int_equal(symlink(link, path), 0);
	admin_load("symlink", dir, -EPERM, "a symlink");
}

/*
 * ... and loads an administrator's file: root-owned 0644 in a root-owned 0755 directory.
 * Only root can make one; elsewhere this is reported as skipped (a failure in CI).
 */
static void
test_admin_owned(void **state)
{
	const char *dirs[] = { tmpdir };
	struct ldm_load_opts o = { .dirs = dirs, .n_dirs = 1, .admin_owned = true };
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	char dir[256];

	(void)state;
	if (geteuid() != 0) {
		ldm_test_lacks("policy_load admin_owned: only root can make root-owned files");
		skip();
	}
	admin_dir("ok", 0755, dir, sizeof(dir));
	admin_load("root's file", dir, 0, NULL);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	assert_int_equal(ldm_policy_load_name("../w", &o, &p, &d), -EINVAL);
	assert_int_equal(ldm_policy_load_name("nope", &o, &p, &d), -ENOENT);
	assert_null(p);
	assert_int_equal(d.n, 2);
	ldm_diags_clear(&d);
}

/* sha256sum of the two files test_file_hashes writes */
#define HASH_TOP "6cb83cf3264e2920f6f6ccfced0a99d3b631fbccf6d3586fc42385b621f4425f"
#define HASH_INC "8fc00cf7255ce60f7f1de5fb9b906c0573019583a365068a798df2151f7c44d5"

/* Every file the policy was built from, hashed: the main file, then an include once. */
static void
test_file_hashes(void **state)
{
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };
	char want[256];

	(void)state;
	write_file("hinc.conf", "dns_allow = [ \"a.example.org\" ];\n");
	assert_int_equal(load_text("include = [ \"hinc\", \"hinc\" ];\n", &p, &d), 0);
	assert_int_equal(p->n_files, 2);
	(void)snprintf(want, sizeof(want), "%s/t.conf", tmpdir);
	assert_string_equal(p->files[0].path, want);
	assert_string_equal(p->files[0].sha256, HASH_TOP);
	(void)snprintf(want, sizeof(want), "%s/hinc.conf", tmpdir);
	assert_string_equal(p->files[1].path, want);
	assert_string_equal(p->files[1].sha256, HASH_INC);
	ldm_policy_free(p);
	ldm_diags_clear(&d);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *argv[] = { "rm", "-rf", tmpdir, NULL };
	pid_t pid;

	(void)state;
	/* No shell: fork and exec rm with a fixed argv. */
	pid = fork();
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejections),    cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_too_large),     cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_include_depth), cmocka_unit_test(test_good_policy),
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_admin_refused),
		cmocka_unit_test(test_admin_owned),   cmocka_unit_test(test_file_hashes),
	};

	return cmocka_run_group_tests_name("policy_load", tests, setup, teardown);
}
