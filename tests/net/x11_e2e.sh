#!/bin/bash
# A real screen end to end: mcshare captures an Xvfb display showing a known
# image in one namespace; mcview --fullscreen shows it on a second Xvfb
# display in another. A screenshot of the second display must match the
# image (PSNR >= 35 dB at the default quality), and again after the image
# on the source display changes.
TEST_NAME=x11_e2e
BIN=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
need_root_netns
for c in Xvfb import compare convert display; do
    command -v $c >/dev/null || skip "$c missing (tools/check installs xvfb and imagemagick)"
done
make_pair "mcxA$$" "mcxB$$" 202
GROUP=$(unique_group 2)
W=1024 H=640

DS=$(pick_display); start_xvfb "mcxA$$" "$DS" "${W}x$H"
DV=$(pick_display); start_xvfb "mcxB$$" "$DV" "${W}x$H"

# Screen-like test images: text, lines and flat colours, like a slide.
make_image() { # FILE BG FG TEXT
    convert -size ${W}x${H} "xc:$2" -fill "$3" -stroke "$3" \
        -draw "rectangle 40,40 600,200" -fill white -stroke none \
        -font DejaVu-Sans -pointsize 28 -annotate +60,120 "$4" \
        -fill "$3" -pointsize 22 -annotate +60,300 "The quick brown fox jumps over the lazy dog 0123456789" \
        -annotate +60,340 "mcshare end-to-end test: $4" \
        -draw "circle 800,450 880,450" -draw "line 40,560 980,600" "$1"
}
SHOW_PID=
show_image() { # FILE: a borderless full-screen window (no window manager runs)
    local old=$SHOW_PID
    start_bg ip netns exec "mcxA$$" env DISPLAY=":$DS" display -geometry +0+0 -borderwidth 0 "$1"
    SHOW_PID=$LAST_PID
    sleep 0.5
    [ -n "$old" ] && kill "$old" 2>/dev/null
    kill -0 "$SHOW_PID" 2>/dev/null || fail "cannot show $1"
}
# wait_match REF SECONDS: screenshot the viewer until it matches.
wait_match() {
    local ref=$1 deadline=$(( $(date +%s) + $2 )) psnr=0
    while [ "$(date +%s)" -le "$deadline" ]; do
        kill -0 "$VIEW_PID" 2>/dev/null || fail "mcview exited"
        ip netns exec "mcxB$$" env DISPLAY=":$DV" import -window root "$TMPDIR_TEST/shot.png" 2>/dev/null
        psnr=$(compare -metric PSNR "$ref" "$TMPDIR_TEST/shot.png" null: 2>&1 | cut -d' ' -f1)
        case $psnr in inf) psnr=99 ;; esac
        if python3 -c "import sys; sys.exit(0 if float('$psnr') >= 35 else 1)" 2>/dev/null; then
            log "viewer matches $(basename "$ref"): PSNR $psnr dB"
            return 0
        fi
        sleep 0.3
    done
    cp "$TMPDIR_TEST/shot.png" "/tmp/x11_e2e_fail_$$.png"
    fail "viewer did not match $(basename "$ref") within $2 s (last PSNR $psnr dB; screenshot /tmp/x11_e2e_fail_$$.png)"
}

make_image "$TMPDIR_TEST/a.png" "#2a4d7a" "#f0c040" "Slide one — fractions"
make_image "$TMPDIR_TEST/b.png" "#f4f2ee" "#a02020" "Slide two — decimals"
show_image "$TMPDIR_TEST/a.png"

start_bg ip netns exec "mcxA$$" "$BIN/mcshare" --display ":$DS" --source x11 --cursor off \
    --group "$GROUP" --iface "$IF_A" --fps 30 --duration 60
SENDER=$LAST_PID
# Leak checking is off for mcview alone: SDL unloads the X11 helper
# libraries it dlopen()ed, so LeakSanitizer cannot name (or suppress) their
# process-lifetime allocations. The library code mcview runs is leak-checked
# by the unit tests and by mcprobe.
start_bg ip netns exec "mcxB$$" env DISPLAY=":$DV" SDL_AUDIODRIVER=dummy \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$BIN/mcview" "$GROUP" --iface "$IF_B" --fullscreen
VIEW_PID=$LAST_PID
wait_match "$TMPDIR_TEST/a.png" 10
show_image "$TMPDIR_TEST/b.png"
wait_match "$TMPDIR_TEST/b.png" 5
stop_checked "$VIEW_PID" mcview
stop_checked "$SENDER" mcshare
log "ok"
