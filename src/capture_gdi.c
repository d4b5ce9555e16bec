/* The GDI capture backend (mc/capture.h), Windows: BitBlt from the screen
 * into a 32-bit DIB section, with CAPTUREBLT so layered (semi-transparent)
 * windows are in the picture. Windows reports no changes through GDI, so
 * every grab copies the screen and the sender's tile comparison finds what
 * changed (wait is NULL: the caller keeps its clock). This is the fallback
 * where Desktop Duplication is unavailable (remote sessions, old drivers,
 * wine); it also runs under wine, which is how it is tested here.
 *
 * The pointer is drawn in with DrawIconEx at GetCursorInfo's position,
 * less the hot spot. Monitors come from EnumDisplayMonitors, in virtual
 * screen coordinates; --monitor and --region choose the rectangle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "capture_internal.h"
#include "capture_win.h"
#include "mc/capture.h"
#include "mc/common.h"

#define MAX_MON 16

typedef struct {
    HDC screen;
    mc_win_picture pic;
    int x, y, w, h; /* the rectangle, in virtual-screen coordinates */
    int cursor;
    mc_monitor mons[MAX_MON];
    int nmons;
    uint64_t frames;
    char desc[128];
} gdi_cap;

static BOOL CALLBACK on_monitor(HMONITOR m, HDC dc, LPRECT r, LPARAM p)
{
    gdi_cap *c = (gdi_cap *)p;
    (void)dc;
    if (c->nmons >= MAX_MON)
        return FALSE;
    MONITORINFOEXA mi = {.cbSize = sizeof(mi)};
    mc_monitor *o = &c->mons[c->nmons++];
    if (GetMonitorInfoA(m, (MONITORINFO *)&mi)) {
        const char *n = mi.szDevice; /* "\\.\DISPLAY1" -> "DISPLAY1" */
        if (!strncmp(n, "\\\\.\\", 4))
            n += 4;
        snprintf(o->name, sizeof(o->name), "%s", n);
    } else {
        snprintf(o->name, sizeof(o->name), "DISPLAY%d", c->nmons);
    }
    o->x = r->left;
    o->y = r->top;
    o->w = r->right - r->left;
    o->h = r->bottom - r->top;
    return TRUE;
}

static void gdi_close(void *state);

static int gdi_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    gdi_cap *c = calloc(1, sizeof(*c));
    if (!c)
        return MC_ENOMEM;
    /* Pixels, not scaled points, on screens with a scale factor. */
    SetProcessDPIAware();
    c->screen = GetDC(NULL);
    if (!c->screen) {
        snprintf(why, cap, "no screen to capture (GetDC failed: not in a desktop session?)");
        free(c);
        return MC_EDISPLAY;
    }
    EnumDisplayMonitors(NULL, NULL, on_monitor, (LPARAM)c);
    int vx = GetSystemMetrics(SM_XVIRTUALSCREEN), vy = GetSystemMetrics(SM_YVIRTUALSCREEN);
    int vw = GetSystemMetrics(SM_CXVIRTUALSCREEN), vh = GetSystemMetrics(SM_CYVIRTUALSCREEN);
    c->x = vx, c->y = vy, c->w = vw, c->h = vh;
    if (cfg->monitor) {
        int i = mc__monitor_pick(c->mons, c->nmons, cfg->monitor);
        if (i < 0) {
            char list[256];
            mc__monitor_names(c->mons, c->nmons, list, sizeof(list));
            snprintf(why, cap, "this screen has no monitor '%s' (it has %s)", cfg->monitor, list);
            gdi_close(c);
            return MC_EINVAL;
        }
        c->x = c->mons[i].x, c->y = c->mons[i].y, c->w = c->mons[i].w, c->h = c->mons[i].h;
    }
    if (cfg->w) { /* the region, within the monitor or the whole screen */
        if (cfg->x < 0 || cfg->y < 0 || cfg->x + cfg->w > c->w || cfg->y + cfg->h > c->h) {
            snprintf(why, cap, "--region %dx%d+%d+%d is outside the %s (%dx%d)", cfg->w, cfg->h,
                     cfg->x, cfg->y, cfg->monitor ? "monitor" : "screen", c->w, c->h);
            gdi_close(c);
            return MC_EINVAL;
        }
        c->x += cfg->x, c->y += cfg->y, c->w = cfg->w, c->h = cfg->h;
    }
    if (c->w <= 0 || c->h <= 0) {
        snprintf(why, cap, "the screen has no size (%dx%d)", c->w, c->h);
        gdi_close(c);
        return MC_EDISPLAY;
    }
    if (mc_win_picture_make(&c->pic, c->w, c->h)) {
        snprintf(why, cap, "cannot make a %dx%d picture to copy the screen into", c->w, c->h);
        gdi_close(c);
        return MC_ENOMEM;
    }
    c->cursor = cfg->cursor;
    snprintf(c->desc, sizeof(c->desc), "Windows GDI (BitBlt)%s%s", c->nmons > 1 ? ", " : "",
             c->nmons > 1 ? (cfg->monitor ? cfg->monitor : "all monitors") : "");
    *state = c;
    return 0;
}

static void gdi_size(void *state, int *w, int *h)
{
    const gdi_cap *c = state;
    *w = c->w;
    *h = c->h;
}

static int gdi_grab(void *state, uint32_t frame, const uint8_t **pixels, int *pitch, int *changed)
{
    gdi_cap *c = state;
    (void)frame;
    if (!BitBlt(c->pic.mem, 0, 0, c->w, c->h, c->screen, c->x, c->y, SRCCOPY | CAPTUREBLT))
        return MC_ECAPTURE; /* e.g. the secure desktop (UAC) is showing */
    if (c->cursor)
        mc_win_draw_pointer(&c->pic, c->x, c->y);
    GdiFlush();
    /* GDI leaves the fourth byte as it pleases: X, as the sender expects. */
    for (size_t i = 3; i < (size_t)c->w * (size_t)c->h * 4; i += 4)
        c->pic.bits[i] = 0xFF;
    c->frames++;
    *pixels = c->pic.bits;
    *pitch = c->w * 4;
    *changed = 1;
    return 0;
}

static void gdi_describe(void *state, char *out, size_t cap)
{
    const gdi_cap *c = state;
    snprintf(out, cap, "%s", c->desc);
}

static int gdi_monitors(void *state, mc_monitor *out, int max)
{
    const gdi_cap *c = state;
    return mc__monitors_copy(c->mons, c->nmons, out, max);
}

static void gdi_close(void *state)
{
    gdi_cap *c = state;
    if (!c)
        return;
    mc_win_picture_free(&c->pic);
    if (c->screen)
        ReleaseDC(NULL, c->screen);
    free(c);
}

const mc_capture_backend mc_capture_gdi = {.name = "gdi", .open = gdi_open, .size = gdi_size,
                                           .grab = gdi_grab, .describe = gdi_describe,
                                           .monitors = gdi_monitors, .close = gdi_close};
