/* Tile geometry and change detection. */
#include "mc/common.h"
#include "mc/tiles.h"
#include "../src/capture_internal.h"
#include "test.h"

#define W 200
#define H 130

static void test_grid_geometry(void)
{
    mc_grid g;
    ASSERT_EQ_INT(mc_grid_init(&g, W, H, 64), 0);
    ASSERT_EQ_INT(g.cols, 4);
    ASSERT_EQ_INT(g.rows, 3);
    ASSERT_EQ_INT(g.count, 12);
    int x, y, w, h, area = 0;
    for (int i = 0; i < g.count; i++) {
        mc_grid_rect(&g, i, &x, &y, &w, &h);
        ASSERT_TRUE(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= W && y + h <= H);
        area += w * h;
    }
    ASSERT_EQ_INT(area, W * H); /* tiles cover the picture exactly once */
    mc_grid_rect(&g, 11, &x, &y, &w, &h);
    ASSERT_TRUE(x == 192 && y == 128 && w == 8 && h == 2);
    ASSERT_TRUE(mc_grid_init(&g, W, H, 12) < 0);
    ASSERT_TRUE(mc_grid_init(&g, 0, H, 64) < 0);
    ASSERT_TRUE(mc_grid_init(&g, 8192, 8192, 16) < 0); /* more tiles than the wire allows */
}

static void test_tiles_diff_finds_exactly_the_changed_tiles(void)
{
    mc_grid g;
    mc_grid_init(&g, W, H, 32);
    static uint8_t cur[(W * 4 + 16) * H], ref[W * 4 * H];
    int cur_pitch = W * 4 + 16; /* a padded source, as XShm may give */
    uint8_t changed[64], want[64];
    for (int round = 0; round < 200; round++) {
        memset(want, 0, sizeof(want));
        for (int y = 0; y < H; y++)
            memcpy(cur + (size_t)y * cur_pitch, ref + (size_t)y * W * 4, W * 4);
        int n = (int)test_rand_below(5);
        for (int k = 0; k < n; k++) { /* flip one byte of one pixel */
            int x = (int)test_rand_below(W), y = (int)test_rand_below(H);
            uint32_t c = test_rand_below(3);
            cur[(size_t)y * cur_pitch + (size_t)x * 4 + c] =
                ref[(size_t)y * W * 4 + (size_t)x * 4 + c] ^ 0x5A;
            want[(y / 32) * g.cols + x / 32] = 1;
        }
        int got = mc_tiles_diff(&g, cur, cur_pitch, ref, W * 4, changed);
        int expect = 0;
        for (int i = 0; i < g.count; i++) {
            expect += want[i];
            if (changed[i] != want[i])
                FAIL("round %d tile %d: changed=%d expected %d", round, i, changed[i], want[i]);
        }
        ASSERT_EQ_INT(got, expect);
        for (int y = 0; y < H; y++) /* ref now holds what was seen */
            ASSERT_TRUE(memcmp(cur + (size_t)y * cur_pitch, ref + (size_t)y * W * 4, W * 4) == 0);
        ASSERT_EQ_INT(mc_tiles_diff(&g, cur, cur_pitch, ref, W * 4, changed), 0);
    }
}

/* The capture's copy of changed rectangles (Desktop Duplication's move and
 * dirty rectangles): where they meet the region the kept picture takes the
 * new image, elsewhere it keeps the old; rectangles partly or wholly
 * outside, empty or inverted do no harm. */
static void test_rects_copy_takes_exactly_the_rectangles(void)
{
    enum { OW = 200, OH = 120, RX = 30, RY = 20, RW = 100, RH = 70 };
    static uint8_t img[OH][OW * 4], pic[RH][RW * 4], want[RH][RW * 4];
    for (int round = 0; round < 200; round++) {
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW * 4; x++)
                img[y][x] = (uint8_t)test_rand();
        memset(pic, 0xAA, sizeof(pic));
        memset(want, 0xAA, sizeof(want));
        mc__rect r[8];
        int n = (int)test_rand_below(8), touching = 0;
        for (int i = 0; i < n; i++) {
            r[i].x0 = (int)test_rand_below(OW + 40) - 20;
            r[i].y0 = (int)test_rand_below(OH + 40) - 20;
            r[i].x1 = r[i].x0 + (int)test_rand_below(80) - 5; /* sometimes empty or inverted */
            r[i].y1 = r[i].y0 + (int)test_rand_below(60) - 5;
            int hit = 0;
            for (int y = 0; y < RH; y++)
                for (int x = 0; x < RW; x++)
                    if (RX + x >= r[i].x0 && RX + x < r[i].x1 && RY + y >= r[i].y0 &&
                        RY + y < r[i].y1) {
                        memcpy(&want[y][x * 4], &img[RY + y][(RX + x) * 4], 4);
                        hit = 1;
                    }
            touching += hit;
        }
        int got = mc__rects_copy(&pic[0][0], RW * 4, RX, RY, RW, RH, &img[0][0], OW * 4, r, n);
        ASSERT_EQ_INT(got, touching);
        if (memcmp(pic, want, sizeof(pic)))
            FAIL("round %d: the picture differs from the rectangles' copy", round);
    }
}

int main(void)
{
    test_limit_seconds(30);
    test_seed_init();
    RUN(test_grid_geometry);
    RUN(test_tiles_diff_finds_exactly_the_changed_tiles);
    RUN(test_rects_copy_takes_exactly_the_rectangles);
    return 0;
}
