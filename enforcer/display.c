/* Which local socket rules reach an X server (ldm/display.h). Pure. */
#include <fnmatch.h>
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

/* Sockets of helpers that act for their clients, as fnmatch patterns of rule values. */
static const struct {
	const char *pattern;
	const char *why;
} risky[] = {
	{ "*/pulse/native",
	  "PulseAudio (and pipewire-pulse) load modules for any client: module-tunnel-sink and "
	  "module-rtp-send stream audio to any network address" },
	{ "*/pipewire-[0-9]*",
	  "PipeWire lets clients load modules and route streams, network sinks included" },
	{ "*/bus", "a D-Bus bus: use dbus rules (the filtering proxy) instead" },
	{ "/run/dbus/system_bus_socket",
	  "the system bus: use dbus rules (the filtering proxy) instead" },
	{ "*/systemd/private", "systemd --user runs commands outside the session" },
	{ "*/systemd/*", "systemd's sockets start units outside the session" },
	{ "/tmp/tmux-*", "a tmux server runs commands for its clients (send-keys, run-shell)" },
	{ "*/tmux-*", "a tmux server runs commands for its clients (send-keys, run-shell)" },
	{ "*/screen/*", "a GNU screen session runs commands for its clients (stuff, screen)" },
	{ "*/gnupg/*", "gpg's agents fetch keys from the network (dirmngr KS_FETCH)" },
	{ "*/ssh-*", "an SSH agent or ControlMaster opens connections for its clients" },
};

const char *
ldm_unix_target_risk(const char *target)
{
	if (ldm_unix_target_is_x11(target))
		return "X11 lets the app read the screen and type into every other window (a "
		       "terminal outside the session too); prefer Wayland";
	for (size_t i = 0; i < sizeof(risky) / sizeof(risky[0]); i++)
		if (fnmatch(risky[i].pattern, target, 0) == 0)
			return risky[i].why;
	return NULL;
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
