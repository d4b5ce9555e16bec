/* What each frame carries: the sender's decisions, made by the submitter
 * (the caller of mc_sender_submit) before the frame enters the pipeline.
 *
 *   changed tiles   compared with the last picture; coded by the workers;
 *   moved tiles     changed tiles that are exactly old pixels from elsewhere
 *                   (a scroll): sent as a MOVE naming the source tiles'
 *                   versions, and coded too, for later resends;
 *   asked for       tiles the viewers' control channels asked for (repairs,
 *                   keyframes), merged over the room;
 *   repeats         a changed tile goes out once more from REPEAT_AFTER_US
 *                   later (it is the likeliest to have been lost somewhere),
 *                   within half the refresh's budget;
 *   refresh         every tile, round-robin, within --refresh: for viewers
 *                   that joined late or have no control channel. It is paid
 *                   for in bytes, not in tiles: picture bytes / refresh time,
 *                   sent in bursts every REFRESH_BURST_US (bursts of a few
 *                   packets would pay the FEC floor of two parity packets
 *                   and a manifest each time). A static slide costs its own
 *                   size once per refresh period, and nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "sender_internal.h"
#include "mc/common.h"

int mc__sender_plan_alloc(mc_sender *s)
{
    int n = s->grid.count;
    s->info = calloc((size_t)n, sizeof(*s->info));
    s->moved = calloc((size_t)n, 1);
    s->mdx = calloc((size_t)n, sizeof(*s->mdx));
    s->mdy = calloc((size_t)n, sizeof(*s->mdy));
    s->pick = calloc((size_t)n, sizeof(*s->pick));
    s->job_moved = calloc((size_t)n, 1);
    for (int i = 0; i < 2; i++)
        s->moves[i] = calloc((size_t)n, sizeof(move_entry));
    if (!s->info || !s->moved || !s->mdx || !s->mdy || !s->pick || !s->job_moved ||
        !s->moves[0] || !s->moves[1])
        return MC_ENOMEM;
    return mc_move_finder_create(&s->grid, &s->finder);
}

void mc__sender_plan_free(mc_sender *s)
{
    free(s->info);
    free(s->moved);
    free(s->mdx);
    free(s->mdy);
    free(s->pick);
    free(s->job_moved);
    free(s->moves[0]);
    free(s->moves[1]);
    mc_move_finder_destroy(s->finder);
}

/* A source tile may be read by a move only if every viewer that holds its
 * current version holds exactly the sender's pixels: its coded slot is
 * lossless. */
static int usable(void *ctx, int t)
{
    mc_sender *s = ctx;
    return s->enc_codec[t * 2 + s->cur_slot[t]] == MC_CODEC_LOSSLESS && s->enc_len[t * 2 + s->cur_slot[t]] > 0;
}

/* Fills tile t's move entry for shift (dx, dy) from the old versions. */
static int make_move(mc_sender *s, int t, int dx, int dy, uint32_t version, move_entry *m)
{
    int x, y, w, h;
    mc_grid_rect(&s->grid, t, &x, &y, &w, &h);
    uint16_t src[MC_MOVE_MAX_SRC];
    int n = mc_grid_tiles_under(&s->grid, x + dx, y + dy, w, h, src, MC_MOVE_MAX_SRC);
    if (n < 1 || n > MC_MOVE_MAX_SRC)
        return 0;
    *m = (move_entry){.tile = (uint16_t)t, .dx = (int16_t)dx, .dy = (int16_t)dy,
                      .nsrc = (uint8_t)n, .version = version};
    for (int i = 0; i < n; i++) {
        m->src_tile[i] = src[i];
        m->src_version[i] = s->info[src[i]].version;
    }
    return 1;
}

static int move_order(const void *a, const void *b)
{
    const move_entry *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    if (x->dy != y->dy)
        return x->dy - y->dy;
    if (x->dx != y->dx)
        return x->dx - y->dx;
    return x->tile - y->tile;
}

/* Bytes of tile t's published coding. Caller holds mu. */
static uint32_t coded_len(const mc_sender *s, int t) { return s->enc_len[t * 2 + s->cur_slot[t]]; }

/* Picks this frame's resends into s->pick (data) and the frame's move list
 * (repeated moves). Returns the number of data resends; *nmov the moves.
 * Caller holds mu. */
static int pick_resends(mc_sender *s, uint32_t n, uint64_t now, int *nmov, uint64_t *tally)
{
    int count = s->grid.count, np = 0, keyframe = 0;
    move_entry *mv = s->moves[n & 1];
    memset(s->mark, 0, (size_t)count);
    if (s->ctrl) {
        mc__ctrl_server_take(s->ctrl, s->mark, &keyframe);
        if (keyframe)
            memset(s->mark, 1, (size_t)count);
    }
    /* Tiles the viewers asked for, merged: each once however many asked. */
    for (int t = 0; t < count; t++)
        if (s->mark[t] && !s->changed[t] && coded_len(s, t)) {
            s->pick[np++] = (uint16_t)t;
            tally[0]++;
        }
    /* The refresh and the repeats share one budget: the picture's coded
     * bytes once per refresh period, spent in bursts. Tiles that changed
     * a moment ago go first (they are the likeliest to have been lost
     * somewhere), then the round-robin: a few typed characters go out
     * again within a burst, a new slide over a few seconds while the
     * round-robin waits. */
    double pic = 0;
    for (int t = 0; t < count; t++)
        pic += coded_len(s, t);
    double cycle_s = s->cfg.refresh_ms / 1000.0;
    double rate = pic / cycle_s > REFRESH_MIN_BPS ? pic / cycle_s : REFRESH_MIN_BPS;
    if (rate > pic * 1e6 / REFRESH_MIN_CYCLE_US)
        rate = pic * 1e6 / REFRESH_MIN_CYCLE_US;
    if (now - s->refresh_last_us < REFRESH_BURST_US || pic <= 0)
        return np;
    double credit = s->refresh_credit + rate * (double)(now - s->refresh_last_us) / 1e6;
    s->refresh_last_us = now;
    double cap = rate * 2.0 * REFRESH_BURST_US / 1e6; /* no hoard after a pause */
    credit = credit > cap ? cap : credit;
    /* Repeats take at most half a burst's budget, so the round-robin
     * always gets the other half: every tile within 2 x refresh_ms however
     * much the screen changes (within refresh_ms once it stops). */
    double keep = credit / 2;
    for (int t = 0; t < count && credit > keep; t++) {
        tile_info *ti = &s->info[t];
        if (!ti->repeat_due || s->changed[t] || now - ti->changed_us < REPEAT_AFTER_US)
            continue;
        ti->repeat_due = 0;
        if (s->mark[t])
            continue; /* asked for: goes out anyway */
        if (ti->moved) {
            mv[(*nmov)++] = ti->move;
            credit -= 2 + 6 * ti->move.nsrc;
        } else if (coded_len(s, t)) {
            s->pick[np++] = (uint16_t)t;
            credit -= coded_len(s, t);
        }
        s->mark[t] = 2; /* in this frame already: the round-robin passes it */
        tally[1]++;
    }
    /* Each tile at most once a frame: frame_tiles never exceeds the grid. */
    for (int seen = 0; seen < count && credit > 0; seen++) {
        int t = s->refresh_next;
        s->refresh_next = (s->refresh_next + 1) % count;
        if (s->changed[t] || s->mark[t] || !coded_len(s, t))
            continue;
        s->pick[np++] = (uint16_t)t;
        s->info[t].repeat_due = 0; /* the refresh is its repeat */
        credit -= coded_len(s, t);
        tally[2]++;
    }
    s->refresh_credit = credit;
    return np;
}

/* Changed tiles, moves, and the reference picture. Returns nchanged. */
static int find_changes(mc_sender *s, uint32_t n, const uint8_t *bgrx, int pitch, int *nmoved)
{
    int count = s->grid.count;
    *nmoved = 0;
    memset(s->moved, 0, (size_t)count);
    if (!bgrx) {
        memset(s->changed, 0, (size_t)count);
        return 0;
    }
    if (n == 1) { /* the first frame is a keyframe: every tile */
        for (int y = 0; y < s->grid.height; y++)
            memcpy(s->ref + (size_t)y * s->ref_pitch, bgrx + (size_t)y * pitch,
                   (size_t)s->ref_pitch);
        memset(s->changed, 1, (size_t)count);
        return count;
    }
    int nchanged = mc_tiles_compare(&s->grid, bgrx, pitch, s->ref, s->ref_pitch, s->changed);
    /* usable() reads what the workers wrote; they are idle now and their
     * writes happened before wait_pipeline took mu, so no lock is needed
     * (holding it would stall the send thread for the whole search).
     * Moves read only lossless tiles, and what scrolls is mostly where it
     * scrolls from: when few of the changed tiles were lossless (a video,
     * a photograph), the search (a few ms at 1080p) is not worth it. */
    int lossless = 0;
    for (int t = 0; t < count && lossless < MOVE_MIN_CHANGED; t++)
        lossless += s->changed[t] && usable(s, t);
    if (lossless >= MOVE_MIN_CHANGED)
        *nmoved = mc_move_find(s->finder, bgrx, pitch, s->ref, s->ref_pitch, s->changed,
                               MOVE_MIN_CHANGED, usable, s, s->moved, s->mdx, s->mdy);
    mc_tiles_take(&s->grid, bgrx, pitch, s->ref, s->ref_pitch, s->changed);
    return nchanged;
}

/* Queues frame n's moves as groups of one version and one shift. */
static int queue_moves(mc_sender *s, uint32_t n, int nmov, uint16_t frame_tiles, uint64_t ts)
{
    move_entry *mv = s->moves[n & 1];
    qsort(mv, (size_t)nmov, sizeof(*mv), move_order);
    int items = 0;
    for (int i = 0; i < nmov;) {
        int j = i + 1;
        while (j < nmov && mv[j].version == mv[i].version && mv[j].dx == mv[i].dx &&
               mv[j].dy == mv[i].dy)
            j++;
        send_item it = {.kind = ITEM_MOVE, .frame = n, .version = mv[i].version,
                        .frame_tiles = frame_tiles, .ts_us = ts, .first = i, .count = j - i,
                        .fresh = mv[i].version == n};
        mc__sender_q_push(s, &it);
        items++;
        i = j;
    }
    s->nmoves[n & 1] = nmov;
    return items;
}

int mc__sender_plan(mc_sender *s, uint32_t n, const uint8_t *bgrx, int pitch, uint64_t capture_us)
{
    int nmoved, count = s->grid.count; /* nmoved: found; fresh_moves: that could be sent */
    int nchanged = find_changes(s, n, bgrx, pitch, &nmoved);
    move_entry *mv = s->moves[n & 1];
    int nmov = 0, k = 0;
    /* Versions: the moves name their sources' versions before this frame. */
    for (int t = 0; t < count; t++)
        if (s->moved[t] && make_move(s, t, s->mdx[t], s->mdy[t], n, &mv[nmov]))
            nmov++;
        else
            s->moved[t] = 0;
    for (int t = 0; t < count; t++) {
        if (!s->changed[t])
            continue;
        tile_info *ti = &s->info[t];
        ti->version = n;
        ti->changed_us = capture_us;
        ti->repeat_due = 1;
        ti->moved = s->moved[t];
        s->jobs[k++] = (uint16_t)t;
    }
    for (int i = 0; i < nmov; i++)
        s->info[mv[i].tile].move = mv[i];

    mc_mutex_lock(&s->mu);
    uint64_t tally[3] = {0, 0, 0};
    int fresh_moves = nmov;
    int np = pick_resends(s, n, capture_us, &nmov, tally);
    uint16_t frame_tiles = (uint16_t)(nchanged + np + (nmov - fresh_moves));
    if (s->ctrl && (n % 15) == 0 && s->cfg.fec_auto) {
        double loss = mc__ctrl_server_room_loss(s->ctrl);
        int pct = loss < 0 ? s->cfg.fec_percent : (int)(10.0 + 3.0 * loss + 0.5);
        atomic_store(&s->fec_now, pct < 10 ? 10 : pct > 60 ? 60 : pct);
    }
    s->frame_no = n;
    s->job_frame = n;
    s->job_ts = capture_us;
    s->job_frame_tiles = frame_tiles;
    /* Items the send thread will see: coded tiles (the workers queue them),
     * resends, move groups; an empty frame gets one empty item, so frames
     * are counted as sent in order. */
    s->frame_left[n & 1] = nchanged - fresh_moves + np;
    s->frame_left[n & 1] += queue_moves(s, n, nmov, frame_tiles, capture_us);
    if (s->frame_left[n & 1] == 0) {
        send_item none = {.kind = ITEM_NONE, .frame = n, .ts_us = capture_us};
        mc__sender_q_push(s, &none);
        s->frame_left[n & 1] = 1;
    }
    for (int i = 0; i < np; i++) {
        int t = s->pick[i];
        int slot = s->cur_slot[t];
        send_item it = {.kind = ITEM_TILE, .frame = n, .version = s->info[t].version,
                        .tile = (uint16_t)t, .frame_tiles = frame_tiles, .slot = (uint8_t)slot,
                        .codec = s->enc_codec[t * 2 + slot], .ts_us = capture_us,
                        .len = s->enc_len[t * 2 + slot]};
        mc__sender_q_push(s, &it);
    }
    for (int t = 0; t < count; t++)
        s->job_moved[t] = s->moved[t];
    s->job_next = 0;
    s->job_done = 0;
    s->job_count = k;
    s->st.frames++;
    s->st.tiles_changed += (uint64_t)nchanged;
    s->st.tiles_moved += (uint64_t)fresh_moves;
    s->st.tiles_repeated += tally[1];
    s->st.tiles_refreshed += tally[2];
    mc_cond_broadcast(&s->cv_work);
    mc_mutex_unlock(&s->mu);
    return 0;
}
