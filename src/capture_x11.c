/* The X11 capture backend (mc/capture.h): XShm where possible,
 * XGetSubImage as the fallback, the cursor drawn in from XFixes, DAMAGE
 * to grab only when the screen changed and to wake on a change. */
#include <stdio.h>

#include "capture_internal.h"
#include "mc/capture.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "mc/common.h"

typedef struct {
    Display *dpy;
    Window root;
    int x, y, w, h;
    int cursor, have_xfixes, use_shm;
    int damage_event; /* DAMAGE extension's first event code, -1 = none */
    Damage damage;
    XserverRegion scratch;
    int grabbed;      /* a picture is in the buffer */
    int ptr_x, ptr_y; /* pointer position at the last grab */
    int cursor_event; /* XFixesCursorNotify event code, -1 = none */
    XImage *img;
    XShmSegmentInfo shm;
    uint8_t *mem; /* XGetSubImage path: our own buffer */
    char name[64]; /* the display's name */
} x11_cap;

/* Set by the error handler: XShmAttach fails with an X error (not a return
 * value) when the server cannot reach our segment, e.g. over the network. */
static int x_error_seen;

static int on_x_error(Display *dpy, XErrorEvent *ev)
{
    (void)dpy;
    (void)ev;
    x_error_seen = 1;
    return 0;
}

static int attach_shm(x11_cap *c, Visual *vis, int depth)
{
    if (!XShmQueryExtension(c->dpy))
        return 0;
    c->img = XShmCreateImage(c->dpy, vis, (unsigned)depth, ZPixmap, NULL, &c->shm,
                             (unsigned)c->w, (unsigned)c->h);
    if (!c->img)
        return 0;
    c->shm.shmid = shmget(IPC_PRIVATE, (size_t)c->img->bytes_per_line * c->h, IPC_CREAT | 0600);
    if (c->shm.shmid < 0)
        goto fail;
    c->shm.shmaddr = c->img->data = shmat(c->shm.shmid, NULL, 0);
    /* Marked for removal now, so it disappears even if we are killed. */
    shmctl(c->shm.shmid, IPC_RMID, NULL);
    if (c->shm.shmaddr == (char *)-1)
        goto fail;
    c->shm.readOnly = False;
    x_error_seen = 0;
    XErrorHandler old = XSetErrorHandler(on_x_error);
    XShmAttach(c->dpy, &c->shm);
    XSync(c->dpy, False);
    XSetErrorHandler(old);
    if (x_error_seen) {
        shmdt(c->shm.shmaddr);
        goto fail;
    }
    return 1;
fail:
    c->img->data = NULL;
    XDestroyImage(c->img);
    c->img = NULL;
    return 0;
}

static int create_plain_image(x11_cap *c, Visual *vis, int depth)
{
    c->mem = malloc((size_t)c->w * c->h * 4);
    if (!c->mem)
        return MC_ENOMEM;
    c->img = XCreateImage(c->dpy, vis, (unsigned)depth, ZPixmap, 0, (char *)c->mem,
                          (unsigned)c->w, (unsigned)c->h, 32, c->w * 4);
    return c->img ? 0 : MC_ENOMEM;
}

static void x11_close(void *state);
static int x11_monitors(void *state, mc_monitor *out, int max);

static int x11_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    *state = NULL;
    x11_cap *c = calloc(1, sizeof(*c));
    if (!c)
        return MC_ENOMEM;
    int err = MC_EDISPLAY;
    const char *d = cfg->display ? cfg->display : getenv("DISPLAY");
    snprintf(c->name, sizeof(c->name), "%s", d ? d : "");
    c->dpy = XOpenDisplay(cfg->display);
    if (!c->dpy) {
        snprintf(why, cap, "cannot open the X display '%s'", d ? d : "(none: $DISPLAY is unset)");
        goto fail;
    }
    int scr = DefaultScreen(c->dpy);
    c->root = RootWindow(c->dpy, scr);
    Visual *vis = DefaultVisual(c->dpy, scr);
    int depth = DefaultDepth(c->dpy, scr);
    int sw = DisplayWidth(c->dpy, scr), sh = DisplayHeight(c->dpy, scr);
    err = MC_ECAPTURE;
    if ((depth != 24 && depth != 32) || vis->red_mask != 0xFF0000 || vis->blue_mask != 0xFF) {
        snprintf(why, cap, "display '%s' has depth %d; only 24/32-bit BGRX screens can be "
                 "captured", c->name, depth);
        goto fail;
    }
    c->x = cfg->x;
    c->y = cfg->y;
    c->w = cfg->w ? cfg->w : sw;
    c->h = cfg->h ? cfg->h : sh;
    err = MC_EINVAL;
    if (cfg->monitor) { /* a monitor: its part of the screen */
        mc_monitor m[16];
        int n = x11_monitors(c, m, 16), i = mc__monitor_pick(m, n, cfg->monitor);
        if (cfg->w) {
            snprintf(why, cap, "--monitor and --region together: choose one");
            goto fail;
        }
        if (i < 0) {
            char list[256];
            mc__monitor_names(m, n, list, sizeof(list));
            snprintf(why, cap, "display '%s' has no monitor '%s' (it has %s)", c->name, cfg->monitor,
                     list);
            goto fail;
        }
        c->x = m[i].x, c->y = m[i].y, c->w = m[i].w, c->h = m[i].h;
    }
    if (c->x < 0 || c->y < 0 || c->x + c->w > sw || c->y + c->h > sh) {
        snprintf(why, cap, "--region %dx%d+%d+%d lies outside the screen of display '%s', which "
                 "is %dx%d", c->w, c->h, c->x, c->y, c->name, sw, sh);
        goto fail;
    }
    c->use_shm = !cfg->no_shm && attach_shm(c, vis, depth);
    err = c->use_shm ? 0 : create_plain_image(c, vis, depth);
    if (err)
        goto fail;
    err = MC_ECAPTURE;
    if (c->img->bits_per_pixel != 32)
        goto fail;
    int ev, er;
    c->have_xfixes = XFixesQueryExtension(c->dpy, &ev, &er);
    c->cursor = cfg->cursor && c->have_xfixes;
    c->damage_event = -1;
    c->cursor_event = -1;
    if (c->cursor) { /* shape changes (arrow -> I-beam) come as events */
        XFixesSelectCursorInput(c->dpy, c->root, XFixesDisplayCursorNotifyMask);
        c->cursor_event = ev + XFixesCursorNotify;
    }
    if (c->have_xfixes && !cfg->no_damage && XDamageQueryExtension(c->dpy, &ev, &er)) {
        /* NonEmpty: one event when the screen goes from clean to damaged;
         * we clear it after each grab. */
        c->damage = XDamageCreate(c->dpy, c->root, XDamageReportNonEmpty);
        c->scratch = XFixesCreateRegion(c->dpy, NULL, 0);
        c->damage_event = ev + XDamageNotify;
    }
    *state = c;
    return 0;
fail:
    x11_close(c);
    return err;
}

static void x11_size(void *state, int *w, int *h)
{
    const x11_cap *c = state;
    *w = c->w;
    *h = c->h;
}

int mc_capture_x11_uses_shm(const mc_capture *cap)
{
    const x11_cap *c = mc__capture_state(cap);
    return c && c->use_shm;
}

int mc_capture_x11_uses_damage(const mc_capture *cap)
{
    const x11_cap *c = mc__capture_state(cap);
    return c && c->damage_event >= 0;
}

static void x11_describe(void *state, char *out, size_t cap)
{
    const x11_cap *c = state;
    snprintf(out, cap, "X11 %s, %s%s", c->name, c->use_shm ? "MIT-SHM" : "XGetImage",
             c->damage_event >= 0 ? ", DAMAGE" : "");
}

/* Drains pending events; returns 1 if the screen was damaged since the
 * damage was last cleared. Reads only what the server already sent. */
static int damage_pending(x11_cap *c)
{
    int damaged = 0;
    while (XPending(c->dpy)) {
        XEvent e;
        XNextEvent(c->dpy, &e);
        if (e.type == c->damage_event || e.type == c->cursor_event)
            damaged = 1;
    }
    return damaged;
}

static int x11_wait(void *state, uint64_t timeout_us)
{
    x11_cap *c = state;
    if (c->damage_event < 0)
        return 1;
    uint64_t end = mc_now_us() + timeout_us;
    for (;;) {
        /* Events already read from the socket, or arriving now. */
        while (XPending(c->dpy)) {
            XEvent e;
            XPeekEvent(c->dpy, &e);
            if (e.type == c->damage_event || e.type == c->cursor_event)
                return 1; /* left queued: the grab reads it */
            XNextEvent(c->dpy, &e); /* something else: not a change */
        }
        uint64_t now = mc_now_us();
        if (now >= end)
            return 0;
        struct pollfd p = {.fd = ConnectionNumber(c->dpy), .events = POLLIN};
        int ms = (int)((end - now + 999) / 1000);
        int r = poll(&p, 1, ms);
        if (r < 0)
            return errno == EINTR ? 0 : 1; /* a signal (Ctrl-C): let the caller look */
        if (r == 0 && mc_now_us() >= end)
            return 0;
    }
}

/* 1 if the pointer moved or changed shape since the last grab. */
static int cursor_changed(x11_cap *c)
{
    Window rw, cw;
    int x, y, wx, wy;
    unsigned mask;
    if (!XQueryPointer(c->dpy, c->root, &rw, &cw, &x, &y, &wx, &wy, &mask))
        return 0;
    int moved = x != c->ptr_x || y != c->ptr_y;
    c->ptr_x = x;
    c->ptr_y = y;
    return moved;
}

/* Blends the ARGB cursor image (premultiplied alpha) into the picture. */
static void draw_cursor(x11_cap *c)
{
    XFixesCursorImage *ci = XFixesGetCursorImage(c->dpy);
    if (!ci)
        return;
    int cx = ci->x - ci->xhot - c->x, cy = ci->y - ci->yhot - c->y;
    uint8_t *base = (uint8_t *)c->img->data;
    for (int j = 0; j < ci->height; j++) {
        int py = cy + j;
        if (py < 0 || py >= c->h)
            continue;
        for (int i = 0; i < ci->width; i++) {
            int px = cx + i;
            if (px < 0 || px >= c->w)
                continue;
            uint32_t argb = (uint32_t)ci->pixels[j * ci->width + i];
            uint32_t a = argb >> 24;
            uint8_t *d = base + (size_t)py * c->img->bytes_per_line + (size_t)px * 4;
            for (int k = 0; k < 3; k++) {
                uint32_t src = (argb >> (8 * k)) & 0xFF;
                d[k] = (uint8_t)(src + d[k] * (255 - a) / 255);
            }
        }
    }
    XFree(ci);
}

static int x11_grab(void *state, uint32_t frame, const uint8_t **pixels, int *pitch,
                    int *changed)
{
    x11_cap *c = state;
    (void)frame;
    *pixels = (const uint8_t *)c->img->data;
    *pitch = c->img->bytes_per_line;
    *changed = 1;
    if (c->damage_event >= 0) {
        int dirty = damage_pending(c);
        if (c->cursor)
            dirty |= cursor_changed(c);
        if (c->grabbed && !dirty) {
            *changed = 0;
            return 0;
        }
        /* Clear before grabbing: damage that lands during the grab is
         * reported again and picked up next time, never lost. */
        XDamageSubtract(c->dpy, c->damage, None, c->scratch);
    }
    int ok;
    if (c->use_shm)
        ok = XShmGetImage(c->dpy, c->root, c->img, c->x, c->y, AllPlanes);
    else
        ok = XGetSubImage(c->dpy, c->root, c->x, c->y, (unsigned)c->w, (unsigned)c->h,
                          AllPlanes, ZPixmap, c->img, 0, 0) != NULL;
    if (!ok)
        return MC_ECAPTURE;
    if (c->cursor)
        draw_cursor(c);
    c->grabbed = 1;
    return 0;
}

static void x11_close(void *state)
{
    x11_cap *c = state;
    if (!c)
        return;
    if (c->damage) {
        XDamageDestroy(c->dpy, c->damage);
        XFixesDestroyRegion(c->dpy, c->scratch);
    }
    if (c->img && c->use_shm) {
        XShmDetach(c->dpy, &c->shm);
        shmdt(c->shm.shmaddr);
        c->img->data = NULL;
    }
    if (c->img) {
        c->img->data = NULL; /* c->mem is freed below, not by Xlib */
        XDestroyImage(c->img);
    }
    free(c->mem);
    if (c->dpy)
        XCloseDisplay(c->dpy);
    free(c);
}

/* The monitors RandR 1.5 lists (a screen of two monitors is one root
 * window); none without RandR. */
static int x11_monitors(void *state, mc_monitor *out, int max)
{
    x11_cap *c = state;
    int ev, er, major = 0, minor = 0, n = 0;
    if (!XRRQueryExtension(c->dpy, &ev, &er) || !XRRQueryVersion(c->dpy, &major, &minor) ||
        major * 100 + minor < 105)
        return 0;
    XRRMonitorInfo *m = XRRGetMonitors(c->dpy, c->root, True, &n);
    if (!m)
        return 0;
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        if (m[i].width <= 0 || m[i].height <= 0)
            continue;
        char *name = XGetAtomName(c->dpy, m[i].name);
        snprintf(out[k].name, sizeof(out[k].name), "%s", name ? name : "?");
        if (name)
            XFree(name);
        out[k].x = m[i].x;
        out[k].y = m[i].y;
        out[k].w = m[i].width;
        out[k].h = m[i].height;
        k++;
    }
    XRRFreeMonitors(m);
    return k;
}

const mc_capture_backend mc_capture_x11 = {.name = "x11", .open = x11_open, .size = x11_size,
                                           .grab = x11_grab, .wait = x11_wait,
                                           .describe = x11_describe, .monitors = x11_monitors,
                                           .close = x11_close};
