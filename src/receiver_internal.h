/* What the receiver offers its control client (internal); the client sees
 * these only through the mc__ctrl_host callbacks (ctrl_client.h). */
#ifndef MC_RECEIVER_INTERNAL_H
#define MC_RECEIVER_INTERNAL_H

#include <stdint.h>

#include "mc/receiver.h"

/* The sender's control endpoint, learned from the source address of the
 * followed session's announces. Returns 1 if known. */
int mc__receiver_ctrl_target(mc_receiver *r, uint32_t *ip_be, uint16_t *port, uint32_t *session);

/* Tiles that lag: showing an older version than one seen on the wire, or
 * never received although a fragment was seen. Fills up to max indices;
 * returns how many lag in total. *missing = tiles holding no picture. */
int mc__receiver_lagging(mc_receiver *r, uint16_t *tiles, int max, int *missing, int *total);

/* Sender clock minus our clock, from the control channel's clock sync. */
void mc__receiver_set_clock_offset(mc_receiver *r, int64_t offset_us, uint32_t rtt_us);
/* The key the sender must prove it holds on the control channel: 1 and pk
 * when signatures are required and the key is known, 0 when they are not
 * required (--insecure), -1 when required but no manifest verified yet. */
int mc__receiver_trusted_key(mc_receiver *r, uint8_t pk[32]);

#endif
