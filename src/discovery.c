/* SAP/SDP announcements of a broadcast, signed (mc/discovery.h). */
#include "mc/discovery.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "mc/common.h"
#include "mc/platform.h"
#include "mc/net.h"

#define SAP_V1 0x20      /* version 1, IPv4, announcement */
#define SAP_DELETE 0x04  /* the T bit */
#define SIG_CONTEXT "mcshare-sap-v1"
#define PAYLOAD_TYPE "application/sdp"

static uint64_t wall_ms(void) { return mc_wall_us() / 1000u; }

/* The signed message: context, SAP byte 0, the SDP before the sig line. */
static size_t signed_msg(uint8_t byte0, const char *sdp, size_t n, uint8_t *out, size_t cap)
{
    size_t cl = sizeof(SIG_CONTEXT) - 1;
    if (cl + 1 + n > cap)
        return 0;
    memcpy(out, SIG_CONTEXT, cl);
    out[cl] = byte0;
    memcpy(out + cl + 1, sdp, n);
    return cl + 1 + n;
}

int mc_disco_build(const mc_disco_entry *e, const mc_signing_key *key, int deletion,
                   uint32_t origin_be, uint8_t *buf, size_t cap)
{
    char sdp[MC_SAP_MAX_BYTES];
    char pk64[sodium_base64_ENCODED_LEN(MC_KEY_PUBLIC, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(pk64, sizeof(pk64), key->pk, MC_KEY_PUBLIC, sodium_base64_VARIANT_ORIGINAL);
    char origin[INET_ADDRSTRLEN];
    struct in_addr oa = {.s_addr = origin_be};
    inet_ntop(AF_INET, &oa, origin, sizeof(origin));
    int n = snprintf(sdp, sizeof(sdp),
                     "v=0\r\no=- %u %llu IN IP4 %s\r\ns=%s\r\nc=IN IP4 %s/1\r\nt=0 0\r\n"
                     "a=tool:mcshare %s\r\nm=application %u udp mcshare\r\n"
                     "a=x-mcshare-ctrl:%u\r\na=x-mcshare-sealed:%d\r\na=x-mcshare-key:%s\r\n",
                     (unsigned)e->session, (unsigned long long)(e->time_ms ? e->time_ms : wall_ms()),
                     origin, e->name, e->group, MC_VERSION_STRING, (unsigned)e->port,
                     (unsigned)e->ctrl_port, e->sealed ? 1 : 0, pk64);
    if (n < 0 || (size_t)n >= sizeof(sdp) - 120)
        return MC_ETOOBIG;
    uint8_t byte0 = SAP_V1 | (deletion ? SAP_DELETE : 0);
    uint8_t msg[MC_SAP_MAX_BYTES + 32], sig[MC_SIG_BYTES];
    size_t ml = signed_msg(byte0, sdp, (size_t)n, msg, sizeof(msg));
    if (!ml)
        return MC_ETOOBIG;
    mc_sign(key, msg, ml, sig);
    /* The message id hash (RFC 2974): the same for every announcement of an
     * unchanged description, and for its deletion (over what the signature
     * signs, not the signature), so SAP tools such as VLC list it once. */
    uint8_t h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof(h), (const uint8_t *)sdp, (size_t)n, NULL, 0);
    char sig64[sodium_base64_ENCODED_LEN(MC_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(sig64, sizeof(sig64), sig, MC_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL);
    n += snprintf(sdp + n, sizeof(sdp) - (size_t)n, "a=x-mcshare-sig:%s\r\n", sig64);
    size_t total = 8 + sizeof(PAYLOAD_TYPE) + (size_t)n;
    if (total > cap || total > MC_SAP_MAX_BYTES + 8 + sizeof(PAYLOAD_TYPE))
        return MC_ETOOBIG;
    buf[0] = byte0;
    buf[1] = 0; /* no SAP authentication data: the signature is in the SDP */
    buf[2] = h[0];
    buf[3] = h[1];
    memcpy(buf + 4, &origin_be, 4);
    memcpy(buf + 8, PAYLOAD_TYPE, sizeof(PAYLOAD_TYPE)); /* with its NUL */
    memcpy(buf + 8 + sizeof(PAYLOAD_TYPE), sdp, (size_t)n);
    return (int)total;
}

/* ---- parsing (network input: every length checked) ----------------------- */

/* The value of the first line starting with `key` in [p, end), copied into
 * out (NUL-terminated): 0, or -1 when absent or too long. *line_at gets
 * where the line starts. */
static int field(const char *p, const char *end, const char *key, char *out, size_t cap,
                 const char **line_at)
{
    size_t kl = strlen(key);
    for (const char *l = p; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        const char *le = nl ? nl : end;
        const char *ve = le > l && le[-1] == '\r' ? le - 1 : le;
        if ((size_t)(ve - l) >= kl && !memcmp(l, key, kl)) {
            size_t vl = (size_t)(ve - l) - kl;
            if (vl >= cap)
                return -1;
            memcpy(out, l + kl, vl);
            out[vl] = 0;
            if (line_at)
                *line_at = l;
            return 0;
        }
        l = nl ? nl + 1 : end;
    }
    return -1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int mc_disco_parse(const uint8_t *buf, size_t len, mc_disco_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (len < 8 || (buf[0] & 0xE0) != 0x20 || (buf[0] & 0x13)) /* v1; IPv4, no encryption or compression */
        return MC_EMAGIC;
    size_t off = 8 + (size_t)buf[1] * 4; /* skip SAP authentication data, if any */
    if (off > len)
        return MC_EMAGIC;
    if (len - off >= sizeof(PAYLOAD_TYPE) && !memcmp(buf + off, PAYLOAD_TYPE, sizeof(PAYLOAD_TYPE)))
        off += sizeof(PAYLOAD_TYPE);
    else if (len - off < 2 || memcmp(buf + off, "v=", 2))
        return MC_EMAGIC; /* another payload type */
    const char *sdp = (const char *)buf + off, *end = (const char *)buf + len;
    if ((size_t)(end - sdp) > MC_SAP_MAX_BYTES || memchr(sdp, 0, (size_t)(end - sdp)))
        return MC_EMAGIC;
    char v[160];
    if (field(sdp, end, "a=tool:mcshare ", v, sizeof(v), NULL) ||
        field(sdp, end, "m=application ", v, sizeof(v), NULL))
        return MC_EMAGIC; /* SAP, but not an mcshare broadcast */
    /* m=application PORT udp mcshare */
    char *sp = strchr(v, ' ');
    uint64_t n;
    if (!sp || strcmp(sp, " udp mcshare") || (*sp = 0, parse_u64(v, 65535, &n)) || !n)
        return MC_EFIELD;
    e->port = (uint16_t)n;
    const char *sig_line = NULL;
    char key64[64], sig64[128];
    if (field(sdp, end, "a=x-mcshare-key:", key64, sizeof(key64), NULL) ||
        field(sdp, end, "a=x-mcshare-sig:", sig64, sizeof(sig64), &sig_line))
        return MC_EFIELD;
    size_t bl = 0;
    uint8_t sig[MC_SIG_BYTES];
    if (sodium_base642bin(e->pk, sizeof(e->pk), key64, strlen(key64), NULL, &bl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) || bl != MC_KEY_PUBLIC ||
        sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &bl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) || bl != MC_SIG_BYTES)
        return MC_EFIELD;
    uint8_t msg[MC_SAP_MAX_BYTES + 32];
    size_t ml = signed_msg(buf[0], sdp, (size_t)(sig_line - sdp), msg, sizeof(msg));
    if (!ml || !mc_sig_valid(sig, msg, ml, e->pk))
        return MC_EFIELD;
    /* Signed: now the fields, each checked. Only what came before the
     * signature counts. */
    end = sig_line;
    mc_key_fingerprint(e->pk, e->fpr);
    e->deleted = !!(buf[0] & SAP_DELETE);
    char o[160], s[160], c[160], g[64];
    if (field(sdp, end, "o=- ", o, sizeof(o), NULL) || field(sdp, end, "s=", s, sizeof(s), NULL) ||
        field(sdp, end, "c=IN IP4 ", c, sizeof(c), NULL))
        return MC_EFIELD;
    /* o=- SESSION TIME IN IP4 ORIGIN */
    char *t1 = strchr(o, ' '), *t2 = t1 ? strchr(t1 + 1, ' ') : NULL;
    if (!t1 || !t2 || strncmp(t2, " IN IP4 ", 8))
        return MC_EFIELD;
    *t1 = *t2 = 0;
    uint64_t sess, tms;
    if (parse_u64(o, 0xFFFFFFFFu, &sess) || parse_u64(t1 + 1, UINT64_MAX / 2, &tms))
        return MC_EFIELD;
    e->session = (uint32_t)sess;
    e->time_ms = tms;
    struct in_addr ia;
    if (strlen(t2 + 8) >= sizeof(e->origin) || inet_pton(AF_INET, t2 + 8, &ia) != 1)
        return MC_EFIELD;
    snprintf(e->origin, sizeof(e->origin), "%s", t2 + 8);
    char *slash = strchr(c, '/');
    if (slash)
        *slash = 0;
    uint16_t unused = 0;
    if (strlen(c) >= sizeof(e->group) || mc_parse_endpoint(c, g, sizeof(g), &unused) ||
        strchr(c, ':'))
        return MC_EFIELD;
    memcpy(e->group, g, strlen(c) + 1); /* g is c, checked: shorter than e->group */
    size_t nl = strlen(s);
    if (nl == 0 || nl >= sizeof(e->name))
        return MC_EFIELD;
    for (size_t i = 0; i < nl; i++) /* shown on screens: no control characters */
        e->name[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    char a[32];
    if (field(sdp, end, "a=x-mcshare-ctrl:", a, sizeof(a), NULL) || parse_u64(a, 65535, &n))
        return MC_EFIELD;
    e->ctrl_port = (uint16_t)n;
    if (field(sdp, end, "a=x-mcshare-sealed:", a, sizeof(a), NULL) ||
        (strcmp(a, "0") && strcmp(a, "1")))
        return MC_EFIELD;
    e->sealed = a[0] == '1';
    return 0;
}

/* ---- the teacher's side ---------------------------------------------------- */

struct mc_disco_announcer {
    int fd;
    mc_disco_entry e;
    mc_signing_key key;
    uint32_t origin_be;
    uint64_t next_us;
    int sent;
};

static void announce(mc_disco_announcer *a, int deletion)
{
    uint8_t buf[MC_SAP_MAX_BYTES + 64];
    int n = mc_disco_build(&a->e, &a->key, deletion, a->origin_be, buf, sizeof(buf));
    if (n > 0)
        mc_net_send(a->fd, buf, (size_t)n);
}

int mc_disco_announcer_create(const mc_disco_entry *e, const mc_signing_key *key,
                              const char *iface, int ttl, int loop, mc_disco_announcer **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return MC_ENOMEM;
    mc_disco_announcer *a = calloc(1, sizeof(*a));
    if (!a)
        return MC_ENOMEM;
    a->fd = mc_net_open_sender(MC_SAP_GROUP, MC_SAP_PORT, iface, ttl, loop);
    if (a->fd < 0) {
        int err = a->fd;
        free(a);
        return err;
    }
    a->e = *e;
    a->key = *key;
    /* When the broadcast started: the same in every announcement and in the
     * deletion (the SDP session version), newer for a restarted one. */
    if (!a->e.time_ms)
        a->e.time_ms = wall_ms();
    /* The origin (what SSM viewers join): the chosen interface's address,
     * else the address this socket sends from by the routing table. */
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    char addr[INET_ADDRSTRLEN] = "";
    if (iface && *iface && !mc_net_iface_address(iface, addr, sizeof(addr)) &&
        strcmp(addr, "0.0.0.0"))
        inet_pton(AF_INET, addr, &sa.sin_addr);
    else if (getsockname(a->fd, (struct sockaddr *)&sa, &sl))
        sa.sin_addr.s_addr = 0;
    a->origin_be = sa.sin_addr.s_addr;
    inet_ntop(AF_INET, &sa.sin_addr, a->e.origin, sizeof(a->e.origin));
    *out = a;
    return 0;
}

void mc_disco_announcer_tick(mc_disco_announcer *a, uint64_t now_us)
{
    if (!a || now_us < a->next_us)
        return;
    announce(a, 0);
    /* Twice in the first seconds (a lost first one would cost 5 s), then
     * every interval. */
    a->next_us = now_us + (a->sent++ < 2 ? 1000000u : MC_SAP_INTERVAL_US);
}

void mc_disco_announcer_destroy(mc_disco_announcer *a)
{
    if (!a)
        return;
    announce(a, 1);
    mc_sock_close(a->fd);
    sodium_memzero(&a->key, sizeof(a->key));
    free(a);
}

/* ---- the students' side ---------------------------------------------------- */

typedef struct {
    mc_disco_entry e;
    uint64_t seen_us;
} known;

/* A broadcast whose deletion was heard: its announcements (replayed ones
 * too) are ignored unless a newer start time says it began again. */
typedef struct {
    uint8_t fpr[MC_FPR_BYTES];
    char group[16];
    uint16_t port;
    uint64_t time_ms;
    uint64_t at_us;
} ended;

struct mc_disco_listener {
    int fd;
    known k[MC_DISCO_MAX];
    int n;
    ended gone[MC_DISCO_MAX];
    int ngone;
    uint64_t refused;
};

int mc_disco_listener_create(const char *iface, mc_disco_listener **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return MC_ENOMEM;
    mc_disco_listener *l = calloc(1, sizeof(*l));
    if (!l)
        return MC_ENOMEM;
    l->fd = mc_net_open_receiver(MC_SAP_GROUP, MC_SAP_PORT, iface, 1 << 18);
    if (l->fd < 0) {
        int err = l->fd;
        free(l);
        return err;
    }
    *out = l;
    return 0;
}

/* The same broadcast: the same key on the same group and port. */
static int same(const mc_disco_entry *a, const mc_disco_entry *b)
{
    return !memcmp(a->fpr, b->fpr, MC_FPR_BYTES) && !strcmp(a->group, b->group) &&
           a->port == b->port;
}

static ended *find_ended(mc_disco_listener *l, const mc_disco_entry *e)
{
    for (int i = 0; i < l->ngone; i++)
        if (!memcmp(l->gone[i].fpr, e->fpr, MC_FPR_BYTES) && !strcmp(l->gone[i].group, e->group) &&
            l->gone[i].port == e->port)
            return &l->gone[i];
    return NULL;
}

static void remember_ended(mc_disco_listener *l, const mc_disco_entry *e, uint64_t now)
{
    ended *g = find_ended(l, e);
    if (!g) {
        if (l->ngone < MC_DISCO_MAX) {
            g = &l->gone[l->ngone++];
        } else { /* full: the oldest goes */
            g = &l->gone[0];
            for (int i = 1; i < l->ngone; i++)
                if (l->gone[i].at_us < g->at_us)
                    g = &l->gone[i];
        }
        memcpy(g->fpr, e->fpr, MC_FPR_BYTES);
        snprintf(g->group, sizeof(g->group), "%s", e->group);
        g->port = e->port;
        g->time_ms = 0;
    }
    if (e->time_ms > g->time_ms)
        g->time_ms = e->time_ms;
    g->at_us = now;
}

static void take(mc_disco_listener *l, const mc_disco_entry *e, uint64_t now)
{
    const ended *g = find_ended(l, e);
    if (g && e->time_ms <= g->time_ms)
        return; /* that broadcast ended (a replay of it, or a late copy) */
    if (e->deleted)
        remember_ended(l, e, now);
    for (int i = 0; i < l->n; i++) {
        if (!same(&l->k[i].e, e))
            continue;
        if (e->time_ms < l->k[i].e.time_ms)
            return; /* older than what we have: a replay, or reordered */
        if (e->deleted) {
            l->k[i] = l->k[--l->n];
            return;
        }
        l->k[i].e = *e;
        l->k[i].seen_us = now;
        return;
    }
    if (e->deleted)
        return;
    int slot = l->n;
    if (slot == MC_DISCO_MAX) { /* full: the one heard of longest ago goes */
        slot = 0;
        for (int i = 1; i < l->n; i++)
            if (l->k[i].seen_us < l->k[slot].seen_us)
                slot = i;
    } else {
        l->n++;
    }
    l->k[slot].e = *e;
    l->k[slot].seen_us = now;
}

int mc_disco_listener_feed(mc_disco_listener *l, const uint8_t *buf, size_t len, uint64_t now_us)
{
    mc_disco_entry e;
    int err = mc_disco_parse(buf, len, &e);
    if (err == MC_EFIELD)
        l->refused++;
    else if (!err)
        take(l, &e, now_us);
    return err;
}

int mc_disco_listener_poll(mc_disco_listener *l, uint64_t now_us)
{
    uint8_t buf[2048];
    for (int i = 0; i < 1000; i++) {
        long r = mc_sock_recv(l->fd, buf, sizeof(buf), NULL);
        if (r <= 0)
            break;
        mc_disco_listener_feed(l, buf, (size_t)r, now_us);
    }
    for (int i = 0; i < l->n;)
        if (now_us - l->k[i].seen_us > MC_SAP_EXPIRE_US)
            l->k[i] = l->k[--l->n];
        else
            i++;
    return l->n;
}

void mc_disco_listener_wait(mc_disco_listener *l, uint64_t timeout_us)
{
    uint8_t ready;
    mc_sock_wait(&l->fd, 1, (int)(timeout_us / 1000), &ready);
}

static int by_name(const void *a, const void *b)
{
    const mc_disco_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->group, y->group);
}

int mc_disco_listener_list(const mc_disco_listener *l, mc_disco_entry *out, int max)
{
    int n = l->n < max ? l->n : max;
    for (int i = 0; i < n; i++)
        out[i] = l->k[i].e;
    qsort(out, (size_t)n, sizeof(*out), by_name);
    return n;
}

uint64_t mc_disco_listener_refused(const mc_disco_listener *l) { return l->refused; }

void mc_disco_listener_destroy(mc_disco_listener *l)
{
    if (!l)
        return;
    mc_sock_close(l->fd);
    free(l);
}
