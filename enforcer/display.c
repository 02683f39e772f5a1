/* Which local socket rules reach an X server (ldm/display.h). Pure. */
#include <string.h>

#include "ldm/control.h"
#include "ldm/display.h"
#include "ldm/policy.h"

#define X11_DIR "/tmp/.X11-unix"

bool
ldm_unix_target_is_x11(const char *target)
{
	size_t n = strlen(X11_DIR);

	if (strcmp(target, "x11") == 0)
		return true;
	if (target[0] == '@')
		target++; /* the abstract twin of /tmp/.X11-unix/X0 is @/tmp/.X11-unix/X0 */
	/* "/tmp/.X11-unix/X0", the directory itself, or a pattern below it. */
	if (strncmp(target, X11_DIR, n) == 0 && (target[n] == '\0' || target[n] == '/'))
		return true;
	/* A pattern covering /tmp or / covers the X sockets too. */
	return strcmp(target, "/tmp/*") == 0 || strcmp(target, "/tmp/**") == 0 ||
	       strcmp(target, "/*") == 0 || strcmp(target, "/**") == 0 ||
	       strcmp(target, "/tmp") == 0 || strcmp(target, "/tmp/") == 0 ||
	       strcmp(target, "/") == 0;
}

/* An allowing local-socket item: LDM_ITEM_UNIX_ALLOW of the local-socket rules. */
#define UNIX_ITEM_ALLOWS(it) (((it)->flags & 0x1u) != 0)

const char *
ldm_session_start_note(const struct ldm_policy *p, bool audit)
{
	bool x11 = false;

	for (size_t i = 0; p != NULL && i < p->n_items && !x11; i++)
		x11 = p->items[i].kind == LDM_ITEM_UNIX && UNIX_ITEM_ALLOWS(&p->items[i]) &&
		      ldm_unix_target_is_x11(p->items[i].value);
	if (x11)
		return audit ? "audit mode; X11 display allowed: the app can read the screen and "
		               "type into every window of that display"
		             : "X11 display allowed: the app can read the screen and type into "
		               "every window of that display";
	return audit ? "audit mode" : NULL;
}
