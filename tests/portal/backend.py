#!/usr/bin/env python3
"""A ScreenCast portal backend of the tests' own, behind the real
xdg-desktop-portal frontend: what GNOME's or KDE's backend does, without a
dialog. It hands out the node of tests/portal/pw_source, and plays the
teacher:

  backend.py --node N --log FILE [--cancel] [--close-after S]
  backend.py --mutter CONNECTOR --log FILE ...   (GNOME's mutter records)

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
ap.add_argument("--node", type=int, default=0)
ap.add_argument("--mutter", metavar="CONNECTOR",
                help="a real screen: ask mutter (org.gnome.Mutter.ScreenCast) to record "
                     "this monitor, as xdg-desktop-portal-gnome does, and hand out its node")
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
        self.cursor_mode = {}

    def mutter_record(self, portal_cursor_mode, done):
        """mutter's own screen cast API, as xdg-desktop-portal-gnome uses
        it: a session recording one monitor; the node comes later with the
        stream's PipeWireStreamAdded signal, then done(node) (None after 10 s
        without it). The answer to Start waits for it (libdbus cannot
        dispatch the signal inside the method call: async reply)."""
        sc = dbus.Interface(self.bus.get_object("org.gnome.Mutter.ScreenCast",
                                                "/org/gnome/Mutter/ScreenCast"),
                            "org.gnome.Mutter.ScreenCast")
        path = sc.CreateSession(dbus.Dictionary({}, signature="sv"))
        sess = dbus.Interface(self.bus.get_object("org.gnome.Mutter.ScreenCast", path),
                              "org.gnome.Mutter.ScreenCast.Session")
        # portal cursor modes 1 hidden, 2 embedded, 4 metadata -> mutter's 0, 1, 2
        mode = {1: 0, 2: 1, 4: 2}.get(portal_cursor_mode, 0)
        spath = sess.RecordMonitor(args.mutter, dbus.Dictionary(
            {"cursor-mode": dbus.UInt32(mode)}, signature="sv"))
        state = {"done": False}

        def finish(node):
            if not state["done"]:
                state["done"] = True
                log("mutter node %s" % node)
                done(node)
            return False
        self.bus.add_signal_receiver(lambda node: finish(int(node)), "PipeWireStreamAdded",
                                     "org.gnome.Mutter.ScreenCast.Stream", None, spath)
        self.mutter_session = sess
        sess.Start()
        GLib.timeout_add(10000, lambda: finish(None))

    @dbus.service.method(IFACE, in_signature="oosa{sv}", out_signature="ua{sv}")
    def CreateSession(self, handle, session_handle, app_id, options):
        self.sessions[str(session_handle)] = Session(self.bus, session_handle)
        log("create")
        return dbus.UInt32(0), dbus.Dictionary({"session_id": "mctest"}, signature="sv")

    @dbus.service.method(IFACE, in_signature="oosa{sv}", out_signature="ua{sv}")
    def SelectSources(self, handle, session_handle, app_id, options):
        s = self.sessions.get(str(session_handle))
        cm = int(options.get("cursor_mode", 0))
        self.cursor_mode[str(session_handle)] = cm
        pm = int(options.get("persist_mode", 0))
        if s is not None and "restore_data" in options:
            s.restored = True
            log("restored cursor_mode=%d persist_mode=%d" % (cm, pm))
        else:
            log("dialog cursor_mode=%d persist_mode=%d types=%d" % (
                cm, pm, int(options.get("types", 0))))
        return dbus.UInt32(0), dbus.Dictionary({}, signature="sv")

    @dbus.service.method(IFACE, in_signature="ooss" "a{sv}", out_signature="ua{sv}",
                         async_callbacks=("reply", "error"))
    def Start(self, handle, session_handle, app_id, parent_window, options, reply, error):
        if args.cancel:
            log("cancelled")
            reply(dbus.UInt32(1), dbus.Dictionary({}, signature="sv"))
            return
        log("start")
        if not args.mutter:
            reply(*self.started(session_handle, args.node))
            return

        def done(node):
            if node is None:
                reply(dbus.UInt32(2), dbus.Dictionary({}, signature="sv"))
            else:
                reply(*self.started(session_handle, node))
        self.mutter_record(int(self.cursor_mode.get(str(session_handle), 1)), done)

    def started(self, session_handle, node):
        stream = dbus.Struct((dbus.UInt32(node), dbus.Dictionary({
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
        return dbus.Dictionary({"AvailableSourceTypes": dbus.UInt32(1 | 2),
                                "AvailableCursorModes": dbus.UInt32(1 | 2 | 4),
                                "version": dbus.UInt32(4)}, signature="sv")


DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
sc = ScreenCast(bus)
name = dbus.service.BusName(NAME, bus)
log("ready")
print("ready", flush=True)
GLib.MainLoop().run()
