#!/bin/bash
# The teacher's dashboard in a real browser. A teacher host (an Xvfb screen
# whose colour changes 4 times a second) runs mcshare --dashboard-listen on
# localhost; a student host runs mcview (on its own Xvfb, named "ana") and
# mcprobe ("ben"). Debian's chromium, headless, driven by playwright-core
# (tests/dashboard/drive.mjs), checks: no token or a wrong one → 403; the
# roster shows both; Pause freezes the student's picture (screenshots
# compared), Resume moves it again; a quality preset and another part of
# the screen restart the session and the student follows; End ends the
# broadcast. Then: the page is not reachable from the student host, and with
# --dashboard-listen 0.0.0.0:PORT it is, but only with the token.
TEST_NAME=dashboard_netns
BIN=${1:?usage: $0 BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_root_netns
for c in Xvfb xdpyinfo xsetroot import node python3; do command -v $c >/dev/null || skip "$c missing"; done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "chromium missing (tools/install-deps installs it)"
DASHDIR=$HERE/../dashboard
if [ ! -d "$DASHDIR/node_modules/playwright-core" ]; then
    (cd "$DASHDIR" && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1) ||
        skip "playwright-core cannot be installed from npm (tests/dashboard)"
fi
make_pair "mcdA$$" "mcdB$$" 216
GROUP=$(unique_group 21)
PORT=$(( 20000 + ($$ + 53) % 20000 ))
WPORT=$(( 40000 + $$ % 20000 ))
DS=$(pick_display); start_xvfb "mcdA$$" "$DS" 640x360
DV=$(pick_display); start_xvfb "mcdB$$" "$DV" 640x360
T() { ip netns exec "mcdA$$" env DISPLAY=":$DS" "$@"; }
# The teacher's screen changes 4 times a second (bounded: 10 minutes).
start_bg bash -c "for i in \$(seq 2400); do for c in red green blue yellow white magenta cyan; do
    ip netns exec mcdA$$ env DISPLAY=:$DS xsetroot -solid \$c; sleep 0.25; done; done"
ASAN="${ASAN_OPTIONS:-}:detect_leaks=0"
start_bg ip netns exec "mcdA$$" env DISPLAY=":$DS" "$BIN/mcshare" --display ":$DS" --audio none \
    --group "$GROUP" --port "$PORT" --iface "$IF_A" --fps 15 --name "Physics 2B" \
    --dashboard-listen "127.0.0.1:$WPORT" 2>"$TMPDIR_TEST/s.log"
SENDER=$LAST_PID
url=
for _ in $(seq 100); do
    url=$(sed -n 's/^mcshare: the dashboard: //p' "$TMPDIR_TEST/s.log")
    [ -n "$url" ] && break
    kill -0 "$SENDER" 2>/dev/null || fail "mcshare exited: $(cat "$TMPDIR_TEST/s.log")"
    sleep 0.1
done
[ -n "$url" ] || fail "mcshare printed no dashboard address: $(cat "$TMPDIR_TEST/s.log")"
case "$url" in "http://127.0.0.1:$WPORT/?token="????????????????????????????????) ;;
    *) fail "unexpected dashboard address: $url" ;; esac
log "dashboard at ${url%%\?*}?token=…"
start_bg ip netns exec "mcdB$$" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy ASAN_OPTIONS="$ASAN" \
    "$BIN/mcview" "$GROUP:$PORT" --iface "$IF_B" --no-audio --name ana 2>"$TMPDIR_TEST/v.log"
VIEW=$LAST_PID
start_bg ip netns exec "mcdB$$" "$BIN/mcprobe" "$GROUP:$PORT" --iface "$IF_B" --name ben \
    --no-audio --interval 1000 --json >"$TMPDIR_TEST/probe.json" 2>"$TMPDIR_TEST/p.log"
PROBE=$LAST_PID

# A plain HTTP client, for what the browser does not show.
http() { # NS METHOD URL -> status code
    ip netns exec "$1" python3 - "$2" "$3" <<'EOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(urllib.request.Request(sys.argv[2], method=sys.argv[1]), timeout=5)
    print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print("unreachable")
EOF
}
base=${url%%\?*}
tok=${url#*token=}
[ "$(http "mcdA$$" GET "${base}state?token=$tok")" = 200 ] || fail "GET /state with the token"
[ "$(http "mcdA$$" GET "${base}control?token=$tok&action=pause")" = 405 ] ||
    fail "a GET (a link, an image) must not control the broadcast"
[ "$(http "mcdA$$" POST "${base}control?action=pause")" = 403 ] || fail "POST without the token"
[ "$(http "mcdA$$" POST "${base}control?token=$tok&action=explode")" = 400 ] ||
    fail "an unknown action must be refused"
grep -q "paused from the dashboard" "$TMPDIR_TEST/s.log" && fail "a refused request paused the broadcast"
teacher_ip=$(ip -n "mcdA$$" -4 -o addr show dev "$IF_A" | awk '{print $4}' | cut -d/ -f1)
[ "$(http "mcdB$$" GET "http://$teacher_ip:$WPORT/?token=$tok")" = unreachable ] ||
    fail "the dashboard must not be reachable from another host without --dashboard-listen"
log "HTTP: state 200; GET control 405; no token 403; unknown action 400; other hosts: unreachable"

mkdir -p "$TMPDIR_TEST/out"
SHOT="ip netns exec mcdB$$ env DISPLAY=:$DV import -window root" NAMES="ana,ben" \
    CHROMIUM="$CHROMIUM" HOME="$TMPDIR_TEST" timeout 150 ip netns exec "mcdA$$" node "$DASHDIR/drive.mjs" "$url" "$TMPDIR_TEST/out" ||
    { cp "$TMPDIR_TEST"/out/dashboard-*.png /tmp/ 2>/dev/null; fail "the browser test failed; mcshare said: $(tail -20 "$TMPDIR_TEST/s.log")"; }
for _ in $(seq 100); do kill -0 "$SENDER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SENDER" 2>/dev/null && fail "mcshare still runs after End"
wait "$SENDER" || fail "mcshare exited with status $? after End"
grep -q "ending the broadcast (asked from the dashboard)" "$TMPDIR_TEST/s.log" || fail "no end message"
grep -q "viewers were told the broadcast ended" "$TMPDIR_TEST/s.log" || fail "no BYE after End"
grep -q "quality preset 'sharp'" "$TMPDIR_TEST/s.log" || fail "the preset was not applied"
stop_checked "$PROBE" mcprobe
python3 - "$TMPDIR_TEST/probe.json" <<'EOF' || fail "mcprobe did not follow the restarted sessions"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sessions = {l["session"] for l in lines if l.get("session", "00000000") != "00000000"}
print(f"  mcprobe followed {len(sessions)} sessions", file=sys.stderr)
assert len(sessions) >= 3, f"mcprobe followed {len(sessions)} sessions, expected the first, the preset's, the region's"
EOF
log "the browser's steps passed; mcshare ended with BYE; mcprobe followed every new session"
stop_checked "$VIEW" mcview

# Listening on every interface: reachable from the student host, only with the token.
start_bg ip netns exec "mcdA$$" "$BIN/mcshare" --source test --audio none --group "$GROUP" \
    --port "$PORT" --iface "$IF_A" --dashboard-listen "0.0.0.0:$WPORT" --force 2>"$TMPDIR_TEST/s2.log"
SENDER=$LAST_PID
url=
for _ in $(seq 100); do
    url=$(sed -n 's/^mcshare: the dashboard: //p' "$TMPDIR_TEST/s2.log"); [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "no dashboard address with 0.0.0.0: $(cat "$TMPDIR_TEST/s2.log")"
tok=${url#*token=}
[ "$(http "mcdB$$" GET "http://$teacher_ip:$WPORT/")" = 403 ] || fail "remote, no token: not 403"
[ "$(http "mcdB$$" GET "http://$teacher_ip:$WPORT/?token=$tok")" = 200 ] || fail "remote, token: not 200"
[ "$(http "mcdB$$" POST "http://$teacher_ip:$WPORT/control?token=$tok&action=end")" = 202 ] ||
    fail "remote end with the token"
for _ in $(seq 100); do kill -0 "$SENDER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SENDER" 2>/dev/null && fail "mcshare still runs after a remote End"
wait "$SENDER" || fail "mcshare exited with status $? after a remote End"
log "0.0.0.0: 403 without the token, 200 and End with it"
log "PASS"
