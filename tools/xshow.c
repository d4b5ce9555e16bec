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
#include <errno.h>
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

/* Splits line into at most max words (in copy): how many. */
static int words(const char *line, char *copy, char **w, int max)
{
    snprintf(copy, 4096, "%s", line);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, " \t\r\n", &save); t && n < max;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = t;
    return n;
}

/* A whole number in [lo, hi] in this base: 1 and *out, or 0. */
static int num(const char *text, long lo, long hi, int base, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, base);
    if (end == text || *end || errno || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
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
        char copy[4096], *w[8] = {0};
        int nw = words(line, copy, w, 8);
        long a = 0, b = 0, c = 0, e = 0, rgb = 0;
        if (!nw)
            continue;
        const char *cmd = w[0];
        if (!strcmp(cmd, "quit"))
            break;
        if (!strcmp(cmd, "load") && nw == 3 && num(w[1], 0, SLOTS - 1, 10, &a)) {
            if (load_ppm(w[2], &slots[a]))
                fprintf(stderr, "xshow: line %d: cannot read %s as a binary PPM\n", ln, w[2]);
        } else if (!strcmp(cmd, "show") && (nw == 2 || nw == 3) && num(w[1], 0, SLOTS - 1, 10, &a) &&
                   (nw == 2 || num(w[2], -100000, 100000, 10, &b)) && slots[a].px) {
            picture *p = &slots[a];
            int off = b < 0 ? 0 : (int)b;
            for (int y = 0; y < sh; y++)
                for (int x = 0; x < sw; x++)
                    frame[(size_t)y * sw + x] =
                        x < p->w && y + off < p->h ? p->px[(size_t)(y + off) * p->w + x] : 0;
            XPutImage(d, pm, gc, img, 0, 0, 0, 0, (unsigned)sw, (unsigned)sh);
            XClearWindow(d, win);
        } else if (!strcmp(cmd, "fill") && nw == 6 && num(w[1], -100000, 100000, 10, &a) &&
                   num(w[2], -100000, 100000, 10, &b) && num(w[3], 1, 100000, 10, &c) &&
                   num(w[4], 1, 100000, 10, &e) && num(w[5], 0, 0xFFFFFF, 16, &rgb)) {
            XSetForeground(d, gc, (unsigned long)rgb);
            XFillRectangle(d, pm, gc, (int)a, (int)b, (unsigned)c, (unsigned)e);
            XClearArea(d, win, (int)a, (int)b, (unsigned)c, (unsigned)e, False);
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
