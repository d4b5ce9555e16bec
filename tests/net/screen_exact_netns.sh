#!/bin/bash
# Text arrives exactly: a real slide and a real code page (tools/content) on
# the teacher's Xvfb screen, mcshare at its defaults, mcview --fullscreen on
# a student's Xvfb screen of the same size in another namespace. The
# student's screenshot must equal the picture pixel for pixel (ImageMagick
# "compare -metric AE" counts 0 differing pixels), and again after the code
# page scrolls a line at a time for two seconds: a scroll that a second
# viewer (mcprobe) must have received mostly as moves, not as new tiles.
TEST_NAME=screen_exact_netns
BIN=${1:?usage: $0 BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in Xvfb import compare convert python3; do
    command -v $c >/dev/null || skip "$c missing (tools/check installs xvfb, imagemagick, python3)"
done
[ -x "$BIN/xshow" ] || skip "xshow not built"
make_pair "mceA$$" "mceB$$" 212
GROUP=$(unique_group 12)
W=1024 H=640
PIC=$TMPDIR_TEST/pic
"$SRC/tools/content" "$PIC" "${W}x$H" >/dev/null || fail "tools/content failed"
LINE_H=$(cat "$PIC/line-height")

DS=$(pick_display); start_xvfb "mceA$$" "$DS" "${W}x$H"
DV=$(pick_display); start_xvfb "mceB$$" "$DV" "${W}x$H"
start_xshow "$BIN/xshow" "mceA$$" "$DS" 7
show() { echo "$@" >&7; }
show "load 0 $PIC/slide.ppm"
show "load 1 $PIC/code.ppm"
show "load 2 $PIC/code-tall.ppm"
show "show 0"

start_bg ip netns exec "mceA$$" "$BIN/mcshare" --display ":$DS" --cursor off --audio none \
    --group "$GROUP" --iface "$IF_A" --duration 60
SENDER=$LAST_PID
# Leak checking is off for mcview alone (see x11_e2e.sh).
start_bg ip netns exec "mceB$$" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$BIN/mcview" "$GROUP" --iface "$IF_B" --fullscreen --no-audio
VIEW_PID=$LAST_PID

# wait_exact REF SECONDS: screenshot the viewer until not a pixel differs.
wait_exact() {
    local ref=$1 deadline=$(( $(date +%s) + $2 )) ae=?
    while [ "$(date +%s)" -le "$deadline" ]; do
        kill -0 "$VIEW_PID" 2>/dev/null || fail "mcview exited"
        ip netns exec "mceB$$" env DISPLAY=":$DV" import -window root "$TMPDIR_TEST/shot.png" 2>/dev/null
        ae=$(compare -metric AE "$ref" "$TMPDIR_TEST/shot.png" null: 2>&1 | cut -d' ' -f1)
        if [ "$ae" = 0 ]; then
            log "the student's screen is $(basename "$ref"), exactly"
            return 0
        fi
        sleep 0.3
    done
    cp "$TMPDIR_TEST/shot.png" "/tmp/screen_exact_fail_$$.png"
    ip netns exec "mceA$$" env DISPLAY=":$DS" import -window root "/tmp/screen_exact_teacher_$$.png" 2>/dev/null
    fail "the viewer did not show $(basename "$ref") exactly within $2 s ($ae pixels differ; student's screen /tmp/screen_exact_fail_$$.png, teacher's /tmp/screen_exact_teacher_$$.png)"
}
wait_exact "$PIC/slide.ppm" 15
show "show 1"
wait_exact "$PIC/code.ppm" 8

# The scroll, watched by a second viewer that counts moves.
show "show 2 0"
sleep 1.5
ip netns exec "mceB$$" "$BIN/mcprobe" "$GROUP" --iface "$IF_B" --duration 6 --json -q \
    >"$TMPDIR_TEST/probe.json" &
PROBE=$!
PIDS+=($PROBE)
sleep 1.5
for (( i = 1; i <= 20; i++ )); do
    show "show 2 $(( i * LINE_H ))"
    sleep 0.1
done
convert "$PIC/code-tall.ppm" -crop "${W}x${H}+0+$(( 20 * LINE_H ))" +repage "$TMPDIR_TEST/scrolled.ppm"
wait_exact "$TMPDIR_TEST/scrolled.ppm" 8
wait "$PROBE" || fail "mcprobe failed"
python3 - "$TMPDIR_TEST/probe.json" <<'PY' || fail "the scroll was not sent as moves"
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
changed = s["tiles_first_seen"]
print(f"  scroll: {s['tiles_moved']} tiles moved, {s['moves_failed']} moves failed, "
      f"{s['tiles_first_seen']} tile versions in all", file=sys.stderr)
# 20 one-line steps of a 16 x 10 grid of 64-pixel tiles: most of each
# step's changed tiles are the old pixels one line up.
sys.exit(0 if s["tiles_moved"] >= 500 and s["moves_failed"] * 20 <= s["tiles_moved"] else 1)
PY
exec 7>&-
stop_checked "$VIEW_PID" mcview
stop_checked "$SENDER" mcshare
log ok
