/*
 * libFuzzer target: the control protocol's validation, on arbitrary bytes as a client (or a
 * daemon, for the client) could send them. Besides the sanitizers, it checks what readers
 * rely on once a message passed ldm_msg_check(): its length is its type's exact size, and
 * every string field it carries holds a NUL within its array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
need_nul(const char *field, size_t size)
{
	if (memchr(field, '\0', size) == NULL)
		abort();
}

static void
check_strings(const struct ldm_msg_hdr *h)
{
	switch (h->type) {
	case LDM_MSG_SESSION_REQUEST: {
		const struct ldm_msg_session_request *m = (const void *)h;

		need_nul(m->policy, sizeof(m->policy));
		need_nul(m->app, sizeof(m->app));
		if (strspn(m->exe_sha256, "0123456789abcdef") != 64 || m->exe_sha256[64] != '\0' ||
		    m->landlock_abi == 0)
			abort();
		break;
	}
	case LDM_MSG_SESSION_READY: {
		const struct ldm_msg_session_ready *m = (const void *)h;

		need_nul(m->policy, sizeof(m->policy));
		need_nul(m->cgroup, sizeof(m->cgroup));
		if (m->n_deny > LDM_CTL_DENY_MAX)
			abort();
		break;
	}
	case LDM_MSG_SUMMARY_REQUEST: {
		const struct ldm_msg_summary_request *m = (const void *)h;

		if (m->wait_ms > LDM_SUMMARY_WAIT_MAX_MS || (m->flags & ~LDM_SUMMARY_F_FINAL))
			abort();
		break;
	}
	case LDM_MSG_SUMMARY:
		need_nul(((const struct ldm_msg_summary *)(const void *)h)->policy,
		         LDM_CTL_NAME_MAX);
		break;
	case LDM_MSG_SESSION_ITEM: {
		const struct ldm_msg_session_item *m = (const void *)h;

		need_nul(m->value, sizeof(m->value));
		if (m->kind < 1 || m->kind > LDM_ITEM_KIND_MAX)
			abort();
		break;
	}
	case LDM_MSG_SYSCALL_DENIED:
		need_nul(((const struct ldm_msg_syscall_denied *)(const void *)h)->name,
		         LDM_CTL_SYSCALL_NAME_MAX);
		break;
	case LDM_MSG_WRITE_DENIED: {
		const struct ldm_msg_write_denied *m = (const void *)h;

		need_nul(m->name, sizeof(m->name));
		need_nul(m->path, sizeof(m->path));
		if (m->path[0] != '/')
			abort();
		break;
	}
	case LDM_MSG_LOG_REQUEST: {
		const struct ldm_msg_log_request *m = (const void *)h;

		if ((m->flags & ~LDM_LOG_F_FOLLOW) || m->reserved != 0)
			abort();
		break;
	}
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A reader's buffer: aligned, LDM_MSG_MAX bytes, of which the message fills the first. */
	static union {
		struct ldm_msg_hdr hdr;
		uint8_t bytes[LDM_MSG_MAX];
	} m;
	const struct ldm_msg_hdr *h = &m.hdr;

	if (size < sizeof(m.hdr) || size > sizeof(m))
		return 0;
	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size);
	if (ldm_msg_check_hdr(h) != 0)
		return 0;
	if (h->len != ldm_msg_size(h->type) || h->len > sizeof(m))
		abort();
	if (h->len > size || ldm_msg_check(h) != 0)
		return 0;
	check_strings(h);
	return 0;
}
