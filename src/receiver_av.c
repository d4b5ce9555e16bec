/* Presenting decoded tiles, with the sound as the clock.
 *
 * Without sound a decoded tile goes into the picture at once. While sound
 * plays, decoded tiles wait in a FIFO (the hold queue, bounded in bytes
 * and in time) until the sound being heard reaches their frame's capture
 * time. The sound itself comes in as AUDIO packets (mc__rx_on_audio) and
 * goes out through mc_receiver_audio_pull, called by the application's
 * sound device or by the virtual one (mcprobe). The test pattern's marker
 * and the test tone's click are paired here to measure the A/V offset.
 *
 * Locks: mu (the receiver's) before amu (the sound's), never the other way.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "receiver_state.h"
#include "mc/common.h"

/* The sender time of the sound heard now; 0 when no sound is playing. */
static int audio_clock(mc_receiver *r, uint64_t now, uint64_t *ts)
{
    if (!r->audio)
        return 0;
    mc_mutex_lock(&r->amu);
    int on = mc_audio_rx_clock(r->audio, now, ts);
    mc_mutex_unlock(&r->amu);
    return on;
}

/* The test pattern's marker (a 32x32 square at 4,4: black, white on
 * marker frames). Looks at its middle when tile 0 enters the picture. */
static void check_marker(mc_receiver *r, const uint8_t *px, int pitch, int w, int h, uint64_t now)
{
    if (w < 28 || h < 28)
        return;
    int white = 1, dark = 1;
    for (int y = 12; y < 28; y += 3)
        for (int x = 12; x < 28; x += 3) {
            const uint8_t *p = px + (size_t)y * pitch + (size_t)x * 4;
            int lo = p[0] < p[1] ? p[0] : p[1], hi = p[0] > p[1] ? p[0] : p[1];
            lo = lo < p[2] ? lo : p[2];
            hi = hi > p[2] ? hi : p[2];
            white &= lo > 200;
            dark &= hi < 60;
        }
    int state = white ? 2 : dark ? 1 : 0;
    uint64_t clk;
    /* Only while the sound plays: before it starts, the picture is shown as
     * soon as it is decoded, and its offset to a click says nothing. */
    if (state == 2 && r->marker == 1 && r->nflash < AV_EVENTS && audio_clock(r, now, &clk))
        r->flashes[r->nflash++] = now;
    r->marker = state;
}

/* Pairs marker flashes with clicks; forgets events with no partner. */
static void pair_av(mc_receiver *r, uint64_t now)
{
    for (int i = 0; i < r->nflash; i++) {
        int best = -1;
        int64_t bd = 0;
        for (int j = 0; j < r->nclick; j++) {
            int64_t d = (int64_t)(r->flashes[i] - r->clicks[j]);
            if (llabs(d) < (int64_t)AV_PAIR_US && (best < 0 || llabs(d) < llabs(bd))) {
                best = j;
                bd = d;
            }
        }
        if (best < 0)
            continue;
        mc__rx_lat_add(r->av, &r->av_n, (double)bd / 1000.0);
        r->clicks[best] = r->clicks[--r->nclick];
        r->flashes[i] = r->flashes[--r->nflash];
        i--;
    }
    int k = 0;
    for (int i = 0; i < r->nflash; i++)
        if (now - r->flashes[i] < 2 * AV_PAIR_US)
            r->flashes[k++] = r->flashes[i];
    r->nflash = k;
    k = 0;
    for (int i = 0; i < r->nclick; i++)
        if ((int64_t)(now - r->clicks[i]) < (int64_t)(2 * AV_PAIR_US))
            r->clicks[k++] = r->clicks[i];
    r->nclick = k;
}

/* Copies a decoded tile into the picture unless a newer one got there
 * first. Caller holds mu. */
static void present_tile(mc_receiver *r, const decode_job *job, const uint8_t *px, uint64_t now)
{
    tile_slot *s = &r->tiles[job->tile];
    if (s->held && mc_seq_le(s->held_version, job->version))
        s->held = 0;
    if (s->have && mc_seq_le(job->version, s->shown_version))
        return;
    for (int y = 0; y < job->h; y++)
        memcpy(r->pixels + (size_t)(job->y + y) * r->pitch + (size_t)job->x * 4,
               px + (size_t)y * job->w * 4, (size_t)job->w * 4);
    if (!s->have)
        r->st.tiles_held++;
    s->have = 1;
    s->shown_version = job->version;
    r->dirty[job->tile] = 1;
    if (job->tile == 0)
        check_marker(r, px, job->w * 4, job->w, job->h, now);
}

static uint8_t *hold_pixels(mc_receiver *r, int i)
{
    return r->hold_px + (size_t)i * r->grid.tile * r->grid.tile * 4;
}

/* Puts every held tile whose time has come into the picture. Caller holds mu. */
void mc__rx_release_held(mc_receiver *r, uint64_t now)
{
    if (!r->hold_len)
        return;
    uint64_t clk = 0;
    int on = audio_clock(r, now, &clk);
    int released = 0;
    while (r->hold_len) {
        hold_item *it = &r->hold[r->hold_head];
        if (it->job.generation == r->generation) {
            /* Wait while the sound is behind, unless the time is absurd
             * (a tile from the far future) or it waited too long. */
            if (on && it->ts_us > clk && it->ts_us - clk < HOLD_MAX_US && now - it->held_at < HOLD_MAX_US)
                break;
            present_tile(r, &it->job, hold_pixels(r, r->hold_head), now);
            released = 1;
        }
        r->hold_head = (r->hold_head + 1) % r->hold_cap;
        r->hold_len--;
    }
    if (released) {
        r->pic_seq++;
        mc_cond_broadcast(&r->cv_pic);
    }
}

/* Queues a decoded tile until the sound reaches ts. Returns 0, or -1 when
 * there is no room (the caller presents it at once). */
static int hold_push(mc_receiver *r, const decode_job *job, const uint8_t *px, uint64_t ts,
                     uint64_t now)
{
    if (!r->hold) {
        size_t per = (size_t)r->grid.tile * r->grid.tile * 4;
        int cap = r->grid.count * 3;
        if ((size_t)cap * per > HOLD_MAX_BYTES)
            cap = (int)(HOLD_MAX_BYTES / per);
        r->hold = calloc((size_t)cap, sizeof(*r->hold));
        r->hold_px = malloc((size_t)cap * per);
        if (!r->hold || !r->hold_px || cap < 1) {
            free(r->hold);
            free(r->hold_px);
            r->hold = NULL;
            r->hold_px = NULL;
            return -1;
        }
        r->hold_cap = cap;
    }
    if (r->hold_len == r->hold_cap) { /* full: the oldest goes out early */
        hold_item *it = &r->hold[r->hold_head];
        if (it->job.generation == r->generation)
            present_tile(r, &it->job, hold_pixels(r, r->hold_head), now);
        r->hold_head = (r->hold_head + 1) % r->hold_cap;
        r->hold_len--;
    }
    int i = (r->hold_head + r->hold_len) % r->hold_cap;
    r->hold[i] = (hold_item){.job = *job, .ts_us = ts, .held_at = now};
    memcpy(hold_pixels(r, i), px, (size_t)job->w * job->h * 4);
    r->hold_len++;
    tile_slot *s = &r->tiles[job->tile];
    if (!s->held || mc_seq_lt(s->held_version, job->version)) {
        s->held = 1;
        s->held_version = job->version;
    }
    return 0;
}

void mc__rx_show_tile(mc_receiver *r, const decode_job *job, const uint8_t *px, uint64_t now)
{
    const frame_rec *f = &r->frames[job->frame % FRAME_RING];
    uint64_t ts = f->used && f->frame == job->frame ? f->ts_us : 0, clk;
    if (ts && (r->hold_len || audio_clock(r, now, &clk)) && hold_push(r, job, px, ts, now) == 0) {
        mc__rx_release_held(r, now); /* its time may have come already */
        return;
    }
    present_tile(r, job, px, now);
}

void mc__rx_av_reset(mc_receiver *r)
{
    r->hold_len = r->hold_head = 0;
    r->marker = 0;
    r->nflash = r->nclick = 0;
    r->av_n = 0;
}

void mc__rx_av_free(mc_receiver *r)
{
    free(r->hold);
    free(r->hold_px);
    r->hold = NULL;
    r->hold_px = NULL;
    r->hold_cap = r->hold_len = r->hold_head = 0;
}

int mc__rx_on_audio(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len,
                    uint64_t now)
{
    mc_audio a;
    int err = mc_wire_parse_audio(pkt, len, &a);
    if (err) {
        r->st.bad_field++;
        return err;
    }
    r->st.audio_packets++;
    if (r->audio) {
        mc_mutex_lock(&r->amu);
        mc_audio_rx_push(r->audio, r->session, h, &a, now);
        mc_mutex_unlock(&r->amu);
    }
    return 0;
}

void mc__rx_av_stats(mc_receiver *r, mc_receiver_stats *st)
{
    static const int lat_q[3] = {50, 95, 99}, av_q[3] = {5, 50, 95};
    st->video_held = r->hold_len;
    mc__rx_quantiles(r->alat, r->alat_n, lat_q, 3, st->audio_lat_ms);
    st->audio_lat_samples = r->alat_n < LAT_SAMPLES ? r->alat_n : LAT_SAMPLES;
    mc__rx_quantiles(r->av, r->av_n, av_q, 3, st->av_offset_ms);
    st->av_samples = r->av_n < LAT_SAMPLES ? r->av_n : LAT_SAMPLES;
    mc_mutex_lock(&r->amu);
    if (r->audio)
        mc_audio_rx_get_stats(r->audio, &st->audio);
    st->volume = r->volume;
    st->muted = r->mute;
    mc_mutex_unlock(&r->amu);
}

int mc_receiver_audio_pull(mc_receiver *r, int16_t *out, int frames, uint32_t latency_us)
{
    return mc_receiver_audio_pull_at(r, out, frames, latency_us, mc_now_us());
}

int mc_receiver_audio_pull_at(mc_receiver *r, int16_t *out, int frames, uint32_t latency_us,
                              uint64_t now)
{
    uint64_t clicks[AV_EVENTS], heard = 0;
    int n = 0, nc = 0, on = 0;
    mc_mutex_lock(&r->amu);
    if (r->audio) {
        n = mc_audio_rx_pull(r->audio, out, frames, now, latency_us);
        nc = mc_audio_rx_take_clicks(r->audio, clicks, AV_EVENTS);
        on = n > 0 && mc_audio_rx_clock(r->audio, now + latency_us, &heard);
    } else {
        memset(out, 0, sizeof(int16_t) * 2 * (size_t)frames);
    }
    double gain = r->mute ? 0 : r->volume / 100.0;
    if (gain < 1)
        for (int i = 0; i < 2 * frames; i++)
            out[i] = (int16_t)lrint(out[i] * gain);
    mc_mutex_unlock(&r->amu);

    mc_mutex_lock(&r->mu);
    for (int i = 0; i < nc && r->nclick < AV_EVENTS; i++)
        r->clicks[r->nclick++] = clicks[i];
    if (on) /* capture -> heard, on the sender's clock via the clock sync */
        mc__rx_lat_add(r->alat, &r->alat_n,
                (double)((int64_t)(now + latency_us - heard) + r->clock_offset_us) / 1000.0);
    if (r->tiles)
        mc__rx_release_held(r, now);
    pair_av(r, now);
    mc_mutex_unlock(&r->mu);
    return n;
}

void mc_receiver_set_volume(mc_receiver *r, int volume, int mute)
{
    mc_mutex_lock(&r->amu);
    r->volume = volume < 0 ? 0 : volume > 100 ? 100 : volume;
    r->mute = !!mute;
    mc_mutex_unlock(&r->amu);
}

/* MC_AUDIO_OUT_VIRTUAL: a sound card that plays into nothing, 10 ms at a
 * time on the monotonic clock, so mcprobe measures what a viewer hears. */
void *mc__rx_audio_virtual_main(void *arg)
{
    mc_receiver *r = arg;
    int16_t buf[2 * 480];
    uint64_t next = mc_now_us();
    while (!atomic_load(&r->audio_stop)) {
        mc_receiver_audio_pull(r, buf, 480, 0);
        next += 10000;
        uint64_t now = mc_now_us();
        if (next + 50000 < now)
            next = now; /* stalled: do not catch up in a burst */
        mc_sleep_until_us(next);
    }
    return NULL;
}
