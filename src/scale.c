/* Bilinear scaling in 16.16 fixed point. Good enough for sending a 4K
 * screen at 1080p; a teacher who needs sharper text sends at native size. */
#include "mc/scale.h"

#include <stddef.h>

void mc_scale_bgrx(const uint8_t *src, int sw, int sh, int spitch, uint8_t *dst, int dw, int dh,
                   int dpitch)
{
    uint32_t xstep = (uint32_t)(((uint64_t)sw << 16) / (uint32_t)dw);
    uint32_t ystep = (uint32_t)(((uint64_t)sh << 16) / (uint32_t)dh);
    for (int y = 0; y < dh; y++) {
        uint32_t fy = (uint32_t)y * ystep;
        int y0 = (int)(fy >> 16), y1 = y0 + 1 < sh ? y0 + 1 : y0;
        uint32_t wy = (fy >> 8) & 0xFF;
        const uint8_t *r0 = src + (size_t)y0 * spitch, *r1 = src + (size_t)y1 * spitch;
        uint8_t *d = dst + (size_t)y * dpitch;
        for (int x = 0; x < dw; x++) {
            uint32_t fx = (uint32_t)x * xstep;
            int x0 = (int)(fx >> 16), x1 = x0 + 1 < sw ? x0 + 1 : x0;
            uint32_t wx = (fx >> 8) & 0xFF;
            for (int k = 0; k < 4; k++) {
                uint32_t a = r0[x0 * 4 + k] * (256 - wx) + r0[x1 * 4 + k] * wx;
                uint32_t b = r1[x0 * 4 + k] * (256 - wx) + r1[x1 * 4 + k] * wx;
                d[x * 4 + k] = (uint8_t)((a * (256 - wy) + b * wy) >> 16);
            }
        }
    }
}
