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

#endif
