/* The built-in test pattern: a deterministic, screen-like moving picture.
 * The same (width, height, frame) always gives the same pixels, so a
 * receiver can check any tile it decoded against the pattern itself. */
#ifndef MC_TESTSRC_H
#define MC_TESTSRC_H

#include <stdint.h>

/* Draws frame number `frame` as BGRX into dst (pitch in bytes). Most of the
 * picture is static "text" on flat backgrounds; a box moves, a progress bar
 * grows and a counter strip changes every frame, so a few tiles change per
 * frame as on a real teacher's screen. */
void mc_testsrc_render(uint8_t *dst, int pitch, int width, int height, uint32_t frame);

/* The A/V marker: a 32x32 square at (4,4), black, and white on every
 * frame that mc_testsrc_is_marker() calls a marker frame. mcshare makes the
 * test tone click at the capture time of those frames, and viewers measure
 * the distance between the flash and the click. */
#define MC_TESTSRC_MARKER_PERIOD 30
static inline int mc_testsrc_is_marker(uint32_t frame) { return frame % MC_TESTSRC_MARKER_PERIOD == 0; }

/* Draws a photo/video-like picture (smooth gradients and noise that all
 * change every frame): the worst case for the encoder. */
void mc_testsrc_render_video(uint8_t *dst, int pitch, int width, int height, uint32_t frame);

#endif
