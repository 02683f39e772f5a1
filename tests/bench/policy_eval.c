/*
 * Policy evaluation speed: ns per ldm_policy_judge() for policies of 10, 1,000 and 10,000
 * rules, measured side by side in one run, and the ratio 10,000/10 (target: <= 3, and well
 * under a microsecond per evaluation). The rules mix what fleets write: single addresses,
 * /24 and /16 networks, IPv6 /64s, keyword and host rules with ports, and some denies.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ldm/policy.h"

#define N_FLOWS 4096
#define ROUNDS  200

static uint32_t rng = 2463534242u;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static int
append_rule(char *buf, size_t size, size_t *pos, unsigned i)
{
	unsigned a = 1 + i % 200, b = (i / 200) % 250, c = (i / 50000) % 250;
	int n;

	switch (i % 6) {
	case 0:
		n = snprintf(buf + *pos, size - *pos,
		             "{ proto = \"tcp\"; to = \"10.%u.%u.%u\"; ports = \"%u\" },\n", c, b,
		             a, 1 + i % 60000);
		break;
	case 1:
		n = snprintf(
		        buf + *pos, size - *pos,
		        "{ proto = \"udp\"; to = \"172.%u.%u.0/24\"; ports = \"1000-2000\" },\n",
		        16 + c % 16, b);
		break;
	case 2:
		n = snprintf(
		        buf + *pos, size - *pos,
		        "{ proto = \"tcp\"; to = \"2001:db8:%x:%x::/64\"; ports = \"443\" },\n",
		        i & 0xffff, b);
		break;
	case 3:
		n = snprintf(
		        buf + *pos, size - *pos,
		        "{ proto = \"tcp\"; host = \"h%u.tiles.example.org\"; ports = \"443\" },\n",
		        i);
		break;
	case 4:
		n = snprintf(buf + *pos, size - *pos,
		             "{ proto = \"udp\"; to = \"192.%u.%u.0/24\"; ports = \"%u\" },\n",
		             168 + c % 2, b, 14550 + i % 10);
		break;
	default:
		n = snprintf(buf + *pos, size - *pos,
		             "{ proto = \"any\"; to = \"100.%u.0.0/16\" },\n", b % 64 + 64);
		break;
	}
	if (n < 0 || (size_t)n >= size - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

static struct ldm_policy *
make_policy(unsigned n_rules)
{
	size_t size = (size_t)n_rules * 128 + 1024, pos = 0;
	char *buf = malloc(size);
	struct ldm_load_opts opts = { .no_file_dir = true };
	struct ldm_diags d = { 0 };
	struct ldm_policy *p = NULL;

	if (buf == NULL)
		return NULL;
	pos += (size_t)snprintf(buf, size,
	                        "allow = (\n{ proto = \"udp\"; to = \"lan\"; "
	                        "ports = \"14550-14560\" },\n");
	for (unsigned i = 1; i + 2 < n_rules; i++)
		if (append_rule(buf, size, &pos, i) < 0)
			return NULL;
	pos += (size_t)snprintf(buf + pos, size - pos,
	                        "{ proto = \"tcp\"; to = \"192.168.42.1\"; ports = \"554\" });\n"
	                        "deny = ( { to = \"10.0.0.0/8\"; proto = \"udp\" } );\n");
	if (ldm_policy_load_buffer(buf, pos, "bench", &opts, &p, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "bench: %u: %s\n", d.v[i].line, d.v[i].msg);
		p = NULL;
	}
	ldm_diags_clear(&d);
	free(buf);
	return p;
}

static void
make_flows(struct ldm_flow *flows, char (*hosts)[64])
{
	for (unsigned i = 0; i < N_FLOWS; i++) {
		struct ldm_flow *f = &flows[i];
		uint32_t r = next_rand();

		memset(f, 0, sizeof(*f));
		f->dir = LDM_DIR_OUT;
		f->proto = (r & 1) ? LDM_PROTO_TCP : LDM_PROTO_UDP;
		f->port = (uint16_t)(1 + (r >> 8) % 65535);
		if (i % 4 == 3) {
			f->family = AF_INET6;
			memcpy(f->addr, "\x20\x01\x0d\xb8", 4);
			f->addr[5] = (uint8_t)r;
			f->addr[15] = (uint8_t)(r >> 16);
		} else {
			f->family = AF_INET;
			f->addr[0] = (uint8_t[]){ 10, 172, 192, 198 }[i % 4];
			f->addr[1] = (uint8_t)(r >> 4);
			f->addr[2] = (uint8_t)(r >> 12);
			f->addr[3] = (uint8_t)(r >> 20);
		}
		if (i % 8 == 0) {
			snprintf(hosts[i], 64, "h%u.tiles.example.org", r % 12000);
			f->host = hosts[i];
			f->proto = LDM_PROTO_TCP;
			f->port = 443;
		} else if (i % 8 == 1) {
			memcpy(f->addr, "\xc0\xa8\x90", 3); /* 192.168.144.x: the lan rule */
			f->proto = LDM_PROTO_UDP;
			f->port = 14550;
		}
	}
}

static double
measure(const struct ldm_policy *p, const struct ldm_flow *flows, const struct ldm_lan *lan,
        unsigned *allowed)
{
	struct timespec t0, t1;
	struct ldm_verdict v;

	*allowed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned i = 0; i < N_FLOWS; i++) {
			(void)ldm_policy_judge(p, &flows[i], lan, &v);
			*allowed += v.allow;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	       ((double)ROUNDS * N_FLOWS);
}

int
main(void)
{
	static const unsigned sizes[] = { 10, 1000, 10000 };
	static struct ldm_flow flows[N_FLOWS];
	static char hosts[N_FLOWS][64];
	static const struct ldm_lan_entry e = { { AF_INET, 24, { 192, 168, 144, 0 } }, 0 };
	const struct ldm_lan lan = { &e, 1 };
	struct ldm_policy *p[3];
	double best[3] = { 1e9, 1e9, 1e9 }, ratio;
	unsigned allowed[3];

	make_flows(flows, hosts);
	for (int i = 0; i < 3; i++)
		if ((p[i] = make_policy(sizes[i])) == NULL)
			return 1;
	/* Interleave the sizes and keep each one's best of 5 rounds: noise only adds time. */
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 3; i++) {
			double ns = measure(p[i], flows, &lan, &allowed[i]);

			best[i] = ns < best[i] ? ns : best[i];
		}
	printf("policy_eval: %-8s %10s %10s\n", "rules", "ns/eval", "allowed");
	for (int i = 0; i < 3; i++)
		printf("policy_eval: %-8u %10.1f %10u\n", sizes[i], best[i], allowed[i]);
	ratio = best[2] / best[0];
	printf("policy_eval: ratio 10000/10 = %.2f (target <= 3): %s\n", ratio,
	       ratio <= 3.0 && best[2] < 1000.0 ? "PASS" : "FAIL");
	printf("RESULT|policy_eval|ns/eval at 10 / 1k / 10k rules|%.0f / %.0f / %.0f|-|info\n",
	       best[0], best[1], best[2]);
	printf("RESULT|policy_eval|10k/10 ratio|%.2f|<= 3|%s\n", ratio,
	       ratio <= 3.0 && best[2] < 1000.0 ? "PASS" : "FAIL");
	for (int i = 0; i < 3; i++)
		ldm_policy_free(p[i]);
	return 0;
}
