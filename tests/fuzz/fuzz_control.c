/*
 * libFuzzer target: the control-message checks, the root daemon's only check on what a
 * client sends (and ldm-run's on what the daemon sends). Arbitrary bytes are read as a
 * message; a message that passes must hold what the handlers rely on: a known type, the
 * exact size, every string NUL-terminated within its array, counts within their caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_have_nul(const char *field, size_t size)
{
	if (memchr(field, '\0', size) == NULL)
		abort();
}

static void
check_accepted(const struct ldm_msg_hdr *h)
{
	if (h->len != ldm_msg_size(h->type) || h->len == 0)
		abort();
	switch (h->type) {
	case LDM_MSG_SESSION_REQUEST: {
		const struct ldm_msg_session_request *m = (const void *)h;

		must_have_nul(m->policy, sizeof(m->policy));
		must_have_nul(m->app, sizeof(m->app));
		break;
	}
	case LDM_MSG_SESSION_READY: {
		const struct ldm_msg_session_ready *m = (const void *)h;

		if (m->n_deny > LDM_CTL_DENY_MAX)
			abort();
		must_have_nul(m->policy, sizeof(m->policy));
		must_have_nul(m->cgroup, sizeof(m->cgroup));
		break;
	}
	case LDM_MSG_SESSION_ITEM: {
		const struct ldm_msg_session_item *m = (const void *)h;

		if (m->kind < 1 || m->kind > LDM_ITEM_KIND_MAX)
			abort();
		must_have_nul(m->value, sizeof(m->value));
		break;
	}
	case LDM_MSG_SYSCALL_DENIED:
		must_have_nul(((const struct ldm_msg_syscall_denied *)(const void *)h)->name,
		              LDM_CTL_SYSCALL_NAME_MAX);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Aligned as the readers' buffers are, and as large as the largest message. */
	static union {
		struct ldm_msg_hdr hdr;
		uint8_t bytes[LDM_MSG_MAX];
	} m;

	if (size > sizeof(m) || size < sizeof(m.hdr))
		return 0;
	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size);
	if (ldm_msg_check_hdr(&m.hdr) < 0)
		return 0;
	if (m.hdr.len > size) /* the readers read exactly len bytes before the full check */
		return 0;
	if (ldm_msg_check(&m.hdr) == 0)
		check_accepted(&m.hdr);
	return 0;
}
