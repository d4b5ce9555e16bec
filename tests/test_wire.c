/* Wire format: round trips, rejection of every malformed field, and
 * wrap-safe sequence comparison. */
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/net.h"
#include "mc/wire.h"
#include "test.h"

static const uint8_t jparams[40] = {1, 75, 8, 6, 6};
static const uint8_t lparams[1] = {1};

static mc_announce good_announce(void)
{
    mc_announce a = {.width = 1920, .height = 1080, .tile = 64, .cols = 30, .rows = 17,
                     .fps = 30, .refresh_ms = 5000, .max_tile_bytes = 30000, .frame = 77,
                     .ctrl_port = 5005, .mtu = 1200, .ncodecs = 2};
    a.codecs[0].id = MC_CODEC_JPEG;
    a.codecs[0].len = sizeof(jparams);
    a.codecs[0].params = jparams;
    a.codecs[1].id = MC_CODEC_LOSSLESS;
    a.codecs[1].len = sizeof(lparams);
    a.codecs[1].params = lparams;
    return a;
}

static mc_video good_video(const uint8_t *data)
{
    return (mc_video){.frame = 10, .version = 9, .tile = 5, .frame_tiles = 12, .frag = 1,
                      .frag_count = 3, .tile_bytes = 2500, .offset = 1000,
                      .codec = MC_CODEC_LOSSLESS, .data = data, .len = 1000};
}

static void test_wire_header_roundtrip(void)
{
    uint8_t buf[64];
    mc_hdr h = {.type = MC_PT_BYE, .session = 0xDEADBEEF, .seq = 0xFFFFFFFF,
                .ts_us = 0x0123456789ABCDEFull}, g;
    ASSERT_EQ_INT(mc_wire_write_header(buf, sizeof(buf), &h), MC_HDR_BYTES);
    ASSERT_EQ_INT(buf[0], 'M');
    ASSERT_EQ_INT(buf[1], 'C');
    ASSERT_EQ_INT(buf[12], 0x01); /* big-endian timestamp */
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), 0);
    ASSERT_EQ_INT(g.type, h.type);
    ASSERT_TRUE(g.session == h.session && g.seq == h.seq && g.ts_us == h.ts_us);
    ASSERT_EQ_INT(mc_wire_write_header(buf, MC_HDR_BYTES - 1, &h), MC_ETOOBIG);
}

static void test_wire_header_rejects(void)
{
    uint8_t buf[64];
    mc_hdr h = {.type = MC_PT_VIDEO, .session = 1, .seq = 2, .ts_us = 3}, g;
    mc_wire_write_header(buf, sizeof(buf), &h);
    for (size_t n = 0; n < MC_HDR_BYTES; n++)
        ASSERT_TRUE(mc_wire_parse_header(buf, n, &g) < 0); /* every truncation */
    buf[0] = 'X';
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EMAGIC);
    buf[0] = 'M';
    buf[2] = 1; /* version 1: an older mcshare */
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EVERSION);
    ASSERT_EQ_INT(mc_wire_peek_version(buf, MC_HDR_BYTES), 1);
    buf[2] = 3;
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EVERSION);
    ASSERT_EQ_INT(mc_wire_peek_version(buf, 3), 0); /* too short to tell */
    buf[0] = 'X';
    ASSERT_EQ_INT(mc_wire_peek_version(buf, MC_HDR_BYTES), 0); /* not ours */
    buf[0] = 'M';
    buf[2] = MC_WIRE_VERSION;
    buf[3] = 0;
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EFIELD);
    buf[3] = 99;
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EFIELD);
}

static void test_wire_video_roundtrip(void)
{
    uint8_t data[1000], buf[1200];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)i;
    mc_hdr h = {.type = MC_PT_VIDEO, .session = 7, .seq = 8, .ts_us = 9};
    mc_video v = good_video(data), g;
    int n = mc_wire_write_video(buf, sizeof(buf), &h, &v);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_VIDEO_HDR_BYTES + MC_VIDEO_REC_BYTES + 1000);
    ASSERT_EQ_INT(mc_wire_parse_video(buf, (size_t)n, &g), 1);
    ASSERT_TRUE(g.frame == 10 && g.version == 9 && g.tile == 5 && g.frame_tiles == 12);
    ASSERT_TRUE(g.frag == 1 && g.frag_count == 3 && g.tile_bytes == 2500 && g.offset == 1000);
    ASSERT_EQ_INT(g.codec, MC_CODEC_LOSSLESS);
    ASSERT_EQ_INT(g.len, 1000);
    ASSERT_TRUE(memcmp(g.data, data, 1000) == 0);
    ASSERT_EQ_INT(mc_wire_write_video(buf, (size_t)n - 1, &h, &v), MC_ETOOBIG);
}

/* Several tiles in one datagram: whole small ones and a piece of a big one,
 * read back in order; a datagram is refused whole if any record is bad. */
static void test_wire_video_packed(void)
{
    uint8_t data[600], buf[1200];
    for (int i = 0; i < 600; i++)
        data[i] = (uint8_t)(i * 7);
    mc_hdr h = {.type = MC_PT_VIDEO, .session = 7, .seq = 8, .ts_us = 9};
    int n = mc_wire_video_begin(buf, sizeof(buf), &h, 40, 30);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_VIDEO_HDR_BYTES);
    size_t used = (size_t)n;
    for (int t = 0; t < 3; t++) {
        mc_video v = {.frame = 40, .version = 38 + (uint32_t)t % 2, .tile = (uint16_t)(t * 10),
                      .frame_tiles = 30, .frag = 0, .frag_count = 1, .tile_bytes = 4,
                      .codec = MC_CODEC_LOSSLESS, .data = data + t * 4, .len = 4};
        ASSERT_EQ_INT(mc_wire_video_add(buf, sizeof(buf), &used, &v), 0);
    }
    mc_video big = {.frame = 40, .version = 40, .tile = 99, .frame_tiles = 30, .frag = 2,
                    .frag_count = 4, .tile_bytes = 3000, .offset = 1500, .codec = MC_CODEC_JPEG,
                    .data = data, .len = 600};
    ASSERT_EQ_INT(mc_wire_video_add(buf, sizeof(buf), &used, &big), 0);
    ASSERT_EQ_INT(mc_wire_video_add(buf, sizeof(buf), &used, &big), MC_ETOOBIG); /* full */
    ASSERT_EQ_INT(mc_wire_parse_video(buf, used, &big), 4);
    size_t off = 0;
    mc_video g;
    int k = 0;
    while (mc_wire_video_record(buf, used, &off, &g)) {
        ASSERT_TRUE(g.frame == 40 && g.frame_tiles == 30);
        if (k < 3)
            ASSERT_TRUE(g.tile == k * 10 && g.len == 4 && !memcmp(g.data, data + k * 4, 4));
        else
            ASSERT_TRUE(g.tile == 99 && g.offset == 1500 && g.len == 600 && g.codec == MC_CODEC_JPEG);
        k++;
    }
    ASSERT_EQ_INT(k, 4);
    for (size_t cut = 0; cut < used; cut++) /* every truncation */
        ASSERT_TRUE(mc_wire_parse_video(buf, cut, &g) < 0);
    ASSERT_TRUE(mc_wire_parse_video(buf, used + 1, &g) < 0);
    /* The count says 5 but there are 4; says 0; the third record's codec bad. */
    buf[MC_HDR_BYTES + 6] = 5;
    ASSERT_TRUE(mc_wire_parse_video(buf, used, &g) < 0);
    buf[MC_HDR_BYTES + 6] = 0;
    ASSERT_TRUE(mc_wire_parse_video(buf, used, &g) < 0);
    buf[MC_HDR_BYTES + 6] = 4;
    size_t third = MC_HDR_BYTES + MC_VIDEO_HDR_BYTES + 2 * (MC_VIDEO_REC_BYTES + 4);
    buf[third + 18] = 9;
    ASSERT_TRUE(mc_wire_parse_video(buf, used, &g) < 0);
    /* A record of another frame's fields cannot be added (frame 41's
     * version into frame 40) */
    mc_video later = big;
    later.version = 41;
    used = (size_t)mc_wire_video_begin(buf, sizeof(buf), &h, 40, 30);
    ASSERT_EQ_INT(mc_wire_video_add(buf, sizeof(buf), &used, &later), MC_EFIELD);
}

/* Writes a valid fragment, lets `mutate` break one field in the host
 * struct, re-encodes the bytes by hand and expects the parser to refuse. */
static void expect_video_rejected(void (*mutate)(mc_video *), const char *what)
{
    uint8_t data[1000] = {0}, buf[1200];
    mc_hdr h = {.type = MC_PT_VIDEO, .session = 7, .seq = 8, .ts_us = 9};
    mc_video v = good_video(data), g;
    int n = mc_wire_write_video(buf, sizeof(buf), &h, &v);
    mutate(&v);
    /* Patch the raw fields (big-endian) the way a forger would. */
    uint8_t *p = buf + MC_HDR_BYTES, *r = p + MC_VIDEO_HDR_BYTES;
    for (int b = 0; b < 4; b++) {
        p[b] = (uint8_t)(v.frame >> (24 - 8 * b));
        r[b] = (uint8_t)(v.version >> (24 - 8 * b));
        r[10 + b] = (uint8_t)(v.tile_bytes >> (24 - 8 * b));
        r[14 + b] = (uint8_t)(v.offset >> (24 - 8 * b));
    }
    p[4] = (uint8_t)(v.frame_tiles >> 8);
    p[5] = (uint8_t)v.frame_tiles;
    uint16_t f16[] = {v.tile, v.frag, v.frag_count};
    for (int i = 0; i < 3; i++) {
        r[4 + i * 2] = (uint8_t)(f16[i] >> 8);
        r[5 + i * 2] = (uint8_t)f16[i];
    }
    r[18] = v.codec;
    r[19] = v.flags;
    r[20] = (uint8_t)(v.len >> 8);
    r[21] = (uint8_t)v.len;
    size_t len = (size_t)n - 1000 + v.len;
    if (mc_wire_parse_video(buf, len, &g) >= 0)
        FAIL("accepted a fragment with %s", what);
}

static void m_frag_ge_count(mc_video *v) { v->frag = 3; }
static void m_count_zero(mc_video *v) { v->frag_count = 0; v->frag = 0; }
static void m_count_huge(mc_video *v) { v->frag_count = MC_MAX_FRAGS + 1; }
static void m_frame_tiles_zero(mc_video *v) { v->frame_tiles = 0; }
static void m_tile_bytes_zero(mc_video *v) { v->tile_bytes = 0; }
static void m_tile_bytes_huge(mc_video *v) { v->tile_bytes = MC_MAX_TILE_BYTES + 1; }
static void m_offset_past_end(mc_video *v) { v->offset = 2500; }
static void m_len_past_end(mc_video *v) { v->offset = 1501; }
static void m_version_after_frame(mc_video *v) { v->version = 11; }
static void m_empty(mc_video *v) { v->len = 0; }
static void m_codec_zero(mc_video *v) { v->codec = 0; }
static void m_codec_unknown(mc_video *v) { v->codec = MC_CODEC_COUNT + 1; }
static void m_flags(mc_video *v) { v->flags = 1; }

static void test_wire_video_rejects(void)
{
    expect_video_rejected(m_frag_ge_count, "frag >= frag_count");
    expect_video_rejected(m_count_zero, "frag_count 0");
    expect_video_rejected(m_count_huge, "frag_count > MC_MAX_FRAGS");
    expect_video_rejected(m_frame_tiles_zero, "frame_tiles 0");
    expect_video_rejected(m_tile_bytes_zero, "tile_bytes 0");
    expect_video_rejected(m_tile_bytes_huge, "tile_bytes too large");
    expect_video_rejected(m_offset_past_end, "offset past the tile");
    expect_video_rejected(m_len_past_end, "data past the tile");
    expect_video_rejected(m_version_after_frame, "a version newer than its frame");
    expect_video_rejected(m_empty, "no data");
    expect_video_rejected(m_codec_zero, "codec 0");
    expect_video_rejected(m_codec_unknown, "an unknown codec");
    expect_video_rejected(m_flags, "unknown flags");
}

static void test_wire_announce_roundtrip(void)
{
    uint8_t buf[1200];
    mc_hdr h = {.type = MC_PT_ANNOUNCE, .session = 1, .seq = 2, .ts_us = 3};
    mc_announce a = good_announce(), g;
    int n = mc_wire_write_announce(buf, sizeof(buf), &h, &a);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_ANNOUNCE_FIXED_BYTES + 2 + (int)sizeof(jparams) + 2 +
                         (int)sizeof(lparams));
    ASSERT_EQ_INT(mc_wire_parse_announce(buf, (size_t)n, &g), 0);
    ASSERT_TRUE(g.width == 1920 && g.height == 1080 && g.tile == 64 && g.cols == 30 &&
                g.rows == 17 && g.fps == 30 && g.refresh_ms == 5000 &&
                g.max_tile_bytes == 30000 && g.frame == 77 && g.ctrl_port == 5005 && g.mtu == 1200);
    ASSERT_EQ_INT(g.ncodecs, 2);
    ASSERT_EQ_INT(g.codecs[0].id, MC_CODEC_JPEG);
    ASSERT_EQ_INT(g.codecs[0].len, sizeof(jparams));
    ASSERT_TRUE(memcmp(g.codecs[0].params, jparams, sizeof(jparams)) == 0);
    ASSERT_EQ_INT(g.codecs[1].id, MC_CODEC_LOSSLESS);
    ASSERT_EQ_INT(g.codecs[1].params[0], 1);
    for (int k = 0; k < n; k++) /* every truncation is refused */
        ASSERT_TRUE(mc_wire_parse_announce(buf, (size_t)k, &g) < 0);
    ASSERT_TRUE(mc_wire_parse_announce(buf, (size_t)n + 1, &g) < 0); /* and a trailing byte */
    /* An unknown codec's block is carried (a receiver ignores it). */
    a.codecs[1].id = 200;
    n = mc_wire_write_announce(buf, sizeof(buf), &h, &a);
    ASSERT_EQ_INT(mc_wire_parse_announce(buf, (size_t)n, &g), 0);
    ASSERT_EQ_INT(g.codecs[1].id, 200);
    /* Two blocks for one codec, none, or too many: refused. */
    a.codecs[1].id = MC_CODEC_JPEG;
    ASSERT_TRUE(mc_wire_write_announce(buf, sizeof(buf), &h, &a) < 0);
    a = good_announce();
    a.ncodecs = 0;
    ASSERT_TRUE(mc_wire_write_announce(buf, sizeof(buf), &h, &a) < 0);
}

/* Each case builds a valid announce and patches one raw field. */
static void expect_announce_rejected(int off, int width, uint32_t value, const char *what)
{
    uint8_t buf[1200];
    mc_hdr h = {.type = MC_PT_ANNOUNCE, .session = 1, .seq = 2, .ts_us = 3};
    mc_announce a = good_announce(), g;
    int n = mc_wire_write_announce(buf, sizeof(buf), &h, &a);
    uint8_t *p = buf + MC_HDR_BYTES + off;
    for (int b = 0; b < width; b++)
        p[b] = (uint8_t)(value >> (8 * (width - 1 - b)));
    if (mc_wire_parse_announce(buf, (size_t)n, &g) == 0)
        FAIL("accepted an announce with %s", what);
}

static void test_wire_announce_rejects(void)
{
    expect_announce_rejected(0, 2, 0, "width 0");
    expect_announce_rejected(0, 2, MC_MAX_DIM + 1, "width too large");
    expect_announce_rejected(2, 2, 0, "height 0");
    expect_announce_rejected(4, 2, 12, "a tile not a multiple of 8");
    expect_announce_rejected(4, 2, 8, "a tile below the minimum");
    expect_announce_rejected(4, 2, 1024, "a tile above the maximum");
    expect_announce_rejected(6, 2, 31, "cols not matching width/tile");
    expect_announce_rejected(8, 2, 16, "rows not matching height/tile");
    expect_announce_rejected(10, 2, 0, "fps 0");
    expect_announce_rejected(10, 2, 241, "fps above 240");
    expect_announce_rejected(12, 2, 10, "a refresh period below 50 ms");
    expect_announce_rejected(14, 4, 0, "max_tile_bytes 0");
    expect_announce_rejected(14, 4, MC_MAX_TILE_BYTES + 1, "max_tile_bytes too large");
    expect_announce_rejected(24, 2, 100, "an mtu too small to be real");
    expect_announce_rejected(24, 2, MC_MAX_MTU + 1, "an mtu above the maximum");
    expect_announce_rejected(28, 1, 0, "no codec");
    expect_announce_rejected(28, 1, 3, "more codec blocks than the packet holds");
    expect_announce_rejected(28, 1, MC_MAX_CODECS + 1, "too many codecs");
    expect_announce_rejected(MC_ANNOUNCE_FIXED_BYTES + 1, 1, 200, "a block longer than the packet");
    expect_announce_rejected(MC_ANNOUNCE_FIXED_BYTES + 1, 1, 10, "a block shorter than its bytes");
}

static void test_wire_move(void)
{
    uint8_t buf[1200];
    uint16_t dst[3] = {40, 41, 70}, src[4] = {70, 71, 100, 101};
    uint32_t ver[4] = {5, 6, 7, 0xFFFFFFFFu};
    mc_hdr h = {.type = MC_PT_MOVE, .session = 1, .seq = 2, .ts_us = 3};
    mc_move m = {.frame = 9, .version = 9, .dx = -3, .dy = 64, .frame_tiles = 12, .ndst = 3,
                 .nsrc = 4}, g;
    int n = mc_wire_write_move(buf, sizeof(buf), &h, &m, dst, src, ver);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_MOVE_HDR_BYTES + 3 * 2 + 4 * 6);
    ASSERT_EQ_INT(mc_wire_parse_move(buf, (size_t)n, &g), 0);
    ASSERT_TRUE(g.frame == 9 && g.version == 9 && g.dx == -3 && g.dy == 64 &&
                g.frame_tiles == 12 && g.ndst == 3 && g.nsrc == 4);
    ASSERT_EQ_INT(mc_move_dst(&g, 2), 70);
    uint16_t t;
    uint32_t v;
    mc_move_src(&g, 3, &t, &v);
    ASSERT_TRUE(t == 101 && v == 0xFFFFFFFFu);
    for (int k = 0; k < n; k++)
        ASSERT_TRUE(mc_wire_parse_move(buf, (size_t)k, &g) < 0);
    ASSERT_TRUE(mc_wire_parse_move(buf, (size_t)n + 1, &g) < 0);
    /* Fields out of range, patched as a forger would. */
    static const struct { int off, width; uint32_t value; } bad[] = {
        {4, 4, 10},      /* a version after its frame */
        {8, 4, 0},       /* no shift at all */
        {8, 2, 0x8000},  /* dx beyond any picture */
        {12, 2, 0},      /* frame_tiles 0 */
        {14, 2, 0},      /* no destination */
        {16, 2, 0},      /* no source */
        {14, 2, 4},      /* more destinations than the packet holds */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = mc_wire_write_move(buf, sizeof(buf), &h, &m, dst, src, ver);
        uint8_t *p = buf + MC_HDR_BYTES + bad[i].off;
        for (int b = 0; b < bad[i].width; b++)
            p[b] = (uint8_t)(bad[i].value >> (8 * (bad[i].width - 1 - b)));
        if (mc_wire_parse_move(buf, (size_t)n, &g) == 0)
            FAIL("accepted bad move case %zu", i);
    }
    m.ndst = 0;
    ASSERT_TRUE(mc_wire_write_move(buf, sizeof(buf), &h, &m, dst, src, ver) < 0);
}

static void test_wire_seq_wraps(void)
{
    ASSERT_TRUE(mc_seq_lt(1, 2));
    ASSERT_TRUE(!mc_seq_lt(2, 1));
    ASSERT_TRUE(!mc_seq_lt(5, 5));
    ASSERT_TRUE(mc_seq_le(5, 5));
    ASSERT_TRUE(mc_seq_lt(0xFFFFFFF0u, 0x00000010u)); /* across the wrap */
    ASSERT_TRUE(!mc_seq_lt(0x00000010u, 0xFFFFFFF0u));
    ASSERT_EQ_INT(mc_seq_diff(0x00000002u, 0xFFFFFFFEu), 4);
    ASSERT_EQ_INT(mc_seq_diff(0xFFFFFFFEu, 0x00000002u), -4);
    ASSERT_TRUE(mc_seq_lt(0x7FFFFFFFu, 0x80000000u));
    /* A whole random sweep: a < a + d for every 0 < d < 2^31. */
    for (int i = 0; i < 100000; i++) {
        uint32_t a = (uint32_t)test_rand(), d = 1 + test_rand_below(0x7FFFFFFEu);
        if (!mc_seq_lt(a, a + d) || mc_seq_lt(a + d, a))
            FAIL("seq compare wrong for a=%u d=%u", a, d);
    }
}

static void test_parse_helpers(void)
{
    long n;
    int w, h, x, y;
    ASSERT_EQ_INT(mc_parse_long("42", 1, 100, &n), 0);
    ASSERT_EQ_INT(n, 42);
    ASSERT_TRUE(mc_parse_long("42x", 1, 100, &n) < 0);
    ASSERT_TRUE(mc_parse_long("", 1, 100, &n) < 0);
    ASSERT_TRUE(mc_parse_long("101", 1, 100, &n) < 0);
    ASSERT_TRUE(mc_parse_long("99999999999999999999", 1, 100, &n) < 0);
    ASSERT_EQ_INT(mc_parse_size("1920x1080", 8192, &w, &h), 0);
    ASSERT_TRUE(w == 1920 && h == 1080);
    ASSERT_TRUE(mc_parse_size("0x10", 8192, &w, &h) < 0);
    ASSERT_TRUE(mc_parse_size("10x", 8192, &w, &h) < 0);
    ASSERT_TRUE(mc_parse_size("9000x10", 8192, &w, &h) < 0);
    ASSERT_EQ_INT(mc_parse_region("800x600+10+20", 8192, &w, &h, &x, &y), 0);
    ASSERT_TRUE(w == 800 && h == 600 && x == 10 && y == 20);
    ASSERT_TRUE(mc_parse_region("800x600+10", 8192, &w, &h, &x, &y) < 0);
    ASSERT_TRUE(mc_parse_region("800x600-10+20", 8192, &w, &h, &x, &y) < 0);
    char g[64];
    uint16_t port = 5004;
    ASSERT_EQ_INT(mc_parse_endpoint("239.1.2.3", g, sizeof(g), &port), 0);
    ASSERT_TRUE(strcmp(g, "239.1.2.3") == 0 && port == 5004);
    ASSERT_EQ_INT(mc_parse_endpoint("239.1.2.3:6000", g, sizeof(g), &port), 0);
    ASSERT_EQ_INT(port, 6000);
    ASSERT_EQ_INT(mc_parse_endpoint("10.0.0.1", g, sizeof(g), &port), MC_EADDR);
    ASSERT_TRUE(mc_parse_endpoint("239.1.2.3:0", g, sizeof(g), &port) < 0);
    ASSERT_TRUE(mc_parse_endpoint("239.1.2.3:70000", g, sizeof(g), &port) < 0);
    ASSERT_TRUE(mc_parse_endpoint("teacher", g, sizeof(g), &port) < 0);
}

int main(void)
{
    test_limit_seconds(30);
    test_seed_init();
    RUN(test_wire_header_roundtrip);
    RUN(test_wire_header_rejects);
    RUN(test_wire_video_roundtrip);
    RUN(test_wire_video_packed);
    RUN(test_wire_video_rejects);
    RUN(test_wire_announce_roundtrip);
    RUN(test_wire_announce_rejects);
    RUN(test_wire_move);
    RUN(test_wire_seq_wraps);
    RUN(test_parse_helpers);
    return 0;
}
