#!/bin/bash
# Multicast across two hosts: mcshare --source test in one namespace, mcprobe
# in the other. Every tile the probe decodes must be bit-identical to the
# test pattern coded with the announced settings, and the probe must hold
# the whole picture.
TEST_NAME=multicast_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
make_pair "mcsA$$" "mcsB$$" 201
GROUP=$(unique_group 1)
OUT=$TMPDIR_TEST/probe.json

start_bg ip netns exec "mcsA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 \
    --group "$GROUP" --iface "$IF_A" --duration 20
SENDER=$LAST_PID
ip netns exec "mcsB$$" timeout 30 "$BIN/mcprobe" "$GROUP" --iface "$IF_B" --duration 4 \
    --verify-pattern --json --snapshot "$TMPDIR_TEST/snap.ppm" >"$OUT"
rc=$?
cat "$OUT" | tail -2 >&2
[ $rc = 0 ] || fail "mcprobe exited $rc"
tiles=$(json_field "$OUT" tiles)
held=$(json_field "$OUT" tiles_held)
wrong=$(json_field "$OUT" wrong)
verified=$(json_field "$OUT" verified)
frames=$(json_field "$OUT" frames_decoded)
loss=$(json_field "$OUT" loss_pct)
[ "$tiles" -gt 0 ] || fail "no picture geometry received"
[ "$held" = "$tiles" ] || fail "probe holds $held of $tiles tiles"
[ "$wrong" = 0 ] || fail "$wrong decoded tiles differ from the sender's"
[ "$verified" -ge "$tiles" ] || fail "only $verified tiles verified"
[ "$frames" -ge 45 ] || fail "only $frames complete frames in 4 s at 30 fps"
python3 -c "import sys; sys.exit(0 if float('$loss') < 1.0 else 1)" || fail "loss $loss % on a clean link"
[ -s "$TMPDIR_TEST/snap.ppm" ] || fail "no snapshot written"
head -c 15 "$TMPDIR_TEST/snap.ppm" | grep -q "640 360" || fail "snapshot has the wrong size"
stop_checked "$SENDER" mcshare
log "ok: $verified tiles verified exact, $frames frames, loss $loss %"
