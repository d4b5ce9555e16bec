/* Audio: the sender's sources and Opus packetizer, and the viewer's playout
 * (jitter buffer, loss concealment, drift correction and the clock that
 * video is shown by). docs/protocol.md describes the AUDIO packet. */
#ifndef MC_AUDIO_H
#define MC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "mc/wire.h"

/* ---- sender ------------------------------------------------------------ */

/* Named bitrate profiles (Opus, bits per second on the codec). */
#define MC_AUDIO_LOW_BPS 24000    /* mono: a voice */
#define MC_AUDIO_MEDIUM_BPS 64000 /* stereo: a voice and a video's sound */
#define MC_AUDIO_HIGH_BPS 128000  /* stereo: music */

typedef struct {
    const char *source; /* "none", "tone", "default", "mic", "file:PATH.wav" */
    int bitrate;        /* Opus bits/s, default MC_AUDIO_MEDIUM_BPS */
    int channels;       /* 1 or 2, default 2 */
    int frame_ms;       /* 5, 10 or 20; default 10 */
    int redundancy;     /* earlier frames repeated in each packet, 0..3; default 2 */
    int required;       /* the user asked for this source: if it cannot be used the
                           sender fails (MC_EAUDIO) instead of going on without sound */
} mc_audio_config;

void mc_audio_config_default(mc_audio_config *cfg);

/* Parses "low|medium|high" or a number of bits/s (6000..510000); sets
 * bitrate and, for the profiles, channels. Returns 0 or MC_EINVAL. */
int mc_audio_parse_bitrate(const char *text, mc_audio_config *cfg);

/* Called with each audio packet the sender builds (from the audio thread). */
typedef void (*mc_audio_send_fn)(void *ctx, const uint8_t *pkt, size_t len);

typedef struct mc_audio_tx mc_audio_tx;

typedef struct {
    uint64_t frames, packets, bytes; /* encoded frames, packets and bytes sent */
    uint64_t encode_us;              /* time in the Opus encoder */
    uint64_t overruns;               /* capture samples dropped because we fell behind */
    uint64_t marks;                  /* clicks put in the tone for A/V markers */
} mc_audio_tx_stats;

/* Opens the source and starts the audio thread. Returns 0, MC_EINVAL for a
 * bad configuration, MC_ENODEV-like failures as MC_EAUDIO (no such device:
 * the caller says so and goes on with video only). */
int mc_audio_tx_create(const mc_audio_config *cfg, uint32_t session, mc_audio_send_fn send,
                       void *ctx, mc_audio_tx **out);

/* The "tone" source clicks at this capture time (mc_now_us clock): the test
 * pattern calls it for the frame that shows its white marker, so viewers
 * can measure how far picture and sound are apart. No-op for other sources. */
void mc_audio_tx_mark(mc_audio_tx *t, uint64_t ts_us);

void mc_audio_tx_get_stats(mc_audio_tx *t, mc_audio_tx_stats *st);
const char *mc_audio_tx_describe(const mc_audio_tx *t); /* e.g. "tone, Opus 64 kbit/s stereo 10 ms" */
void mc_audio_tx_destroy(mc_audio_tx *t);

/* ---- viewer ------------------------------------------------------------ */

/* The playout side is single-threaded: the caller serialises calls. Output
 * is always 48 kHz stereo int16, whatever the stream's channel count. */
typedef struct mc_audio_rx mc_audio_rx;

#define MC_AUDIO_TARGET_MS 30 /* default jitter buffer target */
#define MC_AUDIO_MIN_MS 20
#define MC_AUDIO_MAX_MS 200

typedef struct {
    int playing;               /* sound is coming out */
    uint64_t packets, frames;  /* audio packets used; distinct frames received */
    uint64_t recovered;        /* frames that arrived only as a repeated (redundant) copy */
    uint64_t concealed;        /* frames missing at play time: Opus loss concealment */
    uint64_t late, underruns, resets;
    uint64_t samples_played;
    double level_ms;           /* buffered audio now */
    int target_ms;             /* jitter buffer target (adapts between MIN and MAX) */
    double drift_ppm;          /* playout speed correction, parts per million */
    int channels, frame_ms;
} mc_audio_rx_stats;

int mc_audio_rx_create(int target_ms, mc_audio_rx **out);
void mc_audio_rx_destroy(mc_audio_rx *a);
/* As just created, keeping its memory (for mc_receiver_reset). */
void mc_audio_rx_reset(mc_audio_rx *a);

/* Stores the frames of one parsed audio packet of session `session`. */
void mc_audio_rx_push(mc_audio_rx *a, uint32_t session, const mc_hdr *h, const mc_audio *p,
                      uint64_t now_us);

/* Fills out with `frames` stereo samples to be played from now_us +
 * latency_us on. Returns how many came from the stream (the rest is
 * silence: not started yet, or an underrun). */
int mc_audio_rx_pull(mc_audio_rx *a, int16_t *out, int frames, uint64_t now_us,
                     uint32_t latency_us);

/* The sender capture time of the sound being heard at local time now_us.
 * Returns 1 and sets *ts_us while sound is playing, else 0. */
int mc_audio_rx_clock(const mc_audio_rx *a, uint64_t now_us, uint64_t *ts_us);

/* Local play times of clicks found in the output since the last call
 * (the A/V marker of the test tone). Returns how many (<= max). */
int mc_audio_rx_take_clicks(mc_audio_rx *a, uint64_t *out, int max);

void mc_audio_rx_get_stats(const mc_audio_rx *a, mc_audio_rx_stats *st);

#endif
