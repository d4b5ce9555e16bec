#!/bin/bash
# The Wireshark dissector decodes a real broadcast: tshark captures on the
# viewer's interface, then decodes the capture with tools/wireshark/mcshare.lua,
# and the decoded fields must match what was sent (geometry, session,
# consistent fragments and FEC blocks, audio frames and their repeats).
TEST_NAME=dissector_netns
BIN=${1:?usage: $0 BUILD_DIR}
LUA=$(cd "$(dirname "$0")/../../tools/wireshark" && pwd)/mcshare.lua
. "$(dirname "$0")/lib.sh"
need_root_netns
command -v tshark >/dev/null || skip "tshark missing (tools/check installs it)"
make_pair "mcwA$$" "mcwB$$" 209
GROUP=$(unique_group 7)
PORT=$(( 20000 + ($$ + 17) % 20000 ))
PCAP=$TMPDIR_TEST/c.pcap

start_bg ip netns exec "mcwA$$" "$BIN/mcshare" --source test --size 640x360 --fps 30 \
    --group "$GROUP" --port "$PORT" --iface "$IF_A" --duration 30 --ctrl-port 0 --audio tone
SENDER=$LAST_PID
ip netns exec "mcwB$$" timeout 20 tshark -q -i "$IF_B" -a duration:3 -f "udp port $PORT" \
    -w "$PCAP" 2>/dev/null || fail "tshark could not capture"
stop_checked "$SENDER" mcshare
sleep 0.2
# Our port is not 5004, so this also exercises the heuristic dissector.
tshark -r "$PCAP" -X lua_script:"$LUA" -Y mcshare -T fields -E separator=, -E occurrence=f \
    -e mcshare.type -e mcshare.session -e mcshare.seq -e mcshare.width -e mcshare.height \
    -e mcshare.tile -e mcshare.cols -e mcshare.rows -e mcshare.tile_index -e mcshare.frag \
    -e mcshare.frag_count -e mcshare.first_seq -e mcshare.k -e mcshare.parity_index \
    -e mcshare.channels -e mcshare.audio_count -e mcshare.frame_samples -e mcshare.rate \
    -e mcshare.hash_count -e mcshare.alg -e mcshare.wall_us -e mcshare.codec -e mcshare.ncodecs \
    >"$TMPDIR_TEST/fields.csv" 2>"$TMPDIR_TEST/tshark.err" || fail "tshark failed: $(cat "$TMPDIR_TEST/tshark.err")"
python3 - "$TMPDIR_TEST/fields.csv" <<'PY' || fail "decoded fields wrong (see above)"
import sys
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r[0], []).append(r)
def ints(r, i): return int(r[i]) if r[i] else None
ok = True
def check(c, m):
    global ok
    print(("  " if c else "  FAIL: ") + m, file=sys.stderr)
    ok = ok and c
check(len(rows) > 100, f"{len(rows)} packets decoded")
check(set(by) >= {"1", "2", "4", "5"}, f"types seen: {sorted(by)} (announce, video, parity, audio)")
check(len({r[1] for r in rows}) == 1, "one session id throughout")
a = by.get("1", [[""] * 14])[0]
check(a[3:8] == ["640", "360", "64", "10", "6"], f"announce geometry {a[3:8]}")
check(all(0 <= ints(r, 8) < 60 and ints(r, 9) < ints(r, 10) for r in by.get("2", [])),
      "every video fragment: tile < 60, frag < frag_count")
check(all(r[21] in ("1", "2") for r in by.get("2", [])) and any(r[21] == "2" for r in by.get("2", [])),
      "every video fragment names its codec (JPEG or lossless); the test pattern's text is lossless")
check(a[22] == "2", f"the announce carries the parameters of {a[22]} codecs (JPEG and lossless)")
check(all(ints(r, 2) == ints(r, 11) + ints(r, 12) + ints(r, 13) for r in by.get("4", [])),
      "every parity packet sits at first_seq + k + index")
au = by.get("5", [])
check(len(au) > 200 and all(r[14:18] == ["2", "3", "480", "48000"] for r in au[3:]),
      f"{len(au)} audio packets: stereo, 3 frames of 480 samples at 48 kHz (newest + 2 repeats)")
seqs = sorted(ints(r, 2) for r in au)
check(all(b - a == 1 for a, b in zip(seqs, seqs[1:])), "audio sequence numbers consecutive")
ma = by.get("6", [])
check(len(ma) > 20 and all(r[19] == "2" and 1 <= ints(r, 18) <= 134 and ints(r, 20) > 1.7e15
                           for r in ma), f"{len(ma)} manifests: Ed25519, 1..134 hashes, a wall clock")
sys.exit(0 if ok else 1)
PY
# The manifests' hashes are those of the packets captured (BLAKE2b with an
# 8-byte output of each whole datagram), as the dissector lists them.
tshark -r "$PCAP" -X lua_script:"$LUA" -Y mcshare -T fields -E 'separator=;' -E occurrence=a \
    -e mcshare.type -e udp.payload -e mcshare.packet_hash >"$TMPDIR_TEST/hashes.txt" 2>/dev/null ||
    fail "tshark failed on the hashes"
python3 - "$TMPDIR_TEST/hashes.txt" <<'PY' || fail "manifest hashes do not match the packets"
import hashlib, sys
listed, packets = set(), []
for line in open(sys.argv[1]):
    ty, payload, hashes = (line.rstrip("\n").split(";") + ["", ""])[:3]
    if ty == "6":
        listed.update(h.replace(":", "") for h in hashes.split(",") if h)
    elif payload:
        packets.append(hashlib.blake2b(bytes.fromhex(payload.replace(":", "")), digest_size=8).hexdigest())
# Packets at the end of the capture may not have their manifest in it yet.
covered = sum(h in listed for h in packets)
print(f"  {covered} of {len(packets)} captured packets listed by a captured manifest", file=sys.stderr)
sys.exit(0 if packets and covered >= 0.95 * len(packets) else 1)
PY
log ok
