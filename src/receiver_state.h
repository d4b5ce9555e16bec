/* The receiver's state, shared by receiver.c (packets, reassembly,
 * decoding, threads) and receiver_av.c (presenting tiles, and holding them
 * until the sound reaches them). Internal. */
#ifndef MC_RECEIVER_STATE_H
#define MC_RECEIVER_STATE_H

#include "mc/platform.h"
#include <stdatomic.h>
#include <stdint.h>

#include "fecrx.h"
#include "ctrl_client.h"
#include "receiver_internal.h"
#include "mc/audio.h"
#include "mc/codec.h"
#include "mc/receiver.h"
#include "mc/tiles.h"

/* Behind this long after news of a newer version: a tile is stale. */
#define STALE_AFTER_US 250000u
#include "mc/wire.h"

#define FRAME_RING 128
#define LAT_SAMPLES 2048
#define HOLD_MAX_BYTES (64u << 20) /* decoded tiles waiting for the audio clock */
#define HOLD_MAX_US 500000u        /* never hold a tile longer than this */
#define AV_EVENTS 16
#define AV_PAIR_US 500000u         /* a flash and a click this close belong together */
#define RX_BATCH 32
#define RX_BUF_BYTES 9216

/* A move waiting for a source version that is still being decoded. */
typedef struct {
    uint32_t version, frame;
    uint64_t since_us;
    int16_t dx, dy;
    uint8_t nsrc;
    uint16_t src[MC_MOVE_MAX_SRC];
    uint32_t srcv[MC_MOVE_MAX_SRC];
} pending_move;

typedef struct {
    uint32_t version, tile_bytes, got_bytes;
    uint32_t frag_len;  /* every fragment's length but the last's (0: not known yet) */
    uint16_t frag_count, got;
    uint8_t assembling, queued, ready, have;
    uint8_t codec, ready_codec; /* of the tile being assembled, and of the ready one */
    uint8_t orig_seen; /* a fragment of this version's original frame arrived */
    uint32_t ready_version, ready_len, ready_frame;
    uint32_t shown_version;
    uint32_t held_version; /* newest version waiting in the hold queue (valid if held) */
    uint8_t held;
    uint32_t newest_seen; /* newest version any fragment announced (valid if seen) */
    uint64_t newest_seen_us; /* when that version was first seen */
    uint8_t seen;
    uint32_t acc_frame; /* last frame this tile was counted in */
    uint8_t acc_valid;
    uint8_t waiting;    /* wait_frame counts on the pending (ready) decode */
    uint32_t wait_frame;
    /* The newest decoded pixels (r->refcur) and the version before them
     * (r->refprev), which moves read from. */
    uint32_t cur_ver, prev_ver;
    uint8_t cur_have, prev_have;
    uint8_t decoding;           /* a worker holds decoding_ver now */
    uint32_t decoding_ver;
    uint8_t pend;               /* a move into this tile waits (pm) */
    pending_move pm;
    uint8_t *asm_buf, *ready_buf; /* entropy data at +MC_TILE_HEADROOM */
    uint64_t bits[MC_MAX_FRAGS / 64];
} tile_slot;

typedef struct {
    uint32_t frame;
    uint64_t ts_us;
    uint16_t expected, accounted, decoded;
    uint8_t used;
} frame_rec;

typedef struct {
    uint8_t *buf;     /* swapped with a tile's ready buffer */
    uint8_t *scratch; /* decoded pixels of one tile */
    mc_tile_decoders *dec;
} worker_ctx;

typedef struct {
    mc_receiver *r;
    int index;
} worker_arg;

typedef struct {
    int tile;
    uint32_t version, frame, len, generation;
    uint8_t codec;
    int x, y, w, h;
} decode_job;

/* A decoded tile waiting until the sound reaches its capture time. */
typedef struct {
    decode_job job;
    uint64_t ts_us, held_at;
} hold_item;

struct mc_receiver {
    mc_receiver_config cfg;
    int fd;
    mc_mutex mu;
    mc_mutex amu; /* the sound's; taken after mu, never before */
    mc_cond cv_dec, cv_pic, cv_idle;
    /* Scratch and sample rings: written before they are read (each ring
     * only up to its count, which is reset below), so a reset need not
     * clear their 40 KB. */
    uint8_t open_buf[MC_MAX_MTU]; /* the datagram inside a SEALED one */
    float lat_c[LAT_SAMPLES], lat_d[LAT_SAMPLES];
    float av[LAT_SAMPLES], alat[LAT_SAMPLES];

    /* From here on: what mc_receiver_reset returns to its state at create
     * (keeping the sub-objects listed there). */
    int state;
    uint32_t session, generation;
    uint64_t last_rx_us;
    mc_announce ann;
    uint8_t ann_params[MC_MAX_CODECS][255]; /* ann.codecs[i].params point here */
    int wire_version_seen;      /* of datagrams we cannot read (0: none) */
    mc_grid grid;
    size_t buf_bytes;
    tile_slot *tiles;
    uint16_t *dq;
    int dq_head, dq_len;
    uint8_t *pixels, *dirty;
    int pitch;
    /* Decoded pixels for moves: refcur is `pixels` itself unless sound
     * holds tiles back; refprev comes with the session's first move. */
    uint8_t *refcur, *refprev, *move_px;
    int npend;                  /* tiles with a pending move */
    frame_rec frames[FRAME_RING];
    int seq_init;
    uint32_t seq_first, seq_max;
    uint64_t pic_seq;

    int nworkers, busy, resetting, stop;
    mc_thread *threads;
    worker_arg *wargs;
    worker_ctx *w;      /* nworkers + 1: the last one is for inline decoding */
    mc_thread rx_thread;
    int rx_started;
    uint8_t (*rxbufs)[RX_BUF_BYTES]; /* RX_BATCH datagrams for recvmmsg */

    struct mc_relay_sub *relay; /* fed by a relay instead of the group */
    mc__fecrx *fec;
    uint32_t rx_src;        /* source address of the datagram being fed (network order) */
    uint32_t ctrl_ip;       /* the followed sender's address, 0 = unknown */
    int64_t clock_offset_us;
    uint32_t clock_rtt_us;
    int clock_synced;
    mc__ctrl_client *client;
    uint64_t drop_rng;
    int drop_bad; /* Gilbert model: in a burst of drops */
    mc_receiver_stats st;
    mc_auth_rx *auth;       /* NULL: unsigned mode */
    uint64_t auth_now;      /* arrival time of the datagram being pushed */
    int has_seal;
    uint8_t seal_key[MC_SEAL_KEY];
    int lat_c_n, lat_d_n;
    uint32_t frame_first, frame_max; /* for frames_expected */
    double jit_prev_ms; /* the previous complete frame's transit, for jitter */
    int jit_valid;

    /* Audio (under amu). */
    mc_audio_rx *audio;
    int volume, mute;
    mc_thread audio_thread;
    int audio_started;
    atomic_int audio_stop;
    hold_item *hold;
    uint8_t *hold_px; /* hold_cap tiles of tile x tile x 4 bytes */
    int hold_cap, hold_head, hold_len;
    int marker; /* the test marker's last state: 0 other, 1 dark, 2 white */
    uint64_t flashes[AV_EVENTS], clicks[AV_EVENTS];
    int nflash, nclick;
    int av_n, alat_n;
};

/* Appends a sample to a ring of LAT_SAMPLES. */
static inline void mc__rx_lat_add(float *ring, int *n, double ms)
{
    ring[*n % LAT_SAMPLES] = (float)ms;
    (*n)++;
}

/* Percentiles pct[i] (0..100) of the newest samples of a ring; 0 when empty. */
void mc__rx_quantiles(const float *ring, int n, const int *pct, int count, double *out);
/* The receiver as its control client's host (receiver_report.c). */
void mc__receiver_ctrl_host(mc_receiver *r, mc__ctrl_host *host);

/* The effective version of a tile: the newest of shown and held. */
static inline uint32_t mc__rx_tile_version(const tile_slot *t)
{
    return t->held && (!t->have || mc_seq_lt(t->shown_version, t->held_version)) ? t->held_version
                                                                                : t->shown_version;
}

/* A tile showing (or about to show) an older version than one seen. */
static inline int mc__rx_tile_behind(const tile_slot *t)
{
    return t->seen && ((!t->have && !t->held) || mc_seq_lt(mc__rx_tile_version(t), t->newest_seen));
}

/* receiver_av.c; the caller holds mu unless said otherwise. */
void mc__rx_show_tile(mc_receiver *r, const decode_job *job, const uint8_t *px, uint64_t now);
void mc__rx_release_held(mc_receiver *r, uint64_t now);
void mc__rx_av_reset(mc_receiver *r); /* a new session */
void mc__rx_av_free(mc_receiver *r);  /* the geometry changes: hold memory goes */
int mc__rx_on_audio(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len, uint64_t now);
void mc__rx_av_stats(mc_receiver *r, mc_receiver_stats *st); /* takes amu too */
void *mc__rx_audio_virtual_main(void *arg); /* thread; takes the locks itself */

/* receiver.c: frames, and a decoded tile (or a moved one) taken into the
 * picture. */
frame_rec *mc__rx_frame_get(mc_receiver *r, uint32_t frame, uint64_t ts, uint16_t expected);
frame_rec *mc__rx_frame_find(mc_receiver *r, uint32_t frame); /* NULL if not remembered */
void mc__rx_frame_account(mc_receiver *r, frame_rec *f, tile_slot *t, int already_decoded,
                          uint64_t now);
void mc__rx_tile_done(mc_receiver *r, const decode_job *job, const uint8_t *px);

/* receiver_move.c: moves, and the decoded pixels they read. */
void mc__rx_tile_event(mc_receiver *r, const decode_job *job, const uint8_t *px);
void mc__rx_ref_store(mc_receiver *r, const decode_job *job, const uint8_t *px);
int mc__rx_on_move(mc_receiver *r, const mc_hdr *h, const uint8_t *pkt, size_t len, uint64_t now);
void mc__rx_moves_retry(mc_receiver *r);

/* receiver.c: one datagram into the pipeline, and inline decoding (no
 * workers). receiver_rx.c: the receive thread and the checks before. */
int mc__rx_feed_locked(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now);
void mc__rx_decode_inline(mc_receiver *r);
void mc__rx_dropped_unsigned(void *ctx, const uint8_t *pkt, size_t len);
void *mc__rx_main(void *arg);

#endif
