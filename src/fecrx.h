/* Receiver side of FEC (internal to the library). Keeps the last
 * MC__FEC_RING packets by sequence number, as FEC symbols, and the blocks
 * announced by parity packets; recovers missing packets as soon as a block
 * has k of its k + p symbols. Reordering is never taken for loss: a block
 * stays open until newer traffic pushes it out of the ring. */
#ifndef MC_FECRX_H
#define MC_FECRX_H

#include <stddef.h>
#include <stdint.h>

#include "mc/wire.h"

#define MC__FEC_RING 256  /* packets remembered (a block is at most 96) */
#define MC__FEC_BLOCKS 16 /* open blocks remembered */

typedef struct mc__fecrx mc__fecrx;

/* Receives each recovered packet, whole, as if it had arrived. */
typedef void (*mc__fec_deliver)(void *ctx, const uint8_t *pkt, size_t len);

int mc__fecrx_create(mc__fecrx **out);
void mc__fecrx_destroy(mc__fecrx *f);
/* A new session, whose datagrams are at most mtu bytes. */
void mc__fecrx_reset(mc__fecrx *f, size_t mtu);
/* As just created (statistics too), keeping the ring's memory. */
void mc__fecrx_clear(mc__fecrx *f);

/* A data packet (announce or video) of the session arrived. */
void mc__fecrx_data(mc__fecrx *f, uint32_t seq, const uint8_t *pkt, size_t len,
                    mc__fec_deliver deliver, void *ctx);

/* A parity packet arrived (already parsed and checked by the wire code). */
void mc__fecrx_parity(mc__fecrx *f, uint32_t seq, const mc_parity *p, mc__fec_deliver deliver,
                      void *ctx);

typedef struct {
    uint64_t recovered;     /* packets rebuilt from parity */
    uint64_t blocks;        /* blocks seen */
    uint64_t unrecoverable; /* blocks that left with data still missing */
    uint64_t bad_parity;    /* parity inconsistent with its block */
} mc__fec_stats;

void mc__fecrx_stats(const mc__fecrx *f, mc__fec_stats *st);

#endif
