/* The sender's audio: a source (a test tone, a WAV file, or an SDL2 capture
 * device: the monitor of what the computer plays, or the microphone), an
 * Opus encoder with low delay, and packets that repeat the last frames.
 *
 * Every frame carries the capture time of its first sample on the same
 * clock as the video frames (mc_now_us), which is what lets the viewer put
 * picture and sound together. */
#include <SDL.h>
#include <math.h>
#include <opus/opus.h>
#include "mc/platform.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_loopback.h"
#include "mc/audio.h"
#include "mc/common.h"
#include "mc/wav.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { SRC_TONE, SRC_FILE, SRC_DEVICE };

#define MARKS 16
#define MAX_PACKET 1200        /* audio packets stay below the usual video MTU */
#define TONE_HZ 440.0
#define TONE_AMP 0.25          /* -12 dBFS */
#define CLICK_MS 5             /* the marker: 5 ms of a loud 1 kHz burst */
#define CAPTURE_RING (MC_AUDIO_RATE / 2) /* 500 ms of captured sound */

struct mc_audio_tx {
    mc_audio_config cfg;
    char desc[160];
    int kind;
    int frame_samples;
    OpusEncoder *enc;
    uint64_t lookahead_us; /* Opus delays its output by this much */
    uint32_t session, seq;
    mc_audio_send_fn send;
    void *ctx;
    mc_thread thread;
    int started;
    atomic_int stop;
    mc_mutex mu; /* marks, stats, the capture ring */
    mc_cond cv;
    uint64_t marks[MARKS];
    int nmarks;
    double phase;
    /* file */
    int16_t *wav; /* stereo, 48 kHz */
    size_t wav_frames, wav_pos;
    /* device */
    SDL_AudioDeviceID dev;
    mc_loopback *loop; /* Windows: what the computer plays */
    int16_t *ring; /* stereo */
    size_t ring_r, ring_n;
    uint64_t ring_ts; /* capture time of ring[ring_r] */
    /* the last frames, for repeating */
    uint8_t hist[MC_AUDIO_MAX_FRAMES][MC_AUDIO_MAX_OPUS];
    uint16_t hist_len[MC_AUDIO_MAX_FRAMES];
    int hist_n;
    mc_audio_tx_stats st;
};

void mc_audio_config_default(mc_audio_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->source = "none";
    cfg->bitrate = MC_AUDIO_MEDIUM_BPS;
    cfg->channels = 2;
    cfg->frame_ms = 10;
    cfg->redundancy = 2;
}

int mc_audio_parse_bitrate(const char *text, mc_audio_config *cfg)
{
    long v;
    if (!strcmp(text, "low")) {
        cfg->bitrate = MC_AUDIO_LOW_BPS;
        cfg->channels = 1;
    } else if (!strcmp(text, "medium")) {
        cfg->bitrate = MC_AUDIO_MEDIUM_BPS;
        cfg->channels = 2;
    } else if (!strcmp(text, "high")) {
        cfg->bitrate = MC_AUDIO_HIGH_BPS;
        cfg->channels = 2;
    } else if (mc_parse_long(text, 6000, 510000, &v) == 0) {
        cfg->bitrate = (int)v;
    } else {
        return MC_EINVAL;
    }
    return 0;
}

/* ---- sources ----------------------------------------------------------- */

/* Loads a WAV file as 48 kHz stereo (mc/wav.h). */
static int load_wav(mc_audio_tx *t, const char *path)
{
    char why[256];
    mc_wav_info info;
    int err = mc_wav_load(path, &t->wav, &t->wav_frames, &info, why, sizeof(why));
    if (err) {
        mc_log(0, "mcshare: cannot use the sound file %s: %s", path, why);
        return err == MC_ENOMEM ? err : MC_EAUDIO;
    }
    if (info.truncated)
        mc_log(0, "mcshare: the sound file %s is cut short: its %.1f s that are there will "
               "loop", path, info.seconds);
    snprintf(t->desc, sizeof(t->desc), "file %s (%u Hz, %u ch, %u-bit%s, %.1f s, looped)", path,
             info.rate, info.channels, info.bits, info.is_float ? " float" : "", info.seconds);
    return 0;
}

/* n stereo frames just captured, into the ring the encoder reads. */
static void ring_push(mc_audio_tx *t, const int16_t *in, size_t n)
{
    uint64_t now = mc_now_us();
    mc_mutex_lock(&t->mu);
    if (t->ring_n + n > CAPTURE_RING) { /* the encoder fell behind: drop the oldest */
        size_t drop = t->ring_n + n - CAPTURE_RING;
        t->ring_r = (t->ring_r + drop) % CAPTURE_RING;
        t->ring_n -= drop;
        t->st.overruns += drop;
    }
    for (size_t i = 0; i < n; i++) {
        size_t w = (t->ring_r + t->ring_n + i) % CAPTURE_RING;
        t->ring[2 * w] = in[2 * i];
        t->ring[2 * w + 1] = in[2 * i + 1];
    }
    t->ring_n += n;
    /* The first sample of this buffer was captured len samples ago. */
    t->ring_ts = now - (uint64_t)((double)t->ring_n * 1e6 / MC_AUDIO_RATE);
    mc_cond_signal(&t->cv);
    mc_mutex_unlock(&t->mu);
}

static void SDLCALL on_capture(void *ctx, Uint8 *stream, int len)
{
    ring_push(ctx, (const int16_t *)(void *)stream, (size_t)len / 4);
}

#ifdef _WIN32
static void on_loopback(void *ctx, const int16_t *stereo, size_t frames)
{
    ring_push(ctx, stereo, frames);
}

/* Windows offers no "monitor" input: WASAPI's loopback of the output. */
static int open_loopback(mc_audio_tx *t)
{
    char name[192];
    t->ring = calloc(CAPTURE_RING * 2, sizeof(int16_t));
    if (!t->ring)
        return MC_ENOMEM;
    int err = mc_loopback_open(on_loopback, t, name, sizeof(name), &t->loop);
    if (err)
        return err;
    snprintf(t->desc, sizeof(t->desc), "what this computer plays: %s", name);
    return 0;
}
#endif

static int open_device(mc_audio_tx *t, int monitor)
{
#ifdef _WIN32
    if (monitor)
        return open_loopback(t);
#endif
    if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
        mc_log(0, "mcshare: no audio system (%s)", SDL_GetError());
        return MC_EAUDIO;
    }
    const char *name = NULL;
    if (monitor) {
        /* PulseAudio and PipeWire offer "Monitor of <output>" as an input:
         * it records what the computer is playing. */
        int n = SDL_GetNumAudioDevices(1);
        for (int i = 0; i < n && !name; i++) {
            const char *d = SDL_GetAudioDeviceName(i, 1);
            if (d && strstr(d, "Monitor"))
                name = d;
        }
        if (!name) {
            mc_log(0, "mcshare: no monitor of the sound output found (needs PulseAudio or "
                      "PipeWire; --audio mic records the microphone instead)");
            SDL_QuitSubSystem(SDL_INIT_AUDIO);
            return MC_EAUDIO;
        }
    }
    t->ring = calloc(CAPTURE_RING * 2, sizeof(int16_t));
    if (!t->ring)
        return MC_ENOMEM;
    SDL_AudioSpec want = {.freq = MC_AUDIO_RATE, .format = AUDIO_S16SYS, .channels = 2,
                          .samples = (Uint16)t->frame_samples, .callback = on_capture,
                          .userdata = t},
                  have;
    t->dev = SDL_OpenAudioDevice(name, 1, &want, &have, 0);
    if (!t->dev) {
        mc_log(0, "mcshare: cannot open the %s: %s", monitor ? "sound output's monitor" : "microphone",
               SDL_GetError());
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        return MC_EAUDIO;
    }
    snprintf(t->desc, sizeof(t->desc), "%s \"%s\"", monitor ? "what this computer plays:" : "microphone",
             name ? name : "default input");
    return 0;
}

/* Makes the next frame of a generated source (tone or file). */
static void generate(mc_audio_tx *t, int16_t *pcm, uint64_t ts)
{
    int n = t->frame_samples;
    if (t->kind == SRC_FILE) {
        for (int i = 0; i < n; i++) {
            pcm[2 * i] = t->wav[2 * t->wav_pos];
            pcm[2 * i + 1] = t->wav[2 * t->wav_pos + 1];
            t->wav_pos = (t->wav_pos + 1) % t->wav_frames;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        int16_t v = (int16_t)lrint(sin(t->phase) * TONE_AMP * 32767);
        t->phase += 2 * M_PI * TONE_HZ / MC_AUDIO_RATE;
        if (t->phase > 2 * M_PI)
            t->phase -= 2 * M_PI;
        pcm[2 * i] = pcm[2 * i + 1] = v;
    }
    /* Clicks for the marks that fall in this frame; a click may continue
     * into the next one. A mark already past starts the click at once. */
    double fus = n * 1e6 / MC_AUDIO_RATE, click_us = CLICK_MS * 1000.0;
    mc_mutex_lock(&t->mu);
    int keep = 0;
    for (int m = 0; m < t->nmarks; m++) {
        double d = (double)(int64_t)(t->marks[m] - ts); /* mark relative to this frame */
        if (d >= fus) {
            t->marks[keep++] = t->marks[m];
            continue;
        }
        for (int i = 0; i < n; i++) {
            double since = i * 1e6 / MC_AUDIO_RATE - (d > -click_us ? d : 0);
            if (since < 0 || since >= click_us)
                continue;
            pcm[2 * i] = pcm[2 * i + 1] =
                (int16_t)lrint(0.9 * 32767 * sin(2 * M_PI * 1000.0 * since / 1e6 + M_PI / 2));
        }
        if (d + click_us > fus)
            t->marks[keep++] = t->marks[m]; /* the rest of the click next frame */
        else
            t->st.marks++;
    }
    t->nmarks = keep;
    mc_mutex_unlock(&t->mu);
}

/* ---- encoding and sending ---------------------------------------------- */

static void encode_send(mc_audio_tx *t, const int16_t *stereo, uint64_t ts)
{
    int16_t mono[MC_AUDIO_MAX_SAMPLES];
    const int16_t *in = stereo;
    if (t->cfg.channels == 1) {
        for (int i = 0; i < t->frame_samples; i++)
            mono[i] = (int16_t)((stereo[2 * i] + stereo[2 * i + 1]) / 2);
        in = mono;
    }
    /* Shift the history: hist[0] becomes the new frame. */
    uint8_t frame[MC_AUDIO_MAX_OPUS];
    uint64_t t0 = mc_now_us();
    int len = opus_encode(t->enc, in, t->frame_samples, frame, sizeof(frame));
    uint64_t spent = mc_now_us() - t0;
    if (len <= 0) {
        mc_log(1, "mcshare: Opus could not encode a frame (%d)", len);
        return;
    }
    for (int i = MC_AUDIO_MAX_FRAMES - 1; i > 0; i--) {
        memcpy(t->hist[i], t->hist[i - 1], t->hist_len[i - 1]);
        t->hist_len[i] = t->hist_len[i - 1];
    }
    memcpy(t->hist[0], frame, (size_t)len);
    t->hist_len[0] = (uint16_t)len;
    if (t->hist_n < MC_AUDIO_MAX_FRAMES)
        t->hist_n++;

    mc_audio a = {.channels = (uint8_t)t->cfg.channels, .frame_samples = (uint16_t)t->frame_samples,
                  .rate = MC_AUDIO_RATE};
    size_t size = MC_HDR_BYTES + MC_AUDIO_HDR_BYTES;
    int want = 1 + t->cfg.redundancy < t->hist_n ? 1 + t->cfg.redundancy : t->hist_n;
    for (int i = 0; i < want && size + 2 + t->hist_len[i] <= MAX_PACKET; i++) {
        a.frames[i].data = t->hist[i];
        a.frames[i].len = t->hist_len[i];
        a.count++;
        size += 2 + t->hist_len[i];
    }
    uint8_t pkt[MAX_PACKET];
    /* The decoder's first sample of this frame is the input sample captured
     * one lookahead earlier: stamp that, so the viewer's clock is exact. */
    mc_hdr h = {.type = MC_PT_AUDIO, .session = t->session, .seq = t->seq++,
                .ts_us = ts - t->lookahead_us};
    int n = mc_wire_write_audio(pkt, sizeof(pkt), &h, &a);
    if (n > 0)
        t->send(t->ctx, pkt, (size_t)n);
    mc_mutex_lock(&t->mu);
    t->st.frames++;
    t->st.encode_us += spent;
    if (n > 0) {
        t->st.packets++;
        t->st.bytes += (uint64_t)n;
    }
    mc_mutex_unlock(&t->mu);
}

static void *audio_main(void *arg)
{
    mc_audio_tx *t = arg;
    int16_t pcm[2 * MC_AUDIO_MAX_SAMPLES];
    uint64_t fus = (uint64_t)t->frame_samples * 1000000u / MC_AUDIO_RATE;
    if (t->kind == SRC_DEVICE) {
        if (t->dev)
            SDL_PauseAudioDevice(t->dev, 0);
        mc_mutex_lock(&t->mu);
        while (!atomic_load(&t->stop)) {
            if (t->ring_n < (size_t)t->frame_samples) {
                mc_cond_wait_until(&t->cv, &t->mu, mc_now_us() + 50000u);
                continue;
            }
            for (int i = 0; i < t->frame_samples; i++) {
                pcm[2 * i] = t->ring[2 * t->ring_r];
                pcm[2 * i + 1] = t->ring[2 * t->ring_r + 1];
                t->ring_r = (t->ring_r + 1) % CAPTURE_RING;
            }
            t->ring_n -= (size_t)t->frame_samples;
            uint64_t ts = t->ring_ts;
            t->ring_ts += fus;
            mc_mutex_unlock(&t->mu);
            encode_send(t, pcm, ts);
            mc_mutex_lock(&t->mu);
        }
        mc_mutex_unlock(&t->mu);
        return NULL;
    }
    /* Generated sound is paced by the clock: frame n covers [t0 + n*fus,
     * t0 + (n+1)*fus) and leaves when that interval is over, as a real
     * capture's would. */
    uint64_t t0 = mc_now_us();
    for (uint64_t n = 0; !atomic_load(&t->stop); n++) {
        uint64_t ts = t0 + n * fus;
        mc_sleep_until_us(ts + fus);
        uint64_t now = mc_now_us();
        if (now > ts + 10 * fus) { /* stalled (suspend, debugger): skip, do not burst */
            uint64_t skip = (now - ts) / fus - 1;
            n += skip;
            ts += skip * fus;
            t->seq += (uint32_t)skip;
            mc_mutex_lock(&t->mu);
            t->st.overruns += skip * (uint64_t)t->frame_samples;
            mc_mutex_unlock(&t->mu);
        }
        generate(t, pcm, ts);
        encode_send(t, pcm, ts);
    }
    return NULL;
}

int mc_audio_tx_create(const mc_audio_config *cfg, uint32_t session, mc_audio_send_fn send,
                       void *ctx, mc_audio_tx **out)
{
    *out = NULL;
    if (!cfg->source || !strcmp(cfg->source, "none"))
        return MC_EINVAL;
    if ((cfg->frame_ms != 5 && cfg->frame_ms != 10 && cfg->frame_ms != 20) ||
        (cfg->channels != 1 && cfg->channels != 2) || cfg->bitrate < 6000 ||
        cfg->bitrate > 510000 || cfg->redundancy < 0 || cfg->redundancy > MC_AUDIO_MAX_FRAMES - 1)
        return MC_EINVAL;
    mc_audio_tx *t = calloc(1, sizeof(*t));
    if (!t)
        return MC_ENOMEM;
    t->cfg = *cfg;
    t->frame_samples = MC_AUDIO_RATE / 1000 * cfg->frame_ms;
    t->session = session;
    t->seq = session * 2246822519u; /* any start; a random one exercises wrap-around */
    t->send = send;
    t->ctx = ctx;
    mc_mutex_init(&t->mu);
    mc_cond_init(&t->cv);
    int err = 0;
    if (!strcmp(cfg->source, "tone")) {
        t->kind = SRC_TONE;
        snprintf(t->desc, sizeof(t->desc), "test tone (440 Hz, -12 dBFS, clicks on markers)");
    } else if (!strncmp(cfg->source, "file:", 5)) {
        t->kind = SRC_FILE;
        err = load_wav(t, cfg->source + 5);
    } else if (!strcmp(cfg->source, "default") || !strcmp(cfg->source, "mic")) {
        t->kind = SRC_DEVICE;
        err = open_device(t, !strcmp(cfg->source, "default"));
    } else {
        err = MC_EINVAL;
    }
    if (!err) {
        int oerr;
        t->enc = opus_encoder_create(MC_AUDIO_RATE, cfg->channels,
                                     OPUS_APPLICATION_RESTRICTED_LOWDELAY, &oerr);
        if (!t->enc)
            err = MC_ENOMEM;
    }
    if (!err) {
        opus_encoder_ctl(t->enc, OPUS_SET_BITRATE(cfg->bitrate));
        opus_int32 la = 0;
        opus_encoder_ctl(t->enc, OPUS_GET_LOOKAHEAD(&la));
        t->lookahead_us = (uint64_t)la * 1000000u / MC_AUDIO_RATE;
        size_t l = strlen(t->desc);
        snprintf(t->desc + l, sizeof(t->desc) - l, ", Opus %d kbit/s %s, %d ms frames",
                 cfg->bitrate / 1000, cfg->channels == 1 ? "mono" : "stereo", cfg->frame_ms);
        if (mc_thread_start(&t->thread, audio_main, t))
            err = MC_ENOMEM;
        else
            t->started = 1;
    }
    if (err) {
        mc_audio_tx_destroy(t);
        return err;
    }
    *out = t;
    return 0;
}

void mc_audio_tx_mark(mc_audio_tx *t, uint64_t ts_us)
{
    if (!t || t->kind != SRC_TONE)
        return;
    mc_mutex_lock(&t->mu);
    if (t->nmarks < MARKS)
        t->marks[t->nmarks++] = ts_us;
    mc_mutex_unlock(&t->mu);
}

void mc_audio_tx_get_stats(mc_audio_tx *t, mc_audio_tx_stats *st)
{
    mc_mutex_lock(&t->mu);
    *st = t->st;
    mc_mutex_unlock(&t->mu);
}

const char *mc_audio_tx_describe(const mc_audio_tx *t) { return t->desc; }

void mc_audio_tx_destroy(mc_audio_tx *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, 1);
    if (t->started) {
        mc_mutex_lock(&t->mu);
        mc_cond_signal(&t->cv);
        mc_mutex_unlock(&t->mu);
        mc_thread_join(t->thread);
    }
#ifdef _WIN32
    mc_loopback_close(t->loop);
#endif
    if (t->dev) {
        SDL_CloseAudioDevice(t->dev);
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
    }
    if (t->enc)
        opus_encoder_destroy(t->enc);
    mc_cond_destroy(&t->cv);
    mc_mutex_destroy(&t->mu);
    free(t->wav);
    free(t->ring);
    free(t);
}
