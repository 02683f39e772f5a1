/* The log's hash chain (include/ldm/logchain.h). SHA-256 from OpenSSL's libcrypto. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ldm/logchain.h"
#include "ldm/util.h"

static const char seq_key[] = ",\"seq\":";
static const char prev_key[] = ",\"prev\":\"";

int
ldm_chain_hash(const char *line, size_t len, uint8_t out[LDM_CHAIN_HASH_LEN])
{
	unsigned n = 0;

	if (EVP_Digest(line, len, out, &n, EVP_sha256(), NULL) != 1 || n != LDM_CHAIN_HASH_LEN) {
		memset(out, 0, LDM_CHAIN_HASH_LEN);
		return -EIO;
	}
	return 0;
}

void
ldm_chain_hex(const uint8_t hash[LDM_CHAIN_HASH_LEN], char buf[2 * LDM_CHAIN_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < LDM_CHAIN_HASH_LEN; i++) {
		buf[2 * i] = digits[hash[i] >> 4];
		buf[2 * i + 1] = digits[hash[i] & 0xf];
	}
	buf[2 * LDM_CHAIN_HASH_LEN] = '\0';
}

/* LEN without a final "\n". */
static size_t
strip_nl(const char *line, size_t len)
{
	return len > 0 && line[len - 1] == '\n' ? len - 1 : len;
}

int
ldm_chain_seal(const struct ldm_chain *c, char *line, size_t len, size_t size)
{
	char hex[2 * LDM_CHAIN_HASH_LEN + 1], tail[LDM_CHAIN_SEAL_MAX + 4];
	size_t body = strip_nl(line, len);
	bool nl = body != len;
	int n;

	if (body < 2 || line[0] != '{' || line[body - 1] != '}')
		return -EINVAL;
	ldm_chain_hex(c->head, hex);
	n = snprintf(tail, sizeof(tail), "%s%" PRIu64 "%s%s\"}%s", seq_key, c->seq + 1, prev_key,
	             hex, nl ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(tail))
		return -EINVAL;
	/* The record's closing '}' is replaced; room for the tail and a NUL. */
	if (body - 1 + (size_t)n + 1 > size)
		return -ENOBUFS;
	memcpy(line + body - 1, tail, (size_t)n + 1);
	return (int)(body - 1 + (size_t)n);
}

int
ldm_chain_advance(struct ldm_chain *c, const char *line, size_t len)
{
	uint8_t h[LDM_CHAIN_HASH_LEN];
	int r = ldm_chain_hash(line, strip_nl(line, len), h);

	if (r < 0)
		return r;
	c->seq++;
	memcpy(c->head, h, sizeof(h));
	return 0;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Finds the last occurrence of KEY (length KLEN) in S[0..LEN). */
static const char *
find_last(const char *s, size_t len, const char *key, size_t klen)
{
	for (size_t i = len; i >= klen; i--)
		if (memcmp(s + i - klen, key, klen) == 0)
			return s + i - klen;
	return NULL;
}

int
ldm_chain_split(const char *line, size_t len, size_t *ret_body_len, uint64_t *ret_seq,
                uint8_t ret_prev[LDM_CHAIN_HASH_LEN])
{
	size_t n = strip_nl(line, len), hexlen = 2 * LDM_CHAIN_HASH_LEN;
	const char *seq, *prev, *digits, *end;
	uint8_t hash[LDM_CHAIN_HASH_LEN];
	char num[21];
	uint64_t v;

	/* The tail: ,"prev":"<64 hex>"} */
	if (n < 2 + hexlen + 2 || line[0] != '{' || memcmp(line + n - 2, "\"}", 2) != 0)
		return -EBADMSG;
	prev = line + n - 2 - hexlen - (sizeof(prev_key) - 1);
	if (prev < line || memcmp(prev, prev_key, sizeof(prev_key) - 1) != 0)
		return -EBADMSG;
	for (size_t i = 0; i < LDM_CHAIN_HASH_LEN; i++) {
		int hi = hex_value(prev[sizeof(prev_key) - 1 + 2 * i]);
		int lo = hex_value(prev[sizeof(prev_key) - 1 + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	/* Before it: ,"seq":N (a decimal without leading zero, 1 or more). */
	seq = find_last(line, (size_t)(prev - line), seq_key, sizeof(seq_key) - 1);
	if (seq == NULL || seq <= line)
		return -EBADMSG;
	digits = seq + sizeof(seq_key) - 1;
	end = prev;
	if (end - digits < 1 || (size_t)(end - digits) >= sizeof(num) ||
	    (digits[0] == '0' && end - digits > 1))
		return -EBADMSG;
	for (const char *p = digits; p < end; p++) /* no NUL or sign the parser would stop at */
		if (*p < '0' || *p > '9')
			return -EBADMSG;
	memcpy(num, digits, (size_t)(end - digits));
	num[end - digits] = '\0';
	if (ldm_parse_u64(num, UINT64_MAX, &v) < 0 || v == 0)
		return -EBADMSG;
	/* The record ends where seq starts: its closing '}' is the one sealing replaced. */
	*ret_body_len = (size_t)(seq - line);
	*ret_seq = v;
	memcpy(ret_prev, hash, sizeof(hash));
	return 0;
}

int
ldm_chain_unseal(const char *line, size_t len, char *buf, size_t size)
{
	uint8_t prev[LDM_CHAIN_HASH_LEN];
	uint64_t seq;
	size_t body;

	if (ldm_chain_split(line, len, &body, &seq, prev) < 0)
		return -EBADMSG;
	if (body + 2 > size)
		return -ENOBUFS;
	memcpy(buf, line, body);
	buf[body] = '}';
	buf[body + 1] = '\0';
	return (int)(body + 1);
}

enum ldm_chain_result
ldm_chain_check(struct ldm_chain *c, const char *line, size_t len)
{
	static const uint8_t zero[LDM_CHAIN_HASH_LEN];
	uint8_t prev[LDM_CHAIN_HASH_LEN];
	enum ldm_chain_result r;
	size_t body;
	uint64_t seq;
	bool first = c->seq == 0;

	if (ldm_chain_split(line, len, &body, &seq, prev) < 0)
		return LDM_CHAIN_UNSEALED;
	if (first)
		r = LDM_CHAIN_FIRST;
	else if (seq == 1 && memcmp(prev, zero, sizeof(zero)) == 0)
		r = LDM_CHAIN_RESTARTED;
	else if (seq <= c->seq)
		r = LDM_CHAIN_REORDERED;
	else if (seq > c->seq + 1)
		r = LDM_CHAIN_MISSING;
	else if (memcmp(prev, c->head, sizeof(prev)) != 0)
		r = LDM_CHAIN_EDITED;
	else
		r = LDM_CHAIN_OK;
	c->seq = seq - 1;
	if (ldm_chain_advance(c, line, len) < 0)
		return LDM_CHAIN_EDITED; /* cannot hash: nothing can be vouched for */
	return r;
}

int
ldm_chain_head_format(const struct ldm_chain *c, char *buf, size_t size)
{
	char hex[2 * LDM_CHAIN_HASH_LEN + 1];
	int n;

	ldm_chain_hex(c->head, hex);
	n = snprintf(buf, size, "%" PRIu64 " %s\n", c->seq, hex);
	return n > 0 && (size_t)n < size ? n : -ENOBUFS;
}

int
ldm_chain_head_parse(const char *text, struct ldm_chain *c)
{
	const char *sp = strchr(text, ' ');
	char num[21];
	struct ldm_chain r;
	size_t n;

	if (sp == NULL || (size_t)(sp - text) >= sizeof(num) || sp == text)
		return -EBADMSG;
	memcpy(num, text, (size_t)(sp - text));
	num[sp - text] = '\0';
	if (ldm_parse_u64(num, UINT64_MAX - 1, &r.seq) < 0)
		return -EBADMSG;
	sp++;
	n = strlen(sp);
	if (n == 2 * LDM_CHAIN_HASH_LEN + 1 && sp[n - 1] == '\n')
		n--;
	if (n != 2 * LDM_CHAIN_HASH_LEN)
		return -EBADMSG;
	for (size_t i = 0; i < LDM_CHAIN_HASH_LEN; i++) {
		int hi = hex_value(sp[2 * i]), lo = hex_value(sp[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		r.head[i] = (uint8_t)(hi << 4 | lo);
	}
	*c = r;
	return 0;
}

const char *
ldm_chain_result_text(enum ldm_chain_result r)
{
	switch (r) {
	case LDM_CHAIN_OK:
		return "ok";
	case LDM_CHAIN_FIRST:
		return "first record";
	case LDM_CHAIN_UNSEALED:
		return "record without chain keys (written by something else, or edited)";
	case LDM_CHAIN_EDITED:
		return "the record before it was edited (its hash is not this record's prev), or "
		       "this record was inserted";
	case LDM_CHAIN_MISSING:
		return "records missing before it (removed)";
	case LDM_CHAIN_REORDERED:
		return "out of order (moved, or inserted)";
	case LDM_CHAIN_RESTARTED:
		return "a new chain starts here: the records before it were not continued "
		       "(log truncated, or the daemon lost the chain)";
	}
	return "?";
}
