#!/bin/bash
# The classroom lab: tools/netlab/netlab with the 10-student scenario (three
# students with 2, 5 and 10 % loss, one late) must end with every student
# holding the whole picture, every decoded tile exact. Then a second run is
# interrupted (SIGINT) and must leave no namespace or process behind.
TEST_NAME=netlab_netns
BIN=${1:?usage: $0 BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=$HERE/../../tools/netlab/netlab
. "$HERE/lib.sh"
need_root_netns
command -v nft >/dev/null || skip "nftables missing (tools/check installs it)"

OUT=$TMPDIR_TEST/lab.txt
timeout 120 "$LAB" --scenario "$HERE/../../tools/netlab/scenarios/classroom-10.conf" \
    --build "$BIN" >"$OUT" 2>"$TMPDIR_TEST/lab.err"
rc=$?
cat "$OUT" >&2
tail -3 "$TMPDIR_TEST/lab.err" >&2
[ $rc = 0 ] || fail "netlab exited $rc: not every student got the whole, exact picture"
[ "$(grep -c ' ok$' "$OUT")" = 10 ] || fail "expected 10 students marked ok"
# The lossy students really lost packets (the firewall rules were in place).
python3 - "$OUT" <<'PY' || fail "per-student loss does not match the scenario"
import sys
rows = {int(l.split()[0]): l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0].isdigit()}
loss = {i: float(r[3].rstrip("%")) for i, r in rows.items()}
print(f"netlab_netns: loss per student {loss}", file=sys.stderr)
ok = loss[1] < 0.5 and 0.5 < loss[3] < 4 and 2.5 < loss[6] < 8 and 6 < loss[9] < 15
sys.exit(0 if ok else 1)
PY

# Interrupted: everything it made must go.
# Background jobs of scripts start with SIGINT ignored, and bash cannot trap
# a signal ignored at entry: restore it as a terminal's Ctrl-C would find it.
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$LAB" --students 3 --duration 30 --build "$BIN" >/dev/null 2>"$TMPDIR_TEST/int.err" &
LABPID=$!
for _ in $(seq 100); do
    ip netns list | grep -q "^nl${LABPID}s3" && break
    sleep 0.1
done
ip netns list | grep -q "^nl${LABPID}" || fail "the interrupted lab never started"
sleep 2
kill -INT "$LABPID"
wait "$LABPID"
left=$(ip netns list | grep -c "^nl${LABPID}")
[ "$left" = 0 ] || fail "$left namespaces left after SIGINT"
pgrep -f "nl${LABPID}" >/dev/null && fail "processes left after SIGINT"
grep -q "interrupted; cleaning up" "$TMPDIR_TEST/int.err" || fail "no message on interrupt"
log ok
