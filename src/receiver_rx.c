/* The receiver's way in: the receive thread (recvmmsg, seeded loss
 * injection), and for every datagram the checks before the pipeline sees
 * it: signatures (mc/auth.h) and sealed datagrams. What passes goes to
 * mc__rx_feed_locked in receiver.c. */
#include "mc/receiver.h"

#include "mc/platform.h"
#include <string.h>

#include "receiver_state.h"
#include "receiver_internal.h"
#include "mc/relay.h"
#include "mc/common.h"
#include "mc/wire.h"

/* Opens a SEALED datagram with the class key, then feeds what is inside. */
static int feed_open(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now)
{
    if (len >= MC_HDR_BYTES && pkt[0] == 'M' && pkt[1] == 'C' && pkt[3] == MC_PT_SEALED) {
        if (!r->has_seal) {
            r->st.sealed_locked++; /* "this broadcast is protected" */
            return MC_ESTATE;
        }
        int n = mc_unseal(r->seal_key, pkt, len, r->open_buf, sizeof(r->open_buf));
        if (n < 0) {
            r->st.sealed_bad++;
            return MC_EFIELD;
        }
        pkt = r->open_buf;
        len = (size_t)n;
    }
    return mc__rx_feed_locked(r, pkt, len, now);
}

/* A datagram a signed manifest vouched for (called by mc_auth_rx_push). */
static void release_signed(void *ctx, const uint8_t *pkt, size_t len)
{
    mc_receiver *r = ctx;
    feed_open(r, pkt, len, r->auth_now);
    if (r->nworkers == 0 && r->tiles) /* as after any datagram (see feed_from) */
        mc__rx_decode_inline(r);
}

/* A datagram no manifest vouched for. If it looks like one of the followed
 * session's (a lost manifest, both copies), it did arrive: count it, so the
 * loss figures stay the network's. A forgery counted here can only make
 * the loss look smaller; the auth counters show it. */
void mc__rx_dropped_unsigned(void *ctx, const uint8_t *pkt, size_t len)
{
    mc_receiver *r = ctx;
    mc_hdr h;
    if (r->state == MC_RX_WAITING || mc_wire_parse_header(pkt, len, &h) || h.session != r->session ||
        h.type == MC_PT_AUDIO || h.type == MC_PT_MANIFEST || !r->seq_init ||
        mc_seq_lt(h.seq, r->seq_first) || mc_seq_lt(r->seq_max, h.seq))
        return;
    r->st.received++;
    r->st.arrived_unverified++;
}

/* Feeds one datagram from src (network order; 0 = unknown). Caller holds mu. */
static int feed_from(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now, uint32_t src)
{
    r->rx_src = src;
    r->st.packets++;
    r->st.bytes += len;
    int err;
    mc_hdr h;
    if (r->auth && !mc_wire_parse_header(pkt, len, &h)) {
        /* Held until a manifest vouches for it; what it releases is fed
         * from here, with this datagram's source. */
        r->auth_now = now;
        err = mc_auth_rx_push(r->auth, pkt, len, now, release_signed, r);
    } else {
        err = feed_open(r, pkt, len, now); /* unsigned mode, or not mcshare at all */
    }
    r->rx_src = 0;
    if (r->nworkers == 0 && r->tiles)
        mc__rx_decode_inline(r);
    return err;
}

int mc_receiver_feed(mc_receiver *r, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    mc_mutex_lock(&r->mu);
    int err = feed_from(r, pkt, len, now_us, 0);
    mc_mutex_unlock(&r->mu);
    return err;
}

/* Loss injection for users who cannot use a firewall: a two-state
 * (Gilbert) model with the asked loss rate and mean burst length,
 * driven by a seeded xorshift generator so a run can be repeated. */
static int drop_this(mc_receiver *r)
{
    double p = r->cfg.drop_pct / 100.0, b = r->cfg.drop_burst < 1 ? 1 : r->cfg.drop_burst;
    if (p <= 0)
        return 0;
    r->drop_rng ^= r->drop_rng << 13;
    r->drop_rng ^= r->drop_rng >> 7;
    r->drop_rng ^= r->drop_rng << 17;
    double u = (double)(r->drop_rng >> 11) / 9007199254740992.0;
    if (r->drop_bad)
        r->drop_bad = u >= 1.0 / b;            /* leave the burst with 1/b */
    else
        r->drop_bad = p < 1 && u < p / (b * (1.0 - p)); /* enter so the mean is p */
    return r->drop_bad || p >= 1;
}

void *mc__rx_main(void *arg)
{
    mc_receiver *r = arg;
    uint8_t(*bufs)[RX_BUF_BYTES] = r->rxbufs;
    uint8_t *bp[RX_BATCH];
    size_t lens[RX_BATCH];
    struct sockaddr_in src[RX_BATCH];
    for (int i = 0; i < RX_BATCH; i++)
        bp[i] = bufs[i];
    for (;;) {
        mc_mutex_lock(&r->mu);
        int stop = r->stop;
        mc_mutex_unlock(&r->mu);
        if (stop)
            break;
        mc_relay_sub_tick(r->relay, mc_now_us()); /* a relay's subscription, renewed */
        uint8_t ready;
        if (mc_sock_wait(&r->fd, 1, r->relay ? 50 : 100, &ready) <= 0)
            continue;
        int n = mc_sock_recv_batch(r->fd, bp, RX_BUF_BYTES, lens, src, RX_BATCH);
        uint64_t now = mc_now_us();
        mc_mutex_lock(&r->mu); /* once per batch, not per datagram */
        for (int i = 0; i < n; i++) {
            if (r->relay && mc_relay_sub_take(r->relay, bufs[i], lens[i], now))
                continue; /* the relay's own message */
            if (drop_this(r)) {
                r->st.dropped_on_purpose++;
                continue;
            }
            /* Where the sender's control channel would be. Loopback multicast
             * without an interface address arrives from 0.0.0.0: that can
             * only be this host. */
            feed_from(r, bufs[i], lens[i], now,
                      src[i].sin_addr.s_addr ? src[i].sin_addr.s_addr : htonl(INADDR_LOOPBACK));
        }
        mc_mutex_unlock(&r->mu);
    }
    return NULL;
}

int mc__receiver_trusted_key(mc_receiver *r, uint8_t pk[32])
{
    mc_mutex_lock(&r->mu);
    int rc = !r->auth ? 0 : mc_auth_rx_key(r->auth, pk) ? -1 : 1;
    mc_mutex_unlock(&r->mu);
    return rc;
}

