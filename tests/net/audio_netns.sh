#!/bin/bash
# Sound across two hosts with 5 % random loss (nftables on the viewer):
#  1. mcprobe plays the sound on a 10 ms device clock: the test pattern's
#     marker flash and the test tone's click must be within ±20 ms of each
#     other (median and 5th/95th percentiles), and few frames may need
#     concealment (each packet repeats the last two frames: loss alone
#     would leave ~0.01 %, no repeats ~5 %).
#  2. mcview plays it into a file (SDL_AUDIODRIVER=disk) with no window
#     system (SDL_VIDEODRIVER=dummy): what it played must be the 440 Hz tone
#     at -12 dBFS, with no silence longer than one 10 ms frame once started.
TEST_NAME=audio_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mcaA$$" "mcaB$$" 209
GROUP=$(unique_group 9)
PORT=$(( 20000 + $$ % 20000 ))
drop_incoming "mcaB$$" "$PORT" 5
OUT=$TMPDIR_TEST/probe.json

start_bg ip netns exec "mcaA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 \
    --audio tone --group "$GROUP" --port "$PORT" --iface "$IF_A" --duration 60
SENDER=$LAST_PID
ip netns exec "mcaB$$" timeout 30 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 10 \
    --json >"$OUT"
rc=$?
tail -1 "$OUT" >&2
[ $rc = 0 ] || fail "mcprobe exited $rc"
python3 - "$OUT" <<'PY' || fail "A/V or sound figures out of bounds (see above)"
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
av, n = s["av_offset_ms"], s["av_samples"]
frames, conc = s["audio_frames"], s["audio_concealed"]
print(f"audio_netns: loss {s['loss_pct']:.2f} %, A/V offset p5/p50/p95 {av[0]:+.1f}/{av[1]:+.1f}/{av[2]:+.1f} ms "
      f"over {n} markers; sound heard {s['audio_lat_ms'][0]:.1f} ms after capture (p50); "
      f"frames {frames}, rebuilt from repeats {s['audio_recovered']}, concealed {conc}, "
      f"underruns {s['audio_underruns']}", file=sys.stderr)
ok = 2.5 <= s["loss_pct"] <= 8.0             # the firewall really dropped ~5 %
ok = ok and n >= 6                           # a marker every second, most paired
ok = ok and all(abs(x) <= 20 for x in av)
# Loss alone would conceal ~0.01 % (3 packets in a row); without the repeats
# it would be ~5 %. Late packets on a loaded or sanitizer build add some
# (seen: 0.9 % under ASan), so the bound sits at 2 %, well below 5.
ok = ok and frames >= 800 and s["audio_recovered"] > 0 and conc <= 0.02 * frames
ok = ok and 0 < s["audio_lat_ms"][0] < 100
sys.exit(0 if ok else 1)
PY

# The viewer proper, its sound into a file.
WAV=$TMPDIR_TEST/played.raw
start_bg ip netns exec "mcaB$$" env SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=disk \
    SDL_DISKAUDIOFILE="$WAV" ASAN_OPTIONS=detect_leaks=0 "$BIN/mcview" "$GROUP:$PORT" --iface "$IF_B"
VIEW=$LAST_PID
sleep 6
stop_checked "$VIEW" mcview
python3 "$(dirname "$0")/tone.py" "audio_netns: mcview played" "$WAV" ||
    fail "mcview did not play the tone (see above)"
stop_checked "$SENDER" mcshare
log ok
