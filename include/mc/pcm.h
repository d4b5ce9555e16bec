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

/* A stream kept on the clock when its source delivers nothing while
 * nothing plays (WASAPI's loopback): silence is handed over after `quiet_us`
 * without a packet, `lag_us` behind the clock. When sound comes back, its
 * first packet is placed on the clock: a gap before it is filled with
 * silence, an overlap with the silence already handed over is cut from
 * its start. While packets flow they are handed over as they come: the
 * source's clock and this one may part a little (a late poll, a sound
 * card's rate), which the next pause puts right. So the sound never lags
 * more and more behind the picture. */
typedef struct {
    double covered_us; /* the clock up to which sound or silence was handed over */
    uint64_t last_us;  /* when the last packet came */
    int quiet;         /* silence is being handed over */
    uint64_t quiet_us, lag_us;
} mc_pcm_gapfill;

void mc_pcm_gapfill_init(mc_pcm_gapfill *g, uint64_t now_us, uint64_t quiet_us, uint64_t lag_us);
/* No packet came: the frames of silence to hand over now (0 while sound
 * flows). */
size_t mc_pcm_gapfill_idle(mc_pcm_gapfill *g, uint64_t now_us);
/* A packet of `frames` came at now_us (all that came at one poll, as one
 * packet: its end is now): *silence frames of silence go before it, and
 * the returned number of its first frames is cut. */
size_t mc_pcm_gapfill_packet(mc_pcm_gapfill *g, size_t frames, uint64_t now_us, size_t *silence);

#endif
