/* The viewer's audio playout.
 *
 * Frames wait in a small ring indexed by their sequence number (the jitter
 * buffer). Playback starts once target_ms are buffered. Frames are decoded
 * in order as the device asks for sound; a missing frame is concealed by
 * Opus (PLC), also when nothing newer has come yet (a burst of lost packets
 * empties the buffer for a frame or two, and PLC sounds far better than a
 * hole). Only when the buffer stays empty for longer than EMPTY_MAX_MS is
 * it an underrun: silence, a higher target, and a new start.
 *
 * The sender's sound card and ours never run at exactly the same rate (a
 * 0.1 % difference is common: 2.7 s in a 45-minute lesson). A gentle
 * resampler (linear interpolation, at most ±0.5 %) keeps the buffer at its
 * target: a PI controller on the buffer level sets the ratio. So the delay
 * from capture to speaker stays constant, and video, which is shown by the
 * audio clock, stays in sync with it.
 */
#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>

#include "mc/audio.h"
#include "mc/common.h"
#include "pixel_loop.h"

#define SLOTS 64                  /* frames the jitter buffer can hold (>= 640 ms at 10 ms) */
#define FIFO_CAP (4 * MC_AUDIO_MAX_SAMPLES) /* decoded stereo samples waiting for the resampler */
#define STALE_US 500000u          /* no packet for this long: the sound stopped */
#define MAX_ADJ 0.005             /* resampling at most ±0.5 % */
#define CLICK_LEVEL 18000         /* |sample| above this after quiet is a marker click */
#define CLICK_QUIET 4800          /* samples (100 ms) below the level before a click */
#define CLICK_RING 16
#define EMPTY_MAX_MS 40           /* conceal this long with nothing to play, then call it an underrun */

typedef struct {
    uint32_t seq;
    uint8_t valid;
    uint16_t len;
    uint8_t data[MC_AUDIO_MAX_OPUS];
} slot;

struct mc_audio_rx {
    OpusDecoder *dec;
    /* Decoded with since its last reset. A reset is skipped otherwise: libopus
     * re-detects the CPU on every reset (CPUID, which traps in a VM). */
    int dec_used;
    int have_stream;
    uint32_t session;
    int frame_samples, channels;
    slot *slots;  /* SLOTS, with the decoder when the first packet comes */
    uint32_t next_seq, newest_seq; /* next frame to decode; newest frame held */
    uint32_t origin_seq;           /* the stream's sample clock starts here ... */
    uint64_t origin_ts;            /* ... at this sender time */
    int64_t fifo_sample0;          /* stream sample index of fifo[0] */
    float *fifo;  /* FIFO_CAP * 2 */
    int fifo_len;
    double pos; /* read position in the fifo, in samples */
    int playing;
    double target_ms, level_ema, integ, adj;
    int base_target_ms; /* as configured; target_ms grows after underruns and comes back to it */
    uint64_t last_push_us, quiet_since_ok_us;
    /* The clock: what the last pull put at the speaker. */
    int clock_valid;
    uint64_t pull_local_us, pull_ts;
    uint32_t pull_latency_us;
    double pull_step;
    int pull_frames;
    /* Click detection for the A/V marker. */
    int quiet_run;
    int empty_run; /* frames concealed in a row with nothing newer held */
    uint64_t clicks[CLICK_RING];
    int nclicks;
    mc_audio_rx_stats st;
};

int mc_audio_rx_create(int target_ms, mc_audio_rx **out)
{
    *out = NULL;
    if (target_ms < MC_AUDIO_MIN_MS || target_ms > MC_AUDIO_MAX_MS)
        return MC_EINVAL;
    mc_audio_rx *a = calloc(1, sizeof(*a));
    if (!a)
        return MC_ENOMEM;
    a->target_ms = target_ms; /* the Opus decoder comes with the first packet */
    a->base_target_ms = target_ms;
    *out = a;
    return 0;
}

void mc_audio_rx_destroy(mc_audio_rx *a)
{
    if (!a)
        return;
    opus_decoder_destroy(a->dec);
    free(a->slots);
    free(a->fifo);
    free(a);
}

void mc_audio_rx_reset(mc_audio_rx *a)
{
    OpusDecoder *dec = a->dec;
    slot *slots = a->slots;
    float *fifo = a->fifo;
    int target = a->base_target_ms;
    if (dec && a->dec_used)
        opus_decoder_ctl(dec, OPUS_RESET_STATE);
    memset(a, 0, sizeof(*a)); /* dec_used = 0 */
    a->dec = dec;
    a->slots = slots;
    a->fifo = fifo;
    for (int i = 0; slots && i < SLOTS; i++)
        slots[i].valid = 0;
    a->target_ms = target;
    a->base_target_ms = target;
}

/* Forgets the stream: the next packet starts a new one. */
static void reset_stream(mc_audio_rx *a)
{
    a->have_stream = 0;
    a->playing = 0;
    a->clock_valid = 0;
    a->fifo_len = 0;
    a->empty_run = 0;
    a->pos = 0;
    a->integ = 0;
    a->adj = 0;
    for (int i = 0; a->slots && i < SLOTS; i++)
        a->slots[i].valid = 0;
    if (a->dec && a->dec_used)
        opus_decoder_ctl(a->dec, OPUS_RESET_STATE);
    a->dec_used = 0;
}

static double frame_us(const mc_audio_rx *a) { return a->frame_samples * 1e6 / MC_AUDIO_RATE; }

static double level_samples(const mc_audio_rx *a)
{
    if (!a->have_stream)
        return 0;
    int32_t frames = mc_seq_diff(a->newest_seq, a->next_seq) + 1;
    return (frames > 0 ? frames : 0) * (double)a->frame_samples + (a->fifo_len - a->pos);
}

/* Returns 0, or -1 when there is no memory for a decoder (then no stream). */
static int start_stream(mc_audio_rx *a, uint32_t session, const mc_hdr *h, const mc_audio *p)
{
    reset_stream(a);
    int err;
    if (!a->slots && !(a->slots = calloc(SLOTS, sizeof(*a->slots))))
        return -1;
    if (!a->fifo && !(a->fifo = malloc(sizeof(float) * FIFO_CAP * 2)))
        return -1;
    if (!a->dec && !(a->dec = opus_decoder_create(MC_AUDIO_RATE, 2, &err)))
        return -1;
    a->have_stream = 1;
    a->session = session;
    a->frame_samples = p->frame_samples;
    a->channels = p->channels;
    /* Start from the oldest frame the packet repeats: the buffer then holds
     * count frames at once and playback can begin sooner. */
    a->next_seq = h->seq - (uint32_t)(p->count - 1);
    a->newest_seq = a->next_seq;
    a->origin_seq = a->next_seq;
    a->origin_ts = h->ts_us - (uint64_t)((p->count - 1) * frame_us(a));
    a->fifo_sample0 = 0;
    a->st.resets++;
    return 0;
}

void mc_audio_rx_push(mc_audio_rx *a, uint32_t session, const mc_hdr *h, const mc_audio *p,
                      uint64_t now_us)
{
    if (!a->have_stream || session != a->session || p->frame_samples != a->frame_samples ||
        p->channels != a->channels || mc_seq_diff(h->seq, a->next_seq) >= SLOTS ||
        mc_seq_diff(h->seq, a->next_seq) < -SLOTS) { /* new sender, new format, or a jump */
        if (start_stream(a, session, h, p))
            return;
    }
    a->st.packets++;
    a->last_push_us = now_us;
    for (int i = 0; i < p->count; i++) {
        uint32_t seq = h->seq - (uint32_t)i;
        if (mc_seq_lt(seq, a->next_seq)) {
            if (i == 0)
                a->st.late++; /* its own packet came after it was needed */
            continue;
        }
        slot *s = &a->slots[seq % SLOTS];
        if (s->valid && s->seq == seq)
            continue; /* a repeat of a frame we hold */
        s->seq = seq;
        s->valid = 1;
        s->len = p->frames[i].len;
        memcpy(s->data, p->frames[i].data, s->len);
        a->st.frames++;
        if (i > 0)
            a->st.recovered++;
        if (mc_seq_lt(a->newest_seq, seq))
            a->newest_seq = seq;
    }
}

/* Decodes the next frame into the fifo. Returns 0, or -1 when there is
 * nothing to decode yet (an underrun). */
static int decode_next(mc_audio_rx *a)
{
    if (mc_seq_lt(a->newest_seq, a->next_seq) || a->fifo_len + a->frame_samples > FIFO_CAP)
        return -1;
    slot *s = &a->slots[a->next_seq % SLOTS];
    int n;
    a->empty_run = 0;
    a->dec_used = 1;
    if (s->valid && s->seq == a->next_seq) {
        n = opus_decode_float(a->dec, s->data, s->len, a->fifo + 2 * a->fifo_len,
                              a->frame_samples, 0);
        s->valid = 0;
        if (n != a->frame_samples) { /* a corrupt frame: conceal it instead */
            n = opus_decode_float(a->dec, NULL, 0, a->fifo + 2 * a->fifo_len, a->frame_samples, 0);
            a->st.concealed++;
        }
    } else {
        n = opus_decode_float(a->dec, NULL, 0, a->fifo + 2 * a->fifo_len, a->frame_samples, 0);
        a->st.concealed++;
    }
    if (n != a->frame_samples) /* cannot happen with a valid decoder; keep the timing anyway */
        memset(a->fifo + 2 * a->fifo_len, 0, sizeof(float) * 2 * (size_t)a->frame_samples);
    a->fifo_len += a->frame_samples;
    a->next_seq++;
    return 0;
}

/* Nothing newer than next_seq is here: conceal the frame if the buffer has
 * been empty only briefly (lost packets, not a stalled stream). Returns 0
 * when a frame was concealed, -1 for an underrun. */
static int conceal_empty(mc_audio_rx *a)
{
    int max_frames = EMPTY_MAX_MS * MC_AUDIO_RATE / 1000 / a->frame_samples;
    if (a->empty_run >= (max_frames > 1 ? max_frames : 1) ||
        a->fifo_len + a->frame_samples > FIFO_CAP)
        return -1;
    float *dst = a->fifo + 2 * a->fifo_len;
    a->dec_used = 1;
    if (opus_decode_float(a->dec, NULL, 0, dst, a->frame_samples, 0) != a->frame_samples)
        memset(dst, 0, sizeof(float) * 2 * (size_t)a->frame_samples);
    a->fifo_len += a->frame_samples;
    a->next_seq++;
    a->empty_run++;
    a->st.concealed++;
    return 0;
}

static void underrun(mc_audio_rx *a)
{
    a->st.underruns++;
    a->playing = 0;
    a->clock_valid = 0;
    a->target_ms = fmin(a->target_ms + 10, MC_AUDIO_MAX_MS);
    a->quiet_since_ok_us = 0;
}

/* Level control: the buffer is kept at the target by playing slightly
 * faster or slower. Called once per pull with the pull's duration. */
static void control(mc_audio_rx *a, double dt_s, uint64_t now_us)
{
    double level_ms = level_samples(a) * 1000.0 / MC_AUDIO_RATE;
    a->level_ema += (level_ms - a->level_ema) * fmin(1.0, dt_s / 0.5);
    double e = (a->level_ema - a->target_ms) / a->target_ms;
    a->integ = fmax(-20, fmin(20, a->integ + e * dt_s));
    a->adj = fmax(-MAX_ADJ, fmin(MAX_ADJ, 0.002 * e + 0.0004 * a->integ));
    /* A quiet network lets the target come back down, 1 ms per 10 s. */
    if (!a->quiet_since_ok_us)
        a->quiet_since_ok_us = now_us;
    if (now_us - a->quiet_since_ok_us > 10000000u && a->target_ms > a->base_target_ms) {
        a->target_ms = fmax(a->base_target_ms, a->target_ms - 1);
        a->quiet_since_ok_us = now_us;
    }
}

MC_PIXEL_LOOP
static void detect_clicks(mc_audio_rx *a, const int16_t *out, int frames, uint64_t play_us)
{
    for (int i = 0; i < frames; i++) {
        int v = abs(out[2 * i]) > abs(out[2 * i + 1]) ? abs(out[2 * i]) : abs(out[2 * i + 1]);
        if (v < CLICK_LEVEL) {
            a->quiet_run++;
            continue;
        }
        if (a->quiet_run >= CLICK_QUIET && a->nclicks < CLICK_RING)
            a->clicks[a->nclicks++] = play_us + (uint64_t)i * 1000000u / MC_AUDIO_RATE;
        a->quiet_run = 0;
    }
}

/* Plays (interpolating at `step` stream samples per output sample) what
 * the fifo holds, up to max samples: returns how many. */
MC_PIXEL_LOOP
static int play_from_fifo(mc_audio_rx *a, int16_t *out, int max, double step)
{
    int n = 0;
    for (; n < max; n++) {
        int i = (int)a->pos;
        if (i + 1 >= a->fifo_len)
            break;
        double f = a->pos - i;
        for (int c = 0; c < 2; c++) {
            double v = a->fifo[2 * i + c] * (1 - f) + a->fifo[2 * i + 2 + c] * f;
            v = v > 1 ? 1 : v < -1 ? -1 : v;
            out[2 * n + c] = (int16_t)lrint(v * 32767);
        }
        a->pos += step;
    }
    return n;
}

int mc_audio_rx_pull(mc_audio_rx *a, int16_t *out, int frames, uint64_t now_us,
                     uint32_t latency_us)
{
    memset(out, 0, sizeof(int16_t) * 2 * (size_t)frames);
    if (a->have_stream && now_us - a->last_push_us > STALE_US && (int64_t)(now_us - a->last_push_us) > 0) {
        reset_stream(a); /* the sender stopped sending sound */
        return 0;
    }
    if (!a->have_stream)
        return 0;
    if (!a->playing) {
        if (level_samples(a) * 1000.0 / MC_AUDIO_RATE < a->target_ms)
            return 0;
        a->playing = 1;
        a->level_ema = level_samples(a) * 1000.0 / MC_AUDIO_RATE;
    }
    double step = 1.0 + a->adj; /* stream samples consumed per output sample */
    double start_pos = a->pos;
    int done = 0;
    while (done < frames) {
        done += play_from_fifo(a, out + 2 * done, frames - done, step);
        if (done == frames)
            break;
        if (decode_next(a) && conceal_empty(a)) {
            underrun(a);
            break;
        }
    }
    /* Timestamp of the first sample played by this pull. */
    uint64_t ts0 = a->origin_ts +
                   (uint64_t)llround(((double)a->fifo_sample0 + start_pos) * 1e6 / MC_AUDIO_RATE);
    int drop = (int)a->pos;
    if (drop > a->fifo_len)
        drop = a->fifo_len;
    memmove(a->fifo, a->fifo + 2 * drop, sizeof(float) * 2 * (size_t)(a->fifo_len - drop));
    a->fifo_len -= drop;
    a->pos -= drop;
    a->fifo_sample0 += drop;
    a->st.samples_played += (uint64_t)done;
    if (done > 0) {
        a->clock_valid = a->playing;
        a->pull_local_us = now_us;
        a->pull_ts = ts0;
        a->pull_latency_us = latency_us;
        a->pull_step = step;
        a->pull_frames = done;
        detect_clicks(a, out, done, now_us + latency_us);
    }
    if (a->playing)
        control(a, (double)frames / MC_AUDIO_RATE, now_us);
    return done;
}

int mc_audio_rx_clock(const mc_audio_rx *a, uint64_t now_us, uint64_t *ts_us)
{
    if (!a->clock_valid)
        return 0;
    /* Sample k of the last pull is heard at pull_local + latency + k/rate. */
    double since = (double)(int64_t)(now_us - a->pull_local_us) - a->pull_latency_us;
    double span = a->pull_frames * 1e6 / MC_AUDIO_RATE + 20000; /* the device may call late */
    if (since > span)
        since = span;
    double ts = (double)a->pull_ts + since * a->pull_step;
    /* pull_ts comes from the packets' timestamps: a forged one near 2^64
     * must clamp, not overflow the conversion (found by fuzz_receiver). */
    *ts_us = !(ts > 0) ? 0 : ts >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)ts;
    return 1;
}

int mc_audio_rx_take_clicks(mc_audio_rx *a, uint64_t *out, int max)
{
    int n = a->nclicks < max ? a->nclicks : max;
    memcpy(out, a->clicks, sizeof(uint64_t) * (size_t)n);
    a->nclicks = 0;
    return n;
}

void mc_audio_rx_get_stats(const mc_audio_rx *a, mc_audio_rx_stats *st)
{
    *st = a->st;
    st->playing = a->playing;
    st->level_ms = level_samples(a) * 1000.0 / MC_AUDIO_RATE;
    st->target_ms = (int)a->target_ms;
    st->drift_ppm = a->adj * 1e6;
    st->channels = a->have_stream ? a->channels : 0;
    st->frame_ms = a->have_stream ? a->frame_samples * 1000 / MC_AUDIO_RATE : 0;
}
