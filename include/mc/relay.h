/* A relay for viewers that multicast cannot reach (another building, home,
 * a network that drops multicast): mcrelay joins the group (or subscribes
 * to another relay) and forwards every datagram, unchanged, over unicast
 * UDP to each subscribed viewer. Signatures stay end to end: a viewer still
 * pins the teacher's key, so the relay can neither forge nor alter the
 * picture, only withhold it.
 *
 * The subscription (UDP, to the relay's port, default 5006): datagrams
 * "MCRS", version 1, a type byte, then
 *   HELLO     (1)  nothing: asks for a cookie
 *   COOKIE    (2)  16 bytes: the relay's answer, a keyed hash of the
 *                  subscriber's address and port and the time (30 s epochs)
 *   SUBSCRIBE (3)  the 16-byte cookie: keeps the subscription for 10 s
 *   BYE       (4)  the 16-byte cookie: ends it
 * The cookie makes a subscriber prove it receives at its address, so no
 * one can make a relay flood a third party with spoofed subscriptions.
 * Subscribers send SUBSCRIBE every second (which also keeps a NAT's
 * mapping open: the relay sends from the port they send to), and four
 * times a second while nothing has come from the relay for 0.5 s (a
 * restarted relay answers the stale cookie with a fresh one).
 *
 * The viewers' control channel (repairs, keyframes, reports, clock sync)
 * goes to the relay's next port (default 5007), from addresses that hold a
 * subscription; the relay carries each viewer's channel on from a socket
 * of its own to the teacher's control port (learned from the announces and
 * the address they come from) or to the next relay's control port. The
 * teacher thus merges the relayed viewers' requests with the room's under
 * the same per-viewer budgets, and the key proof goes end to end. */
#ifndef MC_RELAY_H
#define MC_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define MC_RELAY_PORT 5006
#define MC_RELAY_COOKIE 16
#define MC_RELAY_KEEP_US 10000000u     /* a subscription lasts this long unrenewed */
#define MC_RELAY_RENEW_US 1000000u     /* subscribers renew this often */
#define MC_RELAY_VIEWER_MBIT 20.0      /* each viewer's pacer, at least */
enum { MC_RELAY_HELLO = 1, MC_RELAY_COOKIE_MSG = 2, MC_RELAY_SUBSCRIBE = 3, MC_RELAY_BYE = 4 };

/* 1 if buf is a relay message (starts "MCRS"). */
int mc_relay_is_msg(const uint8_t *buf, size_t len);
/* Builds a message: returns its length (6 or 22). */
size_t mc_relay_msg(uint8_t *buf, int type, const uint8_t cookie[MC_RELAY_COOKIE]);
/* Parses one: the type, or a negative code; *cookie points into buf. */
int mc_relay_parse(const uint8_t *buf, size_t len, const uint8_t **cookie);

/* ---- the subscribing end (a viewer, or a relay fed by another) ---- */
typedef struct mc_relay_sub mc_relay_sub;
/* Resolves HOST[:PORT] and opens a UDP socket that talks to it only
 * (connected: datagrams from anyone else are not received). *fd is the
 * socket to read datagrams from. */
int mc_relay_sub_open(const char *host_port, mc_relay_sub **out, int *fd, char *why, size_t cap);
/* Sends HELLO until a cookie came, then SUBSCRIBE every second. */
void mc_relay_sub_tick(mc_relay_sub *s, uint64_t now_us);
/* Offers a datagram read from the socket: 1 when it was the relay's own
 * message (used here), 0 when it is a forwarded datagram. */
int mc_relay_sub_take(mc_relay_sub *s, const uint8_t *buf, size_t len, uint64_t now_us);
/* "HOST:PORT" as given, resolved. */
const char *mc_relay_sub_name(const mc_relay_sub *s);
/* The relay's control port (its port + 1), where a viewer's control
 * channel goes: the relay carries it on to the teacher. */
void mc_relay_sub_ctrl_target(const mc_relay_sub *s, uint32_t *ip_be, uint16_t *port);
/* Sends BYE and closes. */
void mc_relay_sub_close(mc_relay_sub *s);

/* ---- the relay ---- */
typedef struct {
    uint16_t listen_port;   /* subscriptions and forwarding (default 5006) */
    const char *listen_addr;/* NULL: every address */
    const char *group;      /* the broadcast to relay: a multicast group ... */
    uint16_t port;
    const char *iface, *source;
    const char *upstream;   /* ... or another relay's HOST[:PORT] */
    int max_viewers;        /* default 500 */
    int no_ctrl;            /* do not carry the viewers' control channel */
    double viewer_mbit;     /* each viewer paced at this rate at least, Mbit/s (default
                               MC_RELAY_VIEWER_MBIT; twice the stream's when more) */
} mc_relay_config;

typedef struct {
    int viewers;
    uint64_t in, out, out_bytes, refused, send_errors;
    int ctrl_channels;                 /* viewers' control channels carried now */
    uint64_t ctrl_up, ctrl_down;       /* their datagrams, each way */
    uint64_t ctrl_refused;             /* from addresses without a subscription */
    uint64_t lagged;                   /* datagrams viewers missed, too far behind */
} mc_relay_stats;

typedef struct mc_relay mc_relay;
int mc_relay_create(const mc_relay_config *cfg, mc_relay **out, char *why, size_t cap);
/* Runs until *stop becomes non-zero. */
void mc_relay_run(mc_relay *r, volatile sig_atomic_t *stop, void (*every_5s)(mc_relay *r));
void mc_relay_get_stats(const mc_relay *r, mc_relay_stats *st);
void mc_relay_destroy(mc_relay *r);

#endif
