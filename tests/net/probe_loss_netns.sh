#!/bin/bash
# mcprobe's loss figures are right: 10 % dropped by nftables in the viewer's
# namespace must be reported as 10 % +- 1 point, and so must 10 % from its
# own --drop. A 1280x720 photo-like stream gives ~10,000 packets per run
# (several small tiles share a datagram), so +-1 point is more than 3
# standard deviations of the binomial noise.
TEST_NAME=probe_loss_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mclA$$" "mclB$$" 210
GROUP=$(unique_group 8)
PORT=$(( 20000 + ($$ + 19) % 20000 ))
start_bg ip netns exec "mclA$$" "$BIN/mcshare" --source test-video --size 1280x720 --fps 30 \
    --group "$GROUP" --port "$PORT" --iface "$IF_A" --duration 60 --ctrl-port 0 --max-bitrate 500
SENDER=$LAST_PID
sleep 0.5
probe() { # OUT EXTRA...
    local out=$1; shift
    ip netns exec "mclB$$" timeout 30 "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 6 \
        --no-decode --json -q "$@" >"$out" || fail "mcprobe failed"
}
check_loss() { # FILE LABEL LOW HIGH
    python3 - "$@" <<'PY'
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
lo, hi = float(sys.argv[3]), float(sys.argv[4])
ok = s["expected"] > 8000 and lo <= s["loss_pct"] <= hi
print(f"  {sys.argv[2]}: reported {s['loss_pct']:.2f} % of {s['expected']} packets"
      f"{'' if ok else f'  FAIL: expected {lo}..{hi} over > 8000 packets'}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
probe "$TMPDIR_TEST/clean.json" --csv "$TMPDIR_TEST/clean.csv"
check_loss "$TMPDIR_TEST/clean.json" "no loss" 0 0.2 || fail "loss reported on a clean link"
drop_incoming "mclB$$" "$PORT" 10
probe "$TMPDIR_TEST/nft.json" --plot "$TMPDIR_TEST/plot.svg" --interval 250
check_loss "$TMPDIR_TEST/nft.json" "nftables 10 %" 9 11 || fail "wrong loss figure"
# The plot: valid SVG, four curves with a point per report, 40 histogram bins.
python3 - "$TMPDIR_TEST/plot.svg" <<'PY' || fail "bad --plot output"
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
lines = {p.get("class"): p.get("points").split() for p in root.iter(ns + "polyline")}
bins = [r for r in root.iter(ns + "rect") if r.get("class") == "bin"]
ok = set(lines) == {"p50", "p95", "lost", "rebuilt"} and all(len(v) >= 20 for v in lines.values())
ok = ok and len(bins) == 40
print(f"  plot: curves {sorted(lines)} with {len(lines.get('lost', []))} points, {len(bins)} bins",
      file=sys.stderr)
sys.exit(0 if ok else 1)
PY
ip netns exec "mclB$$" nft delete table inet mcloss
probe "$TMPDIR_TEST/drop.json" --drop 10 --seed 7
check_loss "$TMPDIR_TEST/drop.json" "--drop 10" 9 11 || fail "wrong loss figure for --drop"
probe "$TMPDIR_TEST/burst.json" --drop 10,4 --seed 7
check_loss "$TMPDIR_TEST/burst.json" "--drop 10,4 (bursts of 4 on average)" 7 13 || fail "wrong bursty loss"
# The CSV carries the same reports: a header and one row per second + summary.
python3 - "$TMPDIR_TEST/clean.csv" <<'PY' || fail "bad --csv output"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = len(rows) >= 6 and rows[-1]["type"] == "summary" and float(rows[-1]["fps"]) > 20
if not ok:
    print(f"  {len(rows)} rows; last: {rows[-1] if rows else None}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
stop_checked "$SENDER" mcshare
log ok
