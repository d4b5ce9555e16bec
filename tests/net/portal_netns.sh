#!/bin/bash
# The ScreenCast portal end to end, without a GPU: the real
# xdg-desktop-portal frontend, real pipewire and wireplumber, a ScreenCast
# backend of the tests' own (tests/portal/backend.py, in place of GNOME's
# or KDE's dialog) and a PipeWire screen of the tests' own
# (tests/pw_source: BGRx pictures with damage rectangles and the pointer as
# metadata, as mutter sends them).
#  1. --source auto in a Wayland session without wlr-screencopy takes the
#     portal; --cursor off asks for the pointer hidden; persist_mode 2.
#     The student's picture (mcprobe, another namespace) is exact; a
#     changed rectangle and a picture without a damage list follow; every
#     copy and rectangle came from the stream (counted exactly).
#  2. A second run: the restore token kept by the first means no dialog;
#     --cursor on takes the pointer as metadata and draws it where the
#     stream says, and where it moves.
#  3. The teacher cancels the dialog: a clear message, nothing broadcast.
#  4. The desktop ends the session: mcshare says so and the student is
#     told the broadcast ended.
TEST_NAME=portal_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/desktops.sh"
portal_bus_reexec "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in compare convert; do
    command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
done
portal_need "$BIN"
unset DISPLAY
W=640 H=360
start_portal_stack $W $H
cmd() { pw_cmd "$@"; }
# The pictures the test screen sent so far.
sent() { grep -c '^sent' "$TMPDIR_TEST/src.out"; }
probe() { # probe SECONDS FILE: the student's picture after SECONDS
    ip netns exec "mcpB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration "$1" \
        --no-audio -q --snapshot "$2" >/dev/null
}
exact() { # exact GOT REF WHAT
    local ae
    ae=$(compare -metric AE "$1" "$2" null: 2>&1)
    [ "$ae" = 0 ] || fail "$3: the student's picture differs from the screen in $ae pixels"
}

make_pair "mcpA$$" "mcpB$$" 217
GROUP=$(unique_group 17)
PORT=$(( 20000 + ($$ + 47) % 20000 ))
teacher() { # teacher LOG ARGS...: mcshare in the teacher's namespace
    local log=$1
    shift
    start_bg ip netns exec "mcpA$$" env WAYLAND_DISPLAY=mc-none-$$ "$BIN/mcshare" \
        --group "$GROUP" --port "$PORT" --iface "$IF_A" --audio none --fps 30 "$@" 2>"$log"
    SENDER=$LAST_PID
    for _ in $(seq 300); do
        grep -q "key fingerprint\|cannot capture" "$log" && return
        kill -0 "$SENDER" 2>/dev/null || return
        sleep 0.1
    done
    fail "mcshare did not start within 30 s: $(cat "$log"); the backend: $(cat "$TMPDIR_TEST/backend.log"); the portal: $(tail -20 "$TMPDIR_TEST/xdp.log")"
}

# --- 1. auto -> portal, the picture exact, damage used -------------------
cmd fill 1d3557
cmd rect 40 40 560 50 f1faee
teacher "$TMPDIR_TEST/s1.log" --cursor off
grep -q "capturing ${W}x$H: ScreenCast portal v[0-9]*, PipeWire node $NODE, pointer hidden (auto: .*the portal)" \
    "$TMPDIR_TEST/s1.log" || fail "--source auto did not take the portal: $(cat "$TMPDIR_TEST/s1.log")"
grep -q "^dialog cursor_mode=1 persist_mode=2 types=3" "$TMPDIR_TEST/backend.log" ||
    fail "the portal was not asked for a monitor or a window, the pointer hidden, persist_mode 2: $(cat "$TMPDIR_TEST/backend.log")"
base=$(sent) # pictures the screen sent before mcshare was there
cmd save "$TMPDIR_TEST/ref1.ppm"
probe 2 "$TMPDIR_TEST/got1.ppm" || fail "mcprobe received nothing"
exact "$TMPDIR_TEST/got1.ppm" "$TMPDIR_TEST/ref1.ppm" "the first picture"
log "1. auto took the portal; the picture is exact"
start_bg ip netns exec "mcpB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 4 \
    --no-audio -q --snapshot "$TMPDIR_TEST/got2.ppm"
PROBE=$LAST_PID
sleep 1
cmd rect 100 120 200 80 e63946 # damage: this rectangle alone
cmd rect 400 200 64 64 2a9d8f
sleep 0.5
cmd nodamage f4a261 # a picture without a damage list: copied whole
cmd rect 10 300 100 40 264653
sleep 0.3
cmd lost 300 20 120 60 8ecae6 # a buffer missed: its damage cannot be trusted
cmd save "$TMPDIR_TEST/ref2.ppm"
wait "$PROBE" || fail "mcprobe received nothing after the changes"
exact "$TMPDIR_TEST/got2.ppm" "$TMPDIR_TEST/ref2.ppm" "after the changes"
# The stream changes size (a shared window resized): the picture keeps its
# size, the stream scaled into it.
cmd resize 320 180 e9c46a
convert -size ${W}x$H xc:'#e9c46a' -depth 8 "$TMPDIR_TEST/ref-resized.ppm"
# (the new format is negotiated first: slow under TSan, so a few tries)
for n in $(seq 10); do
    probe 2 "$TMPDIR_TEST/got-resized.ppm" || fail "mcprobe received nothing after the resize"
    ae=$(compare -metric AE "$TMPDIR_TEST/got-resized.ppm" "$TMPDIR_TEST/ref-resized.ppm" null: 2>&1)
    [ "$ae" = 0 ] && break
done
exact "$TMPDIR_TEST/got-resized.ppm" "$TMPDIR_TEST/ref-resized.ppm" "the stream at 320x180"
log "1. a stream of another size is scaled into the picture"
copies=$(( $(sent) - base ))
stop_checked "$SENDER" mcshare
grep -q "^closed by the app" "$TMPDIR_TEST/backend.log" ||
    fail "mcshare did not close its portal session on exit"
line=$(grep "mcshare: capture:" "$TMPDIR_TEST/s1.log")
log "$line"
# Pictures mcshare took from the stream: at most those the screen sent
# while it was there (its first, and one per command; PipeWire may skip a
# buffer when the reader is slow: the picture above stays exact because a
# gap in the sequence numbers means a whole copy). Rectangles: those the
# rect commands listed, 3 at most, and at least one used.
"$PY" - "$line" "$copies" <<'PY' || fail "the stream's pictures and damage were not used as expected"
import re, sys
m = re.search(r"(\d+) pictures copied; the compositor reported (\d+) changed", sys.argv[1])
frames, rects, sent = int(m.group(1)), int(m.group(2)), int(sys.argv[2])
sys.exit(0 if 2 <= frames <= sent + 1 and 1 <= rects <= 3 else 1)
PY
log "1. the changes followed exactly; the stream's damage was used"

cmd resize $W $H f4a261 # back, for the next mcshare

# --- 2. the restore token: no dialog; the pointer as metadata -------------
[ -s "$XDG_CONFIG_HOME/mcshare/portal-restore-token" ] || fail "no restore token was kept"
[ "$(stat -c %a "$XDG_CONFIG_HOME/mcshare/portal-restore-token")" = 600 ] ||
    fail "the restore token is readable by others"
: >"$TMPDIR_TEST/backend.log"
cmd cursor 200 150
teacher "$TMPDIR_TEST/s2.log" --source portal --cursor on
grep -q "pointer as metadata" "$TMPDIR_TEST/s2.log" || fail "no pointer metadata: $(cat "$TMPDIR_TEST/s2.log" "$TMPDIR_TEST/backend.log")"
grep -q "^restored cursor_mode=4" "$TMPDIR_TEST/backend.log" ||
    fail "the second run showed the dialog again: $(cat "$TMPDIR_TEST/backend.log")"
# The pointer: a 16x16 black square with a white centre, its hot spot at
# its top-left corner.
pointer_at() { # pointer_at FILE X Y: 0 when the pointer is drawn there
    "$PY" - "$@" <<'PY'
import sys
f, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(f, "rb").read()
parts = data.split(b"\n", 3)
w, h = map(int, parts[1].split())
px = parts[3]
def at(i, j):
    o = (j * w + i) * 3
    return px[o:o + 3]
edge, centre = at(x + 1, y + 1), at(x + 8, y + 8)
ok = max(edge) < 40 and min(centre) > 215
print("edge %s centre %s" % (list(edge), list(centre)), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
probe 2 "$TMPDIR_TEST/got3.ppm" || fail "mcprobe received nothing (cursor on)"
pointer_at "$TMPDIR_TEST/got3.ppm" 200 150 || fail "the pointer is not drawn at 200,150: $(head -c 3000 $TMPDIR_TEST/s2.log)"
start_bg ip netns exec "mcpB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 3 \
    --no-audio -q --snapshot "$TMPDIR_TEST/got4.ppm"
PROBE=$LAST_PID
sleep 1
cmd cursor 420 260
wait "$PROBE" || fail "mcprobe received nothing after the pointer moved"
pointer_at "$TMPDIR_TEST/got4.ppm" 420 260 || fail "the pointer did not follow to 420,260"
pointer_at "$TMPDIR_TEST/got4.ppm" 200 150 2>/dev/null && fail "the pointer is still drawn at 200,150"
stop_checked "$SENDER" mcshare
log "2. no dialog the second time (restore token); the pointer drawn from metadata and followed"

# --- 3. the teacher cancels ------------------------------------------------
start_portal_backend --cancel
ip netns exec "mcpA$$" "$BIN/mcshare" --source portal --group "$GROUP" --port "$PORT" \
    --iface "$IF_A" --audio none 2>"$TMPDIR_TEST/s3.log"
rc=$?
[ $rc = 1 ] || fail "mcshare exited $rc after a cancelled dialog"
grep -q "cannot capture the screen: screen sharing was cancelled in the desktop's dialog" \
    "$TMPDIR_TEST/s3.log" || fail "no clear message on cancel: $(cat "$TMPDIR_TEST/s3.log")"
grep -q "broadcasting" "$TMPDIR_TEST/s3.log" && fail "mcshare broadcast after a cancelled dialog"
log "3. cancelled: '$(grep -o "screen sharing was cancelled.*" "$TMPDIR_TEST/s3.log")', exit 1"

# --- 4. the desktop ends the session --------------------------------------
start_portal_backend --close-after 3
teacher "$TMPDIR_TEST/s4.log" --source portal
start_bg ip netns exec "mcpB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 15 \
    --no-audio -q >"$TMPDIR_TEST/p4.log" 2>&1
PROBE=$LAST_PID
for _ in $(seq 100); do kill -0 "$SENDER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SENDER" 2>/dev/null && fail "mcshare went on after the desktop ended the session"
wait "$SENDER"
rc=$?
[ $rc = 1 ] || fail "mcshare exited $rc when the desktop ended the session"
grep -q "capture failed: the desktop ended the screen sharing" "$TMPDIR_TEST/s4.log" &&
    grep -q "viewers were told the broadcast ended" "$TMPDIR_TEST/s4.log" ||
    fail "no clear message when the desktop ended the session: $(cat "$TMPDIR_TEST/s4.log")"
for _ in $(seq 50); do grep -q "Broadcast ended" "$TMPDIR_TEST/p4.log" && break; sleep 0.1; done
grep -q "Broadcast ended" "$TMPDIR_TEST/p4.log" ||
    fail "the student was not told the broadcast ended: $(cat "$TMPDIR_TEST/p4.log")"
log "4. the desktop ended the session: mcshare said so and told the viewers"
log "PASS"
