/*
 * A log record as journald fields, so that `journalctl LDM_SESSION=7` finds a session's
 * records: LDM_EVENT, LDM_SESSION, LDM_POLICY, LDM_UID, LDM_USER, LDM_APP, LDM_PID,
 * LDM_PROTO, LDM_SRC, LDM_SPORT, LDM_DST, LDM_DPORT, LDM_HOST, LDM_LABEL, LDM_RULE,
 * LDM_COMMENT, LDM_REASON, LDM_COUNT, LDM_SYSCALL, LDM_ERRNO and LDM_LOG_SEQ (the record's
 * number in the log file's hash chain), each present when the JSON record has the key; and
 * MESSAGE (the text line), PRIORITY and SYSLOG_IDENTIFIER=ldm-enforcerd. Values are the
 * record's own, unescaped: journald stores bytes, and libsystemd frames values with
 * newlines. Pure.
 */
#ifndef LDM_JOURNALFIELDS_H
#define LDM_JOURNALFIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ldm/event.h"

#define LDM_JOURNAL_FIELDS_MAX 24
#define LDM_JOURNAL_BUF_MAX    (LDM_EVENT_LINE_MAX * 2)

/*
 * Writes E's fields ("NAME=value", no NUL) into BUF and points IOV at them; TEXT is the
 * record's text line (MESSAGE), PRIORITY its syslog priority, SEQ its chain number (0:
 * none). Strings longer than their record caps are cut as in the JSON record. Returns the
 * number of iovecs, or -ENOBUFS.
 */
int ldm_journal_fields(const struct ldm_event *e, const char *text, int priority, uint64_t seq,
                       char *buf, size_t size, struct iovec *iov, size_t max_iov);

#endif
