/* Sender -> packets -> receiver, in one process: every decoded tile must be
 * the sender's tile at that version, with loss, duplication and reordering
 * (seeded), and the picture must converge to the sender's last frame. */
#include <stdio.h>

#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/receiver.h"
#include "mc/sender.h"
#include "mc/testsrc.h"
#include "mc/wire.h"
#include "test.h"
#include "test_util.h"

#define W 352
#define H 200
#define STILL_AFTER 20 /* the picture stops changing after this frame */

typedef struct {
    mc_tile_encoder *enc; /* same settings as the sender: the expected tile */
    mc_tile_decoder *dec;
    uint8_t jbuf[MC_TILE_HEADROOM + 65536 + MC_TILE_TAILROOM];
    uint8_t want[64 * 64 * 4];
    int checked, bad, inexact;
    double worst_psnr;
    uint8_t ref[W * H * 4];
    uint32_t ref_frame;
} verifier;

static int expected_tile(verifier *v, const uint8_t *ref, int x, int y, int w, int h);

static void render(uint8_t *dst, uint32_t frame)
{
    mc_testsrc_render(dst, W * 4, W, H, frame < STILL_AFTER ? frame : STILL_AFTER);
}

/* Called for each decoded tile: compare with the pattern at its version. */
static void on_tile(void *ctx, int tile, uint32_t version, const uint8_t *px, int pitch, int x,
                    int y, int w, int h)
{
    verifier *v = ctx;
    if (v->ref_frame != version) {
        render(v->ref, version);
        v->ref_frame = version;
    }
    double p = psnr_bgrx(px, pitch, v->ref + (size_t)y * W * 4 + (size_t)x * 4, W * 4, w, h);
    v->checked++;
    if (p < v->worst_psnr)
        v->worst_psnr = p;
    if (p < 25.0) {
        v->bad++;
        fprintf(stderr, "tile %d version %u at %d,%d %dx%d: PSNR %.1f dB\n", tile, version, x,
                y, w, h, p);
    }
    /* Exact check: the tile must be bit-identical to the reference tile
     * coded here. */
    if (expected_tile(v, v->ref, x, y, w, h) != 0 || psnr_bgrx(px, pitch, v->want, w * 4, w, h) < 99.0)
        v->inexact++;
}

/* Runs a sender over `frames` frames and records every packet. */
static void record_stream(recorder *rec, int frames, int quality, int tile, int mtu)
{
    mc_sender_config sc;
    mc_sender_config_default(&sc);
    sc.width = W;
    sc.height = H;
    sc.quality = quality;
    sc.tile = tile;
    sc.mtu = mtu;
    sc.fps = 30;
    sc.refresh_ms = 200; /* a refresh cycle = 6 frames */
    sc.max_bitrate_mbit = 10000;
    sc.sink = recorder_sink;
    sc.sink_ctx = rec;
    mc_sender *s;
    ASSERT_EQ_INT(mc_sender_create(&sc, &s), 0);
    static uint8_t pic[W * H * 4];
    for (int f = 1; f <= frames; f++) {
        render(pic, (uint32_t)f);
        ASSERT_EQ_INT(mc_sender_submit(s, pic, W * 4, mc_now_us()), 0);
    }
    mc_sender_flush(s);
    mc_sender_destroy(s);
}

static mc_receiver *make_receiver(verifier *v, int quality, int tile)
{
    ASSERT_TRUE(tile <= 64);
    ASSERT_EQ_INT(mc_tile_encoder_create(quality, MC_SUBSAMP_420, tile, &v->enc), 0);
    ASSERT_EQ_INT(mc_tile_decoder_create(&v->dec), 0);
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = 0;
    rc.on_tile = on_tile;
    rc.cb_ctx = v;
    mc_receiver *r;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
    v->worst_psnr = 99;
    v->ref_frame = UINT32_MAX;
    return r;
}

static void verifier_free(verifier *v)
{
    mc_tile_encoder_destroy(v->enc);
    mc_tile_decoder_destroy(v->dec);
    free(v);
}

/* Encodes and decodes the reference tile as the sender and a receiver
 * would; TurboJPEG is deterministic, so a correct tile is bit-identical. */
static int expected_tile(verifier *v, const uint8_t *ref, int x, int y, int w, int h)
{
    size_t tl;
    uint16_t so;
    const uint8_t *t = mc_tile_encoder_template(v->enc, &tl, &so);
    int n = mc_tile_encode(v->enc, ref + (size_t)y * W * 4 + (size_t)x * 4, W * 4, w, h,
                           v->jbuf + MC_TILE_HEADROOM, 65536);
    if (n <= 0)
        return -1;
    return mc_tile_decode(v->dec, t, tl, so, v->jbuf + MC_TILE_HEADROOM, (size_t)n, w, h,
                          v->want, w * 4);
}

/* The picture must be exactly the still frame as coded, in every tile. */
static void assert_picture_is_still_frame(mc_receiver *r, verifier *v)
{
    static uint8_t want[W * H * 4];
    render(want, STILL_AFTER);
    mc_picture pic;
    mc_receiver_lock_picture(r, &pic);
    ASSERT_EQ_INT(pic.width, W);
    ASSERT_EQ_INT(pic.height, H);
    int wrong = 0;
    for (int ty = 0; ty < pic.rows; ty++)
        for (int tx = 0; tx < pic.cols; tx++) {
            int x = tx * pic.tile, y = ty * pic.tile;
            int w = W - x < pic.tile ? W - x : pic.tile, h = H - y < pic.tile ? H - y : pic.tile;
            if (expected_tile(v, want, x, y, w, h) != 0 ||
                psnr_bgrx(pic.pixels + (size_t)y * pic.pitch + (size_t)x * 4, pic.pitch, v->want,
                          w * 4, w, h) < 99.0)
                wrong++;
        }
    mc_receiver_unlock_picture(r);
    ASSERT_EQ_INT(wrong, 0);
}

static void test_pipeline_clean(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 30, 90, 64, 1200);
    verifier *v = calloc(1, sizeof(*v));
    mc_receiver *r = make_receiver(v, 90, 64);
    for (size_t i = 0; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.state, MC_RX_ENDED); /* the BYE arrived */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_EQ_INT(st.decode_errors, 0);
    ASSERT_EQ_INT(st.expected, st.received);
    ASSERT_EQ_INT(st.frames_complete, 30);
    ASSERT_EQ_INT(v->bad, 0);
    ASSERT_EQ_INT(v->inexact, 0);
    ASSERT_TRUE(v->checked >= st.tiles);
    assert_picture_is_still_frame(r, v);
    mc_receiver_destroy(r);
    verifier_free(v);
    recorder_free(&rec);
}

/* Drops, duplicates and reorders (within a window) the first `lossy`
 * packets; the rest (at least one refresh cycle) arrive clean. */
static void test_pipeline_loss_dup_reorder(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 40, 75, 32, 800); /* small tiles, many fragments */
    size_t lossy = rec.n * 3 / 4;
    for (size_t i = 0; i + 1 < lossy; i++) { /* reorder: swap within 16 */
        size_t j = i + test_rand_below(16);
        if (j < lossy) {
            uint8_t *p = rec.pkt[i]; size_t l = rec.len[i];
            rec.pkt[i] = rec.pkt[j]; rec.len[i] = rec.len[j];
            rec.pkt[j] = p; rec.len[j] = l;
        }
    }
    verifier *v = calloc(1, sizeof(*v));
    mc_receiver *r = make_receiver(v, 75, 32);
    int dropped = 0, duped = 0;
    for (size_t i = 0; i < rec.n; i++) {
        uint32_t dice = test_rand_below(100);
        if (i < lossy && dice < 10) { dropped++; continue; }
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
        if (i < lossy && dice >= 95) { /* duplicate */
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
            duped++;
        }
    }
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(dropped > 0 && duped > 0);
    ASSERT_EQ_INT(v->bad, 0);
    ASSERT_EQ_INT(v->inexact, 0);
    ASSERT_EQ_INT(st.decode_errors, 0);
    ASSERT_EQ_INT(st.corrupt_tile, 0);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_TRUE(st.duplicates + st.stale >= (uint64_t)duped); /* each copy was recognised */
    assert_picture_is_still_frame(r, v);
    mc_receiver_destroy(r);
    verifier_free(v);
    recorder_free(&rec);
}

/* A receiver that joins late (first packets missing) converges within one
 * refresh cycle of clean packets. */
static void test_pipeline_late_join(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 40, 75, 64, 1200);
    verifier *v = calloc(1, sizeof(*v));
    mc_receiver *r = make_receiver(v, 75, 64);
    for (size_t i = rec.n / 2; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_EQ_INT(v->bad, 0);
    ASSERT_EQ_INT(v->inexact, 0);
    ASSERT_TRUE(st.no_announce > 0); /* video before the first announce is dropped */
    assert_picture_is_still_frame(r, v);
    mc_receiver_destroy(r);
    verifier_free(v);
    recorder_free(&rec);
}

/* Sizes of every datagram respect the MTU. */
static void test_pipeline_mtu(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 5, 100, 128, 800);
    size_t big = 0;
    for (size_t i = 0; i < rec.n; i++)
        if (rec.len[i] > big)
            big = rec.len[i];
    ASSERT_TRUE(big <= 800);
    ASSERT_TRUE(big > 700); /* fragments are filled, not tiny */
    recorder_free(&rec);
}

int main(void)
{
    test_limit_seconds(120);
    test_seed_init();
    RUN(test_pipeline_clean);
    RUN(test_pipeline_loss_dup_reorder);
    RUN(test_pipeline_late_join);
    RUN(test_pipeline_mtu);
    return 0;
}
