#!/bin/bash
# Finding the broadcast: four hosts on one switch. Teacher A announces
# "Physics 2B"; a student's mcview with no address must join it by itself.
# Then teacher B ("Chemistry 1A", with a passphrase) and a student F who
# announces a fake "Physics 2B" under a key of its own, and sends tampered
# copies of A's announcements. `mcview --list --json` must list the three,
# each with the key that signed it, mark both "Physics 2B" as contested,
# mark A's key as the one this computer knows for A's group and F's as
# not, and refuse every tampered copy. When A stops, its deletion takes it
# off the list at once.
TEST_NAME=discovery_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in Xvfb xdpyinfo xwininfo xprop python3; do command -v $c >/dev/null || skip "$c missing"; done
SW="mcdS$$" A="mcdA$$" B="mcdB$$" V="mcdV$$" F="mcdF$$"
NET="10.214.$(( $$ % 250 ))"
make_lan d "$NET" "$SW" "$A" "$B" "$V" "$F"
GA=$(unique_group 16) GB=$(unique_group 17) GF=$(unique_group 18)
PORT=$(( 20000 + ($$ + 43) % 20000 ))
C=$TMPDIR_TEST
teacher() { # NS IFACE GROUP KEY NAME LOG [ARGS]
    local ns=$1 ifc=$2 g=$3 k=$4 n=$5 lg=$6
    shift 6
    start_bg ip netns exec "$ns" "$BIN/mcshare" --source test --size 320x180 --fps 10 --audio none \
        --group "$g" --port "$PORT" --iface "$ifc" --key "$k" --name "$n" "$@" 2>"$lg"
    for _ in $(seq 50); do grep -q "announced on the LAN" "$lg" && return; sleep 0.1; done
    fail "mcshare did not announce: $(cat "$lg")"
}
fpr_of() { sed -n 's/.*key fingerprint \([0-9a-f-]*\).*/\1/p' "$1" | head -1; }

# 1. One teacher: mcview with no address joins it by itself.
teacher "$A" "d1x$$" "$GA" "$C/a.key" "Physics 2B" "$C/a.log"
TA=$LAST_PID
FA=$(fpr_of "$C/a.log")
DV=$(pick_display); start_xvfb "$V" "$DV" 640x360
start_bg ip netns exec "$V" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$BIN/mcview" --iface "d3x$$" --no-audio 2>"$C/v.log"
VIEW=$LAST_PID
title() {
    local id
    id=$(ip netns exec "$V" env DISPLAY=":$DV" xwininfo -root -tree 2>/dev/null | awk '/"mcview"/ {print $1; exit}')
    [ -n "$id" ] && ip netns exec "$V" env DISPLAY=":$DV" xprop -id "$id" WM_NAME 2>/dev/null
}
ok=0
for _ in $(seq 100); do title | grep -q ' live"$' && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || fail "mcview did not join the only broadcast: $(title) $(cat "$C/v.log")"
grep -q "joining 'Physics 2B' on $GA:$PORT (announced by key $FA)" "$C/v.log" ||
    fail "mcview did not say what it joined: $(cat "$C/v.log")"
stop_checked "$VIEW" mcview
log "1. a lone broadcast is joined by itself"

# 2. Two teachers, a fake and tampered copies.
echo "longpassphrase" >"$C/pass"
teacher "$B" "d2x$$" "$GB" "$C/b.key" "Chemistry 1A" "$C/b.log" --passphrase-file "$C/pass"
teacher "$F" "d4x$$" "$GF" "$C/f.key" "Physics 2B" "$C/f.log"
FB=$(fpr_of "$C/b.log") FF=$(fpr_of "$C/f.log")
mkdir -p "$XDG_CONFIG_HOME/mcshare"
echo "$GA:$PORT $FA" >"$XDG_CONFIG_HOME/mcshare/known_senders"
ip netns exec "$F" timeout 20 python3 - "$NET.4" <<'PY' &
import socket, sys, time
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
rx.bind(("", 9875))
rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.255.255.255") + socket.inet_aton(sys.argv[1]))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
end = time.time() + 8
while time.time() < end:
    rx.settimeout(max(0.1, end - time.time()))
    try:
        p = bytearray(rx.recv(4096))
    except socket.timeout:
        break
    if b"s=Physics 2B" not in p:
        continue
    for a, b in ((b"s=Physics 2B", b"s=Physics 2C"), (b"sealed:0", b"sealed:1")):
        q = bytes(p).replace(a, b, 1)
        tx.sendto(q, ("239.255.255.255", 9875))
PY
FLIP=$!
sleep 3
ip netns exec "$V" "$BIN/mcview" --list --json --iface "d3x$$" >"$C/list.json" 2>"$C/list.err" ||
    fail "mcview --list found nothing: $(cat "$C/list.err")"
ip netns exec "$V" "$BIN/mcview" --list --iface "d3x$$" >"$C/list.txt" 2>"$C/list2.err"
wait "$FLIP"
log "the list: $(cat "$C/list.txt")"
python3 - "$C/list.json" "$GA" "$GB" "$GF" "$PORT" "$FA" "$FB" "$FF" <<'PY' || fail "wrong list"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ga, gb, gf, port, fa, fb, ff = sys.argv[2:9]
by = {(r["group"], r["key"]): r for r in rows}
ok = len(rows) == 3
a, b, f = by.get((ga, fa)), by.get((gb, fb)), by.get((gf, ff))
ok = ok and a and b and f
ok = ok and a["name"] == "Physics 2B" and f["name"] == "Physics 2B" and b["name"] == "Chemistry 1A"
ok = ok and a["name_contested"] and f["name_contested"] and not b["name_contested"]
ok = ok and a["known"] == 1 and f["known"] == 0 and b["passphrase"] and not a["passphrase"]
ok = ok and all(r["port"] == int(port) for r in rows)
ok = ok and not any(r["name"] == "Physics 2C" for r in rows)
print(rows if not ok else "list ok")
sys.exit(0 if ok else 1)
PY
grep -q "announcements refused (damaged, or not validly signed)" "$C/list2.err" ||
    fail "the tampered copies were not refused (or none arrived): $(cat "$C/list2.err")"
grep -q "(another key claims this name)" "$C/list.txt" || fail "the text list does not flag the contested name"
log "2. two teachers and a fake: listed, each with its key; the fake flagged; tampered copies refused"

# A standard SAP tool lists them too: VLC's "Network streams (SAP)", each
# broadcast once (its announcements repeat the same description and hash).
if command -v cvlc >/dev/null; then
    mkdir -p "$C/vlc" && chmod 777 "$C/vlc"
    (sleep 7; echo playlist; sleep 1; echo quit) | timeout 20 ip netns exec "$V" \
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$C/vlc" \
        cvlc -I rc --services-discovery=sap --no-video 2>/dev/null | tr -d '\r' >"$C/vlc.txt" || true
    grep -q "Network streams (SAP)" "$C/vlc.txt" || fail "VLC listed no SAP streams: $(cat "$C/vlc.txt")"
    np=$(grep -c -- "- Physics 2B$" "$C/vlc.txt" || true)
    nc=$(grep -c -- "- Chemistry 1A$" "$C/vlc.txt" || true)
    [ "$np" = 2 ] && [ "$nc" = 1 ] ||
        fail "VLC should list Physics 2B twice (the teacher and the fake) and Chemistry 1A once: $(cat "$C/vlc.txt")"
    log "VLC's SAP list shows them, each once: $(grep -c -- '^|   [0-9]' "$C/vlc.txt") entries"
else
    log "VLC not installed: its SAP list not checked (tools/install-deps installs it)"
fi

# 3. A stops while a list is being made: its deletion takes it off at once
# (not after the 7 s without announcements).
ip netns exec "$V" "$BIN/mcview" --list=5 --json --iface "d3x$$" >"$C/list3.json" 2>/dev/null &
L3=$!
sleep 2.5
stop_checked "$TA" mcshare
wait "$L3"
grep -q "\"group\":\"$GA\"" "$C/list3.json" && fail "the stopped broadcast is still listed"
grep -q "\"group\":\"$GB\"" "$C/list3.json" || fail "the others vanished too"
log "3. a stopped broadcast leaves the list at once"
log "PASS"
