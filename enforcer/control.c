/* The control protocol's framing and validation: sizes, strings, flags. Pure. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/util.h"

static const size_t sizes[] = {
	[LDM_MSG_SESSION_REQUEST] = sizeof(struct ldm_msg_session_request),
	[LDM_MSG_SESSION_READY] = sizeof(struct ldm_msg_session_ready),
	[LDM_MSG_ERROR] = sizeof(struct ldm_msg_error),
	[LDM_MSG_SYSCALL_DENIED] = sizeof(struct ldm_msg_syscall_denied),
	[LDM_MSG_SUMMARY_REQUEST] = sizeof(struct ldm_msg_summary_request),
	[LDM_MSG_SUMMARY] = sizeof(struct ldm_msg_summary),
	[LDM_MSG_STATUS_REQUEST] = sizeof(struct ldm_msg_status_request),
	[LDM_MSG_STATUS_LINE] = sizeof(struct ldm_msg_text),
	[LDM_MSG_END] = sizeof(struct ldm_msg_empty),
	[LDM_MSG_ACK] = sizeof(struct ldm_msg_empty),
	[LDM_MSG_SESSION_ITEM] = sizeof(struct ldm_msg_session_item),
	[LDM_MSG_WRITE_DENIED] = sizeof(struct ldm_msg_write_denied),
	[LDM_MSG_LOG_REQUEST] = sizeof(struct ldm_msg_log_request),
	[LDM_MSG_LOG_READY] = sizeof(struct ldm_msg_empty),
	[LDM_MSG_UNIX_BLOCKED] = sizeof(struct ldm_msg_unix_blocked),
	[LDM_MSG_KEEPER_GONE] = sizeof(struct ldm_msg_keeper_gone),
};

size_t
ldm_msg_size(uint16_t type)
{
	return type < ELEMENTSOF(sizes) ? sizes[type] : 0;
}

void
ldm_msg_init(struct ldm_msg_hdr *h, uint16_t type)
{
	*h = (struct ldm_msg_hdr){
		.magic = LDM_CONTROL_MAGIC,
		.version = LDM_CONTROL_VERSION,
		.type = type,
		.len = (uint32_t)ldm_msg_size(type),
	};
}

int
ldm_msg_check_hdr(const struct ldm_msg_hdr *h)
{
	size_t size;

	if (h->magic != LDM_CONTROL_MAGIC || h->version != LDM_CONTROL_VERSION)
		return -EPROTO;
	size = ldm_msg_size(h->type);
	if (size == 0 || h->len != size || h->reserved != 0)
		return -EBADMSG;
	return 0;
}

static bool
str_ok(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

#define STR_OK(f) str_ok((f), sizeof(f))

/* Exactly 64 lower-case hex digits, then only NULs (nothing hidden after the hash). */
static bool
sha256_field_ok(const char *f, size_t size)
{
	if (size <= 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((f[i] >= '0' && f[i] <= '9') || (f[i] >= 'a' && f[i] <= 'f')))
			return false;
	for (size_t i = 64; i < size; i++)
		if (f[i] != '\0')
			return false;
	return true;
}

static int
check_session_request(const struct ldm_msg_session_request *m)
{
	return STR_OK(m->policy) && STR_OK(m->app) &&
	       sha256_field_ok(m->exe_sha256, sizeof(m->exe_sha256)) && m->landlock_abi >= 1 &&
	       m->landlock_abi <= LDM_CTL_LANDLOCK_ABI_MAX && m->reserved == 0 &&
	       (m->flags & ~(LDM_SESSION_F_AUDIT | LDM_SESSION_F_SECCOMP_NOTIFY)) == 0;
}

static int
check_payload(const struct ldm_msg_hdr *h)
{
	switch (h->type) {
	case LDM_MSG_SESSION_REQUEST:
		return check_session_request((const void *)h);
	case LDM_MSG_SESSION_READY: {
		const struct ldm_msg_session_ready *m = (const void *)h;

		return STR_OK(m->policy) && STR_OK(m->cgroup) && m->n_deny <= LDM_CTL_DENY_MAX &&
		       (m->flags & ~(LDM_READY_F_AUDIT | LDM_READY_F_MULTICAST)) == 0;
	}
	case LDM_MSG_ERROR:
		return STR_OK(((const struct ldm_msg_error *)(const void *)h)->text);
	case LDM_MSG_SYSCALL_DENIED: {
		const struct ldm_msg_syscall_denied *m = (const void *)h;

		return STR_OK(m->name) && m->reserved == 0;
	}
	case LDM_MSG_SESSION_ITEM: {
		const struct ldm_msg_session_item *m = (const void *)h;

		return STR_OK(m->value) && m->kind >= 1 && m->kind <= LDM_ITEM_KIND_MAX &&
		       m->reserved == 0;
	}
	case LDM_MSG_WRITE_DENIED: {
		const struct ldm_msg_write_denied *m = (const void *)h;

		return STR_OK(m->name) && STR_OK(m->path) && m->path[0] == '/' &&
		       (m->err == EACCES || m->err == EPERM) && m->reserved == 0;
	}
	case LDM_MSG_SUMMARY_REQUEST: {
		const struct ldm_msg_summary_request *m = (const void *)h;

		return (m->flags & ~LDM_SUMMARY_F_FINAL) == 0 &&
		       m->wait_ms <= LDM_SUMMARY_WAIT_MAX_MS;
	}
	case LDM_MSG_SUMMARY: {
		const struct ldm_msg_summary *m = (const void *)h;

		return STR_OK(m->policy) && m->reserved == 0 &&
		       (m->flags & ~(LDM_SUMMARY_R_FINAL | LDM_SUMMARY_R_ESCAPED)) == 0;
	}
	case LDM_MSG_LOG_REQUEST: {
		const struct ldm_msg_log_request *m = (const void *)h;

		return (m->flags & ~(LDM_LOG_F_FOLLOW | LDM_LOG_F_NOW | LDM_LOG_F_RESUME)) == 0 &&
		       m->reserved == 0 && (!(m->flags & LDM_LOG_F_NOW) || m->session != 0) &&
		       (!(m->flags & LDM_LOG_F_RESUME) || (m->flags & LDM_LOG_F_NOW));
	}
	case LDM_MSG_STATUS_REQUEST: {
		const struct ldm_msg_status_request *m = (const void *)h;

		return (m->flags & ~LDM_STATUS_F_JSON) == 0 && m->reserved == 0;
	}
	case LDM_MSG_UNIX_BLOCKED: {
		const struct ldm_msg_unix_blocked *m = (const void *)h;

		return STR_OK(m->target) && m->why >= 1 && m->why <= LDM_UNIX_WHY_MAX &&
		       (m->why == LDM_UNIX_WHY_RULE) == (m->rule != 0) &&
		       (m->why == LDM_UNIX_WHY_SUPPRESSED || m->count == 1);
	}
	case LDM_MSG_KEEPER_GONE: {
		const struct ldm_msg_keeper_gone *m = (const void *)h;

		return m->reserved == 0 && m->pid != 0;
	}
	case LDM_MSG_STATUS_LINE:
		return STR_OK(((const struct ldm_msg_text *)(const void *)h)->text);
	default:
		return 1; /* no strings or flags to check */
	}
}

int
ldm_msg_check(const struct ldm_msg_hdr *h)
{
	int r = ldm_msg_check_hdr(h);

	if (r < 0)
		return r;
	return check_payload(h) ? 0 : -EBADMSG;
}

int
ldm_msg_set_str(char *field, size_t size, const char *s)
{
	size_t n = strnlen(s, size);

	memset(field, 0, size);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(field, s, n);
	return 0;
}
