/* What the Windows capture backends share (src/capture_dxgi.c,
 * src/capture_gdi.c): a picture GDI can draw into, and the pointer drawn
 * into it from its own shape and position. Internal. */
#ifndef MC_CAPTURE_WIN_H
#define MC_CAPTURE_WIN_H

#include <stdint.h>
#include <windows.h>

typedef struct {
    HDC mem;
    HBITMAP dib, old;
    uint8_t *bits; /* w x h BGRX, top-down rows, w * 4 bytes each */
    int w, h;
} mc_win_picture;

/* A w x h 32-bit DIB section selected into a memory DC compatible with the
 * screen: 0, or MC_ENOMEM. */
int mc_win_picture_make(mc_win_picture *p, int w, int h);
void mc_win_picture_free(mc_win_picture *p);
/* Draws the pointer, if it shows, where it is: the picture's top left is
 * at (x, y) of the virtual screen. */
void mc_win_draw_pointer(mc_win_picture *p, int x, int y);

#endif
