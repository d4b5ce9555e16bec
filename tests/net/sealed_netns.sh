#!/bin/bash
# A class passphrase across namespaces: with the right file the viewer gets
# the exact picture; without it, or with another passphrase, it gets
# nothing and says why; the captured datagrams carry no readable tile.
TEST_NAME=sealed_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mcsA$$" "mcsB$$" 209
GROUP=$(unique_group 13)
PORT=$(( 20000 + ($$ + 31) % 20000 ))
echo "blue whale over the library" >"$TMPDIR_TEST/pass"
echo "green whale over the library" >"$TMPDIR_TEST/wrong"
echo "short" >"$TMPDIR_TEST/short"
ip netns exec "mcsA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 --group "$GROUP" \
    --port "$PORT" --iface "$IF_A" --duration 40 --passphrase-file "$TMPDIR_TEST/short" \
    2>"$TMPDIR_TEST/short.log" && fail "a 5-character passphrase was accepted"
grep -q "holds 5 characters; a passphrase needs 8 or more" "$TMPDIR_TEST/short.log" || fail "unclear error: $(cat "$TMPDIR_TEST/short.log")"
start_bg ip netns exec "mcsA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 --group "$GROUP" \
    --port "$PORT" --iface "$IF_A" --duration 40 --passphrase-file "$TMPDIR_TEST/pass"
SENDER=$LAST_PID
sleep 0.5
probe() { # NAME EXTRA...
    local name=$1; shift
    ip netns exec "mcsB$$" timeout 20 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 4 \
        --json -q "$@" >"$TMPDIR_TEST/$name.json" 2>"$TMPDIR_TEST/$name.err"
}
probe right --verify-pattern --passphrase-file "$TMPDIR_TEST/pass" || fail "with the passphrase: exit $?"
probe none && fail "without the passphrase mcprobe said it received a broadcast"
probe wrong --passphrase-file "$TMPDIR_TEST/wrong" && fail "a wrong passphrase opened the broadcast"
grep -q "protected by a passphrase (--passphrase-file FILE)" "$TMPDIR_TEST/none.err" ||
    fail "no 'protected' message: $(cat "$TMPDIR_TEST/none.err")"
grep -q "does not open it" "$TMPDIR_TEST/wrong.err" ||
    fail "no 'does not open' message: $(cat "$TMPDIR_TEST/wrong.err")"
python3 - "$TMPDIR_TEST" <<'PY' || fail "see above"
import json, sys
d = sys.argv[1]
last = lambda n: json.loads([l for l in open(f"{d}/{n}.json") if l.startswith("{")][-1])
r, n, w = last("right"), last("none"), last("wrong")
ok = True
def check(c, m):
    global ok
    print(("  " if c else "  FAIL: ") + m, file=sys.stderr)
    ok = ok and c
check(r["state"] == "live" and r["tiles_held"] == r["tiles"] > 0 and r["wrong"] == 0 and
      r["verified"] > 100 and r["sealed_bad"] == 0,
      f"with the passphrase: {r['tiles_held']}/{r['tiles']} tiles, {r['verified']} checked, {r['wrong']} wrong")
check(n["state"] == "waiting" and n["tiles"] == 0 and n["sealed_locked"] > 100,
      f"without: {n['state']}, {n['sealed_locked']} sealed datagrams it could not open")
check(w["state"] == "waiting" and w["tiles"] == 0 and w["sealed_bad"] > 100,
      f"wrong passphrase: {w['state']}, {w['sealed_bad']} failed to open")
sys.exit(0 if ok else 1)
PY
stop_checked "$SENDER" mcshare
log ok
