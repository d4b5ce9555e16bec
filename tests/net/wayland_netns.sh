#!/bin/bash
# A Wayland desktop end to end: sway runs headless (software rendering, as
# an unprivileged user, as it insists) showing a known picture; mcshare
# captures it with wlr-screencopy (--source auto must choose it) in the
# teacher's namespace; mcprobe in the student's namespace must hold exactly
# what grim sees. Then the picture changes: the student must have the new
# one within a second, and the changed rectangles must have come from the
# compositor (a still screen costs no copies: a few pictures in all, not
# one per frame). Last, the other way round: mcview runs natively on the
# Wayland desktop (SDL's Wayland driver), full screen, showing an X11
# teacher's picture, and grim must see that picture exactly.
TEST_NAME=wayland_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in sway swaymsg swaybg grim dbus-run-session setpriv convert compare python3 Xvfb xdpyinfo; do
    command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
done
"$BIN/mcshare" --source wlr --duration 0.1 2>&1 | grep -q "no capture backend 'wlr'" &&
    skip "this build has no Wayland capture (libwayland-dev missing)"
. "$(dirname "$0")/desktops.sh"
trap 'stop_sway; cleanup' EXIT
RT=$TMPDIR_TEST
W=640 H=360
convert -size ${W}x$H xc:'#1d3557' -fill '#f1faee' -draw "rectangle 40,40 600,90" \
    -fill '#e63946' -draw "circle 320,220 320,300" -depth 8 "$RT/a.png"
convert -size ${W}x$H xc:'#f1faee' -fill '#1d3557' -draw "rectangle 60,120 580,160" \
    -depth 8 "$RT/b.png"
start_sway $W $H "$RT/a.png"
install -m 644 "$RT/b.png" "$SWAY_RT/b.png" # sway runs as nobody
grim -t ppm "$TMPDIR_TEST/ref-a.ppm" || fail "grim failed"

make_pair "mcwA$$" "mcwB$$" 213
GROUP=$(unique_group 15)
PORT=$(( 20000 + ($$ + 41) % 20000 ))
# The sway socket is a file: reachable from the teacher's namespace.
start_bg ip netns exec "mcwA$$" env -u DISPLAY "$BIN/mcshare" --group "$GROUP" --port "$PORT" \
    --iface "$IF_A" --cursor off --audio none --fps 30 2>"$TMPDIR_TEST/s.log"
SENDER=$LAST_PID
for _ in $(seq 50); do grep -q "key fingerprint" "$TMPDIR_TEST/s.log" && break; sleep 0.1; done
grep -q "capturing ${W}x$H: Wayland $WLD, wlr-screencopy v3 with damage (auto: \$WAYLAND_DISPLAY is $WLD" \
    "$TMPDIR_TEST/s.log" || fail "--source auto did not choose wlr-screencopy: $(cat "$TMPDIR_TEST/s.log")"
ip netns exec "mcwB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 3 --no-audio -q \
    --snapshot "$TMPDIR_TEST/got-a.ppm" >/dev/null || fail "mcprobe received nothing"
ae=$(compare -metric AE "$TMPDIR_TEST/got-a.ppm" "$TMPDIR_TEST/ref-a.ppm" null: 2>&1)
[ "$ae" = 0 ] || fail "the student's picture differs from the Wayland screen in $ae pixels"
log "picture A exact"

# The change: another background.
start_bg ip netns exec "mcwB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 5 --no-audio -q \
    --snapshot "$TMPDIR_TEST/got-b.ppm"
PROBE=$LAST_PID
sleep 1.5
swaymsg -q "output HEADLESS-1 bg $SWAY_RT/b.png center #000000" || fail "swaymsg failed"
sleep 1
grim -t ppm "$TMPDIR_TEST/ref-b.ppm"
wait "$PROBE" || fail "mcprobe received nothing"
ae=$(compare -metric AE "$TMPDIR_TEST/got-b.ppm" "$TMPDIR_TEST/ref-b.ppm" null: 2>&1)
[ "$ae" = 0 ] || fail "after the change the student's picture differs in $ae pixels"
stop_checked "$SENDER" mcshare
line=$(grep "mcshare: capture:" "$TMPDIR_TEST/s.log")
log "$line"
python3 - "$line" <<'PY' || fail "the compositor's damage was not used"
import re, sys
m = re.search(r"(\d+) pictures copied; the compositor reported (\d+) changed", sys.argv[1])
frames, rects = int(m.group(1)), int(m.group(2))
# About 10 s at 30 fps would be 300 copies if every frame were copied.
sys.exit(0 if 2 <= frames <= 60 and rects >= frames else 1)
PY


# The viewer on Wayland: an X11 teacher shows picture A; mcview on sway.
[ -x "$BIN/xshow" ] || skip "xshow not built"
convert "$RT/a.png" "$TMPDIR_TEST/a.ppm"
DS=$(pick_display); start_xvfb "mcwA$$" "$DS" "${W}x$H"
start_xshow "$BIN/xshow" "mcwA$$" "$DS" 7
echo "load 0 $TMPDIR_TEST/a.ppm" >&7
echo "show 0" >&7
start_bg ip netns exec "mcwA$$" "$BIN/mcshare" --display ":$DS" --group "$GROUP" --port "$PORT" \
    --iface "$IF_A" --cursor off --audio none 2>"$TMPDIR_TEST/s2.log"
SENDER=$LAST_PID
swaymsg -q "output HEADLESS-1 bg #000000 solid_color"
# Leak checking is off for mcview alone (see x11_e2e.sh).
start_bg ip netns exec "mcwB$$" env -u DISPLAY SDL_VIDEODRIVER=wayland SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$BIN/mcview" "$GROUP:$PORT" --iface "$IF_B" --fullscreen --no-audio -v 2>"$TMPDIR_TEST/v.log"
VIEW=$LAST_PID
ae=?
for _ in $(seq 60); do
    sleep 0.25
    kill -0 "$VIEW" 2>/dev/null || fail "mcview exited: $(cat "$TMPDIR_TEST/v.log")"
    grim -t ppm "$TMPDIR_TEST/view.ppm" 2>/dev/null || continue
    ae=$(compare -metric AE "$TMPDIR_TEST/view.ppm" "$TMPDIR_TEST/ref-a.ppm" null: 2>&1)
    [ "$ae" = 0 ] && break
done
[ "$ae" = 0 ] || fail "mcview on Wayland does not show the picture exactly ($ae pixels differ): $(cat "$TMPDIR_TEST/v.log")"
grep -q "SDL video driver wayland" "$TMPDIR_TEST/v.log" || fail "mcview did not use SDL's Wayland driver"
stop_checked "$VIEW" mcview
stop_checked "$SENDER" mcshare
log "mcview on Wayland shows the picture exactly"
# A second output: --list-monitors lists both, --monitor captures the one
# asked for (exact against grim's screenshot of that output).
swaymsg -q create_output || fail "swaymsg create_output failed"
swaymsg -q "output HEADLESS-2 resolution 320x240 position $W 0 bg $SWAY_RT/b.png center #000000" ||
    fail "cannot set up HEADLESS-2"
sleep 1
ip netns exec "mcwA$$" env -u DISPLAY "$BIN/mcshare" --source wlr --list-monitors \
    >"$TMPDIR_TEST/monitors.txt" 2>/dev/null || fail "--list-monitors failed"
# (wlroots puts every output at +0+0 in wl_output's geometry: only the
# names and sizes are checked.)
grep -q "^0 HEADLESS-1 ${W}x$H+" "$TMPDIR_TEST/monitors.txt" &&
    grep -q "^1 HEADLESS-2 320x240+" "$TMPDIR_TEST/monitors.txt" ||
    fail "--list-monitors: $(cat "$TMPDIR_TEST/monitors.txt")"
grim -t ppm -o HEADLESS-2 "$TMPDIR_TEST/ref-c.ppm" || fail "grim -o HEADLESS-2 failed"
start_bg ip netns exec "mcwA$$" env -u DISPLAY "$BIN/mcshare" --group "$GROUP" --port "$PORT" \
    --iface "$IF_A" --cursor off --audio none --monitor HEADLESS-2 2>"$TMPDIR_TEST/s3.log"
SENDER=$LAST_PID
ip netns exec "mcwB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 3 --no-audio -q \
    --snapshot "$TMPDIR_TEST/got-c.ppm" >/dev/null || fail "mcprobe received nothing from --monitor"
ae=$(compare -metric AE "$TMPDIR_TEST/got-c.ppm" "$TMPDIR_TEST/ref-c.ppm" null: 2>&1)
[ "$ae" = 0 ] || fail "--monitor HEADLESS-2: the student's picture differs in $ae pixels"
stop_checked "$SENDER" mcshare
log "two outputs listed; --monitor HEADLESS-2 exact"
log "PASS"
