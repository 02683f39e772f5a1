/*
 * libFuzzer target: ldm-run's notification texts (launcher/run/notifytext.c) from a log line
 * (ldm_event_parse_json) or, for any other input, from raw bytes as a string. What it
 * writes must be NUL-terminated within its buffer, valid UTF-8 (D-Bus refuses anything
 * else), free of control characters and of unescaped markup ('<', '>').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/event.h"
#include "run/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 (RFC 3629), no control character, no '<' or '>'. */
static void
check(const char *s, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, size);

	if (len >= size)
		abort();
	for (size_t i = 0; i < len;) {
		size_t n = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;

		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '<' || p[i] == '>' ||
		    (p[i] >= 0x80 && p[i] < 0xc2) || p[i] > 0xf4 || i + n > len)
			abort();
		for (size_t k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				abort();
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ldm_event_view v;
	static char in[LDM_EVENT_LINE_MAX + 1];
	char key[LDM_RUN_NOTIFY_TEXT], summary[LDM_RUN_NOTIFY_TEXT], body[LDM_RUN_NOTIFY_TEXT];
	char small[7];

	if (size > LDM_EVENT_LINE_MAX)
		return 0;
	if (ldm_event_parse_json((const char *)data, size, &v) == 0 &&
	    ldm_run_notify_block_text(&v.ev, key, summary, body) == 0) {
		check(summary, sizeof(summary));
		check(body, sizeof(body));
	}
	memcpy(in, data, size);
	in[size] = '\0';
	(void)ldm_run_notify_escape(body, sizeof(body), in);
	check(body, sizeof(body));
	(void)ldm_run_notify_escape(small, sizeof(small), in);
	check(small, sizeof(small));
	return 0;
}
