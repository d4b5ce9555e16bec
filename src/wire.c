/* Wire format: the only place where packets are turned into structs and
 * back. Big-endian on the wire; every field of a received packet is checked
 * before it is returned. */
#include "mc/wire.h"

#include <string.h>

#include "bytes.h"
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/fec.h"

#define put16 mc__put16
#define put32 mc__put32
#define put64 mc__put64
#define get16 mc__get16
#define get32 mc__get32
#define get64 mc__get64

int mc_wire_write_header(uint8_t *buf, size_t cap, const mc_hdr *h)
{
    if (cap < MC_HDR_BYTES)
        return MC_ETOOBIG;
    put16(buf, MC_WIRE_MAGIC);
    buf[2] = MC_WIRE_VERSION;
    buf[3] = h->type;
    put32(buf + 4, h->session);
    put32(buf + 8, h->seq);
    put64(buf + 12, h->ts_us);
    return MC_HDR_BYTES;
}

int mc_wire_parse_header(const uint8_t *buf, size_t len, mc_hdr *h)
{
    if (len < 4)
        return MC_ETRUNC;
    if (get16(buf) != MC_WIRE_MAGIC)
        return MC_EMAGIC;
    if (buf[2] != MC_WIRE_VERSION)
        return MC_EVERSION;
    if (len < MC_HDR_BYTES)
        return MC_ETRUNC;
    h->type = buf[3];
    h->session = get32(buf + 4);
    h->seq = get32(buf + 8);
    h->ts_us = get64(buf + 12);
    if (h->type < MC_PT_ANNOUNCE || h->type > MC_PT_LAST)
        return MC_EFIELD;
    return 0;
}

int mc_wire_peek_version(const uint8_t *buf, size_t len)
{
    return len >= 4 && get16(buf) == MC_WIRE_MAGIC ? buf[2] : 0;
}

/* Checks that a video header is consistent in itself; the receiver checks
 * the tile index and sizes against the announced grid. */
static int video_valid(const mc_video *v)
{
    if (v->frag_count == 0 || v->frag_count > MC_MAX_FRAGS || v->frag >= v->frag_count)
        return 0;
    if (v->frame_tiles == 0 || v->len == 0)
        return 0;
    if (v->tile_bytes == 0 || v->tile_bytes > MC_MAX_TILE_BYTES)
        return 0;
    if (v->offset >= v->tile_bytes || v->len > v->tile_bytes - v->offset)
        return 0;
    /* A tile's content cannot come from a frame after the one carrying it. */
    if (mc_seq_lt(v->frame, v->version))
        return 0;
    /* The codec checks its own bytes; here only that it is one we know. */
    return mc_codec_find(v->codec) != NULL && v->flags == 0;
}

int mc_wire_video_begin(uint8_t *buf, size_t cap, const mc_hdr *h, uint32_t frame,
                        uint16_t frame_tiles)
{
    if (h->type != MC_PT_VIDEO || frame_tiles == 0)
        return MC_EFIELD;
    if (cap < MC_HDR_BYTES + MC_VIDEO_HDR_BYTES)
        return MC_ETOOBIG;
    mc_wire_write_header(buf, cap, h);
    uint8_t *p = buf + MC_HDR_BYTES;
    put32(p, frame);
    put16(p + 4, frame_tiles);
    p[6] = 0; /* count: none yet */
    p[7] = 0;
    return MC_HDR_BYTES + MC_VIDEO_HDR_BYTES;
}

int mc_wire_video_add(uint8_t *buf, size_t cap, size_t *used, const mc_video *v)
{
    uint8_t *p = buf + MC_HDR_BYTES;
    mc_video chk = *v;
    chk.frame = get32(p);
    chk.frame_tiles = get16(p + 4);
    if (!video_valid(&chk) || p[6] == 255 || v->len > 0xFFFF)
        return MC_EFIELD;
    if (*used + MC_VIDEO_REC_BYTES + v->len > cap)
        return MC_ETOOBIG;
    uint8_t *r = buf + *used;
    put32(r, v->version);
    put16(r + 4, v->tile);
    put16(r + 6, v->frag);
    put16(r + 8, v->frag_count);
    put32(r + 10, v->tile_bytes);
    put32(r + 14, v->offset);
    r[18] = v->codec;
    r[19] = v->flags;
    put16(r + 20, (uint16_t)v->len);
    memcpy(r + MC_VIDEO_REC_BYTES, v->data, v->len);
    *used += MC_VIDEO_REC_BYTES + v->len;
    p[6]++;
    return 0;
}

int mc_wire_write_video(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_video *v)
{
    int n = mc_wire_video_begin(buf, cap, h, v->frame, v->frame_tiles);
    if (n < 0)
        return n;
    size_t used = (size_t)n;
    int err = mc_wire_video_add(buf, cap, &used, v);
    return err ? err : (int)used;
}

int mc_wire_video_record(const uint8_t *buf, size_t len, size_t *off, mc_video *v)
{
    if (*off == 0)
        *off = MC_HDR_BYTES + MC_VIDEO_HDR_BYTES;
    if (len < MC_HDR_BYTES + MC_VIDEO_HDR_BYTES || *off + MC_VIDEO_REC_BYTES > len)
        return 0;
    const uint8_t *p = buf + MC_HDR_BYTES, *r = buf + *off;
    v->frame = get32(p);
    v->frame_tiles = get16(p + 4);
    v->version = get32(r);
    v->tile = get16(r + 4);
    v->frag = get16(r + 6);
    v->frag_count = get16(r + 8);
    v->tile_bytes = get32(r + 10);
    v->offset = get32(r + 14);
    v->codec = r[18];
    v->flags = r[19];
    v->len = get16(r + 20);
    v->data = r + MC_VIDEO_REC_BYTES;
    if (v->len > len - *off - MC_VIDEO_REC_BYTES)
        return 0;
    *off += MC_VIDEO_REC_BYTES + v->len;
    return 1;
}

int mc_wire_parse_video(const uint8_t *buf, size_t len, mc_video *first)
{
    if (len < MC_HDR_BYTES + MC_VIDEO_HDR_BYTES + MC_VIDEO_REC_BYTES + 1)
        return MC_ETRUNC;
    int count = buf[MC_HDR_BYTES + 6];
    if (count < 1)
        return MC_EFIELD;
    size_t off = 0;
    mc_video v;
    for (int i = 0; i < count; i++) {
        if (!mc_wire_video_record(buf, len, &off, &v))
            return MC_ETRUNC;
        if (!video_valid(&v))
            return MC_EFIELD;
        if (i == 0)
            *first = v;
    }
    if (off != len)
        return MC_ETRUNC; /* trailing bytes: not what the sender wrote */
    return count;
}

/* Checks an announce for internal consistency; each codec checks its own
 * parameters when the receiver hands them over. */
static int announce_valid(const mc_announce *a)
{
    if (a->width < 1 || a->width > MC_MAX_DIM || a->height < 1 || a->height > MC_MAX_DIM)
        return 0;
    if (a->tile < MC_MIN_TILE || a->tile > MC_MAX_TILE || a->tile % 8)
        return 0;
    if (a->cols != mc_tiles_along(a->width, a->tile) ||
        a->rows != mc_tiles_along(a->height, a->tile) ||
        (uint32_t)a->cols * a->rows > MC_MAX_TILES)
        return 0;
    if (a->fps < 1 || a->fps > 240 || a->refresh_ms < 50)
        return 0;
    if (a->max_tile_bytes < 1 || a->max_tile_bytes > MC_MAX_TILE_BYTES)
        return 0;
    if (a->ncodecs < 1 || a->ncodecs > MC_MAX_CODECS || a->mtu < MC_MIN_INNER_MTU ||
        a->mtu > MC_MAX_MTU)
        return 0;
    for (int i = 0; i < a->ncodecs; i++)
        for (int j = 0; j < i; j++)
            if (a->codecs[i].id == a->codecs[j].id)
                return 0; /* one block per codec */
    return 1;
}

static size_t announce_len(const mc_announce *a)
{
    size_t n = MC_HDR_BYTES + MC_ANNOUNCE_FIXED_BYTES;
    for (int i = 0; i < a->ncodecs && i < MC_MAX_CODECS; i++)
        n += 2 + (size_t)a->codecs[i].len;
    return n;
}

int mc_wire_write_announce(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_announce *a)
{
    if (!announce_valid(a) || h->type != MC_PT_ANNOUNCE)
        return MC_EFIELD;
    size_t total = announce_len(a);
    if (cap < total)
        return MC_ETOOBIG;
    mc_wire_write_header(buf, cap, h);
    uint8_t *p = buf + MC_HDR_BYTES;
    put16(p + 0, a->width);
    put16(p + 2, a->height);
    put16(p + 4, a->tile);
    put16(p + 6, a->cols);
    put16(p + 8, a->rows);
    put16(p + 10, a->fps);
    put16(p + 12, a->refresh_ms);
    put32(p + 14, a->max_tile_bytes);
    put32(p + 18, a->frame);
    put16(p + 22, a->ctrl_port);
    put16(p + 24, a->mtu);
    put16(p + 26, a->flags);
    p[28] = a->ncodecs;
    p[29] = 0;
    p += MC_ANNOUNCE_FIXED_BYTES;
    for (int i = 0; i < a->ncodecs; i++) {
        p[0] = a->codecs[i].id;
        p[1] = a->codecs[i].len;
        memcpy(p + 2, a->codecs[i].params, a->codecs[i].len);
        p += 2 + a->codecs[i].len;
    }
    return (int)total;
}

int mc_wire_parse_announce(const uint8_t *buf, size_t len, mc_announce *a)
{
    if (len < MC_HDR_BYTES + MC_ANNOUNCE_FIXED_BYTES)
        return MC_ETRUNC;
    const uint8_t *p = buf + MC_HDR_BYTES, *end = buf + len;
    a->width = get16(p + 0);
    a->height = get16(p + 2);
    a->tile = get16(p + 4);
    a->cols = get16(p + 6);
    a->rows = get16(p + 8);
    a->fps = get16(p + 10);
    a->refresh_ms = get16(p + 12);
    a->max_tile_bytes = get32(p + 14);
    a->frame = get32(p + 18);
    a->ctrl_port = get16(p + 22);
    a->mtu = get16(p + 24);
    a->flags = get16(p + 26);
    a->ncodecs = p[28];
    if (a->ncodecs < 1 || a->ncodecs > MC_MAX_CODECS)
        return MC_EFIELD;
    p += MC_ANNOUNCE_FIXED_BYTES;
    for (int i = 0; i < a->ncodecs; i++) {
        if (end - p < 2 || p[1] > end - p - 2)
            return MC_ETRUNC;
        a->codecs[i].id = p[0];
        a->codecs[i].len = p[1];
        a->codecs[i].params = p + 2;
        p += 2 + p[1];
    }
    if (p != end)
        return MC_ETRUNC; /* trailing bytes: not what the sender wrote */
    return announce_valid(a) ? 0 : MC_EFIELD;
}

static int parity_valid(const mc_parity *p)
{
    return p->k >= 1 && p->k <= MC_FEC_MAX_K && p->p >= 1 && p->p <= MC_FEC_MAX_P &&
           p->index < p->p && p->sym_len >= 3 && p->sym_len <= MC_MAX_MTU + 2;
}

int mc_wire_write_parity(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_parity *p)
{
    if (!parity_valid(p) || h->type != MC_PT_PARITY)
        return MC_EFIELD;
    size_t total = MC_HDR_BYTES + MC_PARITY_HDR_BYTES + p->sym_len;
    if (cap < total)
        return MC_ETOOBIG;
    mc_wire_write_header(buf, cap, h);
    uint8_t *q = buf + MC_HDR_BYTES;
    put32(q + 0, p->first_seq);
    put32(q + 4, p->frame);
    q[8] = p->k;
    q[9] = p->p;
    q[10] = p->index;
    q[11] = 0;
    put16(q + 12, p->sym_len);
    put16(q + 14, 0);
    memcpy(q + MC_PARITY_HDR_BYTES, p->sym, p->sym_len);
    return (int)total;
}

int mc_wire_parse_parity(const uint8_t *buf, size_t len, mc_parity *p)
{
    if (len < MC_HDR_BYTES + MC_PARITY_HDR_BYTES)
        return MC_ETRUNC;
    const uint8_t *q = buf + MC_HDR_BYTES;
    p->first_seq = get32(q + 0);
    p->frame = get32(q + 4);
    p->k = q[8];
    p->p = q[9];
    p->index = q[10];
    p->sym_len = get16(q + 12);
    p->sym = q + MC_PARITY_HDR_BYTES;
    if (len != MC_HDR_BYTES + MC_PARITY_HDR_BYTES + (size_t)p->sym_len)
        return MC_ETRUNC;
    return parity_valid(p) ? 0 : MC_EFIELD;
}

/* Opus frame durations: 2.5, 5, 10, 20, 40 or 60 ms at 48 kHz. */
static int audio_valid(const mc_audio *a)
{
    static const uint16_t sizes[] = {120, 240, 480, 960, 1920, 2880};
    int size_ok = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        size_ok |= a->frame_samples == sizes[i];
    if (!size_ok || (a->channels != 1 && a->channels != 2) || a->rate != MC_AUDIO_RATE)
        return 0;
    if (a->count < 1 || a->count > MC_AUDIO_MAX_FRAMES)
        return 0;
    for (int i = 0; i < a->count; i++)
        if (a->frames[i].len < 1 || a->frames[i].len > MC_AUDIO_MAX_OPUS)
            return 0;
    return 1;
}

int mc_wire_write_audio(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_audio *a)
{
    if (!audio_valid(a) || h->type != MC_PT_AUDIO)
        return MC_EFIELD;
    size_t total = MC_HDR_BYTES + MC_AUDIO_HDR_BYTES;
    for (int i = 0; i < a->count; i++)
        total += 2 + (size_t)a->frames[i].len;
    if (cap < total)
        return MC_ETOOBIG;
    mc_wire_write_header(buf, cap, h);
    uint8_t *q = buf + MC_HDR_BYTES;
    q[0] = a->channels;
    q[1] = a->count;
    put16(q + 2, a->frame_samples);
    put32(q + 4, a->rate);
    q += MC_AUDIO_HDR_BYTES;
    for (int i = 0; i < a->count; i++) {
        put16(q, a->frames[i].len);
        memcpy(q + 2, a->frames[i].data, a->frames[i].len);
        q += 2 + a->frames[i].len;
    }
    return (int)total;
}

int mc_wire_parse_audio(const uint8_t *buf, size_t len, mc_audio *a)
{
    if (len < MC_HDR_BYTES + MC_AUDIO_HDR_BYTES)
        return MC_ETRUNC;
    const uint8_t *q = buf + MC_HDR_BYTES, *end = buf + len;
    a->channels = q[0];
    a->count = q[1];
    a->frame_samples = get16(q + 2);
    a->rate = get32(q + 4);
    if (a->count < 1 || a->count > MC_AUDIO_MAX_FRAMES)
        return MC_EFIELD;
    q += MC_AUDIO_HDR_BYTES;
    for (int i = 0; i < a->count; i++) {
        if (end - q < 2)
            return MC_ETRUNC;
        a->frames[i].len = get16(q);
        if (a->frames[i].len > end - q - 2)
            return MC_ETRUNC;
        a->frames[i].data = q + 2;
        q += 2 + a->frames[i].len;
    }
    if (q != end)
        return MC_ETRUNC; /* trailing bytes: not what the sender wrote */
    return audio_valid(a) ? 0 : MC_EFIELD;
}

/* ---- MOVE ----------------------------------------------------------------- */

static size_t move_len(const mc_move *m)
{
    return MC_HDR_BYTES + MC_MOVE_HDR_BYTES + 2 * (size_t)m->ndst + 6 * (size_t)m->nsrc;
}

static int move_valid(const mc_move *m)
{
    return m->ndst >= 1 && m->nsrc >= 1 && m->frame_tiles >= 1 &&
           !mc_seq_lt(m->frame, m->version) && (m->dx != 0 || m->dy != 0) &&
           m->dx > -MC_MAX_DIM && m->dx < MC_MAX_DIM && m->dy > -MC_MAX_DIM && m->dy < MC_MAX_DIM;
}

int mc_wire_write_move(uint8_t *buf, size_t cap, const mc_hdr *h, const mc_move *m,
                       const uint16_t *dst, const uint16_t *src_tile, const uint32_t *src_version)
{
    if (!move_valid(m) || h->type != MC_PT_MOVE)
        return MC_EFIELD;
    size_t total = move_len(m);
    if (cap < total)
        return MC_ETOOBIG;
    mc_wire_write_header(buf, cap, h);
    uint8_t *p = buf + MC_HDR_BYTES;
    put32(p + 0, m->frame);
    put32(p + 4, m->version);
    put16(p + 8, (uint16_t)m->dx);
    put16(p + 10, (uint16_t)m->dy);
    put16(p + 12, m->frame_tiles);
    put16(p + 14, m->ndst);
    put16(p + 16, m->nsrc);
    put16(p + 18, 0);
    p += MC_MOVE_HDR_BYTES;
    for (int i = 0; i < m->ndst; i++, p += 2)
        put16(p, dst[i]);
    for (int i = 0; i < m->nsrc; i++, p += 6) {
        put16(p, src_tile[i]);
        put32(p + 2, src_version[i]);
    }
    return (int)total;
}

int mc_wire_parse_move(const uint8_t *buf, size_t len, mc_move *m)
{
    if (len < MC_HDR_BYTES + MC_MOVE_HDR_BYTES)
        return MC_ETRUNC;
    const uint8_t *p = buf + MC_HDR_BYTES;
    m->frame = get32(p + 0);
    m->version = get32(p + 4);
    m->dx = (int16_t)get16(p + 8);
    m->dy = (int16_t)get16(p + 10);
    m->frame_tiles = get16(p + 12);
    m->ndst = get16(p + 14);
    m->nsrc = get16(p + 16);
    m->dst = p + MC_MOVE_HDR_BYTES;
    m->src = m->dst + 2 * (size_t)m->ndst;
    if (len != move_len(m))
        return len < move_len(m) ? MC_ETRUNC : MC_EFIELD;
    return move_valid(m) ? 0 : MC_EFIELD;
}

uint16_t mc_move_dst(const mc_move *m, int i) { return get16(m->dst + 2 * (size_t)i); }

void mc_move_src(const mc_move *m, int i, uint16_t *tile, uint32_t *version)
{
    *tile = get16(m->src + 6 * (size_t)i);
    *version = get32(m->src + 6 * (size_t)i + 2);
}
