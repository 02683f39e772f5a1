/*
 * libFuzzer target: the /proc, cgroup and iptables-save text parsers the daemon judges
 * sessions' processes, requesters and its own rules by. The first byte picks the parser
 * (mountinfo's cgroup2 root, cgroup.procs, /proc/PID/stat, mountinfo / /proc/PID/cgroup /
 * cgroup.events, iptables-save), the rest is its text. Besides the sanitizers, it checks
 * what the daemon relies on: outputs written only on success, in range and NUL-terminated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipt.h"
#include "procparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIDS_MAX 64

static void
check_root(const char *text)
{
	char buf[64];
	int r;

	memset(buf, 'x', sizeof(buf));
	r = ldm_procparse_cgroup2_root(text, "/sys/fs/cgroup", buf, sizeof(buf));
	if (r == 0 && memchr(buf, '\0', sizeof(buf)) == NULL)
		abort();
	if (r != 0 && (r != -ENOENT && r != -ENAMETOOLONG))
		abort();
	if (r != 0 && buf[0] != 'x')
		abort();
}

static void
check_pids(const char *text)
{
	int pids[PIDS_MAX];
	int n = ldm_procparse_pid_list(text, pids, PIDS_MAX);

	if (n > PIDS_MAX || (n < 0 && n != -EINVAL && n != -E2BIG))
		abort();
	for (int i = 0; i < n; i++)
		if (pids[i] <= 0 || pids[i] > (1 << 22))
			abort();
}

static void
check_stat(const char *text)
{
	char comm[16], state = '?';
	uint64_t start = 7;
	int r;

	memset(comm, 'x', sizeof(comm));
	r = ldm_procparse_stat(text, &state, &start, comm, sizeof(comm));
	if (r == 0 && memchr(comm, '\0', sizeof(comm)) == NULL)
		abort();
	if (r != 0 && (r != -EINVAL || state != '?' || start != 7 || comm[0] != 'x'))
		abort();
}

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

static void
check_cgroup_texts(const char *text)
{
	char buf[256];
	int r;

	if (ldm_procparse_cgroup2_mount(text, buf, sizeof(buf)) == 0 &&
	    strnlen(buf, sizeof(buf)) == 256)
		abort();
	if (ldm_procparse_cgroup2_path(text, buf, sizeof(buf)) == 0 && buf[0] != '/')
		abort();
	r = ldm_procparse_populated(text);
	if (r != 0 && r != 1 && r >= 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		check_root(text);
		break;
	case 1:
		check_pids(text);
		break;
	case 2:
		check_stat(text);
		break;
	case 3:
		check_cgroup_texts(text);
		break;
	default:
		check_ipt(text, "mangle");
		check_ipt(text, "filter");
		break;
	}
	free(text);
	return 0;
}
