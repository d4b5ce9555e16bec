#!/bin/bash
# A student PC in kiosk mode: mcview --kiosk GROUP, as its autostart
# entry starts it at login (the group from /etc/mcshare/mcview.conf).
# Nothing on screen until the teacher broadcasts; then a full-screen window
# with the picture; gone again when the broadcast ends; back when it
# starts again. With --kiosk-lock, Escape and Q do not close it while it
# shows; without, Escape does.
TEST_NAME=kiosk_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in Xvfb xdpyinfo xwininfo xdotool python3; do command -v $c >/dev/null || skip "$c missing"; done
make_pair "mckA$$" "mckB$$" 215
GROUP=$(unique_group 19)
PORT=$(( 20000 + ($$ + 47) % 20000 ))
DV=$(pick_display); start_xvfb "mckB$$" "$DV" 800x450
X() { ip netns exec "mckB$$" env DISPLAY=":$DV" "$@"; }
# The geometry of mcview's window, or nothing when there is none.
window() { X xwininfo -root -tree 2>/dev/null | awk '/"mcview"/ {print $(NF-1); exit}'; }
wait_window() { # present|absent SECONDS
    for _ in $(seq $(( $2 * 10 ))); do
        w=$(window)
        if [ "$1" = present ] && [ -n "$w" ]; then return 0; fi
        if [ "$1" = absent ] && [ -z "$w" ]; then return 0; fi
        sleep 0.1
    done
    return 1
}
mkdir -p "$TMPDIR_TEST/etc"
printf 'group = %s:%s\nkiosk = yes\nkiosk-lock = yes\n' "$GROUP" "$PORT" >"$TMPDIR_TEST/etc/mcview.conf"
start_bg ip netns exec "mckB$$" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy MC_SYSCONFDIR="$TMPDIR_TEST/etc" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$BIN/mcview" --iface "$IF_B" --no-audio 2>"$TMPDIR_TEST/v.log"
VIEW=$LAST_PID
sleep 2
kill -0 "$VIEW" 2>/dev/null || fail "mcview --kiosk exited: $(cat "$TMPDIR_TEST/v.log")"
[ -z "$(window)" ] || fail "a window before the teacher broadcasts"
teacher() {
    start_bg ip netns exec "mckA$$" "$BIN/mcshare" --source test --size 640x360 --audio none \
        --group "$GROUP" --port "$PORT" --iface "$IF_A" 2>>"$TMPDIR_TEST/s.log"
    SENDER=$LAST_PID
}
teacher
wait_window present 8 || fail "no window once the teacher broadcasts: $(cat "$TMPDIR_TEST/v.log")"
geo=$(window)
[ "$geo" = "800x450+0+0" ] || fail "the kiosk window is not full screen: $geo"
log "shown full screen ($geo) when the broadcast started"
# Locked: Escape and Q do nothing.
X xdotool search --name mcview windowactivate --sync key Escape key q 2>/dev/null ||
    X xdotool key Escape key q
sleep 1
kill -0 "$VIEW" 2>/dev/null || fail "--kiosk-lock: Escape closed mcview"
[ -n "$(window)" ] || fail "--kiosk-lock: the window went"
stop_checked "$SENDER" mcshare
wait_window absent 5 || fail "the window stayed after the broadcast ended"
log "gone when the broadcast ended"
teacher
wait_window present 8 || fail "no window when the broadcast came back"
log "back when the broadcast started again"
stop_checked "$SENDER" mcshare
wait_window absent 5 || fail "the window stayed after the second end"
stop_checked "$VIEW" mcview

# Not locked: Escape closes it.
start_bg ip netns exec "mckB$$" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$BIN/mcview" --kiosk "$GROUP:$PORT" --iface "$IF_B" \
    --no-audio 2>"$TMPDIR_TEST/v2.log"
VIEW=$LAST_PID
teacher
wait_window present 8 || fail "no window (unlocked kiosk)"
X xdotool search --name mcview windowactivate --sync key Escape 2>/dev/null || X xdotool key Escape
for _ in $(seq 30); do kill -0 "$VIEW" 2>/dev/null || break; sleep 0.1; done
kill -0 "$VIEW" 2>/dev/null && fail "without --kiosk-lock, Escape must close mcview"
wait "$VIEW"
stop_checked "$SENDER" mcshare
log "PASS"
