/*
 * Local display sockets in policies. An X11 server lets every client it accepts read the
 * screen and type into every other client's windows (XTEST, XSendEvent): allowing the X
 * socket lets the app type commands into a terminal outside its session. Wayland isolates
 * clients from each other. Pure.
 */
#ifndef LDM_DISPLAY_H
#define LDM_DISPLAY_H

#include <stdbool.h>

/*
 * Does the local socket rule TARGET (as written: a path pattern, "@name" or a keyword) let
 * the app reach an X server? True for the keyword "x11", for pathname and abstract sockets
 * below /tmp/.X11-unix, and for patterns that cover that directory.
 */
bool ldm_unix_target_is_x11(const char *target);

/*
 * Why letting the app connect to TARGET (a local socket rule's value as written) hands it
 * more than a socket: an X display, a sound server that loads modules streaming to any
 * address, a bus, systemd, a terminal multiplexer, an agent; a static sentence, or NULL
 * when we know of nothing. For ldmctl check's warnings.
 */
const char *ldm_unix_target_risk(const char *target);

struct ldm_policy;

/*
 * The note a session_start record carries when P allows an X display (an allowing local
 * socket item that ldm_unix_target_is_x11), combined with AUDIT's "audit mode"; a static
 * string, or NULL when there is nothing to say.
 */
const char *ldm_session_start_note(const struct ldm_policy *p, bool audit);

#endif
