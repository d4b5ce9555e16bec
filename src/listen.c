/* Listening for another broadcast before starting one (mc/listen.h). */
#include "mc/listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mc/common.h"
#include "mc/platform.h"
#include "mc/net.h"
#include "mc/wire.h"

static void heard(mc_other_broadcast *o, const uint8_t *buf, size_t len,
                  const struct sockaddr_in *src)
{
    mc_hdr h;
    int v = mc_wire_peek_version(buf, len);
    if (!v)
        return; /* not mcshare */
    if (v != MC_WIRE_VERSION) {
        if (!o->packets) {
            o->version = v;
            inet_ntop(AF_INET, &src->sin_addr, o->from, sizeof(o->from));
        }
        o->packets++;
        return;
    }
    if (mc_wire_parse_header(buf, len, &h))
        return;
    if (o->session && h.session != o->session)
        return; /* a third one: the first is enough to name */
    if (!o->session) {
        o->session = h.session;
        o->version = v;
        inet_ntop(AF_INET, &src->sin_addr, o->from, sizeof(o->from));
    }
    o->packets++;
    o->ended = h.type == MC_PT_BYE;
    if (h.type == MC_PT_SEALED)
        o->sealed = 1;
    mc_announce a;
    if (h.type == MC_PT_ANNOUNCE && !mc_wire_parse_announce(buf, len, &a)) {
        o->width = a.width;
        o->height = a.height;
    }
    mc_manifest m;
    if (h.type == MC_PT_MANIFEST && !mc_manifest_parse(buf, len, &m)) {
        mc_key_fingerprint(m.pk, o->fpr); /* claimed, not checked: it only names it */
        o->have_fpr = 1;
    }
}

int mc_listen_for_broadcast(const char *group, uint16_t port, const char *iface, int ms,
                            mc_other_broadcast *o)
{
    memset(o, 0, sizeof(*o));
    int fd = mc_net_open_receiver(group, port, iface, 1 << 20);
    if (fd < 0)
        return fd;
    uint64_t end = mc_now_us() + (uint64_t)ms * 1000u;
    static uint8_t buf[65536];
    for (;;) {
        uint64_t now = mc_now_us();
        if (now >= end)
            break;
        /* Seen in full (its size, and its key unless it is unsigned): enough. */
        if (o->packets >= 20 && (o->width || o->sealed) && o->have_fpr)
            break;
        uint8_t ready;
        int r = mc_sock_wait(&fd, 1, (int)((end - now + 999) / 1000), &ready);
        if (r == -EINTR)
            break; /* Ctrl-C while listening */
        if (r <= 0)
            continue;
        struct sockaddr_in src;
        long n = mc_sock_recv(fd, buf, sizeof(buf), &src);
        if (n > 0)
            heard(o, buf, (size_t)n, &src);
    }
    mc_sock_close(fd);
    return o->packets > 0 && !o->ended;
}

void mc_other_broadcast_describe(const mc_other_broadcast *o, char *out, size_t cap)
{
    char size[32] = "", key[MC_FPR_CHARS + 8] = "";
    if (o->version != MC_WIRE_VERSION) {
        snprintf(out, cap, "from %s, an mcshare of protocol version %d", o->from, o->version);
        return;
    }
    if (o->width)
        snprintf(size, sizeof(size), ", %dx%d", o->width, o->height);
    if (o->have_fpr) {
        char f[MC_FPR_CHARS];
        mc_fpr_format(o->fpr, f);
        snprintf(key, sizeof(key), ", key %s", f);
    }
    snprintf(out, cap, "from %s%s%s, session %08x%s", o->from, size,
             o->sealed ? ", encrypted" : "", o->session, key);
}
