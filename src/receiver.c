/* Receiver pipeline.
 *
 *   receive thread (receiver_rx.c): drains the socket (recvmmsg), checks
 *       signatures and opens sealed datagrams, and feeds each one;
 *   feed: validates, follows the session, reassembles tiles; a complete
 *       tile goes on the decode queue (newest version wins);
 *   decode workers: decode each tile with its codec (mc/codec.h) into a
 *       private scratch tile, then copy it into the picture under the lock;
 *   moves (receiver_move.c): tiles made of pixels the viewer already holds.
 *
 * Each tile slot owns two buffers (assembling, ready); each worker owns
 * one. A worker swaps the ready buffer with its own, so no buffer is ever
 * copied or shared and nothing is allocated per packet. Memory is fixed per
 * session and bounded by MC_RX_MAX_MEMORY whatever the announce says.
 */
#include "mc/receiver.h"
#include "mc/relay.h"

#include <errno.h>
#include <math.h>
#include "mc/platform.h"
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixel_loop.h"
#include "receiver_state.h"
#include "mc/common.h"
#include "mc/net.h"
#include "mc/tiles.h"
#include "mc/wire.h"

#define MC_RX_MAX_MEMORY (512u << 20) /* tile buffers + picture, per session */
/* The followed sender quiet this long (it sends ~40 packets in that time
 * even when idle): follow a new one. */
#define SESSION_SWITCH_SILENCE_US 300000u
#define PICTURE_BLANK 0x00202020u
/* Video may run ahead of the last announce by the announce interval; a
 * frame number further ahead is corrupt or forged and would otherwise pin
 * its tile until the counter caught up. */
#define MAX_FRAMES_AHEAD 1024

void mc_receiver_config_default(mc_receiver_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->group = MC_DEFAULT_GROUP;
    cfg->port = MC_DEFAULT_PORT;
    cfg->rcvbuf_bytes = 8 << 20;
    cfg->ctrl = 1;
    cfg->volume = 100;
    int n = mc_cpu_count();
    cfg->threads = n < 64 ? n : 2;
}

/* ---- session memory ---------------------------------------------------- */

static void free_session(mc_receiver *r)
{
    for (int i = 0; r->tiles && i < r->grid.count; i++) {
        free(r->tiles[i].asm_buf);
        free(r->tiles[i].ready_buf);
    }
    free(r->tiles);
    r->tiles = NULL;
    for (int i = 0; i <= r->nworkers; i++) {
        free(r->w[i].buf);
        free(r->w[i].scratch);
        r->w[i].buf = r->w[i].scratch = NULL;
    }
    free(r->dq);
    if (r->refcur != r->pixels)
        free(r->refcur);
    free(r->pixels);
    free(r->refprev);
    free(r->move_px);
    free(r->dirty);
    mc__rx_av_free(r);
    r->dq = NULL;
    r->pixels = r->dirty = r->refcur = r->refprev = r->move_px = NULL;
    r->npend = 0;
    memset(&r->grid, 0, sizeof(r->grid));
}

static int alloc_session(mc_receiver *r, const mc_announce *a)
{
    mc_grid g;
    if (mc_grid_init(&g, a->width, a->height, a->tile))
        return MC_EFIELD;
    size_t buf = MC_CODEC_HEADROOM + a->max_tile_bytes + MC_CODEC_TAILROOM;
    size_t scratch = (size_t)a->tile * a->tile * 4;
    /* The picture, its copy for moves when sound holds tiles back, and the
     * previous versions (refprev) once the session moves tiles. */
    size_t pics = (r->cfg.audio != MC_AUDIO_OUT_NONE ? 3 : 2) * ((size_t)a->width * a->height * 4);
    size_t total = ((size_t)g.count * 2 + (size_t)r->nworkers + 1) * buf +
                   (size_t)(r->nworkers + 2) * scratch + pics;
    if (total > (r->cfg.max_memory ? r->cfg.max_memory : MC_RX_MAX_MEMORY))
        return MC_ETOOBIG;
    r->grid = g;
    r->buf_bytes = buf;
    r->pitch = a->width * 4;
    r->tiles = calloc((size_t)g.count, sizeof(*r->tiles));
    r->dq = calloc((size_t)g.count, sizeof(*r->dq));
    r->pixels = malloc((size_t)r->pitch * a->height);
    r->dirty = calloc((size_t)g.count, 1);
    r->refcur = r->cfg.audio != MC_AUDIO_OUT_NONE && !r->cfg.no_decode
                    ? malloc((size_t)r->pitch * a->height) : r->pixels;
    r->move_px = malloc(scratch);
    if (!r->tiles || !r->dq || !r->pixels || !r->dirty || !r->refcur || !r->move_px)
        return MC_ENOMEM;
    /* Each tile's two buffers come with its first fragment (a tile that
     * never arrives costs nothing); the total stays within the cap above. */
    for (int i = 0; i <= r->nworkers; i++) {
        r->w[i].buf = malloc(buf);
        r->w[i].scratch = malloc(scratch);
        if (!r->w[i].buf || !r->w[i].scratch)
            return MC_ENOMEM;
    }
    return 0;
}

MC_PIXEL_LOOP
static void blank_picture(mc_receiver *r)
{
    size_t n = (size_t)r->grid.width * r->grid.height;
    uint32_t *p = (uint32_t *)(void *)r->pixels;
    if (!n)
        return;
    /* One pixel, then doubling copies: a few memcpy calls instead of a
     * store per pixel (which sanitizers check one by one). */
    p[0] = PICTURE_BLANK;
    for (size_t done = 1; done < n;) {
        size_t k = done < n - done ? done : n - done;
        memcpy(p + done, p, k * sizeof(*p));
        done += k;
    }
    memset(r->dirty, 1, (size_t)r->grid.count);
}

static int same_geometry(const mc_announce *a, const mc_announce *b)
{
    return a->width == b->width && a->height == b->height && a->tile == b->tile &&
           a->max_tile_bytes == b->max_tile_bytes;
}

/* Same geometry and the same codec parameters. */
static int same_announce(const mc_announce *a, const mc_announce *b)
{
    if (!same_geometry(a, b) || a->ncodecs != b->ncodecs)
        return 0;
    for (int i = 0; i < a->ncodecs; i++)
        if (a->codecs[i].id != b->codecs[i].id || a->codecs[i].len != b->codecs[i].len ||
            memcmp(a->codecs[i].params, b->codecs[i].params, a->codecs[i].len))
            return 0;
    return 1;
}

/* Keeps the announce, its codec parameters copied, and hands them to every
 * decoder (the workers are idle). A codec whose parameters are refused
 * decodes nothing; its tiles count as decode errors. */
static void take_announce(mc_receiver *r, const mc_announce *a)
{
    r->ann = *a;
    for (int i = 0; i < a->ncodecs; i++) {
        memcpy(r->ann_params[i], a->codecs[i].params, a->codecs[i].len);
        r->ann.codecs[i].params = r->ann_params[i];
    }
    for (int w = 0; w <= r->nworkers; w++) {
        if (!r->w[w].dec)
            continue;
        mc_tile_decoders_reset(r->w[w].dec);
        for (int i = 0; i < a->ncodecs; i++)
            if (mc_tile_decoders_params(r->w[w].dec, a->codecs[i].id, a->codecs[i].params,
                                        a->codecs[i].len) && w == 0)
                r->st.bad_codec_params++;
    }
}

/* Every tile as if never seen, keeping its buffers. */
MC_PIXEL_LOOP
static void forget_tiles(mc_receiver *r)
{
    for (int i = 0; i < r->grid.count; i++) {
        tile_slot *t = &r->tiles[i];
        uint8_t *ab = t->asm_buf, *rb = t->ready_buf;
        memset(t, 0, sizeof(*t));
        t->asm_buf = ab;
        t->ready_buf = rb;
    }
}

/* Starts following a session. The caller holds mu. Waits for the decode
 * workers to go idle first, since they hold pointers into session memory. */
static int session_start(mc_receiver *r, const mc_hdr *h, const mc_announce *a, uint64_t now)
{
    r->resetting = 1;
    while (r->busy > 0)
        mc_cond_wait(&r->cv_idle, &r->mu);
    r->resetting = 0;
    int err = 0;
    if (!r->tiles || !same_geometry(a, &r->ann)) {
        free_session(r);
        err = alloc_session(r, a);
        if (err) { /* too big for our memory cap, or out of memory */
            free_session(r);
            memset(&r->ann, 0, sizeof(r->ann));
            r->state = MC_RX_WAITING;
            r->session = 0;
            r->st.tiles_held = 0; /* no picture is held any more */
            r->st.bad_field++;
            return err;
        }
    }
    forget_tiles(r);
    take_announce(r, a);
    r->dq_head = r->dq_len = 0;
    r->npend = 0;
    mc__rx_av_reset(r);
    memset(r->frames, 0, sizeof(r->frames));
    mc__fecrx_reset(r->fec, a->mtu);
    blank_picture(r);
    r->session = h->session;
    r->state = MC_RX_LIVE;
    r->generation++;
    r->last_rx_us = now;
    r->seq_init = 0;
    r->st.sessions++;
    r->ctrl_ip = r->rx_src;
    r->clock_synced = 0;
    r->st.expected = r->st.received = r->st.frames_complete = r->st.frames_decoded = 0;
    r->st.frames_seen = r->st.frames_expected = 0;
    r->st.tiles_held = 0;
    r->lat_c_n = r->lat_d_n = 0;
    r->jit_valid = 0;
    r->st.jitter_ms = 0;
    r->pic_seq++;
    mc_cond_broadcast(&r->cv_pic);
    mc_log(1, "mcview: session %08x: %dx%d, tile %d, %d codecs, %d fps", h->session, a->width,
           a->height, a->tile, a->ncodecs, a->fps);
    return 0;
}

/* ---- frames and latency ------------------------------------------------ */

frame_rec *mc__rx_frame_find(mc_receiver *r, uint32_t frame)
{
    frame_rec *f = &r->frames[frame % FRAME_RING];
    return f->used && f->frame == frame ? f : NULL;
}

frame_rec *mc__rx_frame_get(mc_receiver *r, uint32_t frame, uint64_t ts, uint16_t expected)
{
    frame_rec *f = &r->frames[frame % FRAME_RING];
    if (f->used && f->frame == frame)
        return f;
    if (f->used && mc_seq_lt(frame, f->frame))
        return NULL; /* older than the ring remembers */
    *f = (frame_rec){.frame = frame, .ts_us = ts, .expected = expected, .used = 1};
    if (!r->st.frames_seen++)
        r->frame_first = r->frame_max = frame;
    else if (mc_seq_lt(r->frame_max, frame))
        r->frame_max = frame;
    r->st.frames_expected = (uint64_t)(uint32_t)(r->frame_max - r->frame_first) + 1;
    return f;
}

static void frame_decoded(mc_receiver *r, uint32_t frame, uint64_t now)
{
    frame_rec *f = &r->frames[frame % FRAME_RING];
    if (!f->used || f->frame != frame)
        return;
    if (++f->decoded == f->expected) {
        r->st.frames_decoded++;
        mc__rx_lat_add(r->lat_d, &r->lat_d_n, (double)((int64_t)(now - f->ts_us) + r->clock_offset_us) / 1000.0);
        r->pic_seq++;
        mc_cond_broadcast(&r->cv_pic);
    }
}

/* Counts tile t as delivered for frame f (once per frame). */
void mc__rx_frame_account(mc_receiver *r, frame_rec *f, tile_slot *t, int already_decoded,
                          uint64_t now)
{
    if (!f || (t->acc_valid && t->acc_frame == f->frame))
        return;
    t->acc_valid = 1;
    t->acc_frame = f->frame;
    if (++f->accounted == f->expected) {
        r->st.frames_complete++;
        double transit = (double)((int64_t)(now - f->ts_us) + r->clock_offset_us) / 1000.0;
        mc__rx_lat_add(r->lat_c, &r->lat_c_n, transit);
        if (r->jit_valid)
            r->st.jitter_ms += (fabs(transit - r->jit_prev_ms) - r->st.jitter_ms) / 16.0;
        r->jit_prev_ms = transit;
        r->jit_valid = 1;
    }
    if (already_decoded)
        frame_decoded(r, f->frame, now);
}

/* ---- decoding ---------------------------------------------------------- */

static void dq_push(mc_receiver *r, int t)
{
    if (r->tiles[t].queued)
        return; /* already queued: the newest ready version will be taken */
    r->tiles[t].queued = 1;
    r->dq[(r->dq_head + r->dq_len) % r->grid.count] = (uint16_t)t;
    r->dq_len++;
    mc_cond_signal(&r->cv_dec);
}

/* Takes the next ready tile into worker w's buffer. Caller holds mu.
 * Returns 1 with *job filled, 0 when the queue has nothing ready. */
static int take_job(mc_receiver *r, worker_ctx *w, decode_job *job)
{
    while (r->dq_len > 0) {
        int t = r->dq[r->dq_head];
        r->dq_head = (r->dq_head + 1) % r->grid.count;
        r->dq_len--;
        tile_slot *s = &r->tiles[t];
        s->queued = 0;
        if (!s->ready)
            continue;
        uint8_t *b = s->ready_buf;
        s->ready_buf = w->buf;
        w->buf = b;
        s->ready = 0;
        *job = (decode_job){.tile = t, .version = s->ready_version, .frame = s->ready_frame,
                            .len = s->ready_len, .generation = r->generation,
                            .codec = s->ready_codec};
        s->decoding = 1;
        s->decoding_ver = s->ready_version;
        mc_grid_rect(&r->grid, t, &job->x, &job->y, &job->w, &job->h);
        return 1;
    }
    return 0;
}

/* Decodes a taken job; needs no lock (the session cannot change while a
 * worker is busy). Returns 0 or a negative MC_E* code. */
static int run_job(mc_receiver *r, worker_ctx *w, const decode_job *job)
{
    int err = mc_tile_decoders_decode(w->dec, job->codec, w->buf + MC_CODEC_HEADROOM, job->len,
                                      job->w, job->h, w->scratch, job->w * 4);
    if (!err)
        mc__rx_tile_event(r, job, w->scratch);
    return err;
}

/* Takes a decoded tile: counts it, then shows it now, or when the sound
 * gets there. Caller holds mu. */
static void finish_job(mc_receiver *r, worker_ctx *w, const decode_job *job, int err)
{
    if (job->generation != r->generation)
        return;
    tile_slot *s = &r->tiles[job->tile];
    if (s->decoding && s->decoding_ver == job->version)
        s->decoding = 0;
    if (err)
        r->st.decode_errors++;
    else
        mc__rx_tile_done(r, job, w->scratch);
    mc__rx_moves_retry(r); /* a move may have waited for this version */
}

void mc__rx_tile_done(mc_receiver *r, const decode_job *job, const uint8_t *px)
{
    tile_slot *s = &r->tiles[job->tile];
    if (s->cur_have && mc_seq_le(job->version, s->cur_ver))
        return; /* a newer version got there first */
    mc__rx_ref_store(r, job, px);
    r->st.tiles_decoded++;
    uint64_t now = mc_now_us();
    frame_decoded(r, job->frame, now);
    if (s->waiting && s->wait_frame != job->frame)
        frame_decoded(r, s->wait_frame, now);
    s->waiting = 0;
    mc__rx_show_tile(r, job, px, now);
}

static void *decode_main(void *arg)
{
    mc_receiver *r = ((worker_arg *)arg)->r;
    worker_ctx *w = &r->w[((worker_arg *)arg)->index];
    mc_mutex_lock(&r->mu);
    while (!r->stop) {
        decode_job job;
        if (r->resetting || !take_job(r, w, &job)) {
            mc_cond_wait(&r->cv_dec, &r->mu);
            continue;
        }
        r->busy++;
        mc_mutex_unlock(&r->mu);
        int err = run_job(r, w, &job);
        mc_mutex_lock(&r->mu);
        finish_job(r, w, &job, err);
        if (--r->busy == 0)
            mc_cond_broadcast(&r->cv_idle);
    }
    mc_mutex_unlock(&r->mu);
    return NULL;
}

/* Without workers (tests, fuzzers) tiles are decoded at once, in feed. */
void mc__rx_decode_inline(mc_receiver *r)
{
    worker_ctx *w = &r->w[r->nworkers];
    decode_job job;
    while (take_job(r, w, &job))
        finish_job(r, w, &job, run_job(r, w, &job));
}

/* ---- packets ----------------------------------------------------------- */

static void tile_complete(mc_receiver *r, tile_slot *s, int t, frame_rec *f, uint32_t frame,
                          uint64_t now)
{
    s->assembling = 0;
    if (s->got_bytes != s->tile_bytes) {
        r->st.corrupt_tile++; /* overlapping fragments: forged or corrupt */
        return;
    }
    uint8_t *b = s->ready_buf;
    s->ready_buf = s->asm_buf;
    s->asm_buf = b;
    s->ready = 1;
    s->ready_version = s->version;
    s->ready_len = s->tile_bytes;
    s->ready_frame = frame;
    s->ready_codec = s->codec;
    r->st.tiles_complete++;
    mc__rx_frame_account(r, f, s, r->cfg.no_decode, now);
    if (r->cfg.no_decode) { /* versions only: moves still check them */
        s->ready = 0;
        if (!s->have)
            r->st.tiles_held++;
        s->have = 1;
        s->shown_version = s->version;
        mc__rx_ref_store(r, &(decode_job){.tile = t, .version = s->version}, NULL);
        mc__rx_moves_retry(r);
        return;
    }
    dq_push(r, t);
}

/* A tile's assembly and ready buffers, on its first fragment. */
static int tile_buffers(mc_receiver *r, tile_slot *s)
{
    s->asm_buf = malloc(r->buf_bytes);
    s->ready_buf = malloc(r->buf_bytes);
    if (s->asm_buf && s->ready_buf)
        return 1;
    free(s->asm_buf);
    free(s->ready_buf);
    s->asm_buf = s->ready_buf = NULL;
    return 0;
}

/* Fragment k of n covers bytes [k * L, k * L + len) of the tile, where L is
 * the length of every fragment but the last, which takes the rest: so n
 * distinct fragments cover the tile exactly, with no hole and no overlap.
 * L is learnt from the first fragment of the assembly. */
static int fragment_fits(tile_slot *s, const mc_video *v)
{
    uint32_t n = v->frag_count, k = v->frag, L;
    if (n == 1)
        return v->offset == 0 && v->len == v->tile_bytes;
    if (k + 1 < n) {
        L = (uint32_t)v->len;
        if (v->offset != k * L)
            return 0;
    } else {
        L = v->offset / k;
        if (v->offset != k * L || v->len != v->tile_bytes - v->offset || v->len > L)
            return 0;
    }
    /* n fragments of L (the last shorter) must make exactly tile_bytes. */
    if ((uint64_t)(n - 1) * L >= v->tile_bytes || (uint64_t)n * L < v->tile_bytes ||
        (s->frag_len && s->frag_len != L))
        return 0;
    s->frag_len = L;
    return 1;
}

/* One fragment record of a VIDEO datagram (checked against the grid by
 * the caller). */
static void on_fragment(mc_receiver *r, const mc_hdr *h, const mc_video *vp, uint64_t now)
{
    mc_video v = *vp;
    frame_rec *f = mc__rx_frame_get(r, v.frame, h->ts_us, v.frame_tiles);
    tile_slot *s = &r->tiles[v.tile];
    if (!s->seen || mc_seq_lt(s->newest_seen, v.version)) {
        s->seen = 1;
        s->newest_seen = v.version;
        s->newest_seen_us = now;
    }
    /* A version we already hold (or hold ready) is a refresh we do not need. */
    if ((s->have && mc_seq_le(v.version, s->shown_version)) ||
        (s->cur_have && mc_seq_le(v.version, s->cur_ver)) ||
        (s->ready && mc_seq_le(v.version, s->ready_version)) ||
        (s->assembling && mc_seq_lt(v.version, s->version))) {
        r->st.stale++;
        if (!s->assembling || s->version != v.version) {
            int first = f && !(s->acc_valid && s->acc_frame == f->frame);
            mc__rx_frame_account(r, f, s, !s->ready, now);
            if (first && s->ready) { /* credited when that decode lands */
                s->waiting = 1;
                s->wait_frame = f->frame;
            }
        }
        return;
    }
    if (s->assembling && (s->version != v.version || s->tile_bytes != v.tile_bytes ||
                          s->frag_count != v.frag_count || s->codec != v.codec))
        s->assembling = 0; /* a newer version (or a re-encode): start over */
    if (!s->assembling) {
        s->assembling = 1;
        s->version = v.version;
        s->codec = v.codec;
        s->tile_bytes = v.tile_bytes;
        s->frag_count = v.frag_count;
        s->got = 0;
        s->got_bytes = 0;
        s->frag_len = 0;
        s->orig_seen = 0;
        memset(s->bits, 0, ((size_t)v.frag_count + 63) / 64 * sizeof(uint64_t));
    }
    if (v.frame == v.version && !s->orig_seen) {
        s->orig_seen = 1;
        r->st.tiles_first_seen++;
    }
    if (!s->asm_buf && !tile_buffers(r, s)) {
        r->st.bad_field++; /* out of memory: as if the fragment was lost */
        return;
    }
    if (!fragment_fits(s, &v)) {
        r->st.corrupt_tile++; /* a hole or an overlap: forged or corrupt */
        return;
    }
    uint64_t bit = 1ull << (v.frag % 64);
    if (s->bits[v.frag / 64] & bit) {
        r->st.duplicates++;
        return;
    }
    s->bits[v.frag / 64] |= bit;
    memcpy(s->asm_buf + MC_CODEC_HEADROOM + v.offset, v.data, v.len);
    s->got++;
    s->got_bytes += (uint32_t)v.len;
    if (s->got == s->frag_count) {
        if (v.frame == v.version)
            r->st.tiles_first_try++;
        else
            r->st.tiles_repaired++;
        tile_complete(r, s, v.tile, f, v.frame, now);
    }
    return;
}

static int on_video(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len,
                    uint64_t now)
{
    mc_video v;
    int n = mc_wire_parse_video(pkt, len, &v);
    if (n < 0) {
        r->st.bad_field++;
        return n;
    }
    /* Every record against the grid first: a datagram is taken whole or
     * not at all. */
    size_t off = 0;
    while (mc_wire_video_record(pkt, len, &off, &v))
        if (v.tile >= r->grid.count || v.tile_bytes > r->ann.max_tile_bytes ||
            v.frag_count > v.tile_bytes || v.frame_tiles > r->grid.count ||
            mc_seq_diff(v.frame, r->ann.frame) > MAX_FRAMES_AHEAD) {
            r->st.bad_tile++;
            return MC_EFIELD;
        }
    off = 0;
    while (mc_wire_video_record(pkt, len, &off, &v))
        on_fragment(r, h, &v, now);
    return 0;
}

static void seq_track(mc_receiver *r, uint32_t seq)
{
    if (!r->seq_init) {
        r->seq_init = 1;
        r->seq_first = r->seq_max = seq;
    } else if (mc_seq_lt(r->seq_max, seq)) {
        r->seq_max = seq;
    } else if (mc_seq_lt(seq, r->seq_first) && mc_seq_diff(r->seq_first, seq) < 4096) {
        r->seq_first = seq; /* an earlier packet released late (it waited for its manifest) */
    }
    r->st.received++;
    r->st.expected = (uint64_t)(uint32_t)(r->seq_max - r->seq_first) + 1;
}

/* Decides what a packet of another session means: a restarted sender
 * (follow it once ours has gone quiet or said BYE) or a second sender on
 * the same group (ignore it). */
static int on_other_session(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len,
                            uint64_t now)
{
    if (h->type != MC_PT_ANNOUNCE) {
        if (r->state == MC_RX_WAITING)
            r->st.no_announce++;
        else
            r->st.foreign_session++;
        return MC_EFIELD;
    }
    mc_announce a;
    int err = mc_wire_parse_announce(pkt, len, &a);
    if (err) {
        r->st.bad_field++;
        return err;
    }
    if (r->state == MC_RX_LIVE && now - r->last_rx_us < SESSION_SWITCH_SILENCE_US) {
        r->st.foreign_session++;
        return MC_EFIELD;
    }
    return session_start(r, h, &a, now);
}

static int on_announce(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len,
                       uint64_t now)
{
    mc_announce a;
    int err = mc_wire_parse_announce(pkt, len, &a);
    if (err) {
        r->st.bad_field++;
        return err;
    }
    /* The same session announcing other parameters: start over cleanly. */
    if (!same_announce(&a, &r->ann))
        return session_start(r, h, &a, now);
    r->ann.frame = a.frame;
    r->ann.ctrl_port = a.ctrl_port;
    if (r->rx_src)
        r->ctrl_ip = r->rx_src;
    return 0;
}

/* A packet that FEC rebuilt: processed like a received one, but it is not
 * counted as received (the loss figures stay "before FEC") and not fed to
 * FEC again. */
static void deliver_recovered(void *ctx, const uint8_t *pkt, size_t len)
{
    mc_receiver *r = ctx;
    mc_hdr h;
    if (mc_wire_parse_header(pkt, len, &h) || h.session != r->session)
        return;
    uint64_t now = mc_now_us();
    if (h.type == MC_PT_ANNOUNCE)
        on_announce(r, &h, pkt, len, now);
    else if (h.type == MC_PT_VIDEO && r->state == MC_RX_LIVE)
        on_video(r, &h, pkt, len, now);
    else if (h.type == MC_PT_MOVE && r->state == MC_RX_LIVE)
        mc__rx_on_move(r, &h, pkt, len, now);
}

static int on_parity(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len)
{
    mc_parity p;
    int err = mc_wire_parse_parity(pkt, len, &p);
    if (err) {
        r->st.bad_field++;
        return err;
    }
    mc__fecrx_parity(r->fec, h->seq, &p, deliver_recovered, r);
    return 0;
}

int mc__rx_feed_locked(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now)
{
    mc_hdr h;
    int err = mc_wire_parse_header(pkt, len, &h);
    if (err) {
        if (err == MC_EMAGIC || err == MC_ETRUNC)
            r->st.bad_magic++;
        else if (err == MC_EVERSION) {
            r->st.bad_version++;
            r->st.wire_version_seen = mc_wire_peek_version(pkt, len);
        }
        else
            r->st.bad_type++;
        return err;
    }
    if (h.type == MC_PT_MANIFEST)
        return 0; /* unsigned mode: manifests are not needed */
    if (r->state == MC_RX_WAITING || h.session != r->session)
        return on_other_session(r, &h, pkt, len, now);
    if (len > r->ann.mtu) { /* longer than the session says it sends: not its own */
        r->st.bad_field++;
        return MC_EFIELD;
    }
    r->last_rx_us = now;
    if (h.type == MC_PT_AUDIO) /* own sequence numbers; protected by repetition, not FEC */
        return r->state == MC_RX_LIVE ? mc__rx_on_audio(r, &h, pkt, len, now) : MC_ESTATE;
    seq_track(r, h.seq);
    switch (h.type) {
    case MC_PT_ANNOUNCE:
        err = on_announce(r, &h, pkt, len, now);
        if (!err && r->state != MC_RX_WAITING)
            mc__fecrx_data(r->fec, h.seq, pkt, len, deliver_recovered, r);
        return err;
    case MC_PT_VIDEO:
        if (r->state != MC_RX_LIVE)
            return MC_ESTATE; /* after BYE: stragglers of the ended broadcast */
        err = on_video(r, &h, pkt, len, now);
        if (!err)
            mc__fecrx_data(r->fec, h.seq, pkt, len, deliver_recovered, r);
        return err;
    case MC_PT_MOVE:
        if (r->state != MC_RX_LIVE)
            return MC_ESTATE;
        err = mc__rx_on_move(r, &h, pkt, len, now);
        if (!err)
            mc__fecrx_data(r->fec, h.seq, pkt, len, deliver_recovered, r);
        return err;
    case MC_PT_PARITY:
        return r->state == MC_RX_LIVE ? on_parity(r, &h, pkt, len) : MC_ESTATE;
    case MC_PT_BYE:
        if (r->state != MC_RX_ENDED) {
            r->state = MC_RX_ENDED;
            r->pic_seq++;
            mc_cond_broadcast(&r->cv_pic);
            mc_log(1, "mcview: session %08x ended", h.session);
        }
        return 0;
    default:
        r->st.bad_type++;
        return MC_EFIELD;
    }
}

int mc_receiver_wait(mc_receiver *r, int timeout_ms)
{
    uint64_t until = mc_now_us() + (uint64_t)timeout_ms * 1000u;
    mc_mutex_lock(&r->mu);
    uint64_t seen = r->pic_seq;
    int rc = 0;
    while (r->pic_seq == seen && rc == 0)
        rc = mc_cond_wait_until(&r->cv_pic, &r->mu, until);
    int changed = r->pic_seq != seen;
    mc_mutex_unlock(&r->mu);
    return changed;
}

void mc_receiver_lock_picture(mc_receiver *r, mc_picture *pic)
{
    mc_mutex_lock(&r->mu);
    if (r->tiles)
        mc__rx_release_held(r, mc_now_us());
    *pic = (mc_picture){.state = r->state, .generation = r->generation,
                        .width = r->grid.width, .height = r->grid.height, .pitch = r->pitch,
                        .pixels = r->pixels, .cols = r->grid.cols, .rows = r->grid.rows,
                        .tile = r->grid.tile, .dirty = r->dirty};
}

void mc_receiver_unlock_picture(mc_receiver *r) { mc_mutex_unlock(&r->mu); }

static int start_workers(mc_receiver *r)
{
    for (int i = 0; i <= r->nworkers; i++) {
        int err = mc_tile_decoders_create(&r->w[i].dec);
        if (err)
            return err;
    }
    for (int i = 0; i < r->nworkers; i++) {
        r->wargs[i] = (worker_arg){r, i};
        if (mc_thread_start(&r->threads[i], decode_main, &r->wargs[i])) {
            r->nworkers = i; /* destroy joins only the started ones */
            return MC_ENOMEM;
        }
    }
    return 0;
}

int mc_receiver_create(const mc_receiver_config *cfg, mc_receiver **out)
{
    *out = NULL;
    if (cfg->threads < 0 || cfg->threads > 64 || cfg->audio < MC_AUDIO_OUT_NONE ||
        cfg->audio > MC_AUDIO_OUT_VIRTUAL || cfg->volume < 0 || cfg->volume > 100 ||
        (cfg->audio_target_ms &&
         (cfg->audio_target_ms < MC_AUDIO_MIN_MS || cfg->audio_target_ms > MC_AUDIO_MAX_MS)))
        return MC_EINVAL;
    mc_receiver *r = calloc(1, sizeof(*r));
    if (!r)
        return MC_ENOMEM;
    r->cfg = *cfg;
    r->fd = -1;
    r->drop_rng = cfg->drop_seed * 0x9E3779B97F4A7C15ull + 1;
    r->nworkers = cfg->no_decode ? 0 : cfg->threads;
    mc_mutex_init(&r->mu);
    mc_mutex_init(&r->amu);
    r->volume = cfg->volume;
    r->mute = cfg->mute;
    mc_cond_init(&r->cv_pic);
    mc_cond_init(&r->cv_dec);
    mc_cond_init(&r->cv_idle);
    int err = MC_ENOMEM;
    r->threads = calloc((size_t)r->nworkers + 1, sizeof(*r->threads));
    r->wargs = calloc((size_t)r->nworkers + 1, sizeof(*r->wargs));
    r->w = calloc((size_t)r->nworkers + 1, sizeof(*r->w));
    if (r->threads && r->wargs && r->w)
        err = mc__fecrx_create(&r->fec);
    if (!err && cfg->require_signed)
        err = mc_auth_rx_create(cfg->trust_fpr, &r->auth);
    if (r->auth)
        mc_auth_rx_on_drop(r->auth, mc__rx_dropped_unsigned, r);
    if (cfg->seal_key) {
        r->has_seal = 1;
        memcpy(r->seal_key, cfg->seal_key, MC_SEAL_KEY);
    }
    r->cfg.seal_key = NULL;
    r->cfg.trust_fpr = NULL; /* copied by mc_auth_rx_create; the caller's may go */
    if (!err)
        err = start_workers(r);
    if (!err && cfg->audio != MC_AUDIO_OUT_NONE)
        err = mc_audio_rx_create(cfg->audio_target_ms ? cfg->audio_target_ms : MC_AUDIO_TARGET_MS,
                                 &r->audio);
    if (!err && cfg->audio == MC_AUDIO_OUT_VIRTUAL) {
        err = mc_thread_start(&r->audio_thread, mc__rx_audio_virtual_main, r);
        r->audio_started = !err;
    }
    if (!err && cfg->relay) {
        char why[300];
        err = mc_relay_sub_open(cfg->relay, &r->relay, &r->fd, why, sizeof(why));
        if (err)
            mc_log(0, "mcview: %s", why);
        /* The control channel goes to the relay's control port, which
         * carries it on to the teacher (mc/relay.h). */
    }
    if (!err && (cfg->group || cfg->relay)) {
        if (!cfg->relay)
            r->fd = mc_net_open_receiver_from(cfg->group, cfg->port, cfg->iface, cfg->source,
                                              cfg->rcvbuf_bytes);
        err = r->fd < 0 ? r->fd : 0;
        if (!err && !(r->rxbufs = malloc(RX_BATCH * sizeof(*r->rxbufs))))
            err = MC_ENOMEM;
        if (!err) {
            err = mc_thread_start(&r->rx_thread, mc__rx_main, r);
            r->rx_started = !err;
        }
        if (!err && r->cfg.ctrl) {
            /* Published under the lock: the client's thread already runs
             * and reads it through mc_receiver_get_stats. */
            mc__ctrl_client *cl = NULL;
            mc__ctrl_host host;
            mc__receiver_ctrl_host(r, &host);
            err = mc__ctrl_client_create(&host, cfg->name, &cl);
            mc_mutex_lock(&r->mu);
            r->client = cl;
            mc_mutex_unlock(&r->mu);
        }
    }
    if (err) {
        mc_receiver_destroy(r);
        return err;
    }
    *out = r;
    return 0;
}

int mc_receiver_reset(mc_receiver *r)
{
    if (r->cfg.group || r->nworkers || r->audio_started)
        return MC_ESTATE;
    mc_mutex_lock(&r->mu);
    free_session(r);
    /* Kept: the sub-objects made at create, each reset to its own start. */
    mc_thread *threads = r->threads;
    worker_arg *wargs = r->wargs;
    worker_ctx *w = r->w;
    mc__fecrx *fec = r->fec;
    mc_auth_rx *auth = r->auth;
    mc_audio_rx *audio = r->audio;
    uint8_t(*rxbufs)[RX_BUF_BYTES] = r->rxbufs;
    int has_seal = r->has_seal;
    uint8_t seal_key[MC_SEAL_KEY];
    memcpy(seal_key, r->seal_key, sizeof(seal_key));
    memset(&r->state, 0, sizeof(*r) - offsetof(mc_receiver, state));
    r->threads = threads;
    r->wargs = wargs;
    r->w = w;
    r->fec = fec;
    r->auth = auth;
    r->audio = audio;
    r->rxbufs = rxbufs;
    r->has_seal = has_seal;
    memcpy(r->seal_key, seal_key, sizeof(seal_key));
    r->drop_rng = r->cfg.drop_seed * 0x9E3779B97F4A7C15ull + 1;
    r->volume = r->cfg.volume;
    r->mute = r->cfg.mute;
    mc_tile_decoders_reset(w[0].dec);
    mc__fecrx_clear(fec);
    if (auth)
        mc_auth_rx_reset(auth);
    if (audio)
        mc_audio_rx_reset(audio);
    mc_mutex_unlock(&r->mu);
    return 0;
}

void mc_receiver_destroy(mc_receiver *r)
{
    if (!r)
        return;
    mc_mutex_lock(&r->mu);
    r->stop = 1;
    mc_cond_broadcast(&r->cv_dec);
    mc_cond_broadcast(&r->cv_pic);
    mc_mutex_unlock(&r->mu);
    mc__ctrl_client_destroy(r->client); /* before the receiver state it reads goes */
    atomic_store(&r->audio_stop, 1);
    if (r->audio_started)
        mc_thread_join(r->audio_thread);
    if (r->rx_started)
        mc_thread_join(r->rx_thread);
    for (int i = 0; r->threads && i < r->nworkers; i++)
        mc_thread_join(r->threads[i]);
    if (r->relay)
        mc_relay_sub_close(r->relay); /* says BYE; closes r->fd */
    else if (r->fd >= 0)
        close(r->fd);
    if (r->w) {
        free_session(r);
        for (int i = 0; i <= r->nworkers; i++)
            mc_tile_decoders_destroy(r->w[i].dec);
    }
    mc__fecrx_destroy(r->fec);
    mc_auth_rx_destroy(r->auth);
    mc_audio_rx_destroy(r->audio);
    free(r->rxbufs);
    free(r->w);
    free(r->wargs);
    free(r->threads);
    mc_cond_destroy(&r->cv_idle);
    mc_cond_destroy(&r->cv_dec);
    mc_cond_destroy(&r->cv_pic);
    mc_mutex_destroy(&r->mu);
    mc_mutex_destroy(&r->amu);
    free(r);
}
