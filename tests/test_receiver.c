/* Receiver robustness: every kind of bad packet is counted and dropped,
 * sessions are followed correctly, and random input never crashes it. */
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/receiver.h"
#include "mc/sender.h"
#include "mc/status.h"
#include "mc/testsrc.h"
#include "mc/verify.h"
#include "mc/wire.h"
#include "test.h"
#include "test_util.h"
#ifdef _WIN32
#include <windows.h>
#include <psapi.h>
#endif

#define W 256
#define H 128

static recorder rec;
static const mc_signing_key *g_key;
static int g_still; /* every frame the same picture */

static void record(int frames, uint32_t first_frame_pattern)
{
    mc_sender_config sc;
    mc_sender_config_default(&sc);
    sc.width = W;
    sc.height = H;
    sc.max_bitrate_mbit = 10000;
    sc.sink = recorder_sink;
    sc.sink_ctx = &rec;
    sc.key = g_key;
    mc_sender *s;
    ASSERT_EQ_INT(mc_sender_create(&sc, &s), 0);
    static uint8_t pic[W * H * 4];
    uint64_t t0 = mc_now_us(); /* a 30 fps capture clock: the refresh follows it */
    for (int f = 0; f < frames; f++) {
        mc_testsrc_render(pic, W * 4, W, H, first_frame_pattern + (g_still ? 0 : (uint32_t)f));
        ASSERT_EQ_INT(mc_sender_submit(s, pic, W * 4, t0 + (uint64_t)f * 33333u), 0);
    }
    mc_sender_flush(s);
    mc_sender_destroy(s);
}

static mc_receiver *make(void)
{
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = 0;
    mc_receiver *r;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
    return r;
}

/* Index of the first packet of a type in the recording. */
static size_t find(int type, size_t from)
{
    for (size_t i = from; i < rec.n; i++)
        if (rec.len[i] >= MC_HDR_BYTES && rec.pkt[i][3] == type)
            return i;
    FAIL("no packet of type %d", type);
}

static void test_receiver_counts_each_bad_packet(void)
{
    recorder_init(&rec);
    record(3, 1);
    mc_receiver *r = make();
    size_t a = find(MC_PT_ANNOUNCE, 0), v = find(MC_PT_VIDEO, 0);
    uint8_t p[2048];
    mc_receiver_stats st;

    memcpy(p, rec.pkt[v], rec.len[v]);
    ASSERT_TRUE(mc_receiver_feed(r, p, rec.len[v], mc_now_us()) < 0); /* before any announce */
    ASSERT_EQ_INT(mc_receiver_feed(r, rec.pkt[a], rec.len[a], mc_now_us()), 0);

    p[0] = 'X';
    ASSERT_EQ_INT(mc_receiver_feed(r, p, rec.len[v], mc_now_us()), MC_EMAGIC);
    p[0] = 'M';
    p[2] = 9;
    ASSERT_EQ_INT(mc_receiver_feed(r, p, rec.len[v], mc_now_us()), MC_EVERSION);
    p[2] = MC_WIRE_VERSION;
    p[4] ^= 0xFF; /* another session id */
    ASSERT_TRUE(mc_receiver_feed(r, p, rec.len[v], mc_now_us()) < 0);
    p[4] ^= 0xFF;
    const size_t rec0 = MC_HDR_BYTES + MC_VIDEO_HDR_BYTES; /* the first fragment record */
    p[rec0 + 4] = 0xFF; /* tile index far outside the grid */
    ASSERT_EQ_INT(mc_receiver_feed(r, p, rec.len[v], mc_now_us()), MC_EFIELD);
    memcpy(p, rec.pkt[v], rec.len[v]);
    p[rec0 + 8] = 0x7F; /* fragment count impossible */
    ASSERT_TRUE(mc_receiver_feed(r, p, rec.len[v], mc_now_us()) < 0);
    memcpy(p, rec.pkt[v], rec.len[v]);
    p[rec0 + 10] = 0x7F; /* tile_bytes larger than announced */
    ASSERT_TRUE(mc_receiver_feed(r, p, rec.len[v], mc_now_us()) < 0);
    ASSERT_TRUE(mc_receiver_feed(r, p, 5, mc_now_us()) < 0); /* truncated */
    p[3] = 77;
    ASSERT_TRUE(mc_receiver_feed(r, p, rec.len[v], mc_now_us()) < 0); /* unknown type */

    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.no_announce, 1);
    ASSERT_EQ_INT(st.bad_version, 1);
    ASSERT_EQ_INT(st.foreign_session, 1);
    ASSERT_TRUE(st.bad_magic >= 2);
    ASSERT_TRUE(st.bad_tile + st.bad_field >= 3);
    ASSERT_EQ_INT(st.bad_type, 1);
    ASSERT_EQ_INT(st.tiles_complete, 0); /* nothing bad reached a tile */
    ASSERT_EQ_INT(st.state, MC_RX_LIVE);
    mc_receiver_destroy(r);
    recorder_free(&rec);
}

static void test_receiver_follows_restarted_sender(void)
{
    recorder_init(&rec);
    record(4, 1);
    size_t first_session_packets = rec.n;
    record(4, 100); /* a new sender: new session id, other picture */
    mc_receiver *r = make();
    uint64_t t = 1000000;
    mc_receiver_stats st;
    for (size_t i = 0; i < first_session_packets; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], t);
    mc_receiver_get_stats(r, &st);
    uint32_t s1 = st.session;
    ASSERT_EQ_INT(st.state, MC_RX_ENDED); /* its BYE arrived */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    for (size_t i = first_session_packets; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], t + 1000);
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(st.session != s1);
    ASSERT_EQ_INT(st.sessions, 2);
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    mc_receiver_destroy(r);
    recorder_free(&rec);
}

/* Two senders on one group: stay with the first while it is alive; follow
 * the second once the first has been silent (killed without BYE). */
static void test_receiver_ignores_second_sender_while_live(void)
{
    recorder_init(&rec);
    record(4, 1);
    size_t n1 = rec.n - 3; /* drop the BYEs: sender 1 was killed */
    record(4, 50);
    size_t a2 = find(MC_PT_ANNOUNCE, rec.n - 1 > n1 + 3 ? n1 + 3 : n1);
    mc_receiver *r = make();
    mc_receiver_stats st;
    uint64_t t = 5000000;
    for (size_t i = 0; i < n1; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], t);
    mc_receiver_get_stats(r, &st);
    uint32_t s1 = st.session;
    ASSERT_EQ_INT(st.state, MC_RX_LIVE);
    ASSERT_TRUE(mc_receiver_feed(r, rec.pkt[a2], rec.len[a2], t + 100000) < 0);
    mc_receiver_get_stats(r, &st);
    ASSERT_EQ_INT(st.session, s1);
    ASSERT_EQ_INT(mc_receiver_feed(r, rec.pkt[a2], rec.len[a2], t + 600000), 0);
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(st.session != s1);
    ASSERT_EQ_INT(st.tiles_held, 0); /* the old picture is gone, not mixed in */
    mc_receiver_destroy(r);
    recorder_free(&rec);
}

/* Random bytes, and real packets with random fields overwritten, fed in
 * bulk: no crash (ASan/UBSan watch), and the next real broadcast (a new
 * session after the garbage stops) gives the full picture. */
static void test_receiver_survives_garbage(void)
{
    recorder_init(&rec);
    record(6, 1);
    mc_receiver *r = make();
    uint8_t p[2048];
    size_t a = find(MC_PT_ANNOUNCE, 0);
    mc_receiver_feed(r, rec.pkt[a], rec.len[a], mc_now_us());
    for (int i = 0; i < 100000; i++) {
        size_t k = test_rand_below((uint32_t)rec.n), len = rec.len[k];
        memcpy(p, rec.pkt[k], len);
        int mode = (int)test_rand_below(3);
        if (mode == 0) { /* pure noise */
            len = test_rand_below(sizeof(p));
            for (size_t j = 0; j < len; j++)
                p[j] = (uint8_t)test_rand();
        } else { /* a few corrupted bytes, mostly in the headers */
            for (int j = 0; j < 1 + mode; j++)
                p[test_rand_below(mode == 1 ? 64 : (uint32_t)len)] = (uint8_t)test_rand();
            if (test_rand_below(4) == 0)
                len = test_rand_below((uint32_t)len + 1);
        }
        mc_receiver_feed(r, p, len, mc_now_us());
    }
    size_t old = rec.n;
    record(6, 1);
    uint64_t later = mc_now_us() + 1000000;
    for (size_t i = old; i < rec.n; i++)
        mc_receiver_feed(r, rec.pkt[i], rec.len[i], later);
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    ASSERT_TRUE(st.tiles > 0);
    ASSERT_EQ_INT(st.width, W); /* the real announce restored the geometry */
    ASSERT_EQ_INT(st.tiles_held, st.tiles);
    ASSERT_TRUE(st.bad_magic + st.bad_field + st.bad_tile + st.bad_version + st.bad_type > 1000);
    mc_receiver_destroy(r);
    recorder_free(&rec);
}

#ifdef _WIN32
static long rss_kb(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    return K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc))
               ? (long)(pmc.WorkingSetSize / 1024) : 0;
}
#else
static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}
#endif

static void render_still(uint8_t *dst, int pitch, int w, int h, uint32_t frame)
{
    (void)frame;
    mc_testsrc_render(dst, pitch, w, h, 1);
}

/* A flood of datagrams that look valid (the real session, VIDEO packets for
 * random frames, tiles and fragment counts, random bytes) and pure noise:
 * 200,000 over 10 simulated seconds, with the real stream spread among
 * them, dozens of forgeries for each real packet. Memory stays bounded
 * and, with signatures required, the picture is exactly the teacher's.
 * Without signatures memory is bounded too (the picture is not: that is
 * what signing is for). */
static void flood(int require_signed)
{
    mc_signing_key key;
    ASSERT_EQ_INT(mc_key_generate(&key), 0);
    g_key = require_signed ? &key : NULL;
    recorder_init(&rec);
    g_still = 1;
    record(600, 1); /* 20 s of a still picture: the rolling refresh goes on */
    g_still = 0;
    g_key = NULL;
    mc_verifier *v;
    ASSERT_EQ_INT(mc_verifier_create(render_still, &v), 0);
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = 0;
    rc.require_signed = require_signed;
    rc.on_tile = require_signed ? mc_verifier_on_tile : NULL;
    rc.cb_ctx = v;
    mc_receiver *r;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &r), 0);
    long rss0 = rss_kb(), peak = rss0;
    uint64_t now = 1000000;
    uint8_t p[1400], data[1200];
    uint32_t session = 0, frame = 1;
    size_t k = 0;
    long forged = 0;
    const long total = 200000; /* forgeries, 50 us apart: 10 s; the real stream spread over them */
    long per_real = total / (long)rec.n + 1;
    for (int step = 0; k < rec.n; step++) {
        if (rec.pkt[k][3] != MC_PT_MANIFEST && rec.len[k] >= MC_HDR_BYTES) {
            mc_hdr h;
            if (!mc_wire_parse_header(rec.pkt[k], rec.len[k], &h) && h.type == MC_PT_VIDEO) {
                session = h.session;
                mc_video vv;
                if (mc_wire_parse_video(rec.pkt[k], rec.len[k], &vv) > 0)
                    frame = vv.frame;
            }
        }
        mc_receiver_feed(r, rec.pkt[k], rec.len[k], now);
        k++;
        for (long i = 0; i < per_real; i++, forged++) {
            now += 50;
            size_t len;
            if (test_rand_below(4) == 0) {
                len = test_rand_below(sizeof(p));
                for (size_t j = 0; j < len; j++)
                    p[j] = (uint8_t)test_rand();
            } else {
                for (size_t j = 0; j < sizeof(data); j++)
                    data[j] = (uint8_t)test_rand();
                uint16_t fc = (uint16_t)(1 + test_rand_below(MC_MAX_FRAGS));
                mc_hdr h = {.type = MC_PT_VIDEO, .session = session,
                            .seq = (uint32_t)test_rand(), .ts_us = now};
                mc_video vv = {.frame = frame + 8,
                               .version = frame + 8 - test_rand_below(8),
                               .tile = (uint16_t)test_rand_below(W / 64 * H / 64),
                               .frame_tiles = (uint16_t)(1 + test_rand_below(8)),
                               .frag = (uint16_t)test_rand_below(fc), .frag_count = fc,
                               .tile_bytes = 1000u * fc, .data = data,
                               .codec = (uint8_t)(1 + test_rand_below(MC_CODEC_COUNT)),
                               .len = 1 + test_rand_below(1000)};
                vv.offset = 1000u * vv.frag;
                int n = mc_wire_write_video(p, sizeof(p), &h, &vv);
                len = n > 0 ? (size_t)n : 0;
            }
            mc_receiver_feed(r, p, len, now);
        }
        if (step % 1000 == 0) {
            long cur = rss_kb();
            peak = cur > peak ? cur : peak;
        }
    }
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    printf("  %s: %ld forged datagrams over %.0f s; memory +%ld KB at most; held %d (%zu bytes); expired %llu, evicted %llu\n",
           require_signed ? "signed" : "unsigned", forged, (double)(now - 1000000) / 1e6,
           peak - rss0, st.auth.pending, st.auth.pending_bytes, (unsigned long long)st.auth.unverified, (unsigned long long)st.auth.evicted);
    ASSERT_TRUE(forged > 100000);
#if !defined(__SANITIZE_ADDRESS__) /* ASan keeps freed memory in quarantine */
    ASSERT_TRUE(peak - rss0 < 64 * 1024); /* tile buffers + the 8 MiB holding area */
#endif
    if (require_signed) {
        ASSERT_EQ_INT(st.tiles_held, st.tiles);
        ASSERT_TRUE(st.auth.unverified + st.auth.evicted > 100000);
        ASSERT_TRUE(st.auth.pending_bytes <= MC_AUTH_PENDING_BYTES);
        mc_verify_result res;
        mc_verifier_result(v, &res);
        ASSERT_EQ_INT(res.wrong, 0);
        ASSERT_TRUE(res.checked >= (uint64_t)st.tiles);
    }
    mc_receiver_destroy(r);
    mc_verifier_destroy(v);
    recorder_free(&rec);
}

static void test_receiver_flood_signed(void) { flood(1); }
static void test_receiver_flood_unsigned(void) { flood(0); }

/* mc_receiver_reset gives what a fresh receiver gives: the same stream fed
 * to a fresh one and to one reset after another session (other picture
 * size, sound, garbage) yields the same figures and the same picture. */
static void test_receiver_reset_is_fresh(void)
{
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = 0;
    rc.audio = MC_AUDIO_OUT_APP;
    mc_receiver *fresh, *used;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &fresh), 0);
    ASSERT_EQ_INT(mc_receiver_create(&rc, &used), 0);
    /* Something else first: a stream of another size, and noise. */
    recorder other;
    recorder_init(&other);
    mc_sender_config sc;
    mc_sender_config_default(&sc);
    sc.width = 160;
    sc.height = 96;
    sc.max_bitrate_mbit = 10000;
    sc.sink = recorder_sink;
    sc.sink_ctx = &other;
    mc_sender *s;
    ASSERT_EQ_INT(mc_sender_create(&sc, &s), 0);
    static uint8_t pic[160 * 96 * 4];
    for (int f = 0; f < 5; f++) {
        mc_testsrc_render(pic, 160 * 4, 160, 96, (uint32_t)f * 7);
        ASSERT_EQ_INT(mc_sender_submit(s, pic, 160 * 4, mc_now_us()), 0);
    }
    mc_sender_flush(s);
    mc_sender_destroy(s);
    for (size_t i = 0; i < other.n; i++)
        mc_receiver_feed(used, other.pkt[i], other.len[i], 1000 + i);
    uint8_t junk[300];
    for (int i = 0; i < 200; i++) {
        for (size_t j = 0; j < sizeof(junk); j++)
            junk[j] = (uint8_t)test_rand();
        mc_receiver_feed(used, junk, sizeof(junk), 2000);
    }
    recorder_free(&other);
    ASSERT_EQ_INT(mc_receiver_reset(used), 0);
    mc_receiver_stats a, b;
    mc_receiver_get_stats(used, &b);
    ASSERT_TRUE(b.state == MC_RX_WAITING && b.packets == 0 && b.sessions == 0 && b.tiles == 0);
    /* Then the same stream to both. */
    recorder_init(&rec);
    record(8, 3);
    for (size_t i = 0; i < rec.n; i++) {
        mc_receiver_feed(fresh, rec.pkt[i], rec.len[i], 5000 + i);
        mc_receiver_feed(used, rec.pkt[i], rec.len[i], 5000 + i);
    }
    mc_receiver_get_stats(fresh, &a);
    mc_receiver_get_stats(used, &b);
    ASSERT_TRUE(a.tiles_held == a.tiles && a.tiles > 0);
    ASSERT_TRUE(a.state == b.state && a.tiles == b.tiles && a.tiles_held == b.tiles_held &&
                a.packets == b.packets && a.tiles_complete == b.tiles_complete &&
                a.tiles_decoded == b.tiles_decoded && a.frames_complete == b.frames_complete &&
                a.expected == b.expected && a.received == b.received &&
                a.fec_recovered == b.fec_recovered && a.bad_field == b.bad_field);
    mc_picture pa, pb;
    mc_receiver_lock_picture(fresh, &pa);
    mc_receiver_lock_picture(used, &pb);
    ASSERT_TRUE(pa.width == pb.width && pa.height == pb.height &&
                !memcmp(pa.pixels, pb.pixels, (size_t)pa.pitch * pa.height));
    mc_receiver_unlock_picture(used);
    mc_receiver_unlock_picture(fresh);
    mc_receiver_destroy(fresh);
    mc_receiver_destroy(used);
    recorder_free(&rec);
    /* A receiver with a socket or threads cannot be reset. */
    rc.threads = 1;
    ASSERT_EQ_INT(mc_receiver_create(&rc, &fresh), 0);
    ASSERT_EQ_INT(mc_receiver_reset(fresh), MC_ESTATE);
    mc_receiver_destroy(fresh);
}

/* A broadcast of another protocol version is named as such, not "waiting". */
static void test_receiver_says_other_version(void)
{
    recorder_init(&rec);
    record(2, 1);
    for (int other = 1; other <= 3; other += 2) {
        mc_receiver *r = make();
        mc_status status;
        mc_status_init(&status);
        uint64_t now = mc_now_us();
        for (size_t i = 0; i < rec.n; i++) {
            uint8_t p[2048];
            memcpy(p, rec.pkt[i], rec.len[i]);
            p[2] = (uint8_t)other;
            ASSERT_EQ_INT(mc_receiver_feed(r, p, rec.len[i], now), MC_EVERSION);
        }
        mc_receiver_stats st;
        mc_receiver_get_stats(r, &st);
        ASSERT_EQ_INT(st.wire_version_seen, other);
        ASSERT_EQ_INT(st.state, MC_RX_WAITING);
        char text[256];
        mc_status_update(&status, &st, now);
        mc_status_text(&status, &st, "239.1.1.1", 5004, now, text, sizeof(text));
        printf("  version %d: %s\n", other, text);
        ASSERT_TRUE(strstr(text, other > MC_WIRE_VERSION ? "needs a newer mcview" : "older mcshare"));
        /* Three seconds later, with nothing more of it, it is "waiting" again. */
        mc_status_update(&status, &st, now + MC_STATUS_RECENT_US + 1);
        mc_status_text(&status, &st, "239.1.1.1", 5004, now + MC_STATUS_RECENT_US + 1, text, sizeof(text));
        ASSERT_TRUE(strstr(text, "Waiting"));
        mc_receiver_destroy(r);
    }
    recorder_free(&rec);
}

int main(void)
{
    test_limit_seconds(120);
    test_seed_init();
    RUN(test_receiver_counts_each_bad_packet);
    RUN(test_receiver_says_other_version);
    RUN(test_receiver_reset_is_fresh);
    RUN(test_receiver_follows_restarted_sender);
    RUN(test_receiver_ignores_second_sender_while_live);
    RUN(test_receiver_survives_garbage);
    RUN(test_receiver_flood_signed);
    RUN(test_receiver_flood_unsigned);
    return 0;
}
