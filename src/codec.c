/* The codec registry, the sender's choice of codec per tile, and the
 * receiver's set of decoders. The only file that lists the codecs. */
#include "mc/codec.h"

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
 * 256 colours try the lossless predictor only when it predicts well on a
 * sample (gradients, rendered UI), so photo-like video costs one JPEG
 * encode per tile as before. */
#define FEW_COLOURS 32
#define SMALL_LOSSLESS 768 /* bytes: below this, lossless without comparing */
#define LOSSLESS_RATIO 3
#define PREDICTS_WELL 0.5  /* share of sampled pixels the predictor gets exactly */

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

/* Share of pixels on every fourth row that the Paeth predictor gets within
 * 2 in every channel: nearly all for gradients and rendered UI, few for
 * photographs and noise. Only a cheap filter: the sizes decide. */
static double predicts(const uint8_t *bgrx, int pitch, int w, int h)
{
    int hit = 0, n = 0;
    for (int y = 1; y < h; y += 4) {
        const uint8_t *row = bgrx + (size_t)y * pitch, *up = row - pitch;
        for (int x = 1; x < w; x++, n++) {
            int ok = 1;
            for (int ch = 0; ch < 3 && ok; ch++)
                ok = abs(row[4 * x + ch] -
                         paeth(row[4 * (x - 1) + ch], up[4 * x + ch], up[4 * (x - 1) + ch])) <= 2;
            hit += ok;
        }
    }
    return n ? (double)hit / n : 1.0;
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
    if (ll == 0) { /* more than 256 colours: the predictor, if it predicts */
        if (predicts(bgrx, pitch, w, h) < PREDICTS_WELL)
            ll = -1;
        else if ((ll = mc_lossless_encode_predicted(ll_enc, bgrx, pitch, w, h, tc->scratch,
                                                    tc->cap)) <= SMALL_LOSSLESS && ll > 0)
            return take(tc, ll, out, cap, codec, exact);
    }
    int jp = encode_with(tc, MC_CODEC_JPEG, bgrx, pitch, w, h, out, cap);
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
