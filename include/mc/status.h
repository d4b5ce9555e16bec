/* What a viewer says to its user: one sentence for the window (mcview) or
 * the terminal (mcprobe), from the receiver's figures. It tells the truth
 * about a broadcast that is being refused (another protocol version, a
 * passphrase, an untrusted key, no signature, a second sender) rather than
 * "waiting" or "ended", and says "Broadcast ended" only after the
 * teacher's own (signed, when signatures are required) end message. */
#ifndef MC_STATUS_H
#define MC_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "mc/receiver.h"

#define MC_STATUS_RECENT_US 3000000u /* a refusal counts for this long after its last datagram */
#define MC_STATUS_SILENT_US 3000000u /* no packet of the live broadcast for this long: "no signal" */

typedef struct {
    uint64_t prev[6];      /* the counters below, as last seen */
    uint64_t last_us[6];   /* when each last grew (0: never) */
    int version_seen;
} mc_status;

/* Counters tracked: refused datagrams of each kind. */
enum { MC_ST_VERSION, MC_ST_LOCKED, MC_ST_BADPASS, MC_ST_WRONGKEY, MC_ST_UNSIGNED, MC_ST_FOREIGN };

void mc_status_init(mc_status *s);
/* Call often (each redraw, each report) with fresh figures. */
void mc_status_update(mc_status *s, const mc_receiver_stats *st, uint64_t now_us);
/* The sentence for now, or "" when the live picture needs no words.
 * group/port name the broadcast. Returns out. */
const char *mc_status_text(const mc_status *s, const mc_receiver_stats *st, const char *group,
                           unsigned port, uint64_t now_us, char *out, size_t cap);

#endif
