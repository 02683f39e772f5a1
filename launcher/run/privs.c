/*
 * Refusing privilege (docs/session.md): a program that runs as root or holds a capability
 * could remove the session's rules or leave its cgroup, so ldm-run will not start one.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ldm/util.h"
#include "run/run.h"

#define STATUS_MAX 16384 /* /proc/self/status is about 1.5 KiB */

/* The hex value after "NAME:\t" on a line of TEXT. */
static int
status_hex(const char *text, const char *name, uint64_t *ret)
{
	size_t len = strlen(name);
	const char *p = text;
	char hex[17];
	size_t n;

	for (;;) {
		if (strncmp(p, name, len) == 0 && p[len] == ':')
			break;
		p = strchr(p, '\n');
		if (p == NULL)
			return -EINVAL;
		p++;
	}
	p += len + 1;
	p += strspn(p, " \t");
	n = strspn(p, "0123456789abcdefABCDEF");
	if (n == 0 || n > 16 || (p[n] != '\n' && p[n] != '\0'))
		return -EINVAL;
	memcpy(hex, p, n);
	hex[n] = '\0';
	*ret = strtoull(hex, NULL, 16); /* checked above: hex digits only, at most 64 bits */
	return 0;
}

int
ldm_run_parse_caps(const char *text, uint64_t *ret_eff, uint64_t *ret_prm, uint64_t *ret_amb)
{
	uint64_t eff, prm, amb;

	if (status_hex(text, "CapEff", &eff) < 0 || status_hex(text, "CapPrm", &prm) < 0 ||
	    status_hex(text, "CapAmb", &amb) < 0)
		return -EINVAL;
	*ret_eff = eff;
	*ret_prm = prm;
	*ret_amb = amb;
	return 0;
}

/* The three sets from /proc/self/status, all 64 bits of each. */
static int
read_status_caps(uint64_t *eff, uint64_t *prm, uint64_t *amb)
{
	_cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	char buf[STATUS_MAX];
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			return -EFBIG;
	}
	buf[len] = '\0';
	return ldm_run_parse_caps(buf, eff, prm, amb);
}

/* capget(2)'s view of the effective and permitted sets, OR'd into *EFF and *PRM. */
static int
capget_sets(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff |= d[0].effective | (uint64_t)d[1].effective << 32;
	*prm |= d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

/* Any ambient capability up to the kernel's last, asked one by one. */
static bool
any_ambient_prctl(void)
{
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (r < 0)
			break; /* EINVAL: past the last capability the kernel knows */
		if (r == 1)
			return true;
	}
	return false;
}

int
ldm_run_check_privileges(char *why, size_t size)
{
	uid_t ruid, euid, suid;
	uint64_t eff = 0, prm = 0, amb = 0;
	int r;

	if (getresuid(&ruid, &euid, &suid) < 0)
		return -errno;
	if (ruid == 0 || euid == 0 || suid == 0) {
		snprintf(why, size,
		         "refusing to run a program as root: run ldm-run as the "
		         "ordinary user who flies");
		return -EPERM;
	}
	r = read_status_caps(&eff, &prm, &amb);
	if (r < 0)
		return r;
	r = capget_sets(&eff, &prm);
	if (r < 0)
		return r;
	if (eff != 0 || prm != 0 || amb != 0 || any_ambient_prctl()) {
		snprintf(why, size,
		         "refusing to run a program with capabilities (effective %#llx, "
		         "permitted %#llx, ambient %#llx): a privileged program could "
		         "remove its own rules",
		         (unsigned long long)eff, (unsigned long long)prm, (unsigned long long)amb);
		return -EPERM;
	}
	return 0;
}
