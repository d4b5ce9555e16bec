/* What the receiver tells (mc/receiver.h, receiver_state.h): its
 * statistics and latency figures, and, as the control client's host
 * (ctrl_client.h), where the sender's control port is, which tiles lag,
 * the clock offset and the figures of each REPORT. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/platform.h"
#include "mc/receiver.h"
#include "mc/relay.h"
#include "receiver_state.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void mc__rx_quantiles(const float *ring, int n, const int *pct, int count, double *out)
{
    int k = n < LAT_SAMPLES ? n : LAT_SAMPLES;
    for (int i = 0; i < count; i++)
        out[i] = 0;
    if (k == 0)
        return;
    float tmp[LAT_SAMPLES];
    memcpy(tmp, ring, (size_t)k * sizeof(float));
    qsort(tmp, (size_t)k, sizeof(float), cmp_float);
    for (int i = 0; i < count; i++)
        out[i] = tmp[(k - 1) * pct[i] / 100];
}

static const int LAT_PCT[3] = {50, 95, 99};

int mc__receiver_ctrl_target(mc_receiver *r, uint32_t *ip_be, uint16_t *port, uint32_t *session)
{
    mc_mutex_lock(&r->mu);
    int known = r->state == MC_RX_LIVE && r->ctrl_ip && r->ann.ctrl_port;
    *ip_be = r->ctrl_ip;
    *port = r->ann.ctrl_port;
    if (known && r->relay) /* the relay's own port, fixed: no lock needed for it */
        mc_relay_sub_ctrl_target(r->relay, ip_be, port);
    *session = r->session;
    mc_mutex_unlock(&r->mu);
    return known;
}

int mc__receiver_lagging(mc_receiver *r, uint16_t *tiles, int max, int *missing, int *total)
{
    int n = 0;
    mc_mutex_lock(&r->mu);
    *missing = 0;
    *total = r->tiles ? r->grid.count : 0;
    for (int i = 0; r->tiles && i < r->grid.count; i++) {
        const tile_slot *t = &r->tiles[i];
        *missing += !t->have && !t->held;
        if (!t->ready && mc__rx_tile_behind(t)) {
            if (n < max)
                tiles[n] = (uint16_t)i;
            n++;
        }
    }
    mc_mutex_unlock(&r->mu);
    return n;
}

void mc__receiver_set_clock_offset(mc_receiver *r, int64_t offset_us, uint32_t rtt_us)
{
    mc_mutex_lock(&r->mu);
    r->clock_offset_us = offset_us;
    r->clock_rtt_us = rtt_us;
    r->clock_synced = 1;
    mc_mutex_unlock(&r->mu);
}

/* The receiver as the control client's host (ctrl_client.h). */
static int host_target(void *ctx, uint32_t *ip_be, uint16_t *port, uint32_t *session)
{
    return mc__receiver_ctrl_target(ctx, ip_be, port, session);
}

static int host_lagging(void *ctx, uint16_t *tiles, int max, int *missing, int *total)
{
    return mc__receiver_lagging(ctx, tiles, max, missing, total);
}

static void host_set_clock(void *ctx, int64_t offset_us, uint32_t rtt_us)
{
    mc__receiver_set_clock_offset(ctx, offset_us, rtt_us);
}

static int host_trusted_key(void *ctx, uint8_t pk[32]) { return mc__receiver_trusted_key(ctx, pk); }

static void host_report(void *ctx, uint32_t *expected, uint32_t *received, uint32_t *recovered,
                        uint16_t *tiles_held, uint16_t *tiles_total, uint32_t *lat_p50_us,
                        uint32_t *lat_p95_us)
{
    mc_receiver_stats st;
    mc_receiver_get_stats(ctx, &st);
    *expected = (uint32_t)st.expected;
    *received = (uint32_t)st.received;
    *recovered = (uint32_t)st.fec_recovered;
    *tiles_held = (uint16_t)st.tiles_held;
    *tiles_total = (uint16_t)st.tiles;
    *lat_p50_us = (uint32_t)(st.lat_decoded_ms[0] * 1000);
    *lat_p95_us = (uint32_t)(st.lat_decoded_ms[1] * 1000);
}

void mc_receiver_get_stats(mc_receiver *r, mc_receiver_stats *st)
{
    mc_mutex_lock(&r->mu);
    *st = r->st;
    st->state = r->state;
    st->session = r->session;
    st->width = r->grid.width;
    st->height = r->grid.height;
    st->tiles = r->grid.count;
    st->tile = r->grid.tile;
    st->fps = r->ann.fps;
    st->last_packet_us = r->last_rx_us;
    st->clock_synced = r->clock_synced;
    st->clock_offset_us = r->clock_offset_us;
    st->clock_rtt_us = r->clock_rtt_us;
    st->tiles_behind = 0;
    st->tiles_stale = 0;
    for (int i = 0; r->tiles && i < r->grid.count; i++) {
        const tile_slot *t = &r->tiles[i];
        if (mc__rx_tile_behind(t)) { /* decoded and waiting for the sound is not behind */
            st->tiles_behind++;
            /* Stale for a while, not merely in flight right now. */
            st->tiles_stale += r->last_rx_us - t->newest_seen_us > STALE_AFTER_US;
        }
    }
    if (r->auth) {
        st->auth_on = 1;
        mc_auth_rx_get_stats(r->auth, &st->auth);
    }
    mc__fec_stats fs;
    mc__fecrx_stats(r->fec, &fs);
    st->fec_recovered = fs.recovered;
    st->fec_blocks = fs.blocks;
    st->fec_unrecoverable = fs.unrecoverable;
    for (int i = 0; i < r->ann.ncodecs; i++)
        if (r->ann.codecs[i].id == MC_CODEC_JPEG && r->ann.codecs[i].len >= 2) {
            st->subsamp = r->ann.codecs[i].params[0];
            st->quality = r->ann.codecs[i].params[1];
        }
    st->pending_moves = r->npend;
    mc__rx_quantiles(r->lat_c, r->lat_c_n, LAT_PCT, 3, st->lat_complete_ms);
    mc__rx_quantiles(r->lat_d, r->lat_d_n, LAT_PCT, 3, st->lat_decoded_ms);
    st->lat_samples = r->lat_d_n < LAT_SAMPLES ? r->lat_d_n : LAT_SAMPLES;
    mc__rx_av_stats(r, st);
    mc__ctrl_client *cl = r->client;
    mc_mutex_unlock(&r->mu);
    if (cl) { /* lives until the receiver is destroyed */
        mc__ctrl_client_stats cs;
        mc__ctrl_client_get_stats(cl, &cs);
        st->ctrl_connected = cs.connected;
        st->ctrl_refused = cs.refused;
        st->ctrl_keyframes_asked = cs.keyframes_asked;
        st->ctrl_repairs_asked = cs.repairs_asked;
    }
}

int mc_receiver_latency_samples(mc_receiver *r, float *out, int max)
{
    mc_mutex_lock(&r->mu);
    int n = r->lat_d_n < LAT_SAMPLES ? r->lat_d_n : LAT_SAMPLES;
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) /* oldest first: the newest is at lat_d_n - 1 */
        out[i] = r->lat_d[(r->lat_d_n - n + i) % LAT_SAMPLES];
    mc_mutex_unlock(&r->mu);
    return n;
}

void mc__receiver_ctrl_host(mc_receiver *r, mc__ctrl_host *host)
{
    *host = (mc__ctrl_host){.ctx = r, .target = host_target, .lagging = host_lagging,
                            .set_clock = host_set_clock, .trusted_key = host_trusted_key,
                            .report = host_report};
}
