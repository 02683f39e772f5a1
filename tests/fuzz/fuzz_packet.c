/*
 * libFuzzer target: the packet decoder on arbitrary bytes, as the queue could deliver them.
 * Besides the sanitizers, it checks what the daemon relies on after a successful parse:
 * offsets inside the buffer, ports only for TCP/UDP with a header, a consistent flow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct ldm_packet *p, size_t size)
{
	struct ldm_flow f;

	if (p->family != AF_INET && p->family != AF_INET6)
		abort();
	if (p->l4_offset > size || (size_t)p->payload_offset + p->payload_len > size)
		abort();
	if (p->has_ports && (p->proto != LDM_PROTO_TCP && p->proto != LDM_PROTO_UDP))
		abort();
	if (p->has_ports && (p->is_fragment || p->l4_truncated))
		abort();
	if (!p->has_ports && (p->sport != 0 || p->dport != 0))
		abort();
	if (p->l4_truncated && !p->payload_truncated)
		abort();
	if ((p->proto == LDM_PROTO_TCP || p->proto == LDM_PROTO_UDP) && !p->has_ports) {
		if (ldm_packet_flow(p, false, &f) != -ENODATA)
			abort();
		return;
	}
	if (ldm_packet_flow(p, false, &f) != 0 || f.dir != LDM_DIR_OUT || f.port != p->dport)
		abort();
	if (ldm_packet_flow(p, true, &f) != 0 || f.dir != LDM_DIR_IN || f.port != p->sport)
		abort();
	if (f.proto != p->proto || f.family != p->family || memcmp(f.addr, p->dst, 16) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldm_packet p;
	int r = ldm_packet_parse(data, size, &p);

	if (r == 0)
		check(&p, size);
	else if (r != -EBADMSG)
		abort();
	return 0;
}
