/* The viewer's control client (internal). It talks to its host, a
 * receiver today, a relay tomorrow, only through mc__ctrl_host: it knows
 * nothing of the receiver's internals. */
#ifndef MC_CTRL_CLIENT_H
#define MC_CTRL_CLIENT_H

#include <stdint.h>

/* What the client asks of its host. Called from the client's thread; each
 * must be safe against the host's own threads. */
typedef struct {
    void *ctx;
    /* The followed sender's control endpoint (learned from its announces):
     * 1 and the endpoint when known. */
    int (*target)(void *ctx, uint32_t *ip_be, uint16_t *port, uint32_t *session);
    /* Tiles that lag (an older version shown than one seen on the wire, or
     * none yet): fills up to max indices, returns how many lag in all;
     * *missing = tiles holding no picture, *total = tiles in the grid. */
    int (*lagging)(void *ctx, uint16_t *tiles, int max, int *missing, int *total);
    /* The sender's clock minus ours, from the clock sync. */
    void (*set_clock)(void *ctx, int64_t offset_us, uint32_t rtt_us);
    /* The key the sender must prove it holds: 1 and pk when required and
     * known, 0 when not required, -1 when required but not known yet. */
    int (*trusted_key)(void *ctx, uint8_t pk[32]);
    /* The figures of a REPORT: packets expected, received and rebuilt,
     * tiles held of total, decoded latency p50/p95 in us. */
    void (*report)(void *ctx, uint32_t *expected, uint32_t *received, uint32_t *recovered,
                   uint16_t *tiles_held, uint16_t *tiles_total, uint32_t *lat_p50_us,
                   uint32_t *lat_p95_us);
} mc__ctrl_host;

typedef struct {
    int connected;
    uint64_t refused, keyframes_asked, repairs_asked;
} mc__ctrl_client_stats;

typedef struct mc__ctrl_client mc__ctrl_client;
/* Starts the client's thread. `host` is copied. */
int mc__ctrl_client_create(const mc__ctrl_host *host, const char *name, mc__ctrl_client **out);
void mc__ctrl_client_destroy(mc__ctrl_client *c);
void mc__ctrl_client_get_stats(mc__ctrl_client *c, mc__ctrl_client_stats *st);

#endif
