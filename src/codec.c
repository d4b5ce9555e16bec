/* The codec registry, the sender's choice of codec per tile, and the
 * receiver's set of decoders. The only file that lists the codecs. */
#include "mc/codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/wire.h"

static const mc_codec *const CODECS[MC_CODEC_COUNT] = {&mc_jpeg_codec, &mc_lossless_codec};

const mc_codec *mc_codec_find(unsigned id)
{
    return id >= 1 && id <= MC_CODEC_COUNT ? CODECS[id - 1] : NULL;
}

int mc_codec_mode_parse(const char *text, int *mode)
{
    static const char *const names[] = {"auto", "jpeg", "lossless"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(text, names[i])) {
            *mode = i;
            return 0;
        }
    return MC_EINVAL;
}

/* ---- the choice ------------------------------------------------------------
 *
 * Lossless first: a tile of one colour or a few (text, code, UI, slides)
 * is coded exactly, and that is also smaller than JPEG. A tile with more
 * colours (anti-aliased text has 60-250 in a 64x64 tile, a photograph
 * thousands) is also coded as JPEG when its lossless form is large, and
 * JPEG wins when it is more than LOSSLESS_RATIO times smaller: exact text
 * is worth some bytes, a photograph is not worth many. Tiles of more than
 * 256 colours try the lossless predictor only when the entropy of its
 * residuals on a sample says it may come within that ratio (gradients,
 * rendered UI), so a photograph costs a JPEG encode and a cheap estimate. */
#define FEW_COLOURS 32
#define SMALL_LOSSLESS 768 /* bytes: below this, lossless without comparing */
#define LOSSLESS_RATIO 3

struct mc_tile_coder {
    int mode;
    void *enc[MC_CODEC_COUNT];
    uint8_t *scratch; /* the loser's output */
    size_t cap;
    uint8_t params[MC_CODEC_COUNT][MC_CODEC_MAX_PARAMS];
    size_t params_len[MC_CODEC_COUNT];
};

static int uses(int mode, unsigned id)
{
    return mode == MC_CODEC_AUTO || (mode == MC_CODEC_ONLY_JPEG && id == MC_CODEC_JPEG) ||
           (mode == MC_CODEC_ONLY_LOSSLESS && id == MC_CODEC_LOSSLESS);
}

size_t mc_tile_coder_max_bytes(int mode, const mc_codec_config *c)
{
    size_t m = 0;
    for (unsigned id = 1; id <= MC_CODEC_COUNT; id++)
        if (uses(mode, id) && mc_codec_find(id)->max_bytes(c) > m)
            m = mc_codec_find(id)->max_bytes(c);
    return m;
}

void mc_tile_coder_destroy(mc_tile_coder *tc)
{
    if (!tc)
        return;
    for (unsigned id = 1; id <= MC_CODEC_COUNT; id++)
        if (tc->enc[id - 1])
            mc_codec_find(id)->enc_destroy(tc->enc[id - 1]);
    free(tc->scratch);
    free(tc);
}

int mc_tile_coder_create(int mode, const mc_codec_config *c, mc_tile_coder **out)
{
    *out = NULL;
    if (mode < MC_CODEC_AUTO || mode > MC_CODEC_ONLY_LOSSLESS)
        return MC_EINVAL;
    mc_tile_coder *tc = calloc(1, sizeof(*tc));
    if (!tc)
        return MC_ENOMEM;
    tc->mode = mode;
    tc->cap = mc_tile_coder_max_bytes(mode, c);
    tc->scratch = malloc(tc->cap);
    int err = tc->scratch ? 0 : MC_ENOMEM;
    for (unsigned id = 1; !err && id <= MC_CODEC_COUNT; id++) {
        if (!uses(mode, id))
            continue;
        const mc_codec *k = mc_codec_find(id);
        err = k->enc_create(c, &tc->enc[id - 1]);
        int n = err ? err : k->enc_params(tc->enc[id - 1], tc->params[id - 1], MC_CODEC_MAX_PARAMS);
        err = n < 0 ? n : 0;
        tc->params_len[id - 1] = n > 0 ? (size_t)n : 0;
    }
    if (err) {
        mc_tile_coder_destroy(tc);
        return err;
    }
    *out = tc;
    return 0;
}

int mc_tile_coder_params(mc_tile_coder *tc, uint8_t ids[MC_CODEC_COUNT],
                         const uint8_t *params[MC_CODEC_COUNT], size_t lens[MC_CODEC_COUNT])
{
    int n = 0;
    for (unsigned id = 1; id <= MC_CODEC_COUNT; id++)
        if (tc->enc[id - 1]) {
            ids[n] = (uint8_t)id;
            params[n] = tc->params[id - 1];
            lens[n++] = tc->params_len[id - 1];
        }
    return n;
}

static inline int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* What the predictor mode would cost, from every eighth row: the order-0
 * entropy of each channel's Paeth residuals, times the tile's pixels. zstd does
 * better than that on gradients and rendered UI (long runs of the same
 * residual), so this errs towards JPEG; it only decides whether the real
 * lossless coding is worth trying. */
static double predicted_bytes(const uint8_t *bgrx, int pitch, int w, int h)
{
    uint32_t hist[3][256] = {{0}};
    int n = 0; /* pixels sampled; each channel has its own statistics */
    for (int y = 1; y < h; y += 8) {
        const uint8_t *row = bgrx + (size_t)y * pitch, *up = row - pitch;
        for (int x = 1; x < w; x++, n++)
            for (int ch = 0; ch < 3; ch++)
                hist[ch][(uint8_t)(row[4 * x + ch] - paeth(row[4 * (x - 1) + ch], up[4 * x + ch],
                                                           up[4 * (x - 1) + ch]))]++;
    }
    if (n == 0)
        return 0;
    double bits = 0;
    for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < 256; i++)
            if (hist[ch][i])
                bits -= hist[ch][i] * log2((double)hist[ch][i] / n);
    return bits / n * w * h / 8;
}

static int encode_with(mc_tile_coder *tc, unsigned id, const uint8_t *bgrx, int pitch, int w,
                       int h, uint8_t *out, size_t cap)
{
    return mc_codec_find(id)->encode(tc->enc[id - 1], bgrx, pitch, w, h, out, cap);
}

static int take(mc_tile_coder *tc, int n, uint8_t *out, size_t cap, uint8_t *codec, int *exact)
{
    if ((size_t)n > cap)
        return MC_ETOOBIG;
    memcpy(out, tc->scratch, (size_t)n);
    *codec = MC_CODEC_LOSSLESS;
    *exact = 1;
    return n;
}

int mc_tile_coder_encode(mc_tile_coder *tc, const uint8_t *bgrx, int pitch, int w, int h,
                         uint8_t *out, size_t cap, uint8_t *codec, int *exact)
{
    if (tc->mode != MC_CODEC_AUTO) {
        *codec = tc->mode == MC_CODEC_ONLY_JPEG ? MC_CODEC_JPEG : MC_CODEC_LOSSLESS;
        *exact = *codec == MC_CODEC_LOSSLESS;
        return encode_with(tc, *codec, bgrx, pitch, w, h, out, cap);
    }
    void *ll_enc = tc->enc[MC_CODEC_LOSSLESS - 1];
    int ll = mc_lossless_encode_palette(ll_enc, bgrx, pitch, w, h, tc->scratch, tc->cap);
    if (ll < 0)
        return ll;
    /* Solid, or few colours, or small anyway: lossless without comparing. */
    if (ll > 0 && (tc->scratch[0] == 0 || tc->scratch[1] < FEW_COLOURS || ll <= SMALL_LOSSLESS))
        return take(tc, ll, out, cap, codec, exact);
    int jp = encode_with(tc, MC_CODEC_JPEG, bgrx, pitch, w, h, out, cap);
    /* The estimate errs high (order-0 entropy; zstd finds runs): try the
     * real thing when it is within twice the ratio. */
    if (ll == 0 && (jp < 0 || predicted_bytes(bgrx, pitch, w, h) <= 2 * LOSSLESS_RATIO * (double)jp))
        ll = mc_lossless_encode_predicted(ll_enc, bgrx, pitch, w, h, tc->scratch, tc->cap);
    if (ll > 0 && (jp < 0 || ll <= LOSSLESS_RATIO * jp))
        return take(tc, ll, out, cap, codec, exact);
    *codec = MC_CODEC_JPEG;
    *exact = 0;
    return jp;
}

/* ---- decoders ------------------------------------------------------------ */

struct mc_tile_decoders {
    void *dec[MC_CODEC_COUNT]; /* each created when its codec first gets parameters */
    uint8_t have[MC_CODEC_COUNT];
};

void mc_tile_decoders_destroy(mc_tile_decoders *d)
{
    if (!d)
        return;
    for (unsigned id = 1; id <= MC_CODEC_COUNT; id++)
        if (d->dec[id - 1])
            mc_codec_find(id)->dec_destroy(d->dec[id - 1]);
    free(d);
}

int mc_tile_decoders_create(mc_tile_decoders **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : MC_ENOMEM;
}

int mc_tile_decoders_params(mc_tile_decoders *d, unsigned codec, const uint8_t *params, size_t len)
{
    const mc_codec *k = mc_codec_find(codec);
    if (!k)
        return MC_EFIELD;
    if (!d->dec[codec - 1] && k->dec_create(&d->dec[codec - 1]))
        return MC_ENOMEM;
    int err = k->dec_params(d->dec[codec - 1], params, len);
    d->have[codec - 1] = !err;
    return err;
}

void mc_tile_decoders_reset(mc_tile_decoders *d) { memset(d->have, 0, sizeof(d->have)); }

int mc_tile_decoders_decode(mc_tile_decoders *d, unsigned codec, uint8_t *data, size_t len, int w,
                            int h, uint8_t *dst, int pitch)
{
    const mc_codec *k = mc_codec_find(codec);
    if (!k || !d->have[codec - 1])
        return MC_EFIELD;
    return k->decode(d->dec[codec - 1], data, len, w, h, dst, pitch);
}
