/* Running iptables-restore / iptables-save: execve with a fixed argv, never a shell. */
#ifndef LDM_DAEMON_IPTABLES_H
#define LDM_DAEMON_IPTABLES_H

#include <stddef.h>

/* Commits TEXT with `iptables-restore --noflush` (ip6tables-restore for AF_INET6). On
 * failure returns -errno and, if ERR is not NULL, what the tool said in ERR. */
int ldm_ipt_restore(int family, const char *text, char *err, size_t err_size);

/* Runs `iptables-save -t TABLE`; returns 0 and the output in *ret (free it). */
int ldm_ipt_save(int family, const char *table, char **ret);

#endif
