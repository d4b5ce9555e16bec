#!/bin/bash
# Runs test_capture against a private Xvfb (320x200). Exit 77 = skipped.
TEST=${1:?usage: $0 TEST_CAPTURE_BINARY}
command -v Xvfb >/dev/null || { echo "SKIP: Xvfb missing" >&2; exit 77; }
for n in $(seq $(( 600 + $$ % 300 )) 999); do
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || break
done
Xvfb ":$n" -screen 0 320x200x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
DISPLAY=":$n" "$TEST"
