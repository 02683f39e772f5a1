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

#endif
