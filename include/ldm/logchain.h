/*
 * The log's hash chain: every JSON record the daemon writes ends with two keys,
 *
 *     ...,"seq":N,"prev":"<64 hex digits>"}
 *
 * N counts records from 1 across files (rotation does not restart it) and prev is the
 * SHA-256 of the previous record's whole line (without its "\n"; 64 zeros before the first
 * record). So a record that was edited, removed, reordered or inserted breaks the chain at a
 * place a verifier can name (`ldmctl verify`); a log cut short is caught against the chain
 * head the pilot was shown (`ldm-run`'s summary). What it cannot do: stop root from
 * rewriting the whole chain from some record on (docs/threat-model.md).
 *
 * The chain keys are the record's last keys; without them a record is what
 * ldm_event_json() writes (ldm_chain_split() gives that part back), so the record format
 * and the chain evolve apart. SHA-256 comes from OpenSSL's libcrypto. Pure.
 */
#ifndef LDM_LOGCHAIN_H
#define LDM_LOGCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LDM_CHAIN_HASH_LEN 32
/* What sealing adds at most: ,"seq":<20 digits>,"prev":"<64 hex>" */
#define LDM_CHAIN_SEAL_MAX 100
/* A sealed log line always fits this ("\n" and NUL included); see LDM_EVENT_LINE_MAX. */
#define LDM_LOG_LINE_MAX (16384 + LDM_CHAIN_SEAL_MAX)

/* The chain's head: the last record's number (0: none yet) and hash (zeros: none). */
struct ldm_chain {
	uint64_t seq;
	uint8_t head[LDM_CHAIN_HASH_LEN];
};

/* SHA-256 of LEN bytes at LINE into OUT. Returns 0, or -EIO if libcrypto fails. */
int ldm_chain_hash(const char *line, size_t len, uint8_t out[LDM_CHAIN_HASH_LEN]);

/* Writes HASH as 64 lower-case hex digits and a NUL into BUF (65 bytes). */
void ldm_chain_hex(const uint8_t hash[LDM_CHAIN_HASH_LEN], char buf[2 * LDM_CHAIN_HASH_LEN + 1]);

/*
 * Seals the record LINE (LEN bytes, "{...}" with an optional final "\n", in a buffer of
 * SIZE bytes) as the record after C's head: adds the seq and prev keys. Returns the new
 * length (the "\n" kept if there was one), -EINVAL for a line that is not a JSON object
 * ("{" ... "}"), -ENOBUFS if SIZE is too small (LINE then unchanged). C is not changed:
 * call ldm_chain_advance() once the sealed line is written.
 */
int ldm_chain_seal(const struct ldm_chain *c, char *line, size_t len, size_t size);

/* Makes the sealed LINE (LEN bytes, final "\n" optional and not hashed) C's head. */
int ldm_chain_advance(struct ldm_chain *c, const char *line, size_t len);

/*
 * Splits a sealed line (final "\n" optional): the record without the chain keys is its
 * first *RET_BODY_LEN bytes followed by "}" (the bytes ldm_event_json() wrote); *RET_SEQ
 * and RET_PREV are the chain keys. Strict: exactly the form ldm_chain_seal() writes.
 * Returns 0 or -EBADMSG; writes the outputs only on success.
 */
int ldm_chain_split(const char *line, size_t len, size_t *ret_body_len, uint64_t *ret_seq,
                    uint8_t ret_prev[LDM_CHAIN_HASH_LEN]);

/*
 * Copies the record of the sealed LINE without its chain keys ("{...}", no "\n") into BUF,
 * NUL-terminated. Returns its length, -EBADMSG for a line that is not sealed, -ENOBUFS.
 */
int ldm_chain_unseal(const char *line, size_t len, char *buf, size_t size);

/* What the verifier makes of one record after the ones it has seen. */
enum ldm_chain_result {
	LDM_CHAIN_OK = 0,    /* the next record, pointing at the one before */
	LDM_CHAIN_FIRST,     /* the first record seen: verification starts here */
	LDM_CHAIN_UNSEALED,  /* no chain keys: written by something else, or edited */
	LDM_CHAIN_EDITED,    /* the next number, but prev is not the previous record's hash */
	LDM_CHAIN_MISSING,   /* numbers skipped: records removed */
	LDM_CHAIN_REORDERED, /* a number not above the previous one: moved or inserted */
	LDM_CHAIN_RESTARTED, /* a new chain (seq 1, prev zero) after records: truncated */
};

/*
 * Checks the record LINE (LEN bytes) against C (the head so far; zeroed before the first
 * record) and, whatever the result, makes LINE the head when it carries chain keys, so
 * that one broken link is reported once and checking goes on. Pure.
 */
enum ldm_chain_result ldm_chain_check(struct ldm_chain *c, const char *line, size_t len);

/* The head as a line of text, "SEQ HEX\n", for the head file beside a rotated log. */
#define LDM_CHAIN_HEAD_TEXT_MAX 96
int ldm_chain_head_format(const struct ldm_chain *c, char *buf, size_t size);
/* Reads that line (the "\n" optional) into *C. Returns 0 or -EBADMSG (C unchanged). */
int ldm_chain_head_parse(const char *text, struct ldm_chain *c);

/* A short English phrase for R: "record edited", ... */
const char *ldm_chain_result_text(enum ldm_chain_result r);

#endif
