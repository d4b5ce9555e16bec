/* Control server: one ENet host serviced by its own thread. All state the
 * sender reads (merged requests, reports) is behind one mutex. */
#include "ctrl_server.h"

#include <enet/enet.h>
#include "mc/platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/ctrl.h"

/* Budgets. A viewer may ask for 5 % of the picture per second (a burst of
 * 10 %); the room's repairs together for half the picture per second, the
 * rest waits for the next frames. The rolling refresh already resends the
 * whole picture every second: repairs only make a lost tile come sooner,
 * so they must never be able to crowd out the stream. */
#define REPAIR_SHARE_PER_VIEWER 0.05
#define REPAIR_SHARE_ROOM 0.5
#define MSG_RATE_PER_VIEWER 50.0      /* messages/s before they are dropped */
#define MSG_BURST_PER_VIEWER 100.0
#define KEYFRAME_MIN_GAP_US 300000u   /* at most one keyframe this often, however many ask */
#define VIEWER_KEYFRAME_GAP_US 2000000u

typedef struct {
    int used;
    ENetPeer *peer;
    char name[MC_CTRL_MAX_NAME + 1];
    char addr[48];
    uint64_t connected_us, report_us, prev_report_us;
    mc_ctrl_msg report, prev_report;
    double msg_tokens, repair_tokens;
    uint64_t refill_us, keyframe_us, dropped;
} viewer;

struct mc__ctrl_server {
    ENetHost *host;
    mc_thread thread;
    int started;
    mc_mutex mu;
    int stop;
    int tiles, max_viewers;
    uint32_t session;
    int signing;            /* WELCOMEs prove the key (signed challenge) */
    mc_signing_key key;
    viewer *v;
    uint8_t *want;     /* merged repair requests, one flag per tile */
    int nwant, keyframe;
    uint64_t last_keyframe_us, room_refill_us;
    double room_tokens, viewer_rate, viewer_burst, room_rate;
    mc_sender_stats st;
};

static mc_once enet_once = MC_ONCE_INIT;
static int enet_failed;
static void enet_init_once(void) { enet_failed = enet_initialize() != 0; }

/* ENet's global set-up, once per process (the viewer's client uses it too). */
int mc__enet_init(void)
{
    mc_once_run(&enet_once, enet_init_once);
    return enet_failed ? MC_ENOMEM : 0;
}

static void refill(mc__ctrl_server *c, viewer *v, uint64_t now)
{
    double dt = (double)(now - v->refill_us) / 1e6;
    v->refill_us = now;
    v->msg_tokens += dt * MSG_RATE_PER_VIEWER;
    if (v->msg_tokens > MSG_BURST_PER_VIEWER)
        v->msg_tokens = MSG_BURST_PER_VIEWER;
    v->repair_tokens += dt * c->viewer_rate;
    if (v->repair_tokens > c->viewer_burst)
        v->repair_tokens = c->viewer_burst;
}

static void send_msg(ENetPeer *peer, const mc_ctrl_msg *m)
{
    uint8_t buf[MC_CTRL_MAX_MSG];
    int n = mc_ctrl_write(buf, sizeof(buf), m);
    if (n <= 0)
        return;
    ENetPacket *p = enet_packet_create(buf, (size_t)n, ENET_PACKET_FLAG_RELIABLE);
    if (p && enet_peer_send(peer, 0, p) < 0)
        enet_packet_destroy(p);
}

/* Handles one message; the caller holds mu. */
static void on_message(mc__ctrl_server *c, viewer *v, const mc_ctrl_msg *m, uint64_t now)
{
    switch (m->type) {
    case MC_CT_HELLO: {
        memcpy(v->name, m->name, sizeof(v->name));
        mc_ctrl_msg w = {.type = MC_CT_WELCOME, .version = MC_CTRL_VERSION, .session = c->session};
        if (c->signing) { /* the viewer's challenge, signed: we hold the teacher's key */
            memcpy(w.key, c->key.pk, sizeof(w.key));
            mc_auth_sign_welcome(&c->key, c->session, m->nonce, w.sig);
        }
        send_msg(v->peer, &w);
        break;
    }
    case MC_CT_REPORT:
        v->prev_report = v->report;
        v->prev_report_us = v->report_us;
        v->report = *m;
        v->report_us = now;
        break;
    case MC_CT_KEYFRAME:
        c->st.keyframes_asked++;
        if (now - v->keyframe_us < VIEWER_KEYFRAME_GAP_US) {
            v->dropped++;
            c->st.ctrl_dropped++;
            break;
        }
        v->keyframe_us = now;
        c->keyframe = 1; /* merged: the sender sends it at most every 300 ms */
        break;
    case MC_CT_REPAIR:
        c->st.repairs_asked += m->ntiles;
        for (int i = 0; i < m->ntiles; i++) {
            int t = m->tiles[i];
            if (t >= c->tiles || v->repair_tokens < 1.0) {
                v->dropped++;
                c->st.ctrl_dropped++;
                continue;
            }
            v->repair_tokens -= 1.0;
            if (!c->want[t]) {
                c->want[t] = 1;
                c->nwant++;
            }
        }
        break;
    case MC_CT_PING: {
        mc_ctrl_msg p = {.type = MC_CT_PONG, .t1 = m->t1, .t2 = now, .t3 = mc_now_us()};
        send_msg(v->peer, &p);
        break;
    }
    default:
        c->st.ctrl_dropped++; /* a sender-only message from a viewer */
        break;
    }
}

static void on_receive(mc__ctrl_server *c, ENetEvent *ev)
{
    viewer *v = ev->peer->data;
    uint64_t now = mc_now_us();
    mc_ctrl_msg m;
    mc_mutex_lock(&c->mu);
    c->st.ctrl_messages++;
    if (!v) {
        c->st.ctrl_dropped++;
    } else {
        refill(c, v, now);
        if (v->msg_tokens < 1.0 || mc_ctrl_parse(ev->packet->data, ev->packet->dataLength, &m)) {
            v->dropped++;
            c->st.ctrl_dropped++;
        } else {
            v->msg_tokens -= 1.0;
            on_message(c, v, &m, now);
        }
    }
    mc_mutex_unlock(&c->mu);
    enet_packet_destroy(ev->packet);
}

static void on_connect(mc__ctrl_server *c, ENetPeer *peer)
{
    mc_mutex_lock(&c->mu);
    viewer *v = NULL;
    for (int i = 0; i < c->max_viewers && !v; i++)
        if (!c->v[i].used)
            v = &c->v[i];
    if (!v) {
        mc_mutex_unlock(&c->mu);
        enet_peer_disconnect_now(peer, 0); /* full: --max-viewers */
        return;
    }
    uint64_t now = mc_now_us();
    *v = (viewer){.used = 1, .peer = peer, .connected_us = now, .refill_us = now,
                  .msg_tokens = MSG_BURST_PER_VIEWER, .repair_tokens = c->viewer_burst};
    struct in_addr a = {.s_addr = peer->address.host};
    snprintf(v->addr, sizeof(v->addr), "%s:%u", inet_ntoa(a), (unsigned)peer->address.port);
    peer->data = v;
    c->st.viewers++;
    mc_mutex_unlock(&c->mu);
    /* A silent viewer is dropped after 10 s. */
    enet_peer_timeout(peer, 0, 5000, 10000);
}

static void on_disconnect(mc__ctrl_server *c, ENetPeer *peer)
{
    mc_mutex_lock(&c->mu);
    viewer *v = peer->data;
    if (v) {
        v->used = 0;
        c->st.viewers--;
    }
    peer->data = NULL;
    mc_mutex_unlock(&c->mu);
}

static void *server_main(void *arg)
{
    mc__ctrl_server *c = arg;
    for (;;) {
        mc_mutex_lock(&c->mu);
        int stop = c->stop;
        mc_mutex_unlock(&c->mu);
        if (stop)
            break;
        ENetEvent ev;
        /* One service call (it walks every peer slot to send and resend),
         * then drain the events it queued without walking them again. */
        int got = enet_host_service(c->host, &ev, 20);
        for (int n = 0; n < 1000 && got > 0; n++, got = enet_host_check_events(c->host, &ev)) {
            if (ev.type == ENET_EVENT_TYPE_CONNECT)
                on_connect(c, ev.peer);
            else if (ev.type == ENET_EVENT_TYPE_RECEIVE)
                on_receive(c, &ev);
            else if (ev.type == ENET_EVENT_TYPE_DISCONNECT)
                on_disconnect(c, ev.peer);
        }
    }
    return NULL;
}

int mc__ctrl_server_create(uint16_t port, int tiles, uint32_t session, int max_viewers,
                           const mc_signing_key *key, mc__ctrl_server **out)
{
    *out = NULL;
    if (mc__enet_init())
        return MC_ENOMEM;
    mc__ctrl_server *c = calloc(1, sizeof(*c));
    if (!c)
        return MC_ENOMEM;
    c->tiles = tiles;
    c->session = session;
    if (key) {
        c->signing = 1;
        c->key = *key;
    }
    c->viewer_rate = tiles * REPAIR_SHARE_PER_VIEWER < 5 ? 5 : tiles * REPAIR_SHARE_PER_VIEWER;
    c->viewer_burst = 2 * c->viewer_rate;
    c->room_rate = tiles * REPAIR_SHARE_ROOM < 10 ? 10 : tiles * REPAIR_SHARE_ROOM;
    c->room_refill_us = mc_now_us();
    c->max_viewers = max_viewers;
    mc_mutex_init(&c->mu);
    c->v = calloc((size_t)max_viewers, sizeof(*c->v));
    c->want = calloc((size_t)tiles, 1);
    ENetAddress addr = {.host = ENET_HOST_ANY, .port = port};
    int err = MC_ENOMEM;
    if (c->v && c->want) {
        c->host = enet_host_create(&addr, (size_t)max_viewers + 8, 1, 0, 0);
        err = c->host ? 0 : MC_EADDR; /* the port is busy */
    }
    if (!err)
        err = mc_thread_start(&c->thread, server_main, c);
    c->started = !err;
    if (err) {
        mc__ctrl_server_destroy(c);
        return err;
    }
    *out = c;
    return 0;
}

void mc__ctrl_server_destroy(mc__ctrl_server *c)
{
    if (!c)
        return;
    if (c->started) {
        mc_mutex_lock(&c->mu);
        c->stop = 1;
        mc_mutex_unlock(&c->mu);
        mc_thread_join(c->thread);
    }
    if (c->host) {
        for (size_t i = 0; i < c->host->peerCount; i++)
            if (c->host->peers[i].state == ENET_PEER_STATE_CONNECTED)
                enet_peer_disconnect_now(&c->host->peers[i], 0);
        enet_host_flush(c->host);
        enet_host_destroy(c->host);
    }
    free(c->v);
    free(c->want);
    mc_mutex_destroy(&c->mu);
    free(c);
}

int mc__ctrl_server_take(mc__ctrl_server *c, uint8_t *want, int *keyframe)
{
    uint64_t now = mc_now_us();
    int n = 0;
    mc_mutex_lock(&c->mu);
    *keyframe = 0;
    if (c->keyframe && now - c->last_keyframe_us >= KEYFRAME_MIN_GAP_US) {
        *keyframe = 1;
        c->keyframe = 0;
        c->last_keyframe_us = now;
        c->st.keyframes_sent++;
    }
    c->room_tokens += (double)(now - c->room_refill_us) / 1e6 * c->room_rate;
    c->room_refill_us = now;
    if (c->room_tokens > c->room_rate)
        c->room_tokens = c->room_rate;
    for (int t = 0; c->nwant > 0 && t < c->tiles && c->room_tokens >= 1.0; t++)
        if (c->want[t]) {
            c->want[t] = 0;
            c->nwant--;
            if (!want[t]) {
                want[t] = 1;
                n++;
                c->room_tokens -= 1.0;
            }
        }
    c->st.repairs_sent += (uint64_t)n;
    mc_mutex_unlock(&c->mu);
    return n;
}

/* Loss over the interval between a viewer's last two reports, percent. */
static double viewer_loss(const viewer *v)
{
    if (!v->report_us)
        return -1;
    uint32_t exp = v->report.expected, rec = v->report.received;
    if (v->prev_report_us && v->report.expected >= v->prev_report.expected) {
        exp -= v->prev_report.expected;
        rec -= v->prev_report.received;
    }
    if (exp == 0 || rec > exp)
        return 0;
    return 100.0 * (double)(exp - rec) / (double)exp;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mc__ctrl_server_room_loss(mc__ctrl_server *c)
{
    double loss[1024];
    int n = 0;
    uint64_t now = mc_now_us();
    mc_mutex_lock(&c->mu);
    for (int i = 0; i < c->max_viewers && n < 1024; i++)
        if (c->v[i].used && c->v[i].report_us && now - c->v[i].report_us < 5000000u)
            loss[n++] = viewer_loss(&c->v[i]);
    mc_mutex_unlock(&c->mu);
    if (n == 0)
        return -1;
    /* The 90th percentile: sized for the worse viewers of the room, not the
     * average and not one broken outlier. */
    qsort(loss, (size_t)n, sizeof(double), cmp_double);
    return loss[(n - 1) * 9 / 10];
}

void mc__ctrl_server_stats(mc__ctrl_server *c, mc_sender_stats *st)
{
    mc_mutex_lock(&c->mu);
    st->viewers = c->st.viewers;
    st->ctrl_messages = c->st.ctrl_messages;
    st->ctrl_dropped = c->st.ctrl_dropped;
    st->repairs_asked = c->st.repairs_asked;
    st->repairs_sent = c->st.repairs_sent;
    st->keyframes_asked = c->st.keyframes_asked;
    st->keyframes_sent = c->st.keyframes_sent;
    mc_mutex_unlock(&c->mu);
}

int mc__ctrl_server_roster(mc__ctrl_server *c, mc_viewer_info *out, int max)
{
    int n = 0;
    uint64_t now = mc_now_us();
    mc_mutex_lock(&c->mu);
    for (int i = 0; i < c->max_viewers && n < max; i++) {
        const viewer *v = &c->v[i];
        if (!v->used)
            continue;
        mc_viewer_info *o = &out[n++];
        memset(o, 0, sizeof(*o));
        memcpy(o->name, v->name, sizeof(o->name));
        memcpy(o->addr, v->addr, sizeof(o->addr));
        o->connected_s = (double)(now - v->connected_us) / 1e6;
        o->report_age_s = v->report_us ? (double)(now - v->report_us) / 1e6 : -1;
        o->loss_pct = viewer_loss(v);
        o->tiles_held = v->report.tiles_held;
        o->tiles_total = v->report.tiles_total;
        o->lat_p50_ms = v->report.lat_p50_us / 1000.0;
        o->lat_p95_ms = v->report.lat_p95_us / 1000.0;
        o->dropped = v->dropped;
    }
    mc_mutex_unlock(&c->mu);
    return n;
}
