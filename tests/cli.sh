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
for t in mcshare mcview mcprobe mcbench mcrelay; do
    check 0 "$t --help" "$BIN/$t" --help
    stdout_has "Usage: $t" "$t --help" "$BIN/$t" --help
    stdout_has "$t 0\." "$t --version" "$BIN/$t" --version
    check 2 "$t unknown flag" "$BIN/$t" --no-such-flag
done
# Every mcshare option that takes a value refuses nonsense.
for opt in --group --port --source --region --size --fps --quality --subsampling --tile \
           --refresh --max-bitrate --mtu --ttl --cursor --damage --fec --ctrl-port --max-viewers --threads --frames --duration \
           --audio --audio-bitrate --audio-frame --audio-redundancy --preset --dashboard-listen; do
    check 2 "mcshare $opt nonsense" "$BIN/mcshare" "$opt" nonsense
done
check 2 "mcshare --fps 0" "$BIN/mcshare" --fps 0
check 2 "mcshare --mtu 100" "$BIN/mcshare" --mtu 100
check 2 "mcshare --group unicast" "$BIN/mcshare" --group 10.1.2.3
check 2 "mcshare stray argument" "$BIN/mcshare" extra
check 2 "mcshare missing value" "$BIN/mcshare" --fps
check 1 "mcshare on a display that does not exist" "$BIN/mcshare" --display :987 --duration 1
check 2 "mcview neither a group nor a relay" "$BIN/mcview" nonsense
check 2 "mcview bad window" "$BIN/mcview" --window 0x0
check 2 "mcview bad volume" "$BIN/mcview" --volume 101
check 2 "mcview bad audio buffer" "$BIN/mcview" --audio-buffer 5
check 2 "mcshare --audio-frame 7" "$BIN/mcshare" --audio-frame 7
check 2 "mcshare --audio file: without a path" "$BIN/mcshare" --audio file:
# Sound asked for that cannot be used stops mcshare with the reason (it is
# never silently dropped); a usable file of another kind or rate is played.
W=$(mktemp -d)
python3 - "$W" <<'PY'
import struct, sys, math
d = sys.argv[1]
def wav(name, fmt, ch, rate, bits, frames, cut=0, raw=None):
    align = ch * bits // 8
    data = raw if raw is not None else bytes(frames * align)
    if fmt == 1 and bits == 8 and raw is None:
        data = bytes(128 + int(60 * math.sin(i / 10)) for i in range(frames * ch))
    body = b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, fmt, ch, rate, rate * align, align, bits)
    body += b"data" + struct.pack("<I", len(data)) + data
    out = b"RIFF" + struct.pack("<I", len(body)) + body
    open(f"{d}/{name}.wav", "wb").write(out[:len(out) - cut] if cut else out)
wav("ok8", 1, 1, 8000, 8, 8000)              # 8-bit mono: played
wav("ok11k", 1, 2, 11025, 16, 11025)         # an unusual rate: resampled
wav("float", 3, 2, 44100, 32, 4410)          # float: played
wav("zero_ch", 1, 0, 48000, 16, 0, raw=b"\0" * 100)
wav("adpcm", 2, 1, 8000, 4, 0, raw=b"\0" * 100)
wav("rate500", 1, 1, 500, 16, 500)
open(f"{d}/truncated.wav", "wb").write(open(f"{d}/ok11k.wav", "rb").read()[:30])
open(f"{d}/garbage.wav", "wb").write(b"this is not a sound file at all" * 10)
open(f"{d}/short.pass", "w").write("abc\n")
PY
sound() { # FILE: mcshare with it, on loopback with TTL 0, for 0.3 s
    "$BIN/mcshare" --source test --audio "file:$1" --iface lo --ttl 0 --duration 0.3 2>&1
}
for bad in "zero_ch:0 channels" "adpcm:compressed" "rate500:500 Hz" "truncated:cut short" \
           "garbage:not a WAV file" "/dev/zero:not a regular file" "/nonexistent.wav:No such file"; do
    f=${bad%%:*} why=${bad#*:}
    [ "${f#/}" = "$f" ] && f="$W/$f.wav"
    out=$(sound "$f")
    rc=$?
    if [ $rc = 1 ] && echo "$out" | grep -q "cannot use the sound file $f: .*$why" &&
        echo "$out" | grep -q "not broadcasting" && ! echo "$out" | grep -q "broadcasting [0-9]"; then
        passes=$((passes + 1))
    else
        echo "FAIL: --audio file:$f must stop mcshare (exit 1, '$why'): exit $rc: $out"
        fails=$((fails + 1))
    fi
done
for good in "ok8:8000 Hz, 1 ch, 8-bit" "ok11k:11025 Hz, 2 ch, 16-bit" "float:44100 Hz, 2 ch, 32-bit float"; do
    f="$W/${good%%:*}.wav" want=${good#*:}
    out=$(sound "$f")
    rc=$?
    [ $rc = 0 ] && echo "$out" | grep -q "sound: file $f ($want" && passes=$((passes + 1)) ||
        { echo "FAIL: --audio file:$f must be played ($want): exit $rc: $out"; fails=$((fails + 1)); }
done
# Other files given by name: a directory, a passphrase too short.
out=$("$BIN/mcshare" --source test --passphrase-file "$W" --duration 0.3 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "cannot use the passphrase file $W: Is a directory" &&
    passes=$((passes + 1)) || { echo "FAIL: a directory as passphrase file: $out"; fails=$((fails + 1)); }
out=$("$BIN/mcview" --passphrase-file "$W/short.pass" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "its first line holds 3 characters; a passphrase needs 8" &&
    passes=$((passes + 1)) || { echo "FAIL: a short passphrase: $out"; fails=$((fails + 1)); }
# Groups: the link-local control groups are refused, groups outside
# 239.0.0.0/8 noted; a missing interface is named.
for g in 224.0.0.1 224.0.0.251; do
    out=$("$BIN/mcshare" --source test --group "$g" --duration 0.3 2>&1)
    [ $? = 2 ] && echo "$out" | grep -q "link-local control group" && passes=$((passes + 1)) ||
        { echo "FAIL: mcshare --group $g: $out"; fails=$((fails + 1)); }
    check 2 "mcprobe $g" "$BIN/mcprobe" "$g" --duration 1
    check 2 "mcview $g" "$BIN/mcview" "$g"
done
out=$("$BIN/mcshare" --source test --group 238.1.2.3 --iface lo --ttl 0 --duration 0.3 2>&1)
[ $? = 0 ] && echo "$out" | grep -q "note: 238.1.2.3 is outside 239.0.0.0/8" && passes=$((passes + 1)) ||
    { echo "FAIL: mcshare --group 238.1.2.3 must be noted, and run: $out"; fails=$((fails + 1)); }
for t in mcshare mcprobe; do
    out=$("$BIN/$t" --iface nosuchif0 --duration 0.3 2>&1)
    [ $? = 1 ] && echo "$out" | grep -q "no network interface with an IPv4 address named 'nosuchif0' on this computer; there are: lo (127.0.0.1)" &&
        ! echo "$out" | grep -q "busy" && passes=$((passes + 1)) ||
        { echo "FAIL: $t --iface nosuchif0: $out"; fails=$((fails + 1)); }
done
# The known senders file: a damaged line is an error naming it (the old
# append glued two entries together); a run does not start on it.
printf '239.1.1.1:5004 0123-4567-89ab-cdef-0123\n239.1.1.2:5004 0123-4567-89ab-cdef-0123239.1.1.1:5004 aaaa-bbbb-cccc-dddd-eeee' >"$W/known"
out=$("$BIN/mcprobe" --known-senders "$W/known" --duration 0.3 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "$W/known:2: damaged line" && passes=$((passes + 1)) ||
    { echo "FAIL: a damaged known senders file: $out"; fails=$((fails + 1)); }
# Output files that could not be written at the end are refused at the start.
check 1 "mcprobe --snapshot into a missing directory" "$BIN/mcprobe" --snapshot /nonexistent/x.ppm --duration 5
check 1 "mcprobe --plot onto a directory" "$BIN/mcprobe" --plot "$W" --duration 5
out=$("$BIN/mcprobe" --duration 1e9 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "must be 0.1..10000000 seconds" && passes=$((passes + 1)) ||
    { echo "FAIL: mcprobe --duration 1e9: $out"; fails=$((fails + 1)); }
# Configuration files: /etc/mcshare (here MC_SYSCONFDIR), then the user's,
# then the command line; a bad line names its file and line.
mkdir -p "$W/etc" "$CFG/mcshare"
export MC_SYSCONFDIR=$W/etc
started_on() { "$BIN/mcshare" --source test --size 160x96 --iface lo --ttl 0 --duration 0.3 --audio none "$@" 2>&1 |
    sed -n 's/.*broadcasting 160x96 (test) to \([0-9.:]*\) .*/\1/p'; }
printf '# the school default\ngroup = 239.5.5.5\nport = 7000\n' >"$W/etc/mcshare.conf"
got=$(started_on)
[ "$got" = "239.5.5.5:7000" ] && passes=$((passes + 1)) || { echo "FAIL: system config not used: '$got'"; fails=$((fails + 1)); }
printf 'port = 7002\n' >"$CFG/mcshare/mcshare.conf"
got=$(started_on)
[ "$got" = "239.5.5.5:7002" ] && passes=$((passes + 1)) || { echo "FAIL: user config must override the system's: '$got'"; fails=$((fails + 1)); }
got=$(started_on --port 7004)
[ "$got" = "239.5.5.5:7004" ] && passes=$((passes + 1)) || { echo "FAIL: the command line must win: '$got'"; fails=$((fails + 1)); }
printf 'group = 239.5.5.9\n' >"$W/only.conf"
got=$(started_on --config "$W/only.conf")
[ "$got" = "239.5.5.9:5004" ] && passes=$((passes + 1)) || { echo "FAIL: --config FILE alone: '$got'"; fails=$((fails + 1)); }
conf_error() { # CONTENT EXPECTED-MESSAGE
    printf "$1" >"$W/bad.conf"
    local out rc
    out=$("$BIN/mcshare" --config "$W/bad.conf" --source test --duration 0.3 2>&1)
    rc=$?
    if [ $rc = 2 ] && echo "$out" | grep -qF "$2"; then passes=$((passes + 1))
    else echo "FAIL: config '$1': exit $rc, expected '$2': $out"; fails=$((fails + 1)); fi
}
conf_error 'port = 7000\nthis is not a setting\n' "$W/bad.conf:2: expected 'key = value'"
conf_error '\n\nfrobnicate = 3\n' "$W/bad.conf:3: unknown key 'frobnicate'"
conf_error 'loop = maybe\n' "$W/bad.conf:1: 'loop' takes yes or no, not 'maybe'"
conf_error 'fps = 0\n' "(that setting is in $W/bad.conf:1)"
check 2 "--config of a missing file" "$BIN/mcview" --config /nonexistent.conf --list
printf 'duration = 1e9\n' >"$CFG/mcshare/mcprobe.conf"
out=$("$BIN/mcprobe" 2>&1)
echo "$out" | grep -qF "(that setting is in $CFG/mcshare/mcprobe.conf:1)" && passes=$((passes + 1)) ||
    { echo "FAIL: mcprobe must name the config line: $out"; fails=$((fails + 1)); }
rm -f "$CFG/mcshare/mcprobe.conf" "$CFG/mcshare/mcshare.conf"
unset MC_SYSCONFDIR
rm -rf "$W"
check 2 "mcprobe bad port" "$BIN/mcprobe" 239.1.1.1:99999
check 2 "mcprobe bad duration" "$BIN/mcprobe" --duration -1
check 2 "mcprobe bad drop" "$BIN/mcprobe" --drop 150
check 2 "mcprobe bad drop burst" "$BIN/mcprobe" --drop 5,0
check 2 "mcprobe bad interval" "$BIN/mcprobe" --interval 5
check 2 "mcprobe bad viewers" "$BIN/mcprobe" --viewers 0
check 2 "mcbench bad size" "$BIN/mcbench" --size 10
check 2 "mcprobe bad --trust" "$BIN/mcprobe" --trust not-a-fingerprint --duration 1
check 2 "mcview bad --trust" "$BIN/mcview" --trust 0123-4567
check 2 "mcview --json without --list" "$BIN/mcview" --json
check 2 "mcrelay a group and --from" "$BIN/mcrelay" --from relay.example.org 239.1.1.1
check 2 "mcrelay bad --listen-port" "$BIN/mcrelay" --listen-port 0
check 2 "mcrelay --listen-port with no port after it" "$BIN/mcrelay" --listen-port 65535
check 2 "mcrelay bad --max-viewers" "$BIN/mcrelay" --max-viewers 0
check 2 "mcrelay a unicast group" "$BIN/mcrelay" 10.1.2.3
check 1 "mcrelay --from a name that does not resolve" "$BIN/mcrelay" --from no-such-host.invalid
check 2 "mcview --source not an address" "$BIN/mcview" --source teacher-pc 232.1.1.1
check 2 "mcprobe --source not an address" "$BIN/mcprobe" --source 10.1.1 232.1.1.1
check 2 "mcview --kiosk without a group" "$BIN/mcview" --kiosk
check 2 "mcshare --monitor empty" "$BIN/mcshare" --monitor ""
check 1 "mcshare --list-monitors of the test pattern" "$BIN/mcshare" --source test --list-monitors
# The portal: no session bus, or a region (the desktop's dialog chooses)
# are errors that say so, before anything is sent (or, in a build without
# the portal, that say that).
portal_refuses() { # WHY DESCRIPTION CMD...
    local why=$1 what=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc = 1 ] && { echo "$out" | grep -q "$why" ||
                        echo "$out" | grep -q "no capture backend 'portal' in this build"; }; then
        passes=$((passes + 1))
    else
        echo "FAIL: $what: exit $rc: $out"
        fails=$((fails + 1))
    fi
}
portal_refuses "no session bus to reach the ScreenCast portal" "mcshare --source portal without a session bus" \
    env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent "$BIN/mcshare" --source portal
portal_refuses "the teacher chooses the monitor in the desktop's dialog" "mcshare --source portal --region" \
    "$BIN/mcshare" --source portal --region 100x100+0+0
check 2 "mcshare --dashboard-listen without a port" "$BIN/mcshare" --dashboard-listen 127.0.0.1
check 2 "mcshare --dashboard-listen port out of range" "$BIN/mcshare" --dashboard-listen 127.0.0.1:70000
check 1 "mcshare --dashboard-listen on an address not this computer's" \
    "$BIN/mcshare" --source test --dashboard-listen 192.0.2.1:0 --duration 1
check 2 "mcview --kiosk-lock without --kiosk" "$BIN/mcview" --kiosk-lock 239.1.1.1
check 2 "mcview --list too short" "$BIN/mcview" --list=0.1
check 2 "mcshare --name empty" "$BIN/mcshare" --name ""
check 2 "mcshare --name with a control character" "$BIN/mcshare" --name "$(printf 'a\tb')"
check 2 "mcshare --name too long" "$BIN/mcshare" --name "$(printf '%061d' 0)"
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
echo "$out" | grep -q "cannot capture the screen: cannot open the X display ':987'.*use --source test" ||
    { echo "FAIL: unclear display error: $out"; fails=$((fails+1)); }
# No display at all: an error, never the test pattern sent instead of the screen.
out=$(env -u DISPLAY "$BIN/mcshare" --duration 1 2>&1)
[ $? = 1 ] && echo "$out" | grep -q '\$DISPLAY is unset' && ! echo "$out" | grep -q broadcasting &&
    passes=$((passes + 1)) || { echo "FAIL: mcshare without a display: $out"; fails=$((fails+1)); }
out=$(env -u DISPLAY "$BIN/mcview" 2>&1)
[ $? = 1 ] && echo "$out" | grep -qi "cannot open a window" ||
    { echo "FAIL: mcview without a display: $out"; fails=$((fails+1)); }
echo "cli: $passes passed, $fails failed"
[ $fails = 0 ]
