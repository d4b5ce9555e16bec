/* Moves: tiles whose new pixels the viewer already holds elsewhere
 * (scrolled text, a dragged window). See MC_PT_MOVE in mc/wire.h.
 *
 * The receiver keeps each tile's newest decoded pixels (refcur: the
 * picture itself unless sound holds tiles back) and, once the session
 * moves tiles, the version before (refprev): in a scroll a source tile is
 * usually also a destination, so its old pixels must outlive its new
 * ones. A move is applied only when every source tile it names is held at
 * exactly the named version. When a named version is still on its way
 * (being reassembled or decoded), the move waits for it, at most
 * PEND_MAX_US; when it can no longer come, the tile is lost like a lost
 * packet: it stays behind, and the control channel asks for it. So a move
 * never spreads wrong pixels.
 *
 * Caller holds mu everywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "receiver_state.h"
#include "mc/common.h"

#define PEND_MAX_US 500000u
#define MAX_FRAMES_AHEAD 1024

enum { SRC_GONE = 0, SRC_CUR = 1, SRC_PREV = 2, SRC_COMING = 3 };

void mc__rx_tile_event(mc_receiver *r, const decode_job *job, const uint8_t *px)
{
    if (!r->cfg.on_tile)
        return;
    mc_tile_event ev = {.tile = job->tile, .version = job->version, .frame = job->frame,
                        .session = r->session, .pixels = px, .pitch = job->w * 4,
                        .x = job->x, .y = job->y, .w = job->w, .h = job->h,
                        .pic_width = r->grid.width, .pic_height = r->grid.height,
                        .codec = job->codec};
    for (int i = 0; i < r->ann.ncodecs; i++)
        if (r->ann.codecs[i].id == job->codec) {
            ev.codec_params = r->ann.codecs[i].params;
            ev.codec_params_len = r->ann.codecs[i].len;
        }
    r->cfg.on_tile(r->cfg.cb_ctx, &ev);
}

/* Copies a tile rectangle between two pictures of the session. */
static void copy_tile(mc_receiver *r, uint8_t *dst, const uint8_t *src, int x, int y, int w, int h)
{
    for (int row = 0; row < h; row++)
        memcpy(dst + (size_t)(y + row) * r->pitch + (size_t)x * 4,
               src + (size_t)(y + row) * r->pitch + (size_t)x * 4, (size_t)w * 4);
}

void mc__rx_ref_store(mc_receiver *r, const decode_job *job, const uint8_t *px)
{
    tile_slot *s = &r->tiles[job->tile];
    int x, y, w, h;
    mc_grid_rect(&r->grid, job->tile, &x, &y, &w, &h);
    s->prev_have = s->cur_have && (r->refprev || r->cfg.no_decode);
    s->prev_ver = s->cur_ver;
    if (s->prev_have && r->refprev)
        copy_tile(r, r->refprev, r->refcur, x, y, w, h);
    s->cur_have = 1;
    s->cur_ver = job->version;
    if (px && r->refcur)
        for (int row = 0; row < h; row++)
            memcpy(r->refcur + (size_t)(y + row) * r->pitch + (size_t)x * 4,
                   px + (size_t)row * w * 4, (size_t)w * 4);
    if (s->pend && mc_seq_le(s->pm.version, job->version)) {
        s->pend = 0; /* the move's result, or something newer, came as data */
        r->npend--;
    }
}

static int source_state(const mc_receiver *r, int t, uint32_t v)
{
    const tile_slot *s = &r->tiles[t];
    if (s->cur_have && s->cur_ver == v)
        return SRC_CUR;
    if (s->prev_have && s->prev_ver == v)
        return SRC_PREV;
    if ((s->decoding && s->decoding_ver == v) || (s->ready && s->ready_version == v) ||
        (s->assembling && s->version == v) || (s->pend && s->pm.version == v))
        return SRC_COMING;
    /* Newer than anything held: its packets may still come (or a repair). */
    if (!s->cur_have || mc_seq_lt(s->cur_ver, v))
        return SRC_COMING;
    return SRC_GONE;
}

/* The move's sources for tile t: each tile under the shifted rectangle
 * with the version the move names and where it is. Returns the count, or
 * -1 when the move does not name a tile it reads (corrupt or forged). */
static int gather(const mc_receiver *r, int t, const pending_move *pm, uint16_t *tiles,
                  int *state)
{
    int x, y, w, h;
    mc_grid_rect(&r->grid, t, &x, &y, &w, &h);
    int n = mc_grid_tiles_under(&r->grid, x + pm->dx, y + pm->dy, w, h, tiles, MC_MOVE_MAX_SRC);
    if (n < 1 || n > MC_MOVE_MAX_SRC)
        return -1;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < pm->nsrc && pm->src[k] != tiles[i])
            k++;
        if (k == pm->nsrc)
            return -1;
        state[i] = source_state(r, tiles[i], pm->srcv[k]);
    }
    return n;
}

/* Builds tile t from its sources into move_px and takes it like a decoded
 * tile. */
static void apply(mc_receiver *r, int t, const pending_move *pm, const uint16_t *src,
                  const int *state, int n, uint64_t now)
{
    tile_slot *s = &r->tiles[t];
    decode_job job = {.tile = t, .version = pm->version, .frame = pm->frame,
                      .generation = r->generation};
    mc_grid_rect(&r->grid, t, &job.x, &job.y, &job.w, &job.h);
    r->st.tiles_complete++;
    r->st.tiles_moved++;
    if (pm->frame == pm->version)
        r->st.tiles_first_try++;
    else
        r->st.tiles_repaired++;
    frame_rec *f = mc__rx_frame_find(r, pm->frame);
    if (r->cfg.no_decode) {
        if (!s->have)
            r->st.tiles_held++;
        s->have = 1;
        s->shown_version = pm->version;
        mc__rx_ref_store(r, &job, NULL);
        mc__rx_frame_account(r, f, s, 1, now);
        return;
    }
    int sx = job.x + pm->dx, sy = job.y + pm->dy;
    for (int i = 0; i < n; i++) {
        const uint8_t *pic = state[i] == SRC_CUR ? r->refcur : r->refprev;
        int tx, ty, tw, th;
        mc_grid_rect(&r->grid, src[i], &tx, &ty, &tw, &th);
        /* The part of source tile i that the shifted rectangle covers. */
        int x0 = tx > sx ? tx : sx, y0 = ty > sy ? ty : sy;
        int x1 = tx + tw < sx + job.w ? tx + tw : sx + job.w;
        int y1 = ty + th < sy + job.h ? ty + th : sy + job.h;
        for (int row = y0; row < y1; row++)
            memcpy(r->move_px + (size_t)(row - sy) * job.w * 4 + (size_t)(x0 - sx) * 4,
                   pic + (size_t)row * r->pitch + (size_t)x0 * 4, (size_t)(x1 - x0) * 4);
    }
    mc__rx_frame_account(r, f, s, 0, now);
    mc__rx_tile_event(r, &job, r->move_px);
    mc__rx_tile_done(r, &job, r->move_px);
}

static void unpend(mc_receiver *r, tile_slot *s)
{
    if (s->pend) {
        s->pend = 0;
        r->npend--;
    }
}

/* Applies, waits or fails the move pm into tile t. Returns 1 if applied. */
static int try_move(mc_receiver *r, int t, const pending_move *pm, uint64_t now)
{
    uint16_t src[MC_MOVE_MAX_SRC];
    int state[MC_MOVE_MAX_SRC], coming = 0, gone = 0;
    int n = gather(r, t, pm, src, state);
    if (n < 0) {
        r->st.bad_tile++;
        unpend(r, &r->tiles[t]);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        coming |= state[i] == SRC_COMING;
        gone |= state[i] == SRC_GONE || (state[i] == SRC_PREV && !r->refprev && !r->cfg.no_decode);
    }
    tile_slot *s = &r->tiles[t];
    if (gone || (coming && now - pm->since_us > PEND_MAX_US)) {
        if (mc_log_level >= 2)
            for (int i = 0; i < n; i++) {
                const tile_slot *q = &r->tiles[src[i]];
                int k = 0;
                while (k < pm->nsrc && pm->src[k] != src[i])
                    k++;
                mc_log(2, "mcview: move into tile %d v%u failed: source %d wants v%u, state %d "
                       "(cur %u/%d prev %u/%d)", t, pm->version, src[i], pm->srcv[k], state[i],
                       q->cur_ver, q->cur_have, q->prev_ver, q->prev_have);
            }
        r->st.moves_failed++; /* lost like a packet: it stays behind and is asked for */
        unpend(r, s);
        return 0;
    }
    if (coming) {
        if (!s->pend)
            r->npend++;
        s->pend = 1;
        s->pm = *pm;
        return 0;
    }
    unpend(r, s);
    apply(r, t, pm, src, state, n, now);
    return 1;
}

void mc__rx_moves_retry(mc_receiver *r)
{
    uint64_t now = mc_now_us();
    for (int progress = 1, rounds = 0; progress && r->npend > 0 && rounds < 64; rounds++) {
        progress = 0;
        for (int t = 0, seen = 0; t < r->grid.count && seen < r->npend; t++) {
            tile_slot *s = &r->tiles[t];
            if (!s->pend)
                continue;
            seen++;
            pending_move pm = s->pm;
            progress |= try_move(r, t, &pm, now);
        }
    }
}

/* A tile that already holds (or is about to hold) this version or a newer
 * one: the move is old news for it. */
static int newer_held(const tile_slot *s, uint32_t v)
{
    return (s->cur_have && mc_seq_le(v, s->cur_ver)) || (s->have && mc_seq_le(v, s->shown_version)) ||
           (s->ready && mc_seq_le(v, s->ready_version)) ||
           (s->assembling && mc_seq_lt(v, s->version)) ||
           (s->decoding && mc_seq_le(v, s->decoding_ver)) ||
           (s->pend && mc_seq_le(v, s->pm.version));
}

int mc__rx_on_move(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len, uint64_t now)
{
    mc_move m;
    int err = mc_wire_parse_move(pkt, len, &m);
    if (err) {
        r->st.bad_field++;
        return err;
    }
    if (m.frame_tiles > r->grid.count || m.nsrc > r->grid.count ||
        mc_seq_diff(m.frame, r->ann.frame) > MAX_FRAMES_AHEAD) {
        r->st.bad_tile++;
        return MC_EFIELD;
    }
    for (int i = 0; i < m.ndst; i++)
        if (mc_move_dst(&m, i) >= r->grid.count) {
            r->st.bad_tile++;
            return MC_EFIELD;
        }
    if (!r->refprev && !r->cfg.no_decode) /* the session's first move */
        r->refprev = malloc((size_t)r->pitch * r->grid.height);
    frame_rec *f = mc__rx_frame_get(r, m.frame, h->ts_us, m.frame_tiles);
    pending_move pm = {.version = m.version, .frame = m.frame, .since_us = now, .dx = m.dx,
                       .dy = m.dy};
    for (int i = 0; i < m.ndst; i++) {
        int t = mc_move_dst(&m, i);
        tile_slot *s = &r->tiles[t];
        if (!s->seen || mc_seq_lt(s->newest_seen, m.version)) {
            s->seen = 1;
            s->newest_seen = m.version;
            s->newest_seen_us = now;
        }
        if (newer_held(s, m.version)) {
            r->st.stale++;
            mc__rx_frame_account(r, f, s, !s->ready, now);
            continue;
        }
        /* This tile's sources, from the move's list (at most 4 of them). */
        int x, y, w, hh;
        uint16_t under[MC_MOVE_MAX_SRC];
        mc_grid_rect(&r->grid, t, &x, &y, &w, &hh);
        int n = mc_grid_tiles_under(&r->grid, x + m.dx, y + m.dy, w, hh, under, MC_MOVE_MAX_SRC);
        pm.nsrc = 0;
        for (int k = 0; k < m.nsrc && n > 0 && n <= MC_MOVE_MAX_SRC; k++) {
            uint16_t st;
            uint32_t sv;
            mc_move_src(&m, k, &st, &sv);
            for (int j = 0; j < n; j++)
                if (under[j] == st && pm.nsrc < MC_MOVE_MAX_SRC) {
                    pm.src[pm.nsrc] = st;
                    pm.srcv[pm.nsrc++] = sv;
                }
        }
        if (m.frame == m.version)
            r->st.tiles_first_seen++;
        try_move(r, t, &pm, now);
    }
    mc__rx_moves_retry(r);
    return 0;
}
