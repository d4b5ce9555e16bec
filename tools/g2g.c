/* g2g: glass-to-glass latency between two X screens on one machine.
 *
 *   g2g --from :A --to :B [--count N] [--size PX] [--x X --y Y]
 *       [--gap MIN-MAX] [--timeout MS] [--json]
 *
 * Flips a square between black and white on display A (a window of its
 * own, on top), and watches the same spot of display B, where a viewer
 * (mcview --fullscreen at A's size) shows A. The time from the flip being
 * drawn on A (XSync returned) to B showing the new colour is one sample.
 * Flips are spaced by a random gap (default 150-350 ms), so they fall at
 * every phase of the sender's capture clock. Both displays share this
 * machine's monotonic clock: the figures are exact to the polling step
 * (about 0.2 ms). Prints p50/p90/max, or with --json one object.
 * Exit status: 0, 1 when a flip never arrived within --timeout, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    long long ns = (long long)(ms * 1e6);
    struct timespec t = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    nanosleep(&t, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
    if (n == 0)
        return 0;
    double k = p / 100.0 * (n - 1);
    int i = (int)k;
    return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * (k - i) : sorted[n - 1];
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: g2g --from :A --to :B [--count N] [--size PX] [--x X --y Y]\n"
               "           [--gap MIN-MAX] [--timeout MS] [--json]\n"
               "Flips a square on display A and times until display B shows it.\n");
}

/* Brightness of the pixel at x, y of B's root window: 0..255. */
static int probe(Display *d, Window root, int x, int y)
{
    XImage *img = XGetImage(d, root, x, y, 1, 1, AllPlanes, ZPixmap);
    if (!img)
        return -1;
    unsigned long p = XGetPixel(img, 0, 0);
    XDestroyImage(img);
    return (int)(((p >> 16 & 0xFF) + (p >> 8 & 0xFF) + (p & 0xFF)) / 3);
}

int main(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    int count = 40, size = 64, x = 32, y = 32, json = 0;
    double gap_min = 150, gap_max = 350, timeout = 2000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "g2g: %s needs a value\n", a);
            return 2;
        }
        i++;
        char *end = NULL;
        if (!strcmp(a, "--from"))
            from = v;
        else if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--count"))
            count = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--size"))
            size = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--x"))
            x = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--y"))
            y = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--timeout"))
            timeout = strtod(v, &end);
        else if (!strcmp(a, "--gap")) {
            char *dash;
            gap_min = strtod(v, &dash);
            if (dash == v || *dash != '-' || (gap_max = strtod(dash + 1, &end), end == dash + 1) ||
                *end || gap_min < 0 || gap_max < gap_min) {
                fprintf(stderr, "g2g: --gap expects MIN-MAX in ms\n");
                return 2;
            }
        } else {
            fprintf(stderr, "g2g: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (end && *end) {
            fprintf(stderr, "g2g: invalid %s '%s'\n", a, v);
            return 2;
        }
    }
    if (!from || !to || count < 1 || count > 100000 || size < 4 || x < 0 || y < 0 || timeout <= 0) {
        usage(stderr);
        return 2;
    }
    Display *a = XOpenDisplay(from), *b = XOpenDisplay(to);
    if (!a || !b) {
        fprintf(stderr, "g2g: cannot open display %s\n", a ? to : from);
        return 1;
    }
    int sa = DefaultScreen(a);
    XSetWindowAttributes attr = {.override_redirect = True,
                                 .background_pixel = BlackPixel(a, sa)};
    Window w = XCreateWindow(a, RootWindow(a, sa), x, y, (unsigned)size, (unsigned)size, 0,
                             CopyFromParent, InputOutput, CopyFromParent,
                             CWOverrideRedirect | CWBackPixel, &attr);
    XMapRaised(a, w);
    GC gc = XCreateGC(a, w, 0, NULL);
    XSync(a, False);
    Window rb = DefaultRootWindow(b);
    int cx = x + size / 2, cy = y + size / 2;
    /* Wait until B shows the square black (the viewer is live). */
    double t_start = now_ms();
    while (probe(b, rb, cx, cy) > 64) {
        if (now_ms() - t_start > 10000) {
            fprintf(stderr, "g2g: display %s never showed the square (is the viewer live?)\n", to);
            return 1;
        }
        sleep_ms(5);
    }
    double *lat = calloc((size_t)count, sizeof(double));
    if (!lat)
        return 1;
    unsigned seed = 12345;
    int white = 0, lost = 0;
    for (int k = 0; k < count; k++) {
        seed = seed * 1103515245u + 12345u;
        sleep_ms(gap_min + (gap_max - gap_min) * (double)(seed >> 8 & 0xFFFF) / 65535.0);
        white = !white;
        XSetForeground(a, gc, white ? WhitePixel(a, sa) : BlackPixel(a, sa));
        XFillRectangle(a, w, gc, 0, 0, (unsigned)size, (unsigned)size);
        XSync(a, False);
        double t0 = now_ms(), t;
        for (;;) {
            int v = probe(b, rb, cx, cy);
            t = now_ms();
            if (v >= 0 && (white ? v > 192 : v < 64))
                break;
            if (t - t0 > timeout)
                break;
            sleep_ms(0.2);
        }
        if (t - t0 > timeout) {
            lost++;
            lat[k] = timeout;
            continue;
        }
        lat[k] = t - t0;
    }
    qsort(lat, (size_t)count, sizeof(double), cmp_double);
    double sum = 0;
    for (int k = 0; k < count; k++)
        sum += lat[k];
    if (json)
        printf("{\"samples\":%d,\"lost\":%d,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"max_ms\":%.2f,"
               "\"min_ms\":%.2f,\"mean_ms\":%.2f}\n",
               count, lost, pct(lat, count, 50), pct(lat, count, 90), lat[count - 1], lat[0],
               sum / count);
    else
        printf("g2g: %d flips, %d never arrived: p50 %.1f ms, p90 %.1f ms, max %.1f ms "
               "(min %.1f)\n",
               count, lost, pct(lat, count, 50), pct(lat, count, 90), lat[count - 1], lat[0]);
    free(lat);
    XFreeGC(a, gc);
    XDestroyWindow(a, w);
    XCloseDisplay(a);
    XCloseDisplay(b);
    return lost ? 1 : 0;
}
