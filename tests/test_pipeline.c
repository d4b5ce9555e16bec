/* Sender -> packets -> receiver, in one process: every decoded tile must be
 * the sender's tile at that version, with loss, duplication and reordering
 * (seeded), and the picture must converge to the sender's last frame. */
#include <stdio.h>

#include "mc/codec.h"
#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/receiver.h"
#include "mc/sender.h"
#include "mc/testsrc.h"
#include "mc/verify.h"
#include "mc/wire.h"
#include "test.h"
#include "test_util.h"

#define W 352
#define H 200
#define STILL_AFTER 20 /* the picture stops changing after this frame */

static void render(uint8_t *dst, int pitch, int w, int h, uint32_t frame)
{
    mc_testsrc_render(dst, pitch, w, h, frame < STILL_AFTER ? frame : STILL_AFTER);
}

/* Runs a sender over `frames` frames and records every packet. */
static int g_fec_percent = 20, g_refresh_ms = 200;
static const mc_signing_key *g_key; /* sign the recorded stream with it */
static mc_render_fn g_render = render;
static uint32_t g_session;          /* the recorded stream's session */
static const uint8_t *g_seal;       /* encrypt the recorded stream with it */

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
    sc.refresh_ms = g_refresh_ms; /* 200: a refresh cycle = 6 frames */
    sc.fec_percent = g_fec_percent;
    sc.max_bitrate_mbit = 10000;
    sc.sink = recorder_sink;
    sc.sink_ctx = rec;
    sc.key = g_key;
    sc.seal_key = g_seal;
    mc_sender *s;
    ASSERT_EQ_INT(mc_sender_create(&sc, &s), 0);
    g_session = mc_sender_session(s);
    static uint8_t pic[W * H * 4];
    /* Captures on a 30 fps clock, however fast they are coded: the refresh
     * and repeats follow the capture clock. */
    uint64_t t0 = mc_now_us();
    for (int f = 1; f <= frames; f++) {
        g_render(pic, W * 4, W, H, (uint32_t)f);
        ASSERT_EQ_INT(mc_sender_submit(s, pic, W * 4, t0 + (uint64_t)f * 33333u), 0);
    }
    mc_sender_flush(s);
    mc_sender_destroy(s);
}

/* A socket-less receiver whose every decoded tile goes through a verifier
 * of the source drawn by `src` (threads = 0: decoded inside feed). */
static mc_receiver *make_verifying_receiver(mc_render_fn src, int threads, mc_verifier **v)
{
    ASSERT_EQ_INT(mc_verifier_create(src, v), 0);
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = threads;
    rc.on_tile = mc_verifier_on_tile;
    rc.cb_ctx = *v;
    mc_receiver *r;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
    return r;
}

static mc_receiver *make_receiver(mc_verifier **v) { return make_verifying_receiver(render, 0, v); }

static void assert_all_tiles_exact(mc_verifier *v, uint64_t at_least)
{
    mc_verify_result res;
    mc_verifier_result(v, &res);
    if (res.wrong)
        FAIL("%llu of %llu tiles wrong (worst %.1f dB)", (unsigned long long)res.wrong,
             (unsigned long long)res.checked, res.worst_psnr);
    ASSERT_TRUE(res.checked >= at_least);
}

/* The picture must be exactly the still frame as coded, in every tile:
 * feed each tile of the picture through the verifier as version STILL_AFTER. */
static void assert_picture_is_still_frame(mc_receiver *r)
{
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    mc_picture pic;
    mc_receiver_lock_picture(r, &pic);
    ASSERT_EQ_INT(pic.width, W);
    ASSERT_EQ_INT(pic.height, H);
    /* Each tile is either exact (lossless or moved) or the JPEG coding of
     * the still frame at the session's quality: try both with a verifier
     * of its own (its failures are expected). */
    mc_verifier *pv;
    ASSERT_EQ_INT(mc_verifier_create(g_render, &pv), 0);
    mc_codec_config cc = {.quality = st.quality ? st.quality : 75, .subsamp = st.subsamp, .tile = 64};
    mc_jpeg_enc *je;
    uint8_t jparams[MC_JPEG_PARAMS_BYTES];
    ASSERT_EQ_INT(mc_jpeg_enc_create(&cc, &je), 0);
    mc_jpeg_enc_params(je, jparams, sizeof(jparams));
    mc_jpeg_enc_destroy(je);
    int wrong = 0;
    for (int t = 0; t < pic.cols * pic.rows; t++) {
        int x = t % pic.cols * pic.tile, y = t / pic.cols * pic.tile;
        mc_tile_event ev = {.tile = t, .version = STILL_AFTER, .pitch = pic.pitch, .x = x, .y = y,
                            .w = W - x < pic.tile ? W - x : pic.tile,
                            .h = H - y < pic.tile ? H - y : pic.tile, .pic_width = W,
                            .pic_height = H, .codec = MC_CODEC_LOSSLESS};
        ev.pixels = pic.pixels + (size_t)y * pic.pitch + (size_t)x * 4;
        int ok = mc_verifier_check(pv, &ev);
        ev.codec = MC_CODEC_JPEG;
        ev.codec_params = jparams;
        ev.codec_params_len = sizeof(jparams);
        ok = ok || mc_verifier_check(pv, &ev);
        wrong += !ok;
    }
    mc_verifier_destroy(pv);
    mc_receiver_unlock_picture(r);
    ASSERT_EQ_INT(wrong, 0);
}

static void test_pipeline_clean(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 30, 90, 64, 1200);
    mc_verifier *v;
    mc_receiver *r = make_receiver(&v);
    for (size_t i = 0; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.state, MC_RX_ENDED); /* the BYE arrived */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_EQ_INT(st.decode_errors, 0);
    ASSERT_EQ_INT(st.expected, st.received);
    /* Every frame that carried something is complete: the 20 that changed,
     * and the refresh bursts after (a still frame with nothing to send
     * sends nothing). */
    ASSERT_EQ_INT(st.frames_complete, st.frames_seen);
    ASSERT_TRUE(st.frames_seen >= STILL_AFTER);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
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
    mc_verifier *v;
    mc_receiver *r = make_receiver(&v);
    int dropped = 0, duped = 0;
    for (size_t i = 0; i < rec.n; i++) {
        /* Random, plus one of each for certain: a short recording may
         * otherwise draw no drop or no duplicate at all. */
        uint32_t dice = test_rand_below(100);
        if (i < lossy && (dice < 10 || i == lossy / 2)) { dropped++; continue; }
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
        if (i < lossy && (dice >= 95 || i == lossy / 3)) { /* duplicate */
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
            duped++;
        }
    }
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(dropped > 0 && duped > 0);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    ASSERT_EQ_INT(st.decode_errors, 0);
    ASSERT_EQ_INT(st.corrupt_tile, 0);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_TRUE(st.duplicates + st.stale >= (uint64_t)duped); /* each copy was recognised */
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
}

/* A receiver that joins late (first packets missing) converges within one
 * refresh cycle of clean packets: 60 frames (2 s) after the join, with a
 * 1 s refresh (the shortest cycle the sender allows). */
static void test_pipeline_late_join(void)
{
    recorder rec;
    recorder_init(&rec);
    g_refresh_ms = 1000;
    record_stream(&rec, 120, 75, 64, 1200);
    g_refresh_ms = 200;
    mc_verifier *v;
    mc_receiver *r = make_receiver(&v);
    size_t join = rec.n / 2;
    while (join < rec.n && rec.pkt[join][3] != MC_PT_VIDEO)
        join++; /* join in the middle of the video, between announces */
    for (size_t i = join; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    ASSERT_TRUE(st.no_announce > 0); /* video before the first announce is dropped */
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
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

static void render_off_by_one(uint8_t *dst, int pitch, int w, int h, uint32_t frame)
{
    render(dst, pitch, w, h, frame + 1);
}

/* The checker itself must catch a wrong tile: verify the same stream
 * against a source that is one frame ahead. */
/* A signed stream, delivered with loss, duplicates and reordering, mixed
 * with a student's forgery: another picture under the same session id,
 * signed with the student's own key. Only the teacher's tiles are used. */
static void test_pipeline_signed_against_forgery(void)
{
    mc_signing_key teacher, student;
    ASSERT_EQ_INT(mc_key_generate(&teacher), 0);
    ASSERT_EQ_INT(mc_key_generate(&student), 0);
    recorder rec, evil;
    recorder_init(&rec);
    recorder_init(&evil);
    g_key = &teacher;
    record_stream(&rec, 30, 75, 64, 1200);
    uint32_t session = g_session;
    g_key = &student;
    g_render = render_off_by_one;
    record_stream(&evil, 30, 75, 64, 1200);
    g_render = render;
    g_key = NULL;
    for (size_t i = 0; i < evil.n; i++) { /* same session id as the teacher's */
        uint8_t *p = evil.pkt[i];
        p[4] = (uint8_t)(session >> 24); p[5] = (uint8_t)(session >> 16);
        p[6] = (uint8_t)(session >> 8); p[7] = (uint8_t)session;
    }
    uint8_t fpr[MC_FPR_BYTES];
    mc_key_fingerprint(teacher.pk, fpr);
    mc_verifier *v;
    ASSERT_EQ_INT(mc_verifier_create(render, &v), 0);
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.on_tile = mc_verifier_on_tile;
    rc.cb_ctx = v;
    rc.threads = 0; /* decoded inside feed: the stats below are final */
    rc.require_signed = 1;
    rc.trust_fpr = fpr;
    mc_receiver *r;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
    size_t e = 0;
    int dropped = 0;
    for (size_t i = 0; i < rec.n; i++) {
        for (int k = 0; k < 2 && e < evil.n; k++, e++) /* the forgery goes first */
            mc_receiver_feed(r, evil.pkt[e], evil.len[e], mc_now_us());
        if (i < rec.n * 3 / 4 && (test_rand_below(100) < 5 || i == rec.n / 2)) {
            dropped++; /* random, and one for certain */
            continue;
        }
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
        if (test_rand_below(100) < 3) /* a replayed copy */
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    }
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(dropped > 0);
    ASSERT_EQ_INT(st.auth_on, 1);
    /* The student's manifests, relabelled with the teacher's session after
     * signing, no longer verify under any key: forged, not "another key". */
    ASSERT_TRUE(st.auth.bad_manifest > 0);
    ASSERT_EQ_INT(st.auth.wrong_key, 0);
    ASSERT_TRUE(st.auth.verified > 0);
    ASSERT_EQ_INT(st.state, MC_RX_ENDED); /* the teacher's signed BYE */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
    recorder_free(&evil);
}

/* A class passphrase: with the key the picture is exact; without it, or
 * with another passphrase, nothing is shown and the viewer can say why. */
static void test_pipeline_sealed(void)
{
    uint8_t key[MC_SEAL_KEY], other[MC_SEAL_KEY], again[MC_SEAL_KEY];
    ASSERT_EQ_INT(mc_seal_derive("correct horse", 13, "239.1.1.1", 5004, key), 0);
    ASSERT_EQ_INT(mc_seal_derive("correct horse", 13, "239.1.1.1", 5004, again), 0);
    ASSERT_TRUE(!memcmp(key, again, sizeof(key)));   /* both ends derive the same key */
    ASSERT_EQ_INT(mc_seal_derive("correct horse", 13, "239.1.1.2", 5004, other), 0);
    ASSERT_TRUE(memcmp(key, other, sizeof(key)));    /* another class, another key */
    mc_signing_key teacher;
    ASSERT_EQ_INT(mc_key_generate(&teacher), 0);
    recorder rec;
    recorder_init(&rec);
    g_key = &teacher;
    g_seal = key;
    record_stream(&rec, 30, 75, 64, 1200);
    g_key = NULL;
    g_seal = NULL;
    size_t sealed = 0, longest = 0;
    for (size_t i = 0; i < rec.n; i++) {
        sealed += rec.pkt[i][3] == MC_PT_SEALED;
        longest = rec.len[i] > longest ? rec.len[i] : longest;
        /* The inner packet is not in clear: no second mcshare header inside
         * (a chance match of these 4 bytes is 1 in 2^32 per position). */
        for (size_t j = MC_HDR_BYTES; rec.pkt[i][3] == MC_PT_SEALED && j + 4 <= rec.len[i]; j++)
            if (!memcmp(rec.pkt[i] + j, "MC\x01", 3) && rec.pkt[i][j + 3] >= 1 && rec.pkt[i][j + 3] <= 5)
                FAIL("an inner header in clear in a sealed packet");
    }
    ASSERT_TRUE(sealed > rec.n / 2);
    ASSERT_TRUE(longest <= 1200); /* sealed datagrams still fit the MTU */
    const uint8_t *keys[3] = {key, NULL, other};
    for (int k = 0; k < 3; k++) {
        mc_verifier *v;
        ASSERT_EQ_INT(mc_verifier_create(render, &v), 0);
        mc_receiver_config rc;
        mc_receiver_config_default(&rc);
        rc.group = NULL;
        rc.threads = 0;
        rc.on_tile = mc_verifier_on_tile;
        rc.cb_ctx = v;
        rc.require_signed = 1;
        rc.seal_key = keys[k];
        mc_receiver *r;
        ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
        for (size_t i = 0; i < rec.n; i++)
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
        mc_receiver_stats st;
        mc_receiver_get_stats(r, &st);
        if (k == 0) {
            ASSERT_EQ_INT(st.state, MC_RX_ENDED);
            ASSERT_EQ_INT(st.tiles_held, st.tiles);
            ASSERT_EQ_INT(st.sealed_bad + st.sealed_locked, 0);
            assert_all_tiles_exact(v, (uint64_t)st.tiles);
            assert_picture_is_still_frame(r);
        } else {
            ASSERT_EQ_INT(st.state, MC_RX_WAITING);
            ASSERT_EQ_INT(st.tiles_held, 0);
            ASSERT_TRUE(k == 1 ? st.sealed_locked > 0 : st.sealed_bad > 0);
        }
        mc_receiver_destroy(r);
        mc_verifier_destroy(v);
    }
    recorder_free(&rec);
}

static void test_verifier_catches_wrong_tiles(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 10, 75, 64, 1200);
    mc_verifier *v;
    mc_receiver *r = make_verifying_receiver(render_off_by_one, 0, &v);
    for (size_t i = 0; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_verify_result res;
    mc_verifier_result(v, &res);
    ASSERT_TRUE(res.wrong > 0);
    ASSERT_LE_DBL(res.worst_psnr, 30.0);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
}

/* The same stream through a receiver with two decode workers (what mcview
 * runs): every tile exact, every frame decoded. Also what ThreadSanitizer
 * watches in tools/check. */
static void test_pipeline_threaded_decoders(void)
{
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 30, 75, 32, 1200);
    mc_verifier *v;
    mc_receiver *r = make_verifying_receiver(render, 2, &v);
    for (size_t i = 0; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    for (int i = 0; i < 500; i++) { /* bounded: at most 5 s */
        mc_receiver_get_stats(r, &st);
        if (st.tiles > 0 && st.tiles_held == st.tiles && st.tiles_behind == 0)
            break; /* every tile shows the newest version seen: decoders done */
        mc_receiver_wait(r, 10);
    }
    /* Fed faster than real time, older versions of a tile are replaced
     * before they are decoded (the newest wins), so not every frame is
     * "decoded"; every frame is complete, and the last one is decoded. */
    /* Every frame that carried something is complete: the 20 that changed,
     * and the refresh bursts after (a still frame with nothing to send
     * sends nothing). */
    ASSERT_EQ_INT(st.frames_complete, st.frames_seen);
    ASSERT_TRUE(st.frames_seen >= STILL_AFTER);
    ASSERT_TRUE(st.frames_decoded >= 1);
    ASSERT_EQ_INT(st.decode_errors, 0);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* FEC alone (a refresh too slow to help): drop up to p packets of every
 * block, shuffle each block so parity often arrives before data, and every
 * frame must still complete, exactly, with every loss recovered. */
static void test_pipeline_fec_recovers_every_block(void)
{
    g_refresh_ms = 60000;
    recorder rec;
    recorder_init(&rec);
    record_stream(&rec, 30, 75, 32, 1200);
    g_refresh_ms = 200;
    uint8_t *drop = calloc(rec.n, 1);
    size_t dropped = 0, blocks = 0;
    /* In send order a block is k data packets then its p parity packets;
     * find them all before shuffling anything. */
    size_t *bstart = calloc(rec.n, sizeof(size_t));
    int *bk = calloc(rec.n, sizeof(int)), *bp = calloc(rec.n, sizeof(int));
    for (size_t i = 0; i < rec.n; i++) {
        if (rec.pkt[i][3] != MC_PT_PARITY || rec.pkt[i][MC_HDR_BYTES + 10] != 0)
            continue;
        int k = rec.pkt[i][MC_HDR_BYTES + 8], p = rec.pkt[i][MC_HDR_BYTES + 9];
        ASSERT_TRUE(i >= (size_t)k);
        ASSERT_EQ_INT(be32(rec.pkt[i - (size_t)k] + 8), be32(rec.pkt[i] + MC_HDR_BYTES));
        bstart[blocks] = i - (size_t)k;
        bk[blocks] = k;
        bp[blocks++] = p;
    }
    for (size_t b = 0; b < blocks; b++) {
        size_t start = bstart[b];
        int k = bk[b], p = bp[b];
        /* Lose up to p of the block's k + p packets, data or parity. */
        int lose = (int)test_rand_below((uint32_t)p + 1);
        for (int n = 0; n < lose;) {
            size_t j = start + test_rand_below((uint32_t)(k + p));
            if (!drop[j]) {
                drop[j] = 1;
                dropped += rec.pkt[j][3] != MC_PT_PARITY;
                n++;
            }
        }
        for (int n = 0; n < k + p; n++) { /* shuffle the block */
            size_t x = start + test_rand_below((uint32_t)(k + p)), y = start + test_rand_below((uint32_t)(k + p));
            uint8_t *tp = rec.pkt[x]; size_t tl = rec.len[x]; uint8_t td = drop[x];
            rec.pkt[x] = rec.pkt[y]; rec.len[x] = rec.len[y]; drop[x] = drop[y];
            rec.pkt[y] = tp; rec.len[y] = tl; drop[y] = td;
        }
    }
    free(bstart);
    free(bk);
    free(bp);
    ASSERT_TRUE(blocks >= STILL_AFTER && dropped > 0); /* a block per changing frame at least */
    mc_verifier *v;
    mc_receiver *r = make_receiver(&v);
    /* The first announce must arrive for the session to start at all. */
    for (size_t i = 0; i < rec.n; i++)
        if (rec.pkt[i][3] == MC_PT_ANNOUNCE) {
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
            break;
        }
    for (size_t i = 0; i < rec.n; i++)
        if (!drop[i])
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.fec_unrecoverable, 0);
    ASSERT_TRUE(st.fec_recovered >= dropped - 1); /* the first announce was given again */
    /* Every frame that carried something is complete: the 20 that changed,
     * and the refresh bursts after (a still frame with nothing to send
     * sends nothing). */
    ASSERT_EQ_INT(st.frames_complete, st.frames_seen);
    ASSERT_TRUE(st.frames_seen >= STILL_AFTER);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    assert_all_tiles_exact(v, (uint64_t)st.tiles);
    assert_picture_is_still_frame(r);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
    free(drop);
}

/* ---- moves ---------------------------------------------------------------- */

/* A page taller than the screen that scrolls 6 rows a frame from frame 5
 * to frame SCROLL_END, then stays (code being scrolled through). */
#define SCROLL_END 30
static void render_scroll(uint8_t *dst, int pitch, int w, int h, uint32_t frame)
{
    static uint8_t page[W * (H + 200) * 4];
    static int drawn;
    if (!drawn) {
        mc_testsrc_render(page, W * 4, W, H + 200, 77);
        drawn = 1;
    }
    uint32_t f = frame < 5 ? 0 : frame > SCROLL_END ? SCROLL_END - 5 : frame - 5;
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * pitch, page + ((size_t)(y + (int)f * 6) * W) * 4, (size_t)w * 4);
}

static size_t count_type(const recorder *rec, int type)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->n; i++)
        n += rec->pkt[i][3] == type;
    return n;
}

/* Every frame carries each tile at most once (as coded data or moved, not
 * both), and says how many: frame_tiles counts exactly its distinct tiles. */
static void assert_frames_consistent(const recorder *rec, int tiles)
{
    enum { MAXF = 4096 };
    static uint8_t kind[MAXF][512]; /* per frame & 4095, per tile: 1 data, 2 moved */
    static uint16_t said[MAXF], distinct[MAXF];
    static uint32_t which[MAXF];
    memset(kind, 0, sizeof(kind));
    memset(said, 0, sizeof(said));
    memset(distinct, 0, sizeof(distinct));
    ASSERT_TRUE(tiles <= 512);
    for (size_t i = 0; i < rec->n; i++) {
        const uint8_t *p = rec->pkt[i];
        size_t len = rec->len[i];
        mc_video v;
        mc_move m;
        if (p[3] == MC_PT_VIDEO && mc_wire_parse_video(p, len, &v) > 0) {
            size_t off = 0;
            while (mc_wire_video_record(p, len, &off, &v)) {
                uint32_t f = v.frame % MAXF;
                which[f] = v.frame;
                said[f] = v.frame_tiles;
                if (kind[f][v.tile] == 2)
                    FAIL("frame %u sends tile %u as data and as a move", v.frame, v.tile);
                distinct[f] += kind[f][v.tile] == 0;
                kind[f][v.tile] = 1;
            }
        } else if (p[3] == MC_PT_MOVE && mc_wire_parse_move(p, len, &m) == 0) {
            uint32_t f = m.frame % MAXF;
            which[f] = m.frame;
            said[f] = m.frame_tiles;
            for (int k = 0; k < m.ndst; k++) {
                uint16_t t = mc_move_dst(&m, k);
                if (kind[f][t])
                    FAIL("frame %u sends tile %u twice (once moved)", m.frame, t);
                distinct[f]++;
                kind[f][t] = 2;
            }
        }
    }
    for (int f = 0; f < MAXF; f++)
        if (said[f] && (said[f] != distinct[f] || said[f] > tiles))
            FAIL("frame %u says %u tiles and sends %u", which[f], said[f], distinct[f]);
}

/* A scroll goes out as moves, and every moved tile is exact. */
static void test_pipeline_scroll_moves(void)
{
    recorder rec;
    recorder_init(&rec);
    g_render = render_scroll;
    g_refresh_ms = 1000;
    record_stream(&rec, 60, 75, 64, 1200);
    size_t moves = count_type(&rec, MC_PT_MOVE);
    mc_verifier *v;
    mc_receiver *r = make_verifying_receiver(render_scroll, 0, &v);
    for (size_t i = 0; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    printf("scroll: %zu MOVE packets of %zu; %llu tiles moved, %llu moves failed\n", moves, rec.n,
           (unsigned long long)st.tiles_moved, (unsigned long long)st.moves_failed);
    ASSERT_TRUE(moves > 0);
    ASSERT_TRUE(st.tiles_moved > 50); /* most of 24 tiles, 25 frames of scrolling */
    assert_frames_consistent(&rec, st.tiles);
    ASSERT_EQ_INT(st.bad_tile + st.bad_field, 0);
    ASSERT_EQ_INT(st.moves_failed, 0);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    assert_all_tiles_exact(v, st.tiles_moved);
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
    g_render = render;
    g_refresh_ms = 200;
}

/* A viewer that lost a source tile's version cannot apply the moves that
 * read it: they are lost like packets (counted, the tiles stay behind),
 * never shown with wrong pixels, and the picture still converges (the
 * refresh). With random loss on top and the MOVE packets shuffled. */
static void test_pipeline_moves_under_loss(void)
{
    recorder rec;
    recorder_init(&rec);
    g_render = render_scroll;
    g_refresh_ms = 1000;
    g_fec_percent = 0; /* so a loss stays a loss */
    record_stream(&rec, 120, 75, 64, 1200);
    g_fec_percent = 20;
    /* Drop every VIDEO fragment of one tile's versions during the scroll
     * (tile 7, a source of the tiles below it), and every MOVE packet of
     * one scroll frame (the second that has moves): the tiles moved then
     * never get that version, so the next frame's moves, which read it,
     * cannot be applied. Then 3 % of the rest at random. */
    uint32_t first_move = 0;
    for (size_t i = 0; i < rec.n && !first_move; i++) {
        mc_move mv;
        if (rec.pkt[i][3] == MC_PT_MOVE && !mc_wire_parse_move(rec.pkt[i], rec.len[i], &mv))
            first_move = mv.version;
    }
    ASSERT_TRUE(first_move > 0);
    uint8_t *drop = calloc(rec.n, 1);
    size_t first_announce = rec.n;
    for (size_t i = 0; i < rec.n; i++) {
        mc_hdr h;
        mc_video vv;
        if (rec.pkt[i][3] == MC_PT_ANNOUNCE && first_announce == rec.n)
            first_announce = i;
        size_t off = 0;
        if (rec.pkt[i][3] == MC_PT_VIDEO && !mc_wire_parse_header(rec.pkt[i], rec.len[i], &h) &&
            mc_wire_parse_video(rec.pkt[i], rec.len[i], &vv) > 0)
            while (mc_wire_video_record(rec.pkt[i], rec.len[i], &off, &vv))
                if (vv.tile == 7 && vv.version >= 5 && vv.version <= SCROLL_END &&
                    vv.frame <= SCROLL_END + 2)
                    drop[i] = 1;
        mc_move mv;
        if (rec.pkt[i][3] == MC_PT_MOVE && !mc_wire_parse_move(rec.pkt[i], rec.len[i], &mv) &&
            mv.version == first_move + 1)
            drop[i] = 1;
        if (!drop[i] && i != first_announce && test_rand_below(100) < 3)
            drop[i] = 1;
    }
    mc_verifier *v;
    mc_receiver *r = make_verifying_receiver(render_scroll, 0, &v);
    for (size_t i = 0; i < rec.n; i++)
        if (!drop[i])
            mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    printf("moves under loss: %llu tiles moved, %llu moves failed, %llu tiles wrong\n",
           (unsigned long long)st.tiles_moved, (unsigned long long)st.moves_failed, 0ull);
    ASSERT_TRUE(st.moves_failed > 0); /* the moves that read tile 7 */
    ASSERT_TRUE(st.tiles_moved > 0);
    mc_verify_result res;
    mc_verifier_result(v, &res);
    ASSERT_EQ_INT(res.wrong, 0); /* no move ever produced a wrong tile */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_EQ_INT(st.tiles_behind, 0); /* the refresh brought the lost ones */
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
    free(drop);
    g_render = render;
    g_refresh_ms = 200;
}

int main(void)
{
    test_limit_seconds(120);
    test_seed_init();
    RUN(test_pipeline_clean);
    RUN(test_pipeline_loss_dup_reorder);
    RUN(test_pipeline_late_join);
    RUN(test_pipeline_mtu);
    RUN(test_verifier_catches_wrong_tiles);
    RUN(test_pipeline_signed_against_forgery);
    RUN(test_pipeline_sealed);
    RUN(test_pipeline_fec_recovers_every_block);
    RUN(test_pipeline_threaded_decoders);
    RUN(test_pipeline_scroll_moves);
    RUN(test_pipeline_moves_under_loss);
    return 0;
}
