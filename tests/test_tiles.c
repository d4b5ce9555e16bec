/* Tile geometry and change detection. */
#include "mc/common.h"
#include "mc/tiles.h"
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

int main(void)
{
    test_limit_seconds(30);
    test_seed_init();
    RUN(test_grid_geometry);
    RUN(test_tiles_diff_finds_exactly_the_changed_tiles);
    return 0;
}
