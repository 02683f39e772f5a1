/* ldm-enforcerd's start, event loop and stop (daemon.c): what main.c calls. */
#ifndef LDM_DAEMON_H
#define LDM_DAEMON_H

#include "state.h"

int ldm_daemon_init(struct daemon *d);
int ldm_daemon_run(struct daemon *d);
void ldm_daemon_done(struct daemon *d);

#endif
