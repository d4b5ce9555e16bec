/* Move detection: scrolled text, a dragged window. See mc/tiles.h.
 *
 * A scroll shows up as rows of pixels that reappear, whole, some rows
 * higher or lower. In each column of tiles that changed, every row of the
 * old and the new picture is hashed; a new row that is also an old row
 * somewhere else (and is not a plain background row, which would match
 * anywhere) votes for that vertical shift. The same with columns of pixels
 * in each changed row of tiles gives horizontal shifts. The best-voted
 * shifts are then tried on every changed tile with memcmp: a tile is moved
 * only if its pixels are exactly the old ones at the shifted place.
 */
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/tiles.h"

#define CANDIDATES 3  /* shifts tried per direction */
#define MIN_VOTES 4   /* rows (or columns) that must agree on a shift */

struct mc_move_finder {
    mc_grid g;
    uint64_t *oh, *nh;   /* hashes of one band's rows (or columns), old and new */
    int32_t *votes;      /* per shift, offset by `span` */
    int span;            /* max(width, height) */
    uint64_t *tkey;      /* open-addressing table: old hash -> position */
    int32_t *tval;       /* position, or -1 when the hash occurs more than once */
    int tmask;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

int mc_move_finder_create(const mc_grid *g, mc_move_finder **out)
{
    *out = NULL;
    mc_move_finder *f = calloc(1, sizeof(*f));
    if (!f)
        return MC_ENOMEM;
    f->g = *g;
    f->span = g->width > g->height ? g->width : g->height;
    int tsize = 1;
    while (tsize < 2 * f->span)
        tsize <<= 1;
    f->tmask = tsize - 1;
    f->oh = malloc(sizeof(uint64_t) * (size_t)f->span);
    f->nh = malloc(sizeof(uint64_t) * (size_t)f->span);
    f->votes = calloc((size_t)(2 * f->span + 1), sizeof(int32_t));
    f->tkey = malloc(sizeof(uint64_t) * (size_t)tsize);
    f->tval = malloc(sizeof(int32_t) * (size_t)tsize);
    if (!f->oh || !f->nh || !f->votes || !f->tkey || !f->tval) {
        mc_move_finder_destroy(f);
        return MC_ENOMEM;
    }
    *out = f;
    return 0;
}

void mc_move_finder_destroy(mc_move_finder *f)
{
    if (!f)
        return;
    free(f->oh);
    free(f->nh);
    free(f->votes);
    free(f->tkey);
    free(f->tval);
    free(f);
}

/* Hashes of the rows y = 0..height-1 of the band x0..x0+w-1. */
static void hash_rows(const uint8_t *pic, int pitch, int x0, int w, int height, uint64_t *out)
{
    for (int y = 0; y < height; y++) {
        const uint8_t *p = pic + (size_t)y * pitch + (size_t)x0 * 4;
        uint64_t h = 0x243F6A8885A308D3ull;
        for (int x = 0; x + 1 < w; x += 2) {
            uint64_t v;
            memcpy(&v, p + 4 * x, 8);
            h = mix(h, v);
        }
        if (w & 1) {
            uint32_t v;
            memcpy(&v, p + 4 * (w - 1), 4);
            h = mix(h, v);
        }
        out[y] = h;
    }
}

/* Hashes of the columns x = 0..width-1 of the band y0..y0+h-1. */
static void hash_cols(const uint8_t *pic, int pitch, int y0, int h, int width, uint64_t *out)
{
    for (int x = 0; x < width; x++)
        out[x] = 0x243F6A8885A308D3ull;
    for (int y = y0; y < y0 + h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(pic + (size_t)y * pitch);
        for (int x = 0; x < width; x++)
            out[x] = mix(out[x], row[x]);
    }
}

static void table_clear(mc_move_finder *f)
{
    for (int i = 0; i <= f->tmask; i++)
        f->tval[i] = -2; /* empty */
}

static void table_put(mc_move_finder *f, uint64_t k, int32_t pos)
{
    unsigned s = (unsigned)(k >> 40) & (unsigned)f->tmask;
    while (f->tval[s] != -2 && f->tkey[s] != k)
        s = (s + 1) & (unsigned)f->tmask;
    f->tval[s] = f->tval[s] == -2 ? pos : -1; /* a second occurrence: ambiguous */
    f->tkey[s] = k;
}

static int32_t table_get(const mc_move_finder *f, uint64_t k)
{
    unsigned s = (unsigned)(k >> 40) & (unsigned)f->tmask;
    while (f->tval[s] != -2) {
        if (f->tkey[s] == k)
            return f->tval[s];
        s = (s + 1) & (unsigned)f->tmask;
    }
    return -1;
}

/* Votes of one band: positions in [lo, hi) of the new hashes that changed
 * and that occur exactly once among the old ones. `n` hashes in all. */
static void vote_band(mc_move_finder *f, int n, int lo, int hi)
{
    table_clear(f);
    for (int i = 1; i < n; i++)
        if (f->oh[i] != f->oh[i - 1]) /* a background run matches anywhere: skip it */
            table_put(f, f->oh[i], i);
    for (int i = lo > 1 ? lo : 1; i < hi; i++) {
        if (f->nh[i] == f->nh[i - 1] || f->nh[i] == f->oh[i])
            continue;
        int32_t at = table_get(f, f->nh[i]);
        if (at >= 0)
            f->votes[at - i + f->span]++;
    }
}

/* The best-voted shifts (at most CANDIDATES, each with MIN_VOTES). */
static int best_shifts(mc_move_finder *f, int *out)
{
    int n = 0;
    for (int c = 0; c < CANDIDATES; c++) {
        int best = -1;
        for (int i = 0; i <= 2 * f->span; i++)
            if (i != f->span && f->votes[i] >= MIN_VOTES && (best < 0 || f->votes[i] > f->votes[best]))
                best = i;
        if (best < 0)
            break;
        out[n++] = best - f->span;
        f->votes[best] = 0;
    }
    memset(f->votes, 0, sizeof(int32_t) * (size_t)(2 * f->span + 1));
    return n;
}

static int find_vertical(mc_move_finder *f, const uint8_t *cur, int cp, const uint8_t *old,
                         int op, const uint8_t *changed, int *shifts)
{
    const mc_grid *g = &f->g;
    for (int tx = 0; tx < g->cols; tx++) {
        int lo = -1, hi = -1;
        for (int ty = 0; ty < g->rows; ty++)
            if (changed[ty * g->cols + tx]) {
                lo = lo < 0 ? ty * g->tile : lo;
                hi = ty * g->tile + g->tile;
            }
        if (lo < 0)
            continue;
        int x0 = tx * g->tile, w = g->width - x0 < g->tile ? g->width - x0 : g->tile;
        hash_rows(old, op, x0, w, g->height, f->oh);
        hash_rows(cur, cp, x0, w, g->height, f->nh);
        vote_band(f, g->height, lo, hi < g->height ? hi : g->height);
    }
    return best_shifts(f, shifts);
}

static int find_horizontal(mc_move_finder *f, const uint8_t *cur, int cp, const uint8_t *old,
                           int op, const uint8_t *changed, int *shifts)
{
    const mc_grid *g = &f->g;
    for (int ty = 0; ty < g->rows; ty++) {
        int lo = -1, hi = -1;
        for (int tx = 0; tx < g->cols; tx++)
            if (changed[ty * g->cols + tx]) {
                lo = lo < 0 ? tx * g->tile : lo;
                hi = tx * g->tile + g->tile;
            }
        if (lo < 0)
            continue;
        int y0 = ty * g->tile, h = g->height - y0 < g->tile ? g->height - y0 : g->tile;
        hash_cols(old, op, y0, h, g->width, f->oh);
        hash_cols(cur, cp, y0, h, g->width, f->nh);
        vote_band(f, g->width, lo, hi < g->width ? hi : g->width);
    }
    return best_shifts(f, shifts);
}

/* Whether tile t of cur equals old at its rectangle + (dx, dy), reading
 * only usable source tiles. */
static int tile_moved(const mc_move_finder *f, int t, int dx, int dy, const uint8_t *cur, int cp,
                      const uint8_t *old, int op, int (*usable)(void *, int), void *ctx)
{
    int x, y, w, h;
    mc_grid_rect(&f->g, t, &x, &y, &w, &h);
    /* A tile of one colour costs a few bytes as itself; a move would make
     * it depend on other tiles for nothing. */
    const uint32_t *first = (const uint32_t *)(const void *)(cur + (size_t)y * cp + (size_t)x * 4);
    int uniform = 1;
    for (int r = 0; r < h && uniform; r++) {
        const uint32_t *row = (const uint32_t *)(const void *)(cur + (size_t)(y + r) * cp) + x;
        for (int c = 0; c < w && uniform; c++)
            uniform = (row[c] & 0xFFFFFFu) == (first[0] & 0xFFFFFFu);
    }
    if (uniform)
        return 0;
    uint16_t src[4];
    int n = mc_grid_tiles_under(&f->g, x + dx, y + dy, w, h, src, 4);
    if (n < 1 || n > 4)
        return 0;
    for (int i = 0; i < n; i++)
        if (!usable(ctx, src[i]))
            return 0;
    for (int r = 0; r < h; r++)
        if (memcmp(cur + (size_t)(y + r) * cp + (size_t)x * 4,
                   old + (size_t)(y + dy + r) * op + (size_t)(x + dx) * 4, (size_t)w * 4))
            return 0;
    return 1;
}

int mc_move_find(mc_move_finder *f, const uint8_t *cur, int cur_pitch, const uint8_t *old,
                 int old_pitch, const uint8_t *changed, int min_changed,
                 int (*usable)(void *ctx, int tile), void *ctx, uint8_t *moved, int16_t *dx,
                 int16_t *dy)
{
    const mc_grid *g = &f->g;
    int nchanged = 0;
    memset(moved, 0, (size_t)g->count);
    for (int i = 0; i < g->count; i++)
        nchanged += changed[i] != 0;
    if (nchanged < min_changed || nchanged == 0)
        return 0;
    int vs[CANDIDATES], hs[CANDIDATES];
    int nv = find_vertical(f, cur, cur_pitch, old, old_pitch, changed, vs);
    int nh = find_horizontal(f, cur, cur_pitch, old, old_pitch, changed, hs);
    int found = 0;
    for (int t = 0; t < g->count; t++) {
        if (!changed[t])
            continue;
        for (int c = 0; c < nv + nh && !moved[t]; c++) {
            int sx = c < nv ? 0 : hs[c - nv], sy = c < nv ? vs[c] : 0;
            if (tile_moved(f, t, sx, sy, cur, cur_pitch, old, old_pitch, usable, ctx)) {
                moved[t] = 1;
                dx[t] = (int16_t)sx;
                dy[t] = (int16_t)sy;
                found++;
            }
        }
    }
    return found;
}
