/* Finding a broadcast without typing its address: mcshare announces itself
 * with SAP (RFC 2974) carrying an SDP description (RFC 4566) on the SAP
 * group 239.255.255.255, port 9875, where other tools (VLC, sap listeners)
 * look too; docs/protocol.md says why SAP and not DNS-SD. Each announcement
 * is signed with the sender's stream key, so the fingerprint a viewer sees
 * in the list is the key that will sign the picture: a student can announce
 * a fake "Physics 2B", but only under a key of its own, which the list
 * shows (and which a viewer that knows the teacher's key refuses).
 *
 * The SDP (lines end with CRLF):
 *   v=0
 *   o=- SESSION TIME_MS IN IP4 ORIGIN
 *   s=NAME
 *   c=IN IP4 GROUP/TTL
 *   t=0 0
 *   a=tool:mcshare VERSION
 *   m=application PORT udp mcshare
 *   a=x-mcshare-ctrl:CTRL_PORT
 *   a=x-mcshare-sealed:0|1
 *   a=x-mcshare-key:BASE64(32-byte Ed25519 public key)
 *   a=x-mcshare-sig:BASE64(64-byte signature)
 * The signature covers "mcshare-sap-v1", the SAP header's first byte (so
 * an announcement cannot be turned into a deletion) and every SDP byte
 * before the a=x-mcshare-sig line. */
#ifndef MC_DISCOVERY_H
#define MC_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "mc/auth.h"

#define MC_SAP_GROUP "239.255.255.255"
#define MC_SAP_PORT 9875
#define MC_SAP_INTERVAL_US 2000000u /* an announcement every 2 s (about 2 kbit/s) */
#define MC_SAP_EXPIRE_US 7000000u   /* forgotten after 3 missed announcements */
#define MC_SAP_MAX_BYTES 1024
#define MC_DISCO_MAX 64             /* broadcasts a listener keeps at most */

typedef struct {
    char name[64];        /* printable; control characters replaced */
    char group[16];       /* dotted quad */
    uint16_t port, ctrl_port;
    char origin[16];      /* the sender's address, as it says */
    uint32_t session;
    uint64_t time_ms;     /* the sender's wall clock when the broadcast started (the
                             same in all its announcements and its deletion) */
    int sealed;           /* a passphrase is needed */
    int deleted;          /* a SAP deletion: the broadcast ended */
    uint8_t pk[MC_KEY_PUBLIC];
    uint8_t fpr[MC_FPR_BYTES]; /* of the key whose signature checked out */
} mc_disco_entry;

/* Builds a signed announcement (deletion = 0) or deletion into buf.
 * Returns its length or a negative code. */
int mc_disco_build(const mc_disco_entry *e, const mc_signing_key *key, int deletion,
                   uint32_t origin_be, uint8_t *buf, size_t cap);
/* Parses one datagram and checks its signature: 0 with *e, MC_EMAGIC when
 * it is not an mcshare SAP announcement (other SAP traffic is normal on
 * this group), MC_EFIELD when damaged or not validly signed. */
int mc_disco_parse(const uint8_t *buf, size_t len, mc_disco_entry *e);

/* ---- the teacher's side ---- */
typedef struct mc_disco_announcer mc_disco_announcer;
/* Sends on iface with the stream's TTL; e describes the broadcast. */
int mc_disco_announcer_create(const mc_disco_entry *e, const mc_signing_key *key,
                              const char *iface, int ttl, int loop, mc_disco_announcer **out);
/* Sends an announcement when one is due (call often). */
void mc_disco_announcer_tick(mc_disco_announcer *a, uint64_t now_us);
/* Sends the deletion (the broadcast ended) and frees. */
void mc_disco_announcer_destroy(mc_disco_announcer *a);

/* ---- the students' side ---- */
typedef struct mc_disco_listener mc_disco_listener;
int mc_disco_listener_create(const char *iface, mc_disco_listener **out);
/* Reads what arrived (never blocks); forgets broadcasts not announced for
 * MC_SAP_EXPIRE_US or deleted. Returns how many are known. */
int mc_disco_listener_poll(mc_disco_listener *l, uint64_t now_us);
/* Waits up to timeout_us for datagrams (0: none). */
void mc_disco_listener_wait(mc_disco_listener *l, uint64_t timeout_us);
/* The broadcasts known, by name then group, up to max. */
int mc_disco_listener_list(const mc_disco_listener *l, mc_disco_entry *out, int max);
/* Datagrams refused so far (damaged or not validly signed). */
uint64_t mc_disco_listener_refused(const mc_disco_listener *l);
void mc_disco_listener_destroy(mc_disco_listener *l);
/* Takes one SAP datagram as if it had arrived (poll calls it; tests too):
 * 0, or the parse error. */
int mc_disco_listener_feed(mc_disco_listener *l, const uint8_t *buf, size_t len, uint64_t now_us);

#endif
