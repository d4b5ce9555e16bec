#!/bin/bash
# Sound on the Windows build, under wine, with a sound system of the test's
# own: pipewire, wireplumber and pipewire-pulse with a null sink
# ("Classroom speakers") as the computer's output; wine's winepulse driver
# gives the Windows programs that output and its "Monitor of" input.
#  1. mcshare.exe --audio default: wine has no WASAPI loopback (its
#     GetService answers WRONG_ENDPOINT_TYPE), so mcshare.exe must say so
#     and record the input that carries the output, through the same WASAPI
#     code. While nothing plays, the sound must still flow (mcprobe in the
#     student's namespace counts the frames); a 440 Hz tone played into the
#     output must reach a Linux mcview in the student's namespace as 440 Hz
#     at -12 dBFS without gaps.
#  2. mcview.exe: a Linux teacher's test tone, played by mcview.exe (SDL2,
#     WASAPI) into the output, recorded from its monitor: 440 Hz at -12 dBFS.
#  3. mcshare.exe --audio mic records the microphone (SDL2, WASAPI): a
#     virtual source the test plays the tone into; a Linux student hears it.
#  4. No sound system at all: mcshare.exe --audio default refuses to
#     broadcast, saying there is no output and no input that carries it.
#   windows_audio_netns.sh BUILD_DIR WIN_BUILD_DIR
TEST_NAME=windows_audio_netns
BIN=${1:?usage: $0 BUILD_DIR WIN_BUILD_DIR}
WIN=${2:?usage: $0 BUILD_DIR WIN_BUILD_DIR}
# wireplumber needs a session bus: a private one (tests/net/desktops.sh).
. "$(dirname "$0")/desktops.sh"
portal_bus_reexec "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_root_netns
WINE=$(command -v wine64 || ls /usr/lib/wine/wine64 2>/dev/null || true)
[ -n "$WINE" ] || skip "wine64 missing (tools/install-deps installs it)"
[ -f "$WIN/mcshare.exe" ] && [ -f "$WIN/mcview.exe" ] ||
    skip "no $WIN/mcshare.exe or mcview.exe (tools/build-windows builds them)"
for c in pipewire wireplumber pipewire-pulse pw-cli pw-play pw-record pw-link pw-metadata; do
    command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
done
make_pair "mcwaA$$" "mcwaB$$" 226
GROUP=$(unique_group 26)
PORT=$(( 20000 + ($$ + 67) % 20000 ))
ADDR_A="10.226.$(( $$ % 250 )).1"
TONE=$(dirname "$0")/tone.py

# The sound system (unix sockets: every namespace reaches it).
rt=$TMPDIR_TEST/rt
mkdir -p -m 700 "$rt/run" "$rt/home"
export XDG_RUNTIME_DIR=$rt/run HOME=$rt/home
start_bg pipewire
for _ in $(seq 50); do [ -S "$rt/run/pipewire-0" ] && break; sleep 0.1; done
[ -S "$rt/run/pipewire-0" ] || fail "pipewire did not start"
start_bg wireplumber
start_bg pipewire-pulse
for _ in $(seq 50); do [ -S "$rt/run/pulse/native" ] && break; sleep 0.1; done
[ -S "$rt/run/pulse/native" ] || fail "pipewire-pulse did not start"
pw-cli create-node adapter '{ factory.name=support.null-audio-sink node.name=mcnull
    node.description="Classroom speakers" media.class=Audio/Sink object.linger=1
    audio.position=[FL FR] }' >/dev/null || fail "no null sink"
# a 440 Hz tone at -12 dBFS, 44.1 kHz (the output converts it), long
# enough for a slow start; each player is stopped when its step ends
python3 - "$TMPDIR_TEST/tone.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
v = [int(0.25 * 32767 * math.sin(2 * math.pi * 440 * i / 44100)) for i in range(44100 * 30)]
w.writeframes(b"".join(struct.pack("<hh", s, s) for s in v)); w.close()
PY

export WINEPREFIX=$TMPDIR_TEST/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
WINESERVER=$(dirname "$WINE")/wineserver
trap 'ip netns exec "mcwaA$$" timeout 20 "$WINESERVER" -k 2>/dev/null; cleanup' EXIT
mkdir -p "$WINEPREFIX"
ip netns exec "mcwaA$$" "$WINESERVER" -p || fail "wineserver did not start"
ip netns exec "mcwaA$$" env -u XDG_CONFIG_HOME timeout 120 "$WINE" "$WIN/mcshare.exe" --version \
    >/dev/null 2>&1 || fail "mcshare.exe does not run under wine"
wine_a() { ip netns exec "mcwaA$$" env -u XDG_CONFIG_HOME timeout 120 "$WINE" "$@"; }
# Ends every Windows program of the prefix, and starts the server again.
wine_restart() {
    ip netns exec "mcwaA$$" timeout 20 "$WINESERVER" -k 2>/dev/null
    ip netns exec "mcwaA$$" timeout 20 "$WINESERVER" -w 2>/dev/null
    ip netns exec "mcwaA$$" "$WINESERVER" -p || fail "wineserver did not start"
}

# student_hears NAME WHAT: a Linux mcview in the student's namespace plays
# 6 s of the broadcast into $TMPDIR_TEST/NAME.raw; tone.py checks it.
student_hears() {
    start_bg ip netns exec "mcwaB$$" env SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=disk \
        SDL_DISKAUDIOFILE="$TMPDIR_TEST/$1.raw" ASAN_OPTIONS=detect_leaks=0 "$BIN/mcview" \
        "$GROUP:$PORT" --iface "$IF_B"
    local view=$LAST_PID
    sleep 6
    stop_checked "$view" mcview
    python3 "$TONE" "$TEST_NAME: $2" "$TMPDIR_TEST/$1.raw"
}

# 1. mcshare.exe records what the computer plays.
wine_a "$WIN/mcshare.exe" --source test --size 320x180 --fps 10 --audio default \
    --group "$GROUP" --port "$PORT" --iface "$ADDR_A" >"$TMPDIR_TEST/ws.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q "key fingerprint" "$TMPDIR_TEST/ws.log" && break; sleep 0.1; done
grep -q 'sound: what this computer plays: "Monitor of Classroom speakers" (an input that carries it)' \
    "$TMPDIR_TEST/ws.log" && grep -q "this system has no loopback" "$TMPDIR_TEST/ws.log" ||
    fail "mcshare.exe did not record the output's monitor, saying why: $(cat "$TMPDIR_TEST/ws.log")"
log "mcshare.exe: $(grep -o "the output's loopback cannot be used.*" "$TMPDIR_TEST/ws.log")"
# Nothing plays: the sound flows all the same (100 frames a second).
ip netns exec "mcwaB$$" timeout 30 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 4 \
    --json -q >"$TMPDIR_TEST/p.json" 2>"$TMPDIR_TEST/p.err" || fail "mcprobe: $(cat "$TMPDIR_TEST/p.err")"
frames=$(json_field "$TMPDIR_TEST/p.json" audio_frames)
conc=$(json_field "$TMPDIR_TEST/p.json" audio_concealed)
lat=$(json_field "$TMPDIR_TEST/p.json" audio_lat_ms)
log "1. nothing playing: $frames frames in 4 s, $conc concealed; heard p50/p95/p99 $lat ms after capture"
# Concealed frames: 0 to 7 in most runs; 27 once in a clean-clone check on
# a loaded machine (the capture under wine polls, and its packets came in
# bursts). The bound is 10 %: what is checked is that the sound flows.
[ "$frames" -ge 300 ] && [ "$conc" -le $(( frames / 10 )) ] ||
    fail "with nothing playing the sound did not flow: $frames frames, $conc concealed"
# A tone played into the output reaches a Linux student.
pw-play --target mcnull "$TMPDIR_TEST/tone.wav" &
PIDS+=($!)
PLAYER=$!
sleep 1
student_hears played "1. the Linux student played" ||
    fail "what the Windows teacher's computer played did not reach the student (see above)"
kill "$PLAYER" 2>/dev/null
wine_restart

# 2. mcview.exe plays a Linux teacher's tone into the output.
start_bg ip netns exec "mcwaB$$" "$BIN/mcshare" --source test --size 320x180 --fps 10 --audio tone \
    --group "$GROUP" --port "$PORT" --iface "$IF_B"
TEACHER=$LAST_PID
ip netns exec "mcwaA$$" env -u XDG_CONFIG_HOME SDL_VIDEODRIVER=dummy timeout 120 "$WINE" \
    "$WIN/mcview.exe" "$GROUP:$PORT" --iface "$ADDR_A" -v >"$TMPDIR_TEST/wv.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q "sound output" "$TMPDIR_TEST/wv.log" && break; sleep 0.1; done
sleep 2
timeout 5 pw-record --target mcnull --rate 48000 --channels 2 --format s16 "$TMPDIR_TEST/rec.wav"
wine_restart
# What mcview.exe plays goes through wine's sound driver and PipeWire's
# graph before it is recorded, and a late period there leaves a gap (seen:
# 416 and 512 samples on an idle machine, 2048 with both cores busy; the
# Linux mcview into a file: a few samples). Up to 200 ms of quiet is let
# pass; the pitch and level are checked as elsewhere.
python3 "$TONE" "$TEST_NAME: 2. mcview.exe played" "$TMPDIR_TEST/rec.wav" 3 9600 ||
    fail "mcview.exe did not play the teacher's tone: $(cat "$TMPDIR_TEST/wv.log")"
stop_checked "$TEACHER" mcshare

# 3. mcshare.exe --audio mic: the microphone through SDL2 (WASAPI). The
# microphone is a virtual source the test plays the tone into.
pw-cli create-node adapter '{ factory.name=support.null-audio-sink node.name=mcmic
    node.description="Classroom microphone" media.class=Audio/Source/Virtual
    object.linger=1 audio.position=[FL FR] }' >/dev/null || fail "no virtual microphone"
pw-metadata 0 default.configured.audio.source '{ "name": "mcmic" }' >/dev/null
# (a player is linked into the source's input by hand: the session
# manager links players to sinks only)
pw-play -P '{ node.name = "mcmicfeed" node.autoconnect = false }' "$TMPDIR_TEST/tone.wav" &
PIDS+=($!)
PLAYER=$!
for _ in $(seq 50); do pw-link mcmicfeed:output_FL mcmic:input_FL 2>/dev/null && break; sleep 0.1; done
pw-link mcmicfeed:output_FR mcmic:input_FR || fail "the tone is not linked into the microphone"
wine_a "$WIN/mcshare.exe" --source test --size 320x180 --fps 10 --audio mic \
    --group "$GROUP" --port "$PORT" --iface "$ADDR_A" >"$TMPDIR_TEST/wm.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q "key fingerprint" "$TMPDIR_TEST/wm.log" && break; sleep 0.1; done
grep -q "sound: microphone" "$TMPDIR_TEST/wm.log" ||
    fail "mcshare.exe --audio mic did not record: $(cat "$TMPDIR_TEST/wm.log")"
student_hears mic "3. the microphone, heard by a Linux student" ||
    fail "the Windows teacher's microphone did not reach the student: $(cat "$TMPDIR_TEST/wm.log")"
kill "$PLAYER" 2>/dev/null
wine_restart

# 4. No sound system: refused, with the reason.
# (into a file: wine's helper processes keep the output open after it ends)
PULSE_SERVER=unix:/nonexistent wine_a "$WIN/mcshare.exe" --source test --audio default \
    --group "$GROUP" --port "$PORT" --iface "$ADDR_A" --duration 2 >"$TMPDIR_TEST/none.log" 2>&1
rc=$?
out=$(grep mcshare "$TMPDIR_TEST/none.log")
echo "$out" | grep -q "cannot record what this computer plays: no sound output is enabled" &&
    echo "$out" | grep -q "not broadcasting" && [ $rc = 1 ] ||
    fail "without a sound system mcshare.exe did not refuse with the reason (exit $rc): $out"
log "4. no sound system: $(echo "$out" | grep -o 'cannot record what.*')"
log "PASS"
