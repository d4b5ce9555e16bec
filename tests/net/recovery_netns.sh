#!/bin/bash
# How fast a viewer holds the correct picture again, with the multicast
# stream alone (no feedback): after joining late, after a burst of 20 %
# loss, and after the sender is killed with SIGKILL and started again.
# "Correct" means every tile is held, none shows an older version than one
# seen on the wire, and every decoded tile is bit-exact (--verify-pattern).
TEST_NAME=recovery_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mcrA$$" "mcrB$$" 205
GROUP=$(unique_group 4)
PORT=$(( 20000 + ($$ + 7) % 20000 ))
OUT=$TMPDIR_TEST/probe.json
now() { date +%s.%N; }
sender() {
    start_bg ip netns exec "mcrA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 \
        --group "$GROUP" --port "$PORT" --iface "$IF_A" --duration 60
    SENDER=$LAST_PID
}
# correct_after WALL [SESSION_NOT]: seconds from WALL until the first report
# (after WALL) showing a correct picture of a session other than SESSION_NOT.
correct_after() {
    python3 - "$OUT" "$1" "${2:-none}" <<'PY'
import json, sys
t0, old = float(sys.argv[2]), sys.argv[3]
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    s = json.loads(line)
    if s["wall"] < t0 or s["session"] == old or s["state"] != "live":
        continue
    if s["tiles"] > 0 and s["tiles_held"] == s["tiles"] and s["tiles_behind"] == 0 and s["wrong"] == 0:
        print(f"{s['wall'] - t0:.2f}")
        sys.exit(0)
print("never")
PY
}
within() { python3 -c "import sys; sys.exit(0 if '$1' != 'never' and float('$1') <= $2 else 1)"; }

sender
sleep 2
# 1. A viewer joins an ongoing broadcast.
JOIN=$(now)
ip netns exec "mcrB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 13 \
    --interval 100 --verify-pattern --json >"$OUT" &
PROBE=$!
PIDS+=($PROBE)
sleep 3
# 2. 20 % loss for 3 seconds, then none.
drop_incoming "mcrB$$" "$PORT" 20
sleep 3
ip netns exec "mcrB$$" nft delete table inet mcloss
LOSS_END=$(now)
sleep 2.5
# 3. The sender dies without a word and is started again.
OLD=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]["session"])' "$OUT")
kill -9 "$SENDER"
wait "$SENDER" 2>/dev/null
RESTART=$(now)
sender
wait "$PROBE"
rc=$?
[ $rc = 0 ] || fail "mcprobe exited $rc"
tail -1 "$OUT" >&2

join_s=$(correct_after "$JOIN")
loss_s=$(correct_after "$LOSS_END")
restart_s=$(correct_after "$RESTART" "$OLD")
log "correct picture: $join_s s after joining, $loss_s s after the loss burst ended, $restart_s s after the sender restarted"
python3 - "$OUT" <<'PY' || fail "the loss burst did not reach the probe"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sys.exit(0 if max(l["lost"] for l in lines) > 20 else 1)
PY
# The burst is more than FEC rebuilds, so some tiles complete only from a
# repair or refresh, and the per-report counts add up to the summary's.
python3 - "$OUT" <<'PY' || fail "repaired tiles or jitter misreported"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
reports, summary = lines[:-1], lines[-1]
per = sum(l["tiles_repaired"] for l in reports)
jit = [l["jitter_ms"] for l in lines]
print(f"  tiles repaired: {summary['tiles_repaired']} (reports add up to {per}); "
      f"jitter ms max {max(jit):.2f}, last {jit[-1]:.2f}", file=sys.stderr)
ok = summary["type"] == "summary" and summary["tiles_repaired"] > 0
ok = ok and per == summary["tiles_repaired"] and all(0 <= j < 1000 for j in jit)
sys.exit(0 if ok else 1)
PY
[ "$(json_field "$OUT" wrong)" = 0 ] || fail "a decoded tile differed from the sender's"
# Bounds: the rolling refresh resends every tile within 1 s and an
# announce comes every 100 ms; reports come every 100 ms.
within "$join_s" 1.5 || fail "late joiner took $join_s s (bound 1.5 s)"
within "$loss_s" 1.5 || fail "after the loss burst: $loss_s s (bound 1.5 s)"
within "$restart_s" 2.0 || fail "after the restart: $restart_s s (bound 2 s)"
stop_checked "$SENDER" mcshare
log ok
