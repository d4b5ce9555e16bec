/* Picture scaling for --size (bilinear, BGRX). */
#ifndef MC_SCALE_H
#define MC_SCALE_H

#include <stdint.h>

void mc_scale_bgrx(const uint8_t *src, int sw, int sh, int spitch, uint8_t *dst, int dw, int dh,
                   int dpitch);

#endif
