/* The Desktop Duplication capture backend (mc/capture.h), Windows 8 and
 * later: the compositor hands over each new desktop image of one output as
 * a Direct3D 11 texture, with the rectangles that moved and changed since
 * the last one; nothing comes while nothing changes, so a still screen
 * costs nothing and a change wakes the sender at once (wait).
 *
 * Each frame: AcquireNextFrame; the move rectangles, then the dirty ones;
 * the output into a CPU-readable staging texture, of which only what the
 * rectangles cover (clipped to the region captured) is copied into the
 * kept picture (mc__rects_copy, tested on Linux in test_tiles); release.
 * A move's destination is copied like a dirty rectangle: the staging
 * texture holds the whole new image, so no pixel is taken from the old
 * picture. The first image, and the first after ACCESS_LOST or when the
 * rectangles cannot be read, is copied whole. An image whose rectangles
 * all lie outside the region is no change. The sender's own tile
 * comparison stays behind this, as with the other backends.
 * ACCESS_LOST (a mode change, the secure desktop, a full-screen program)
 * recreates the duplication. The pointer is drawn in from its own shape and
 * position (GetCursorInfo, DrawIconEx on the picture, which is a DIB
 * section), so --cursor works as with GDI.
 *
 * Where duplication cannot start (remote sessions, some drivers, wine,
 * whose DXGI has no duplication), open fails with the reason and auto
 * takes GDI (src/capture_gdi.c). */
#define COBJMACROS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <d3d11.h>
#include <dxgi1_2.h>

#include "capture_internal.h"
#include "capture_win.h"
#include "mc/capture.h"
#include "mc/common.h"

#define MAX_OUT 16

typedef struct {
    ID3D11Device *dev;
    ID3D11DeviceContext *ctx;
    IDXGIOutput1 *out;
    IDXGIOutputDuplication *dup;
    ID3D11Texture2D *staging;
    int ow, oh;           /* the output's size */
    int ox, oy;           /* its place on the desktop */
    int x, y, w, h;       /* the rectangle copied, within the output */
    mc_win_picture pic;   /* the picture handed out (w x h BGRX), with the pointer */
    uint8_t *clean;       /* the desktop image, without it */
    int have, dirty;      /* a picture copied; one not handed out yet */
    int whole;            /* copy the next image whole */
    uint8_t *meta;        /* the frame's rectangles, as DXGI gives them */
    UINT meta_cap;
    mc__rect *changed;    /* ... as rectangles to copy: room for meta_cap / sizeof(RECT) */
    int cursor;
    mc_monitor mons[MAX_OUT];
    int nmons;
    uint64_t frames, rects;
    char name[48];
    char why[160];        /* why the duplication stopped */
} dxgi_cap;

static void dxgi_close(void *state);
static int take(dxgi_cap *c, UINT timeout_ms);

static void release(IUnknown *u)
{
    if (u)
        IUnknown_Release(u);
}

static const char *hr_text(HRESULT hr)
{
    switch (hr) {
    case DXGI_ERROR_UNSUPPORTED: return "Desktop Duplication is not supported here";
    case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE: return "too many programs duplicate the desktop";
    case E_NOTIMPL: return "this system offers no duplication (a virtual machine, or wine)";
    case E_ACCESSDENIED: return "access denied (the secure desktop, or a service without a desktop)";
    case DXGI_ERROR_SESSION_DISCONNECTED: return "the session is disconnected (remote desktop)";
    default: return "it failed";
    }
}

/* Starts duplicating the output: 0, or MC_ECAPTURE with c->why. */
static int start_dup(dxgi_cap *c)
{
    release((IUnknown *)c->dup);
    c->dup = NULL;
    HRESULT hr = IDXGIOutput1_DuplicateOutput(c->out, (IUnknown *)c->dev, &c->dup);
    if (FAILED(hr)) {
        snprintf(c->why, sizeof(c->why), "cannot duplicate the desktop: %s (0x%08lx)",
                 hr_text(hr), (unsigned long)hr);
        return MC_ECAPTURE;
    }
    return 0;
}

static int dxgi_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    dxgi_cap *c = calloc(1, sizeof(*c));
    if (!c)
        return MC_ENOMEM;
    SetProcessDPIAware();
    D3D_FEATURE_LEVEL fl;
    HRESULT hr = D3D11CreateDevice(NULL, D3D_DRIVER_TYPE_HARDWARE, NULL, 0, NULL, 0,
                                   D3D11_SDK_VERSION, &c->dev, &fl, &c->ctx);
    IDXGIDevice *xdev = NULL;
    IDXGIAdapter *ad = NULL;
    if (SUCCEEDED(hr))
        hr = ID3D11Device_QueryInterface(c->dev, &IID_IDXGIDevice, (void **)&xdev);
    if (SUCCEEDED(hr))
        hr = IDXGIDevice_GetAdapter(xdev, &ad);
    release((IUnknown *)xdev);
    if (FAILED(hr)) {
        snprintf(why, cap, "no Direct3D 11 device for Desktop Duplication (0x%08lx)",
                 (unsigned long)hr);
        dxgi_close(c);
        return MC_EDISPLAY;
    }
    /* The outputs (monitors) of the adapter; the one asked for, or the
     * first. */
    IDXGIOutput *outs[MAX_OUT] = {0};
    for (UINT i = 0; i < MAX_OUT && c->nmons < MAX_OUT; i++) {
        IDXGIOutput *o = NULL;
        if (IDXGIAdapter_EnumOutputs(ad, i, &o) != S_OK)
            break;
        DXGI_OUTPUT_DESC d;
        IDXGIOutput_GetDesc(o, &d);
        mc_monitor *m = &c->mons[c->nmons];
        char dn[64];
        WideCharToMultiByte(CP_UTF8, 0, d.DeviceName, -1, dn, sizeof(dn), NULL, NULL);
        snprintf(m->name, sizeof(m->name), "%s", strncmp(dn, "\\\\.\\", 4) ? dn : dn + 4);
        m->x = d.DesktopCoordinates.left;
        m->y = d.DesktopCoordinates.top;
        m->w = d.DesktopCoordinates.right - d.DesktopCoordinates.left;
        m->h = d.DesktopCoordinates.bottom - d.DesktopCoordinates.top;
        outs[c->nmons++] = o;
    }
    release((IUnknown *)ad);
    int pick = 0;
    if (cfg->monitor && (pick = mc__monitor_pick(c->mons, c->nmons, cfg->monitor)) < 0) {
        char list[256];
        mc__monitor_names(c->mons, c->nmons, list, sizeof(list));
        snprintf(why, cap, "this screen has no monitor '%s' (it has %s)", cfg->monitor, list);
        for (int i = 0; i < c->nmons; i++)
            release((IUnknown *)outs[i]);
        dxgi_close(c);
        return MC_EINVAL;
    }
    if (!c->nmons) {
        snprintf(why, cap, "the graphics adapter lists no monitor");
        dxgi_close(c);
        return MC_EDISPLAY;
    }
    hr = IDXGIOutput_QueryInterface(outs[pick], &IID_IDXGIOutput1, (void **)&c->out);
    for (int i = 0; i < c->nmons; i++)
        release((IUnknown *)outs[i]);
    if (FAILED(hr) || start_dup(c)) {
        snprintf(why, cap, "%s", FAILED(hr) ? "DXGI 1.2 is missing (Windows 8 or later needed)"
                                            : c->why);
        dxgi_close(c);
        return MC_EDISPLAY;
    }
    snprintf(c->name, sizeof(c->name), "%s", c->mons[pick].name);
    c->ox = c->mons[pick].x, c->oy = c->mons[pick].y;
    c->ow = c->mons[pick].w, c->oh = c->mons[pick].h;
    c->x = 0, c->y = 0, c->w = c->ow, c->h = c->oh;
    if (cfg->w) {
        if (cfg->x < 0 || cfg->y < 0 || cfg->x + cfg->w > c->ow || cfg->y + cfg->h > c->oh) {
            snprintf(why, cap, "--region %dx%d+%d+%d is outside the monitor (%dx%d)", cfg->w,
                     cfg->h, cfg->x, cfg->y, c->ow, c->oh);
            dxgi_close(c);
            return MC_EINVAL;
        }
        c->x = cfg->x, c->y = cfg->y, c->w = cfg->w, c->h = cfg->h;
    }
    D3D11_TEXTURE2D_DESC td = {.Width = (UINT)c->ow, .Height = (UINT)c->oh, .MipLevels = 1,
                               .ArraySize = 1, .Format = DXGI_FORMAT_B8G8R8A8_UNORM,
                               .SampleDesc = {.Count = 1}, .Usage = D3D11_USAGE_STAGING,
                               .CPUAccessFlags = D3D11_CPU_ACCESS_READ};
    c->clean = malloc((size_t)c->w * (size_t)c->h * 4);
    if (FAILED(ID3D11Device_CreateTexture2D(c->dev, &td, NULL, &c->staging)) || !c->clean ||
        mc_win_picture_make(&c->pic, c->w, c->h)) {
        snprintf(why, cap, "cannot make a %dx%d picture to copy the desktop into", c->ow, c->oh);
        dxgi_close(c);
        return MC_ENOMEM;
    }
    c->whole = 1;
    c->cursor = cfg->cursor;
    /* The first image: duplication works, and grab always has one. */
    for (int i = 0; i < 3 && !c->have; i++)
        if (take(c, 1000) < 0)
            break;
    if (!c->have) {
        snprintf(why, cap, "Desktop Duplication gave no image: %s",
                 c->why[0] ? c->why : "none within 3 s");
        dxgi_close(c);
        return MC_EDISPLAY;
    }
    *state = c;
    return 0;
}

static void dxgi_size(void *state, int *w, int *h)
{
    const dxgi_cap *c = state;
    *w = c->w;
    *h = c->h;
}

/* The frame's move rectangles (their destinations), then its dirty ones,
 * into c->changed: how many, or -1 when they cannot be read (copy whole). */
static int frame_rects(dxgi_cap *c, const DXGI_OUTDUPL_FRAME_INFO *fi)
{
    UINT size = fi->TotalMetadataBufferSize, used = 0;
    if (!size) /* a new image that names no change: take it all */
        return -1;
    /* at most this many rectangles, of either kind */
    int most = (int)(size / sizeof(RECT));
    if (size > c->meta_cap) {
        uint8_t *m = realloc(c->meta, size);
        if (m)
            c->meta = m;
        mc__rect *r = m ? realloc(c->changed, (size_t)most * sizeof(*r)) : NULL;
        if (!r)
            return -1; /* meta_cap stays: the next frame tries again */
        c->changed = r;
        c->meta_cap = size;
    }
    int n = 0;
    DXGI_OUTDUPL_MOVE_RECT *mv = (DXGI_OUTDUPL_MOVE_RECT *)(void *)c->meta;
    if (FAILED(IDXGIOutputDuplication_GetFrameMoveRects(c->dup, size, mv, &used)))
        return -1;
    for (UINT i = 0; i < used / sizeof(*mv) && n < most; i++, n++)
        c->changed[n] = (mc__rect){mv[i].DestinationRect.left, mv[i].DestinationRect.top,
                                   mv[i].DestinationRect.right, mv[i].DestinationRect.bottom};
    c->rects += used / sizeof(*mv);
    RECT *d = (RECT *)(void *)c->meta;
    if (FAILED(IDXGIOutputDuplication_GetFrameDirtyRects(c->dup, size, d, &used)))
        return -1;
    for (UINT i = 0; i < used / sizeof(*d) && n < most; i++, n++)
        c->changed[n] = (mc__rect){d[i].left, d[i].top, d[i].right, d[i].bottom};
    c->rects += used / sizeof(*d);
    return n;
}

/* Takes the next desktop image if one comes within timeout_ms: 1 taken,
 * 0 none, < 0 failed (c->why). */
static int take(dxgi_cap *c, UINT timeout_ms)
{
    if (!c->dup && start_dup(c))
        return MC_ECAPTURE;
    DXGI_OUTDUPL_FRAME_INFO fi;
    IDXGIResource *res = NULL;
    HRESULT hr = IDXGIOutputDuplication_AcquireNextFrame(c->dup, timeout_ms, &fi, &res);
    if (hr == DXGI_ERROR_WAIT_TIMEOUT)
        return 0;
    if (hr == DXGI_ERROR_ACCESS_LOST) { /* mode change, secure desktop: start again */
        release((IUnknown *)c->dup);
        c->dup = NULL;
        c->whole = 1;
        return 0;
    }
    if (FAILED(hr)) {
        snprintf(c->why, sizeof(c->why), "Desktop Duplication stopped (0x%08lx)",
                 (unsigned long)hr);
        return MC_ECAPTURE;
    }
    int got = 0;
    if (fi.LastPresentTime.QuadPart) { /* a new image (not only the pointer moving) */
        int n = frame_rects(c, &fi);
        if (n < 0)
            c->whole = 1;
        ID3D11Texture2D *tex = NULL;
        if (SUCCEEDED(IDXGIResource_QueryInterface(res, &IID_ID3D11Texture2D, (void **)&tex))) {
            ID3D11DeviceContext_CopyResource(c->ctx, (ID3D11Resource *)c->staging,
                                             (ID3D11Resource *)tex);
            D3D11_MAPPED_SUBRESOURCE m;
            if (SUCCEEDED(ID3D11DeviceContext_Map(c->ctx, (ID3D11Resource *)c->staging, 0,
                                                  D3D11_MAP_READ, 0, &m))) {
                if (c->whole) {
                    for (int row = 0; row < c->h; row++)
                        memcpy(c->clean + (size_t)row * (size_t)c->w * 4,
                               (const uint8_t *)m.pData + (size_t)(c->y + row) * m.RowPitch +
                                   (size_t)c->x * 4,
                               (size_t)c->w * 4);
                    got = 1;
                    c->whole = 0;
                } else {
                    got = mc__rects_copy(c->clean, (size_t)c->w * 4, c->x, c->y, c->w, c->h,
                                         m.pData, m.RowPitch, c->changed, n) > 0;
                }
                ID3D11DeviceContext_Unmap(c->ctx, (ID3D11Resource *)c->staging, 0);
            } else {
                c->whole = 1;
            }
            release((IUnknown *)tex);
        } else {
            c->whole = 1;
        }
    }
    /* The pointer moved (with or without a change in the region): the
     * picture again, with it where it is. */
    if (!got && fi.LastMouseUpdateTime.QuadPart && c->cursor && c->have)
        got = 1;
    release((IUnknown *)res);
    IDXGIOutputDuplication_ReleaseFrame(c->dup);
    if (got) {
        c->frames++;
        c->have = c->dirty = 1;
    }
    return got;
}

static int dxgi_grab(void *state, uint32_t frame, const uint8_t **pixels, int *pitch,
                     int *changed)
{
    dxgi_cap *c = state;
    (void)frame;
    if (!c->dirty) {
        int r = take(c, 0);
        if (r < 0)
            return r;
    }
    *changed = c->dirty;
    if (c->dirty) /* the image, then the pointer where it is now */
        memcpy(c->pic.bits, c->clean, (size_t)c->w * (size_t)c->h * 4);
    if (c->dirty && c->cursor)
        mc_win_draw_pointer(&c->pic, c->ox + c->x, c->oy + c->y);
    c->dirty = 0;
    *pixels = c->pic.bits;
    *pitch = c->w * 4;
    return 0;
}

static int dxgi_wait(void *state, uint64_t timeout_us)
{
    dxgi_cap *c = state;
    if (c->dirty)
        return 1;
    int r = take(c, (UINT)(timeout_us / 1000));
    return r != 0; /* a failure: let the grab report it */
}

static void dxgi_describe(void *state, char *out, size_t cap)
{
    const dxgi_cap *c = state;
    snprintf(out, cap, "Windows Desktop Duplication, %s", c->name);
}

static void dxgi_stats(void *state, uint64_t *frames, uint64_t *rects)
{
    const dxgi_cap *c = state;
    *frames = c->frames;
    *rects = c->rects;
}

static const char *dxgi_error(void *state)
{
    const dxgi_cap *c = state;
    return c->why[0] ? c->why : NULL;
}

static int dxgi_monitors(void *state, mc_monitor *out, int max)
{
    const dxgi_cap *c = state;
    return mc__monitors_copy(c->mons, c->nmons, out, max);
}

static void dxgi_close(void *state)
{
    dxgi_cap *c = state;
    if (!c)
        return;
    mc_win_picture_free(&c->pic);
    release((IUnknown *)c->staging);
    release((IUnknown *)c->dup);
    release((IUnknown *)c->out);
    release((IUnknown *)c->ctx);
    release((IUnknown *)c->dev);
    free(c->clean);
    free(c->meta);
    free(c->changed);
    free(c);
}

const mc_capture_backend mc_capture_dxgi = {
    .name = "dxgi", .open = dxgi_open, .size = dxgi_size, .grab = dxgi_grab,
    .wait = dxgi_wait, .describe = dxgi_describe, .stats = dxgi_stats, .error = dxgi_error,
    .monitors = dxgi_monitors, .close = dxgi_close};
