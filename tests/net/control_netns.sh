#!/bin/bash
# The control channel across namespaces: a viewer that joins gets a
# keyframe and holds the correct picture fast; the sender lists it by name;
# a hostile "student" in a third namespace sending 10,000 requests a second
# barely moves the honest viewer's frame rate and the stream's bitrate; and
# with the control port blocked by a firewall the viewer still converges.
TEST_NAME=control_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mccA$$" "mccB$$" 206
# A third host (the flooder) on its own veth pair to the teacher.
ip netns add "mccC$$" && NS_LIST+=("mccC$$")
NET2="10.207.$(( $$ % 250 ))"
ip link add "vc$$" netns "mccA$$" type veth peer name "vd$$" netns "mccC$$"
ip -n "mccA$$" addr add "$NET2.1/24" dev "vc$$"
ip -n "mccC$$" addr add "$NET2.2/24" dev "vd$$"
ip -n "mccA$$" link set "vc$$" up
ip -n "mccC$$" link set "vd$$" up
ip -n "mccC$$" link set lo up
TEACHER="$NET2.1" # the teacher as the flooder reaches it
GROUP=$(unique_group 5)
PORT=$(( 20000 + ($$ + 11) % 20000 ))
CTRL=$((PORT + 1))
SLOG=$TMPDIR_TEST/sender.log
now() { date +%s.%N; }

ip netns exec "mccA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 \
    --group "$GROUP" --port "$PORT" --iface "$IF_A" --duration 60 --roster 2>"$SLOG" &
SENDER=$!
PIDS+=($SENDER)
sleep 1.5

# 1. Join with the control channel.
JOIN=$(now)
ip netns exec "mccB$$" timeout 40 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 14 \
    --interval 100 --verify-pattern --json --name student-b >"$TMPDIR_TEST/p.json" &
PROBE=$!
PIDS+=($PROBE)
sleep 5.5
# 2. 4 s of flood from the third host, between 4 s windows without.
FLOOD_START=$(now)
ip netns exec "mccC$$" "$BIN/tests/ctrl_flood" "$TEACHER" "$CTRL" 10000 4 >"$TMPDIR_TEST/flood.txt" 2>&1 &
FLOOD=$!
# The roster while the flooder is connected (the 5 s status lines may all
# fall outside its 4 s).
sleep 2
kill -USR1 "$SENDER"
wait "$FLOOD" || fail "the flooder could not connect: $(cat "$TMPDIR_TEST/flood.txt")"
FLOOD_END=$(now)
wait "$PROBE" || fail "mcprobe failed"
cat "$TMPDIR_TEST/flood.txt" >&2

python3 - "$TMPDIR_TEST/p.json" "$JOIN" "$FLOOD_START" "$FLOOD_END" <<'PY' || fail "see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
join, fs, fe = map(float, sys.argv[2:5])
last = lines[-1]
ok = True
def check(cond, msg):
    global ok
    print(("  " if cond else "  FAIL: ") + msg, file=sys.stderr)
    ok = ok and cond
first = next((l["wall"] - join for l in lines if l["tiles"] and l["tiles_held"] == l["tiles"]
              and l["tiles_behind"] == 0), None)
check(first is not None and first <= 0.8, f"correct picture {first} s after joining (keyframe on request; bound 0.8 s)")
check(last["ctrl_connected"] == 1 and last["keyframes_asked"] >= 1, "connected, asked for a keyframe")
check(last["clock_synced"] == 1 and abs(last["clock_offset_us"]) < 2000,
      f"clock synced, offset {last['clock_offset_us']} us (one shared clock: ~0)")
check(last["wrong"] == 0, "every decoded tile exact")
# Per-window rates from the cumulative 'packets'/'bytes' of the 100 ms reports.
def window(a, b):
    w = [l for l in lines if a <= l["wall"] <= b]
    if len(w) < 2:
        return 0, 0
    dt = w[-1]["wall"] - w[0]["wall"]
    frames = w[-1]["frames_decoded"] - w[0]["frames_decoded"]
    mbit = sum(l["mbit_s"] for l in w[1:]) / (len(w) - 1)
    return frames / dt, mbit
base_fps, base_mbit = window(fs - 3.5, fs - 0.5)
flood_fps, flood_mbit = window(fs + 0.5, fe - 0.5)
print(f"  without flood {base_fps:.1f} fps {base_mbit:.2f} Mbit/s; during flood {flood_fps:.1f} fps "
      f"{flood_mbit:.2f} Mbit/s (x{flood_mbit / base_mbit:.2f})", file=sys.stderr)
check(flood_fps >= 0.9 * base_fps, "frame rate during the flood within 10 % of before")
check(flood_mbit <= 1.3 * base_mbit, "stream bitrate during the flood at most +30 %")
sys.exit(0 if ok else 1)
PY
# 3. The control port blocked by a firewall: the picture still converges.
ip netns exec "mccB$$" nft add table inet mcblock
ip netns exec "mccB$$" nft add chain inet mcblock in '{ type filter hook input priority 0; }'
ip netns exec "mccB$$" nft add rule inet mcblock in udp sport "$CTRL" drop
JOIN2=$(now)
ip netns exec "mccB$$" timeout 20 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 3 \
    --interval 100 --verify-pattern --json >"$TMPDIR_TEST/p2.json" || fail "second mcprobe failed"
python3 - "$TMPDIR_TEST/p2.json" "$JOIN2" <<'PY' || fail "see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
t0 = float(sys.argv[2])
first = next((l["wall"] - t0 for l in lines if l["tiles"] and l["tiles_held"] == l["tiles"]
              and l["tiles_behind"] == 0), None)
print(f"  control port blocked: connected={lines[-1]['ctrl_connected']}, correct picture after {first} s",
      file=sys.stderr)
sys.exit(0 if first is not None and first <= 1.5 and lines[-1]["ctrl_connected"] == 0
         and lines[-1]["wrong"] == 0 else 1)
PY
kill -USR1 "$SENDER"
sleep 0.3
stop_checked "$SENDER" mcshare
grep -q "student-b" "$SLOG" || fail "the sender's roster never listed student-b"
grep -q "flooder" "$SLOG" || fail "the sender's roster never listed the flooder"
grep "flooder" "$SLOG" | tail -1 >&2
log ok
