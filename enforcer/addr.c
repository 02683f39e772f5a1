/* IPv4/IPv6 addresses and prefixes: parsing, formatting, containment. Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ldm/policy.h"
#include "ldm/util.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
ldm_addr_parse(const char *s, uint8_t *ret_family, uint8_t ret_addr[16])
{
	uint8_t buf[16] = { 0 };

	if (strchr(s, ':') == NULL) {
		/* inet_pton() takes only dotted quads: no "1", no octal, no hex. */
		if (inet_pton(AF_INET, s, buf) != 1)
			return -EINVAL;
		*ret_family = AF_INET;
	} else {
		if (inet_pton(AF_INET6, s, buf) != 1)
			return -EINVAL;
		if (memcmp(buf, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(buf, buf + 12, 4);
			memset(buf + 4, 0, 12);
			*ret_family = AF_INET;
		} else {
			*ret_family = AF_INET6;
		}
	}
	memcpy(ret_addr, buf, 16);
	return 0;
}

static bool
host_bits_clear(const uint8_t *addr, unsigned plen, unsigned bits)
{
	for (unsigned i = plen; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/*
 * Parses "ADDR" or "ADDR/LEN". Returns 0, -EINVAL (not an address or length), or -EDOM
 * (host bits set below the prefix length, such as 192.168.1.1/24).
 */
int
ldm_prefix_parse(const char *s, struct ldm_prefix *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct ldm_prefix p = { 0 };
	const char *slash;
	uint32_t plen;
	unsigned bits;
	bool mapped;

	if (ldm_strscpy(buf, sizeof(buf), s) < 0)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash != NULL)
		buf[slash - s] = '\0';
	if (ldm_addr_parse(buf, &p.family, p.addr) < 0)
		return -EINVAL;
	mapped = p.family == AF_INET && strchr(buf, ':') != NULL;
	bits = p.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		p.plen = bits;
	} else {
		if (ldm_parse_u32(slash + 1, &plen) < 0 || plen > (mapped ? 128 : bits))
			return -EINVAL;
		if (mapped) {
			if (plen < 96)
				return -EINVAL; /* reaches outside the mapped range */
			plen -= 96;
		}
		p.plen = plen;
	}
	if (!host_bits_clear(p.addr, p.plen, bits))
		return -EDOM;
	*ret = p;
	return 0;
}

int
ldm_prefix_format(const struct ldm_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	unsigned bits = p->family == AF_INET ? 32 : 128;
	int n;

	if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL)
		return -EINVAL;
	if (p->plen == bits)
		n = snprintf(buf, size, "%s", a);
	else
		n = snprintf(buf, size, "%s/%u", a, p->plen);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

bool
ldm_prefix_contains(const struct ldm_prefix *p, uint8_t family, const uint8_t addr[16])
{
	unsigned full = p->plen / 8, rest = p->plen % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->addr[full] ^ addr[full]) & (0xff00 >> rest)) == 0;
}
