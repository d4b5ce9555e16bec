/* Tile grid geometry and per-tile change detection. */
#ifndef MC_TILES_H
#define MC_TILES_H

#include <stdint.h>

/* A picture cut into square tiles, row-major; the last column and row may
 * be narrower. */
typedef struct {
    int width, height; /* picture, pixels */
    int tile;          /* tile edge, pixels */
    int cols, rows, count;
} mc_grid;

/* Returns 0, or MC_EINVAL for sizes outside the wire limits. */
int mc_grid_init(mc_grid *g, int width, int height, int tile);

/* Pixel rectangle of tile index (0 <= index < count). */
void mc_grid_rect(const mc_grid *g, int index, int *x, int *y, int *w, int *h);

/* Compares the BGRX picture cur with the reference ref tile by tile. For
 * each tile that differs it sets changed[i] = 1 (else 0) and copies the tile
 * from cur into ref, so ref always holds what was last seen. Returns the
 * number of changed tiles. */
int mc_tiles_diff(const mc_grid *g, const uint8_t *cur, int cur_pitch, uint8_t *ref,
                  int ref_pitch, uint8_t *changed);

/* The same in two steps, for callers that look at the old picture in
 * between (move detection): mc_tiles_compare only sets changed[] and
 * returns the count; mc_tiles_take copies the changed tiles into ref. */
int mc_tiles_compare(const mc_grid *g, const uint8_t *cur, int cur_pitch, const uint8_t *ref,
                     int ref_pitch, uint8_t *changed);
void mc_tiles_take(const mc_grid *g, const uint8_t *cur, int cur_pitch, uint8_t *ref,
                   int ref_pitch, const uint8_t *changed);

/* ---- moves: scrolling and dragged windows ----------------------------------
 *
 * Finds changed tiles whose new pixels are exactly old pixels from
 * elsewhere: the picture (or part of it) scrolled or a window moved. The
 * candidates come from matching row hashes of the old and new picture in
 * the changed tiles' columns (a vertical scroll), and column hashes in
 * their rows (a horizontal one); every tile is then checked pixel by
 * pixel, so a move is never a guess. */
typedef struct mc_move_finder mc_move_finder;

int mc_move_finder_create(const mc_grid *g, mc_move_finder **out);
void mc_move_finder_destroy(mc_move_finder *f);

/* For each tile with changed[i] set, sets dx[i], dy[i] to the shift whose
 * source rectangle (the tile's rectangle + (dx, dy), inside the picture)
 * in `old` equals the tile in `cur`, and moved[i] = 1; moved[i] = 0 where
 * none was found. usable(ctx, tile) says whether a source tile may be read
 * (the sender only reads tiles the viewers hold exactly). Returns the
 * number of moved tiles. Does nothing when fewer than min_changed tiles
 * changed. */
int mc_move_find(mc_move_finder *f, const uint8_t *cur, int cur_pitch, const uint8_t *old,
                 int old_pitch, const uint8_t *changed, int min_changed,
                 int (*usable)(void *ctx, int tile), void *ctx, uint8_t *moved, int16_t *dx,
                 int16_t *dy);

/* The tiles under rectangle (x, y, w, h) (inside the picture): writes up
 * to max indices and returns how many. */
int mc_grid_tiles_under(const mc_grid *g, int x, int y, int w, int h, uint16_t *out, int max);

#endif
