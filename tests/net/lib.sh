# Shared helpers for the network tests: two or more "hosts" as network
# namespaces on one machine, joined by veth pairs. Every name carries the
# test's PID so tests can run side by side; cleanup removes exactly what
# this test created, also on failure or Ctrl-C.
# shellcheck shell=bash

set -u
NS_LIST=()
PIDS=()
TMPDIR_TEST=$(mktemp -d /tmp/mctest.XXXXXX)
# The sender's key and the viewers' known senders live here, not in $HOME:
# every run starts with a fresh key and trusts it on first use.
export XDG_CONFIG_HOME=$TMPDIR_TEST/config

log() { printf '%s: %s\n' "${TEST_NAME:-test}" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

cleanup() {
    local p i
    # Newest first: viewers and senders stop before the X servers they use.
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do kill "${PIDS[$i]}" 2>/dev/null || true; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    local ns
    for ns in "${NS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$TMPDIR_TEST"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root_netns() {
    [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
    command -v ip >/dev/null || skip "iproute2 missing"
    ip netns add "mcprobe$$" 2>/dev/null || skip "cannot create network namespaces here"
    ip netns del "mcprobe$$"
}

# make_pair NS_A NS_B IDX: two namespaces joined by a veth pair with
# addresses 10.$IDX.$((PID%250)).1/.2 and a multicast route on each end.
make_pair() {
    local a=$1 b=$2 idx=$3 net
    net="10.$idx.$(( $$ % 250 ))"
    ip netns add "$a" && NS_LIST+=("$a")
    ip netns add "$b" && NS_LIST+=("$b")
    ip link add "va$$" netns "$a" type veth peer name "vb$$" netns "$b" ||
        fail "cannot create a veth pair"
    ip -n "$a" addr add "$net.1/24" dev "va$$"
    ip -n "$b" addr add "$net.2/24" dev "vb$$"
    local ns dev
    for ns in "$a" "$b"; do
        [ "$ns" = "$a" ] && dev="va$$" || dev="vb$$"
        ip -n "$ns" link set lo up
        ip -n "$ns" link set "$dev" up
        ip -n "$ns" route add 224.0.0.0/4 dev "$dev"
    done
    IF_A="va$$"
    IF_B="vb$$"
}

# make_lan P NET SW HOST...: one LAN, as a classroom's switch: the
# namespace SW holds a bridge (no multicast snooping, as on a cheap
# switch) and each HOST namespace, the i-th from 1, gets NET.i/24 on
# interface P<i>x<pid> and a multicast route. Makes the namespaces.
make_lan() {
    local p=$1 net=$2 sw=$3 ns i=1
    shift 3
    for ns in "$sw" "$@"; do
        ip netns add "$ns" && NS_LIST+=("$ns") || fail "cannot create namespace $ns"
        ip -n "$ns" link set lo up
    done
    ip -n "$sw" link add br0 type bridge mcast_snooping 0
    ip -n "$sw" link set br0 up
    for ns in "$@"; do
        ip link add "$p${i}x$$" netns "$ns" type veth peer name "$p${i}y$$" netns "$sw" ||
            fail "cannot link $ns to the switch"
        ip -n "$sw" link set "$p${i}y$$" master br0 up
        ip -n "$ns" addr add "$net.$i/24" dev "$p${i}x$$"
        ip -n "$ns" link set "$p${i}x$$" up
        ip -n "$ns" route add 224.0.0.0/4 dev "$p${i}x$$"
        i=$((i + 1))
    done
}

# A multicast group unique to this test run.
unique_group() { echo "239.$(( ($$ >> 8) % 200 + 20 )).$(( $$ % 250 )).$1"; }

# Starts a command in the background and remembers its PID for cleanup.
start_bg() {
    "$@" &
    PIDS+=($!)
    LAST_PID=$!
}

# json_field FILE KEY: the value of KEY in the last JSON line of FILE.
json_field() {
    python3 -c 'import json,sys
line=[l for l in open(sys.argv[1]) if l.startswith("{")][-1]
v=json.loads(line)[sys.argv[2]]
print(v if not isinstance(v,list) else " ".join(map(str,v)))' "$1" "$2"
}

# stop_checked PID NAME: asks a program to stop as Ctrl-C would and fails the
# test unless it exits cleanly (status 0; sanitizer reports make it non-zero).
stop_checked() {
    local pid=$1 name=$2 rc
    kill -INT "$pid" 2>/dev/null || fail "$name ($pid) was not running"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
        fail "$name did not stop within 10 s of SIGINT"
    fi
    wait "$pid"
    rc=$?
    [ "$rc" = 0 ] || fail "$name exited with status $rc after SIGINT"
}

# drop_incoming NS PORT PCT: nftables in NS drops PCT % of incoming UDP to
# PORT at random (numgen random), like a lossy switch or Wi-Fi bridge.
drop_incoming() {
    local ns=$1 port=$2 pct=$3
    command -v nft >/dev/null || skip "nftables missing (tools/check installs it)"
    ip netns exec "$ns" nft add table inet mcloss
    ip netns exec "$ns" nft add chain inet mcloss in '{ type filter hook input priority 0; }'
    ip netns exec "$ns" nft add rule inet mcloss in udp dport "$port" numgen random mod 100 \< "$pct" drop
}

# pick_display: a free X display number (no lock file, no socket).
pick_display() {
    local n
    for n in $(seq $(( 100 + $$ % 300 )) 499); do
        [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || { echo "$n"; return; }
    done
    fail "no free X display number"
}

# start_xshow XSHOW NS DISPLAY FD [FIFO]: tools/xshow (built as XSHOW) on
# that X screen of NS, reading its commands from a FIFO (named FIFO under
# $TMPDIR_TEST, default "show") that this shell keeps open on descriptor
# FD, read-write, so opening it does not wait for the other end:
# `echo "load 0 a.ppm" >&FD; echo "show 0" >&FD`.
start_xshow() {
    local fifo=$TMPDIR_TEST/${5:-show}
    mkfifo "$fifo" || fail "cannot make $fifo"
    eval "exec $4<>\"\$fifo\""
    # (not start_bg: a background command's stdin is /dev/null unless the
    # command itself redirects it, as this one does)
    ip netns exec "$2" env DISPLAY=":$3" "$1" <"$fifo" >/dev/null &
    PIDS+=($!)
}

# start_xvfb NS DISPLAY WxH: an Xvfb screen in NS, waited for until it answers.
start_xvfb() {
    start_bg ip netns exec "$1" Xvfb ":$2" -screen 0 "${3}x24" -nolisten tcp -noreset
    for _ in $(seq 50); do
        ip netns exec "$1" env DISPLAY=":$2" xdpyinfo >/dev/null 2>&1 && return
        sleep 0.1
    done
    fail "Xvfb :$2 did not start"
}
