/* The receiver pipeline: multicast socket -> validation -> reassembly of
 * tiles -> decode workers (each tile's codec) and moves -> picture. Shared
 * by mcview, mcprobe, the tests and the fuzzers. */
#ifndef MC_RECEIVER_H
#define MC_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "mc/audio.h"
#include "mc/auth.h"

typedef struct mc_receiver mc_receiver;

/* What happens to the broadcast's sound (mc_receiver_config.audio). */
enum mc_audio_out {
    MC_AUDIO_OUT_NONE = 0,    /* not decoded (counted only); video shown when complete */
    MC_AUDIO_OUT_APP = 1,     /* the application's sound device calls mc_receiver_audio_pull */
    MC_AUDIO_OUT_VIRTUAL = 2, /* a clocked thread plays it into nothing (mcprobe) */
};

enum mc_rx_state {
    MC_RX_WAITING = 0, /* no announce seen yet */
    MC_RX_LIVE = 1,    /* a session is being received */
    MC_RX_ENDED = 2,   /* the sender said BYE */
};

/* What a decoded tile is, for mc_tile_cb. */
typedef struct {
    int tile;
    uint32_t version, frame, session;
    const uint8_t *pixels; /* w x h BGRX; valid during the call only */
    int pitch, x, y, w, h;
    int pic_width, pic_height;
    int codec; /* enum mc_codec_id; 0 for a moved tile (pixels the viewer held) */
    const uint8_t *codec_params; /* that codec's session parameters (NULL for a move) */
    size_t codec_params_len;
} mc_tile_event;

/* Called from a decode worker after each tile is decoded, before it enters
 * the picture. Must not call back into the receiver. */
typedef void (*mc_tile_cb)(void *ctx, const mc_tile_event *ev);

typedef struct {
    const char *group;  /* NULL: no socket, packets come from mc_receiver_feed */
    uint16_t port;
    const char *iface;  /* interface to join on (address or name), NULL = default */
    const char *source; /* join only this sender's datagrams (SSM, IGMPv3); NULL = any */
    const char *relay;  /* instead of the group: subscribe to this mcrelay, HOST[:PORT]
                           (mc/relay.h); the control channel is not used then */
    int rcvbuf_bytes;   /* socket receive buffer, default 8 MiB */
    int threads;        /* decode workers; 0 = decode inline in mc_receiver_feed */
    int no_decode;      /* reassemble and count only */
    size_t max_memory;  /* cap on per-session buffers; 0 = 512 MiB. An announce
                           needing more is refused (counted as bad_field). */
    mc_tile_cb on_tile;
    void *cb_ctx;
    int ctrl;           /* use the sender's control channel when it offers one (default 1) */
    double drop_pct;    /* testing: drop this share of arriving datagrams (0 = none) */
    double drop_burst;  /* mean length of a run of drops (1 = independent) */
    uint64_t drop_seed; /* the drops are a pure function of the seed */
    const char *name;   /* viewer name shown to the teacher; NULL = host name */
    int audio;          /* enum mc_audio_out; default NONE. With sound playing,
                           the sound is the clock: a decoded frame enters the
                           picture when the sound reaches its capture time. */
    int audio_target_ms; /* jitter buffer target; 0 = MC_AUDIO_TARGET_MS */
    int volume;         /* 0..100, default 100 */
    int mute;
    /* Sender authentication (mc/auth.h). With require_signed, only datagrams
     * a signed manifest vouches for are used; trust_fpr pins the sender's
     * key (NULL: the first key seen is trusted, and only it). Off by default
     * in the library; the tools turn it on. */
    int require_signed;
    const uint8_t *trust_fpr; /* MC_FPR_BYTES, copied at create */
    const uint8_t *seal_key;  /* MC_SEAL_KEY bytes (class passphrase), copied; NULL = none */
} mc_receiver_config;

/* Counters since creation (packet counters) or since the session started
 * (loss and frames). Latencies are from the sender's capture timestamp to
 * this host's monotonic clock, which is only meaningful when both share a
 * clock (same machine) until the control channel's clock sync exists. */
typedef struct {
    int state;
    uint32_t session;
    int width, height, tiles, tile, fps, quality, subsamp;
    uint64_t packets, bytes;     /* datagrams arrived, manifests and refused ones included */
    uint64_t dropped_on_purpose; /* by --drop */
    uint64_t bad_magic, bad_version, bad_field, bad_type, bad_tile, corrupt_tile;
    int wire_version_seen;    /* the wire version of the last datagram we cannot read
                                 (another mcshare version), 0 if none */
    uint64_t bad_codec_params; /* announces whose codec parameters a decoder refused */
    uint64_t foreign_session; /* packets of another sender on the same group */
    uint64_t no_announce;     /* packets before the first announce */
    uint64_t duplicates, stale, sessions;
    uint64_t expected, received; /* by sequence number, current session */
    uint64_t arrived_unverified; /* of received: arrived, but both copies of their
                                    manifest were lost, so not used */
    uint64_t fec_recovered;      /* packets rebuilt from Reed-Solomon parity */
    uint64_t fec_blocks, fec_unrecoverable; /* blocks seen; blocks that stayed incomplete */
    uint64_t tiles_complete, tiles_decoded, decode_errors;
    /* Tile versions whose original transmission (frame == version) reached
     * us, and how many of those completed from it, FEC included, without
     * waiting for a refresh: the "complete without repair" share. */
    uint64_t tiles_first_seen, tiles_first_try;
    /* Tile versions completed from a later transmission than their first
     * (a repair the control channel asked for, or a refresh): "repaired". */
    uint64_t tiles_repaired;
    uint64_t tiles_moved;       /* tiles built from pixels held (MOVE) */
    uint64_t moves_failed;      /* moves whose source versions were not held: lost */
    int pending_moves;          /* moves waiting for a source being decoded */
    uint64_t frames_seen, frames_complete, frames_decoded;
    /* Frame numbers from the session's first seen to its newest: the frames
     * the sender sent meanwhile, whether any of their packets arrived. */
    uint64_t frames_expected;
    int tiles_held;             /* tiles of the grid that hold a picture */
    int tiles_behind;           /* tiles showing an older version than one seen on the wire */
    int tiles_stale;            /* of those, behind for more than 250 ms (not just in flight) */
    uint64_t last_packet_us;    /* when the current session was last heard */
    /* Control channel. */
    int ctrl_connected;
    uint64_t ctrl_refused;      /* control peers that failed to prove the teacher's key */
    uint64_t ctrl_keyframes_asked, ctrl_repairs_asked; /* tiles asked for */
    int clock_synced;
    int64_t clock_offset_us;    /* sender clock - our clock */
    uint32_t clock_rtt_us;
    double lat_complete_ms[3];  /* p50, p95, p99 capture -> last packet of frame */
    double lat_decoded_ms[3];   /* p50, p95, p99 capture -> frame decoded */
    int lat_samples;
    /* Frame jitter: the RFC 3550 interarrival estimator (J += (|D| - J) / 16)
     * applied to each complete frame's capture -> complete time. */
    double jitter_ms;
    /* Audio. */
    uint64_t audio_packets;     /* audio packets of the session (played or not) */
    mc_audio_rx_stats audio;    /* playout (zero unless config.audio) */
    double audio_lat_ms[3];     /* p50, p95, p99 capture -> heard */
    int audio_lat_samples;
    int volume, muted;
    int video_held;             /* decoded tiles waiting for the sound to reach them */
    /* A/V offset: the test pattern's white marker entering the picture minus
     * the test tone's click being heard, both on this host's clock. */
    double av_offset_ms[3];     /* p5, p50, p95; positive = picture late */
    int av_samples;
    /* Sender authentication (zero unless require_signed). */
    int auth_on;
    mc_auth_rx_stats auth;
    /* Encrypted (SEALED) datagrams: without the passphrase, and failing to open. */
    uint64_t sealed_locked, sealed_bad;
} mc_receiver_stats;

/* A locked view of the current picture, for presenting. */
typedef struct {
    int state;
    uint32_t generation;  /* changes when the session or geometry changes */
    int width, height, pitch;
    const uint8_t *pixels; /* BGRX */
    int cols, rows, tile;
    uint8_t *dirty;        /* per tile: changed since the last clear */
} mc_picture;

void mc_receiver_config_default(mc_receiver_config *cfg);
int mc_receiver_create(const mc_receiver_config *cfg, mc_receiver **out);

/* Processes one datagram as if it had arrived at now_us. Never trusts it.
 * Returns 0 if it was used, or the negative reason it was dropped. */
int mc_receiver_feed(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now_us);

/* Waits up to timeout_ms for a newly decoded frame or a state change.
 * Returns 1 if something changed, 0 on time-out. */
int mc_receiver_wait(mc_receiver *r, int timeout_ms);

/* Locks the picture; unlock with mc_receiver_unlock_picture. Decoding of
 * new tiles waits meanwhile, so hold it briefly. */
void mc_receiver_lock_picture(mc_receiver *r, mc_picture *pic);
void mc_receiver_unlock_picture(mc_receiver *r);

void mc_receiver_get_stats(mc_receiver *r, mc_receiver_stats *st);

/* Copies up to max of the most recent capture->decoded latencies (ms) of
 * the current session, oldest first; returns how many. */
int mc_receiver_latency_samples(mc_receiver *r, float *out, int max);

/* For MC_AUDIO_OUT_APP: fills out with `frames` 48 kHz stereo samples that
 * the device will start playing latency_us from now. Safe to call from an
 * audio callback thread. Returns the samples that came from the stream. */
int mc_receiver_audio_pull(mc_receiver *r, int16_t *out, int frames, uint32_t latency_us);

/* The same, as if called at now_us (tests and fuzzers drive time). */
int mc_receiver_audio_pull_at(mc_receiver *r, int16_t *out, int frames, uint32_t latency_us,
                              uint64_t now_us);

/* Volume 0..100 and mute, applied to the pulled sound. */
void mc_receiver_set_volume(mc_receiver *r, int volume, int mute);

/* For fuzzers and tests: back to the state just after create, keeping the
 * memory it allocated, for a receiver without a socket, decode threads or
 * a sound thread (MC_ESTATE otherwise). */
int mc_receiver_reset(mc_receiver *r);

/* Stops the threads and frees everything; NULL is a no-op. */
void mc_receiver_destroy(mc_receiver *r);

#endif
