/* The JPEG tile codec on TurboJPEG: encode whole JPEGs, keep only the
 * entropy-coded data; decode by rebuilding the header from the session's
 * tables. See include/mc/jpeg.h. */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/wire.h"

/* ITU T.81 Annex K.3: the standard Huffman tables (bits, then values). */
static const uint8_t DC_LUMA_BITS[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t DC_CHROMA_BITS[16] = {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const uint8_t DC_VALS[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
static const uint8_t AC_LUMA_BITS[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
static const uint8_t AC_LUMA_VALS[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
static const uint8_t AC_CHROMA_BITS[16] = {0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
static const uint8_t AC_CHROMA_VALS[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

struct mc_jpeg_enc {
    tjhandle tj;
    int quality, tjsamp, tile;
    unsigned char *jbuf; /* worst-case size: TurboJPEG never reallocates it */
    unsigned long jcap;
    uint8_t hdr[MC_JPEG_MAX_HEADER]; /* TurboJPEG's own header, for the per-tile check */
    size_t hdr_len;
    uint16_t sof_off;
    uint8_t params[MC_JPEG_PARAMS_BYTES];
};

struct mc_jpeg_dec {
    tjhandle tj;
    int have;
    uint8_t params[MC_JPEG_PARAMS_BYTES];
};

static int tj_subsamp(int subsamp) { return subsamp == MC_SUBSAMP_420 ? TJSAMP_420 : TJSAMP_444; }

size_t mc_jpeg_max_bytes(const mc_codec_config *c)
{
    return (size_t)tjBufSize(c->tile, c->tile, tj_subsamp(c->subsamp));
}

static uint8_t *put_seg(uint8_t *p, uint8_t marker, size_t body)
{
    p[0] = 0xFF;
    p[1] = marker;
    p[2] = (uint8_t)((body + 2) >> 8);
    p[3] = (uint8_t)(body + 2);
    return p + 4;
}

static uint8_t *put_dht(uint8_t *p, uint8_t cls_id, const uint8_t bits[16], const uint8_t *vals)
{
    size_t n = 0;
    for (int i = 0; i < 16; i++)
        n += bits[i];
    p = put_seg(p, 0xC4, 17 + n);
    *p++ = cls_id;
    memcpy(p, bits, 16);
    memcpy(p + 16, vals, n);
    return p + 16 + n;
}

static int params_valid(const uint8_t *params, size_t len)
{
    if (len != MC_JPEG_PARAMS_BYTES || params[0] > MC_SUBSAMP_420 || params[1] < 1 ||
        params[1] > 100)
        return 0;
    for (int i = 2; i < MC_JPEG_PARAMS_BYTES; i++)
        if (params[i] == 0)
            return 0;
    return 1;
}

int mc_jpeg_header(const uint8_t *params, size_t len, int w, int h, uint8_t *out, size_t cap)
{
    if (!params_valid(params, len) || cap < MC_JPEG_MAX_HEADER || w < 1 || h < 1 ||
        w > 0xFFFF || h > 0xFFFF)
        return MC_EFIELD;
    uint8_t *p = out;
    *p++ = 0xFF;
    *p++ = 0xD8;
    p = put_seg(p, 0xDB, 2 * 65);
    *p++ = 0x00; /* 8-bit, table 0 */
    memcpy(p, params + 2, 64);
    p += 64;
    *p++ = 0x01;
    memcpy(p, params + 66, 64);
    p += 64;
    p = put_seg(p, 0xC0, 15);
    *p++ = 8;
    *p++ = (uint8_t)(h >> 8);
    *p++ = (uint8_t)h;
    *p++ = (uint8_t)(w >> 8);
    *p++ = (uint8_t)w;
    *p++ = 3;
    static const uint8_t comp_tail[8] = {0, 2, 0x11, 1, 3, 0x11, 1};
    *p++ = 1; /* Y: sampling factors, then table 0 */
    *p++ = params[0] == MC_SUBSAMP_420 ? 0x22 : 0x11;
    memcpy(p, comp_tail, 7); /* Cb and Cr: 1x1, table 1 */
    p += 7;
    p = put_dht(p, 0x00, DC_LUMA_BITS, DC_VALS);
    p = put_dht(p, 0x10, AC_LUMA_BITS, AC_LUMA_VALS);
    p = put_dht(p, 0x01, DC_CHROMA_BITS, DC_VALS);
    p = put_dht(p, 0x11, AC_CHROMA_BITS, AC_CHROMA_VALS);
    static const uint8_t sos[10] = {3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0};
    p = put_seg(p, 0xDA, sizeof(sos));
    memcpy(p, sos, sizeof(sos));
    p += sizeof(sos);
    return (int)(p - out);
}

/* Walks TurboJPEG's header: its length (up to the end of SOS), the offset
 * of SOF0's height field, and the two quantization tables. -1 if it is not
 * what this codec assumes (8-bit tables 0 and 1, SOF0). */
static long parse_tj_header(const uint8_t *j, size_t len, uint16_t *sof_off, uint8_t q[128])
{
    if (len < 4 || j[0] != 0xFF || j[1] != 0xD8)
        return -1;
    size_t p = 2;
    int tables = 0;
    *sof_off = 0;
    while (p + 4 <= len) {
        uint8_t m = j[p + 1];
        size_t seg = (size_t)(j[p + 2] << 8 | j[p + 3]);
        if (j[p] != 0xFF || seg < 2 || p + 2 + seg > len)
            return -1;
        if (m == 0xC0 && seg >= 8)
            *sof_off = (uint16_t)(p + 5);
        for (size_t o = p + 4; m == 0xDB && o + 65 <= p + 2 + seg; o += 65) {
            if (j[o] > 1)
                return -1; /* 16-bit or a third table */
            memcpy(q + 64 * j[o], j + o + 1, 64);
            tables |= 1 << j[o];
        }
        if (m == 0xDA)
            return *sof_off && tables == 3 ? (long)(p + 2 + seg) : -1;
        p += 2 + seg;
    }
    return -1;
}

static int encode_full(mc_jpeg_enc *e, const uint8_t *bgrx, int pitch, int w, int h,
                       unsigned long *jsize)
{
    unsigned char *buf = e->jbuf;
    *jsize = e->jcap;
    if (tjCompress2(e->tj, bgrx, w, pitch, h, TJPF_BGRX, &buf, jsize, e->tjsamp, e->quality,
                    TJFLAG_NOREALLOC) != 0 || buf != e->jbuf)
        return MC_EJPEG;
    return 0;
}

/* The format's assumption, checked once: TurboJPEG's tile decoded through
 * our rebuilt header is the same picture as decoded from its own file. */
static int self_check(mc_jpeg_enc *e, unsigned long jsize, int w, int h)
{
    uint8_t *rebuilt = malloc(MC_JPEG_MAX_HEADER + jsize);
    uint8_t *a = malloc((size_t)w * h * 4), *b = malloc((size_t)w * h * 4);
    tjhandle d = tjInitDecompress();
    int err = MC_EJPEG;
    if (!rebuilt || !a || !b || !d)
        goto cleanup;
    int hl = mc_jpeg_header(e->params, sizeof(e->params), w, h, rebuilt, MC_JPEG_MAX_HEADER);
    if (hl < 0)
        goto cleanup;
    size_t ent = jsize - e->hdr_len;
    memcpy(rebuilt + hl, e->jbuf + e->hdr_len, ent);
    if (tjDecompress2(d, e->jbuf, jsize, a, w, w * 4, h, TJPF_BGRX, 0) == 0 &&
        tjDecompress2(d, rebuilt, (unsigned long)hl + ent, b, w, w * 4, h, TJPF_BGRX, 0) == 0 &&
        memcmp(a, b, (size_t)w * h * 4) == 0)
        err = 0;
cleanup:
    if (d)
        tjDestroy(d);
    free(rebuilt);
    free(a);
    free(b);
    return err;
}

int mc_jpeg_enc_create(const mc_codec_config *c, mc_jpeg_enc **out)
{
    *out = NULL;
    if (c->quality < 1 || c->quality > 100 || c->tile < MC_MIN_TILE || c->tile > MC_MAX_TILE ||
        (c->subsamp != MC_SUBSAMP_420 && c->subsamp != MC_SUBSAMP_444))
        return MC_EINVAL;
    mc_jpeg_enc *e = calloc(1, sizeof(*e));
    if (!e)
        return MC_ENOMEM;
    e->quality = c->quality;
    e->tjsamp = tj_subsamp(c->subsamp);
    e->tile = c->tile;
    e->jcap = tjBufSize(c->tile, c->tile, e->tjsamp);
    e->jbuf = tjAlloc((int)e->jcap);
    e->tj = tjInitCompress();
    int err = MC_ENOMEM;
    if (!e->jbuf || !e->tj)
        goto cleanup;
    /* A picture with some detail: the check must exercise the AC tables. */
    uint8_t pic[16 * 16 * 4];
    for (int i = 0; i < 16 * 16 * 4; i++)
        pic[i] = (uint8_t)(i * 37 ^ i >> 3);
    unsigned long jsize;
    err = encode_full(e, pic, 16 * 4, 16, 16, &jsize);
    if (err)
        goto cleanup;
    err = MC_EJPEG;
    long hl = parse_tj_header(e->jbuf, jsize, &e->sof_off, e->params + 2);
    if (hl < 0 || hl > MC_JPEG_MAX_HEADER)
        goto cleanup;
    memcpy(e->hdr, e->jbuf, (size_t)hl);
    e->hdr_len = (size_t)hl;
    e->params[0] = (uint8_t)c->subsamp;
    e->params[1] = (uint8_t)c->quality;
    if (!params_valid(e->params, sizeof(e->params)))
        goto cleanup;
    err = self_check(e, jsize, 16, 16);
    if (err)
        goto cleanup;
    *out = e;
    return 0;
cleanup:
    mc_jpeg_enc_destroy(e);
    return err;
}

void mc_jpeg_enc_destroy(mc_jpeg_enc *e)
{
    if (!e)
        return;
    if (e->tj)
        tjDestroy(e->tj);
    tjFree(e->jbuf);
    free(e);
}

int mc_jpeg_enc_params(mc_jpeg_enc *e, uint8_t *out, size_t cap)
{
    if (cap < sizeof(e->params))
        return MC_ETOOBIG;
    memcpy(out, e->params, sizeof(e->params));
    return (int)sizeof(e->params);
}

int mc_jpeg_encode(mc_jpeg_enc *e, const uint8_t *bgrx, int pitch, int w, int h, uint8_t *out,
                   size_t cap)
{
    if (w < 1 || h < 1 || w > e->tile || h > e->tile)
        return MC_EINVAL;
    unsigned long jsize;
    int err = encode_full(e, bgrx, pitch, w, h, &jsize);
    if (err)
        return err;
    /* The header must be the session's but for the size: the whole "tables
     * once per session" scheme rests on it. */
    size_t hl = e->hdr_len, so = e->sof_off;
    if (jsize < hl + 2 || memcmp(e->jbuf, e->hdr, so) != 0 ||
        memcmp(e->jbuf + so + 4, e->hdr + so + 4, hl - so - 4) != 0 ||
        e->jbuf[jsize - 2] != 0xFF || e->jbuf[jsize - 1] != 0xD9)
        return MC_EJPEG;
    size_t n = jsize - hl - 2;
    if (n > cap)
        return MC_ETOOBIG;
    memcpy(out, e->jbuf + hl, n);
    return (int)n;
}

int mc_jpeg_dec_create(mc_jpeg_dec **out)
{
    *out = NULL;
    mc_jpeg_dec *d = calloc(1, sizeof(*d));
    if (!d)
        return MC_ENOMEM;
    d->tj = tjInitDecompress();
    if (!d->tj) {
        free(d);
        return MC_ENOMEM;
    }
    *out = d;
    return 0;
}

void mc_jpeg_dec_destroy(mc_jpeg_dec *d)
{
    if (!d)
        return;
    tjDestroy(d->tj);
    free(d);
}

int mc_jpeg_dec_params(mc_jpeg_dec *d, const uint8_t *params, size_t len)
{
    if (!params_valid(params, len)) {
        d->have = 0;
        return MC_EFIELD;
    }
    memcpy(d->params, params, MC_JPEG_PARAMS_BYTES);
    d->have = 1;
    return 0;
}

int mc_jpeg_decode(mc_jpeg_dec *d, uint8_t *data, size_t len, int w, int h, uint8_t *dst,
                   int pitch)
{
    uint8_t hdr[MC_JPEG_MAX_HEADER];
    if (!d->have || len < 1)
        return MC_EFIELD;
    int hl = mc_jpeg_header(d->params, sizeof(d->params), w, h, hdr, sizeof(hdr));
    if (hl < 0 || hl > MC_CODEC_HEADROOM)
        return MC_EFIELD;
    uint8_t *j = data - hl;
    memcpy(j, hdr, (size_t)hl);
    data[len] = 0xFF;
    data[len + 1] = 0xD9;
    int iw, ih, sub, cs;
    unsigned long jl = (unsigned long)hl + len + 2;
    if (tjDecompressHeader3(d->tj, j, jl, &iw, &ih, &sub, &cs) == 0 && iw == w && ih == h &&
        tjDecompress2(d->tj, j, jl, dst, w, pitch, h, TJPF_BGRX, TJFLAG_STOPONWARNING) == 0)
        return 0;
    /* After an error libjpeg's decompressor can be left in a state where
     * the next, valid JPEG fails too ("Bogus Huffman table definition" was
     * seen after garbage input). A fresh handle costs microseconds, and
     * errors only come from corrupt or forged data. */
    tjhandle fresh = tjInitDecompress();
    if (fresh) {
        tjDestroy(d->tj);
        d->tj = fresh;
    }
    return MC_EJPEG;
}

/* ---- the codec table ------------------------------------------------------ */

static int enc_create(const mc_codec_config *c, void **enc)
{
    return mc_jpeg_enc_create(c, (mc_jpeg_enc **)enc);
}
static void enc_destroy(void *enc) { mc_jpeg_enc_destroy(enc); }
static int enc_params(void *enc, uint8_t *out, size_t cap) { return mc_jpeg_enc_params(enc, out, cap); }
static int encode(void *enc, const uint8_t *bgrx, int pitch, int w, int h, uint8_t *out, size_t cap)
{
    return mc_jpeg_encode(enc, bgrx, pitch, w, h, out, cap);
}
static int dec_create(void **dec) { return mc_jpeg_dec_create((mc_jpeg_dec **)dec); }
static void dec_destroy(void *dec) { mc_jpeg_dec_destroy(dec); }
static int dec_params(void *dec, const uint8_t *p, size_t len) { return mc_jpeg_dec_params(dec, p, len); }
static int decode(void *dec, uint8_t *data, size_t len, int w, int h, uint8_t *dst, int pitch)
{
    return mc_jpeg_decode(dec, data, len, w, h, dst, pitch);
}

const mc_codec mc_jpeg_codec = {
    .id = MC_CODEC_JPEG, .name = "jpeg", .max_bytes = mc_jpeg_max_bytes,
    .enc_create = enc_create, .enc_destroy = enc_destroy, .enc_params = enc_params,
    .encode = encode, .dec_create = dec_create, .dec_destroy = dec_destroy,
    .dec_params = dec_params, .decode = decode,
};
