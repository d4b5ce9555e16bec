/* The viewer's control client: one ENet peer to the followed sender, on
 * its own thread. It says hello, asks for a keyframe when the picture is
 * incomplete, asks for the tiles that stay behind, reports about once a
 * second (with jitter, so a room of viewers does not report in step), and
 * keeps the sender's clock. Losing it never stops the picture. */
#include <enet/enet.h>
#include "mc/platform.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctrl_client.h"
#include "ctrl_server.h"
#include "mc/common.h"
#include "mc/auth.h"
#include "mc/ctrl.h"

#define TICK_MS 20
#define REPAIR_CHECK_US 100000u   /* look for lagging tiles this often */
#define KEYFRAME_GAP_US 2000000u  /* ask for a keyframe at most this often */
#define BACKOFF_MIN_US 500000u
#define BACKOFF_MAX_US 8000000u

struct mc__ctrl_client {
    mc__ctrl_host h;
    mc_thread thread;
    int started, stop;
    mc_mutex mu; /* guards stop; the counters are atomic */
    char name[MC_CTRL_MAX_NAME + 1];
    ENetHost *host;
    ENetPeer *peer;
    _Atomic int connected;
    uint32_t ip, session;
    uint16_t port;
    uint64_t next_try_us, backoff_us, next_report_us, next_ping_us, next_check_us, keyframe_us;
    int pings;
    uint32_t best_rtt_us;
    uint8_t *lag_age;  /* per tile: consecutive checks it has lagged */
    uint8_t *lag_now;  /* per tile: lagging in this check */
    uint16_t *lag;     /* lagging tile indices */
    int lag_cap;
    _Atomic uint64_t keyframes_asked, repairs_asked, refused;
    uint8_t nonce[16];  /* our challenge in this connection's HELLO */
    int proven;         /* the WELCOME proved the teacher's key (or none is required) */
    uint32_t rng;
};

static void send_msg(mc__ctrl_client *c, const mc_ctrl_msg *m)
{
    uint8_t buf[MC_CTRL_MAX_MSG];
    int n = mc_ctrl_write(buf, sizeof(buf), m);
    if (n <= 0 || !c->peer)
        return;
    ENetPacket *p = enet_packet_create(buf, (size_t)n, ENET_PACKET_FLAG_RELIABLE);
    if (p && enet_peer_send(c->peer, 0, p) < 0)
        enet_packet_destroy(p);
}

static uint64_t jitter(mc__ctrl_client *c, uint64_t base_us)
{
    /* +-20 %: a hundred viewers started together spread their reports. */
    return base_us * 8 / 10 + (uint64_t)(mc_rand_next(&c->rng) % 1000) * base_us * 4 / 10000;
}

static void disconnect(mc__ctrl_client *c)
{
    if (c->peer)
        enet_peer_reset(c->peer);
    c->peer = NULL;
    c->connected = 0;
}

static void send_report(mc__ctrl_client *c)
{
    mc_ctrl_msg m = {.type = MC_CT_REPORT};
    c->h.report(c->h.ctx, &m.expected, &m.received, &m.recovered, &m.tiles_held, &m.tiles_total,
                &m.lat_p50_us, &m.lat_p95_us);
    send_msg(c, &m);
}

/* Asks for the tiles that lagged for two checks in a row (reordering and
 * FEC get 100 ms to fix things first); a keyframe when most are missing. */
static void check_tiles(mc__ctrl_client *c, uint64_t now)
{
    int missing, total;
    int n = c->h.lagging(c->h.ctx, c->lag, c->lag_cap, &missing, &total);
    if (total != c->lag_cap) { /* a new geometry: size the tables, and go on */
        free(c->lag_age);
        free(c->lag_now);
        free(c->lag);
        size_t t = (size_t)(total > 0 ? total : 1);
        c->lag_age = calloc(t, 1);
        c->lag_now = calloc(t, 1);
        c->lag = calloc(t, sizeof(*c->lag));
        c->lag_cap = c->lag_age && c->lag_now && c->lag ? total : 0;
        if (c->lag_cap != total)
            return;
        n = c->h.lagging(c->h.ctx, c->lag, c->lag_cap, &missing, &total);
        if (total != c->lag_cap)
            return; /* the geometry changed again meanwhile: next time */
    }
    if (total > 0 && missing * 4 > total && now - c->keyframe_us >= KEYFRAME_GAP_US) {
        mc_ctrl_msg k = {.type = MC_CT_KEYFRAME};
        send_msg(c, &k);
        c->keyframe_us = now;
        c->keyframes_asked++;
        return;
    }
    mc_ctrl_msg m = {.type = MC_CT_REPAIR};
    memset(c->lag_now, 0, (size_t)c->lag_cap);
    for (int i = 0; i < n && i < c->lag_cap; i++) {
        int t = c->lag[i];
        if (t >= c->lag_cap)
            continue;
        c->lag_now[t] = 1;
        if (c->lag_age[t] < 255)
            c->lag_age[t]++;
        if (c->lag_age[t] >= 2 && m.ntiles < MC_CTRL_MAX_REPAIR)
            m.tiles[m.ntiles++] = (uint16_t)t;
    }
    for (int t = 0; t < c->lag_cap; t++)
        if (!c->lag_now[t])
            c->lag_age[t] = 0;
    if (m.ntiles) {
        send_msg(c, &m);
        c->repairs_asked += m.ntiles;
    }
}

static void on_pong(mc__ctrl_client *c, const mc_ctrl_msg *m, uint64_t t4)
{
    if (t4 < m->t1 || m->t3 < m->t2)
        return;
    uint64_t rtt = (t4 - m->t1) - (m->t3 - m->t2);
    /* NTP-style: keep the offset measured with the shortest round trip. */
    if (c->best_rtt_us && rtt > c->best_rtt_us)
        return;
    c->best_rtt_us = (uint32_t)(rtt ? rtt : 1);
    int64_t offset = ((int64_t)(m->t2 - m->t1) + (int64_t)(m->t3 - t4)) / 2;
    c->h.set_clock(c->h.ctx, offset, (uint32_t)rtt);
}

/* A signed stream's sender must prove on the control channel that it
 * holds the key the stream is signed with; anyone else answering on the
 * teacher's address (or a replayed WELCOME) is dropped. */
static void on_welcome(mc__ctrl_client *c, const mc_ctrl_msg *m)
{
    uint8_t pk[32];
    int need = c->h.trusted_key(c->h.ctx, pk);
    if (need == 0 || (need == 1 && !memcmp(m->key, pk, sizeof(pk)) &&
                      !mc_auth_verify_welcome(pk, m->session, c->nonce, m->sig))) {
        c->proven = 1;
        return;
    }
    atomic_fetch_add(&c->refused, 1);
    mc_log(0, "mcview: the control channel at %u.%u.%u.%u did not prove it holds the "
           "teacher's key; not using it", c->ip & 255, c->ip >> 8 & 255, c->ip >> 16 & 255,
           c->ip >> 24);
    disconnect(c);
    c->next_try_us = mc_now_us() + BACKOFF_MAX_US;
}

static void on_event(mc__ctrl_client *c, ENetEvent *ev, uint64_t now)
{
    if (ev->type == ENET_EVENT_TYPE_CONNECT) {
        c->connected = 1;
        c->backoff_us = BACKOFF_MIN_US;
        mc_ctrl_msg h = {.type = MC_CT_HELLO, .version = MC_CTRL_VERSION};
        memcpy(h.name, c->name, sizeof(h.name));
        if (mc_random_bytes(c->nonce, sizeof(c->nonce)))
            for (size_t i = 0; i < sizeof(c->nonce); i++)
                c->nonce[i] = (uint8_t)mc_rand_next(&c->rng);
        memcpy(h.nonce, c->nonce, sizeof(h.nonce));
        c->proven = 0;
        send_msg(c, &h);
        c->next_report_us = now + jitter(c, 1000000u);
        c->next_ping_us = now;
        c->next_check_us = now; /* a joining viewer asks for its keyframe at once */
        c->pings = 0;
        c->best_rtt_us = 0;
        mc_log(1, "mcview: control channel connected");
    } else if (ev->type == ENET_EVENT_TYPE_RECEIVE) {
        mc_ctrl_msg m;
        if (mc_ctrl_parse(ev->packet->data, ev->packet->dataLength, &m) == 0) {
            if (m.type == MC_CT_WELCOME)
                on_welcome(c, &m);
            else if (m.type == MC_CT_PONG && c->proven)
                on_pong(c, &m, now); /* the clock only from the proven sender */
        }
        enet_packet_destroy(ev->packet);
    } else if (ev->type == ENET_EVENT_TYPE_DISCONNECT) {
        c->peer = NULL;
        c->connected = 0;
        c->next_try_us = now + c->backoff_us;
        c->backoff_us = c->backoff_us * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : c->backoff_us * 2;
    }
}

/* Connects to the followed sender; reconnects (with backoff) when it
 * changes or the connection is lost. */
static void manage_connection(mc__ctrl_client *c, uint64_t now)
{
    uint32_t ip, session;
    uint16_t port;
    int known = c->h.target(c->h.ctx, &ip, &port, &session);
    if (c->peer && (!known || ip != c->ip || port != c->port || session != c->session))
        disconnect(c);
    if (!known || c->peer || now < c->next_try_us)
        return;
    c->ip = ip;
    c->port = port;
    c->session = session;
    ENetAddress a = {.host = ip, .port = port};
    c->peer = enet_host_connect(c->host, &a, 1, 0);
    mc_log(2, "mcview: connecting to the control channel %u.%u.%u.%u:%u%s", ip & 255,
           ip >> 8 & 255, ip >> 16 & 255, ip >> 24, (unsigned)port, c->peer ? "" : " failed");
    if (c->peer)
        enet_peer_timeout(c->peer, 0, 3000, 6000);
    c->next_try_us = now + c->backoff_us;
}

static void periodic(mc__ctrl_client *c, uint64_t now)
{
    if (!c->connected)
        return;
    if (now >= c->next_report_us) {
        send_report(c);
        c->next_report_us = now + jitter(c, 1000000u);
    }
    if (now >= c->next_ping_us) {
        mc_ctrl_msg p = {.type = MC_CT_PING, .t1 = mc_now_us()};
        send_msg(c, &p);
        /* A few quick pings for a first estimate, then one every 2 s. */
        c->next_ping_us = now + (c->pings++ < 4 ? 200000u : jitter(c, 2000000u));
    }
    if (now >= c->next_check_us) {
        check_tiles(c, now);
        c->next_check_us = now + REPAIR_CHECK_US;
    }
}

static void *client_main(void *arg)
{
    mc__ctrl_client *c = arg;
    for (;;) {
        mc_mutex_lock(&c->mu);
        int stop = c->stop;
        mc_mutex_unlock(&c->mu);
        if (stop)
            break;
        uint64_t now = mc_now_us();
        manage_connection(c, now);
        ENetEvent ev;
        int got = enet_host_service(c->host, &ev, TICK_MS);
        for (int n = 0; n < 100 && got > 0; n++, got = enet_host_check_events(c->host, &ev))
            on_event(c, &ev, mc_now_us());
        periodic(c, mc_now_us());
        enet_host_flush(c->host);
    }
    if (c->peer) {
        enet_peer_disconnect_now(c->peer, 0);
        enet_host_flush(c->host);
    }
    return NULL;
}

int mc__ctrl_client_create(const mc__ctrl_host *host, const char *name, mc__ctrl_client **out)
{
    *out = NULL;
    if (mc__enet_init())
        return MC_ENOMEM;
    mc__ctrl_client *c = calloc(1, sizeof(*c));
    if (!c)
        return MC_ENOMEM;
    c->h = *host;
    c->backoff_us = BACKOFF_MIN_US;
    c->rng = (uint32_t)mc_now_us() ^ (uint32_t)getpid();
    mc_mutex_init(&c->mu);
    char hostname[256] = "viewer";
    if (!name && (mc_host_name(hostname, sizeof(hostname)) || !hostname[0]))
        snprintf(hostname, sizeof(hostname), "viewer");
    snprintf(c->name, sizeof(c->name), "%.*s", MC_CTRL_MAX_NAME, name ? name : hostname);
    for (char *p = c->name; *p; p++) /* the wire takes printable ASCII only */
        if (*p < 0x20 || *p > 0x7E)
            *p = '?';
    c->host = enet_host_create(NULL, 1, 1, 0, 0);
    int err = c->host ? 0 : MC_ENOMEM;
    if (!err)
        err = mc_thread_start(&c->thread, client_main, c);
    c->started = !err;
    if (err) {
        mc__ctrl_client_destroy(c);
        return err;
    }
    *out = c;
    return 0;
}

void mc__ctrl_client_destroy(mc__ctrl_client *c)
{
    if (!c)
        return;
    if (c->started) {
        mc_mutex_lock(&c->mu);
        c->stop = 1;
        mc_mutex_unlock(&c->mu);
        mc_thread_join(c->thread);
    }
    if (c->host)
        enet_host_destroy(c->host);
    free(c->lag_age);
    free(c->lag_now);
    free(c->lag);
    mc_mutex_destroy(&c->mu);
    free(c);
}

void mc__ctrl_client_get_stats(mc__ctrl_client *c, mc__ctrl_client_stats *st)
{
    st->connected = atomic_load(&c->connected);
    st->refused = atomic_load(&c->refused);
    st->keyframes_asked = atomic_load(&c->keyframes_asked);
    st->repairs_asked = atomic_load(&c->repairs_asked);
}
