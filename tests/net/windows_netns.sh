#!/bin/bash
# The Windows viewer against a Linux teacher: mcprobe.exe (cross-built by
# tools/build-windows) under wine in the student's namespace receives an
# X11 teacher's mcshare in the teacher's namespace. Its picture must be the
# teacher's exactly, without loss and with 5 % of the packets dropped (the
# control channel's repairs come from the Windows build's ENet and Winsock);
# its settings live in %APPDATA%; an unknown --iface lists Windows' names.
# Then mcview.exe, full screen on an X screen through wine, must show the
# teacher's picture exactly; mcrelay.exe must carry it to a unicast viewer;
# last, mcshare.exe captures an X screen through wine's GDI for a Linux
# student.
#   windows_netns.sh BUILD_DIR WIN_BUILD_DIR
TEST_NAME=windows_netns
BIN=${1:?usage: $0 BUILD_DIR WIN_BUILD_DIR}
WIN=${2:?usage: $0 BUILD_DIR WIN_BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
WINE=$(command -v wine64 || ls /usr/lib/wine/wine64 2>/dev/null || true)
[ -n "$WINE" ] || skip "wine64 missing (tools/install-deps installs it)"
[ -f "$WIN/mcprobe.exe" ] || skip "no $WIN/mcprobe.exe (tools/build-windows builds it)"
for c in Xvfb xdpyinfo compare convert; do
    command -v $c >/dev/null || skip "$c missing (tools/install-deps installs it)"
done
[ -x "$BIN/xshow" ] || skip "xshow not built"
make_pair "mcwnA$$" "mcwnB$$" 225
GROUP=$(unique_group 25)
PORT=$(( 20000 + ($$ + 61) % 20000 ))
W=640 H=360
ADDR_B="10.225.$(( $$ % 250 )).2"

# wine in the student's namespace: its own prefix, and its wineserver
# started there (it creates the sockets), stopped at the end.
export WINEPREFIX=$TMPDIR_TEST/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# The Windows programs keep their files in %APPDATA% (inside the prefix):
# XDG_CONFIG_HOME, which they would honour, is left out for them alone.
WINESERVER=$(dirname "$WINE")/wineserver
trap 'for ns in "mcwnA$$" "mcwnB$$"; do ip netns exec "$ns" timeout 20 "$WINESERVER" -k 2>/dev/null; done; cleanup' EXIT
wprobe() { ip netns exec "mcwnB$$" env -u XDG_CONFIG_HOME timeout 180 "$WINE" "$WIN/mcprobe.exe" "$@"; }
# A wineserver that stays between the programs: one that exits as the next
# program connects resets its connection ("wine client error: recvmsg:
# Connection reset by peer", seen once in a clean-clone run).
mkdir -p "$WINEPREFIX"
ip netns exec "mcwnB$$" "$WINESERVER" -p || fail "wineserver did not start"
wprobe --version >/dev/null 2>&1 || fail "mcprobe.exe does not run under wine"

convert -size ${W}x$H xc:'#264653' -fill '#e9c46a' -draw "rectangle 40,40 600,90" \
    -fill '#e76f51' -draw "circle 320,220 320,300" -fill white -font DejaVu-Sans -pointsize 28 \
    -annotate +60+330 "Windows student" -depth 8 "$TMPDIR_TEST/a.ppm"
DS=$(pick_display); start_xvfb "mcwnA$$" "$DS" "${W}x$H"
start_xshow "$BIN/xshow" "mcwnA$$" "$DS" 8
echo "load 0 $TMPDIR_TEST/a.ppm" >&8
echo "show 0" >&8
start_bg ip netns exec "mcwnA$$" "$BIN/mcshare" --display ":$DS" --group "$GROUP" --port "$PORT" \
    --iface "$IF_A" --cursor off --audio none --refresh 2000 2>"$TMPDIR_TEST/s.log"
SENDER=$LAST_PID
for _ in $(seq 100); do grep -q "key fingerprint" "$TMPDIR_TEST/s.log" && break; sleep 0.1; done

# An unknown interface: the error lists the interfaces by Windows' names.
out=$(wprobe "$GROUP:$PORT" --iface no-such-nic --duration 1 2>&1)
echo "$out" | grep -q "$ADDR_B" || fail "--iface no-such-nic did not list the interfaces: $out"
log "an unknown --iface lists: $(echo "$out" | grep -o 'there are: .*' | head -c 200)"

# 1. No loss: the picture exact.
wprobe "$GROUP:$PORT" --iface "$ADDR_B" --duration 4 --no-audio --json -q \
    --snapshot "Z:$TMPDIR_TEST/got1.ppm" >"$TMPDIR_TEST/p1.json" 2>"$TMPDIR_TEST/p1.err" ||
    fail "mcprobe.exe failed: $(cat "$TMPDIR_TEST/p1.err")"
ae=$(compare -metric AE "$TMPDIR_TEST/got1.ppm" "$TMPDIR_TEST/a.ppm" null: 2>&1)
[ "$ae" = 0 ] || fail "the Windows student's picture differs in $ae pixels"
grep -q "trusting the sender" "$TMPDIR_TEST/p1.err" || fail "no trust on first use: $(cat "$TMPDIR_TEST/p1.err")"
[ -n "$(find "$WINEPREFIX/drive_c/users" -path '*AppData/Roaming/mcshare/known_senders' 2>/dev/null)" ] ||
    fail "the known senders are not in %APPDATA%\\mcshare"
log "1. mcprobe.exe under wine: the picture exact; the sender remembered in %APPDATA%"

# 2. 5 % loss on the student's side: still exact, repairs asked for over
# the control channel. Every 20th datagram is dropped, not 5 % at random:
# a still picture sends few packets, and at random their loss would be
# anywhere from 0 to 10 %.
command -v nft >/dev/null || skip "nftables missing (tools/check installs it)"
ip netns exec "mcwnB$$" nft add table inet mcloss
ip netns exec "mcwnB$$" nft add chain inet mcloss in '{ type filter hook input priority 0; }'
ip netns exec "mcwnB$$" nft add rule inet mcloss in udp dport "$PORT" numgen inc mod 20 \< 1 drop
wprobe "$GROUP:$PORT" --iface "$ADDR_B" --duration 6 --no-audio --json -q \
    --snapshot "Z:$TMPDIR_TEST/got2.ppm" >"$TMPDIR_TEST/p2.json" 2>"$TMPDIR_TEST/p2.err" ||
    fail "mcprobe.exe failed under loss: $(cat "$TMPDIR_TEST/p2.err")"
ae=$(compare -metric AE "$TMPDIR_TEST/got2.ppm" "$TMPDIR_TEST/a.ppm" null: 2>&1)
[ "$ae" = 0 ] || fail "with 5 % loss the Windows student's picture differs in $ae pixels"
loss=$(json_field "$TMPDIR_TEST/p2.json" loss_pct)
python3 -c "import sys; sys.exit(0 if 1 <= $loss <= 10 else 1)" ||
    fail "mcprobe.exe saw $loss % loss, not about 5 %"
log "2. with $loss % loss the picture is still exact"

# 3. mcview.exe, full screen on the student's X screen (wine's window
# driver): the screen shows the teacher's picture exactly.
if [ -f "$WIN/mcview.exe" ]; then
    ip netns exec "mcwnB$$" nft delete table inet mcloss
    DV=$(pick_display); start_xvfb "mcwnB$$" "$DV" "${W}x$H"
    # wine's desktop process takes the display of the first program of a
    # wineserver: start a new one, with this screen.
    ip netns exec "mcwnB$$" timeout 20 "$WINESERVER" -k 2>/dev/null
    ip netns exec "mcwnB$$" timeout 20 "$WINESERVER" -w 2>/dev/null
    ip netns exec "mcwnB$$" env DISPLAY=":$DV" "$WINESERVER" -p || fail "wineserver did not start"
    ip netns exec "mcwnB$$" env -u XDG_CONFIG_HOME DISPLAY=":$DV" SDL_AUDIODRIVER=dummy timeout 120 "$WINE" \
        "$WIN/mcview.exe" "$GROUP:$PORT" --iface "$ADDR_B" --fullscreen --no-audio -v \
        >"$TMPDIR_TEST/v.log" 2>&1 &
    PIDS+=($!)
    ae=?
    for _ in $(seq 120); do
        sleep 0.5
        ip netns exec "mcwnB$$" env DISPLAY=":$DV" import -window root "$TMPDIR_TEST/shot.ppm" 2>/dev/null ||
            continue
        ae=$(compare -metric AE "$TMPDIR_TEST/shot.ppm" "$TMPDIR_TEST/a.ppm" null: 2>&1)
        [ "$ae" = 0 ] && break
    done
    [ "$ae" = 0 ] || fail "mcview.exe does not show the picture exactly ($ae pixels differ): $(cat "$TMPDIR_TEST/v.log")"
    grep -q "SDL video driver windows" "$TMPDIR_TEST/v.log" || fail "mcview.exe: $(cat "$TMPDIR_TEST/v.log")"
    log "3. mcview.exe under wine shows the teacher's picture exactly"
fi

# 4. mcrelay.exe in the student's namespace carries the broadcast over
# unicast to a Linux viewer (here on loopback), who pins the teacher's key:
# the picture exact.
if [ -f "$WIN/mcrelay.exe" ]; then
    FPR=$(sed -n 's/.*key fingerprint \([0-9a-f-]*\).*/\1/p' "$TMPDIR_TEST/s.log" | head -1)
    LPORT=$(( PORT + 10 ))
    ip netns exec "mcwnB$$" env -u XDG_CONFIG_HOME timeout 120 "$WINE" "$WIN/mcrelay.exe" \
        "$GROUP:$PORT" --iface "$ADDR_B" --listen-port "$LPORT" -v >"$TMPDIR_TEST/r.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q "relaying" "$TMPDIR_TEST/r.log" && break; sleep 0.1; done
    ip netns exec "mcwnB$$" "$BIN/mcprobe" "127.0.0.1:$LPORT" --trust "$FPR" --duration 4 \
        --no-audio -q --name via-relay --snapshot "$TMPDIR_TEST/got-r.ppm" >/dev/null \
        2>"$TMPDIR_TEST/pr.err" || fail "nothing through mcrelay.exe: $(cat "$TMPDIR_TEST/pr.err" "$TMPDIR_TEST/r.log")"
    ae=$(compare -metric AE "$TMPDIR_TEST/got-r.ppm" "$TMPDIR_TEST/a.ppm" null: 2>&1)
    [ "$ae" = 0 ] || fail "through mcrelay.exe the picture differs in $ae pixels"
    grep -q "viewer 127.0.0.1:[0-9]* subscribed" "$TMPDIR_TEST/r.log" ||
        fail "mcrelay.exe did not report the viewer: $(cat "$TMPDIR_TEST/r.log")"
    log "4. mcrelay.exe under wine carried the picture exactly to a unicast viewer"
fi
stop_checked "$SENDER" mcshare
grep -q "1 viewer\|2 viewers" "$TMPDIR_TEST/s.log" ||
    fail "the teacher never saw the Windows student on the control channel: $(cat "$TMPDIR_TEST/s.log")"
log "the Windows students were in the teacher's roster"

# 5. The other way: mcshare.exe under wine captures the teacher's X screen
# through GDI (wine's Desktop Duplication is a stub) and a Linux mcprobe
# gets the picture exactly, and the next one after it changes.
if [ -f "$WIN/mcshare.exe" ]; then
    convert -size ${W}x$H xc:'#f1faee' -fill '#1d3557' -draw "rectangle 60,120 580,160" \
        -depth 8 "$TMPDIR_TEST/b.ppm"
    echo "load 1 $TMPDIR_TEST/b.ppm" >&8
    ADDR_A="10.225.$(( $$ % 250 )).1"
    ip netns exec "mcwnA$$" timeout 20 "$WINESERVER" -k 2>/dev/null || true
    ip netns exec "mcwnA$$" env -u XDG_CONFIG_HOME DISPLAY=":$DS" timeout 120 "$WINE" "$WIN/mcshare.exe" \
        --group "$GROUP" --port "$PORT" --iface "$ADDR_A" --cursor off --audio none \
        >"$TMPDIR_TEST/ws.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do grep -q "key fingerprint" "$TMPDIR_TEST/ws.log" && break; sleep 0.1; done
    # auto tries Desktop Duplication first; wine has none, so GDI, saying why.
    grep -q "capturing ${W}x$H: Windows GDI (BitBlt) (auto: Windows, no Desktop Duplication: GDI)" \
        "$TMPDIR_TEST/ws.log" && grep -q "capturing through GDI instead" "$TMPDIR_TEST/ws.log" ||
        fail "mcshare.exe did not fall back to GDI, saying why: $(cat "$TMPDIR_TEST/ws.log")"
    log "mcshare.exe: $(grep "capturing through GDI instead" "$TMPDIR_TEST/ws.log")"
    grep -q 'AppData\\Roaming\\mcshare\\sender.key' "$TMPDIR_TEST/ws.log" ||
        fail "mcshare.exe's key is not in %APPDATA%: $(cat "$TMPDIR_TEST/ws.log")"
    for n in a b; do
        [ $n = b ] && echo "show 1" >&8
        ip netns exec "mcwnB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --duration 3 \
            --no-audio -q --snapshot "$TMPDIR_TEST/got-w$n.ppm" >/dev/null ||
            fail "mcprobe received nothing from mcshare.exe"
        ae=$(compare -metric AE "$TMPDIR_TEST/got-w$n.ppm" "$TMPDIR_TEST/$n.ppm" null: 2>&1)
        [ "$ae" = 0 ] || fail "mcshare.exe's picture $n differs in $ae pixels"
    done
    log "5. mcshare.exe under wine (GDI) to a Linux student: both pictures exact"
    ip netns exec "mcwnA$$" timeout 20 "$WINESERVER" -k 2>/dev/null || true
fi
log "PASS"
