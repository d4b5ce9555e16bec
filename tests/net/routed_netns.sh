#!/bin/bash
# Two subnets joined by a multicast router, as in a school with a subnet per
# floor: the teacher on 10.X.1.0/24, a student on 10.X.2.0/24, and a router
# namespace forwarding between them (IP forwarding for the control
# channel's unicast, smcroute for the stream's group and the SAP group).
# With --ttl 1 nothing may cross the router (mcshare's default keeps the
# stream on its subnet); with --ttl 4 the student joins late, gets its
# picture (a keyframe over the routed control channel when it lacks most
# tiles), has every tile exact, and sees
# the broadcast in `mcview --list`. Then source-specific multicast: two
# teachers (10.X.1.1 and 10.X.1.2) on one 232.0.0.0/8 group; a student
# joined with --source 10.X.1.1 (IGMPv3) receives that teacher only, one
# without --source hears both.
TEST_NAME=routed_netns
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
command -v smcrouted >/dev/null || skip "smcroute missing (tools/install-deps installs it)"
T="mcrT$$" R="mcrR$$" S="mcrS$$"
X=$(( 100 + $$ % 150 ))
for ns in "$T" "$R" "$S"; do
    ip netns add "$ns" && NS_LIST+=("$ns") || fail "cannot create namespace $ns"
    ip -n "$ns" link set lo up
done
ip link add "rt$$" netns "$T" type veth peer name "ra$$" netns "$R" || fail veth
ip link add "rs$$" netns "$S" type veth peer name "rb$$" netns "$R" || fail veth
ip -n "$T" addr add "10.$X.1.1/24" dev "rt$$"
ip -n "$R" addr add "10.$X.1.254/24" dev "ra$$"
ip -n "$R" addr add "10.$X.2.254/24" dev "rb$$"
ip -n "$S" addr add "10.$X.2.1/24" dev "rs$$"
for l in "$T rt$$" "$R ra$$" "$R rb$$" "$S rs$$"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$T" route add default via "10.$X.1.254"
ip -n "$S" route add default via "10.$X.2.254"
ip -n "$T" route add 224.0.0.0/4 dev "rt$$"
ip -n "$S" route add 224.0.0.0/4 dev "rs$$"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
GROUP=$(unique_group 20)
PORT=$(( 20000 + ($$ + 53) % 20000 ))
cat >"$TMPDIR_TEST/smcroute.conf" <<CONF
phyint ra$$ enable
phyint rb$$ enable
mroute from ra$$ group $GROUP to rb$$
mroute from ra$$ group 239.255.255.255 to rb$$
mroute from ra$$ group 232.1.$X.1 to rb$$
CONF
start_bg ip netns exec "$R" smcrouted -n -N -f "$TMPDIR_TEST/smcroute.conf" -i "mcr$$" \
    -u "$TMPDIR_TEST/smcroute.sock" -P "$TMPDIR_TEST/smcroute.pid" -l notice
ROUTER=$LAST_PID
sleep 1
kill -0 "$ROUTER" 2>/dev/null || fail "smcrouted did not start"

# 1. TTL 1: the stream stays on the teacher's subnet.
start_bg ip netns exec "$T" "$BIN/mcshare" --source test --size 320x180 --audio none --group "$GROUP" \
    --port "$PORT" --iface "rt$$" --ttl 1 2>"$TMPDIR_TEST/s1.log"
SENDER=$LAST_PID
ip netns exec "$S" "$BIN/mcprobe" "$GROUP:$PORT" --iface "rs$$" --duration 3 --no-audio -q \
    >/dev/null 2>"$TMPDIR_TEST/p1.log" && fail "a TTL 1 stream crossed the router"
stop_checked "$SENDER" mcshare
log "TTL 1: nothing crossed the router"

# 2. TTL 4: across the router, joined late, the control channel (keyframe,
# clock sync) routed, listed by discovery.
start_bg ip netns exec "$T" "$BIN/mcshare" --source test --size 320x180 --audio none --group "$GROUP" \
    --port "$PORT" --iface "rt$$" --ttl 4 --name "Room 1.12" 2>"$TMPDIR_TEST/s2.log"
SENDER=$LAST_PID
sleep 3 # the student joins late
ip netns exec "$S" "$BIN/mcprobe" "$GROUP:$PORT" --iface "rs$$" --duration 4 --no-audio --json \
    --verify-pattern >"$TMPDIR_TEST/p2.json" 2>"$TMPDIR_TEST/p2.log" ||
    fail "mcprobe across the router failed: $(cat "$TMPDIR_TEST/p2.log")"
python3 - "$TMPDIR_TEST/p2.json" <<'PY' || fail "see above"
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
# A keyframe is asked only when the picture is not complete by the time the
# control channel connects (the moving pattern may fill it first): the
# channel crossing the router is shown by the connection and the clock sync.
ok = s["wrong"] == 0 and s["tiles_held"] == s["tiles"] and s["ctrl_connected"] == 1 \
    and s["clock_synced"] == 1
print(f"  across the router: tiles {s['tiles_held']}/{s['tiles']}, wrong {s['wrong']}, control "
      f"connected {s['ctrl_connected']}, keyframes asked {s['keyframes_asked']}, clock synced "
      f"{s['clock_synced']}, latency p50 {s['lat_decoded_ms'][0]} ms", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
ip netns exec "$S" "$BIN/mcview" --list --json --iface "rs$$" >"$TMPDIR_TEST/list.json" 2>/dev/null ||
    fail "the announcement did not cross the router"
grep -q "\"name\":\"Room 1.12\",\"group\":\"$GROUP\"" "$TMPDIR_TEST/list.json" ||
    fail "wrong announcement: $(cat "$TMPDIR_TEST/list.json")"
stop_checked "$SENDER" mcshare
log "TTL 4: across the router, exact, control channel and clock sync over the router, listed"

# 3. SSM: two senders on one 232/8 group, a student joined to one source.
SSM=232.1.$X.1
ip -n "$T" addr add "10.$X.1.2/24" dev "rt$$"
start_bg ip netns exec "$T" "$BIN/mcshare" --source test --size 320x180 --audio none --group "$SSM" \
    --port "$PORT" --iface "10.$X.1.1" --ttl 4 --no-announce 2>"$TMPDIR_TEST/s3.log"
SA=$LAST_PID
start_bg ip netns exec "$T" "$BIN/mcshare" --source test --size 160x96 --audio none --group "$SSM" \
    --port "$PORT" --iface "10.$X.1.2" --ttl 4 --no-announce --ctrl-port 0 --force 2>"$TMPDIR_TEST/s4.log"
SB=$LAST_PID
sleep 2
ip netns exec "$S" "$BIN/mcprobe" "$SSM:$PORT" --iface "rs$$" --source "10.$X.1.1" --duration 3 \
    --no-audio --json --verify-pattern >"$TMPDIR_TEST/p3.json" 2>/dev/null || fail "the SSM join received nothing"
ip netns exec "$S" "$BIN/mcprobe" "$SSM:$PORT" --iface "rs$$" --duration 3 --no-audio --json \
    --no-control >"$TMPDIR_TEST/p4.json" 2>/dev/null || fail "the any-source join received nothing"
python3 - "$TMPDIR_TEST/p3.json" "$TMPDIR_TEST/p4.json" <<'PY' || fail "see above"
import json, sys
a = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
b = json.loads([l for l in open(sys.argv[2]) if l.startswith("{")][-1])
print(f"  --source 10.X.1.1: {a['width']}x{a['height']}, other sessions' datagrams {a['foreign_session']}, "
      f"wrong {a['wrong']}; any source: other sessions' datagrams {b['foreign_session']}", file=sys.stderr)
ok = a["width"] == 320 and a["foreign_session"] == 0 and a["wrong"] == 0 and b["foreign_session"] > 0
sys.exit(0 if ok else 1)
PY
stop_checked "$SB" mcshare
stop_checked "$SA" mcshare
log "SSM: the source-specific join received its teacher only"
log "PASS"
