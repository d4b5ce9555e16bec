/* xshow: puts pictures on an X screen on command, for tests and benchmarks
 * (a slide, a code page scrolled a line at a time, a square that flips).
 * One window covering the screen, without decorations; commands on stdin,
 * one per line:
 *
 *   load SLOT FILE.ppm     read a binary PPM into slot 0..7
 *   show SLOT [Y]          show the slot's picture from row Y (default 0)
 *   fill X Y W H RRGGBB    fill a rectangle with a colour
 *   sync                   wait until the X server has drawn everything,
 *                          then print "ok" and the monotonic clock in us
 *   quit
 *
 * Errors go to stderr with the line number; the program goes on.
 */
#define _POSIX_C_SOURCE 200809L
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 8

typedef struct {
    int w, h;
    uint32_t *px; /* 0x00RRGGBB */
} picture;

static picture slots[SLOTS];

static int load_ppm(const char *path, picture *p)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int w, h, mx, rc = -1;
    if (fscanf(f, "P6 %d %d %d", &w, &h, &mx) == 3 && mx == 255 && fgetc(f) != EOF && w > 0 &&
        h > 0 && w <= 16384 && h <= 65536) {
        unsigned char *rgb = malloc((size_t)w * h * 3);
        uint32_t *px = malloc((size_t)w * h * 4);
        if (rgb && px && fread(rgb, 3, (size_t)w * h, f) == (size_t)w * h) {
            for (size_t i = 0; i < (size_t)w * h; i++)
                px[i] = (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
            free(p->px);
            *p = (picture){w, h, px};
            px = NULL;
            rc = 0;
        }
        free(rgb);
        free(px);
    }
    fclose(f);
    return rc;
}

static unsigned long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000ull + (unsigned long long)t.tv_nsec / 1000u;
}

int main(void)
{
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "xshow: cannot open the display (is $DISPLAY set?)\n");
        return 1;
    }
    int scr = DefaultScreen(d), sw = DisplayWidth(d, scr), sh = DisplayHeight(d, scr);
    XSetWindowAttributes wa = {.override_redirect = True, .background_pixel = BlackPixel(d, scr)};
    Window win = XCreateWindow(d, RootWindow(d, scr), 0, 0, (unsigned)sw, (unsigned)sh, 0,
                               CopyFromParent, InputOutput, CopyFromParent,
                               CWOverrideRedirect | CWBackPixel, &wa);
    Pixmap pm = XCreatePixmap(d, win, (unsigned)sw, (unsigned)sh, (unsigned)DefaultDepth(d, scr));
    GC gc = XCreateGC(d, pm, 0, NULL);
    XSetForeground(d, gc, BlackPixel(d, scr));
    XFillRectangle(d, pm, gc, 0, 0, (unsigned)sw, (unsigned)sh);
    XSetWindowBackgroundPixmap(d, win, pm); /* the server redraws exposures itself */
    XMapRaised(d, win);
    XSync(d, False);
    uint32_t *frame = calloc((size_t)sw * sh, 4);
    XImage *img = XCreateImage(d, DefaultVisual(d, scr), (unsigned)DefaultDepth(d, scr), ZPixmap, 0,
                               (char *)frame, (unsigned)sw, (unsigned)sh, 32, sw * 4);
    if (!frame || !img) {
        fprintf(stderr, "xshow: out of memory\n");
        return 1;
    }
    char line[4096];
    for (int ln = 1; fgets(line, sizeof(line), stdin); ln++) {
        char cmd[16] = "", arg[4000] = "";
        int a = 0, b = 0, c = 0, e = 0;
        unsigned rgb = 0;
        if (sscanf(line, "%15s", cmd) != 1)
            continue;
        if (!strcmp(cmd, "quit"))
            break;
        if (!strcmp(cmd, "load") && sscanf(line, "%*s %d %3999s", &a, arg) == 2 && a >= 0 &&
            a < SLOTS) {
            if (load_ppm(arg, &slots[a]))
                fprintf(stderr, "xshow: line %d: cannot read %s as a binary PPM\n", ln, arg);
        } else if (!strcmp(cmd, "show") && sscanf(line, "%*s %d %d", &a, &b) >= 1 && a >= 0 &&
                   a < SLOTS && slots[a].px) {
            picture *p = &slots[a];
            b = b < 0 ? 0 : b;
            for (int y = 0; y < sh; y++)
                for (int x = 0; x < sw; x++)
                    frame[(size_t)y * sw + x] =
                        x < p->w && y + b < p->h ? p->px[(size_t)(y + b) * p->w + x] : 0;
            XPutImage(d, pm, gc, img, 0, 0, 0, 0, (unsigned)sw, (unsigned)sh);
            XClearWindow(d, win);
        } else if (!strcmp(cmd, "fill") &&
                   sscanf(line, "%*s %d %d %d %d %x", &a, &b, &c, &e, &rgb) == 5 && c > 0 && e > 0) {
            XSetForeground(d, gc, rgb);
            XFillRectangle(d, pm, gc, a, b, (unsigned)c, (unsigned)e);
            XClearArea(d, win, a, b, (unsigned)c, (unsigned)e, False);
        } else if (!strcmp(cmd, "sync")) {
            XSync(d, False);
            printf("ok %llu\n", now_us());
            fflush(stdout);
        } else {
            fprintf(stderr, "xshow: line %d: cannot do '%.*s'\n", ln, (int)strcspn(line, "\n"), line);
        }
        XFlush(d);
    }
    XSync(d, False);
    XCloseDisplay(d);
    return 0;
}
