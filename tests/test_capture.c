/* X11 capture against a real (Xvfb) server: the pixels are right with
 * MIT-SHM and with the XGetImage fallback, regions are honoured, and the
 * DAMAGE logic reports "unchanged" only when nothing changed. Needs
 * $DISPLAY; tests/capture.sh starts an Xvfb for it. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "mc/capture.h"
#include "mc/testsrc.h"
#include "mc/common.h"
#include "test.h"

static Display *dpy;
static Window win;
static GC gc;

/* Paints a rectangle of the helper window (which covers the screen). */
static void paint(int x, int y, int w, int h, unsigned long rgb)
{
    XSetForeground(dpy, gc, rgb);
    XFillRectangle(dpy, win, gc, x, y, (unsigned)w, (unsigned)h);
    XSync(dpy, False);
}

static uint32_t px(const uint8_t *p, int pitch, int x, int y)
{
    const uint8_t *q = p + (size_t)y * pitch + (size_t)x * 4;
    return (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

/* Grabs until the capture reports a change (the server's damage event may
 * arrive a moment after our XSync), at most 2 s. */
static const uint8_t *grab_changed(mc_capture *c, int *pitch)
{
    const uint8_t *p;
    int changed = 0;
    for (int i = 0; i < 200 && !changed; i++) {
        ASSERT_EQ_INT(mc_capture_grab(c, 0, &p, pitch, &changed), 0);
        if (!changed)
            mc_sleep_until_us(mc_now_us() + 10000);
    }
    ASSERT_TRUE(changed);
    return p;
}

static void run(int no_shm)
{
    mc_capture_config cfg = {.cursor = 0, .no_shm = no_shm};
    mc_capture *c;
    char why[256];
    ASSERT_EQ_INT(mc_capture_create(&cfg, &c, why, sizeof(why)), 0);
    ASSERT_EQ_INT(mc_capture_x11_uses_shm(c), !no_shm);
    int w, h, pitch, changed;
    mc_capture_size(c, &w, &h);
    ASSERT_TRUE(w == 320 && h == 200);
    paint(0, 0, 320, 200, 0x102030);
    paint(10, 20, 30, 40, 0xFF8000);
    const uint8_t *p = grab_changed(c, &pitch);
    ASSERT_EQ_INT(px(p, pitch, 5, 5), 0x102030);
    ASSERT_EQ_INT(px(p, pitch, 10, 20), 0xFF8000);
    ASSERT_EQ_INT(px(p, pitch, 39, 59), 0xFF8000);
    ASSERT_EQ_INT(px(p, pitch, 40, 60), 0x102030);
    if (mc_capture_x11_uses_damage(c)) {
        ASSERT_EQ_INT(mc_capture_reports_changes(c), 1);
        /* Drain any damage still in flight, then nothing changes: the
         * capture must say so (that is what makes a static screen cheap). */
        mc_sleep_until_us(mc_now_us() + 100000);
        ASSERT_EQ_INT(mc_capture_grab(c, 0, &p, &pitch, &changed), 0);
        ASSERT_EQ_INT(mc_capture_grab(c, 0, &p, &pitch, &changed), 0);
        ASSERT_EQ_INT(changed, 0);
        ASSERT_EQ_INT(px(p, pitch, 10, 20), 0xFF8000); /* the last picture stays */
        /* Nothing changes: waiting times out. */
        uint64_t t0 = mc_now_us();
        ASSERT_EQ_INT(mc_capture_wait(c, 50000), 0);
        ASSERT_TRUE(mc_now_us() - t0 >= 45000);
        paint(100, 100, 8, 8, 0x00FF00); /* one small change must be seen */
        ASSERT_EQ_INT(mc_capture_wait(c, 2000000), 1); /* and wakes the wait */
        p = grab_changed(c, &pitch);
        ASSERT_EQ_INT(px(p, pitch, 103, 103), 0x00FF00);
    }
    mc_capture_destroy(c);

    /* A region: pixel (0,0) of the capture is (10,20) of the screen. */
    mc_capture_config rc = {.x = 10, .y = 20, .w = 64, .h = 48, .no_shm = no_shm};
    ASSERT_EQ_INT(mc_capture_create(&rc, &c, why, sizeof(why)), 0);
    p = grab_changed(c, &pitch);
    ASSERT_EQ_INT(px(p, pitch, 0, 0), 0xFF8000);
    ASSERT_EQ_INT(px(p, pitch, 63, 47), 0x102030);
    mc_capture_destroy(c);
    mc_capture_config bad = {.x = 300, .y = 0, .w = 64, .h = 48};
    ASSERT_EQ_INT(mc_capture_create(&bad, &c, why, sizeof(why)), MC_EINVAL); /* outside */
    ASSERT_TRUE(strstr(why, "--region 64x48+300+0 lies outside the screen") != NULL);
    ASSERT_TRUE(strstr(why, "which is 320x200") != NULL);
}

static void test_capture_shm(void) { run(0); }
static void test_capture_xgetimage_fallback(void) { run(1); }

static void test_capture_no_display(void)
{
    mc_capture_config cfg = {.display = ":999"};
    mc_capture *c = (mc_capture *)1;
    char why[256];
    ASSERT_EQ_INT(mc_capture_create(&cfg, &c, why, sizeof(why)), MC_EDISPLAY);
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(strstr(why, "cannot open the X display ':999'") != NULL);
    mc_capture_destroy(NULL);
    mc_capture_config none = {.backend = "nosuch"};
    ASSERT_EQ_INT(mc_capture_create(&none, &c, why, sizeof(why)), MC_EINVAL);
    ASSERT_TRUE(strstr(why, "no capture backend 'nosuch'") != NULL);
}

/* The test patterns behind the same interface: the size asked for, the
 * pattern of mc/testsrc.h for the frame asked for, no change reports. */
static void test_capture_test_patterns(void)
{
    char why[256];
    mc_capture *c;
    mc_capture_config cfg = {.backend = "test", .width = 96, .height = 64};
    ASSERT_EQ_INT(mc_capture_create(&cfg, &c, why, sizeof(why)), 0);
    int w, h, pitch, changed;
    mc_capture_size(c, &w, &h);
    ASSERT_TRUE(w == 96 && h == 64);
    ASSERT_EQ_INT(mc_capture_reports_changes(c), 0);
    ASSERT_EQ_INT(mc_capture_wait(c, 1000000), 1); /* cannot tell: at once */
    static uint8_t want[96 * 64 * 4];
    const uint8_t *p;
    for (uint32_t f = 1; f < 4; f++) {
        ASSERT_EQ_INT(mc_capture_grab(c, f * 11, &p, &pitch, &changed), 0);
        mc_testsrc_render(want, 96 * 4, 96, 64, f * 11);
        ASSERT_EQ_INT(pitch, 96 * 4);
        ASSERT_TRUE(changed && !memcmp(p, want, sizeof(want)));
    }
    ASSERT_TRUE(!strcmp(mc_capture_backend_name(c), "test"));
    mc_capture_destroy(c);
    mc_capture_config vc = {.backend = "test-video", .width = 64, .height = 32};
    ASSERT_EQ_INT(mc_capture_create(&vc, &c, why, sizeof(why)), 0);
    static uint8_t a[64 * 32 * 4];
    ASSERT_EQ_INT(mc_capture_grab(c, 3, &p, &pitch, &changed), 0);
    memcpy(a, p, sizeof(a));
    ASSERT_EQ_INT(mc_capture_grab(c, 4, &p, &pitch, &changed), 0);
    ASSERT_TRUE(memcmp(a, p, sizeof(a)) != 0); /* every frame differs */
    ASSERT_EQ_INT(mc_capture_grab(c, 3 + 8, &p, &pitch, &changed), 0);
    ASSERT_TRUE(memcmp(a, p, sizeof(a)) == 0); /* a cycle of 8 rendered ahead */
    mc_capture_destroy(c);
}

int main(void)
{
    test_limit_seconds(60);
    dpy = XOpenDisplay(NULL);
    if (!dpy) {
        fprintf(stderr, "test_capture: no X display (run through tests/capture.sh)\n");
        return 77;
    }
    XSetWindowAttributes a = {.override_redirect = True, .background_pixel = 0};
    win = XCreateWindow(dpy, DefaultRootWindow(dpy), 0, 0, 320, 200, 0, CopyFromParent,
                        InputOutput, CopyFromParent, CWOverrideRedirect | CWBackPixel, &a);
    XMapRaised(dpy, win);
    gc = XCreateGC(dpy, win, 0, NULL);
    XSync(dpy, False);
    RUN(test_capture_shm);
    RUN(test_capture_xgetimage_fallback);
    RUN(test_capture_no_display);
    RUN(test_capture_test_patterns);
    XFreeGC(dpy, gc);
    XCloseDisplay(dpy);
    return 0;
}
