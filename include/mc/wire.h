/* mcshare wire format, version 2. docs/protocol.md is the prose version of
 * this file; keep the two in step.
 *
 * Every multi-byte field is big-endian (network order) on the wire. The
 * structs below hold host-order values: conversion happens only in
 * mc_wire_* functions, at the socket boundary. Parsers never trust the
 * packet: every length, index and count is checked and a bad packet returns
 * a negative MC_E* code, never an abort.
 */
#ifndef MC_WIRE_H
#define MC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MC_WIRE_MAGIC 0x4D43u /* "MC" */
#define MC_WIRE_VERSION 2

enum mc_ptype {
    MC_PT_ANNOUNCE = 1, /* stream configuration + each codec's parameters, ~4-10/s */
    MC_PT_VIDEO = 2,    /* fragments of tiles: whole small tiles, or pieces of big ones */
    MC_PT_BYE = 3,      /* the sender is stopping (no payload) */
    MC_PT_PARITY = 4,   /* Reed-Solomon parity of a block of packets */
    MC_PT_AUDIO = 5,    /* Opus frames: the newest and up to 3 earlier ones */
    MC_PT_MANIFEST = 6, /* signed list of the hashes of earlier packets (mc/auth.h) */
    MC_PT_SEALED = 7,   /* another packet, encrypted with the class passphrase (mc/auth.h) */
    MC_PT_MOVE = 8,     /* tiles that are earlier pixels moved (scrolling, a dragged window) */
};
#define MC_PT_LAST MC_PT_MOVE

/* Sizes in bytes. */
#define MC_HDR_BYTES 20
#define MC_VIDEO_HDR_BYTES 8  /* after the common header: frame, frame_tiles, count */
#define MC_VIDEO_REC_BYTES 22  /* before each fragment's data */
#define MC_ANNOUNCE_FIXED_BYTES 30 /* after the common header, before the codec parameters */
#define MC_MOVE_HDR_BYTES 20   /* after the common header, before the tile lists */
#define MC_PARITY_HDR_BYTES 16 /* after the common header, before the parity symbol */
#define MC_AUDIO_HDR_BYTES 8   /* after the common header, before the Opus frames */
/* A protected packet travels as a symbol of 2 length bytes + the packet, so
 * a parity packet is 38 bytes longer than the longest packet it protects. */
#define MC_FEC_OVERHEAD (MC_HDR_BYTES + MC_PARITY_HDR_BYTES + 2)

/* Limits that a receiver enforces; a packet outside them is dropped. */
#define MC_MAX_DIM 8192           /* picture width/height in pixels */
#define MC_MIN_TILE 16
#define MC_MAX_TILE 512
#define MC_MAX_TILES 65535        /* tiles in the grid */
#define MC_MAX_FRAGS 1024         /* fragments of one tile */
#define MC_MAX_TILE_BYTES (1u << 20) /* entropy-coded bytes of one tile */
#define MC_MAX_CODECS 8           /* codec parameter blocks in one announce */
#define MC_MOVE_MAX_SRC 4         /* source tiles one moved tile can read */
#define MC_MIN_MTU 800            /* the smallest --mtu */
#define MC_MIN_INNER_MTU 512      /* the smallest announced mtu (inside SEALED datagrams) */
#define MC_MAX_MTU 9000
#define MC_AUDIO_RATE 48000       /* the only audio sample rate of version 1 */
#define MC_AUDIO_MAX_FRAMES 4     /* Opus frames in one audio packet */
#define MC_AUDIO_MAX_OPUS 1275    /* longest Opus packet (RFC 6716) */
#define MC_AUDIO_MAX_SAMPLES 2880 /* longest frame: 60 ms at 48 kHz */

enum mc_subsamp { MC_SUBSAMP_444 = 0, MC_SUBSAMP_420 = 1 };

/* Common header, at offset 0 of every packet (20 bytes). */
typedef struct {
    uint8_t type;     /* enum mc_ptype */
    uint32_t session; /* random per sender start; a new value = sender restarted */
    uint32_t seq;     /* per-session packet counter; compare with mc_seq_* only */
    uint64_t ts_us;   /* sender media timestamp, monotonic µs (capture time for video) */
} mc_hdr;

/* A VIDEO datagram: after the common header, frame u32, frame_tiles u16,
 * count u8 (1..255), a reserved byte, then `count` fragment records of 22
 * bytes + data each (below, from version on). Small tiles travel several
 * to a datagram; a big tile's fragments fill datagrams as they come. One
 * record as a struct (frame and frame_tiles are the datagram's): */
typedef struct {
    uint32_t frame;       /* frame this packet belongs to (sequence of captures) */
    uint32_t version;     /* frame in which this tile's content was captured */
    uint16_t tile;        /* tile index, row-major in the announced grid */
    uint16_t frame_tiles; /* how many tiles the sender sends in this frame */
    uint16_t frag;        /* fragment index, 0..frag_count-1 */
    uint16_t frag_count;  /* fragments of this tile */
    uint32_t tile_bytes;  /* entropy-coded bytes of the whole tile */
    uint32_t offset;      /* byte offset of this fragment's data in the tile */
    uint8_t codec;        /* enum mc_codec_id (mc/codec.h): how the tile is coded */
    uint8_t flags;        /* 0 */
    const uint8_t *data;  /* points into the packet; not owned */
    size_t len;           /* bytes of data in this fragment */
} mc_video;

/* Announce, after the common header (30 bytes + codec parameters). */
typedef struct {
    uint16_t width, height; /* picture size in pixels */
    uint16_t tile;          /* tile edge in pixels (square tiles) */
    uint16_t cols, rows;    /* grid; cols = ceil(width / tile) */
    uint16_t fps;           /* highest frame rate */
    uint16_t refresh_ms;    /* every tile is resent at least this often (the
                               longest a viewer without feedback waits) */
    uint32_t max_tile_bytes; /* no tile's coded data is larger */
    uint32_t frame;         /* newest frame number at send time */
    uint16_t ctrl_port;     /* control channel UDP port, 0 = none */
    uint16_t mtu;           /* no datagram of the stream is longer (inside SEALED ones):
                               MC_MIN_INNER_MTU..MC_MAX_MTU; receivers size buffers by it */
    uint16_t flags;         /* reserved, 0 */
    uint8_t ncodecs;        /* parameter blocks that follow, 1..MC_MAX_CODECS */
    struct {
        uint8_t id;          /* enum mc_codec_id */
        uint8_t len;         /* bytes of params */
        const uint8_t *params; /* points into the packet */
    } codecs[MC_MAX_CODECS];
} mc_announce;

/* A move, after the common header (20 bytes + lists): the tiles in dst
 * now hold, as their version `version`, the pixels that were at their own
 * rectangle shifted by (dx, dy) in the picture made of the listed source
 * tiles at the listed versions. A viewer applies it only when it holds
 * exactly those versions; otherwise the tiles are lost like any other. */
typedef struct {
    uint32_t frame;       /* frame that carries it */
    uint32_t version;     /* the moved tiles' new version (<= frame) */
    int16_t dx, dy;       /* source = destination + (dx, dy), pixels */
    uint16_t frame_tiles; /* as mc_video: tiles of any kind sent in this frame */
    uint16_t ndst, nsrc;  /* >= 1 each */
    const uint8_t *dst;   /* ndst x tile u16, big-endian; points into the packet */
    const uint8_t *src;   /* nsrc x (tile u16, version u32) */
} mc_move;

/* The i-th entry of a parsed move's lists. */
uint16_t mc_move_dst(const mc_move *m, int i);
void mc_move_src(const mc_move *m, int i, uint16_t *tile, uint32_t *version);

/* Parity, after the common header (16 bytes + symbol). The block is the k
 * packets with sequence numbers first_seq .. first_seq + k - 1; its parity
 * packets carry first_seq + k .. first_seq + k + p - 1. */
typedef struct {
    uint32_t first_seq; /* seq of the block's first data packet */
    uint32_t frame;     /* the frame during which the block was closed */
    uint8_t k, p;       /* data and parity packets in the block */
    uint8_t index;      /* this parity packet, 0..p-1 */
    uint16_t sym_len;   /* symbol length: 2 + the longest data packet */
    const uint8_t *sym; /* sym_len bytes; points into the packet */
} mc_parity;

/* Audio, after the common header (8 bytes + frames). Audio packets have a
 * sequence of their own: the common header's seq is the number of the
 * newest Opus frame in the packet and ts_us its capture time (first
 * sample). frames[0] is that newest frame; frames[i] is frame seq - i,
 * captured i * frame_samples / rate seconds earlier. Resending the last
 * frames in every packet is the audio's loss protection (RFC 2198 style):
 * a frame is lost only if count consecutive packets are. */
typedef struct {
    uint8_t channels;       /* 1 or 2 */
    uint8_t count;          /* frames in this packet, 1..MC_AUDIO_MAX_FRAMES */
    uint16_t frame_samples; /* samples per channel in each frame: 120..2880 */
    uint32_t rate;          /* MC_AUDIO_RATE */
    struct {
        const uint8_t *data; /* points into the packet */
        uint16_t len;        /* 1..MC_AUDIO_MAX_OPUS */
    } frames[MC_AUDIO_MAX_FRAMES];
} mc_audio;

/* Wrap-safe sequence comparison (RFC 1982 style, 32-bit). */
static inline int32_t mc_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline int mc_seq_lt(uint32_t a, uint32_t b) { return mc_seq_diff(a, b) < 0; }
static inline int mc_seq_le(uint32_t a, uint32_t b) { return mc_seq_diff(a, b) <= 0; }

/* Writers return the bytes written, or a negative MC_E* code when cap is too
 * small or a field is out of range. */
int mc_wire_write_header(uint8_t *buf, size_t cap, const mc_hdr *h);
/* A VIDEO datagram of one fragment (tests, tools). */
int mc_wire_write_video(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_video *v);
/* Building one of several: begin writes the headers (h, v->frame and
 * v->frame_tiles) and returns the bytes used; add appends a fragment of the
 * same frame and updates *used and the count: 0, MC_ETOOBIG when it does
 * not fit in cap (nothing written), MC_EFIELD for a bad record or a 256th. */
int mc_wire_video_begin(uint8_t *buf, size_t cap, const mc_hdr *h, uint32_t frame,
                        uint16_t frame_tiles);
int mc_wire_video_add(uint8_t *buf, size_t cap, size_t *used, const mc_video *v);
int mc_wire_write_announce(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_announce *a);
int mc_wire_write_parity(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_parity *p);
int mc_wire_write_audio(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_audio *a);
/* dst: ndst tile indices; src_tile/src_version: nsrc entries (m->dst and
 * m->src are ignored). */
int mc_wire_write_move(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_move *m,
                       const uint16_t *dst, const uint16_t *src_tile, const uint32_t *src_version);
/* The largest ndst + nsrc pair that fits a datagram of cap bytes is any
 * with 2 x ndst + 6 x nsrc <= this. */
static inline size_t mc_move_room(size_t cap)
{
    return cap > MC_HDR_BYTES + MC_MOVE_HDR_BYTES ? cap - MC_HDR_BYTES - MC_MOVE_HDR_BYTES : 0;
}

/* Parsers. mc_wire_parse_header checks magic and version; the others also
 * check that every field is internally consistent. Pointers in the output
 * point into buf. */
int mc_wire_parse_header(const uint8_t *buf, size_t len, mc_hdr *h);
/* Checks a whole VIDEO datagram (every record, lengths adding up exactly)
 * and returns its record count (>= 1) or a negative code. Then
 * mc_wire_video_record(buf, len, &off, v) gives the records in order:
 * start with off = 0; returns 1 and a record, or 0 after the last. */
int mc_wire_parse_video(const uint8_t *buf, size_t len, mc_video *first);
int mc_wire_video_record(const uint8_t *buf, size_t len, size_t *off, mc_video *v);
int mc_wire_parse_announce(const uint8_t *buf, size_t len, mc_announce *a);
int mc_wire_parse_parity(const uint8_t *buf, size_t len, mc_parity *p);
int mc_wire_parse_audio(const uint8_t *buf, size_t len, mc_audio *a);
int mc_wire_parse_move(const uint8_t *buf, size_t len, mc_move *m);

/* The wire version of a datagram that carries our magic (0: not ours). A
 * receiver uses it to say "this broadcast needs a newer mcview". */
int mc_wire_peek_version(const uint8_t *buf, size_t len);

/* Number of tiles along an edge: ceil(px / tile). */
static inline uint32_t mc_tiles_along(uint32_t px, uint32_t tile) { return (px + tile - 1) / tile; }

#endif
