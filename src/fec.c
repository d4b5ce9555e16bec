/* Erasure coding with ISA-L. The Cauchy generator matrix has the identity
 * on top (data symbols are sent as they are) and every k x k submatrix is
 * invertible, so any k surviving symbols always recover a block. */
#include "mc/fec.h"

#include <isa-l/erasure_code.h>
#include <string.h>

#include "mc/common.h"

int mc_fec_parity_count(int k, int percent)
{
    if (percent <= 0 || k <= 0)
        return 0;
    int p = (k * percent + 99) / 100;
    if (p < 2)
        p = 2;
    return p > MC_FEC_MAX_P ? MC_FEC_MAX_P : p;
}

int mc_fec_parity_count_resend(int k, int percent)
{
    if (percent <= 0 || k <= 0)
        return 0;
    int p = (k * percent + 199) / 200;
    return p > MC_FEC_MAX_P ? MC_FEC_MAX_P : p;
}

static int check_kp(int k, int p)
{
    return k >= 1 && k <= MC_FEC_MAX_K && p >= 1 && p <= MC_FEC_MAX_P;
}

int mc_fec_encode(int k, int p, size_t len, uint8_t *const *data, uint8_t **parity)
{
    if (!check_kp(k, p) || len == 0)
        return MC_EINVAL;
    unsigned char a[(MC_FEC_MAX_K + MC_FEC_MAX_P) * MC_FEC_MAX_K];
    unsigned char g[MC_FEC_MAX_K * MC_FEC_MAX_P * 32];
    gf_gen_cauchy1_matrix(a, k + p, k);
    ec_init_tables(k, p, &a[k * k], g);
    ec_encode_data((int)len, k, p, g, (unsigned char **)data, parity);
    return 0;
}

int mc_fec_recover(int k, int p, size_t len, const uint8_t *present, uint8_t **syms)
{
    if (!check_kp(k, p) || len == 0)
        return MC_EINVAL;
    int surv[MC_FEC_MAX_K], missing[MC_FEC_MAX_K], ns = 0, nm = 0;
    for (int i = 0; i < k + p && ns < k; i++)
        if (present[i])
            surv[ns++] = i;
    for (int i = 0; i < k; i++)
        if (!present[i])
            missing[nm++] = i;
    if (nm == 0)
        return 0;
    if (ns < k)
        return MC_EFIELD;
    unsigned char a[(MC_FEC_MAX_K + MC_FEC_MAX_P) * MC_FEC_MAX_K];
    unsigned char b[MC_FEC_MAX_K * MC_FEC_MAX_K], inv[MC_FEC_MAX_K * MC_FEC_MAX_K];
    unsigned char c[MC_FEC_MAX_K * MC_FEC_MAX_K], g[MC_FEC_MAX_K * MC_FEC_MAX_K * 32];
    gf_gen_cauchy1_matrix(a, k + p, k);
    /* The rows of the surviving symbols, inverted, map survivors back to
     * the data; the rows of the missing data symbols are what we need. */
    for (int r = 0; r < k; r++)
        memcpy(&b[r * k], &a[surv[r] * k], (size_t)k);
    if (gf_invert_matrix(b, inv, k) != 0)
        return MC_EFIELD; /* cannot happen with a Cauchy matrix */
    for (int j = 0; j < nm; j++)
        memcpy(&c[j * k], &inv[missing[j] * k], (size_t)k);
    uint8_t *src[MC_FEC_MAX_K], *dst[MC_FEC_MAX_K];
    for (int r = 0; r < k; r++)
        src[r] = syms[surv[r]];
    for (int j = 0; j < nm; j++)
        dst[j] = syms[missing[j]];
    ec_init_tables(k, nm, c, g);
    ec_encode_data((int)len, k, nm, g, src, dst);
    return nm;
}
