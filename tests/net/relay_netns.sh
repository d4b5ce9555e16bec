#!/bin/bash
# A viewer that multicast cannot reach, through mcrelay: the teacher and
# the relay share a LAN; the student is at home, behind a NAT router, with
# 5 % loss on its line. The student subscribes to the relay (it opens the
# exchange, so the NAT lets the stream in), pins the teacher's key, and must
# hold every tile exact. An attacker on the student's line injects forged
# datagrams with the relay's address as their source: none is shown. The
# relay is killed and restarted: the student is back within 2 s. A chained
# relay (a second one fed by the first) serves a second student.
TEST_NAME=relay_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
command -v nft >/dev/null || skip "nftables missing"
T="mcyT$$" R="mcyR$$" N="mcyN$$" V="mcyV$$" Q="mcyQ$$"
X=$(( 100 + $$ % 150 ))
for ns in "$T" "$R" "$N" "$V" "$Q"; do
    ip netns add "$ns" && NS_LIST+=("$ns") || fail "cannot create namespace $ns"
    ip -n "$ns" link set lo up
done
link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || fail veth
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}
link "$T" "yt$$" "10.$X.1.1/24" "$R" "yr$$" "10.$X.1.2/24"            # the school LAN
link "$R" "yi$$" "10.$X.3.1/24" "$N" "yn$$" "10.$X.3.2/24"            # "the internet"
link "$N" "yh$$" "192.168.$X.1/24" "$V" "yv$$" "192.168.$X.2/24"      # the student's home
link "$R" "yq$$" "10.$X.4.1/24" "$Q" "yw$$" "10.$X.4.2/24"            # the second relay's site
ip -n "$T" route add 224.0.0.0/4 dev "yt$$"
ip -n "$R" route add 224.0.0.0/4 dev "yr$$"
ip -n "$V" route add default via "192.168.$X.1"
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$N" nft add table ip nat
ip netns exec "$N" nft add chain ip nat post '{ type nat hook postrouting priority 100; }'
ip netns exec "$N" nft add rule ip nat post oifname "yn$$" masquerade
ip -n "$N" route add "10.$X.0.0/16" via "10.$X.3.1"
GROUP=$(unique_group 21)
PORT=$(( 20000 + ($$ + 59) % 20000 ))
RELAY=10.$X.3.1

start_bg ip netns exec "$T" "$BIN/mcshare" --source test --size 320x180 --audio none --group "$GROUP" \
    --port "$PORT" --iface "yt$$" --refresh 2000 2>"$TMPDIR_TEST/s.log"
SENDER=$LAST_PID
for _ in $(seq 50); do grep -q 'key fingerprint' "$TMPDIR_TEST/s.log" && break; sleep 0.1; done
FPR=$(sed -n 's/.*key fingerprint \([0-9a-f-]*\).*/\1/p' "$TMPDIR_TEST/s.log" | head -1)
[ -n "$FPR" ] || fail "mcshare did not start: $(cat "$TMPDIR_TEST/s.log")"
relay() {
    start_bg ip netns exec "$R" "$BIN/mcrelay" "$GROUP:$PORT" --iface "yr$$" -v 2>>"$TMPDIR_TEST/r.log"
    RPID=$LAST_PID
}
relay
ip netns exec "$V" nft add table inet mcloss
ip netns exec "$V" nft add chain inet mcloss in '{ type filter hook input priority 0; }'
ip netns exec "$V" nft add rule inet mcloss in udp sport 5006 numgen random mod 100 \< 5 drop
sleep 1

# The student at home: 16 s, reports every 200 ms.
ip netns exec "$V" timeout 40 "$BIN/mcprobe" "$RELAY" --trust "$FPR" --duration 16 --interval 200 \
    --name home-student --no-audio --json --verify-pattern >"$TMPDIR_TEST/p.json" 2>"$TMPDIR_TEST/p.log" &
PROBE=$!
PIDS+=($PROBE)
sleep 4
# The attacker on the student's line, pretending to be the relay.
VPORT=$(ip netns exec "$V" ss -uanp 2>/dev/null | awk '/mcprobe/ && /10\.'"$X"'\.3\.1:5006/ {split($4, a, ":"); print a[2]; exit}')
[ -n "$VPORT" ] || fail "cannot find the student's port: $(ip netns exec "$V" ss -uanp)"
# (Untracked: the NAT router's conntrack would otherwise remap the forged
# packets' source port, as they look like the reverse of the student's flow.)
ip netns exec "$N" nft add table ip raw
ip netns exec "$N" nft add chain ip raw out '{ type filter hook output priority -300; }'
ip netns exec "$N" nft add rule ip raw out ip saddr "$RELAY" notrack
ip netns exec "$N" python3 "$(dirname "$0")/spoof.py" "$RELAY" 5006 "192.168.$X.2" "$VPORT" 3000 9 \
    >"$TMPDIR_TEST/spoof.txt" || fail "the spoofer failed"
sleep 1
# The student's control channel reaches the teacher through the relay: the
# teacher's roster lists it (from the relay's address).
kill -USR1 "$SENDER"
sleep 0.5
grep -q "home-student .*10\.$X\.1\.2" "$TMPDIR_TEST/s.log" ||
    fail "the teacher's roster does not list the relayed student: $(grep -A3 'connected' "$TMPDIR_TEST/s.log" | tail -4)"
log "the teacher's roster lists the student behind the relay"
sleep 1
# The relay dies and comes back.
kill -9 "$RPID"
wait "$RPID" 2>/dev/null
RESTART=$(date +%s.%N)
relay
wait "$PROBE"
rc=$?
[ $rc = 0 ] || fail "mcprobe through the relay exited $rc (3 = a wrong tile): $(tail -3 "$TMPDIR_TEST/p.log")"
python3 - "$TMPDIR_TEST/p.json" "$RESTART" "$(cat "$TMPDIR_TEST/spoof.txt")" <<'PY' || fail "see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
restart, spoofed = float(sys.argv[2]), int(sys.argv[3])
last = lines[-1]
ok = True
def check(c, m):
    global ok
    print(("  " if c else "  FAIL: ") + m, file=sys.stderr)
    ok = ok and c
check(last["tiles_held"] == last["tiles"] and last["wrong"] == 0 and last["tiles_behind"] == 0,
      f"every tile exact through the relay: {last['tiles_held']}/{last['tiles']}, wrong {last['wrong']}")
check(last["ctrl_connected"] == 1 and last["clock_synced"] == 1,
      f"control channel through the relay: connected {last['ctrl_connected']}, "
      f"clock synced {last['clock_synced']}, repairs asked {last.get('repairs_asked')}")
check(2.0 <= last["loss_pct"] <= 25,
      f"the home line lost {last['loss_pct']:.1f} % (5 % dropped, and the relay's restart)")
refused = last["dropped_invalid"] + last["auth_unverified"] + last["foreign_session"] + \
    last["auth_bad"] + last["auth_evicted"]
print("  counters: " + ", ".join(f"{k} {last[k]}" for k in ("packets", "dropped_invalid", "auth_unverified",
      "auth_bad", "auth_evicted", "foreign_session", "auth_verified")), file=sys.stderr)
check(refused >= spoofed // 2, f"{spoofed} forged datagrams sent; refused or never vouched for: {refused}")
# Back after the restart: the first report after it whose frame count grew.
reports = [l for l in lines if l["type"] == "second"]
back = None
for a, b in zip(reports, reports[1:]):
    if b["wall"] > restart and b["frames_decoded"] > a["frames_decoded"]:
        back = b["wall"] - restart
        break
check(back is not None and back <= 2.0, f"back {back} s after the relay restarted (bound 2 s)")
sys.exit(0 if ok else 1)
PY
log "through the relay, behind NAT, 5 % loss, forged datagrams and a restart: exact"

# A chained relay: Q's relay is fed by R's; a student in Q watches it.
start_bg ip netns exec "$Q" "$BIN/mcrelay" --from "10.$X.4.1" --listen-port 5007 2>"$TMPDIR_TEST/q.log"
sleep 1
# It drops 40 % of what arrives (in runs of 5), and its control channel
# goes through both relays: the teacher's roster lists it (from the first
# relay's address), which takes its reports arriving.
ip netns exec "$Q" "$BIN/mcprobe" 127.0.0.1:5007 --trust "$FPR" --duration 6 --no-audio --json --drop 40,5 \
    --name far-student --verify-pattern >"$TMPDIR_TEST/q.json" 2>/dev/null &
QPROBE=$!
PIDS+=($QPROBE)
listed=0
for _ in $(seq 10); do
    sleep 0.5
    kill -USR1 "$SENDER"
    sleep 0.2
    grep -q "far-student .*10\.$X\.1\.2" "$TMPDIR_TEST/s.log" && { listed=1; break; }
done
wait "$QPROBE" || fail "the chained relay delivered nothing"
[ $listed = 1 ] || fail "the teacher's roster never listed the student behind two relays"
python3 -c "
import json,sys
s=json.loads([l for l in open('$TMPDIR_TEST/q.json') if l.startswith('{')][-1])
print(f'  chained, 40 % dropped: tiles {s[\"tiles_held\"]}/{s[\"tiles\"]}, wrong {s[\"wrong\"]}, control connected {s[\"ctrl_connected\"]}, repairs asked {s[\"repairs_asked\"]}, keyframes asked {s[\"keyframes_asked\"]}', file=sys.stderr)
sys.exit(0 if s['wrong']==0 and s['tiles_held']==s['tiles'] and s['ctrl_connected']==1 else 1)" ||
    fail "the chained relay's picture is wrong, or its control channel did not connect"
log "a chain of two relays: exact; the far student is in the teacher's roster"
stop_checked "$SENDER" mcshare

# A slow line: a student whose line takes 600 datagrams/s (about 6 Mbit/s)
# with a queue of 20 (an nftables policer), watching a photo-like picture at
# 2 fps (1.8 Mbit/s) through a relay. Sent at line rate, each frame's burst
# overflows that queue; paced per viewer at 4 Mbit/s (--viewer-rate, as an
# admin would set it for such lines), the same stream arrives whole.
G2=$(unique_group 24)
start_bg ip netns exec "$T" "$BIN/mcshare" --source test-video --size 1280x720 --fps 2 --audio none \
    --group "$G2" --port "$PORT" --iface "yt$$" --no-announce 2>"$TMPDIR_TEST/s2.log"
SENDER=$LAST_PID
ip netns exec "$Q" nft add table inet slow
ip netns exec "$Q" nft add chain inet slow in '{ type filter hook input priority 0; }'
ip netns exec "$Q" nft add rule inet slow in udp sport 5010 limit rate over 600/second burst 20 packets drop
slow_line() { # VIEWER-RATE -> "loss_pct tiles_held tiles"
    start_bg ip netns exec "$R" "$BIN/mcrelay" "$G2:$PORT" --iface "yr$$" --listen-port 5010 \
        --viewer-rate "$1" 2>>"$TMPDIR_TEST/r2.log"
    local rp=$LAST_PID
    sleep 0.5
    ip netns exec "$Q" "$BIN/mcprobe" "10.$X.4.1:5010" --trust "$FPR" --no-audio --no-decode \
        --duration 5 --json -q >"$TMPDIR_TEST/slow-$1.json" 2>/dev/null
    stop_checked "$rp" mcrelay
    python3 -c "
import json
s=json.loads([l for l in open('$TMPDIR_TEST/slow-$1.json') if l.startswith('{')][-1])
print(s['loss_pct'], s['tiles_held'], s['tiles'])"
}
read -r lossU heldU tilesU < <(slow_line 10000)
read -r lossP heldP tilesP < <(slow_line 4)
log "slow line: at line rate $lossU % lost ($heldU/$tilesU tiles); paced $lossP % ($heldP/$tilesP)"
python3 -c "import sys; sys.exit(0 if $lossU >= 10 else 1)" ||
    fail "the slow line did not lose at line rate: the test shows nothing"
python3 -c "import sys; sys.exit(0 if $lossP <= 1 and $heldP == $tilesP else 1)" ||
    fail "paced per viewer, the slow line still lost $lossP % ($heldP/$tilesP tiles)"

# A 40 KB datagram with mcshare's magic (anyone on the LAN can send one)
# is bigger than a paced viewer's burst: it must not stall that viewer.
start_bg ip netns exec "$R" "$BIN/mcrelay" "$G2:$PORT" --iface "yr$$" --listen-port 5010 \
    --viewer-rate 4 2>>"$TMPDIR_TEST/r3.log"
RP=$LAST_PID
sleep 0.5
ip netns exec "$Q" "$BIN/mcprobe" "10.$X.4.1:5010" --trust "$FPR" --no-audio --duration 7 \
    --interval 500 --json >"$TMPDIR_TEST/big.json" 2>/dev/null &
BPROBE=$!
PIDS+=($BPROBE)
sleep 2
INJECT=$(date +%s.%N)
ip netns exec "$T" python3 - "$G2" "$PORT" "10.$X.1.1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[3]))
s.sendto(b"MC\x02\x01" + bytes(40000), (sys.argv[1], int(sys.argv[2])))
PY
wait "$BPROBE" || fail "mcprobe through the relay got nothing"
stop_checked "$RP" mcrelay
python3 - "$TMPDIR_TEST/big.json" "$INJECT" <<'PY' || fail "a big datagram stalled the paced viewer"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
t = float(sys.argv[2])
after = [l for l in lines if l["type"] != "summary" and l["wall"] > t + 1.0]
grew = after[-1]["frames_decoded"] - after[0]["frames_decoded"] if len(after) >= 2 else 0
span = after[-1]["wall"] - after[0]["wall"] if len(after) >= 2 else 0
print(f"  after a 40 KB datagram: {grew} frames decoded in the next {span:.1f} s", file=sys.stderr)
sys.exit(0 if grew >= 4 else 1)
PY
stop_checked "$SENDER" mcshare
log "PASS"
