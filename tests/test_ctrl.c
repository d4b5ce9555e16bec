/* Control messages: round trip of every type, rejection of malformed ones. */
#include "mc/common.h"
#include "mc/ctrl.h"
#include "test.h"

static void roundtrip(const mc_ctrl_msg *m)
{
    uint8_t buf[MC_CTRL_MAX_MSG + 1];
    mc_ctrl_msg g;
    int n = mc_ctrl_write(buf, sizeof(buf), m);
    ASSERT_TRUE(n > 0);
    ASSERT_EQ_INT(mc_ctrl_parse(buf, (size_t)n, &g), 0);
    ASSERT_EQ_INT(g.type, m->type);
    ASSERT_TRUE(g.version == m->version && strcmp(g.name, m->name) == 0 && g.session == m->session);
    ASSERT_TRUE(g.expected == m->expected && g.received == m->received && g.recovered == m->recovered);
    ASSERT_TRUE(g.tiles_held == m->tiles_held && g.tiles_total == m->tiles_total);
    ASSERT_TRUE(g.lat_p50_us == m->lat_p50_us && g.lat_p95_us == m->lat_p95_us);
    ASSERT_TRUE(g.t1 == m->t1 && g.t2 == m->t2 && g.t3 == m->t3 && g.ntiles == m->ntiles);
    ASSERT_TRUE(memcmp(g.tiles, m->tiles, sizeof(g.tiles[0]) * m->ntiles) == 0);
    ASSERT_TRUE(!memcmp(g.nonce, m->nonce, 16) && !memcmp(g.key, m->key, 32) &&
                !memcmp(g.sig, m->sig, 64));
    for (int k = 0; k < n; k++) /* every truncation refused */
        ASSERT_TRUE(mc_ctrl_parse(buf, (size_t)k, &g) < 0);
    buf[n] = 0;
    ASSERT_TRUE(mc_ctrl_parse(buf, (size_t)n + 1, &g) < 0); /* trailing byte refused */
}

static void test_ctrl_roundtrip_every_type(void)
{
    mc_ctrl_msg m = {.type = MC_CT_HELLO, .version = 1, .name = "room-12 pc-07",
                     .nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    roundtrip(&m);
    mc_ctrl_msg w = {.type = MC_CT_WELCOME, .version = 1, .session = 0xCAFEBABE};
    for (int i = 0; i < 32; i++)
        w.key[i] = (uint8_t)(i + 100);
    for (int i = 0; i < 64; i++)
        w.sig[i] = (uint8_t)(i * 3);
    roundtrip(&w);
    roundtrip(&(mc_ctrl_msg){.type = MC_CT_REPORT, .expected = 4000000000u, .received = 3,
                             .recovered = 7, .tiles_held = 509, .tiles_total = 510,
                             .lat_p50_us = 1234, .lat_p95_us = 99999});
    roundtrip(&(mc_ctrl_msg){.type = MC_CT_KEYFRAME});
    mc_ctrl_msg r = {.type = MC_CT_REPAIR, .ntiles = MC_CTRL_MAX_REPAIR};
    for (int i = 0; i < MC_CTRL_MAX_REPAIR; i++)
        r.tiles[i] = (uint16_t)(i * 257);
    roundtrip(&r);
    roundtrip(&(mc_ctrl_msg){.type = MC_CT_PING, .t1 = 0x0102030405060708ull});
    roundtrip(&(mc_ctrl_msg){.type = MC_CT_PONG, .t1 = 1, .t2 = 2, .t3 = ~0ull});
}

static void test_ctrl_rejects_malformed(void)
{
    mc_ctrl_msg g;
    uint8_t hello[6 + 16] = {MC_CT_HELLO, 1, 3, 'a', 0x07, 'c'}; /* a control character */
    ASSERT_EQ_INT(mc_ctrl_parse(hello, sizeof(hello), &g), MC_EFIELD);
    uint8_t longname[3 + 40 + 16] = {MC_CT_HELLO, 1, 40};
    memset(longname + 3, 'x', 40);
    ASSERT_EQ_INT(mc_ctrl_parse(longname, sizeof(longname), &g), MC_EFIELD);
    uint8_t repair[] = {MC_CT_REPAIR, 0x01, 0x01, 0, 1}; /* says 257 tiles, has 1 */
    ASSERT_TRUE(mc_ctrl_parse(repair, sizeof(repair), &g) < 0);
    uint8_t unknown[] = {99, 0, 0};
    ASSERT_EQ_INT(mc_ctrl_parse(unknown, sizeof(unknown), &g), MC_EFIELD);
    ASSERT_TRUE(mc_ctrl_parse(unknown, 0, &g) < 0);
    mc_ctrl_msg big = {.type = MC_CT_REPAIR, .ntiles = MC_CTRL_MAX_REPAIR + 1};
    uint8_t buf[MC_CTRL_MAX_MSG + 8];
    ASSERT_TRUE(mc_ctrl_write(buf, sizeof(buf), &big) < 0);
    for (int i = 0; i < 20000; i++) { /* random bytes: never accepted wrongly sized */
        uint8_t b[64];
        size_t n = test_rand_below(sizeof(b));
        for (size_t k = 0; k < n; k++)
            b[k] = (uint8_t)test_rand();
        if (mc_ctrl_parse(b, n, &g) == 0) {
            uint8_t out[MC_CTRL_MAX_MSG];
            int w = mc_ctrl_write(out, sizeof(out), &g);
            if (w != (int)n || memcmp(out, b, n) != 0)
                FAIL("accepted %zu random bytes that do not re-encode to themselves", n);
        }
    }
}

int main(void)
{
    test_limit_seconds(30);
    test_seed_init();
    RUN(test_ctrl_roundtrip_every_type);
    RUN(test_ctrl_rejects_malformed);
    return 0;
}
