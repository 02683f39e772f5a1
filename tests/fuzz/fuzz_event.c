/*
 * libFuzzer target: the log record's reader and writers. An input starting with '{' is a line
 * for ldm_event_parse_json(): what it accepts must format back to the same line, or, when
 * it skipped unknown keys, to a line that reads back as the same record. Any other
 * input builds an event (its bytes become the strings): it must format, read back, and
 * format again to the same line, and its text line must hold no control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char line[LDM_EVENT_LINE_MAX], again[LDM_EVENT_LINE_MAX];

static void
check_text(const struct ldm_event *e)
{
	int n = ldm_event_text(e, line, sizeof(line));

	if (n < 0)
		abort();
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
}

static void
read_line(const uint8_t *data, size_t size)
{
	struct ldm_event_view v;
	size_t len = size > 0 && data[size - 1] == '\n' ? size - 1 : size;
	int n;

	static struct ldm_event_view w;

	if (ldm_event_parse_json((const char *)data, size, &v) != 0)
		return;
	n = ldm_event_json(&v.ev, again, sizeof(again));
	if (n < 0)
		abort();
	if (v.unknown > 0) {
		/* The known keys alone: a record this version reads with nothing skipped. */
		if (ldm_event_parse_json(again, (size_t)n, &w) != 0 || w.unknown != 0 ||
		    ldm_event_json(&w.ev, line, sizeof(line)) != n ||
		    memcmp(line, again, (size_t)n))
			abort();
	} else if ((size_t)n != len + 1 || memcmp(again, data, len) != 0) {
		abort();
	}
	check_text(&v.ev);
}

/* The next NUL-separated piece of the input as a string (in a copy that ends in NUL). */
static const char *
next_str(char **p, char *end)
{
	char *s = *p;
	char *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;

	*p = nul != NULL ? nul + 1 : end;
	return s < end ? s : NULL;
}

static void
build(const uint8_t *data, size_t size)
{
	static char copy[65536];
	char *p = copy, *end = copy + size;
	struct ldm_event e;
	struct ldm_event_view v;
	int n;

	if (size < 8 || size >= sizeof(copy))
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	ldm_event_init(&e, (enum ldm_event_type)(data[0] % (LDM_EVENT_TRAFFIC + 1)),
	               &(struct timespec){ (time_t)data[1] * 86400 * 365, data[2] * 1000000L });
	e.proto = (enum ldm_proto)(data[3] % 5);
	e.dst.family = data[4] & 1 ? AF_INET6 : data[4] & 2 ? AF_INET : 0;
	memcpy(e.dst.addr, data + 4, 4);
	e.dport = (uint16_t)(data[5] << 8 | data[6]);
	e.count = data[7];
	/* traffic: counters of any size; session_end: with or without them */
	e.traffic_known = data[7] & 1;
	e.traffic = data[5];
	e.bytes_out = (uint64_t)data[1] << 56 | data[6];
	e.packets_in = data[2];
	p += 8;
	e.policy = next_str(&p, end);
	e.app = next_str(&p, end);
	e.host = next_str(&p, end);
	e.label = next_str(&p, end);
	e.reason = next_str(&p, end);
	e.syscall = next_str(&p, end);
	e.hostname = next_str(&p, end);
	e.exe_sha256 = next_str(&p, end); /* written only when it is a hash */
	e.landlock_abi = data[1];
	e.seccomp_notify = data[2] % 3;
	e.ipv6 = data[3] % 3;
	n = ldm_event_json(&e, line, sizeof(line));
	if (n < 0) {
		if (e.event != 0)
			abort(); /* every valid event fits */
		return;
	}
	if (ldm_event_parse_json(line, (size_t)n, &v) != 0)
		abort();
	if (ldm_event_json(&v.ev, again, sizeof(again)) != n || memcmp(line, again, (size_t)n))
		abort();
	check_text(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '{')
		read_line(data, size);
	else
		build(data, size);
	return 0;
}
