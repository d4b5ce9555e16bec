#!/bin/bash
# Command-line behaviour of every tool: --help on stdout with exit 0,
# --version, usage errors on stderr with exit 2, clear runtime errors.
BIN=${1:?usage: $0 BUILD_DIR}
CFG=$(mktemp -d)
export XDG_CONFIG_HOME=$CFG # keys and known senders of these runs stay out of $HOME
trap 'rm -rf "$CFG"' EXIT
fails=0
passes=0
check() { # EXPECTED_RC DESCRIPTION CMD...
    local want=$1 what=$2 out rc
    shift 2
    out=$("$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: $what: exit $rc, expected $want ($*): $out"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}
stdout_has() { # PATTERN DESCRIPTION CMD...
    local pat=$1 what=$2
    shift 2
    if ! "$@" 2>/dev/null | grep -q -- "$pat"; then
        echo "FAIL: $what: stdout lacks '$pat' ($*)"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}
for t in mcshare mcview mcprobe mcbench; do
    check 0 "$t --help" "$BIN/$t" --help
    stdout_has "Usage: $t" "$t --help" "$BIN/$t" --help
    stdout_has "$t 0\." "$t --version" "$BIN/$t" --version
    check 2 "$t unknown flag" "$BIN/$t" --no-such-flag
done
# Every mcshare option that takes a value refuses nonsense.
for opt in --group --port --source --region --size --fps --quality --subsampling --tile \
           --refresh --max-bitrate --mtu --ttl --cursor --damage --fec --ctrl-port --max-viewers --threads --frames --duration \
           --audio --audio-bitrate --audio-frame --audio-redundancy; do
    check 2 "mcshare $opt nonsense" "$BIN/mcshare" "$opt" nonsense
done
check 2 "mcshare --fps 0" "$BIN/mcshare" --fps 0
check 2 "mcshare --mtu 100" "$BIN/mcshare" --mtu 100
check 2 "mcshare --group unicast" "$BIN/mcshare" --group 10.1.2.3
check 2 "mcshare stray argument" "$BIN/mcshare" extra
check 2 "mcshare missing value" "$BIN/mcshare" --fps
check 1 "mcshare on a display that does not exist" "$BIN/mcshare" --display :987 --duration 1
check 2 "mcview unicast group" "$BIN/mcview" 10.0.0.1
check 2 "mcview bad window" "$BIN/mcview" --window 0x0
check 2 "mcview bad volume" "$BIN/mcview" --volume 101
check 2 "mcview bad audio buffer" "$BIN/mcview" --audio-buffer 5
check 2 "mcshare --audio-frame 7" "$BIN/mcshare" --audio-frame 7
check 2 "mcshare --audio file: without a path" "$BIN/mcshare" --audio file:
out=$("$BIN/mcshare" --source test --audio file:/nonexistent.wav --iface lo --ttl 0 --duration 0.5 2>&1)
echo "$out" | grep -q "cannot open audio file /nonexistent.wav" && echo "$out" | grep -q "continuing without sound" ||
    { echo "FAIL: a missing audio file must be reported once, then video goes on: $out"; fails=$((fails+1)); }
check 2 "mcprobe bad port" "$BIN/mcprobe" 239.1.1.1:99999
check 2 "mcprobe bad duration" "$BIN/mcprobe" --duration -1
check 2 "mcprobe bad drop" "$BIN/mcprobe" --drop 150
check 2 "mcprobe bad drop burst" "$BIN/mcprobe" --drop 5,0
check 2 "mcprobe bad interval" "$BIN/mcprobe" --interval 5
check 2 "mcprobe bad viewers" "$BIN/mcprobe" --viewers 0
check 2 "mcbench bad size" "$BIN/mcbench" --size 10
check 2 "mcprobe bad --trust" "$BIN/mcprobe" --trust not-a-fingerprint --duration 1
check 2 "mcview bad --trust" "$BIN/mcview" --trust 0123-4567
check 1 "mcshare unusable --key" "$BIN/mcshare" --source test --duration 1 --key /proc/nonexistent/key
printf 'mcshare-ed25519-v1\n%064d\n' 0 >"$CFG/open.key"
chmod 644 "$CFG/open.key"
out=$("$BIN/mcshare" --source test --duration 1 --key "$CFG/open.key" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "readable by others" && passes=$((passes + 1)) ||
    { echo "FAIL: a key file readable by others must be refused: $out"; fails=$((fails+1)); }
check 2 "mcbench --out without --roundtrip" "$BIN/mcbench" --out /dev/null
check 2 "mcbench bad --quality" "$BIN/mcbench" --roundtrip /dev/null --quality 0
check 2 "mcbench bad --tile" "$BIN/mcbench" --roundtrip /dev/null --tile 20
check 1 "mcbench --roundtrip of a missing file" "$BIN/mcbench" --roundtrip /nonexistent --size 64x64
check 1 "mcbench --roundtrip of an empty file" "$BIN/mcbench" --roundtrip /dev/null --size 64x64
# --roundtrip: two 200x120 frames (a gradient, then text-like noise) through
# the tile codec: the output has the input's size, and a higher quality
# gives a higher PSNR.
T=$(mktemp -d)
python3 -c "
import random, sys
random.seed(5)
f = bytearray()
for y in range(120):
    for x in range(200):
        f += bytes((x, y * 2, (x + y) % 256, 0))
for i in range(200 * 120):
    v = 0 if random.random() < 0.2 else 240
    f += bytes((v, v, v, 0))
open(sys.argv[1], 'wb').write(f)" "$T/in.raw"
psnr_at() { "$BIN/mcbench" --roundtrip "$T/in.raw" --out "$T/out.raw" --size 200x120 --quality "$1" --json "${@:2}" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["frames"] == 2; print(s["psnr_db"])'; }
# JPEG alone: quality matters; the default (auto) codes this content exactly.
lo=$(psnr_at 30 --codec jpeg) hi=$(psnr_at 95 --codec jpeg) auto=$(psnr_at 30)
if [ -n "$lo" ] && [ -n "$hi" ] && cmp -s <(stat -c %s "$T/in.raw") <(stat -c %s "$T/out.raw") &&
    python3 -c "import sys; sys.exit(0 if 15 < $lo < $hi and $hi > 30 and $auto == 99 else 1)"; then
    passes=$((passes + 1))
else
    echo "FAIL: mcbench --roundtrip: PSNR q30 '$lo', q95 '$hi', auto '$auto', sizes $(stat -c %s "$T/in.raw" "$T/out.raw" 2>&1)"
    fails=$((fails + 1))
fi
# tools/docsplice replaces exactly the named region, keeps its markers, and
# leaves the file alone when the region is missing.
SPLICE=$(dirname "$0")/../tools/docsplice
printf 'intro\n<!-- a -->\nold\n<!-- /a -->\nend\n' >"$T/doc.md"
printf 'new 1\nnew 2\n' | "$SPLICE" "$T/doc.md" a
want=$(printf 'intro\n<!-- a -->\nnew 1\nnew 2\n<!-- /a -->\nend\n')
[ "$(cat "$T/doc.md")" = "$want" ] && passes=$((passes + 1)) ||
    { echo "FAIL: docsplice: $(cat "$T/doc.md")"; fails=$((fails + 1)); }
cp "$T/doc.md" "$T/before.md"
check 1 "docsplice of a missing region" "$SPLICE" "$T/doc.md" b /dev/null
cmp -s "$T/doc.md" "$T/before.md" && passes=$((passes + 1)) ||
    { echo "FAIL: docsplice changed the file despite the missing region"; fails=$((fails + 1)); }
rm -rf "$T"
out=$("$BIN/mcshare" --display :987 --duration 1 2>&1)
echo "$out" | grep -q "cannot capture display ':987'" || { echo "FAIL: unclear display error: $out"; fails=$((fails+1)); }
out=$(env -u DISPLAY "$BIN/mcview" 2>&1)
[ $? = 1 ] && echo "$out" | grep -qi "cannot open a window" ||
    { echo "FAIL: mcview without a display: $out"; fails=$((fails+1)); }
echo "cli: $passes passed, $fails failed"
[ $fails = 0 ]
