/*
 * libFuzzer target: the conntrack entry reader on arbitrary bytes, as a ctnetlink dump
 * could hand them over. Besides the sanitizers, it checks what the daemon relies on after a
 * successful read: a known family, and counters only when the entry said so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[16384]; /* aligned as a netlink receive buffer is */
	struct ldm_ct_entry e;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	if (ldm_ct_entry_parse(buf, size, &e) != 0)
		return 0;
	if (e.family != AF_INET && e.family != AF_INET6)
		abort();
	if (!e.has_counters && (e.packets_orig | e.bytes_orig | e.packets_reply | e.bytes_reply))
		abort();
	return 0;
}
