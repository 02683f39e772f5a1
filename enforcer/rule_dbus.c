/*
 * D-Bus rules: `{ proto = "dbus"; bus = "session"; name = "org.freedesktop.Notifications";
 * comment = "..."; }` in `allow`. Each becomes one LDM_ITEM_DBUS launcher item (ldm-run
 * proxies the bus and lets the app talk to the names the items list, nothing else). There
 * are no dbus deny rules: a name no allow rule names is refused already, and the proxy has
 * no way to carve a name out of a pattern.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/control.h"
#include "ldm/dbus.h"
#include "policy_int.h"

#define KNOWN_DBUS_RULE "proto, bus, name, comment"

void
ldm_loader_read_dbus_rule(struct loader *l, const char *file, const config_setting_t *g,
                          enum ldm_action action)
{
	const config_setting_t *name = NULL, *bus = NULL;
	const char *v, *why, *comment = NULL;
	struct ldm_item it = { .kind = LDM_ITEM_DBUS };
	unsigned errors = l->errors;
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *key = config_setting_name(m);

		if (strcmp(key, "name") == 0)
			name = m;
		else if (strcmp(key, "bus") == 0)
			bus = m;
		else if (strcmp(key, "comment") == 0)
			comment = ldm_loader_get_string(l, file, m, "comment", LDM_MAX_TEXT_LEN);
		else if (strcmp(key, "proto") != 0)
			ldm_loader_error(
			        l, file, LINE(m),
			        "unknown setting '%s' in a dbus rule (expected one of: %s)", key,
			        KNOWN_DBUS_RULE);
	}
	if (action != LDM_ACTION_ALLOW)
		ldm_loader_error(l, file, LINE(g),
		                 "dbus rules go in 'allow' only: every bus name no allow rule "
		                 "names is refused already");
	if (bus == NULL) {
		ldm_loader_error(l, file, LINE(g),
		                 "a dbus rule needs bus = \"session\" or \"system\"");
	} else if ((v = ldm_loader_get_string(l, file, bus, "bus", 16)) != NULL &&
	           ldm_dbus_bus_parse(v, &it.flags) < 0) {
		ldm_loader_error(l, file, LINE(bus), "bus: '%s' is not \"session\" or \"system\"",
		                 v);
	}
	if (name == NULL) {
		ldm_loader_error(l, file, LINE(g),
		                 "a dbus rule needs name = \"org.example.Service\" (or a pattern "
		                 "\"org.example.*\")");
	} else if ((v = ldm_loader_get_string(l, file, name, "name", LDM_DBUS_NAME_MAX)) != NULL) {
		if (ldm_dbus_name_check(v, &why) < 0)
			ldm_loader_error(l, file, LINE(name), "name: '%s': %s", v, why);
		else
			it.value = (char *)v;
	}
	if (l->errors != errors)
		return;
	it.comment = (char *)comment;
	(void)ldm_loader_add_item(l, file, LINE(g), &it);
}
