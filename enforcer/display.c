/* Which local socket rules reach an X server (ldm/display.h). Pure. */
#include <string.h>

#include "ldm/display.h"

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
