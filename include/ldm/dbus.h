/*
 * D-Bus names in policies: `{ proto = "dbus"; bus = "session"; name = "org.example.Foo"; }`.
 * A name is a well-known bus name as the D-Bus specification defines it (two or more
 * elements of [A-Za-z0-9_-], separated by '.', none starting with a digit, at most 255
 * bytes), or a prefix pattern "org.example.*" (at least two elements before ".*"), which
 * matches what xdg-dbus-proxy's `--talk=org.example.*` matches: "org.example" itself and
 * every name below it ("org.example.Foo", "org.example.Foo.Bar"), not "org.examples".
 * Unique names (":1.42") are refused: they name a connection, not a service. Pure.
 */
#ifndef LDM_DBUS_H
#define LDM_DBUS_H

#include <stdbool.h>

#define LDM_DBUS_NAME_MAX 255 /* the specification's limit for bus names, NUL excluded */

/* Checks PATTERN; returns 0, or -EINVAL with a reason (a static string) in *WHY. */
int ldm_dbus_name_check(const char *pattern, const char **why);

/* Does PATTERN (checked) cover NAME (a well-known name) as xdg-dbus-proxy would? */
bool ldm_dbus_name_match(const char *pattern, const char *name);

/* "session" -> LDM_ITEM_DBUS_SESSION, "system" -> LDM_ITEM_DBUS_SYSTEM; -EINVAL else. */
int ldm_dbus_bus_parse(const char *s, unsigned *ret);

/* "session", "system", or "?" for anything else. */
const char *ldm_dbus_bus_name(unsigned flags);

/*
 * Why letting the app talk to PATTERN hands it more than its name suggests (it can start
 * programs outside the session, fetch URLs, or take the app out of its session), as a
 * static sentence; NULL when PATTERN covers no such service we know of. For warnings.
 */
const char *ldm_dbus_name_risk(const char *pattern, unsigned bus);

struct ldm_policy;
struct ldm_item;

/*
 * The first of P's D-Bus items that lets the app talk to NAME on BUS
 * (LDM_ITEM_DBUS_SESSION or _SYSTEM), or NULL: refused.
 */
const struct ldm_item *ldm_policy_dbus_allowed(const struct ldm_policy *p, unsigned bus,
                                               const char *name);

#endif
