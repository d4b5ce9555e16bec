#!/bin/bash
# GNOME's compositor end to end: mutter 43, headless with a virtual monitor
# and software rendering, records its screen through its own screen cast
# API (as xdg-desktop-portal-gnome asks it to; the tests' backend stands in
# for gnome-shell's dialog) behind the real xdg-desktop-portal frontend and
# PipeWire. On mutter's screen, mcview shows an X11 teacher's picture full
# screen; a second mcshare captures mutter with --source auto (a Wayland
# session without wlr-screencopy: the portal) and mcprobe in another
# namespace must hold that picture exactly, and the next one after it
# changes.
#
#   Xvfb + xshow -> mcshare #1 (A) -> mcview on mutter (B)
#   mutter -> portal -> mcshare #2 (B) -> mcprobe (A)
TEST_NAME=gnome_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/desktops.sh"
portal_bus_reexec "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in mutter Xvfb xdpyinfo compare convert; do
    command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
done
[ -x "$BIN/xshow" ] || skip "xshow not built"
portal_need "$BIN"
W=640 H=360
start_pipewire_session
start_mutter $W $H
PORTAL_SRC=(--mutter Meta-0 --size ${W}x$H)
start_portal_frontend

make_pair "mcgA$$" "mcgB$$" 221
G1=$(unique_group 21) G2=$(unique_group 22)
PORT=$(( 20000 + ($$ + 59) % 20000 ))
for n in a b; do
    [ $n = a ] && col='#1d3557' || col='#f1faee'
    convert -size ${W}x$H xc:"$col" -fill '#e63946' -draw "rectangle 40,40 600,90" \
        -fill '#2a9d8f' -draw "circle 320,220 320,$([ $n = a ] && echo 300 || echo 260)" \
        -depth 8 "$TMPDIR_TEST/$n.ppm"
done

# The X11 teacher and mcview on mutter.
DS=$(pick_display); start_xvfb "mcgA$$" "$DS" "${W}x$H"
start_xshow "$BIN/xshow" "mcgA$$" "$DS" 8
echo "load 0 $TMPDIR_TEST/a.ppm" >&8
echo "load 1 $TMPDIR_TEST/b.ppm" >&8
echo "show 0" >&8
start_bg ip netns exec "mcgA$$" "$BIN/mcshare" --display ":$DS" --group "$G1" --port "$PORT" \
    --iface "$IF_A" --cursor off --audio none 2>"$TMPDIR_TEST/s1.log"
# Leak checking is off for mcview alone (see x11_e2e.sh).
start_bg ip netns exec "mcgB$$" env -u DISPLAY SDL_VIDEODRIVER=wayland SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$BIN/mcview" "$G1:$PORT" --iface "$IF_B" --fullscreen --no-audio -v 2>"$TMPDIR_TEST/v.log"
VIEW=$LAST_PID

# mutter's screen through the portal.
start_bg ip netns exec "mcgB$$" env -u DISPLAY "$BIN/mcshare" --group "$G2" --port "$PORT" \
    --iface "$IF_B" --cursor off --audio none --fps 30 2>"$TMPDIR_TEST/s2.log"
SENDER=$LAST_PID
for _ in $(seq 300); do
    grep -q "key fingerprint\|cannot capture" "$TMPDIR_TEST/s2.log" && break
    kill -0 "$SENDER" 2>/dev/null || break
    sleep 0.1
done
grep -q "capturing ${W}x$H: ScreenCast portal v[0-9]*, PipeWire node [0-9]*, pointer hidden (auto: .*the portal)" \
    "$TMPDIR_TEST/s2.log" || fail "mcshare did not capture mutter through the portal: $(cat "$TMPDIR_TEST/s2.log") $(cat "$TMPDIR_TEST/backend.log")"
grep -q "^mutter node [0-9]" "$TMPDIR_TEST/backend.log" || fail "mutter gave no stream"

# until_exact REF WHAT: the student's picture (2 s of mcprobe), again until
# it equals REF (mcview first shows its own words, then the picture).
until_exact() {
    local ae=? n
    for n in $(seq 10); do
        kill -0 "$VIEW" 2>/dev/null || fail "mcview exited: $(cat "$TMPDIR_TEST/v.log")"
        ip netns exec "mcgA$$" "$BIN/mcprobe" "$G2:$PORT" --iface "$IF_A" --duration 2 \
            --no-audio -q --snapshot "$TMPDIR_TEST/got.ppm" >/dev/null || fail "mcprobe received nothing"
        ae=$(compare -metric AE "$TMPDIR_TEST/got.ppm" "$1" null: 2>&1)
        [ "$ae" = 0 ] && { log "$2: exact (after $n tries)"; return; }
    done
    fail "$2: the student's picture differs from mutter's screen in $ae pixels"
}
until_exact "$TMPDIR_TEST/a.ppm" "picture A on mutter, through the portal"
echo "show 1" >&8
until_exact "$TMPDIR_TEST/b.ppm" "picture B after the change"
grep -q "SDL video driver wayland" "$TMPDIR_TEST/v.log" || fail "mcview did not use SDL's Wayland driver"
stop_checked "$SENDER" mcshare
line=$(grep "mcshare: capture:" "$TMPDIR_TEST/s2.log")
log "$line"
# mutter sends a picture when its screen changes, not one per frame: a few
# in the whole run (about 300 frames at 30 fps).
n=$(echo "$line" | sed -n 's/.*capture: \([0-9]*\) pictures copied.*/\1/p')
[ -n "$n" ] && [ "$n" -ge 2 ] && [ "$n" -le 150 ] ||
    fail "mutter's pictures: expected a few (on change), got '${n:-?}'"
stop_checked "$VIEW" mcview
log "PASS"
