/* Shared by the capture seam and its backends (internal). */
#ifndef MC_CAPTURE_INTERNAL_H
#define MC_CAPTURE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mc/capture.h"

/* The backend state of an X11 capture, NULL for any other backend. */
void *mc__capture_state(const mc_capture *c);

/* The monitor `which` names in m[0..n): by index ("0", "1", ...) or by
 * name; -1 when none. */
int mc__monitor_pick(const mc_monitor *m, int n, const char *which);
/* Copies up to max of the n monitors m into out; returns how many. */
int mc__monitors_copy(const mc_monitor *m, int n, mc_monitor *out, int max);
/* "0 'HDMI-1' 1920x1080+0+0, 1 '...' ..." (or "none"), for messages. */
void mc__monitor_names(const mc_monitor *m, int n, char *out, size_t cap);

/* A rectangle a compositor reported changed, [x0, x1) x [y0, y1), in its
 * output's pixels. */
typedef struct {
    int x0, y0, x1, y1;
} mc__rect;

/* Brings a kept picture (the region rw x rh at rx, ry of the output; dst,
 * dst_pitch) up to date from the output's new image (src, src_pitch)
 * where the rectangles say it changed; each is clipped to the region and
 * what lies outside it (or is empty, or inverted) is ignored. Returns how
 * many rectangles touched the region. */
int mc__rects_copy(uint8_t *dst, size_t dst_pitch, int rx, int ry, int rw, int rh,
                   const uint8_t *src, size_t src_pitch, const mc__rect *r, int n);

#endif
