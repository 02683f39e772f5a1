/* The `lan` snapshot as the kernel's routing tables say it now (kernel/lan_read.c). */
#ifndef LDM_KERNEL_LAN_READ_H
#define LDM_KERNEL_LAN_READ_H

#include <stddef.h>

#include "ldm/lan.h"

/*
 * Reads this machine's on-link prefixes (IPv4 and IPv6) from the kernel. On success returns
 * 0 and a new array in *RET (free() it; NULL when *RET_N is 0). Returns -errno for socket
 * errors, -EAGAIN when the table kept changing during the dump, -E2BIG past
 * LDM_MAX_LAN_ENTRIES, -EINVAL if the kernel's answer is malformed.
 */
int ldm_lan_read(struct ldm_lan_entry **ret, size_t *ret_n);

#endif
