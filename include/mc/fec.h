/* Reed-Solomon erasure code over blocks of packets (Intel ISA-L, Cauchy
 * matrix, GF(2^8)). One symbol is one packet payload: a block of k data
 * symbols gets p parity symbols, and any k of the k + p symbols recover
 * the rest. */
#ifndef MC_FEC_H
#define MC_FEC_H

#include <stddef.h>
#include <stdint.h>

#define MC_FEC_MAX_K 64 /* data packets per block (keeps matrix inversion cheap) */
#define MC_FEC_MAX_P 32 /* parity packets per block */

/* Parity packets for k data packets at `percent` overhead: at least 2
 * (even one lost packet of a tiny block must be recoverable twice over),
 * at most MC_FEC_MAX_P. 0 when percent is 0 (FEC off). */
int mc_fec_parity_count(int k, int percent);
/* Half of that, at least 1: for blocks that only resend what went out
 * before (the refresh), whose loss costs a wait for the next resend or a
 * repair, not a wrong picture. */
int mc_fec_parity_count_resend(int k, int percent);

/* Computes p parity symbols of len bytes from k data symbols. Returns 0 or
 * MC_EINVAL for k/p out of range. */
int mc_fec_encode(int k, int p, size_t len, uint8_t *const *data, uint8_t **parity);

/* Recovers the missing data symbols of a block. syms has k + p pointers
 * (data first, then parity), present[i] says which arrived; the buffers of
 * missing data symbols are written. Returns how many were recovered, or
 * MC_EFIELD when fewer than k symbols are present. */
int mc_fec_recover(int k, int p, size_t len, const uint8_t *present, uint8_t **syms);

#endif
