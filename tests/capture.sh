#!/bin/bash
# Runs test_capture against a private Xvfb (320x200), then checks that
# mcshare refuses a --region outside that screen, naming the screen's size
# (it used to send the test pattern instead). Exit 77 = skipped.
TEST=${1:?usage: $0 TEST_CAPTURE_BINARY MCSHARE}
MCSHARE=${2:?usage: $0 TEST_CAPTURE_BINARY MCSHARE}
command -v Xvfb >/dev/null || { echo "SKIP: Xvfb missing" >&2; exit 77; }
for n in $(seq $(( 600 + $$ % 300 )) 999); do
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || break
done
Xvfb ":$n" -screen 0 320x200x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
DISPLAY=":$n" "$TEST" || exit 1
export XDG_CONFIG_HOME=$(mktemp -d)
trap 'kill $XPID 2>/dev/null; rm -rf "$XDG_CONFIG_HOME"' EXIT
for how in "" "--display :$n"; do
    # shellcheck disable=SC2086
    out=$(DISPLAY=":$n" "$MCSHARE" $how --region 2000x2000+0+0 --duration 1 2>&1)
    rc=$?
    if [ $rc != 1 ] || ! echo "$out" | grep -q "region 2000x2000+0+0 lies outside the screen of display ':$n', which is 320x200" ||
        echo "$out" | grep -q "broadcasting"; then
        echo "FAIL: mcshare $how --region outside the screen: exit $rc: $out"
        exit 1
    fi
done
echo "ok: a region outside the screen is refused with the screen's size"
# The monitors: RandR lists one on Xvfb; --monitor by number or name
# chooses it, an unknown one is refused with the list.
out=$(DISPLAY=":$n" "$MCSHARE" --list-monitors 2>/dev/null)
[ "$out" = "0 screen 320x200+0+0" ] || { echo "FAIL: --list-monitors: '$out'"; exit 1; }
out=$(DISPLAY=":$n" "$MCSHARE" --monitor HDMI-9 --duration 1 2>&1)
rc=$?
if [ $rc != 1 ] || ! echo "$out" | grep -q "has no monitor 'HDMI-9' (it has 0 'screen' 320x200+0+0)"; then
    echo "FAIL: --monitor unknown: exit $rc: $out"
    exit 1
fi
out=$(DISPLAY=":$n" "$MCSHARE" --monitor 0 --region 10x10+0+0 --duration 1 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "choose one" || { echo "FAIL: --monitor with --region: $out"; exit 1; }
echo "ok: --list-monitors, --monitor unknown, --monitor with --region"
