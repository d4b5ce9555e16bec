#!/bin/bash
# A student forges: three hosts on one switch (teacher, honest student,
# malicious student). For 8 s the malicious one sends, 2000 datagrams a
# second, replays of captured packets, another picture under the teacher's
# session id, fake BYEs, fake ANNOUNCEs, manifests it cannot sign, garbage,
# and 10,000 control requests a second. The honest viewer, pinned to the
# teacher's key with --trust, must keep the exact picture (every tile
# checked bit for bit against the test pattern), stay live, count what it
# refused; the sender's bitrate and CPU must stay within stated margins.
TEST_NAME=forge_netns
BIN=${1:?usage: $0 BUILD_DIR [CHECK_COST]}
CHECK_COST=${2:-1} # 0 in sanitizer builds: instrumented code costs several times more
. "$(dirname "$0")/lib.sh"
need_root_netns
SW="mcfS$$" T="mcfT$$" V="mcfV$$" F="mcfF$$"
NET="10.208.$(( $$ % 250 ))"
make_lan f "$NET" "$SW" "$T" "$V" "$F"
GROUP=$(unique_group 12)
PORT=$(( 20000 + ($$ + 29) % 20000 ))
SLOG=$TMPDIR_TEST/sender.log
tx_bytes() { ip netns exec "$T" cat "/sys/class/net/f1x$$/statistics/tx_bytes"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

ip netns exec "$T" "$BIN/mcshare" --source test --size 640x360 --fps 30 --group "$GROUP" \
    --port "$PORT" --iface "f1x$$" --duration 60 2>"$SLOG" &
SENDER=$!
PIDS+=($SENDER)
for _ in $(seq 50); do grep -q 'key fingerprint' "$SLOG" && break; sleep 0.1; done
FPR=$(sed -n 's/.*key fingerprint \([0-9a-f-]*\).*/\1/p' "$SLOG" | head -1)
[ -n "$FPR" ] || fail "mcshare printed no fingerprint: $(cat "$SLOG")"
log "teacher's key $FPR"

ip netns exec "$V" timeout 60 "$BIN/mcprobe" "$GROUP:$PORT" --iface "f2x$$" --trust "$FPR" \
    --duration 24 --interval 500 --verify-pattern --json >"$TMPDIR_TEST/p.json" &
PROBE=$!
PIDS+=($PROBE)
sleep 2
# 8 s quiet, then 8 s of attack, then 6 s quiet again.
b0=$(tx_bytes) c0=$(cpu_ticks "$SENDER") t0=$(date +%s.%N)
sleep 8
b1=$(tx_bytes) c1=$(cpu_ticks "$SENDER") t1=$(date +%s.%N)
ip netns exec "$F" "$BIN/tests/ctrl_flood" "$NET.1" $((PORT + 1)) 10000 8 >"$TMPDIR_TEST/flood.txt" 2>&1 &
FLOOD=$!
PIDS+=($FLOOD)
ip netns exec "$F" timeout 30 python3 "$(dirname "$0")/forger.py" "$GROUP" "$PORT" "$NET.3" 7 2000 42 \
    >"$TMPDIR_TEST/forger.json" || fail "the forger failed: $(cat "$TMPDIR_TEST/forger.json")"
wait "$FLOOD"
b2=$(tx_bytes) c2=$(cpu_ticks "$SENDER") t2=$(date +%s.%N)
wait "$PROBE"
rc=$?
log "forger sent: $(cat "$TMPDIR_TEST/forger.json"); control flood: $(tail -1 "$TMPDIR_TEST/flood.txt")"
[ $rc = 0 ] || fail "mcprobe exited $rc (3 = a wrong tile was shown)"

python3 - "$TMPDIR_TEST/p.json" "$TMPDIR_TEST/forger.json" "$b0" "$b1" "$b2" "$c0" "$c1" "$c2" \
    "$t0" "$t1" "$t2" "$(getconf CLK_TCK)" "$CHECK_COST" <<'PY' || fail "see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
forged = json.load(open(sys.argv[2]))
b0, b1, b2, c0, c1, c2 = map(int, sys.argv[3:9])
t0, t1, t2 = map(float, sys.argv[9:12])
hz, check_cost = int(sys.argv[12]), sys.argv[13] == "1"
last = lines[-1]
ok = True
def check(cond, msg):
    global ok
    print(("  " if cond else "  FAIL: ") + msg, file=sys.stderr)
    ok = ok and cond
sessions = {l["session"] for l in lines if l["state"] != "waiting"}
check(forged.get("forged_video", 0) > 1000 and forged.get("fake_bye", 0) > 100,
      f"the forger sent {forged}")
check(last["state"] == "live" and len(sessions) == 1,
      f"the viewer stayed live on one session: {last['state']}, sessions {sorted(sessions)}")
check(last["wrong"] == 0 and last["verified"] > 1000,
      f"every decoded tile exact: {last['verified']} checked, {last['wrong']} wrong")
check(last["tiles_held"] == last["tiles"] and last["tiles_stale"] == 0,
      f"whole picture at the end: {last['tiles_held']}/{last['tiles']}, stale {last['tiles_stale']}")
check(last["auth_bad"] > 100 and last["auth_unverified"] > 1000,
      f"refused and counted: {last['auth_bad']} bad manifests, {last['auth_unverified']} "
      f"unvouched datagrams, {last['auth_wrong_key']} wrong key, {last['auth_evicted']} evicted")
quiet = [l["fps"] for l in lines if t0 < l["wall"] <= t1]
attack = [l["fps"] for l in lines if t1 + 1 < l["wall"] <= t2]
qf, af = sum(quiet) / len(quiet), sum(attack) / len(attack)
check(af >= 0.8 * qf, f"viewer frame rate {qf:.1f} fps quiet, {af:.1f} under attack")
qrate = (b1 - b0) * 8 / (t1 - t0) / 1e6
arate = (b2 - b1) * 8 / (t2 - t1) / 1e6
qcpu = 100.0 * (c1 - c0) / hz / (t1 - t0)
acpu = 100.0 * (c2 - c1) / hz / (t2 - t1)
print(f"  sender: {qrate:.2f} Mbit/s and {qcpu:.1f} % CPU quiet; {arate:.2f} Mbit/s and "
      f"{acpu:.1f} % CPU under attack", file=sys.stderr)
# Repairs the flood asks for are capped at 5 % of the tiles per second (bursts
# of 10 %) and merged; the sender's CPU grows with the requests it reads.
check(arate <= qrate * 1.25 + 0.2, "sender bitrate within +25 % (+0.2 Mbit/s)")
if check_cost:
    check(acpu <= qcpu * 2 + 15, "sender CPU within 2x + 15 points of one core")
sys.exit(0 if ok else 1)
PY
stop_checked "$SENDER" mcshare
log ok
