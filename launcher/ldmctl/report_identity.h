/*
 * What `ldmctl report` says of a session's identity: the session_start record's
 * host, boot, ldm version, executable hash, kernel features and policy hash, and the
 * policy_file records that follow it. Printed as text, as keys of the report's JSON object
 * and as rows of its HTML table; every string escaped for where it goes.
 */
#ifndef LDMCTL_REPORT_IDENTITY_H
#define LDMCTL_REPORT_IDENTITY_H

#include <stdint.h>
#include <stdio.h>

#include "ldm/event.h"

#define REPORT_MAX_POLICY_FILES 64 /* the rest are counted */

struct report_identity {
	char *hostname, *machine, *version, *boot_id, *exe_sha256, *policy_sha256;
	uint32_t landlock_abi;
	uint8_t seccomp_notify, ipv6; /* 0 unknown, LDM_EVENT_NO, LDM_EVENT_YES */
	struct {
		char *path;
		char sha256[LDM_EVENT_SHA256_LEN + 1];
	} files[REPORT_MAX_POLICY_FILES];
	size_t n_files;
	uint64_t files_dropped;
};

/* report.c's escapers: a JSON string (null for NULL), HTML text. */
void ldmctl_report_json_str(FILE *f, const char *s);
void ldmctl_report_html(FILE *f, const char *s);

/* Takes the identity keys of session_start E (after report_identity_clear()). */
void report_identity_start(struct report_identity *id, const struct ldm_event *e);
/* Adds the policy_file record E. */
void report_identity_file(struct report_identity *id, const struct ldm_event *e);
void report_identity_clear(struct report_identity *id);

/* Lines of the text report, each starting with two spaces. */
void report_identity_text(FILE *f, const struct report_identity *id);
/* The identity's keys, each preceded by ",", for the report's JSON object. */
void report_identity_json(FILE *f, const struct report_identity *id);
/* Rows "<tr><th>..</th><td>..</td></tr>" of the HTML page's summary table. */
void report_identity_html(FILE *f, const struct report_identity *id);

#endif
