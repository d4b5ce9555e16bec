/* The sender's control server (internal): an ENet host on its own thread
 * that collects viewers' requests and reports. Requests from all viewers
 * are merged; rate limits per viewer and for the room keep one broken or
 * hostile viewer from costing the others anything. */
#ifndef MC_CTRL_SERVER_H
#define MC_CTRL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "mc/sender.h"

typedef struct mc__ctrl_server mc__ctrl_server;

/* enet_initialize(), once per process. Returns 0 or MC_ENOMEM. */
int mc__enet_init(void);

/* Starts listening on port (all interfaces). tiles = grid size. */
int mc__ctrl_server_create(uint16_t port, int tiles, uint32_t session, int max_viewers,
                           const mc_signing_key *key, mc__ctrl_server **out);
void mc__ctrl_server_destroy(mc__ctrl_server *c);

/* Takes the merged requests for the next frame: sets want[t] = 1 for each
 * tile to resend (want has `tiles` entries, not cleared here) and returns
 * how many it set; *keyframe = 1 when every tile should be resent. */
int mc__ctrl_server_take(mc__ctrl_server *c, uint8_t *want, int *keyframe);

/* Loss of the room: the 90th percentile of the viewers' recent loss, in
 * percent; -1 when no viewer has reported yet. */
double mc__ctrl_server_room_loss(mc__ctrl_server *c);

void mc__ctrl_server_stats(mc__ctrl_server *c, mc_sender_stats *st);
int mc__ctrl_server_roster(mc__ctrl_server *c, mc_viewer_info *out, int max);

#endif
