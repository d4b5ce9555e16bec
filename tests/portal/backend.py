#!/usr/bin/env python3
"""A ScreenCast portal backend of the tests' own, behind the real
xdg-desktop-portal frontend: what GNOME's or KDE's backend does, without a
dialog. It hands out the node of tests/portal/pw_source, and plays the
teacher:

  backend.py --node N --log FILE [--cancel] [--close-after S]

--cancel      the teacher cancels the permission dialog (Start answers 1)
--close-after the compositor ends the session S seconds after Start

Every request is logged to FILE, one line each: "dialog cursor_mode=M
persist_mode=P" when a dialog would show, "restored ..." when the frontend
passed restore data (no dialog), "start", "closed"."""
import argparse
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.impl.portal.ScreenCast"
PATH = "/org/freedesktop/portal/desktop"
NAME = "org.freedesktop.impl.portal.desktop.mctest"

ap = argparse.ArgumentParser()
ap.add_argument("--node", type=int, required=True)
ap.add_argument("--size", default="640x360")
ap.add_argument("--log", required=True)
ap.add_argument("--cancel", action="store_true")
ap.add_argument("--close-after", type=float, default=0)
args = ap.parse_args()
W, H = (int(v) for v in args.size.split("x"))


def log(line):
    with open(args.log, "a") as f:
        f.write(line + "\n")


class Session(dbus.service.Object):
    def __init__(self, bus, path):
        super().__init__(bus, path)
        self.path = path
        self.restored = False

    @dbus.service.method("org.freedesktop.impl.portal.Session", in_signature="", out_signature="")
    def Close(self):
        log("closed by the app")
        self.remove_from_connection()

    @dbus.service.signal("org.freedesktop.impl.portal.Session", signature="")
    def Closed(self):
        pass


class ScreenCast(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PATH)
        self.bus = bus
        self.sessions = {}

    @dbus.service.method(IFACE, in_signature="oosa{sv}", out_signature="ua{sv}")
    def CreateSession(self, handle, session_handle, app_id, options):
        self.sessions[str(session_handle)] = Session(self.bus, session_handle)
        log("create")
        return dbus.UInt32(0), dbus.Dictionary({"session_id": "mctest"}, signature="sv")

    @dbus.service.method(IFACE, in_signature="oosa{sv}", out_signature="ua{sv}")
    def SelectSources(self, handle, session_handle, app_id, options):
        s = self.sessions.get(str(session_handle))
        cm = int(options.get("cursor_mode", 0))
        pm = int(options.get("persist_mode", 0))
        if s is not None and "restore_data" in options:
            s.restored = True
            log("restored cursor_mode=%d persist_mode=%d" % (cm, pm))
        else:
            log("dialog cursor_mode=%d persist_mode=%d types=%d" % (
                cm, pm, int(options.get("types", 0))))
        return dbus.UInt32(0), dbus.Dictionary({}, signature="sv")

    @dbus.service.method(IFACE, in_signature="ooss" "a{sv}", out_signature="ua{sv}")
    def Start(self, handle, session_handle, app_id, parent_window, options):
        if args.cancel:
            log("cancelled")
            return dbus.UInt32(1), dbus.Dictionary({}, signature="sv")
        log("start")
        stream = dbus.Struct((dbus.UInt32(args.node), dbus.Dictionary({
            "position": dbus.Struct((dbus.Int32(0), dbus.Int32(0)), signature=None),
            "size": dbus.Struct((dbus.Int32(W), dbus.Int32(H)), signature=None),
            "source_type": dbus.UInt32(1)}, signature="sv")), signature=None)
        res = dbus.Dictionary({
            "streams": dbus.Array([stream], signature="(ua{sv})"),
            "persist_mode": dbus.UInt32(2),
            "restore_data": dbus.Struct(("mctest", dbus.UInt32(1),
                                         dbus.String("screen-0", variant_level=1)),
                                        signature="suv"),
        }, signature="sv")
        s = self.sessions.get(str(session_handle))
        if args.close_after > 0 and s is not None:
            def close():
                log("closed")
                s.Closed()
                return False
            GLib.timeout_add(int(args.close_after * 1000), close)
        return dbus.UInt32(0), res

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        if iface != IFACE:
            return dbus.Dictionary({}, signature="sv")
        return dbus.Dictionary({"AvailableSourceTypes": dbus.UInt32(1),
                                "AvailableCursorModes": dbus.UInt32(1 | 2 | 4),
                                "version": dbus.UInt32(4)}, signature="sv")


DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
sc = ScreenCast(bus)
name = dbus.service.BusName(NAME, bus)
log("ready")
print("ready", flush=True)
GLib.MainLoop().run()
