/* Reed-Solomon erasure code: every erasure pattern up to p is recovered
 * exactly; more than p is refused (seeded random patterns). */
#include "mc/common.h"
#include "mc/fec.h"
#include "test.h"

#define LEN 300

static uint8_t orig[MC_FEC_MAX_K][LEN], work[MC_FEC_MAX_K + MC_FEC_MAX_P][LEN];

static void one_block(int k, int p, int lose)
{
    uint8_t *data[MC_FEC_MAX_K], *par[MC_FEC_MAX_P], *syms[MC_FEC_MAX_K + MC_FEC_MAX_P];
    uint8_t present[MC_FEC_MAX_K + MC_FEC_MAX_P];
    for (int i = 0; i < k; i++) {
        for (int b = 0; b < LEN; b++)
            orig[i][b] = (uint8_t)test_rand();
        memcpy(work[i], orig[i], LEN);
        data[i] = work[i];
    }
    for (int j = 0; j < p; j++)
        par[j] = work[k + j];
    ASSERT_EQ_INT(mc_fec_encode(k, p, LEN, data, par), 0);
    for (int i = 0; i < k + p; i++) {
        present[i] = 1;
        syms[i] = work[i];
    }
    for (int n = 0; n < lose;) { /* erase `lose` distinct symbols, data or parity */
        int i = (int)test_rand_below((uint32_t)(k + p));
        if (present[i]) {
            present[i] = 0;
            memset(work[i], 0xEE, LEN);
            n++;
        }
    }
    int missing_data = 0;
    for (int i = 0; i < k; i++)
        missing_data += !present[i];
    int got = mc_fec_recover(k, p, LEN, present, syms);
    if (lose > p) {
        ASSERT_EQ_INT(got, MC_EFIELD);
        return;
    }
    ASSERT_EQ_INT(got, missing_data);
    for (int i = 0; i < k; i++)
        if (memcmp(work[i], orig[i], LEN) != 0)
            FAIL("k=%d p=%d lose=%d: data symbol %d recovered wrong", k, p, lose, i);
}

static void test_fec_recovers_any_pattern_up_to_p(void)
{
    static const int ks[] = {1, 2, 5, 16, 32, 64};
    for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++)
        for (int p = 2; p <= 8; p += 3)
            for (int rep = 0; rep < 30; rep++)
                one_block(ks[a], p, (int)test_rand_below((uint32_t)p + 1));
}

static void test_fec_refuses_too_many_losses(void)
{
    for (int rep = 0; rep < 50; rep++)
        one_block(10, 3, 4 + (int)test_rand_below(5));
}

static void test_fec_parity_count(void)
{
    ASSERT_EQ_INT(mc_fec_parity_count(1, 20), 2);  /* the floor of 2 */
    ASSERT_EQ_INT(mc_fec_parity_count(32, 20), 7); /* ceil(6.4) */
    ASSERT_EQ_INT(mc_fec_parity_count(64, 100), MC_FEC_MAX_P);
    ASSERT_EQ_INT(mc_fec_parity_count(32, 0), 0);  /* off */
    uint8_t *none[1] = {NULL};
    ASSERT_EQ_INT(mc_fec_encode(0, 2, 10, none, none), MC_EINVAL);
    ASSERT_EQ_INT(mc_fec_encode(MC_FEC_MAX_K + 1, 2, 10, none, none), MC_EINVAL);
}

int main(void)
{
    test_limit_seconds(60);
    test_seed_init();
    RUN(test_fec_recovers_any_pattern_up_to_p);
    RUN(test_fec_refuses_too_many_losses);
    RUN(test_fec_parity_count);
    return 0;
}
