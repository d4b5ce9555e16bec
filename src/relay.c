/* The relay and its subscription protocol (mc/relay.h). */
#include "mc/relay.h"

#include <errno.h>
#ifndef _WIN32
#include <netdb.h>
#endif
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/net.h"
#include "mc/platform.h"
#include "mc/wire.h"

#define MAGIC "MCRS"
#define VERSION 1
#define EPOCH_US 30000000u

int mc_relay_is_msg(const uint8_t *buf, size_t len)
{
    return len >= 6 && !memcmp(buf, MAGIC, 4);
}

size_t mc_relay_msg(uint8_t *buf, int type, const uint8_t cookie[MC_RELAY_COOKIE])
{
    memcpy(buf, MAGIC, 4);
    buf[4] = VERSION;
    buf[5] = (uint8_t)type;
    if (type == MC_RELAY_HELLO)
        return 6;
    memcpy(buf + 6, cookie, MC_RELAY_COOKIE);
    return 6 + MC_RELAY_COOKIE;
}

int mc_relay_parse(const uint8_t *buf, size_t len, const uint8_t **cookie)
{
    if (!mc_relay_is_msg(buf, len))
        return MC_EMAGIC;
    if (buf[4] != VERSION)
        return MC_EVERSION;
    int type = buf[5];
    if (type == MC_RELAY_HELLO)
        return len == 6 ? type : MC_EFIELD;
    if (type < MC_RELAY_COOKIE_MSG || type > MC_RELAY_BYE || len != 6 + MC_RELAY_COOKIE)
        return MC_EFIELD;
    *cookie = buf + 6;
    return type;
}

/* "HOST[:PORT]" into an IPv4 socket address. */
static int resolve(const char *host_port, struct sockaddr_in *sa, char *why, size_t cap)
{
    char host[256];
    const char *colon = strrchr(host_port, ':');
    long port = MC_RELAY_PORT;
    size_t hl = colon ? (size_t)(colon - host_port) : strlen(host_port);
    if (!hl || hl >= sizeof(host) || (colon && mc_parse_long(colon + 1, 1, 65535, &port))) {
        snprintf(why, cap, "'%s' is not HOST[:PORT]", host_port);
        return MC_EINVAL;
    }
    memcpy(host, host_port, hl);
    host[hl] = 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e || !res) {
        snprintf(why, cap, "cannot resolve '%s': %s", host, gai_strerror(e));
        return MC_EADDR;
    }
    *sa = *(struct sockaddr_in *)res->ai_addr;
    sa->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return 0;
}

/* ---- the subscribing end ---------------------------------------------------- */

struct mc_relay_sub {
    int fd;
    struct sockaddr_in to;
    char name[300];
    uint8_t cookie[MC_RELAY_COOKIE];
    int have_cookie;
    uint64_t next_us, cookie_us;
    uint64_t last_rx_us, sent_us; /* the relay's last datagram; our last message */
};

int mc_relay_sub_open(const char *host_port, mc_relay_sub **out, int *fd, char *why, size_t cap)
{
    *out = NULL;
    mc_relay_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return MC_ENOMEM;
    int err = resolve(host_port, &s->to, why, cap);
    if (err) {
        free(s);
        return err;
    }
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &s->to.sin_addr, a, sizeof(a));
    snprintf(s->name, sizeof(s->name), "%s:%u", a, (unsigned)ntohs(s->to.sin_port));
    /* Connected: only the relay's datagrams are received. */
    s->fd = mc_net_open_udp(NULL, &s->to, 8 << 20, 0);
    if (s->fd < 0) {
        err = s->fd;
        snprintf(why, cap, "cannot reach the relay %s: %s", s->name, mc_strerror(err));
        free(s);
        return err;
    }
    *fd = s->fd;
    *out = s;
    return 0;
}

void mc_relay_sub_tick(mc_relay_sub *s, uint64_t now_us)
{
    if (!s)
        return;
    /* Nothing from the relay for half a second while subscribed: it may
     * have restarted (it answers our stale cookie with a fresh one), so
     * ask four times a second until the stream flows again. */
    int silent = s->have_cookie && now_us - s->last_rx_us > 500000u;
    if (now_us < s->next_us && !(silent && now_us - s->sent_us >= 250000u))
        return;
    /* A cookie lasts one to two epochs at the relay: ask again in time. */
    if (s->have_cookie && now_us - s->cookie_us > EPOCH_US)
        s->have_cookie = 0;
    uint8_t m[32];
    size_t n = mc_relay_msg(m, s->have_cookie ? MC_RELAY_SUBSCRIBE : MC_RELAY_HELLO, s->cookie);
    mc_sock_send(s->fd, m, n, NULL, 1); /* lost: the next tick sends again */
    s->sent_us = now_us;
    /* Without a cookie (or a relay yet), ask twice a second. */
    s->next_us = now_us + (s->have_cookie ? MC_RELAY_RENEW_US : 500000u);
}

int mc_relay_sub_take(mc_relay_sub *s, const uint8_t *buf, size_t len, uint64_t now_us)
{
    const uint8_t *cookie;
    int type = mc_relay_parse(buf, len, &cookie);
    s->last_rx_us = now_us;
    if (type == MC_EMAGIC)
        return 0; /* a forwarded datagram */
    if (type == MC_RELAY_COOKIE_MSG) {
        /* A first cookie, or a new one (the relay restarted, or refused a
         * stale one): subscribe with it at once. */
        int first = !s->have_cookie || memcmp(s->cookie, cookie, MC_RELAY_COOKIE);
        memcpy(s->cookie, cookie, MC_RELAY_COOKIE);
        s->have_cookie = 1;
        s->cookie_us = now_us;
        if (first) { /* subscribe at once */
            s->next_us = 0;
            mc_relay_sub_tick(s, now_us);
        }
    }
    return 1;
}

const char *mc_relay_sub_name(const mc_relay_sub *s) { return s->name; }

void mc_relay_sub_close(mc_relay_sub *s)
{
    if (!s)
        return;
    if (s->have_cookie) {
        uint8_t m[32];
        size_t n = mc_relay_msg(m, MC_RELAY_BYE, s->cookie);
        mc_sock_send(s->fd, m, n, NULL, 1);
    }
    mc_sock_close(s->fd);
    free(s);
}

void mc_relay_sub_ctrl_target(const mc_relay_sub *s, uint32_t *ip_be, uint16_t *port)
{
    *ip_be = s->to.sin_addr.s_addr;
    *port = (uint16_t)(ntohs(s->to.sin_port) + 1);
}

/* ---- the relay --------------------------------------------------------------- */

typedef struct {
    struct sockaddr_in addr;
    uint64_t until_us;
    uint64_t next;      /* the next datagram (absolute index) it gets */
    double tokens;      /* bytes it may be sent now (its pacer) */
    uint64_t tokens_us; /* when the tokens were last topped up */
} viewer;

/* The datagrams the viewers are still being sent: each viewer has its own
 * place in them and its own pacer, so a burst (a keyframe) goes out to
 * each at a bounded rate and a viewer that falls behind skips ahead alone
 * instead of holding anyone else up. Bytes in a ring; an index of where
 * each datagram is. */
#define RING_BYTES (16u << 20)
#define RING_COUNT 8192u
#define PACE_BURST_MIN 16384.0 /* bytes a viewer may get at once: this, or 4 ms at its rate */
typedef struct {
    uint64_t pos; /* absolute byte position of its first byte */
    uint32_t len;
} slot;

/* A viewer's control channel, carried to the teacher (or the next relay)
 * from a socket of its own, so the teacher sees each viewer as a peer of
 * its own: its requests are merged with the room's and held to the same
 * per-viewer budgets, and the key proof goes end to end. */
typedef struct {
    struct sockaddr_in from; /* the viewer's control socket */
    int fd;                  /* connected to the control target */
    uint64_t last_us;
} proxy;

#define PROXY_IDLE_US 30000000u /* ENet pings every second: 30 s quiet = gone */
#define PROXY_MAX 1000          /* file descriptors; beyond, FEC and the refresh */

struct mc_relay {
    mc_relay_config cfg;
    int in_fd, lfd, cfd;
    mc_relay_sub *up;        /* fed by another relay */
    viewer *v;
    int nv;
    proxy *px;
    int npx, max_px;
    struct sockaddr_in target; /* where control goes; port 0 = not known yet */
    int *pfd;                  /* the sockets polled, and which are ready */
    uint8_t *ready;
    uint8_t *ring;
    slot *idx;
    uint64_t head, head_pos;   /* the next datagram's index and byte position */
    uint64_t first;            /* the oldest datagram still kept */
    double rate;               /* bytes per microsecond each viewer is paced at */
    uint64_t in_bytes, rate_us;/* the incoming rate, measured each second */
    uint8_t secret[crypto_generichash_KEYBYTES];
    mc_relay_stats st;
};

static void cookie_for(const mc_relay *r, const struct sockaddr_in *a, uint64_t epoch,
                       uint8_t out[MC_RELAY_COOKIE])
{
    uint8_t in[4 + 2 + 8];
    memcpy(in, &a->sin_addr.s_addr, 4);
    memcpy(in + 4, &a->sin_port, 2);
    for (int i = 0; i < 8; i++)
        in[6 + i] = (uint8_t)(epoch >> (8 * i));
    crypto_generichash(out, MC_RELAY_COOKIE, in, sizeof(in), r->secret, sizeof(r->secret));
}

int mc_relay_create(const mc_relay_config *cfg, mc_relay **out, char *why, size_t cap)
{
    *out = NULL;
    if (sodium_init() < 0)
        return MC_ENOMEM;
    mc_relay *r = calloc(1, sizeof(*r));
    if (!r)
        return MC_ENOMEM;
    r->cfg = *cfg;
    r->in_fd = r->lfd = r->cfd = -1;
    if (!r->cfg.max_viewers)
        r->cfg.max_viewers = 500;
    if (!r->cfg.listen_port)
        r->cfg.listen_port = MC_RELAY_PORT;
    randombytes_buf(r->secret, sizeof(r->secret));
    r->v = calloc((size_t)r->cfg.max_viewers, sizeof(*r->v));
    r->max_px = r->cfg.no_ctrl ? 0 : r->cfg.max_viewers < PROXY_MAX ? r->cfg.max_viewers : PROXY_MAX;
    r->px = calloc((size_t)r->max_px + 1, sizeof(*r->px));
    r->pfd = calloc((size_t)r->max_px + 3, sizeof(*r->pfd));
    r->ready = calloc((size_t)r->max_px + 3, 1);
    r->ring = malloc(RING_BYTES);
    r->idx = calloc(RING_COUNT, sizeof(*r->idx));
    if (r->cfg.viewer_mbit <= 0)
        r->cfg.viewer_mbit = MC_RELAY_VIEWER_MBIT;
    r->rate = r->cfg.viewer_mbit / 8.0; /* Mbit/s = bits/us; bytes/us */
    int err = r->v && r->px && r->pfd && r->ready && r->ring && r->idx ? 0 : MC_ENOMEM;
    if (!err) {
        struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(r->cfg.listen_port)};
        if (cfg->listen_addr && inet_pton(AF_INET, cfg->listen_addr, &la.sin_addr) != 1) {
            snprintf(why, cap, "--listen '%s' is not an IPv4 address", cfg->listen_addr);
            err = MC_EINVAL;
        } else if ((r->lfd = mc_net_open_udp(&la, NULL, 0, 8 << 20)) < 0) {
            err = r->lfd;
            snprintf(why, cap, "cannot listen on UDP port %u: %s", (unsigned)r->cfg.listen_port,
                     mc_strerror(err));
        }
    }
    if (!err && !r->cfg.no_ctrl) { /* the control channel: the next port */
        struct sockaddr_in ca = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)(r->cfg.listen_port + 1))};
        if (cfg->listen_addr)
            inet_pton(AF_INET, cfg->listen_addr, &ca.sin_addr);
        if (r->cfg.listen_port == 65535 || (r->cfd = mc_net_open_udp(&ca, NULL, 0, 0)) < 0) {
            err = r->cfg.listen_port == 65535 ? MC_EINVAL : r->cfd;
            snprintf(why, cap, "cannot listen on UDP port %u for the viewers' control channel "
                     "(the port after --listen-port): %s; --no-control goes without",
                     (unsigned)r->cfg.listen_port + 1, mc_strerror(err));
        }
    }
    if (!err && cfg->upstream) {
        err = mc_relay_sub_open(cfg->upstream, &r->up, &r->in_fd, why, cap);
    } else if (!err) {
        r->in_fd = mc_net_open_receiver_from(cfg->group, cfg->port, cfg->iface, cfg->source, 8 << 20);
        if (r->in_fd < 0) {
            err = r->in_fd;
            snprintf(why, cap, "cannot join %s:%u: %s", cfg->group, (unsigned)cfg->port,
                     mc_strerror(err));
        }
    }
    if (err) {
        if (!why[0])
            snprintf(why, cap, "%s", mc_strerror(err));
        mc_relay_destroy(r);
        return err;
    }
    *out = r;
    return 0;
}

static viewer *find_viewer(mc_relay *r, const struct sockaddr_in *a)
{
    for (int i = 0; i < r->nv; i++)
        if (r->v[i].addr.sin_addr.s_addr == a->sin_addr.s_addr &&
            r->v[i].addr.sin_port == a->sin_port)
            return &r->v[i];
    return NULL;
}

static void on_request(mc_relay *r, const uint8_t *buf, size_t len, const struct sockaddr_in *from,
                       uint64_t now)
{
    const uint8_t *cookie = NULL;
    int type = mc_relay_parse(buf, len, &cookie);
    uint64_t epoch = now / EPOCH_US;
    uint8_t want[MC_RELAY_COOKIE], prev[MC_RELAY_COOKIE], m[32];
    if (type == MC_RELAY_HELLO) {
        /* The answer is no bigger than the question: no amplification. */
        cookie_for(r, from, epoch, want);
        size_t n = mc_relay_msg(m, MC_RELAY_COOKIE_MSG, want);
        mc_sock_send(r->lfd, m, n, from, 1);
        return;
    }
    if (type != MC_RELAY_SUBSCRIBE && type != MC_RELAY_BYE) {
        r->st.refused++;
        return;
    }
    cookie_for(r, from, epoch, want);
    cookie_for(r, from, epoch ? epoch - 1 : 0, prev);
    if (sodium_memcmp(cookie, want, MC_RELAY_COOKIE) &&
        sodium_memcmp(cookie, prev, MC_RELAY_COOKIE)) {
        r->st.refused++; /* not a cookie we gave this address: spoofed or stale */
        cookie_for(r, from, epoch, want); /* a stale one gets a fresh cookie */
        size_t n = mc_relay_msg(m, MC_RELAY_COOKIE_MSG, want);
        mc_sock_send(r->lfd, m, n, from, 1);
        return;
    }
    viewer *v = find_viewer(r, from);
    if (type == MC_RELAY_BYE) {
        if (v)
            *v = r->v[--r->nv];
        return;
    }
    if (!v) {
        if (r->nv == r->cfg.max_viewers) {
            r->st.refused++;
            return;
        }
        v = &r->v[r->nv++];
        *v = (viewer){.addr = *from, .next = r->head, .tokens = PACE_BURST_MIN, .tokens_us = now};
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a));
        mc_log(1, "mcrelay: viewer %s:%u subscribed (%d now)", a, (unsigned)ntohs(from->sin_port),
               r->nv);
    }
    v->until_us = now + MC_RELAY_KEEP_US;
}

/* ---- the control channel ------------------------------------------------------ */

static void proxy_close(mc_relay *r, int i)
{
    mc_sock_close(r->px[i].fd);
    r->px[i] = r->px[--r->npx];
}

/* Where the viewers' control goes: the teacher's control port, from its
 * announces (the address they came from), or the next relay's control
 * port. A new target ends every carried channel (the viewers reconnect). */
static void learn_target(mc_relay *r, const uint8_t *buf, size_t len, const struct sockaddr_in *src)
{
    struct sockaddr_in t = {.sin_family = AF_INET};
    if (r->up) {
        uint32_t ip;
        uint16_t port;
        mc_relay_sub_ctrl_target(r->up, &ip, &port);
        t.sin_addr.s_addr = ip;
        t.sin_port = htons(port);
    } else {
        mc_hdr h;
        mc_announce a;
        if (mc_wire_parse_header(buf, len, &h) || h.type != MC_PT_ANNOUNCE ||
            mc_wire_parse_announce(buf, len, &a) || !a.ctrl_port)
            return;
        t.sin_addr = src->sin_addr;
        t.sin_port = htons(a.ctrl_port);
    }
    if (t.sin_addr.s_addr == r->target.sin_addr.s_addr && t.sin_port == r->target.sin_port)
        return;
    while (r->npx)
        proxy_close(r, r->npx - 1);
    r->target = t;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &t.sin_addr, a, sizeof(a));
    mc_log(1, "mcrelay: viewers' control channel goes to %s:%u", a, (unsigned)ntohs(t.sin_port));
}

/* A viewer's control datagram: carried from its own socket. Only from an
 * address that holds a subscription, at most one channel more than it
 * holds subscriptions (a NAT hides a class behind one address). */
static void on_ctrl_up(mc_relay *r, const uint8_t *buf, size_t len, const struct sockaddr_in *from,
                       uint64_t now)
{
    int subs = 0, chans = 0;
    proxy *p = NULL;
    for (int i = 0; i < r->npx; i++) {
        if (r->px[i].from.sin_addr.s_addr != from->sin_addr.s_addr)
            continue;
        chans++;
        if (r->px[i].from.sin_port == from->sin_port)
            p = &r->px[i];
    }
    if (!p) {
        for (int i = 0; i < r->nv; i++)
            subs += r->v[i].addr.sin_addr.s_addr == from->sin_addr.s_addr;
        if (!subs || chans > subs || !r->target.sin_port || r->npx == r->max_px) {
            r->st.ctrl_refused++;
            return;
        }
        int fd = mc_net_open_udp(NULL, &r->target, 0, 0);
        if (fd < 0)
            return;
        p = &r->px[r->npx++];
        p->from = *from;
        p->fd = fd;
    }
    p->last_us = now;
    if (mc_sock_send(p->fd, buf, len, NULL, 1) == (long)len)
        r->st.ctrl_up++;
}

/* Keeps a datagram of the broadcast for the viewers' pacers. */
static void keep(mc_relay *r, const uint8_t *buf, size_t len)
{
    r->st.in++;
    r->in_bytes += len;
    uint64_t off = r->head_pos % RING_BYTES;
    if (off + len > RING_BYTES) /* not across the end: start again at 0 */
        r->head_pos += RING_BYTES - off, off = 0;
    memcpy(r->ring + off, buf, len);
    r->idx[r->head % RING_COUNT] = (slot){.pos = r->head_pos, .len = (uint32_t)len};
    r->head++;
    r->head_pos += len;
}

/* The oldest datagram still in the ring (it only moves forward). */
static uint64_t oldest(mc_relay *r)
{
    if (r->first + RING_COUNT < r->head)
        r->first = r->head - RING_COUNT;
    while (r->first < r->head &&
           r->head_pos - r->idx[r->first % RING_COUNT].pos > RING_BYTES - 65536)
        r->first++;
    return r->first;
}

/* Every datagram of the broadcast to every viewer, unchanged, each viewer
 * at its own pace: 1 when a viewer still waits for datagrams. */
static int send_paced(mc_relay *r, uint64_t now)
{
    int waiting = 0;
    uint64_t first = oldest(r);
    double burst = r->rate * 4000 > PACE_BURST_MIN ? r->rate * 4000 : PACE_BURST_MIN;
    for (int i = 0; i < r->nv; i++) {
        viewer *v = &r->v[i];
        v->tokens += r->rate * (double)(now - v->tokens_us);
        if (v->tokens > burst)
            v->tokens = burst;
        v->tokens_us = now;
        if (v->next < first) { /* too far behind: it loses what it missed */
            r->st.lagged += first - v->next;
            v->next = first;
        }
        while (v->next < r->head) {
            const slot *d = &r->idx[v->next % RING_COUNT];
            /* A datagram bigger than the burst goes once the bucket is full
             * (the tokens go below zero): it must not stall the viewer. */
            if (v->tokens < (double)d->len && v->tokens < burst)
                break;
            long n = mc_sock_send(r->lfd, r->ring + d->pos % RING_BYTES, d->len, &v->addr, 1);
            if (n == (long)d->len) {
                r->st.out++;
                r->st.out_bytes += d->len;
            } else {
                r->st.send_errors++; /* a full buffer: that viewer loses it, like on a network */
            }
            v->tokens -= d->len;
            v->next++;
        }
        waiting |= v->next < r->head;
    }
    return waiting;
}

/* Each viewer is paced at --viewer-rate, or at twice the broadcast's own
 * rate over the last second when that is more: bursts are smoothed, the
 * stream is never held below its rate. */
static void update_rate(mc_relay *r, uint64_t now)
{
    if (now - r->rate_us < 1000000u)
        return;
    double in = (double)r->in_bytes / (double)(now - r->rate_us); /* bytes/us */
    double floor = r->cfg.viewer_mbit / 8.0;
    r->rate = 2 * in > floor ? 2 * in : floor;
    r->in_bytes = 0;
    r->rate_us = now;
}

void mc_relay_run(mc_relay *r, volatile sig_atomic_t *stop, void (*every_5s)(mc_relay *r))
{
    static uint8_t buf[65536];
    uint64_t next_report = mc_now_us() + 5000000u;
    int waiting = 0;
    r->rate_us = mc_now_us();
    while (!*stop) {
        uint64_t now = mc_now_us();
        mc_relay_sub_tick(r->up, now);
        int *p = r->pfd;
        uint8_t *ready = r->ready;
        p[0] = r->in_fd;
        p[1] = r->lfd;
        p[2] = r->cfd; /* -1 without control: skipped */
        int np = r->npx; /* the channels polled this round */
        for (int i = 0; i < np; i++)
            p[3 + i] = r->px[i].fd;
        /* A viewer waiting for its pacer: back within a millisecond. */
        int w = mc_sock_wait(p, 3 + np, waiting ? 1 : 100, ready);
        if (w < 0 && w != -EINTR)
            break;
        if (w <= 0)
            memset(ready, 0, (size_t)(3 + np));
        now = mc_now_us();
        for (int k = 0; k < 256 && ready[0]; k++) {
            struct sockaddr_in src;
            long n = mc_sock_recv(r->in_fd, buf, sizeof(buf), &src);
            if (n <= 0)
                break;
            if (r->up && mc_relay_sub_take(r->up, buf, (size_t)n, now))
                continue;
            if (!mc_wire_peek_version(buf, (size_t)n))
                continue; /* only mcshare datagrams are relayed */
            if (r->cfd >= 0)
                learn_target(r, buf, (size_t)n, &src);
            keep(r, buf, (size_t)n);
        }
        update_rate(r, now);
        waiting = send_paced(r, mc_now_us());
        /* The teacher's answers, each to its viewer (before the channels
         * below can move in the table). */
        for (int i = 0; i < np && i < r->npx; i++) {
            if (!ready[3 + i] || p[3 + i] != r->px[i].fd)
                continue;
            for (int k = 0; k < 64; k++) {
                long n = mc_sock_recv(r->px[i].fd, buf, sizeof(buf), NULL);
                if (n <= 0)
                    break;
                if (mc_sock_send(r->cfd, buf, (size_t)n, &r->px[i].from, 1) == n)
                    r->st.ctrl_down++;
            }
        }
        for (int k = 0; k < 256 && r->cfd >= 0 && ready[2]; k++) {
            struct sockaddr_in from;
            long n = mc_sock_recv(r->cfd, buf, sizeof(buf), &from);
            if (n <= 0)
                break;
            on_ctrl_up(r, buf, (size_t)n, &from, now);
        }
        for (int i = 0; i < r->npx;) /* channels gone quiet */
            if (now - r->px[i].last_us > PROXY_IDLE_US)
                proxy_close(r, i);
            else
                i++;
        r->st.ctrl_channels = r->npx;
        for (int k = 0; k < 256 && ready[1]; k++) {
            struct sockaddr_in from;
            long n = mc_sock_recv(r->lfd, buf, sizeof(buf), &from);
            if (n <= 0)
                break;
            on_request(r, buf, (size_t)n, &from, now);
        }
        for (int i = 0; i < r->nv;) /* subscriptions not renewed */
            if (now > r->v[i].until_us)
                r->v[i] = r->v[--r->nv];
            else
                i++;
        r->st.viewers = r->nv;
        if (every_5s && now >= next_report) {
            every_5s(r);
            next_report = now + 5000000u;
        }
    }
}

void mc_relay_get_stats(const mc_relay *r, mc_relay_stats *st) { *st = r->st; }

void mc_relay_destroy(mc_relay *r)
{
    if (!r)
        return;
    if (r->up)
        mc_relay_sub_close(r->up); /* closes in_fd too */
    else
        mc_sock_close(r->in_fd);
    mc_sock_close(r->lfd);
    while (r->npx)
        proxy_close(r, r->npx - 1);
    mc_sock_close(r->cfd);
    free(r->px);
    free(r->pfd);
    free(r->ready);
    free(r->ring);
    free(r->idx);
    free(r->v);
    free(r);
}
