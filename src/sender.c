/* Sender pipeline.
 *
 *   submit (caller's thread, sender_plan.c): diff against the reference
 *       picture, find moved tiles, pick this frame's resends;
 *   encode workers: code changed tiles (lossless or JPEG, per tile) into
 *       the tile's spare slot;
 *   send thread: fragment each coded tile into datagrams, pack moves, add
 *       FEC parity, pace under --max-bitrate, send; announce every 250 ms.
 *
 * Each tile has two coded slots. A changed tile is coded into the slot not
 * currently published; a resent tile goes out from its published slot
 * without coding. Frame N is only accepted once frame N-1 is coded and
 * frame N-2 fully sent, so a slot is never rewritten while it may still be
 * read: memory and latency stay bounded and a slow link lowers the frame
 * rate instead of building a queue.
 */
#include "mc/sender.h"

#include <errno.h>
#include "mc/platform.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "sender_internal.h"
#include "mc/common.h"
#include "mc/fec.h"
#include "mc/net.h"
#include "mc/tiles.h"
#include "mc/wire.h"

#define UDP_IP_OVERHEAD 28 /* bytes the pacer adds per datagram */

void mc_sender_config_default(mc_sender_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->group = MC_DEFAULT_GROUP;
    cfg->port = MC_DEFAULT_PORT;
    cfg->ttl = 1;
    cfg->tile = 64;
    cfg->quality = 75;
    cfg->subsamp = MC_SUBSAMP_420;
    cfg->fps = 30;
    cfg->refresh_ms = 8000;
    cfg->codec = MC_CODEC_AUTO;
    cfg->mtu = 1200;
    cfg->max_bitrate_mbit = 100.0;
    cfg->fec_percent = 20;
    cfg->fec_block = 32;
    cfg->max_viewers = 256;
    int n = mc_cpu_count();
    cfg->threads = n < 64 ? n : 2;
}

static int config_check(const mc_sender_config *c)
{
    if (c->quality < 1 || c->quality > 100 || c->fps < 1 || c->fps > 240)
        return MC_EINVAL;
    if (c->mtu < MC_MIN_MTU || c->mtu > MC_MAX_MTU || c->threads < 1 || c->threads > 64)
        return MC_EINVAL;
    if (c->refresh_ms < 100 || c->refresh_ms > 60000 || c->ttl < 0 || c->ttl > 255)
        return MC_EINVAL;
    if (!(c->max_bitrate_mbit >= 0.1 && c->max_bitrate_mbit <= 100000.0))
        return MC_EINVAL;
    if ((c->subsamp != MC_SUBSAMP_420 && c->subsamp != MC_SUBSAMP_444) ||
        c->codec < MC_CODEC_AUTO || c->codec > MC_CODEC_ONLY_LOSSLESS)
        return MC_EINVAL;
    if (c->fec_percent < 0 || c->fec_percent > 400 || c->fec_block < 1 ||
        c->fec_block > MC_FEC_MAX_K || c->max_viewers < 1 || c->max_viewers > 4096)
        return MC_EINVAL;
    return 0;
}

static uint8_t *slot_data(mc_sender *s, int tile, int slot)
{
    return s->enc_mem + ((size_t)tile * 2 + (size_t)slot) * s->max_bytes;
}

/* Queue push; the caller holds mu. Capacity covers two frames of items. */
void mc__sender_q_push(mc_sender *s, const send_item *it)
{
    s->q[(s->q_head + s->q_len) % s->q_cap] = *it;
    s->q_len++;
    mc_cond_signal(&s->cv_send);
}

static void *worker_main(void *arg)
{
    mc_sender *s = ((worker_arg *)arg)->s;
    mc_tile_coder *coder = s->coders[((worker_arg *)arg)->index];
    mc_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->job_next >= s->job_count)
            mc_cond_wait(&s->cv_work, &s->mu);
        if (s->stop)
            break;
        int t = s->jobs[s->job_next++];
        int moved = s->job_moved[t];
        send_item it = {.kind = ITEM_TILE, .frame = s->job_frame, .version = s->job_frame,
                        .tile = (uint16_t)t, .frame_tiles = s->job_frame_tiles,
                        .ts_us = s->job_ts, .slot = (uint8_t)(s->cur_slot[t] ^ 1), .fresh = 1};
        mc_mutex_unlock(&s->mu);

        int x, y, w, h, exact;
        mc_grid_rect(&s->grid, t, &x, &y, &w, &h);
        uint64_t t0 = mc_now_us();
        int n = mc_tile_coder_encode(coder, s->ref + (size_t)y * s->ref_pitch + (size_t)x * 4,
                                     s->ref_pitch, w, h, slot_data(s, t, it.slot), s->max_bytes,
                                     &it.codec, &exact);
        uint64_t dt = mc_now_us() - t0;
        if (n < 0)
            mc_log(0, "mcshare: tile %d: %s", t, mc_strerror(n));

        mc_mutex_lock(&s->mu);
        it.len = n > 0 ? (uint32_t)n : 0;
        if (n > 0) {
            s->cur_slot[t] = it.slot;
            s->enc_len[t * 2 + it.slot] = it.len;
            s->enc_codec[t * 2 + it.slot] = it.codec;
            s->st.tiles_lossless += it.codec == MC_CODEC_LOSSLESS;
        }
        if (!moved) /* a moved tile went out as a MOVE; the coding is for resends */
            mc__sender_q_push(s, &it);
        s->st.encode_us += dt;
        if (++s->job_done == s->job_count)
            mc_cond_broadcast(&s->cv_done);
    }
    mc_mutex_unlock(&s->mu);
    return NULL;
}

/* Token bucket: waits until `bytes` may go out under the configured rate.
 * Bursts are limited to about a millisecond of traffic. */
static uint64_t pace(mc_sender *s, size_t bytes)
{
    uint64_t now = mc_now_us(), waited = 0;
    s->tokens += (double)(now - s->last_refill_us) * s->rate_bytes_per_us;
    s->last_refill_us = now;
    if (s->tokens > s->burst_bytes)
        s->tokens = s->burst_bytes;
    if (s->tokens < (double)bytes) {
        waited = (uint64_t)(((double)bytes - s->tokens) / s->rate_bytes_per_us) + 1;
        mc_sleep_until_us(now + waited);
        s->tokens += (double)waited * s->rate_bytes_per_us;
        s->last_refill_us = now + waited;
    }
    s->tokens -= (double)bytes;
    return waited;
}

static int emit_raw(mc_sender *s, const uint8_t *pkt, size_t len)
{
    if (s->cfg.sink) {
        mc_mutex_lock(&s->sink_mu);
        s->cfg.sink(s->cfg.sink_ctx, pkt, len);
        mc_mutex_unlock(&s->sink_mu);
        return 0;
    }
    return mc_net_send(s->fd, pkt, len);
}

static void emit_manifest(void *ctx, const uint8_t *pkt, size_t len)
{
    emit_raw(ctx, pkt, len);
}

/* Every datagram but the manifests: sent, then recorded for the next
 * manifest (which goes out when the list is full or at auth_flush). */
static int emit(mc_sender *s, const uint8_t *pkt, size_t len)
{
    uint8_t sealed[MC_MAX_MTU];
    if (s->sealing) {
        int n = mc_seal(s->seal_key, pkt, len, sealed, sizeof(sealed));
        if (n < 0)
            return n;
        pkt = sealed;
        len = (size_t)n;
    }
    if (!s->auth)
        return emit_raw(s, pkt, len);
    mc_mutex_lock(&s->auth_mu);
    int err = emit_raw(s, pkt, len);
    mc_auth_tx_add(s->auth, pkt, len, emit_manifest, s);
    mc_mutex_unlock(&s->auth_mu);
    return err;
}

/* Ends a burst: what was sent since the last manifest gets one now, so no
 * datagram waits at the viewers for more than the burst it came with. */
static void auth_flush(mc_sender *s, int final)
{
    if (!s->auth)
        return;
    mc_mutex_lock(&s->auth_mu);
    mc_auth_tx_flush(s->auth, final, emit_manifest, s);
    mc_mutex_unlock(&s->auth_mu);
}

typedef struct {
    uint64_t packets, bytes, wait_us, errors, fec_blocks, fec_parity, moves;
} send_tally;

/* FEC is on unless --fec 0 without auto; data packets then leave room for
 * the symbol overhead so parity packets fit the MTU too. */
static int fec_on(const mc_sender_config *c) { return c->fec_percent > 0 || c->fec_auto; }

static void send_raw(mc_sender *s, size_t len, send_tally *tally)
{
    tally->wait_us += pace(s, len + UDP_IP_OVERHEAD);
    if (emit(s, s->pkt, len))
        tally->errors++;
    tally->packets++;
    tally->bytes += len;
}

/* Sends the open block's parity packets and starts a new block. Called
 * when the block is full and at the end of every frame, so a block never
 * waits for the next frame: FEC adds no latency. */
static void fec_flush(mc_sender *s, uint32_t frame, send_tally *tally)
{
    int k = s->fec_n, pct = atomic_load(&s->fec_now);
    /* New content gets at least two parity packets; a block that only
     * resends (refresh, repeats) gets its share, at least one. */
    int p = s->fec_fresh ? mc_fec_parity_count(k, pct) : mc_fec_parity_count_resend(k, pct);
    s->fec_n = 0;
    s->fec_fresh = 0;
    if (k == 0 || p == 0)
        return;
    size_t sym_len = s->fec_max_len + 2;
    uint8_t *data[MC_FEC_MAX_K], *par[MC_FEC_MAX_P];
    for (int i = 0; i < k; i++) {
        data[i] = s->fec_data + (size_t)i * s->sym_cap;
        size_t used = 2 + (size_t)(data[i][0] << 8 | data[i][1]);
        memset(data[i] + used, 0, sym_len - used); /* zero padding is part of the code */
    }
    for (int j = 0; j < p; j++)
        par[j] = s->fec_parity + (size_t)j * s->sym_cap;
    if (mc_fec_encode(k, p, sym_len, data, par))
        return;
    for (int j = 0; j < p; j++) {
        mc_hdr h = {.type = MC_PT_PARITY, .session = s->session, .seq = s->seq++,
                    .ts_us = mc_now_us()};
        mc_parity pp = {.first_seq = s->fec_first_seq, .frame = frame, .k = (uint8_t)k,
                        .p = (uint8_t)p, .index = (uint8_t)j, .sym_len = (uint16_t)sym_len,
                        .sym = par[j]};
        int n = mc_wire_write_parity(s->pkt, (size_t)s->cfg.mtu, &h, &pp);
        if (n > 0)
            send_raw(s, (size_t)n, tally);
    }
    tally->fec_blocks++;
    tally->fec_parity += (uint64_t)p;
}

/* Sends the packet in s->pkt (its seq is s->seq - 1) and adds it to the
 * open FEC block; fresh: it carries new content. */
static void send_packet(mc_sender *s, size_t len, int fresh, send_tally *tally)
{
    send_raw(s, len, tally);
    s->fec_fresh |= fresh;
    if (!fec_on(&s->cfg))
        return;
    if (s->fec_n == 0) {
        s->fec_first_seq = s->seq - 1;
        s->fec_max_len = 0;
    }
    uint8_t *sym = s->fec_data + (size_t)s->fec_n * s->sym_cap;
    sym[0] = (uint8_t)(len >> 8);
    sym[1] = (uint8_t)len;
    memcpy(sym + 2, s->pkt, len);
    if (len > s->fec_max_len)
        s->fec_max_len = len;
    if (++s->fec_n == s->cfg.fec_block)
        fec_flush(s, 0, tally);
}

/* The announce: geometry and every codec's session parameters. In a FEC
 * block when it leads a burst; on its own (between frames of a static
 * screen) it is not, since the next one comes within 250 ms anyway. */
static void send_announce(mc_sender *s, uint32_t frame, int in_block, send_tally *tally)
{
    mc_hdr h = {.type = MC_PT_ANNOUNCE, .session = s->session, .seq = s->seq++,
                .ts_us = mc_now_us()};
    mc_announce a = {
        .width = (uint16_t)s->grid.width, .height = (uint16_t)s->grid.height,
        .tile = (uint16_t)s->grid.tile, .cols = (uint16_t)s->grid.cols,
        .rows = (uint16_t)s->grid.rows, .fps = (uint16_t)s->cfg.fps,
        .refresh_ms = (uint16_t)s->cfg.refresh_ms, .max_tile_bytes = (uint32_t)s->max_bytes,
        .frame = frame, .ctrl_port = s->cfg.ctrl_port, .mtu = (uint16_t)s->cfg.mtu,
    };
    uint8_t ids[MC_CODEC_COUNT];
    const uint8_t *params[MC_CODEC_COUNT];
    size_t lens[MC_CODEC_COUNT];
    a.ncodecs = (uint8_t)mc_tile_coder_params(s->coders[0], ids, params, lens);
    for (int i = 0; i < a.ncodecs; i++) {
        a.codecs[i].id = ids[i];
        a.codecs[i].len = (uint8_t)lens[i];
        a.codecs[i].params = params[i];
    }
    size_t cap = (size_t)s->cfg.mtu - (fec_on(&s->cfg) ? MC_FEC_OVERHEAD : 0);
    int n = mc_wire_write_announce(s->pkt, cap, &h, &a);
    if (n > 0 && in_block)
        send_packet(s, (size_t)n, 0, tally);
    else if (n > 0)
        send_raw(s, (size_t)n, tally);
}

static size_t payload_room(const mc_sender *s)
{
    return (size_t)s->cfg.mtu - (fec_on(&s->cfg) ? MC_FEC_OVERHEAD : 0);
}

/* Sends the VIDEO datagram being filled, if any. */
static void video_flush(mc_sender *s, send_tally *tally)
{
    if (!s->vused)
        return;
    mc__put32(s->vbuf + 8, s->seq++); /* its sequence number: the order it goes out in */
    memcpy(s->pkt, s->vbuf, s->vused);
    send_packet(s, s->vused, s->vfresh, tally);
    s->vused = 0;
    s->vfresh = 0;
}

/* Appends one fragment to the datagram being filled, flushing it first
 * when the fragment does not fit. */
static void video_put(mc_sender *s, const mc_video *v, int fresh, uint64_t ts, send_tally *tally)
{
    size_t cap = payload_room(s);
    if (s->vused && s->vused + MC_VIDEO_REC_BYTES + v->len > cap)
        video_flush(s, tally);
    if (!s->vused) {
        mc_hdr h = {.type = MC_PT_VIDEO, .session = s->session, .ts_us = ts};
        int n = mc_wire_video_begin(s->vbuf, cap, &h, v->frame, v->frame_tiles);
        if (n < 0)
            return;
        s->vused = (size_t)n;
        s->vframe = v->frame;
    }
    if (mc_wire_video_add(s->vbuf, cap, &s->vused, v) == MC_EFIELD) {
        video_flush(s, tally); /* a 256th record: start another datagram */
        video_put(s, v, fresh, ts, tally);
        return;
    }
    s->vfresh |= fresh;
}

/* A coded tile as fragments: a tile that fits one datagram travels whole,
 * packed with others; a bigger one is cut at fixed multiples of a
 * datagram's room, so every transmission of it has the same fragments. */
static void send_tile(mc_sender *s, const send_item *it, send_tally *tally)
{
    size_t room = payload_room(s) - MC_HDR_BYTES - MC_VIDEO_HDR_BYTES - MC_VIDEO_REC_BYTES;
    size_t frags = (it->len + room - 1) / room;
    if (frags > MC_MAX_FRAGS) {
        mc_log(0, "mcshare: tile %u does not fit %d datagrams; raise --mtu", it->tile, MC_MAX_FRAGS);
        return;
    }
    const uint8_t *data = slot_data(s, it->tile, it->slot);
    for (size_t k = 0; k < frags; k++) {
        size_t off = k * room;
        mc_video v = {.frame = it->frame, .version = it->version, .tile = it->tile,
                      .frame_tiles = it->frame_tiles, .frag = (uint16_t)k,
                      .frag_count = (uint16_t)frags, .tile_bytes = it->len,
                      .offset = (uint32_t)off, .codec = it->codec, .data = data + off,
                      .len = it->len - off < room ? it->len - off : room};
        video_put(s, &v, it->fresh, it->ts_us, tally);
    }
}

/* Whether `t` is among the first n source tiles. */
static int has_src(const uint16_t *tiles, int n, uint16_t t)
{
    for (int i = 0; i < n; i++)
        if (tiles[i] == t)
            return 1;
    return 0;
}

/* Packs a group of moved tiles (one shift, one version) into as few MOVE
 * datagrams as fit: each lists its destination tiles and every source
 * tile they read, so each datagram stands on its own. */
static void send_moves(mc_sender *s, const send_item *it, send_tally *tally)
{
    const move_entry *mv = s->moves[it->frame & 1] + it->first;
    size_t room = mc_move_room(payload_room(s));
    uint16_t dst[512], src[512];
    uint32_t ver[512];
    for (int i = 0; i < it->count;) {
        int nd = 0, ns = 0;
        for (; i < it->count && nd < 512; i++) {
            int add = 0;
            uint16_t new_src[MC_MOVE_MAX_SRC];
            uint32_t new_ver[MC_MOVE_MAX_SRC];
            for (int k = 0; k < mv[i].nsrc; k++)
                if (!has_src(src, ns, mv[i].src_tile[k]) && !has_src(new_src, add, mv[i].src_tile[k])) {
                    new_src[add] = mv[i].src_tile[k];
                    new_ver[add++] = mv[i].src_version[k];
                }
            if (ns + add > 512 || 2 * (size_t)(nd + 1) + 6 * (size_t)(ns + add) > room)
                break;
            dst[nd++] = mv[i].tile;
            for (int k = 0; k < add; k++) {
                src[ns] = new_src[k];
                ver[ns++] = new_ver[k];
            }
        }
        if (nd == 0)
            break; /* cannot happen: one tile and its 4 sources always fit */
        mc_hdr h = {.type = MC_PT_MOVE, .session = s->session, .seq = s->seq++,
                    .ts_us = it->ts_us};
        mc_move m = {.frame = it->frame, .version = it->version, .dx = mv[0].dx, .dy = mv[0].dy,
                     .frame_tiles = it->frame_tiles, .ndst = (uint16_t)nd, .nsrc = (uint16_t)ns};
        int n = mc_wire_write_move(s->pkt, payload_room(s), &h, &m, dst, src, ver);
        if (n > 0) {
            send_packet(s, (size_t)n, it->fresh, tally);
            tally->moves++;
        }
    }
}

static void send_item_now(mc_sender *s, const send_item *it, send_tally *tally)
{
    if (s->vused && s->vframe != it->frame)
        video_flush(s, tally); /* cannot happen: frames end with a flush */
    if (it->kind == ITEM_TILE && it->len > 0)
        send_tile(s, it, tally);
    else if (it->kind == ITEM_MOVE)
        send_moves(s, it, tally);
}

static void *send_main(void *arg)
{
    mc_sender *s = arg;
    uint64_t next_announce = 0;
    uint32_t last_frame = 0, announced_frame = 0;
    /* Announce every 250 ms, and also every fps/4 frames so the rate per
     * frame holds when frames come faster than real time (tests, benches). */
    uint32_t announce_frames = s->cfg.fps / 4 > 0 ? (uint32_t)s->cfg.fps / 4 : 1;
    mc_mutex_lock(&s->mu);
    while (!s->stop) {
        while (!s->stop && s->q_len == 0 && mc_now_us() < next_announce) {
            mc_cond_wait_until(&s->cv_send, &s->mu, next_announce);
        }
        if (s->stop)
            break;
        send_item it;
        int have = s->q_len > 0;
        if (have) {
            it = s->q[s->q_head];
            s->q_head = (s->q_head + 1) % s->q_cap;
            s->q_len--;
            last_frame = it.frame;
        }
        mc_mutex_unlock(&s->mu);

        send_tally tally = {0};
        if (mc_now_us() >= next_announce ||
            mc_seq_diff(last_frame, announced_frame) >= (int32_t)announce_frames) {
            send_announce(s, last_frame, have && it.kind != ITEM_NONE, &tally);
            announced_frame = last_frame;
            next_announce = mc_now_us() + ANNOUNCE_INTERVAL_US;
        }
        if (have)
            send_item_now(s, &it, &tally);

        mc_mutex_lock(&s->mu);
        if (have && s->frame_left[it.frame & 1] == 1) {
            /* The frame's last item went out: close the FEC block, sign. */
            mc_mutex_unlock(&s->mu);
            video_flush(s, &tally);
            fec_flush(s, it.frame, &tally);
            auth_flush(s, 0);
            mc_mutex_lock(&s->mu);
        } else if (!have) { /* an announce between frames */
            mc_mutex_unlock(&s->mu);
            auth_flush(s, 0);
            mc_mutex_lock(&s->mu);
        }
        s->st.packets += tally.packets;
        s->st.fec_blocks += tally.fec_blocks;
        s->st.fec_parity_packets += tally.fec_parity;
        s->st.move_packets += tally.moves;
        s->st.bytes += tally.bytes;
        s->st.pace_wait_us += tally.wait_us;
        s->st.send_errors += tally.errors;
        if (have && --s->frame_left[it.frame & 1] == 0) {
            s->sent_upto = it.frame;
            mc_cond_broadcast(&s->cv_done);
        }
    }
    mc_mutex_unlock(&s->mu);
    return NULL;
}

static int alloc_state(mc_sender *s)
{
    int n = s->grid.count;
    mc_codec_config cc = {.quality = s->cfg.quality, .subsamp = s->cfg.subsamp, .tile = s->cfg.tile};
    s->max_bytes = mc_tile_coder_max_bytes(s->cfg.codec, &cc);
    s->ref_pitch = s->grid.width * 4;
    s->enc_mem = malloc((size_t)n * 2 * s->max_bytes);
    s->enc_len = calloc((size_t)n * 2, sizeof(*s->enc_len));
    s->enc_codec = calloc((size_t)n * 2, 1);
    s->cur_slot = calloc((size_t)n, 1);
    s->changed = calloc((size_t)n, 1);
    s->mark = calloc((size_t)n, 1);
    s->ref = calloc((size_t)s->grid.height, (size_t)s->ref_pitch);
    s->jobs = calloc((size_t)n, sizeof(*s->jobs));
    /* Two frames of items: each tile once (coded, moved or resent) and the
     * empty item, per frame. */
    s->q_cap = 2 * n + 4;
    s->q = calloc((size_t)s->q_cap, sizeof(*s->q));
    s->workers = calloc((size_t)s->cfg.threads, sizeof(*s->workers));
    s->wargs = calloc((size_t)s->cfg.threads, sizeof(*s->wargs));
    s->coders = calloc((size_t)s->cfg.threads, sizeof(*s->coders));
    s->sym_cap = (size_t)s->cfg.mtu + 2;
    s->fec_data = malloc(MC_FEC_MAX_K * s->sym_cap);
    s->fec_parity = malloc(MC_FEC_MAX_P * s->sym_cap);
    if (!s->enc_mem || !s->enc_len || !s->enc_codec || !s->cur_slot || !s->changed || !s->mark ||
        !s->ref || !s->jobs || !s->q || !s->workers || !s->wargs || !s->coders ||
        !s->fec_data || !s->fec_parity)
        return MC_ENOMEM;
    return mc__sender_plan_alloc(s);
}

static int start_threads(mc_sender *s)
{
    mc_codec_config cc = {.quality = s->cfg.quality, .subsamp = s->cfg.subsamp, .tile = s->cfg.tile};
    for (int i = 0; i < s->cfg.threads; i++) {
        int err = mc_tile_coder_create(s->cfg.codec, &cc, &s->coders[i]);
        if (err)
            return err;
    }
    for (int i = 0; i < s->cfg.threads; i++) {
        s->wargs[i] = (worker_arg){s, i};
        if (mc_thread_start(&s->workers[i], worker_main, &s->wargs[i]))
            return MC_ENOMEM;
        s->nworkers++;
    }
    if (mc_thread_start(&s->send_thread, send_main, s))
        return MC_ENOMEM;
    s->send_started = 1;
    return 0;
}

/* Audio packets skip the pacer and the FEC blocks: they are small, have
 * their own sequence numbers and repeat earlier frames instead. Signed,
 * every other one (20 ms of sound at the default frame) closes a manifest:
 * one per 10 ms packet cost 115 kbit/s, half the sound's own bytes; a
 * packet now waits at most one more packet interval for its manifest,
 * inside the viewer's 30 ms jitter buffer. */
static void audio_emit(void *ctx, const uint8_t *pkt, size_t len)
{
    mc_sender *s = ctx;
    emit(s, pkt, len);
    if (++s->audio_unsigned >= 2) {
        s->audio_unsigned = 0;
        auth_flush(s, 0);
    }
}

int mc_sender_create(const mc_sender_config *cfg, mc_sender **out)
{
    *out = NULL;
    int err = config_check(cfg);
    if (err)
        return err;
    mc_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return MC_ENOMEM;
    s->cfg = *cfg;
    s->fd = -1;
    mc_mutex_init(&s->mu);
    mc_mutex_init(&s->sink_mu);
    mc_mutex_init(&s->auth_mu);
    mc_cond_init(&s->cv_send);
    mc_cond_init(&s->cv_work);
    mc_cond_init(&s->cv_done);
    while (s->session == 0)
        if (mc_random_bytes(&s->session, sizeof(s->session)))
            s->session = (uint32_t)mc_now_us() ^ (uint32_t)getpid();
    s->seq = s->session * 2654435761u; /* a random start exercises wrap-around */
    s->rate_bytes_per_us = cfg->max_bitrate_mbit / 8.0;
    s->burst_bytes = s->rate_bytes_per_us * 1000.0;
    if (s->burst_bytes < 16.0 * (cfg->mtu + UDP_IP_OVERHEAD))
        s->burst_bytes = 16.0 * (cfg->mtu + UDP_IP_OVERHEAD);
    s->tokens = s->burst_bytes;
    s->last_refill_us = mc_now_us();
    atomic_init(&s->fec_now, cfg->fec_percent ? cfg->fec_percent : (cfg->fec_auto ? 20 : 0));
    err = mc_grid_init(&s->grid, cfg->width, cfg->height, cfg->tile);
    if (!err)
        err = alloc_state(s);
    if (!err && cfg->key)
        err = mc_auth_tx_create(cfg->key, s->session, (size_t)cfg->mtu, &s->auth);
    if (!err && cfg->seal_key) {
        /* Everything is built to fit the MTU once sealed. */
        s->sealing = 1;
        memcpy(s->seal_key, cfg->seal_key, MC_SEAL_KEY);
        s->cfg.mtu -= MC_SEAL_OVERHEAD;
    }
    if (!err && cfg->ctrl_port)
        err = mc__ctrl_server_create(cfg->ctrl_port, s->grid.count, s->session,
                                     cfg->max_viewers, cfg->key, &s->ctrl);
    if (!err && !cfg->sink) {
        s->fd = mc_net_open_sender(cfg->group, cfg->port, cfg->iface, cfg->ttl, cfg->loop);
        err = s->fd < 0 ? s->fd : 0;
    }
    if (!err)
        err = start_threads(s);
    if (!err && cfg->audio && cfg->audio->source && strcmp(cfg->audio->source, "none")) {
        err = mc_audio_tx_create(cfg->audio, s->session, audio_emit, s, &s->audio);
        if (err == MC_EAUDIO && !cfg->audio->required) { /* said why; the picture matters more */
            mc_log(0, "mcshare: continuing without sound");
            err = 0;
        }
    }
    if (err) {
        mc_sender_destroy(s);
        return err;
    }
    *out = s;
    return 0;
}

void mc_sender_audio_mark(mc_sender *s, uint64_t ts_us) { mc_audio_tx_mark(s->audio, ts_us); }

const char *mc_sender_audio_describe(const mc_sender *s)
{
    return s->audio ? mc_audio_tx_describe(s->audio) : "none";
}

/* Waits until frame `n` may enter the pipeline (see the top of the file).
 * The caller holds mu. Returns 0, or MC_ESTATE when the sender is stopping. */
static int wait_pipeline(mc_sender *s, uint32_t n)
{
    while (!s->stop && (s->job_done < s->job_count || mc_seq_diff(n - 1, s->sent_upto) > 1))
        mc_cond_wait(&s->cv_done, &s->mu);
    return s->stop ? MC_ESTATE : 0;
}

int mc_sender_submit(mc_sender *s, const uint8_t *bgrx, int pitch, uint64_t capture_us)
{
    mc_mutex_lock(&s->mu);
    uint32_t n = s->frame_no + 1;
    int err = wait_pipeline(s, n);
    mc_mutex_unlock(&s->mu);
    if (err)
        return err;
    if (!bgrx && n == 1)
        return MC_EINVAL; /* nothing to repeat yet */
    return mc__sender_plan(s, n, bgrx, pitch, capture_us);
}

void mc_sender_flush(mc_sender *s)
{
    mc_mutex_lock(&s->mu);
    while (!s->stop && (s->job_done < s->job_count || s->sent_upto != s->frame_no))
        mc_cond_wait(&s->cv_done, &s->mu);
    mc_mutex_unlock(&s->mu);
}

void mc_sender_get_stats(mc_sender *s, mc_sender_stats *st)
{
    mc_mutex_lock(&s->mu);
    *st = s->st;
    mc_mutex_unlock(&s->mu);
    if (s->ctrl)
        mc__ctrl_server_stats(s->ctrl, st);
    st->fec_percent_now = atomic_load(&s->fec_now);
    if (s->auth) {
        mc_mutex_lock(&s->auth_mu);
        st->manifests = mc_auth_tx_manifests(s->auth);
        mc_mutex_unlock(&s->auth_mu);
    }
    if (s->audio) {
        mc_audio_tx_stats a;
        mc_audio_tx_get_stats(s->audio, &a);
        st->audio_on = 1;
        st->audio_packets = a.packets;
        st->audio_bytes = a.bytes;
        st->audio_encode_us = a.encode_us;
        st->audio_overruns = a.overruns;
    }
}

int mc_sender_roster(mc_sender *s, mc_viewer_info *out, int max)
{
    return s->ctrl ? mc__ctrl_server_roster(s->ctrl, out, max) : 0;
}

uint32_t mc_sender_session(const mc_sender *s) { return s->session; }

static void send_bye(mc_sender *s)
{
    /* Three copies, a few ms apart: one lost datagram must not leave a
     * viewer waiting for a broadcast that has ended. */
    for (int i = 0; i < 3; i++) {
        mc_hdr h = {.type = MC_PT_BYE, .session = s->session, .seq = s->seq++,
                    .ts_us = mc_now_us()};
        int n = mc_wire_write_header(s->pkt, sizeof(s->pkt), &h);
        if (n > 0)
            emit(s, s->pkt, (size_t)n);
        auth_flush(s, i == 2);
        if (i < 2)
            mc_sleep_until_us(mc_now_us() + 5000);
    }
}

void mc_sender_destroy_quietly(mc_sender *s)
{
    if (s)
        s->quiet = 1;
    mc_sender_destroy(s);
}

void mc_sender_destroy(mc_sender *s)
{
    if (!s)
        return;
    mc_audio_tx_destroy(s->audio);
    s->audio = NULL;
    mc_mutex_lock(&s->mu);
    s->stop = 1;
    mc_cond_broadcast(&s->cv_work);
    mc_cond_broadcast(&s->cv_send);
    mc_cond_broadcast(&s->cv_done);
    mc_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        mc_thread_join(s->workers[i]);
    if (s->send_started) {
        mc_thread_join(s->send_thread);
        if (!s->quiet)
            send_bye(s);
    }
    mc__ctrl_server_destroy(s->ctrl);
    mc_sock_close(s->fd);
    for (int i = 0; s->coders && i < s->cfg.threads; i++)
        mc_tile_coder_destroy(s->coders[i]);
    free(s->coders);
    mc__sender_plan_free(s);
    free(s->wargs);
    free(s->workers);
    free(s->q);
    free(s->jobs);
    free(s->ref);
    free(s->changed);
    free(s->mark);
    free(s->fec_data);
    free(s->fec_parity);
    free(s->enc_codec);
    free(s->cur_slot);
    free(s->enc_len);
    free(s->enc_mem);
    mc_cond_destroy(&s->cv_done);
    mc_cond_destroy(&s->cv_work);
    mc_cond_destroy(&s->cv_send);
    mc_mutex_destroy(&s->mu);
    mc_mutex_destroy(&s->sink_mu);
    mc_mutex_destroy(&s->auth_mu);
    mc_auth_tx_destroy(s->auth);
    free(s);
}
