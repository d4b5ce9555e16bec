/* Deterministic test pictures. Everything is a pure function of
 * (width, height, frame) so receivers and tests can recompute any tile. */
#include "mc/testsrc.h"

#include <string.h>

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void fill_rect(uint8_t *dst, int pitch, int width, int height, int x, int y, int w,
                      int h, uint32_t bgrx)
{
    if (x < 0) { w += x; x = 0; }
    if (y < 0) { h += y; y = 0; }
    if (x + w > width) w = width - x;
    if (y + h > height) h = height - y;
    if (w <= 0 || h <= 0)
        return;
    for (int r = 0; r < h; r++) {
        uint32_t *p = (uint32_t *)(void *)(dst + (size_t)(y + r) * pitch) + x;
        for (int c = 0; c < w; c++)
            p[c] = bgrx;
    }
}

/* A 5x7 "glyph" whose bits come from a hash, drawn 2x scaled: looks and
 * compresses like small text. */
static void draw_glyph(uint8_t *dst, int pitch, int width, int height, int x, int y,
                       uint32_t bits, uint32_t color)
{
    for (int gy = 0; gy < 7; gy++)
        for (int gx = 0; gx < 5; gx++)
            if (bits & (1u << (gy * 5 + gx) % 32))
                fill_rect(dst, pitch, width, height, x + gx * 2, y + gy * 2, 2, 2, color);
}

static void draw_text_lines(uint8_t *dst, int pitch, int width, int height, uint32_t frame)
{
    int line = 0;
    for (int y = 56; y + 14 < height - 40; y += 22, line++) {
        int cols = (width - 40) / 12;
        int len = (int)(hash32((uint32_t)line * 7919u) % (uint32_t)(cols + 1));
        /* Line 3 is being "typed": it grows by one character every 4 frames. */
        if (line == 3)
            len = (int)((frame / 4) % (uint32_t)(cols + 1));
        for (int c = 0; c < len; c++) {
            uint32_t h = hash32((uint32_t)(line * 4099 + c) ^ 0x9e3779b9u);
            if ((h & 7) == 0)
                continue; /* a space */
            draw_glyph(dst, pitch, width, height, 20 + c * 12, y, h >> 3, 0x00202020);
        }
    }
}

void mc_testsrc_render(uint8_t *dst, int pitch, int width, int height, uint32_t frame)
{
    fill_rect(dst, pitch, width, height, 0, 0, width, height, 0x00F4F2F0);
    fill_rect(dst, pitch, width, height, 0, 0, width, 40, 0x00804020);
    draw_text_lines(dst, pitch, width, height, frame);

    /* A bouncing coloured box (like a video or a dragged window). */
    int bw = width / 8 > 16 ? width / 8 : 16, bh = height / 8 > 16 ? height / 8 : 16;
    int span = width - bw > 1 ? width - bw : 1;
    int pos = (int)((frame * 8u) % (uint32_t)(2 * span));
    int bx = pos < span ? pos : 2 * span - pos;
    int by = height / 2 - bh / 2;
    for (int r = 0; r < bh; r++) {
        uint32_t c = ((uint32_t)(r * 255 / bh) << 16) | ((frame * 3u) & 0xFF) << 8 | 0x60;
        fill_rect(dst, pitch, width, height, bx, by + r, bw, 1, c);
    }

    /* A progress bar and a binary frame counter at the bottom. */
    int bar = (int)(frame % 600u) * (width - 40) / 600;
    fill_rect(dst, pitch, width, height, 20, height - 30, width - 40, 12, 0x00C0C0C0);
    fill_rect(dst, pitch, width, height, 20, height - 30, bar, 12, 0x0030A030);
    for (int b = 0; b < 12; b++)
        fill_rect(dst, pitch, width, height, width - 20 - (b + 1) * 10, 10, 8, 20,
                  (frame >> b) & 1 ? 0x00FFFFFF : 0x00000000);
    fill_rect(dst, pitch, width, height, 4, 4, 32, 32,
              mc_testsrc_is_marker(frame) ? 0x00FFFFFF : 0x00000000);
}

void mc_testsrc_render_video(uint8_t *dst, int pitch, int width, int height, uint32_t frame)
{
    for (int y = 0; y < height; y++) {
        uint8_t *p = dst + (size_t)y * pitch;
        for (int x = 0; x < width; x++) {
            uint32_t n = hash32((uint32_t)(y * 65536 + x) ^ frame * 0x01000193u) & 15;
            p[4 * x + 0] = (uint8_t)(((x + (int)frame * 4) & 255) / 2 + n);
            p[4 * x + 1] = (uint8_t)(((y + (int)frame * 2) & 255) / 2 + n);
            p[4 * x + 2] = (uint8_t)(((x + y) / 4 + (int)frame) & 255);
            p[4 * x + 3] = 0;
        }
    }
}
