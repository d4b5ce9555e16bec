/* Checks decoded tiles against a known source (the built-in test pattern
 * by default). Since TurboJPEG is deterministic, a correctly received tile
 * is bit-identical to the reference tile encoded and decoded here with the
 * announced settings; anything else is counted as wrong. Used by mcprobe
 * --verify-pattern and the tests. */
#ifndef MC_VERIFY_H
#define MC_VERIFY_H

#include <stdint.h>

#include "mc/receiver.h"

typedef struct mc_verifier mc_verifier;

/* Draws frame `frame` of the source (see mc_testsrc_render). */
typedef void (*mc_render_fn)(uint8_t *dst, int pitch, int width, int height, uint32_t frame);

typedef struct {
    uint64_t checked;  /* tiles compared */
    uint64_t wrong;    /* not bit-identical to the reference */
    double worst_psnr; /* of the wrong ones, dB (99 = none wrong) */
} mc_verify_result;

/* render = NULL uses mc_testsrc_render. */
int mc_verifier_create(mc_render_fn render, mc_verifier **out);
void mc_verifier_destroy(mc_verifier *v);

/* Checks one decoded tile, from any thread. Returns 1 if exact, 0 if not. */
int mc_verifier_check(mc_verifier *v, const mc_tile_event *ev);

/* An mc_tile_cb that calls mc_verifier_check (ctx = the verifier). */
void mc_verifier_on_tile(void *ctx, const mc_tile_event *ev);

void mc_verifier_result(mc_verifier *v, mc_verify_result *out);

/* PSNR in dB over the colour channels of two w x h BGRX blocks (pitches in
 * bytes); 99 when identical. */
double mc_psnr_bgrx(const uint8_t *a, int apitch, const uint8_t *b, int bpitch, int w, int h);

#endif
