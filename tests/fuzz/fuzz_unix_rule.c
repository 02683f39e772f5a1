/*
 * libFuzzer target: local socket rules and socket addresses (enforcer/unix_rule.c). The
 * first byte picks what the rest is: 0 a rule's `to` value (checked, expanded, judged
 * against itself: an expanded rule must match its own target), 1 the bytes of a sockaddr_un
 * read from another process (its text must be a valid target of at most
 * LDM_UNIX_TARGET_MAX - 1 bytes, without control characters, and never match a rule value
 * that contains an escaped byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/unix_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rule_value(const uint8_t *data, size_t size)
{
	static const struct ldm_path_vars vars = { "/home/pilot", "/run/user/1000", "/srv" };
	struct ldm_unix_rules rules = { 0 };
	struct ldm_unix_verdict v;
	char value[LDM_PATH_PATTERN_MAX + 1], buf[LDM_PATH_PATTERN_MAX];
	const char *why = NULL;
	size_t n = size < LDM_PATH_PATTERN_MAX ? size : LDM_PATH_PATTERN_MAX;

	memcpy(value, data, n);
	value[n] = '\0';
	if (ldm_unix_rule_check(value, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (ldm_unix_rule_expand(value, &vars, buf, sizeof(buf)) != 0)
		return;
	if (strlen(buf) >= LDM_UNIX_PATH_MAX + 1 || (buf[0] != '/' && buf[0] != '@'))
		abort();
	if (ldm_unix_rules_add(&rules, true, 1, buf) != 0)
		return;
	ldm_unix_judge(&rules, buf, &v);
	if (v.decision != LDM_UNIX_ALLOW || v.rule != 1)
		abort();
	ldm_unix_rules_clear(&rules);
}

static void
sockaddr_bytes(const uint8_t *data, size_t size)
{
	char buf[LDM_UNIX_TARGET_MAX];
	int r = ldm_unix_sockaddr_text(data, size, buf, sizeof(buf));
	size_t len;

	if (r < 0)
		return;
	len = strlen(buf);
	if (len >= sizeof(buf) || len == 0)
		abort();
	if (r == 1) {
		const char *why;

		if (buf[0] != '@')
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
				abort();
		/* An escaped name is never a valid rule value: no accidental match. */
		if (strchr(buf, '\\') != NULL && ldm_unix_rule_check(buf, &why) == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 0)
		rule_value(data + 1, size - 1);
	else
		sockaddr_bytes(data + 1, size - 1);
	return 0;
}
