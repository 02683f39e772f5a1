/* D-Bus bus names and name patterns in policies (ldm/dbus.h). Pure. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/dbus.h"
#include "ldm/policy.h"
#include "ldm/util.h"

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Checks the elements of NAME[0..LEN); returns their count, or -EINVAL with *WHY. */
static int
check_elements(const char *name, size_t len, const char **why)
{
	int n = 0;

	for (size_t i = 0; i < len;) {
		size_t start = i;

		if (name[i] >= '0' && name[i] <= '9') {
			*why = "an element of a bus name must not start with a digit";
			return -EINVAL;
		}
		while (i < len && name[i] != '.') {
			if (!name_char(name[i])) {
				*why = "a bus name holds only letters, digits, '_', '-' and '.' "
				       "between its elements";
				return -EINVAL;
			}
			i++;
		}
		if (i == start) {
			*why = "a bus name has an empty element (a leading, trailing or double "
			       "'.')";
			return -EINVAL;
		}
		n++;
		if (i < len) {
			i++; /* the '.' */
			if (i == len) {
				*why = "a bus name has an empty element (a leading, trailing or "
				       "double '.')";
				return -EINVAL;
			}
		}
	}
	return n;
}

int
ldm_dbus_name_check(const char *pattern, const char **why)
{
	size_t len = strlen(pattern);
	bool wild = len >= 2 && strcmp(pattern + len - 2, ".*") == 0;
	int n;

	*why = NULL;
	if (len == 0) {
		*why = "a bus name must not be empty";
		return -EINVAL;
	}
	if (len > LDM_DBUS_NAME_MAX) {
		*why = "a bus name is at most 255 characters";
		return -EINVAL;
	}
	if (pattern[0] == ':') {
		*why = "unique names (':1.42') name a connection, not a service: name the "
		       "service's well-known name";
		return -EINVAL;
	}
	if (strchr(pattern, '*') != NULL && (!wild || strchr(pattern, '*') != pattern + len - 1)) {
		*why = "'*' may only end a name, as in 'org.example.*'";
		return -EINVAL;
	}
	n = check_elements(pattern, wild ? len - 2 : len, why);
	if (n < 0)
		return n;
	if (n < 2) {
		*why = wild ? "a pattern needs two elements or more before '.*' "
		              "('org.example.*'): a wider one would cover unrelated services"
		            : "a well-known bus name has two elements or more ('org.example')";
		return -EINVAL;
	}
	return 0;
}

bool
ldm_dbus_name_match(const char *pattern, const char *name)
{
	size_t len = strlen(pattern);

	if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0) {
		len -= 2;
		return strncmp(pattern, name, len) == 0 && (name[len] == '\0' || name[len] == '.');
	}
	return strcmp(pattern, name) == 0;
}

int
ldm_dbus_bus_parse(const char *s, unsigned *ret)
{
	if (strcmp(s, "session") == 0)
		*ret = LDM_ITEM_DBUS_SESSION;
	else if (strcmp(s, "system") == 0)
		*ret = LDM_ITEM_DBUS_SYSTEM;
	else
		return -EINVAL;
	return 0;
}

const char *
ldm_dbus_bus_name(unsigned flags)
{
	return flags == LDM_ITEM_DBUS_SESSION  ? "session"
	       : flags == LDM_ITEM_DBUS_SYSTEM ? "system"
	                                       : "?";
}

/* Services that act for their caller outside the session, as a name pattern each. */
static const struct {
	unsigned bus;
	const char *name;
	const char *why;
} risky[] = {
	{ LDM_ITEM_DBUS_SESSION, "org.freedesktop.systemd1",
	  "systemd --user starts any command as a unit outside the session "
	  "(systemd-run --user) and can move the app's own processes out of it" },
	{ LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.systemd1",
	  "systemd manages units and can move processes between cgroups" },
	{ LDM_ITEM_DBUS_SESSION, "org.freedesktop.portal.*",
	  "the desktop portals open URLs in a browser outside the session (OpenURI)" },
	{ LDM_ITEM_DBUS_SESSION, "org.freedesktop.Flatpak",
	  "flatpak-session-helper runs commands on the host (HostCommand)" },
	{ LDM_ITEM_DBUS_SESSION, "org.gtk.vfs.*",
	  "GVfs fetches and mounts remote locations (gio copy http://...)" },
	{ LDM_ITEM_DBUS_SESSION, "org.gnome.Shell", "GNOME Shell runs JavaScript (Eval)" },
	{ LDM_ITEM_DBUS_SESSION, "org.kde.klauncher5", "KLauncher starts programs" },
	{ LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.resolve1",
	  "systemd-resolved looks names up for the caller: the name itself is the data" },
	{ LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.NetworkManager",
	  "NetworkManager changes connections, routes and VPNs" },
	{ LDM_ITEM_DBUS_SYSTEM, "org.freedesktop.PackageKit",
	  "PackageKit downloads and installs packages" },
};

const char *
ldm_dbus_name_risk(const char *pattern, unsigned bus)
{
	for (size_t i = 0; i < ELEMENTSOF(risky); i++) {
		if (risky[i].bus != bus)
			continue;
		/* Either covers the other: "org.freedesktop.*" or "org.freedesktop.portal.Desktop". */
		if (ldm_dbus_name_match(pattern, risky[i].name) ||
		    ldm_dbus_name_match(risky[i].name, pattern))
			return risky[i].why;
	}
	return NULL;
}

const struct ldm_item *
ldm_policy_dbus_allowed(const struct ldm_policy *p, unsigned bus, const char *name)
{
	for (size_t i = 0; i < p->n_items; i++) {
		const struct ldm_item *it = &p->items[i];

		if (it->kind == LDM_ITEM_DBUS && it->flags == bus &&
		    ldm_dbus_name_match(it->value, name))
			return it;
	}
	return NULL;
}
