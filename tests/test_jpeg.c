/* Tile codec: the template is what every tile's header would have been,
 * decoding rebuilds the picture, and corrupt data is refused. */
#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/testsrc.h"
#include "mc/verify.h"
#include "mc/wire.h"
#include "test.h"
#include "test_util.h"

static uint8_t pic[256 * 256 * 4];
static uint8_t buf[MC_TILE_HEADROOM + 400000 + MC_TILE_TAILROOM];
static uint8_t out[256 * 256 * 4];

static void roundtrip(int quality, int subsamp, int tile, int w, int h, double min_psnr)
{
    mc_tile_encoder *enc;
    mc_tile_decoder *dec;
    ASSERT_EQ_INT(mc_tile_encoder_create(quality, subsamp, tile, &enc), 0);
    ASSERT_EQ_INT(mc_tile_decoder_create(&dec), 0);
    size_t tl;
    uint16_t so;
    const uint8_t *t = mc_tile_encoder_template(enc, &tl, &so);
    ASSERT_TRUE(tl > 100 && tl <= MC_MAX_JPEG_HDR);
    ASSERT_TRUE(t[0] == 0xFF && t[1] == 0xD8 && t[so - 5] == 0xFF && t[so - 4] == 0xC0);
    int n = mc_tile_encode(enc, pic, 256 * 4, w, h, buf + MC_TILE_HEADROOM, 400000);
    ASSERT_TRUE(n > 0 && (size_t)n <= mc_tile_max_bytes(tile, subsamp));
    ASSERT_EQ_INT(mc_tile_decode(dec, t, tl, so, buf + MC_TILE_HEADROOM, (size_t)n, w, h, out, w * 4), 0);
    ASSERT_GE_DBL(mc_psnr_bgrx(out, w * 4, pic, 256 * 4, w, h), min_psnr);
    mc_tile_encoder_destroy(enc);
    mc_tile_decoder_destroy(dec);
}

static void test_jpeg_roundtrip_sizes(void)
{
    mc_testsrc_render_video(pic, 256 * 4, 256, 256, 3);
    roundtrip(90, MC_SUBSAMP_444, 64, 64, 64, 35);
    roundtrip(75, MC_SUBSAMP_420, 64, 64, 64, 28);
    roundtrip(75, MC_SUBSAMP_420, 64, 8, 3, 28);    /* a sliver at the picture's edge */
    roundtrip(75, MC_SUBSAMP_420, 256, 256, 256, 28);
    roundtrip(100, MC_SUBSAMP_444, 16, 16, 16, 45);
}

static void test_jpeg_rejects_bad_input(void)
{
    mc_tile_encoder *enc;
    mc_tile_decoder *dec;
    ASSERT_TRUE(mc_tile_encoder_create(0, MC_SUBSAMP_420, 64, &enc) < 0);
    ASSERT_TRUE(mc_tile_encoder_create(75, 7, 64, &enc) < 0);
    ASSERT_EQ_INT(mc_tile_encoder_create(75, MC_SUBSAMP_420, 64, &enc), 0);
    ASSERT_EQ_INT(mc_tile_decoder_create(&dec), 0);
    ASSERT_TRUE(mc_tile_encode(enc, pic, 256 * 4, 65, 64, buf, 100000) < 0); /* wider than a tile */
    ASSERT_TRUE(mc_tile_encode(enc, pic, 256 * 4, 64, 64, buf, 10) == MC_ETOOBIG);
    size_t tl;
    uint16_t so;
    const uint8_t *t = mc_tile_encoder_template(enc, &tl, &so);
    mc_testsrc_render_video(pic, 256 * 4, 256, 256, 5);
    int n = mc_tile_encode(enc, pic, 256 * 4, 64, 64, buf + MC_TILE_HEADROOM, 100000);
    ASSERT_TRUE(n > 10);
    /* Truncated data: libjpeg's warning becomes an error, not a half tile. */
    ASSERT_TRUE(mc_tile_decode(dec, t, tl, so, buf + MC_TILE_HEADROOM, (size_t)n / 2, 64, 64, out, 256) < 0);
    /* Random garbage as entropy data must never crash (errors are fine). */
    for (int i = 0; i < 200; i++) {
        size_t len = 1 + test_rand_below(3000);
        for (size_t k = 0; k < len; k++)
            buf[MC_TILE_HEADROOM + k] = (uint8_t)test_rand();
        (void)mc_tile_decode(dec, t, tl, so, buf + MC_TILE_HEADROOM, len, 64, 64, out, 256);
    }
    /* ...and leaves the decoder fit for the next valid tile (libjpeg's
     * state after an error once made every later tile fail). */
    n = mc_tile_encode(enc, pic, 256 * 4, 64, 64, buf + MC_TILE_HEADROOM, 100000);
    ASSERT_EQ_INT(mc_tile_decode(dec, t, tl, so, buf + MC_TILE_HEADROOM, (size_t)n, 64, 64, out, 256), 0);
    ASSERT_GE_DBL(mc_psnr_bgrx(out, 256, pic, 256 * 4, 64, 64), 28);
    mc_tile_encoder_destroy(enc);
    mc_tile_decoder_destroy(dec);
    mc_tile_encoder_destroy(NULL); /* no-ops */
    mc_tile_decoder_destroy(NULL);
}

int main(void)
{
    test_limit_seconds(60);
    test_seed_init();
    RUN(test_jpeg_roundtrip_sizes);
    RUN(test_jpeg_rejects_bad_input);
    return 0;
}
