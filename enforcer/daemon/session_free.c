/* Clearing a session's slot: what the session holds is let go, the slot is FREE again. */
#include <sys/inotify.h>

#include "probe.h"
#include "session_free.h"

void
ldm_session_free(struct daemon *d, struct session *s)
{
	ldm_probe_stop(s);
	if (s->wd >= 0)
		(void)inotify_rm_watch(d->inotify_fd, s->wd);
	ldm_counts_close(s);
	ldm_procs_free(s);
	ldm_policy_free(s->policy);
	*s = (struct session){ .state = SESSION_FREE, .wd = -1, .client = -1, .final_client = -1 };
}
