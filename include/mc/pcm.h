/* Sound as the encoder takes it: 48 kHz stereo 16-bit, from whatever a
 * file or a sound system gives (PCM of 8, 16, 24 or 32 bits or 32-bit
 * float, little-endian, 1..8 interleaved channels, 1 kHz..384 kHz).
 * Channels 1 and 2 are kept (a mono source goes to both); other rates are
 * resampled linearly. The converter keeps its place between blocks, so a
 * stream converted block by block comes out as if converted whole. */
#ifndef MC_PCM_H
#define MC_PCM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned bits, channels, rate;
    int is_float;
    double pos;     /* the next output sample's place, in input frames from the
                       block's start; -1 is the previous block's last frame */
    double prev[2]; /* that frame, left and right, in [-1, 1) */
} mc_pcm_conv;

/* Returns 0, or MC_EINVAL for a format outside the ranges above. */
int mc_pcm_conv_init(mc_pcm_conv *c, unsigned bits, int is_float, unsigned channels,
                     unsigned rate);

/* At most how many frames mc_pcm_convert makes of `frames` input frames. */
size_t mc_pcm_out_max(const mc_pcm_conv *c, size_t frames);

/* Converts `frames` input frames (bits/8 * channels bytes each) into `out`
 * (cap frames of 2 samples); returns the frames written. A cap below
 * mc_pcm_out_max loses the rest of the block. */
size_t mc_pcm_convert(mc_pcm_conv *c, const void *in, size_t frames, int16_t *out, size_t cap);

#endif
