/* Listening before broadcasting: is another mcshare live on this group
 * and port? Two senders on one group split a room (some viewers follow
 * one, some the other), so mcshare checks first and names what it heard. */
#ifndef MC_LISTEN_H
#define MC_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "mc/auth.h"

typedef struct {
    int packets;              /* mcshare datagrams heard (any wire version) */
    char from[48];            /* the sender's address */
    uint32_t session;         /* 0 when only another wire version was heard */
    int version;              /* its wire version */
    int width, height;        /* from its announce (0: none heard, e.g. encrypted) */
    int sealed;               /* encrypted with a passphrase */
    int have_fpr;             /* a manifest was heard: the key it names */
    uint8_t fpr[MC_FPR_BYTES];
    int ended;                /* the last datagram heard from it was its BYE */
} mc_other_broadcast;

/* Listens on group:port for `ms` milliseconds (less when one broadcast has
 * been seen in full). Returns 1 when a live broadcast was heard (*o says
 * which), 0 when none, or a negative code when the socket cannot be made. */
int mc_listen_for_broadcast(const char *group, uint16_t port, const char *iface, int ms,
                            mc_other_broadcast *o);
/* One line naming it: "from 10.0.0.5, 1920x1080, session 1a2b3c4d, key ...". */
void mc_other_broadcast_describe(const mc_other_broadcast *o, char *out, size_t cap);

#endif
