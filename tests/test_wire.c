/* Wire format: round trips, rejection of every malformed field, and
 * wrap-safe sequence comparison. */
#include "mc/common.h"
#include "mc/net.h"
#include "mc/wire.h"
#include "test.h"

static const uint8_t tmpl[40] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10};

static mc_announce good_announce(void)
{
    return (mc_announce){.width = 1920, .height = 1080, .tile = 64, .cols = 30, .rows = 17,
                         .fps = 30, .quality = 75, .subsamp = MC_SUBSAMP_420,
                         .refresh_ms = 1000, .max_tile_bytes = 30000, .frame = 77,
                         .ctrl_port = 5005, .jpeg_hdr_len = sizeof(tmpl), .sof_off = 7,
                         .jpeg_hdr = tmpl};
}

static mc_video good_video(const uint8_t *data)
{
    return (mc_video){.frame = 10, .version = 9, .tile = 5, .frame_tiles = 12, .frag = 1,
                      .frag_count = 3, .tile_bytes = 2500, .offset = 1000, .data = data,
                      .len = 1000};
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
    buf[2] = 2;
    ASSERT_EQ_INT(mc_wire_parse_header(buf, MC_HDR_BYTES, &g), MC_EVERSION);
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
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_VIDEO_HDR_BYTES + 1000);
    ASSERT_EQ_INT(mc_wire_parse_video(buf, (size_t)n, &g), 0);
    ASSERT_TRUE(g.frame == 10 && g.version == 9 && g.tile == 5 && g.frame_tiles == 12);
    ASSERT_TRUE(g.frag == 1 && g.frag_count == 3 && g.tile_bytes == 2500 && g.offset == 1000);
    ASSERT_EQ_INT(g.len, 1000);
    ASSERT_TRUE(memcmp(g.data, data, 1000) == 0);
    ASSERT_EQ_INT(mc_wire_write_video(buf, (size_t)n - 1, &h, &v), MC_ETOOBIG);
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
    uint8_t *p = buf + MC_HDR_BYTES;
    uint32_t f32[] = {v.frame, v.version};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            p[i * 4 + b] = (uint8_t)(f32[i] >> (24 - 8 * b));
    uint16_t f16[] = {v.tile, v.frame_tiles, v.frag, v.frag_count};
    for (int i = 0; i < 4; i++) {
        p[8 + i * 2] = (uint8_t)(f16[i] >> 8);
        p[9 + i * 2] = (uint8_t)f16[i];
    }
    uint32_t g32[] = {v.tile_bytes, v.offset};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            p[16 + i * 4 + b] = (uint8_t)(g32[i] >> (24 - 8 * b));
    size_t len = (size_t)n - 1000 + v.len;
    if (mc_wire_parse_video(buf, len, &g) == 0)
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
}

static void test_wire_announce_roundtrip(void)
{
    uint8_t buf[1200];
    mc_hdr h = {.type = MC_PT_ANNOUNCE, .session = 1, .seq = 2, .ts_us = 3};
    mc_announce a = good_announce(), g;
    int n = mc_wire_write_announce(buf, sizeof(buf), &h, &a);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_ANNOUNCE_FIXED_BYTES + (int)sizeof(tmpl));
    ASSERT_EQ_INT(mc_wire_parse_announce(buf, (size_t)n, &g), 0);
    ASSERT_TRUE(g.width == 1920 && g.height == 1080 && g.tile == 64 && g.cols == 30 &&
                g.rows == 17 && g.fps == 30 && g.quality == 75 && g.subsamp == MC_SUBSAMP_420 &&
                g.refresh_ms == 1000 && g.max_tile_bytes == 30000 && g.frame == 77 &&
                g.ctrl_port == 5005 && g.sof_off == 7);
    ASSERT_EQ_INT(g.jpeg_hdr_len, sizeof(tmpl));
    ASSERT_TRUE(memcmp(g.jpeg_hdr, tmpl, sizeof(tmpl)) == 0);
    for (int k = 0; k < n; k++) /* every truncation is refused */
        ASSERT_TRUE(mc_wire_parse_announce(buf, (size_t)k, &g) < 0);
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
    expect_announce_rejected(12, 1, 0, "quality 0");
    expect_announce_rejected(12, 1, 101, "quality above 100");
    expect_announce_rejected(13, 1, 2, "an unknown subsampling");
    expect_announce_rejected(14, 2, 10, "a refresh period below 50 ms");
    expect_announce_rejected(16, 4, 0, "max_tile_bytes 0");
    expect_announce_rejected(16, 4, MC_MAX_TILE_BYTES + 1, "max_tile_bytes too large");
    expect_announce_rejected(28, 2, 41, "a template longer than the packet");
    expect_announce_rejected(28, 2, 10, "a template too short");
    expect_announce_rejected(30, 2, 3, "sof_off before SOF");
    expect_announce_rejected(30, 2, 38, "sof_off past the template");
    expect_announce_rejected(30, 2, 8, "sof_off not at an SOF0 segment");
    expect_announce_rejected(MC_ANNOUNCE_FIXED_BYTES, 1, 0x00, "a template without SOI");
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
    RUN(test_wire_video_rejects);
    RUN(test_wire_announce_roundtrip);
    RUN(test_wire_announce_rejects);
    RUN(test_wire_seq_wraps);
    RUN(test_parse_helpers);
    return 0;
}
