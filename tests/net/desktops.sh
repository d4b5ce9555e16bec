# Wayland desktops for the tests and benchmarks, without a GPU: sway
# headless (wlr-screencopy) and a ScreenCast portal stack (the real
# xdg-desktop-portal frontend, pipewire, wireplumber, a backend and a
# PipeWire screen of the tests' own). Sourced after lib.sh, except
# portal_bus_reexec, which comes first.
# shellcheck shell=bash

# portal_bus_reexec SCRIPT ARGS...: runs SCRIPT again on a private session
# bus, which can start the permission store (it keeps the portal's restore
# data) and nothing else: no document portal with its FUSE mount. Call it
# before lib.sh; it returns only inside the new bus.
portal_bus_reexec() {
    [ -n "${MC_PORTAL_BUS:-}" ] && return 0
    command -v dbus-run-session >/dev/null || return 0
    MC_PORTAL_BUS=$(mktemp -d /tmp/mcbus.XXXXXX)
    mkdir "$MC_PORTAL_BUS/services"
    cp /usr/share/dbus-1/services/org.freedesktop.impl.portal.PermissionStore.service \
        "$MC_PORTAL_BUS/services/" 2>/dev/null
    cat >"$MC_PORTAL_BUS/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$MC_PORTAL_BUS</listen>
  <servicedir>$MC_PORTAL_BUS/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
    export MC_PORTAL_BUS
    local script=$1 rc
    shift
    dbus-run-session --config-file="$MC_PORTAL_BUS/session.conf" -- bash "$script" "$@"
    rc=$?
    rm -rf "$MC_PORTAL_BUS"
    exit $rc
}

PY=/usr/bin/python3 # Debian's, with python3-dbus and python3-gi
PORTAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../portal" && pwd)

# portal_need BUILD_DIR: skips unless everything the portal stack needs is here.
portal_need() {
    local c
    for c in dbus-run-session dbus-update-activation-environment gdbus pipewire wireplumber; do
        command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
    done
    XDP=/usr/libexec/xdg-desktop-portal
    [ -x "$XDP" ] || skip "xdg-desktop-portal missing (tools/install-deps installs it)"
    "$PY" -c 'import dbus, gi' 2>/dev/null || skip "python3-dbus or python3-gi missing"
    PW_SOURCE="$1/tests/pw_source"
    [ -x "$PW_SOURCE" ] || skip "this build has no portal capture (libpipewire-0.3-dev missing)"
    [ -n "${MC_PORTAL_BUS:-}" ] || skip "not on a private session bus (dbus-run-session missing)"
}

# start_portal_stack W H: pipewire, wireplumber, the PipeWire test screen
# (W x H; commands with pw_cmd, answers in $TMPDIR_TEST/src.out), the
# tests' backend handing out its node, and the portal frontend. Sets NODE.
start_portal_stack() {
    start_pipewire_session
    start_pw_source "$1" "$2"
    PORTAL_SRC=(--node "$NODE" --size "${PW_W}x$PW_H")
    start_portal_frontend
}

# start_pipewire_session: pipewire and wireplumber, with HOME and the
# runtime and config directories of their own under $TMPDIR_TEST/rt.
start_pipewire_session() {
    local rt=$TMPDIR_TEST/rt
    mkdir -p -m 700 "$rt/run" "$rt/home" "$rt/portals"
    export XDG_RUNTIME_DIR=$rt/run HOME=$rt/home XDG_CONFIG_HOME=$rt/home/.config
    cp "$PORTAL_DIR/mctest.portal" "$rt/portals/"
    start_bg pipewire
    for _ in $(seq 50); do [ -S "$rt/run/pipewire-0" ] && break; sleep 0.1; done
    [ -S "$rt/run/pipewire-0" ] || fail "pipewire did not start"
    start_bg wireplumber
}

# start_pw_source W H: the PipeWire test screen. Sets NODE, PW_W, PW_H.
start_pw_source() {
    PW_W=$1 PW_H=$2
    mkfifo "$TMPDIR_TEST/cmd"
    exec 7<>"$TMPDIR_TEST/cmd"
    # (not start_bg: an & inside a function would read /dev/null)
    "$PW_SOURCE" "$PW_W" "$PW_H" <"$TMPDIR_TEST/cmd" >"$TMPDIR_TEST/src.out" 2>"$TMPDIR_TEST/src.err" &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q '^node' "$TMPDIR_TEST/src.out" && break; sleep 0.1; done
    NODE=$(awk '/^node/ {print $2; exit}' "$TMPDIR_TEST/src.out")
    [ -n "$NODE" ] || fail "the PipeWire test screen did not start: $(cat "$TMPDIR_TEST/src.err")"
}

# start_portal_frontend: the tests' backend (its screen: PORTAL_SRC, the
# arguments backend.py takes) and the xdg-desktop-portal frontend.
start_portal_frontend() {
    start_portal_backend
    # The frontend finds our backend by these; also when the bus starts it.
    export XDG_DESKTOP_PORTAL_DIR=$TMPDIR_TEST/rt/portals XDG_CURRENT_DESKTOP=mctest
    dbus-update-activation-environment XDG_DESKTOP_PORTAL_DIR XDG_CURRENT_DESKTOP HOME \
        XDG_RUNTIME_DIR XDG_CONFIG_HOME || fail "cannot set the session bus's environment"
    start_bg "$XDP" 2>"$TMPDIR_TEST/xdp.log"
    for _ in $(seq 100); do has_portal && return; sleep 0.1; done
    fail "xdg-desktop-portal did not start: $(cat "$TMPDIR_TEST/xdp.log")"
}

# start_mutter W H: GNOME's compositor, headless with one virtual monitor
# (Meta-0) and software rendering; its screen cast API is what GNOME's
# portal backend uses. Exports WAYLAND_DISPLAY.
start_mutter() {
    start_bg mutter --headless --virtual-monitor "${1}x$2" --wayland --no-x11
    local n
    for n in $(seq 100); do
        gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
            --method org.freedesktop.DBus.NameHasOwner org.gnome.Mutter.ScreenCast 2>/dev/null |
            grep -q true && [ -S "$XDG_RUNTIME_DIR/wayland-0" ] && break
        sleep 0.1
    done
    [ "$n" -lt 100 ] || fail "mutter did not start"
    export WAYLAND_DISPLAY=wayland-0
}

has_portal() {
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner org.freedesktop.portal.Desktop 2>/dev/null |
        grep -q true
}

# start_portal_backend ARGS...: (re)starts the tests' portal backend on
# PORTAL_SRC (backend.py: --cancel, --close-after S); it logs to
# $TMPDIR_TEST/backend.log.
PORTAL_BACKEND=
start_portal_backend() {
    [ -n "$PORTAL_BACKEND" ] && kill "$PORTAL_BACKEND" 2>/dev/null && wait "$PORTAL_BACKEND" 2>/dev/null
    : >"$TMPDIR_TEST/backend.log"
    start_bg "$PY" "$PORTAL_DIR/backend.py" "${PORTAL_SRC[@]}" \
        --log "$TMPDIR_TEST/backend.log" "$@" >/dev/null
    PORTAL_BACKEND=$LAST_PID
    for _ in $(seq 50); do grep -q ready "$TMPDIR_TEST/backend.log" && return; sleep 0.1; done
    fail "the test portal backend did not start"
}

# pw_cmd LINE: a command to the PipeWire test screen; waits for its answer.
PW_NCMD=0
pw_cmd() {
    echo "$*" >&7
    PW_NCMD=$((PW_NCMD + 1))
    for _ in $(seq 100); do
        [ "$(grep -c -E '^(sent|skipped|saved|loaded|bad|cannot)' "$TMPDIR_TEST/src.out")" -ge "$PW_NCMD" ] && return
        sleep 0.05
    done
    fail "the test screen did not answer '$*'"
}

# start_sway W H PNG: sway headless (software rendering, as nobody, as it
# insists) showing PNG on HEADLESS-1. Exports XDG_RUNTIME_DIR,
# WAYLAND_DISPLAY and SWAYSOCK for swaymsg and grim; stop_sway ends it.
SWAY_RT= SWAY_PID=
start_sway() {
    local w=$1 h=$2 png=$3
    SWAY_RT=$(mktemp -d /tmp/mcway.XXXXXX)
    chown 65534:65534 "$SWAY_RT"
    chmod 755 "$SWAY_RT"
    mkdir -m 700 "$SWAY_RT/run" && chown 65534:65534 "$SWAY_RT/run"
    cp "$png" "$SWAY_RT/bg.png"
    chmod 644 "$SWAY_RT/bg.png"
    cat >"$SWAY_RT/sway.conf" <<CONF
output HEADLESS-1 resolution ${w}x$h bg $SWAY_RT/bg.png center #000000
default_border none
CONF
    chmod 644 "$SWAY_RT/sway.conf"
    setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$SWAY_RT" \
        XDG_RUNTIME_DIR="$SWAY_RT/run" WLR_BACKENDS=headless WLR_RENDERER=pixman \
        WLR_LIBINPUT_NO_DEVICES=1 PATH=/usr/bin:/bin \
        dbus-run-session sway -c "$SWAY_RT/sway.conf" >"$TMPDIR_TEST/sway.log" 2>&1 &
    SWAY_PID=$!
    for _ in $(seq 50); do
        ls "$SWAY_RT/run"/wayland-* >/dev/null 2>&1 && ls "$SWAY_RT/run"/sway-ipc.* >/dev/null 2>&1 && break
        sleep 0.1
    done
    WLD=$(basename "$(ls "$SWAY_RT/run"/wayland-[0-9] 2>/dev/null | head -1)")
    [ -n "$WLD" ] || fail "sway did not start: $(cat "$TMPDIR_TEST/sway.log")"
    SWAYSOCK=$(ls "$SWAY_RT/run"/sway-ipc.* | head -1)
    export XDG_RUNTIME_DIR="$SWAY_RT/run" WAYLAND_DISPLAY="$WLD" SWAYSOCK
    sleep 1 # swaybg draws the picture
}

# sway first (SWAY_PID is its dbus-run-session): dbus-run-session ends its
# bus when its child ends, but not when it is killed itself (its
# dbus-daemon would stay behind).
stop_sway() {
    if [ -n "$SWAY_PID" ]; then
        pkill -P "$SWAY_PID" -x sway 2>/dev/null
        for _ in $(seq 30); do kill -0 "$SWAY_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$SWAY_PID" 2>/dev/null
    fi
    [ -n "$SWAY_RT" ] && pkill -u 65534 -f "sway -c $SWAY_RT/sway.conf" 2>/dev/null
    [ -n "$SWAY_RT" ] && rm -rf "$SWAY_RT"
    SWAY_PID= SWAY_RT=
}
