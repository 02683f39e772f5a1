/*
 * libFuzzer target: the parsers of kernel and tool text (mountinfo, /proc/PID/cgroup,
 * cgroup.events, iptables-save) on arbitrary bytes. Besides the sanitizers it checks what
 * the daemon relies on: results NUL-terminated within their buffers, cgroup paths
 * absolute, chain names ours.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ipt(const char *text, const char *table)
{
	struct ldm_ipt_table t;

	if (ldm_ipt_scan(text, table, "LDM-OUT", "LDM-POST", "LDM-IN", &t) < 0)
		return;
	for (size_t i = 0; i < t.n_chains; i++)
		if (strncmp(t.chains[i], "LDM-", 4) != 0)
			abort();
	if (t.jump_output < 0 || (t.jump_output == 0) != (t.n_output_jumps == 0))
		abort();
	ldm_ipt_table_clear(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), buf[256];
	int r;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* the daemon reads files into NUL-terminated buffers */
	if (ldm_mountinfo_cgroup2(text, buf, sizeof(buf)) == 0 && strnlen(buf, sizeof(buf)) == 256)
		abort();
	if (ldm_proc_cgroup2_path(text, buf, sizeof(buf)) == 0 && buf[0] != '/')
		abort();
	r = ldm_cgroup_events_populated(text);
	if (r != 0 && r != 1 && r >= 0)
		abort();
	check_ipt(text, "mangle");
	check_ipt(text, "filter");
	free(text);
	return 0;
}
