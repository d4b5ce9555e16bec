/* The lossless tile codec (MC_CODEC_LOSSLESS), for screen content: text,
 * code, slides, diagrams, user interfaces. Bit-exact.
 *
 * A tile is coded in one of three modes (the first byte):
 *   0 solid      B, G, R: one colour (most of a slide);
 *   1 palette    n - 1, then a zstd frame of the palette (n x B,G,R, in
 *                order of first appearance) and the colour indices, row by
 *                row, packed at 1, 2, 4 or 8 bits (n <= 2, 4, 16, 256),
 *                each row starting on a byte;
 *   2 predicted  a zstd frame of the residuals of a per-channel Paeth
 *                predictor (as PNG's filter 4), B, G, R for each pixel:
 *                many-coloured synthetic tiles such as gradients.
 * The decoder knows the tile's size from the grid, so it knows exactly how
 * many bytes each frame must give; anything else is refused. Session
 * parameters: one byte, the format version (1).
 *
 * TurboVNC's Tight encoder (indexed colour + zlib for few-colour
 * rectangles) is the model; zstd compresses these small inputs as well as
 * deflate at half the time (docs/performance.md).
 */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "pixel_loop.h"
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/wire.h"

#define MODE_SOLID 0
#define MODE_PALETTE 1
#define MODE_PREDICTED 2
#define FORMAT_VERSION 1
#define ZSTD_LEVEL 3
#define HASH_SLOTS 1024 /* open addressing over at most 256 colours */


typedef struct {
    ZSTD_CCtx *z;
    int tile;
    uint8_t *raw; /* tile x tile x 3: what goes into zstd */
    uint8_t *idx; /* tile x tile palette indices */
    uint32_t slot_color[HASH_SLOTS];
    int16_t slot_index[HASH_SLOTS];
    uint16_t used[256];
} ll_enc;

typedef struct {
    ZSTD_DCtx *z;
    int have;
    uint8_t *raw;
    size_t raw_cap;
} ll_dec;

static size_t raw_max(int tile) { return (size_t)tile * tile * 3 + 768; }

static size_t ll_max_bytes(const mc_codec_config *c) { return 2 + ZSTD_compressBound(raw_max(c->tile)); }

static void ll_enc_destroy(void *enc)
{
    ll_enc *e = enc;
    if (!e)
        return;
    ZSTD_freeCCtx(e->z);
    free(e->raw);
    free(e->idx);
    free(e);
}

static int ll_enc_create(const mc_codec_config *c, void **out)
{
    *out = NULL;
    if (c->tile < MC_MIN_TILE || c->tile > MC_MAX_TILE)
        return MC_EINVAL;
    ll_enc *e = calloc(1, sizeof(*e));
    if (!e)
        return MC_ENOMEM;
    e->tile = c->tile;
    e->z = ZSTD_createCCtx();
    e->raw = malloc(raw_max(c->tile));
    e->idx = malloc((size_t)c->tile * c->tile);
    if (!e->z || !e->raw || !e->idx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(e->z, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(e->z, ZSTD_c_contentSizeFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(e->z, ZSTD_c_checksumFlag, 0))) {
        ll_enc_destroy(e);
        return MC_ENOMEM;
    }
    for (int i = 0; i < HASH_SLOTS; i++)
        e->slot_index[i] = -1;
    *out = e;
    return 0;
}

static int ll_enc_params(void *enc, uint8_t *out, size_t cap)
{
    (void)enc;
    if (cap < 1)
        return MC_ETOOBIG;
    out[0] = FORMAT_VERSION;
    return 1;
}

/* Indexes the tile's colours in order of first appearance. Returns how
 * many, or 257 as soon as there are more than 256. Runs of one colour (most
 * of a screen) cost a comparison per pixel. */
static int palettize(ll_enc *e, const uint8_t *bgrx, int pitch, int w, int h, uint32_t pal[256])
{
    int n = 0, cur = -1;
    uint32_t last = 0xFFFFFFFFu;
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(bgrx + (size_t)y * pitch);
        uint8_t *out = e->idx + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            uint32_t c = row[x] & 0xFFFFFFu;
            if (c != last) {
                unsigned s = (c * 0x9E3779B1u) >> 22;
                while (e->slot_index[s] >= 0 && e->slot_color[s] != c)
                    s = (s + 1) & (HASH_SLOTS - 1);
                if (e->slot_index[s] < 0) {
                    if (n == 256) {
                        n = 257;
                        goto done;
                    }
                    e->slot_color[s] = c;
                    e->slot_index[s] = (int16_t)n;
                    e->used[n] = (uint16_t)s;
                    pal[n++] = c;
                }
                cur = e->slot_index[s];
                last = c;
            }
            out[x] = (uint8_t)cur;
        }
    }
done:
    for (int i = 0; i < (n > 256 ? 256 : n); i++)
        e->slot_index[e->used[i]] = -1;
    return n;
}

static int bits_for(int n) { return n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8; }

/* Palette and packed indices into raw; returns the byte count. */
static size_t pack_palette(ll_enc *e, const uint32_t *pal, int n, int w, int h)
{
    uint8_t *o = e->raw;
    for (int i = 0; i < n; i++) {
        *o++ = (uint8_t)pal[i];
        *o++ = (uint8_t)(pal[i] >> 8);
        *o++ = (uint8_t)(pal[i] >> 16);
    }
    int bpp = bits_for(n);
    for (int y = 0; y < h; y++) {
        const uint8_t *in = e->idx + (size_t)y * w;
        if (bpp == 8) {
            memcpy(o, in, (size_t)w);
            o += w;
            continue;
        }
        unsigned acc = 0, bits = 0;
        for (int x = 0; x < w; x++) {
            acc = acc << bpp | in[x];
            if ((bits += (unsigned)bpp) == 8) {
                *o++ = (uint8_t)acc;
                acc = bits = 0;
            }
        }
        if (bits)
            *o++ = (uint8_t)(acc << (8 - bits));
    }
    return (size_t)(o - e->raw);
}

MC_PIXEL_LOOP
static inline int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Residuals of the Paeth predictor, B, G, R per pixel. */
static size_t predict(ll_enc *e, const uint8_t *bgrx, int pitch, int w, int h)
{
    uint8_t *o = e->raw;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = bgrx + (size_t)y * pitch, *up = row - pitch;
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < 3; ch++) {
                int a = x ? row[4 * (x - 1) + ch] : 0, b = y ? up[4 * x + ch] : 0;
                int c = x && y ? up[4 * (x - 1) + ch] : 0;
                *o++ = (uint8_t)(row[4 * x + ch] - paeth(a, b, c));
            }
    }
    return (size_t)(o - e->raw);
}

static int compress_raw(ll_enc *e, size_t raw_len, uint8_t *out, size_t cap)
{
    size_t z = ZSTD_compress2(e->z, out, cap, e->raw, raw_len);
    return ZSTD_isError(z) ? MC_ETOOBIG : (int)z;
}

/* Solid or palette mode; 0 when the tile has more than 256 colours. */
int mc_lossless_encode_palette(void *enc, const uint8_t *bgrx, int pitch, int w, int h,
                               uint8_t *out, size_t cap)
{
    ll_enc *e = enc;
    if (w < 1 || h < 1 || w > e->tile || h > e->tile || cap < 4)
        return MC_EINVAL;
    uint32_t pal[256];
    int n = palettize(e, bgrx, pitch, w, h, pal);
    if (n > 256)
        return 0;
    if (n == 1) {
        out[0] = MODE_SOLID;
        out[1] = (uint8_t)pal[0];
        out[2] = (uint8_t)(pal[0] >> 8);
        out[3] = (uint8_t)(pal[0] >> 16);
        return 4;
    }
    out[0] = MODE_PALETTE;
    out[1] = (uint8_t)(n - 1);
    int z = compress_raw(e, pack_palette(e, pal, n, w, h), out + 2, cap - 2);
    return z < 0 ? z : z + 2;
}

/* Predictor mode, whatever the colours. */
int mc_lossless_encode_predicted(void *enc, const uint8_t *bgrx, int pitch, int w, int h,
                                 uint8_t *out, size_t cap)
{
    ll_enc *e = enc;
    if (w < 1 || h < 1 || w > e->tile || h > e->tile || cap < 4)
        return MC_EINVAL;
    out[0] = MODE_PREDICTED;
    int z = compress_raw(e, predict(e, bgrx, pitch, w, h), out + 1, cap - 1);
    return z < 0 ? z : z + 1;
}

/* The palette when the tile has at most 256 colours, else the predictor. */
static int ll_encode(void *enc, const uint8_t *bgrx, int pitch, int w, int h, uint8_t *out,
                     size_t cap)
{
    int n = mc_lossless_encode_palette(enc, bgrx, pitch, w, h, out, cap);
    return n != 0 ? n : mc_lossless_encode_predicted(enc, bgrx, pitch, w, h, out, cap);
}

static int ll_dec_create(void **out)
{
    *out = calloc(1, sizeof(ll_dec)); /* zstd's context comes with the first frame */
    return *out ? 0 : MC_ENOMEM;
}

static void ll_dec_destroy(void *dec)
{
    ll_dec *d = dec;
    if (!d)
        return;
    ZSTD_freeDCtx(d->z);
    free(d->raw);
    free(d);
}

static int ll_dec_params(void *dec, const uint8_t *params, size_t len)
{
    ll_dec *d = dec;
    d->have = len == 1 && params[0] == FORMAT_VERSION;
    return d->have ? 0 : MC_EFIELD;
}

/* Inflates exactly `want` bytes into the scratch buffer, or fails. */
static int inflate_exact(ll_dec *d, const uint8_t *src, size_t len, size_t want)
{
    if (want > d->raw_cap) {
        uint8_t *b = realloc(d->raw, want);
        if (!b)
            return MC_ENOMEM;
        d->raw = b;
        d->raw_cap = want;
    }
    if (!d->z && !(d->z = ZSTD_createDCtx()))
        return MC_ENOMEM;
    size_t got = ZSTD_decompressDCtx(d->z, d->raw, want, src, len);
    return !ZSTD_isError(got) && got == want ? 0 : MC_EFIELD;
}

MC_PIXEL_LOOP
static void unpack_palette(const ll_dec *d, int n, int w, int h, uint8_t *dst, int pitch)
{
    /* All 256 indices map to a colour: one beyond the palette (corrupt
     * data) reads colour 0, never past the palette. */
    uint32_t lut[256];
    const uint8_t *pal = d->raw, *in = d->raw + 3 * n;
    for (int i = 0; i < 256; i++) {
        int k = i < n ? i : 0;
        lut[i] = (uint32_t)pal[3 * k] | (uint32_t)pal[3 * k + 1] << 8 | (uint32_t)pal[3 * k + 2] << 16;
    }
    int bpp = bits_for(n), per = 8 / bpp;
    unsigned mask = (1u << bpp) - 1;
    size_t row_bytes = ((size_t)w * bpp + 7) / 8;
    for (int y = 0; y < h; y++, in += row_bytes) {
        uint32_t *o = (uint32_t *)(void *)(dst + (size_t)y * pitch);
        if (bpp == 8) {
            for (int x = 0; x < w; x++)
                o[x] = lut[in[x]];
            continue;
        }
        for (int x = 0; x < w; x++)
            o[x] = lut[(in[x / per] >> (8 - bpp - (x % per) * bpp)) & mask];
    }
}

MC_PIXEL_LOOP
static void unpredict(const ll_dec *d, int w, int h, uint8_t *dst, int pitch)
{
    const uint8_t *in = d->raw;
    for (int y = 0; y < h; y++) {
        uint8_t *row = dst + (size_t)y * pitch, *up = row - pitch;
        for (int x = 0; x < w; x++) {
            for (int ch = 0; ch < 3; ch++) {
                int a = x ? row[4 * (x - 1) + ch] : 0, b = y ? up[4 * x + ch] : 0;
                int c = x && y ? up[4 * (x - 1) + ch] : 0;
                row[4 * x + ch] = (uint8_t)(*in++ + paeth(a, b, c));
            }
            row[4 * x + 3] = 0;
        }
    }
}

static int ll_decode(void *dec, uint8_t *data, size_t len, int w, int h, uint8_t *dst, int pitch)
{
    ll_dec *d = dec;
    if (!d->have || len < 1 || w < 1 || h < 1 || w > MC_MAX_TILE || h > MC_MAX_TILE)
        return MC_EFIELD;
    if (data[0] == MODE_SOLID) {
        if (len != 4)
            return MC_EFIELD;
        uint32_t c = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16;
        for (int y = 0; y < h; y++) {
            uint32_t *row = (uint32_t *)(void *)(dst + (size_t)y * pitch);
            for (int x = 0; x < w; x++)
                row[x] = c;
        }
        return 0;
    }
    if (data[0] == MODE_PALETTE) {
        if (len < 3)
            return MC_EFIELD;
        int n = data[1] + 1;
        size_t want = 3 * (size_t)n + (size_t)h * (((size_t)w * bits_for(n) + 7) / 8);
        int err = inflate_exact(d, data + 2, len - 2, want);
        if (!err)
            unpack_palette(d, n, w, h, dst, pitch);
        return err;
    }
    if (data[0] == MODE_PREDICTED) {
        int err = inflate_exact(d, data + 1, len - 1, (size_t)w * h * 3);
        if (!err)
            unpredict(d, w, h, dst, pitch);
        return err;
    }
    return MC_EFIELD;
}

const mc_codec mc_lossless_codec = {
    .id = MC_CODEC_LOSSLESS, .name = "lossless", .max_bytes = ll_max_bytes,
    .enc_create = ll_enc_create, .enc_destroy = ll_enc_destroy, .enc_params = ll_enc_params,
    .encode = ll_encode, .dec_create = ll_dec_create, .dec_destroy = ll_dec_destroy,
    .dec_params = ll_dec_params, .decode = ll_decode,
};
