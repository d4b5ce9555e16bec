/* Tile geometry and change detection by exact comparison against the last
 * picture seen. A hash would also work, but memcmp against a reference copy
 * is exact, needs no collision argument, and is memory-bound either way. */
#include "mc/tiles.h"

#include <string.h>

#include "mc/common.h"
#include "mc/wire.h"

int mc_grid_init(mc_grid *g, int width, int height, int tile)
{
    if (width < 1 || height < 1 || width > MC_MAX_DIM || height > MC_MAX_DIM)
        return MC_EINVAL;
    if (tile < MC_MIN_TILE || tile > MC_MAX_TILE || tile % 8)
        return MC_EINVAL;
    g->width = width;
    g->height = height;
    g->tile = tile;
    g->cols = (int)mc_tiles_along((uint32_t)width, (uint32_t)tile);
    g->rows = (int)mc_tiles_along((uint32_t)height, (uint32_t)tile);
    if ((long)g->cols * g->rows > MC_MAX_TILES)
        return MC_EINVAL;
    g->count = g->cols * g->rows;
    return 0;
}

void mc_grid_rect(const mc_grid *g, int index, int *x, int *y, int *w, int *h)
{
    int cx = index % g->cols, cy = index / g->cols;
    *x = cx * g->tile;
    *y = cy * g->tile;
    *w = g->width - *x < g->tile ? g->width - *x : g->tile;
    *h = g->height - *y < g->tile ? g->height - *y : g->tile;
}

/* Walks the picture row by row (the order memory is laid out in) and
 * compares each tile's slice of the row until the tile is known changed. */
static void diff_band(const mc_grid *g, int ty, const uint8_t *cur, int cur_pitch,
                      const uint8_t *ref, int ref_pitch, uint8_t *changed)
{
    int y0 = ty * g->tile;
    int y1 = y0 + g->tile < g->height ? y0 + g->tile : g->height;
    uint8_t *row_changed = changed + ty * g->cols;
    int pending = g->cols;
    memset(row_changed, 0, (size_t)g->cols);
    for (int y = y0; y < y1 && pending > 0; y++) {
        const uint8_t *c = cur + (size_t)y * cur_pitch;
        const uint8_t *r = ref + (size_t)y * ref_pitch;
        for (int tx = 0; tx < g->cols; tx++) {
            if (row_changed[tx])
                continue;
            int x = tx * g->tile;
            int w = g->width - x < g->tile ? g->width - x : g->tile;
            if (memcmp(c + (size_t)x * 4, r + (size_t)x * 4, (size_t)w * 4) != 0) {
                row_changed[tx] = 1;
                pending--;
            }
        }
    }
}

int mc_tiles_compare(const mc_grid *g, const uint8_t *cur, int cur_pitch, const uint8_t *ref,
                     int ref_pitch, uint8_t *changed)
{
    int n = 0;
    for (int ty = 0; ty < g->rows; ty++)
        diff_band(g, ty, cur, cur_pitch, ref, ref_pitch, changed);
    for (int i = 0; i < g->count; i++)
        n += changed[i] != 0;
    return n;
}

void mc_tiles_take(const mc_grid *g, const uint8_t *cur, int cur_pitch, uint8_t *ref,
                   int ref_pitch, const uint8_t *changed)
{
    for (int i = 0; i < g->count; i++) {
        if (!changed[i])
            continue;
        int x, y, w, h;
        mc_grid_rect(g, i, &x, &y, &w, &h);
        for (int r = 0; r < h; r++)
            memcpy(ref + (size_t)(y + r) * ref_pitch + (size_t)x * 4,
                   cur + (size_t)(y + r) * cur_pitch + (size_t)x * 4, (size_t)w * 4);
    }
}

int mc_tiles_diff(const mc_grid *g, const uint8_t *cur, int cur_pitch, uint8_t *ref,
                  int ref_pitch, uint8_t *changed)
{
    int n = mc_tiles_compare(g, cur, cur_pitch, ref, ref_pitch, changed);
    mc_tiles_take(g, cur, cur_pitch, ref, ref_pitch, changed);
    return n;
}

int mc_grid_tiles_under(const mc_grid *g, int x, int y, int w, int h, uint16_t *out, int max)
{
    int n = 0;
    if (w < 1 || h < 1 || x < 0 || y < 0 || x + w > g->width || y + h > g->height)
        return 0;
    for (int ty = y / g->tile; ty <= (y + h - 1) / g->tile; ty++)
        for (int tx = x / g->tile; tx <= (x + w - 1) / g->tile; tx++) {
            if (n < max)
                out[n] = (uint16_t)(ty * g->cols + tx);
            n++;
        }
    return n;
}
