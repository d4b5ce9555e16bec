/* Sound formats into 48 kHz stereo 16-bit (mc/pcm.h). */
#include "mc/pcm.h"

#include <math.h>
#include <string.h>

#include "bytes.h"
#include "mc/audio.h"
#include "mc/common.h"

/* One sample as a double in [-1, 1). */
static double sample(const uint8_t *p, unsigned bits, int is_float)
{
    switch (bits) {
    case 8: return ((int)p[0] - 128) / 128.0; /* 8-bit PCM is unsigned */
    case 16: return (int16_t)mc__get16le(p) / 32768.0;
    case 24: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24);
        return (v >> 8) / 8388608.0;
    }
    default:
        if (is_float) {
            float f;
            uint32_t u = mc__get32le(p);
            memcpy(&f, &u, 4);
            return isfinite(f) ? (double)f : 0.0;
        }
        return (int32_t)mc__get32le(p) / 2147483648.0;
    }
}

int mc_pcm_conv_init(mc_pcm_conv *c, unsigned bits, int is_float, unsigned channels,
                     unsigned rate)
{
    memset(c, 0, sizeof(*c));
    if (is_float ? bits != 32 : (bits != 8 && bits != 16 && bits != 24 && bits != 32))
        return MC_EINVAL;
    if (channels < 1 || channels > 8 || rate < 1000 || rate > 384000)
        return MC_EINVAL;
    c->bits = bits;
    c->is_float = is_float;
    c->channels = channels;
    c->rate = rate;
    return 0;
}

size_t mc_pcm_out_max(const mc_pcm_conv *c, size_t frames)
{
    return (size_t)((double)(frames + 1) * MC_AUDIO_RATE / c->rate) + 2;
}

/* Input frame k of the block, channel ch (0 or 1); k == -1 is the
 * previous block's last frame. */
static double at(const mc_pcm_conv *c, const uint8_t *in, long k, unsigned ch)
{
    if (k < 0)
        return c->prev[ch];
    unsigned bps = c->bits / 8, sc = ch < c->channels ? ch : 0;
    return sample(in + ((size_t)k * c->channels + sc) * bps, c->bits, c->is_float);
}

size_t mc_pcm_convert(mc_pcm_conv *c, const void *in, size_t frames, int16_t *out, size_t cap)
{
    const uint8_t *p = in;
    if (!frames)
        return 0;
    double step = (double)c->rate / MC_AUDIO_RATE;
    size_t n = 0;
    long last = (long)frames - 1;
    for (;;) {
        long k = (long)floor(c->pos);
        double fr = c->pos - (double)k;
        /* Between frames k and k + 1: both must be here (k alone when the
         * place falls on it). */
        if (k > last || (fr > 0 && k + 1 > last))
            break;
        if (n < cap) {
            for (unsigned ch = 0; ch < 2; ch++) {
                double s0 = at(c, p, k, ch);
                double s1 = fr > 0 ? at(c, p, k + 1, ch) : s0;
                double v = (s0 + (s1 - s0) * fr) * 32768.0;
                out[2 * n + ch] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
            }
            n++;
        }
        c->pos += step;
    }
    c->pos -= (double)frames;
    c->prev[0] = at(c, p, last, 0);
    c->prev[1] = at(c, p, last, 1);
    return n;
}

void mc_pcm_gapfill_init(mc_pcm_gapfill *g, uint64_t now_us, uint64_t quiet_us, uint64_t lag_us)
{
    g->covered_us = (double)now_us;
    g->last_us = now_us;
    g->quiet = 0;
    g->quiet_us = quiet_us;
    g->lag_us = lag_us;
}

static size_t frames_in(double us) { return us > 0 ? (size_t)(us * MC_AUDIO_RATE / 1e6) : 0; }
static double us_of(size_t frames) { return (double)frames * 1e6 / MC_AUDIO_RATE; }

size_t mc_pcm_gapfill_idle(mc_pcm_gapfill *g, uint64_t now_us)
{
    if (!g->quiet && now_us <= g->last_us + g->quiet_us)
        return 0;
    g->quiet = 1;
    size_t n = frames_in((double)now_us - (double)g->lag_us - g->covered_us);
    g->covered_us += us_of(n);
    return n;
}

size_t mc_pcm_gapfill_packet(mc_pcm_gapfill *g, size_t frames, uint64_t now_us, size_t *silence)
{
    size_t cut = 0;
    *silence = 0;
    g->last_us = now_us;
    if (g->quiet) {
        double start = (double)now_us - us_of(frames);
        if (start > g->covered_us)
            *silence = frames_in(start - g->covered_us);
        else
            cut = frames_in(g->covered_us - start);
        cut = cut > frames ? frames : cut;
        g->quiet = 0;
    }
    g->covered_us += us_of(*silence) + us_of(frames - cut);
    return cut;
}
