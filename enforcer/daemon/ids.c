/*
 * Session ids, never reused on this machine: across daemon restarts and reboots. The
 * counter lives in the persistent directory (persist_dir, /var/lib/ldm), reserved a block
 * at a time (one synced write per LDM_ID_BLOCK sessions, never one per launch): ids of a
 * block not handed out before a restart are skipped, so ids have gaps. A counter left in
 * the state directory by an older version (/run/ldm/next-id) is honoured once.
 *
 * Across machines ids repeat; every record carries the machine's id (/etc/machine-id), so
 * (machine, session) names one session in logs merged from many machines.
 *
 * Trust: the files are the daemon's own (root-owned directories); their numbers are parsed
 * strictly, and a missing or broken one counts as 1 (the other sources still raise it).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"

#define LDM_ID_BLOCK 64

/* The number in DIR/next-id, or 0. */
static uint64_t
read_counter(const char *dir)
{
	char path[4200], text[32];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	uint64_t v;

	if (snprintf(path, sizeof(path), "%s/next-id", dir) >= (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || (n = read(fd, text, sizeof(text) - 1)) <= 0)
		return 0;
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	return ldm_parse_u64(text, UINT64_MAX - 2 * LDM_ID_BLOCK, &v) == 0 ? v : 0;
}

/* /etc/machine-id (or D-Bus's copy): 32 lowercase hex digits, or "" if there is none. */
static void
read_machine_id(struct daemon *d)
{
	static const char *const files[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };

	d->machine_id[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		char text[64];
		ssize_t n;
		size_t k;

		if (fd < 0 || (n = read(fd, text, sizeof(text) - 1)) < 32)
			continue;
		for (k = 0; k < 32 && isxdigit((unsigned char)text[k]) && !isupper(text[k]); k++)
			;
		if (k < 32 || (n > 32 && text[32] != '\n'))
			continue;
		memcpy(d->machine_id, text, 32);
		d->machine_id[32] = '\0';
		return;
	}
}

/* The kernel's boot id: a UUID (36 characters of hex digits and '-'), or "". */
static void
read_boot_id(struct daemon *d)
{
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	char text[64];
	ssize_t n;

	d->boot_id[0] = '\0';
	if (fd < 0 || (n = read(fd, text, sizeof(text) - 1)) < LDM_EVENT_BOOT_ID_MAX)
		return;
	text[n] = '\0';
	if (strspn(text, "0123456789abcdef-") != LDM_EVENT_BOOT_ID_MAX ||
	    (n > LDM_EVENT_BOOT_ID_MAX && text[LDM_EVENT_BOOT_ID_MAX] != '\n'))
		return;
	memcpy(d->boot_id, text, LDM_EVENT_BOOT_ID_MAX);
	d->boot_id[LDM_EVENT_BOOT_ID_MAX] = '\0';
}

int
ldm_ids_init(struct daemon *d)
{
	uint64_t persisted = read_counter(d->cfg.persist_dir);
	uint64_t legacy = read_counter(d->cfg.state_dir);

	if (mkdir(d->cfg.persist_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	d->next_id = persisted > legacy ? persisted : legacy;
	if (d->next_id == 0)
		d->next_id = 1;
	d->id_limit = d->next_id; /* nothing reserved by this daemon yet */
	read_machine_id(d);
	read_boot_id(d);
	return 0;
}

int
ldm_ids_take(struct daemon *d, uint64_t *ret)
{
	char path[4200], text[32];

	if (d->next_id >= d->id_limit) {
		uint64_t limit = d->next_id + LDM_ID_BLOCK;

		if (snprintf(path, sizeof(path), "%s/next-id", d->cfg.persist_dir) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		(void)snprintf(text, sizeof(text), "%llu\n", (unsigned long long)limit);
		if (ldm_write_file_atomic(path, text) < 0)
			return -EIO;
		d->id_limit = limit;
	}
	*ret = d->next_id++;
	return 0;
}
