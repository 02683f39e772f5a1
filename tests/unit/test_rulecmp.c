/*
 * The tamper check's comparison (enforcer/rulecmp.c) against real iptables-save output:
 * tests/golden/verify/mixed-v{4,6}.commit is what ldm-ruleset wrote, .save what the kernel
 * listed after committing it (tests/golden/verify/make-goldens.sh regenerates both).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rulecmp.h"

static char *
slurp(const char *name)
{
	const char *dir = getenv("LDM_TEST_SRCDIR");
	char path[4096];
	FILE *f;
	char *s;
	long n;

	(void)snprintf(path, sizeof(path), "%s/tests/golden/verify/%s", dir ? dir : ".", name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* TEXT with the first occurrence of FROM replaced by TO (a new string). */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	if (at == NULL)
		fail_msg("'%s' not in the text", from);
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) < 0)
		fail_msg("out of memory");
	return out;
}

static void
expect(const char *commit, const char *save, int want, const char *diff_has)
{
	char diff[512];
	int rc = ldm_rules_compare(commit, save, diff, sizeof(diff));

	if (rc != want)
		fail_msg("got %d, want %d (%s)", rc, want, diff);
	if (diff_has != NULL && strstr(diff, diff_has) == NULL)
		fail_msg("diff '%s' does not name '%s'", diff, diff_has);
}

static void
test_same(void **state)
{
	for (int f = 4; f <= 6; f += 2) {
		char name[32];
		char *c, *s;

		(void)snprintf(name, sizeof(name), "mixed-v%d.commit", f);
		c = slurp(name);
		(void)snprintf(name, sizeof(name), "mixed-v%d.save", f);
		s = slurp(name);
		expect(c, s, 0, NULL);
		expect(c, c, 0, NULL);
		expect(s, s, 0, NULL);
		free(c);
		free(s);
	}
	(void)state;
}

static void
test_changed(void **state)
{
	char *c = slurp("mixed-v4.commit"), *s = slurp("mixed-v4.save"), *t, *u;

	(void)state;
	/* A port changed in place (iptables -R). */
	t = replace(s, "--dports 5760,14550", "--dports 5760,14551");
	expect(c, t, 1, "mangle LDM-S5");
	free(t);
	/* A target changed: the approval chain swapped for ACCEPT. */
	t = replace(s, "-m comment --comment \"ldm rule 1\" -j LDM-A5",
	            "-m comment --comment \"ldm rule 1\" -j ACCEPT");
	expect(c, t, 1, "LDM-S5");
	free(t);
	/* An address widened, a negation dropped, a mark changed. */
	t = replace(s, "-d 192.168.144.0/24 -o veth-drone -p icmp",
	            "-d 192.168.0.0/16 -o veth-drone -p icmp");
	expect(c, t, 1, "LDM-S5");
	free(t);
	t = replace(s, "-m mark ! --mark 0x8000000/0x8000000 -m cgroup",
	            "-m mark --mark 0x8000000/0x8000000 -m cgroup");
	expect(c, t, 1, "mangle LDM-POST");
	free(t);
	t = replace(s, "--set-xmark 0x8500000/0xff00000", "--set-xmark 0x8600000/0xff00000");
	expect(c, t, 1, "mangle LDM-A5");
	free(t);
	/* Two rules swapped: same count, same set, another order. */
	t = replace(s, "-A LDM-A5 -j MARK --set-xmark 0x8500000/0xff00000\n-A LDM-A5 -j ACCEPT\n",
	            "-A LDM-A5 -j ACCEPT\n-A LDM-A5 -j MARK --set-xmark 0x8500000/0xff00000\n");
	expect(c, t, 1, "mangle LDM-A5");
	free(t);
	/* One rule more, one rule fewer. */
	t = replace(s, "-A LDM-A5 -j ACCEPT\n", "-A LDM-A5 -j ACCEPT\n-A LDM-A5 -j ACCEPT\n");
	expect(c, t, 1, "LDM-A5");
	free(t);
	t = replace(s, "-A LDM-Q5 -j NFQUEUE --queue-num 4242 --queue-bypass\n", "");
	expect(c, t, 1, "LDM-Q5");
	free(t);
	/* A rule moved to another table's chain of the same name. */
	t = replace(s, "-A LDM-GUARD -m cgroup --path ldmt-gold -j DROP\n", "");
	u = replace(t, "-A LDM-POST -m mark --mark",
	            "-A LDM-GUARD -m cgroup --path ldmt-gold -j DROP\n-A LDM-POST -m mark --mark");
	expect(c, u, 1, NULL);
	free(t);
	free(u);
	free(c);
	free(s);
}

static void
test_spelling(void **state)
{
	char *c = slurp("mixed-v4.commit"), *s = slurp("mixed-v4.save"), *t, *u;

	(void)state;
	/* Counters, quotes, hex case and zeros, an explicit /32: the same rules. */
	t = replace(s, "-A LDM-A5 -j ACCEPT", "[12:3456] -A LDM-A5 -j ACCEPT");
	u = replace(t, "--comment \"ldm rule 13\"", "--comment ldm\\ rule\\ 13");
	free(t);
	t = replace(u, "--set-xmark 0x8500000/0xff00000", "--set-xmark 0x08500000/0x0FF00000");
	expect(c, t, 0, NULL);
	free(u);
	free(t);
	/* Rules of other chains are not ours to judge. */
	t = replace(s, "-A OUTPUT -j LDM-OUT\n", "-A OUTPUT -j LDM-OUT\n-A OUTPUT -j ACCEPT\n");
	expect(c, t, 0, NULL);
	free(t);
	/* A foreign rule in our chain, in a form we never write. */
	t = replace(s, "-A LDM-A5 -j ACCEPT\n", "-A LDM-A5 -j ACCEPT\n-A LDM-A5 stray words\n");
	expect(c, t, 1, "LDM-A5");
	free(t);
	assert_int_equal(ldm_rules_compare(NULL, s, NULL, 0), -EINVAL);
	expect("", "", 0, NULL);
	free(c);
	free(s);
}

/*
 * Two rules that differ only past an option's first 256 bytes are different rules: a
 * comparison that cut options there let a rule be changed in its tail unseen.
 */
static void
test_long_option(void **state)
{
	char a[600], b[600], commit[800], save[800];

	(void)state;
	memset(a, 'x', 300);
	a[300] = '\0';
	memcpy(b, a, sizeof(a));
	b[290] = 'y';
	(void)snprintf(
	        commit, sizeof(commit),
	        "*mangle\n:LDM-OUT - [0:0]\n-A LDM-OUT -p udp -m comment --comment %s -j DROP\n"
	        "COMMIT\n",
	        a);
	(void)snprintf(
	        save, sizeof(save),
	        "*mangle\n:LDM-OUT - [0:0]\n-A LDM-OUT -p udp -m comment --comment %s -j DROP\n"
	        "COMMIT\n",
	        b);
	expect(commit, save, 1, "LDM-OUT");
	expect(commit, commit, 0, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_spelling),
		cmocka_unit_test(test_long_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
