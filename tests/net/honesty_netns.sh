#!/bin/bash
# What mcshare tells its users is true (issue: "say what is true and lose
# nothing"). Four hosts on one switch: teacher T, second teacher U, student
# V (mcprobe, and mcview on an Xvfb whose window title mirrors the words on
# screen), and F, which sends bit-flipped copies of the broadcast.
#  1. A full disk: the first key cannot be remembered, and the viewer says
#     so instead of "remembered"; the known-senders file is left unharmed.
#  2. SIGHUP on mcshare (the teacher's terminal closed): viewers are told
#     the broadcast ended.
#  3. The teacher restarts with another key: the window says the broadcast
#     is refused and why, not "Broadcast ended".
#  4. Bit-flipped packets: no impersonation alarm (nothing was signed by
#     another key), a quiet note, the picture stays exact. SIGHUP on mcprobe
#     still writes its summary, CSV, plot and snapshot.
#  5. A second mcshare on the group refuses to start and names the live
#     one; with --force it goes ahead, and the viewer says on screen that
#     two computers are broadcasting.
TEST_NAME=honesty_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in Xvfb xwininfo xdpyinfo python3 unshare; do command -v $c >/dev/null || skip "$c missing"; done
SW="mchS$$" T="mchT$$" U="mchU$$" V="mchV$$" F="mchF$$"
NET="10.209.$(( $$ % 250 ))"
make_lan h "$NET" "$SW" "$T" "$U" "$V" "$F"
GROUP=$(unique_group 13)
PORT=$(( 20000 + ($$ + 31) % 20000 ))
CFG=$TMPDIR_TEST
sender() { # NS IFACE KEYFILE LOG [ARGS...]: the test pattern, no sound
    local ns=$1 ifc=$2 key=$3 lg=$4
    shift 4
    start_bg ip netns exec "$ns" "$BIN/mcshare" --source test --size 640x360 --fps 15 --audio none \
        --group "$GROUP" --port "$PORT" --iface "$ifc" --key "$key" "$@" 2>"$lg"
    for _ in $(seq 80); do grep -q 'key fingerprint' "$lg" && return; kill -0 "$LAST_PID" 2>/dev/null || break; sleep 0.1; done
    fail "mcshare did not start: $(cat "$lg")"
}
fpr_of() { sed -n 's/.*key fingerprint \([0-9a-f-]*\).*/\1/p' "$1" | head -1; }
# Waits (up to $3 x 0.1 s) for a pattern in a file.
wait_for() { for _ in $(seq "$3"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# --- 1. a full disk -------------------------------------------------------
sender "$T" "h1x$$" "$CFG/a.key" "$CFG/s1.log"
FPR_A=$(fpr_of "$CFG/s1.log")
ip netns exec "$V" unshare -m bash -c '
    mkdir -p "$1/full" && mount -t tmpfs -o size=64k tmpfs "$1/full" || exit 97
    mkdir -p "$1/full/mcshare"
    dd if=/dev/zero of="$1/full/filler" bs=4k 2>/dev/null
    XDG_CONFIG_HOME=$1/full "$2/mcprobe" "$3" --iface "$4" --duration 3 --quiet --no-audio
    rc=$?
    [ -s "$1/full/mcshare/known_senders" ] && echo "KNOWN_SENDERS_WRITTEN"
    ls "$1/full/mcshare" | grep -q tmp && echo "TEMPORARY_FILE_LEFT"
    exit $rc' _ "$CFG" "$BIN" "$GROUP:$PORT" "h3x$$" >"$CFG/full.out" 2>&1
rc=$?
[ $rc = 97 ] && skip "cannot mount a tmpfs"
[ $rc = 0 ] || fail "mcprobe on a full disk exited $rc: $(cat "$CFG/full.out")"
grep -q "key $FPR_A, for this run only: it could NOT be remembered in $CFG/full/mcshare/known_senders (No space left on device)" "$CFG/full.out" ||
    fail "the full disk was not reported: $(cat "$CFG/full.out")"
! grep -q "first use; remembered in\|KNOWN_SENDERS_WRITTEN\|TEMPORARY_FILE_LEFT" "$CFG/full.out" ||
    fail "claimed or left a file on a full disk: $(cat "$CFG/full.out")"
log "1. full disk: said plainly, nothing written"

# --- 2. SIGHUP on mcshare ------------------------------------------------
DV=$(pick_display)
start_xvfb "$V" "$DV" 800x450
start_bg ip netns exec "$V" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$BIN/mcview" "$GROUP:$PORT" --iface "h3x$$" --no-audio 2>"$CFG/view.log"
VIEW=$LAST_PID
start_bg ip netns exec "$V" "$BIN/mcprobe" "$GROUP:$PORT" --iface "h3x$$" --no-audio --quiet \
    --duration 60 2>"$CFG/probe.log"
PROBE=$LAST_PID
# The window's title says what its overlay says ("mcview GROUP:PORT - live"
# or the sentence on screen); WM_NAME holds it.
title() {
    local id
    id=$(ip netns exec "$V" env DISPLAY=":$DV" xwininfo -root -tree 2>/dev/null | awk '/"mcview"/ {print $1; exit}')
    [ -n "$id" ] && ip netns exec "$V" env DISPLAY=":$DV" xprop -id "$id" WM_NAME 2>/dev/null
}
wait_title() { for _ in $(seq "$2"); do title | grep -q -- "$1" && return 0; sleep 0.1; done; return 1; }
wait_title ' live"$' 100 || fail "mcview did not go live: $(title) $(cat "$CFG/view.log")"
SENDER1=${PIDS[0]}
kill -HUP "$SENDER1"
for _ in $(seq 50); do kill -0 "$SENDER1" 2>/dev/null || break; sleep 0.1; done
wait "$SENDER1"
rc=$?
[ $rc = 0 ] || fail "mcshare exited $rc on SIGHUP: $(cat "$CFG/s1.log")"
grep -q "viewers were told the broadcast ended" "$CFG/s1.log" || fail "no end message: $(cat "$CFG/s1.log")"
wait_title "Broadcast ended" 50 || fail "mcview did not say the broadcast ended: $(title)"
wait_for "$CFG/probe.log" "Broadcast ended" 30 || fail "mcprobe did not hear the end: $(cat "$CFG/probe.log")"
log "2. SIGHUP: mcshare ended cleanly, the viewers were told"

# --- 3. a restart with another key ---------------------------------------
sender "$T" "h1x$$" "$CFG/b.key" "$CFG/s2.log"
FPR_B=$(fpr_of "$CFG/s2.log")
[ "$FPR_A" != "$FPR_B" ] || fail "the two keys are the same"
wait_title "Refusing the broadcast on $GROUP:$PORT: it is signed by key $FPR_B" 60 ||
    fail "the window does not say the new key is refused: $(title)"
wait_for "$CFG/probe.log" "Refusing the broadcast on $GROUP:$PORT: it is signed by key $FPR_B" 30 ||
    fail "mcprobe does not say the new key is refused: $(cat "$CFG/probe.log")"
grep -q "WARNING: refused .* validly signed by key $FPR_B" "$CFG/view.log" ||
    fail "mcview gave no warning in the terminal: $(cat "$CFG/view.log")"
sleep 1
title | grep -q "Refusing" || fail "the refusal did not stay on screen: $(title)"
log "3. another key: refused on screen ($(title))"
stop_checked "$PROBE" mcprobe

# --- 4. bit-flipped packets, and SIGHUP on mcprobe ----------------------
start_bg ip netns exec "$V" "$BIN/mcprobe" "$GROUP:$PORT" --iface "h3x$$" --no-audio --trust "$FPR_B" \
    --verify-pattern --json --csv "$CFG/p.csv" --plot "$CFG/p.svg" --snapshot "$CFG/p.ppm" \
    >"$CFG/flip.json" 2>"$CFG/flip.log"
FLIPV=$LAST_PID
sleep 1
ip netns exec "$F" timeout 20 python3 "$(dirname "$0")/flipper.py" "$GROUP" "$PORT" "$NET.4" 4 500 7 \
    >"$CFG/flipper.json" || fail "the flipper failed: $(cat "$CFG/flipper.json")"
sleep 1
kill -HUP "$FLIPV"
for _ in $(seq 100); do kill -0 "$FLIPV" 2>/dev/null || break; sleep 0.1; done
wait "$FLIPV"
rc=$?
[ $rc = 0 ] || fail "mcprobe exited $rc on SIGHUP (3 = a wrong tile): $(cat "$CFG/flip.log")"
for f in p.csv p.svg p.ppm; do [ -s "$CFG/$f" ] || fail "SIGHUP lost mcprobe's $f"; done
[ "$(json_field "$CFG/flip.json" type)" = summary ] || fail "no summary after SIGHUP"
bad=$(json_field "$CFG/flip.json" auth_bad) wrong=$(json_field "$CFG/flip.json" auth_wrong_key)
[ "$wrong" = 0 ] && [ "$bad" -gt 0 ] || fail "flipped packets counted as wrong key $wrong, bad $bad"
! grep -q "WARNING\|impersonating" "$CFG/flip.log" || fail "a false alarm: $(cat "$CFG/flip.log")"
[ "$(grep -c "note: ignoring damaged or forged manifests" "$CFG/flip.log")" = 1 ] ||
    fail "the damaged manifests were not noted exactly once: $(cat "$CFG/flip.log")"
log "4. flipped packets ($(cat "$CFG/flipper.json")): $bad bad manifests, 0 alarms, picture exact; SIGHUP wrote everything"

# --- 5. a second sender on the group -------------------------------------
ip netns exec "$U" "$BIN/mcshare" --source test --size 320x180 --audio none --group "$GROUP" \
    --port "$PORT" --iface "h2x$$" --key "$CFG/c.key" --duration 5 2>"$CFG/s3.log"
rc=$?
[ $rc = 1 ] || fail "a second mcshare on the group started (exit $rc): $(cat "$CFG/s3.log")"
grep -q "another broadcast is live on $GROUP:$PORT (from $NET.1, 640x360, session [0-9a-f]*, key $FPR_B)" "$CFG/s3.log" ||
    fail "the second mcshare did not name the live one: $(cat "$CFG/s3.log")"
! grep -q "broadcasting [0-9]" "$CFG/s3.log" || fail "the refused mcshare broadcast anyway"
# A fresh viewer trusts the first key it sees (B); then U goes ahead anyway.
start_bg ip netns exec "$V" env XDG_CONFIG_HOME="$CFG/fresh" "$BIN/mcprobe" "$GROUP:$PORT" \
    --iface "h3x$$" --no-audio --quiet --duration 30 2>"$CFG/probe2.log"
PROBE2=$LAST_PID
wait_for "$CFG/probe2.log" "trusting the sender" 50 || fail "the fresh viewer trusted nothing: $(cat "$CFG/probe2.log")"
sender "$U" "h2x$$" "$CFG/c.key" "$CFG/s4.log" --force
grep -q "WARNING: another broadcast is live on $GROUP:$PORT" "$CFG/s4.log" || fail "--force gave no warning: $(cat "$CFG/s4.log")"
FPR_C=$(fpr_of "$CFG/s4.log")
wait_for "$CFG/probe2.log" "Another computer is also broadcasting on $GROUP:$PORT, signed by key $FPR_C" 50 ||
    fail "the viewer did not say two computers broadcast: $(cat "$CFG/probe2.log")"
stop_checked "$PROBE2" mcprobe
stop_checked "$VIEW" mcview
log "PASS"
