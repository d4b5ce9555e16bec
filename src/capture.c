/* The capture seam (mc/capture.h): picks a backend by name and forwards. */
#include "mc/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"
#include "mc/common.h"

struct mc_capture {
    const mc_capture_backend *b;
    void *state;
};

static const mc_capture_backend *const backends[] = {
#ifdef MC_HAVE_X11
    &mc_capture_x11,
#endif
#ifdef _WIN32
    &mc_capture_dxgi, &mc_capture_gdi,
#endif
#ifdef MC_HAVE_WLR
    &mc_capture_wlr,
#endif
#ifdef MC_HAVE_PORTAL
    &mc_capture_portal,
#endif
    &mc_capture_test, &mc_capture_test_video};

const char *mc_capture_backends(void)
{
    return
#ifdef _WIN32
           "dxgi, gdi"
#else
           "x11"
#endif
#ifdef MC_HAVE_WLR
           ", wlr"
#endif
#ifdef MC_HAVE_PORTAL
           ", portal"
#endif
           ", test, test-video"
#if defined(_WIN32)
        ""
#elif !defined(MC_HAVE_WLR) && !defined(MC_HAVE_PORTAL)
           " (built without Wayland)"
#elif !defined(MC_HAVE_WLR)
           " (built without wlr-screencopy)"
#elif !defined(MC_HAVE_PORTAL)
           " (built without the portal: libpipewire-0.3-dev or libsystemd-dev missing)"
#endif
        ;
}

int mc_capture_create(const mc_capture_config *cfg, mc_capture **out, char *why, size_t cap)
{
    *out = NULL;
#ifdef _WIN32
    const char *name = cfg->backend ? cfg->backend : "dxgi";
#else
    const char *name = cfg->backend ? cfg->backend : "x11";
#endif
    const mc_capture_backend *b = NULL;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (!strcmp(backends[i]->name, name))
            b = backends[i];
    if (!b) {
        snprintf(why, cap, "no capture backend '%s' in this build (it has: %s)", name,
                 mc_capture_backends());
        return MC_EINVAL;
    }
    mc_capture *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(why, cap, "out of memory");
        return MC_ENOMEM;
    }
    c->b = b;
    why[0] = 0;
    int err = b->open(cfg, &c->state, why, cap);
    if (err) {
        if (!why[0])
            snprintf(why, cap, "%s", mc_strerror(err));
        free(c);
        return err;
    }
    *out = c;
    return 0;
}

void mc_capture_size(const mc_capture *c, int *w, int *h) { c->b->size(c->state, w, h); }

int mc_capture_grab(mc_capture *c, uint32_t frame, const uint8_t **pixels, int *pitch,
                    int *changed)
{
    return c->b->grab(c->state, frame, pixels, pitch, changed);
}

int mc_capture_wait(mc_capture *c, uint64_t timeout_us)
{
    return c->b->wait ? c->b->wait(c->state, timeout_us) : 1;
}

int mc_capture_reports_changes(const mc_capture *c)
{
#ifdef MC_HAVE_X11
    /* X11 without the DAMAGE extension cannot tell either. */
    if (c->b == &mc_capture_x11)
        return mc_capture_x11_uses_damage(c);
#endif
    return c->b->wait != NULL;
}

const char *mc_capture_backend_name(const mc_capture *c) { return c->b->name; }

void mc_capture_describe(const mc_capture *c, char *out, size_t cap)
{
    c->b->describe(c->state, out, cap);
}

int mc_capture_stats(const mc_capture *c, uint64_t *frames, uint64_t *rects)
{
    *frames = *rects = 0;
    if (!c->b->stats)
        return 0;
    c->b->stats(c->state, frames, rects);
    return 1;
}

int mc__monitor_pick(const mc_monitor *m, int n, const char *which)
{
    char *end;
    long i = strtol(which, &end, 10);
    if (*which && !*end && i >= 0 && i < n)
        return (int)i;
    for (int k = 0; k < n; k++)
        if (!strcmp(m[k].name, which))
            return k;
    return -1;
}

int mc__monitors_copy(const mc_monitor *m, int n, mc_monitor *out, int max)
{
    n = n < max ? n : max;
    if (n > 0)
        memcpy(out, m, (size_t)n * sizeof(*out));
    return n > 0 ? n : 0;
}

void mc__monitor_names(const mc_monitor *m, int n, char *out, size_t cap)
{
    size_t l = 0;
    out[0] = 0;
    for (int k = 0; k < n && l < cap; k++)
        l += (size_t)snprintf(out + l, cap - l, "%s%d '%s' %dx%d+%d+%d", k ? ", " : "", k,
                              m[k].name, m[k].w, m[k].h, m[k].x, m[k].y);
    if (!n)
        snprintf(out, cap, "none");
}

int mc__rects_copy(uint8_t *dst, size_t dst_pitch, int rx, int ry, int rw, int rh,
                   const uint8_t *src, size_t src_pitch, const mc__rect *r, int n)
{
    int touched = 0;
    for (int i = 0; i < n; i++) {
        int x0 = r[i].x0 > rx ? r[i].x0 : rx, y0 = r[i].y0 > ry ? r[i].y0 : ry;
        int x1 = r[i].x1 < rx + rw ? r[i].x1 : rx + rw, y1 = r[i].y1 < ry + rh ? r[i].y1 : ry + rh;
        if (x0 >= x1 || y0 >= y1)
            continue;
        touched++;
        for (int y = y0; y < y1; y++)
            memcpy(dst + (size_t)(y - ry) * dst_pitch + (size_t)(x0 - rx) * 4,
                   src + (size_t)y * src_pitch + (size_t)x0 * 4, (size_t)(x1 - x0) * 4);
    }
    return touched;
}

int mc_capture_monitors(const mc_capture *c, mc_monitor *out, int max)
{
    return c->b->monitors && max > 0 ? c->b->monitors(c->state, out, max) : 0;
}

const char *mc_capture_error(const mc_capture *c)
{
    return c->b->error ? c->b->error(c->state) : NULL;
}

void mc_capture_destroy(mc_capture *c)
{
    if (!c)
        return;
    c->b->close(c->state);
    free(c);
}

void *mc__capture_state(const mc_capture *c)
{
#ifdef MC_HAVE_X11
    return c->b == &mc_capture_x11 ? c->state : NULL;
#else
    (void)c;
    return NULL;
#endif
}
