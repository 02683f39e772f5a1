/*
 * libFuzzer target: the DNS query and answer parsers, and the TCP framing, on arbitrary
 * bytes. Besides the sanitizers, it checks what the daemon relies on after a successful
 * parse: names that the policy's name check takes unchanged, counts within their caps,
 * owners on the chain, frames inside the buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NAME must come out of ldm_host_name_normalize() as it is. */
static void
check_name(const char *name)
{
	char norm[LDM_MAX_HOST_LEN + 1];

	if (ldm_host_name_normalize(name, norm, sizeof(norm)) != 0 || strcmp(norm, name) != 0)
		abort();
}

static void
check_answer(const struct ldm_dns_answer *a)
{
	check_name(a->qname);
	if (a->n_cnames > LDM_DNS_MAX_CNAMES || a->n_addrs > LDM_DNS_MAX_ADDRS)
		abort();
	if (a->chain_cut && a->n_cnames != LDM_DNS_MAX_CNAMES)
		abort();
	for (size_t i = 0; i < a->n_cnames; i++)
		check_name(a->cname[i]);
	for (size_t i = 0; i < a->n_addrs; i++) {
		const struct ldm_dns_addr *d = &a->addrs[i];

		if (d->owner > a->n_cnames || (d->family != AF_INET && d->family != AF_INET6))
			abort();
		if (d->ttl > INT32_MAX)
			abort();
		if (d->family == AF_INET)
			for (size_t j = 4; j < 16; j++)
				if (d->addr[j] != 0)
					abort();
		check_name(ldm_dns_addr_owner(a, d));
	}
}

static void
parse_both(const uint8_t *msg, size_t len)
{
	static struct ldm_dns_answer a;
	struct ldm_dns_query q;
	int r;

	r = ldm_dns_parse_query(msg, len, &q);
	if (r == 0) {
		check_name(q.name);
		if (q.qclass != LDM_DNS_CLASS_IN)
			abort();
	} else if (r != -EBADMSG) {
		abort();
	}
	r = ldm_dns_parse_answer(msg, len, &a);
	if (r == 0)
		check_answer(&a);
	else if (r != -EBADMSG)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *msg;
	size_t len;
	int r;

	parse_both(data, size);
	r = ldm_dns_tcp_frame(data, size, &msg, &len);
	if (r > 0) {
		if ((size_t)r > size || msg != data + 2 || len + 2 != (size_t)r)
			abort();
		parse_both(msg, len);
	} else if (r != -EAGAIN && r != -EBADMSG) {
		abort();
	}
	return 0;
}
