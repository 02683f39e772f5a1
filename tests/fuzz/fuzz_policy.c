/*
 * libFuzzer target: the policy loader and evaluator on arbitrary bytes. Built by `make fuzz`
 * with clang's fuzzer; `make check` links it with replay.c to run the corpus without it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/dbus.h"
#include "ldm/display.h"
#include "ldm/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct ldm_policy *p)
{
	static const struct ldm_lan_entry e = { { AF_INET, 24, { 192, 168, 144, 0 } }, 0 };
	const struct ldm_lan lan = { &e, 1 };
	struct ldm_flow f = { .family = AF_INET,
		              .proto = LDM_PROTO_UDP,
		              .dir = LDM_DIR_OUT,
		              .addr = { 192, 168, 144, 10 },
		              .port = 14550,
		              .host = "a.example.org" };
	struct ldm_verdict v;
	char buf[512];

	(void)ldm_policy_judge(p, &f, &lan, &v);
	f.dir = LDM_DIR_IN;
	f.proto = LDM_PROTO_TCP;
	(void)ldm_policy_judge(p, &f, &lan, &v);
	(void)ldm_policy_name_allowed(p, "a.b.example.org", NULL);
	(void)ldm_policy_known_label(p, "a.b.example.org");
	for (size_t i = 0; i < p->n_rules; i++)
		(void)ldm_rule_format(&p->rules[i], buf, sizeof(buf));
	for (size_t i = 0; i < p->n_items; i++) {
		(void)ldm_dbus_name_risk(p->items[i].value, p->items[i].flags);
		(void)ldm_unix_target_is_x11(p->items[i].value);
	}
	(void)ldm_policy_dbus_allowed(p, 1, "org.freedesktop.Notifications");
	(void)ldm_policy_dbus_allowed(p, 2, "org.example.Foo.Bar");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldm_load_opts opts = { .no_file_dir = true };
	struct ldm_policy *p = NULL;
	struct ldm_diags d = { 0 };

	/* libconfig's @include opens files by path: keep the fuzzer off the file system. */
	if (memchr(data, '@', size) != NULL)
		return 0;
	if (ldm_policy_load_buffer((const char *)data, size, "fuzz", &opts, &p, &d) == 0)
		exercise(p);
	ldm_policy_free(p);
	ldm_diags_clear(&d);
	return 0;
}
