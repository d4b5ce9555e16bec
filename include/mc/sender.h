/* The sender pipeline: change and move detection -> tile coders (lossless
 * or JPEG per tile) -> packetizer -> FEC -> pacer -> multicast. The caller
 * captures pictures and submits them. */
#ifndef MC_SENDER_H
#define MC_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "mc/audio.h"
#include "mc/auth.h"

typedef struct mc_sender mc_sender;

/* When set, packets go to this function instead of a socket (tests and
 * benchmarks). Called from the send thread. */
typedef void (*mc_packet_sink)(void *ctx, const uint8_t *pkt, size_t len);

typedef struct {
    const char *group;   /* multicast group, default 239.1.1.1 */
    uint16_t port;       /* default 5004 */
    const char *iface;   /* outgoing interface (address or name), NULL = routing table */
    int ttl;             /* IP_MULTICAST_TTL, default 1 (stay on the LAN) */
    int loop;            /* IP_MULTICAST_LOOP: let viewers on this host receive */
    int width, height;   /* picture size as sent */
    int tile;            /* tile edge in pixels, default 64 (see docs/performance.md) */
    int codec;           /* enum mc_codec_mode (mc/codec.h): auto (default), jpeg, lossless */
    int quality;         /* JPEG quality 1..100, default 75 (the JPEG tiles) */
    int subsamp;         /* MC_SUBSAMP_420 (default) or MC_SUBSAMP_444 */
    int fps;             /* target frame rate (announced; the caller paces capture) */
    int refresh_ms;      /* every tile is resent about this often, default 8000; the
                            refresh costs the picture's bytes once per period */
    int mtu;             /* largest UDP payload in bytes, default 1200 */
    double max_bitrate_mbit; /* pacer rate, Mbit/s on the wire, default 100 */
    int threads;         /* encode workers, default = online CPUs */
    uint16_t ctrl_port;  /* control channel port (ENet/UDP); 0 = none. mcshare: port + 1 */
    int max_viewers;     /* control connections accepted, default 256 */
    int fec_percent;     /* Reed-Solomon parity as % of data packets (>= 2 per block); 0 = off; default 20 */
    int fec_auto;        /* size parity from the viewers' reported loss (needs ctrl_port) */
    int fec_block;       /* most data packets per FEC block (blocks also end with each frame); default 32 */
    const mc_audio_config *audio; /* sound to send with the picture; NULL = none. A
                            missing device is reported once and video goes on. */
    const mc_signing_key *key; /* sign the stream with this key (signed manifests,
                            mc/auth.h); NULL = unsigned. mcshare always signs. */
    const uint8_t *seal_key; /* MC_SEAL_KEY bytes: encrypt every datagram but the
                            manifests (class passphrase); NULL = in clear */
    mc_packet_sink sink; /* optional: replaces the socket (called from the send
                            thread and the audio thread, never at once) */
    void *sink_ctx;
} mc_sender_config;

typedef struct {
    uint64_t frames;          /* pictures submitted */
    uint64_t tiles_changed;   /* tiles that changed (coded, or moved) */
    uint64_t tiles_lossless;  /* of the coded ones, coded losslessly */
    uint64_t tiles_moved;     /* changed tiles sent as a move (scroll, dragged window) */
    uint64_t tiles_repeated;  /* changed tiles sent once more a moment later */
    uint64_t tiles_refreshed; /* unchanged tiles resent by the rolling refresh */
    uint64_t move_packets;    /* MOVE datagrams */
    uint64_t packets, bytes;  /* datagrams and UDP payload bytes sent */
    uint64_t encode_us;       /* worker time spent coding tiles */
    uint64_t pace_wait_us;    /* time the pacer held packets back */
    uint64_t send_errors;
    uint64_t fec_blocks, fec_parity_packets;
    uint64_t manifests;       /* signed manifests */
    /* Control channel. */
    int viewers;                          /* connected now */
    uint64_t ctrl_messages, ctrl_dropped; /* received; refused by rate limits or as malformed */
    uint64_t repairs_asked, repairs_sent; /* tiles asked for (all viewers), tiles resent (merged) */
    uint64_t keyframes_asked, keyframes_sent;
    int fec_percent_now;                  /* current parity (changes with --fec auto) */
    /* Audio (zero without it). */
    int audio_on;
    uint64_t audio_packets, audio_bytes, audio_encode_us, audio_overruns;
} mc_sender_stats;

/* One connected viewer, as its last report describes it. */
typedef struct {
    char name[33];
    char addr[48];
    double connected_s;     /* how long ago it connected */
    double report_age_s;    /* how old its last report is (-1: none yet) */
    double loss_pct;        /* packet loss before FEC over its last report interval */
    int tiles_held, tiles_total;
    double lat_p50_ms, lat_p95_ms;
    uint64_t dropped;       /* its requests refused by rate limits */
} mc_viewer_info;

void mc_sender_config_default(mc_sender_config *cfg);

/* Checks the configuration, opens the socket, starts the workers and the
 * send thread. Returns 0 or a negative MC_E* / errno code. */
int mc_sender_create(const mc_sender_config *cfg, mc_sender **out);

/* Submits one picture (width x height BGRX, pitch in bytes) captured at
 * capture_us (mc_now_us clock). Copies what it needs before returning.
 * bgrx = NULL means "the same picture as last time" (the capture knows no
 * pixel changed): no comparison is made, only the rolling refresh is sent.
 * Blocks while the previous two frames are still being coded and sent, so
 * a slow link lowers the frame rate instead of growing a queue. */
int mc_sender_submit(mc_sender *s, const uint8_t *bgrx, int pitch, uint64_t capture_us);

/* Waits until every submitted frame has been sent. */
void mc_sender_flush(mc_sender *s);

void mc_sender_get_stats(mc_sender *s, mc_sender_stats *st);

/* Copies up to max connected viewers into out; returns how many. */
int mc_sender_roster(mc_sender *s, mc_viewer_info *out, int max);

/* A/V marker: the audio "tone" source clicks at this capture time. */
void mc_sender_audio_mark(mc_sender *s, uint64_t ts_us);

/* What the audio is ("none" without audio). */
const char *mc_sender_audio_describe(const mc_sender *s);

/* The session id this sender stamps on its packets. */
uint32_t mc_sender_session(const mc_sender *s);

/* Tells viewers the broadcast ended (BYE), stops the threads and frees
 * everything. NULL is a no-op. */
void mc_sender_destroy(mc_sender *s);

/* The same without the BYE: for a sender restarted at once with other
 * settings (a new session). Viewers follow the new session once the old
 * one has been quiet for 0.3 s, without showing "ended". */
void mc_sender_destroy_quietly(mc_sender *s);

#endif
