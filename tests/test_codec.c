/* Tile codecs: JPEG through a rebuilt header, lossless bit-exact on every
 * kind of tile, the choice per tile (flat, text, gradient, photo), and
 * corrupt or foreign data refused without harm. */
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/testsrc.h"
#include "mc/verify.h"
#include "mc/wire.h"
#include "test.h"

static uint8_t pic[256 * 256 * 4];
static uint8_t buf[MC_CODEC_HEADROOM + 1000000 + MC_CODEC_TAILROOM];
static uint8_t out[256 * 256 * 4];
#define DATA (buf + MC_CODEC_HEADROOM)

/* ---- content ------------------------------------------------------------ */

static void put(int x, int y, uint32_t bgr) { memcpy(pic + (size_t)(y * 256 + x) * 4, &bgr, 4); }

static void flat(uint32_t c)
{
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 256; x++)
            put(x, y, c);
}

/* Anti-aliased "text": glyph edges blend ink into paper in 6 steps, as a
 * font rasterizer does, so a tile has tens of colours. */
static void text(void)
{
    flat(0x00FFFFFF);
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 256; x++) {
            uint32_t h = (uint32_t)(x / 7 * 31 + y / 11 * 977) * 2654435761u;
            if ((h >> 28) < 6 && (x % 7) && (y % 11) < 9) {
                uint32_t a = (uint32_t)((x + y) % 6) * 42, ink = 0x00C00000;
                uint32_t r = 255 - a, g = 255 - a, b = 255 - a / 4;
                put(x, y, (a > 200 ? ink : (b << 16 | g << 8 | r)) & 0xFFFFFF);
            }
        }
}

static void gradient(void)
{
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 256; x++)
            put(x, y, (uint32_t)(x & 255) | (uint32_t)(y & 255) << 8 | (uint32_t)((x + y) / 2) << 16);
}

/* ---- JPEG ----------------------------------------------------------------- */

static void jpeg_roundtrip(int quality, int subsamp, int tile, int w, int h, double min_psnr)
{
    mc_codec_config cc = {.quality = quality, .subsamp = subsamp, .tile = tile};
    mc_jpeg_enc *enc;
    mc_jpeg_dec *dec;
    ASSERT_EQ_INT(mc_jpeg_enc_create(&cc, &enc), 0);
    ASSERT_EQ_INT(mc_jpeg_dec_create(&dec), 0);
    uint8_t params[MC_JPEG_PARAMS_BYTES];
    ASSERT_EQ_INT(mc_jpeg_enc_params(enc, params, sizeof(params)), MC_JPEG_PARAMS_BYTES);
    ASSERT_EQ_INT(params[0], subsamp);
    ASSERT_EQ_INT(params[1], quality);
    ASSERT_EQ_INT(mc_jpeg_dec_params(dec, params, sizeof(params)), 0);
    int n = mc_jpeg_encode(enc, pic, 256 * 4, w, h, DATA, 400000);
    ASSERT_TRUE(n > 0 && (size_t)n <= mc_jpeg_max_bytes(&cc));
    ASSERT_EQ_INT(mc_jpeg_decode(dec, DATA, (size_t)n, w, h, out, w * 4), 0);
    ASSERT_GE_DBL(mc_psnr_bgrx(out, w * 4, pic, 256 * 4, w, h), min_psnr);
    mc_jpeg_enc_destroy(enc);
    mc_jpeg_dec_destroy(dec);
}

static void test_jpeg_roundtrip(void)
{
    mc_testsrc_render_video(pic, 256 * 4, 256, 256, 3);
    jpeg_roundtrip(90, MC_SUBSAMP_444, 64, 64, 64, 35);
    jpeg_roundtrip(75, MC_SUBSAMP_420, 64, 64, 64, 28);
    jpeg_roundtrip(75, MC_SUBSAMP_420, 64, 8, 3, 28); /* a sliver at the picture's edge */
    jpeg_roundtrip(75, MC_SUBSAMP_420, 256, 256, 256, 28);
    jpeg_roundtrip(100, MC_SUBSAMP_444, 16, 16, 16, 45);
    jpeg_roundtrip(1, MC_SUBSAMP_420, 64, 64, 64, 10);
}

static void test_jpeg_rejects(void)
{
    mc_codec_config cc = {.quality = 75, .subsamp = MC_SUBSAMP_420, .tile = 64};
    mc_jpeg_enc *enc;
    mc_jpeg_dec *dec;
    mc_codec_config bad = cc;
    bad.quality = 0;
    ASSERT_TRUE(mc_jpeg_enc_create(&bad, &enc) < 0);
    bad = cc;
    bad.subsamp = 7;
    ASSERT_TRUE(mc_jpeg_enc_create(&bad, &enc) < 0);
    ASSERT_EQ_INT(mc_jpeg_enc_create(&cc, &enc), 0);
    ASSERT_EQ_INT(mc_jpeg_dec_create(&dec), 0);
    ASSERT_TRUE(mc_jpeg_encode(enc, pic, 256 * 4, 65, 64, DATA, 100000) < 0); /* wider than a tile */
    mc_testsrc_render_video(pic, 256 * 4, 256, 256, 5);
    ASSERT_EQ_INT(mc_jpeg_encode(enc, pic, 256 * 4, 64, 64, DATA, 10), MC_ETOOBIG);
    int n = mc_jpeg_encode(enc, pic, 256 * 4, 64, 64, DATA, 100000);
    ASSERT_TRUE(n > 10);
    /* No parameters yet, then parameters no JPEG allows. */
    ASSERT_TRUE(mc_jpeg_decode(dec, DATA, (size_t)n, 64, 64, out, 256) < 0);
    uint8_t params[MC_JPEG_PARAMS_BYTES];
    mc_jpeg_enc_params(enc, params, sizeof(params));
    params[40] = 0; /* a zero quantizer */
    ASSERT_TRUE(mc_jpeg_dec_params(dec, params, sizeof(params)) < 0);
    ASSERT_TRUE(mc_jpeg_dec_params(dec, params, sizeof(params) - 1) < 0);
    mc_jpeg_enc_params(enc, params, sizeof(params));
    params[0] = 2;
    ASSERT_TRUE(mc_jpeg_dec_params(dec, params, sizeof(params)) < 0);
    mc_jpeg_enc_params(enc, params, sizeof(params));
    ASSERT_EQ_INT(mc_jpeg_dec_params(dec, params, sizeof(params)), 0);
    /* Truncated data: libjpeg's warning becomes an error, not a half tile. */
    ASSERT_TRUE(mc_jpeg_decode(dec, DATA, (size_t)n / 2, 64, 64, out, 256) < 0);
    for (int i = 0; i < 200; i++) { /* garbage never crashes */
        size_t len = 1 + test_rand_below(3000);
        for (size_t k = 0; k < len; k++)
            DATA[k] = (uint8_t)test_rand();
        (void)mc_jpeg_decode(dec, DATA, len, 64, 64, out, 256);
    }
    /* ...and leaves the decoder fit for the next valid tile. */
    n = mc_jpeg_encode(enc, pic, 256 * 4, 64, 64, DATA, 100000);
    ASSERT_EQ_INT(mc_jpeg_decode(dec, DATA, (size_t)n, 64, 64, out, 256), 0);
    ASSERT_GE_DBL(mc_psnr_bgrx(out, 256, pic, 256 * 4, 64, 64), 28);
    mc_jpeg_enc_destroy(enc);
    mc_jpeg_dec_destroy(dec);
    mc_jpeg_enc_destroy(NULL); /* no-ops */
    mc_jpeg_dec_destroy(NULL);
}

/* ---- lossless and the choice ----------------------------------------------- */

typedef struct {
    mc_tile_coder *tc;
    mc_tile_decoders *dec;
} coder_pair;

static void pair_open(coder_pair *p, int mode, int tile)
{
    mc_codec_config cc = {.quality = 75, .subsamp = MC_SUBSAMP_420, .tile = tile};
    ASSERT_EQ_INT(mc_tile_coder_create(mode, &cc, &p->tc), 0);
    ASSERT_EQ_INT(mc_tile_decoders_create(&p->dec), 0);
    uint8_t ids[MC_CODEC_COUNT];
    const uint8_t *params[MC_CODEC_COUNT];
    size_t lens[MC_CODEC_COUNT];
    int n = mc_tile_coder_params(p->tc, ids, params, lens);
    ASSERT_TRUE(n == (mode == MC_CODEC_AUTO ? 2 : 1));
    for (int i = 0; i < n; i++)
        ASSERT_EQ_INT(mc_tile_decoders_params(p->dec, ids[i], params[i], lens[i]), 0);
}

static void pair_close(coder_pair *p)
{
    mc_tile_coder_destroy(p->tc);
    mc_tile_decoders_destroy(p->dec);
}

/* Codes the w x h block at (x, y) of pic; returns its codec, checks the
 * round trip (bit-exact when the coder says so) and the size. */
static int code_block(coder_pair *p, int x, int y, int w, int h, int *bytes)
{
    uint8_t codec;
    int exact;
    int n = mc_tile_coder_encode(p->tc, pic + (size_t)(y * 256 + x) * 4, 256 * 4, w, h, DATA,
                                 1000000, &codec, &exact);
    ASSERT_TRUE(n > 0);
    *bytes = n;
    memset(out, 0x55, sizeof(out));
    ASSERT_EQ_INT(mc_tile_decoders_decode(p->dec, codec, DATA, (size_t)n, w, h, out, w * 4), 0);
    ASSERT_EQ_INT(exact, codec == MC_CODEC_LOSSLESS);
    for (int r = 0; exact && r < h; r++)
        for (int c = 0; c < w; c++)
            if (memcmp(out + (size_t)(r * w + c) * 4, pic + (size_t)((y + r) * 256 + x + c) * 4, 3))
                FAIL("lossless tile differs at %d,%d of a %dx%d block", c, r, w, h);
    return codec;
}

static void test_lossless_exact(void)
{
    coder_pair p;
    pair_open(&p, MC_CODEC_ONLY_LOSSLESS, 256);
    int bytes;
    /* Every mode: solid, 2/4/16/256-colour palettes, the predictor. */
    flat(0x00123456);
    code_block(&p, 0, 0, 64, 64, &bytes);
    ASSERT_EQ_INT(bytes, 4);
    for (int colours = 2; colours <= 256; colours *= 2) {
        for (int i = 0; i < 256 * 256; i++)
            put(i % 256, i / 256, (uint32_t)(test_rand() % (uint32_t)colours) * 0x010305u);
        code_block(&p, 0, 0, 64, 64, &bytes);
        code_block(&p, 3, 5, 61, 7, &bytes); /* odd sizes pack rows with padding */
    }
    for (int i = 0; i < 256 * 256; i++)
        put(i % 256, i / 256, (uint32_t)test_rand() & 0xFFFFFF);
    code_block(&p, 0, 0, 256, 256, &bytes); /* the largest tile, all noise */
    code_block(&p, 100, 100, 1, 1, &bytes);
    text();
    code_block(&p, 0, 0, 64, 64, &bytes);
    gradient();
    code_block(&p, 17, 9, 64, 64, &bytes);
    pair_close(&p);
}

static void test_choice(void)
{
    coder_pair p;
    pair_open(&p, MC_CODEC_AUTO, 64);
    int flat_b, text_b, grad_b, photo_b;
    flat(0x00F0F0F0);
    ASSERT_EQ_INT(code_block(&p, 0, 0, 64, 64, &flat_b), MC_CODEC_LOSSLESS);
    text();
    ASSERT_EQ_INT(code_block(&p, 64, 64, 64, 64, &text_b), MC_CODEC_LOSSLESS);
    gradient();
    ASSERT_EQ_INT(code_block(&p, 64, 64, 64, 64, &grad_b), MC_CODEC_LOSSLESS);
    mc_testsrc_render_video(pic, 256 * 4, 256, 256, 9);
    ASSERT_EQ_INT(code_block(&p, 64, 64, 64, 64, &photo_b), MC_CODEC_JPEG);
    printf("choice: flat %d bytes, text %d, gradient %d (lossless); photo %d (JPEG)\n", flat_b,
           text_b, grad_b, photo_b);
    ASSERT_TRUE(flat_b < 16 && text_b < 4096 && grad_b < 4096);
    pair_close(&p);
    /* The forced modes. */
    pair_open(&p, MC_CODEC_ONLY_JPEG, 64);
    text();
    ASSERT_EQ_INT(code_block(&p, 0, 0, 64, 64, &text_b), MC_CODEC_JPEG);
    pair_close(&p);
    int mode;
    ASSERT_EQ_INT(mc_codec_mode_parse("lossless", &mode), 0);
    ASSERT_EQ_INT(mode, MC_CODEC_ONLY_LOSSLESS);
    ASSERT_TRUE(mc_codec_mode_parse("png", &mode) < 0);
}

/* Every truncation, every single-bit flip and random bytes: decoded or
 * refused, never a crash or a read beyond the data (ASan watches). */
static void test_lossless_rejects(void)
{
    coder_pair p;
    pair_open(&p, MC_CODEC_ONLY_LOSSLESS, 64);
    static uint8_t good[20000];
    for (int kind = 0; kind < 3; kind++) {
        if (kind == 0)
            text();
        else if (kind == 1)
            gradient();
        else
            flat(0x00010203);
        uint8_t codec;
        int exact;
        int n = mc_tile_coder_encode(p.tc, pic, 256 * 4, 64, 64, good, sizeof(good), &codec, &exact);
        ASSERT_TRUE(n > 0 && n < (int)sizeof(good));
        for (int cut = 0; cut < n; cut++) {
            memcpy(DATA, good, (size_t)cut);
            ASSERT_TRUE(mc_tile_decoders_decode(p.dec, MC_CODEC_LOSSLESS, DATA, (size_t)cut, 64, 64,
                                                out, 256) < 0);
        }
        for (int bit = 0; bit < n * 8; bit += 3) {
            memcpy(DATA, good, (size_t)n);
            DATA[bit / 8] ^= (uint8_t)(1 << bit % 8);
            (void)mc_tile_decoders_decode(p.dec, MC_CODEC_LOSSLESS, DATA, (size_t)n, 64, 64, out, 256);
        }
        /* The right data at the wrong size is refused, not misread. */
        memcpy(DATA, good, (size_t)n);
        if (kind < 2)
            ASSERT_TRUE(mc_tile_decoders_decode(p.dec, MC_CODEC_LOSSLESS, DATA, (size_t)n, 64, 63,
                                                out, 256) < 0);
    }
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + test_rand_below(2000);
        for (size_t k = 0; k < len; k++)
            DATA[k] = (uint8_t)test_rand();
        DATA[0] = (uint8_t)test_rand_below(4);
        (void)mc_tile_decoders_decode(p.dec, MC_CODEC_LOSSLESS, DATA, len, 64, 64, out, 256);
    }
    /* A codec without parameters, and codecs that do not exist. */
    mc_tile_decoders_reset(p.dec);
    ASSERT_TRUE(mc_tile_decoders_decode(p.dec, MC_CODEC_LOSSLESS, good, 4, 64, 64, out, 256) < 0);
    ASSERT_TRUE(mc_tile_decoders_decode(p.dec, 0, good, 4, 64, 64, out, 256) < 0);
    ASSERT_TRUE(mc_tile_decoders_decode(p.dec, 99, good, 4, 64, 64, out, 256) < 0);
    ASSERT_TRUE(mc_tile_decoders_params(p.dec, MC_CODEC_LOSSLESS, (const uint8_t *)"\2", 1) < 0);
    ASSERT_TRUE(mc_tile_decoders_params(p.dec, 99, good, 1) < 0);
    pair_close(&p);
}

int main(void)
{
    test_limit_seconds(60);
    test_seed_init();
    RUN(test_jpeg_roundtrip);
    RUN(test_jpeg_rejects);
    RUN(test_lossless_exact);
    RUN(test_choice);
    RUN(test_lossless_rejects);
    return 0;
}
