/* What the Windows capture backends share (src/capture_win.h). */
#include "capture_win.h"

#include <string.h>

#include "mc/common.h"

int mc_win_picture_make(mc_win_picture *p, int w, int h)
{
    memset(p, 0, sizeof(*p));
    BITMAPINFO bi = {.bmiHeader = {.biSize = sizeof(BITMAPINFOHEADER), .biWidth = w,
                                   .biHeight = -h, /* top-down rows */
                                   .biPlanes = 1, .biBitCount = 32, .biCompression = BI_RGB}};
    HDC screen = GetDC(NULL);
    p->mem = screen ? CreateCompatibleDC(screen) : NULL;
    p->dib = p->mem ? CreateDIBSection(screen, &bi, DIB_RGB_COLORS, (void **)&p->bits, NULL, 0)
                    : NULL;
    if (screen)
        ReleaseDC(NULL, screen);
    if (!p->dib) {
        mc_win_picture_free(p);
        return MC_ENOMEM;
    }
    p->old = SelectObject(p->mem, p->dib);
    p->w = w;
    p->h = h;
    return 0;
}

void mc_win_picture_free(mc_win_picture *p)
{
    if (p->mem && p->old)
        SelectObject(p->mem, p->old);
    if (p->dib)
        DeleteObject(p->dib);
    if (p->mem)
        DeleteDC(p->mem);
    memset(p, 0, sizeof(*p));
}

void mc_win_draw_pointer(mc_win_picture *p, int x, int y)
{
    CURSORINFO ci = {.cbSize = sizeof(ci)};
    if (!GetCursorInfo(&ci) || !(ci.flags & CURSOR_SHOWING))
        return;
    ICONINFO ii;
    if (!GetIconInfo(ci.hCursor, &ii))
        return;
    int px = ci.ptScreenPos.x - (int)ii.xHotspot - x, py = ci.ptScreenPos.y - (int)ii.yHotspot - y;
    if (ii.hbmMask)
        DeleteObject(ii.hbmMask);
    if (ii.hbmColor)
        DeleteObject(ii.hbmColor);
    DrawIconEx(p->mem, px, py, ci.hCursor, 0, 0, 0, NULL, DI_NORMAL);
    GdiFlush();
}
