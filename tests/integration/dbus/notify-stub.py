#!/usr/bin/python3
# A stand-in for a desktop's notification daemon: owns org.freedesktop.Notifications on the
# bus at $DBUS_SESSION_BUS_ADDRESS, appends each Notify call's summary to the file argv[1],
# and answers id 42. With argv[2] "body": "SUMMARY<TAB>BODY" per call, control characters and
# newlines of either as spaces. Used by test_dbus.sh and test_notify.sh.
import sys

from gi.repository import Gio, GLib

XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""


def on_call(conn, sender, path, iface, method, params, inv):
    if method == "Notify":
        p = params.unpack()
        line = p[3]
        if len(sys.argv) > 2 and sys.argv[2] == "body":
            clean = ["".join(c if c >= " " else " " for c in t) for t in (p[3], p[4])]
            line = "\t".join(clean)
        with open(sys.argv[1], "a") as f:
            f.write(line + "\n")
        inv.return_value(GLib.Variant("(u)", (42,)))
    else:
        inv.return_value(GLib.Variant("(ssss)", ("stub", "ldm", "1", "1.2")))


def main():
    loop = GLib.MainLoop()
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    bus.register_object("/org/freedesktop/Notifications", node.interfaces[0], on_call)

    def acquired(*_):
        open(sys.argv[1] + ".ready", "w").close()

    Gio.bus_own_name_on_connection(bus, "org.freedesktop.Notifications",
                                   Gio.BusNameOwnerFlags.NONE, acquired, lambda *_: loop.quit())
    loop.run()


main()
