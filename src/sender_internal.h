/* The sender's state, shared by sender.c (threads, packets, FEC, pacing)
 * and sender_plan.c (what each frame carries). Internal. */
#ifndef MC_SENDER_INTERNAL_H
#define MC_SENDER_INTERNAL_H

#include "mc/platform.h"
#include <stdatomic.h>

#include "ctrl_server.h"
#include "mc/codec.h"
#include "mc/sender.h"
#include "mc/tiles.h"
#include "mc/wire.h"

#define ANNOUNCE_INTERVAL_US 250000u /* an announce at least this often */
#define REFRESH_BURST_US 500000u     /* the refresh goes out in bursts this far apart */
#define REPEAT_AFTER_US 300000u      /* a changed tile is sent again once, from this long after */
#define REFRESH_MIN_BPS 8000.0       /* refresh bytes/s at least (small pictures cycle sooner) */
#define REFRESH_MIN_CYCLE_US 1000000u /* ... but no faster than a cycle a second */
#define MOVE_MIN_CHANGED 4           /* look for moves when this many tiles changed */

enum { ITEM_TILE = 0, ITEM_MOVE = 1, ITEM_NONE = 2 /* an empty frame */ };

/* One thing for the send thread: a coded tile (from its published slot),
 * a group of moved tiles (entries [first, first + count) of the frame's
 * move list, all with one shift and version), or nothing (a frame that
 * sends nothing still passes through, in order). */
typedef struct {
    uint8_t kind, slot, codec, fresh; /* fresh: new content (not a resend) */
    uint16_t tile, frame_tiles;
    uint32_t frame, version, len;
    uint64_t ts_us;
    int first, count;                 /* ITEM_MOVE */
} send_item;

/* A moved tile as the send thread packs it. */
typedef struct {
    uint16_t tile;
    int16_t dx, dy;
    uint8_t nsrc;
    uint32_t version;
    uint16_t src_tile[MC_MOVE_MAX_SRC];
    uint32_t src_version[MC_MOVE_MAX_SRC];
} move_entry;

/* Per tile, owned by the submitter (sender_plan.c) between frames. */
typedef struct {
    uint32_t version;     /* frame its content was captured in */
    uint8_t exact;        /* viewers decode exactly the sender's pixels */
    uint8_t repeat_due;   /* changed, not sent again yet */
    uint8_t moved;        /* the current version went out as a move (below) */
    uint64_t changed_us;  /* when the current version was captured */
    move_entry move;      /* valid if moved */
} tile_info;

typedef struct {
    mc_sender *s;
    int index;
} worker_arg;

struct mc_sender {
    mc_sender_config cfg;
    mc_grid grid;
    int fd;
    uint32_t session;
    uint32_t seq; /* send thread only */

    /* Coded tiles: two slots per tile; the workers write the one not
     * published. Lengths and codecs under mu. */
    size_t max_bytes;
    uint8_t *enc_mem;  /* tiles x 2 slots x max_bytes */
    uint32_t *enc_len; /* tiles x 2 slots */
    uint8_t *enc_codec; /* tiles x 2 slots */
    uint8_t *cur_slot;
    tile_info *info;   /* submitter only */
    mc__ctrl_server *ctrl;
    _Atomic int fec_now;
    uint8_t *changed, *mark, *moved;
    int16_t *mdx, *mdy;
    uint8_t *ref;      /* last picture seen; workers encode from it */
    int ref_pitch;
    mc_move_finder *finder;

    /* The refresh (submitter only). */
    int refresh_next;          /* round-robin position */
    uint64_t refresh_last_us;  /* last refresh burst */
    uint64_t cycle_start_us;   /* when the round-robin last passed tile 0 */
    double refresh_credit;     /* bytes the refresh may still send */
    uint16_t *pick;            /* this frame's resent tiles */

    mc_mutex mu;
    mc_cond cv_work, cv_send, cv_done;
    uint16_t *jobs;
    uint8_t *job_moved;        /* per tile: encode but do not send (it moved) */
    int job_count, job_next, job_done;
    uint32_t job_frame;
    uint16_t job_frame_tiles;
    uint64_t job_ts;
    send_item *q;
    int q_cap, q_head, q_len;
    int frame_left[2];         /* items of frame n still to send, at [n & 1] */
    move_entry *moves[2];      /* frame n's moved tiles, at [n & 1] */
    int nmoves[2];
    uint32_t frame_no, sent_upto;
    int stop;
    int quiet;      /* mc_sender_destroy_quietly: no BYE at the end */
    mc_sender_stats st;

    int nworkers;
    mc_thread *workers;
    worker_arg *wargs;
    mc_tile_coder **coders;
    mc_thread send_thread;
    int send_started;

    /* FEC block being filled (send thread only). */
    uint8_t *fec_data, *fec_parity;
    size_t sym_cap, fec_max_len;
    int fec_n, fec_fresh;
    uint32_t fec_first_seq;

    /* The VIDEO datagram being filled (send thread only). */
    uint8_t vbuf[MC_MAX_MTU];
    size_t vused;          /* 0: none open */
    uint32_t vframe;
    int vfresh;

    /* Pacer (send thread only). */
    double tokens, rate_bytes_per_us, burst_bytes;
    uint64_t last_refill_us;
    uint8_t pkt[MC_MAX_MTU];

    mc_audio_tx *audio;
    int audio_unsigned;     /* audio packets since their last manifest (audio thread) */
    mc_mutex sink_mu;
    mc_mutex auth_mu;
    mc_auth_tx *auth;
    int sealing;
    uint8_t seal_key[MC_SEAL_KEY];
};

/* sender_plan.c: the submitter's work for frame n (caller holds no lock).
 * Decides the changed and moved tiles, queues the encode jobs, the moves
 * and the resends. */
int mc__sender_plan(mc_sender *s, uint32_t n, const uint8_t *bgrx, int pitch, uint64_t capture_us);
int mc__sender_plan_alloc(mc_sender *s);
void mc__sender_plan_free(mc_sender *s);
/* Queues an item and wakes the send thread; the caller holds mu. */
void mc__sender_q_push(mc_sender *s, const send_item *it);

#endif
