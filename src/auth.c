/* Sender authentication with signed manifests; see include/mc/auth.h and
 * docs/security.md. libsodium provides Ed25519 and BLAKE2b. */
#include "mc/auth.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "bytes.h"
#include "mc/common.h"
#include "mc/platform.h"
#include "mc/files.h"
#include "mc/wire.h"

#ifdef _WIN32
/* The key lives in the user's %APPDATA%, kept from others by its access
 * list: Windows has no mode bits to check. */
#define O_CLOEXEC O_NOINHERIT
#define MC_CHECK_MODE 0
#else
#define O_BINARY 0
#define MC_CHECK_MODE 1
#endif


static int sodium_ready(void)
{
    return sodium_init() < 0 ? MC_ENOMEM : 0; /* 1 = already initialised: fine */
}

/* ---- keys ---------------------------------------------------------------- */

int mc_key_default_path(char *out, size_t cap, const char *file)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/mcshare/%s", xdg, file);
#ifdef _WIN32
    else if (getenv("APPDATA") && *getenv("APPDATA")) /* the user's roaming settings */
        n = snprintf(out, cap, "%s\\mcshare\\%s", getenv("APPDATA"), file);
#endif
    else
        n = snprintf(out, cap, "%s/.config/mcshare/%s", home && *home ? home : ".", file);
    return n < 0 || (size_t)n >= cap ? MC_ETOOBIG : 0;
}

/* Key file: "mcshare-ed25519-v1\n" then the 32-byte seed in hex and "\n". */
#define KEY_MAGIC "mcshare-ed25519-v1\n"

static int key_from_seed(const uint8_t seed[32], mc_signing_key *key)
{
    return crypto_sign_seed_keypair(key->pk, key->sk, seed) ? MC_EINVAL : 0;
}

int mc_key_generate(mc_signing_key *key)
{
    if (sodium_ready())
        return MC_ENOMEM;
    crypto_sign_keypair(key->pk, key->sk);
    return 0;
}

int mc_key_load_or_create(const char *path, mc_signing_key *key, int *created)
{
    *created = 0;
    if (sodium_ready())
        return MC_ENOMEM;
    uint8_t seed[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_BINARY);
    if (fd >= 0) {
        struct stat st;
        char buf[sizeof(KEY_MAGIC) + 80];
        ssize_t n = fstat(fd, &st) ? -1 : read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
            return -errno;
        if (MC_CHECK_MODE && (st.st_mode & 077)) {
            mc_log(0, "mcshare: key file %s is readable by others (mode %03o); chmod 600 it",
                   path, (unsigned)(st.st_mode & 0777));
            return MC_EINVAL;
        }
        buf[n] = 0;
        size_t ml = strlen(KEY_MAGIC), bin_len = 0;
        if ((size_t)n < ml + 64 || memcmp(buf, KEY_MAGIC, ml) ||
            sodium_hex2bin(seed, sizeof(seed), buf + ml, 64, NULL, &bin_len, NULL) ||
            bin_len != sizeof(seed)) {
            mc_log(0, "mcshare: %s is not an mcshare key file", path);
            return MC_EINVAL;
        }
        int err = key_from_seed(seed, key);
        sodium_memzero(seed, sizeof(seed));
        sodium_memzero(buf, sizeof(buf));
        return err;
    }
    if (errno != ENOENT)
        return -errno;
    int err = mc_mkdir_parents(path);
    if (err)
        return err;
    randombytes_buf(seed, sizeof(seed));
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
    err = key_from_seed(seed, key);
    sodium_memzero(seed, sizeof(seed));
    if (err)
        return err;
    char text[sizeof(KEY_MAGIC) + 66];
    int len = snprintf(text, sizeof(text), "%s%s\n", KEY_MAGIC, hex);
    /* Whole or not at all: a half-written key would be refused next time. */
    err = mc_write_file_atomic(path, text, (size_t)len, 0600, 1);
    sodium_memzero(hex, sizeof(hex));
    sodium_memzero(text, sizeof(text));
    if (err)
        return err;
    *created = 1;
    return 0;
}

void mc_key_fingerprint(const uint8_t pk[MC_KEY_PUBLIC], uint8_t fpr[MC_FPR_BYTES])
{
    static const char ctx[] = "mcshare fingerprint v1";
    uint8_t in[sizeof(ctx) + MC_KEY_PUBLIC];
    memcpy(in, ctx, sizeof(ctx));
    memcpy(in + sizeof(ctx), pk, MC_KEY_PUBLIC);
    crypto_generichash(fpr, MC_FPR_BYTES, in, sizeof(in), NULL, 0);
}

void mc_fpr_format(const uint8_t fpr[MC_FPR_BYTES], char out[MC_FPR_CHARS])
{
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < MC_FPR_BYTES; i++) {
        if (i && i % 2 == 0)
            out[o++] = '-';
        out[o++] = hex[fpr[i] >> 4];
        out[o++] = hex[fpr[i] & 15];
    }
    out[o] = 0;
}

int mc_fpr_parse(const char *text, uint8_t fpr[MC_FPR_BYTES])
{
    int nib = 0;
    for (const char *p = text; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else if (*p == '-' || *p == ' ' || *p == ':')
            continue;
        else
            return MC_EINVAL;
        if (nib >= 2 * MC_FPR_BYTES)
            return MC_EINVAL;
        if (nib % 2 == 0)
            fpr[nib / 2] = (uint8_t)(v << 4);
        else
            fpr[nib / 2] |= (uint8_t)v;
        nib++;
    }
    return nib == 2 * MC_FPR_BYTES ? 0 : MC_EINVAL;
}

/* ---- manifest layout ----------------------------------------------------- */

/* After the common header: alg u8, flags u8, count u16, key[32], wall u64,
 * count hashes of 16 bytes, then the signature of everything before it. */
static size_t manifest_len(int count)
{
    return MC_HDR_BYTES + MC_MANIFEST_FIXED_BYTES + (size_t)count * MC_PKT_HASH + MC_SIG_BYTES;
}

int mc_manifest_parse(const uint8_t *pkt, size_t len, mc_manifest *m)
{
    mc_hdr h;
    int err = mc_wire_parse_header(pkt, len, &h);
    if (err)
        return err;
    if (h.type != MC_PT_MANIFEST)
        return MC_EFIELD;
    if (len < manifest_len(1))
        return MC_ETRUNC;
    const uint8_t *b = pkt + MC_HDR_BYTES;
    int count = mc__get16(b + 2);
    if (b[0] != MC_MANIFEST_ALG || b[1] != 0 || count < 1)
        return MC_EFIELD;
    if (len != manifest_len(count))
        return len < manifest_len(count) ? MC_ETRUNC : MC_EFIELD;
    m->session = h.session;
    m->number = h.seq;
    m->pk = b + 4;
    m->wall_us = mc__get64(b + 36);
    m->hashes = b + MC_MANIFEST_FIXED_BYTES;
    m->count = count;
    return 0;
}

/* Ed25519 verification. Fuzz builds only (never a release: the macro is
 * OSS-Fuzz's convention for exactly this) accept a signature that starts
 * with "ok" instead: a fuzzer cannot forge Ed25519, and would never reach
 * what lies behind the check. */
int mc_sig_valid(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    (void)msg;
    (void)len;
    (void)pk;
    return sig[0] == 'o' && sig[1] == 'k';
#else
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
#endif
}

void mc_sign(const mc_signing_key *key, const uint8_t *msg, size_t len, uint8_t sig[MC_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, key->sk);
}

int mc_manifest_verify(const uint8_t *pkt, size_t len)
{
    mc_manifest m;
    if (mc_manifest_parse(pkt, len, &m) || sodium_ready())
        return MC_EFIELD;
    return mc_sig_valid(pkt + len - MC_SIG_BYTES, pkt, len - MC_SIG_BYTES, m.pk) ? 0 : MC_EFIELD;
}

/* BLAKE2b with an 8-byte output (BLAKE2b's output length is a parameter,
 * 1..64; libsodium merely recommends 16 or more): docs/security.md says why
 * 64 bits are enough here. */
static void pkt_hash(const uint8_t *pkt, size_t len, uint8_t out[MC_PKT_HASH])
{
    crypto_generichash(out, MC_PKT_HASH, pkt, len, NULL, 0);
}

/* ---- sender -------------------------------------------------------------- */

/* Each manifest goes out once, and lists the datagrams of its own burst
 * and those of the burst before (which the previous manifest listed
 * first). A datagram is lost to a viewer only if both manifests are, and
 * the second listing costs 8 bytes a datagram instead of a whole second
 * manifest: version 1 sent every manifest two or three times. */
struct mc_auth_tx {
    mc_signing_key key;
    uint32_t session, number;
    int max_count;               /* hashes in one manifest: both lists */
    int count, prev_count;       /* this burst's, and the burst before's */
    uint8_t *hashes, *prev;      /* max_count / 2 x MC_PKT_HASH each */
    uint8_t *buf;                /* manifest_len(max_count) */
    uint64_t manifests;
};

int mc_auth_tx_create(const mc_signing_key *key, uint32_t session, size_t mtu, mc_auth_tx **out)
{
    *out = NULL;
    if (sodium_ready())
        return MC_ENOMEM;
    if (mtu < manifest_len(16) || mtu > MC_MAX_MTU)
        return MC_EINVAL;
    mc_auth_tx *a = calloc(1, sizeof(*a));
    if (!a)
        return MC_ENOMEM;
    a->key = *key;
    a->session = session;
    a->max_count = (int)((mtu - manifest_len(0)) / MC_PKT_HASH) & ~1;
    a->hashes = malloc((size_t)a->max_count / 2 * MC_PKT_HASH);
    a->prev = malloc((size_t)a->max_count / 2 * MC_PKT_HASH);
    a->buf = malloc(manifest_len(a->max_count));
    if (!a->hashes || !a->prev || !a->buf) {
        mc_auth_tx_destroy(a);
        return MC_ENOMEM;
    }
    *out = a;
    return 0;
}

void mc_auth_tx_destroy(mc_auth_tx *a)
{
    if (!a)
        return;
    sodium_memzero(&a->key, sizeof(a->key));
    free(a->hashes);
    free(a->prev);
    free(a->buf);
    free(a);
}

/* Signs and sends one manifest of n hashes (cur, then old). */
static void send_manifest(mc_auth_tx *a, const uint8_t *cur, int ncur, const uint8_t *old,
                          int nold, mc_auth_emit emit, void *ctx)
{
    int n = ncur + nold;
    mc_hdr h = {.type = MC_PT_MANIFEST, .session = a->session, .seq = a->number++,
                .ts_us = mc_now_us()};
    size_t len = manifest_len(n);
    mc_wire_write_header(a->buf, len, &h);
    uint8_t *b = a->buf + MC_HDR_BYTES;
    b[0] = MC_MANIFEST_ALG;
    b[1] = 0;
    mc__put16(b + 2, (uint16_t)n);
    memcpy(b + 4, a->key.pk, MC_KEY_PUBLIC);
    mc__put64(b + 36, mc_wall_us());
    memcpy(b + MC_MANIFEST_FIXED_BYTES, cur, (size_t)ncur * MC_PKT_HASH);
    memcpy(b + MC_MANIFEST_FIXED_BYTES + (size_t)ncur * MC_PKT_HASH, old,
           (size_t)nold * MC_PKT_HASH);
    crypto_sign_detached(a->buf + len - MC_SIG_BYTES, NULL, a->buf, len - MC_SIG_BYTES, a->key.sk);
    emit(ctx, a->buf, len);
    a->manifests++;
}

void mc_auth_tx_flush(mc_auth_tx *a, int final, mc_auth_emit emit, void *ctx)
{
    if (a->count > 0) {
        send_manifest(a, a->hashes, a->count, a->prev, a->prev_count, emit, ctx);
        uint8_t *t = a->prev;
        a->prev = a->hashes;
        a->hashes = t;
        a->prev_count = a->count;
        a->count = 0;
    }
    if (final && a->prev_count > 0) { /* nothing follows: the second listing now */
        send_manifest(a, a->prev, 0, a->prev, a->prev_count, emit, ctx);
        a->prev_count = 0;
    }
}

void mc_auth_tx_add(mc_auth_tx *a, const uint8_t *pkt, size_t len, mc_auth_emit emit, void *ctx)
{
    pkt_hash(pkt, len, a->hashes + (size_t)a->count * MC_PKT_HASH);
    if (++a->count == a->max_count / 2)
        mc_auth_tx_flush(a, 0, emit, ctx);
}

uint64_t mc_auth_tx_manifests(const mc_auth_tx *a) { return a->manifests; }

/* ---- viewer -------------------------------------------------------------- */

#define BUCKETS 8192 /* hash index over held datagrams and early hashes */

typedef struct {
    uint8_t h[MC_PKT_HASH];
    uint64_t t;
    uint8_t *data; /* NULL once released or dropped */
    uint32_t len;
    int32_t next;  /* bucket chain */
    uint8_t vouched;
    uint8_t released; /* passed on: a second listing of its hash changes nothing */
} held;

typedef struct {
    uint8_t h[MC_PKT_HASH];
    uint64_t t;
    int32_t next;
    uint8_t used;
} early;

struct mc_auth_rx {
    int pinned;                 /* the fingerprint was given: never adopt another */
    int have_key;
    uint8_t fpr[MC_FPR_BYTES];
    uint8_t pk[MC_KEY_PUBLIC];
    /* Replay window of the current session. */
    int have_session;
    uint32_t session, newest;
    uint64_t window;            /* bit i: manifest newest - i was used */
    uint64_t newest_wall_us;
    /* Verification budget. */
    uint64_t budget_start_us;
    int budget_used;
    uint64_t other_start_us;    /* the budget for manifests under another key */
    int other_used;
    /* Held datagrams, a ring in arrival order. */
    held p[MC_AUTH_PENDING];
    int head, count;  /* slots in the ring, released ones included */
    int live;         /* of those, datagrams still held */
    size_t bytes;
    int32_t pb[BUCKETS];
    /* Hashes vouched for before their datagram arrived (reordering). */
    early e[MC_AUTH_PENDING];
    int ehead, ecount;
    int32_t eb[BUCKETS];
    uint8_t salt[crypto_shorthash_KEYBYTES];
    mc_auth_release on_drop;
    void *drop_ctx;
    mc_auth_rx_stats st;
};

/* Buckets come from a keyed hash (SipHash, a random key per viewer), so a
 * student cannot grind packets into one long chain. */
static uint32_t bucket_of(const mc_auth_rx *a, const uint8_t *h)
{
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, h, MC_PKT_HASH, a->salt);
    return (uint32_t)(out[0] | out[1] << 8 | out[2] << 16) % BUCKETS;
}

int mc_auth_rx_create(const uint8_t *fpr, mc_auth_rx **out)
{
    *out = NULL;
    if (sodium_ready())
        return MC_ENOMEM;
    mc_auth_rx *a = calloc(1, sizeof(*a));
    if (!a)
        return MC_ENOMEM;
    if (fpr) {
        a->pinned = 1;
        memcpy(a->fpr, fpr, MC_FPR_BYTES);
    }
    memset(a->pb, 0xFF, sizeof(a->pb)); /* every chain empty (-1) */
    memset(a->eb, 0xFF, sizeof(a->eb));
    randombytes_buf(a->salt, sizeof(a->salt));
    *out = a;
    return 0;
}

void mc_auth_rx_reset(mc_auth_rx *a)
{
    for (int k = 0; k < a->count; k++)
        free(a->p[(a->head + k) % MC_AUTH_PENDING].data);
    int pinned = a->pinned;
    uint8_t fpr[MC_FPR_BYTES], salt[sizeof(a->salt)];
    memcpy(fpr, a->fpr, sizeof(fpr));
    memcpy(salt, a->salt, sizeof(salt));
    mc_auth_release on_drop = a->on_drop;
    void *drop_ctx = a->drop_ctx;
    /* Everything but the held and early rings, which are written before
     * they are read (head and count say what is in use). */
    memset(a, 0, offsetof(mc_auth_rx, p));
    a->head = a->count = a->live = 0;
    a->bytes = 0;
    a->ehead = a->ecount = 0;
    memset(a->pb, 0xFF, sizeof(a->pb));
    memset(a->eb, 0xFF, sizeof(a->eb));
    memset(&a->st, 0, sizeof(a->st));
    a->pinned = pinned;
    if (pinned)
        memcpy(a->fpr, fpr, sizeof(fpr));
    memcpy(a->salt, salt, sizeof(salt));
    a->on_drop = on_drop;
    a->drop_ctx = drop_ctx;
}

void mc_auth_rx_destroy(mc_auth_rx *a)
{
    if (!a)
        return;
    for (int k = 0; k < a->count; k++) /* only the ring's occupied part holds data */
        free(a->p[(a->head + k) % MC_AUTH_PENDING].data);
    free(a);
}

static void unlink_held(mc_auth_rx *a, int32_t idx)
{
    int32_t *pp = &a->pb[bucket_of(a, a->p[idx].h)];
    while (*pp >= 0 && *pp != idx)
        pp = &a->p[*pp].next;
    if (*pp == idx)
        *pp = a->p[idx].next;
}

static void drop_data(mc_auth_rx *a, held *x)
{
    free(x->data);
    x->data = NULL;
    a->bytes -= x->len;
    a->live--;
}

/* Removes the oldest held slot (dropping its datagram if still held). */
static void pop_held(mc_auth_rx *a, uint64_t *counter)
{
    held *x = &a->p[a->head];
    if (x->data) {
        if (a->on_drop)
            a->on_drop(a->drop_ctx, x->data, x->len);
        drop_data(a, x);
        (*counter)++;
    }
    unlink_held(a, a->head);
    a->head = (a->head + 1) % MC_AUTH_PENDING;
    a->count--;
}

static void pop_early(mc_auth_rx *a)
{
    early *x = &a->e[a->ehead];
    int32_t *pp = &a->eb[bucket_of(a, x->h)];
    while (*pp >= 0 && *pp != a->ehead)
        pp = &a->e[*pp].next;
    if (*pp == a->ehead)
        *pp = x->next;
    a->ehead = (a->ehead + 1) % MC_AUTH_PENDING;
    a->ecount--;
}

/* Released datagrams and used early hashes stay for the hold time too:
 * every hash is listed by two manifests, and the second listing must
 * neither release a replayed copy nor leave a fresh early hash for one. */
static void expire(mc_auth_rx *a, uint64_t now)
{
    while (a->count > 0 && ((!a->p[a->head].data && !a->p[a->head].released) ||
                            now - a->p[a->head].t > MC_AUTH_HOLD_US))
        pop_held(a, &a->st.unverified);
    while (a->ecount > 0 && now - a->e[a->ehead].t > MC_AUTH_HOLD_US)
        pop_early(a);
}

/* An early hash equal to h, not used yet: marks it used and returns 1. */
static int take_early(mc_auth_rx *a, const uint8_t *h)
{
    for (int32_t i = a->eb[bucket_of(a, h)]; i >= 0; i = a->e[i].next)
        if (!a->e[i].used && !memcmp(a->e[i].h, h, MC_PKT_HASH)) {
            a->e[i].used = 1;
            return 1;
        }
    return 0;
}

static int have_early(const mc_auth_rx *a, const uint8_t *h)
{
    for (int32_t i = a->eb[bucket_of(a, h)]; i >= 0; i = a->e[i].next)
        if (!memcmp(a->e[i].h, h, MC_PKT_HASH))
            return 1;
    return 0;
}

static void add_early(mc_auth_rx *a, const uint8_t *h, uint64_t now)
{
    if (have_early(a, h))
        return; /* listed again, or its datagram came straight through */
    if (a->ecount == MC_AUTH_PENDING)
        pop_early(a);
    int32_t i = (a->ehead + a->ecount) % MC_AUTH_PENDING;
    early *x = &a->e[i];
    memcpy(x->h, h, MC_PKT_HASH);
    x->t = now;
    x->used = 0;
    uint32_t b = bucket_of(a, h);
    x->next = a->eb[b];
    a->eb[b] = i;
    a->ecount++;
}

/* Marks the held datagram with hash h as vouched for: 1 if there was one,
 * 2 if it was released already (the second listing), 0 if neither. */
static int vouch_held(mc_auth_rx *a, const uint8_t *h)
{
    int done = 0;
    for (int32_t i = a->pb[bucket_of(a, h)]; i >= 0; i = a->p[i].next) {
        if (memcmp(a->p[i].h, h, MC_PKT_HASH))
            continue;
        if (a->p[i].data && !a->p[i].vouched) {
            a->p[i].vouched = 1;
            return 1;
        }
        done |= a->p[i].released;
    }
    return done ? 2 : 0;
}

/* Is manifest `n` of the current session new? (Does not record it.) */
static int window_fresh(const mc_auth_rx *a, uint32_t n)
{
    int32_t d = (int32_t)(n - a->newest);
    if (d > 0)
        return 1;
    if (d <= -64)
        return 0;
    return !(a->window >> (uint32_t)(-d) & 1);
}

static void window_mark(mc_auth_rx *a, uint32_t n)
{
    int32_t d = (int32_t)(n - a->newest);
    if (d > 0) {
        a->window = d >= 64 ? 0 : a->window << d;
        a->window |= 1;
        a->newest = n;
    } else {
        a->window |= 1ull << (uint32_t)(-d);
    }
}

/* One signature check from a budget of `per_s` a second: 1 if allowed. */
static int take_budget(uint64_t *start_us, int *used, int per_s, uint64_t now)
{
    if (now - *start_us >= 1000000u) {
        *start_us = now;
        *used = 0;
    }
    if (*used >= per_s)
        return 0;
    (*used)++;
    return 1;
}

static int on_manifest(mc_auth_rx *a, const uint8_t *pkt, size_t len, uint64_t now,
                       mc_auth_release cb, void *ctx)
{
    mc_manifest m;
    if (mc_manifest_parse(pkt, len, &m)) {
        a->st.bad_manifest++;
        return MC_EFIELD;
    }
    uint8_t fpr[MC_FPR_BYTES];
    mc_key_fingerprint(m.pk, fpr);
    if ((a->pinned || a->have_key) && memcmp(fpr, a->fpr, MC_FPR_BYTES)) {
        /* Another key. It raises the impersonation alarm only if it really
         * signed this manifest: a bit-flipped copy of the teacher's names a
         * key nobody holds. Checked on a budget of its own, so a flood of
         * these cannot crowd out the teacher's manifests. */
        if (!take_budget(&a->other_start_us, &a->other_used, MC_AUTH_OTHER_PER_S, now)) {
            a->st.verify_skipped++;
            return MC_EFIELD;
        }
        if (!mc_sig_valid(pkt + len - MC_SIG_BYTES, pkt, len - MC_SIG_BYTES, m.pk)) {
            a->st.bad_manifest++;
            return MC_EFIELD;
        }
        a->st.wrong_key++;
        memcpy(a->st.wrong_fpr, fpr, MC_FPR_BYTES);
        return MC_EFIELD;
    }
    int same_session = a->have_session && m.session == a->session;
    if (same_session && !window_fresh(a, m.number))
        return 0; /* the repeated copy, or a replay of one: already used */
    /* A session that started before the one we follow is an old recording. */
    if (!same_session && a->have_session && m.wall_us + 2000000u < a->newest_wall_us) {
        a->st.replayed++;
        return MC_EFIELD;
    }
    if (!take_budget(&a->budget_start_us, &a->budget_used, MC_AUTH_VERIFY_PER_S, now)) {
        a->st.verify_skipped++;
        return MC_EFIELD;
    }
    if (!mc_sig_valid(pkt + len - MC_SIG_BYTES, pkt, len - MC_SIG_BYTES, m.pk)) {
        a->st.bad_manifest++;
        return MC_EFIELD;
    }
    if (!a->have_key) { /* pinned fingerprint matched, or trust on first use */
        a->have_key = 1;
        memcpy(a->fpr, fpr, MC_FPR_BYTES);
        memcpy(a->pk, m.pk, MC_KEY_PUBLIC);
    }
    if (!same_session) {
        a->have_session = 1;
        a->session = m.session;
        a->newest = m.number;
        a->window = 0;
    }
    window_mark(a, m.number);
    if (m.wall_us > a->newest_wall_us)
        a->newest_wall_us = m.wall_us;
    a->st.manifests++;
    int any = 0;
    for (int i = 0; i < m.count; i++) {
        const uint8_t *h = m.hashes + (size_t)i * MC_PKT_HASH;
        int v = vouch_held(a, h);
        if (v == 1)
            any = 1;
        else if (v == 0)
            add_early(a, h, now);
    }
    if (!any)
        return 0;
    /* Release in arrival order. The callback may not call back into us. */
    for (int k = 0; k < a->count; k++) {
        held *x = &a->p[(a->head + k) % MC_AUTH_PENDING];
        if (x->data && x->vouched) {
            cb(ctx, x->data, x->len);
            a->st.verified++;
            drop_data(a, x);
            x->released = 1;
        }
    }
    expire(a, now);
    return 0;
}

int mc_auth_rx_push(mc_auth_rx *a, const uint8_t *pkt, size_t len, uint64_t now_us,
                    mc_auth_release cb, void *ctx)
{
    mc_hdr h;
    int err = mc_wire_parse_header(pkt, len, &h);
    if (err)
        return err;
    expire(a, now_us);
    if (h.type == MC_PT_MANIFEST)
        return on_manifest(a, pkt, len, now_us, cb, ctx);
    uint8_t hash[MC_PKT_HASH];
    pkt_hash(pkt, len, hash);
    if (take_early(a, hash)) {
        cb(ctx, pkt, len);
        a->st.verified++;
        return 0;
    }
    if (len > MC_MAX_MTU)
        return MC_ETOOBIG;
    while (a->count == MC_AUTH_PENDING || (a->count > 0 && a->bytes + len > MC_AUTH_PENDING_BYTES))
        pop_held(a, &a->st.evicted);
    uint8_t *copy = malloc(len);
    if (!copy)
        return MC_ENOMEM;
    memcpy(copy, pkt, len);
    int32_t i = (a->head + a->count) % MC_AUTH_PENDING;
    held *x = &a->p[i];
    memcpy(x->h, hash, MC_PKT_HASH);
    x->t = now_us;
    x->data = copy;
    x->len = (uint32_t)len;
    x->vouched = 0;
    x->released = 0;
    uint32_t b = bucket_of(a, hash);
    x->next = a->pb[b];
    a->pb[b] = i;
    a->count++;
    a->live++;
    a->bytes += len;
    return 0;
}

void mc_auth_rx_get_stats(const mc_auth_rx *a, mc_auth_rx_stats *st)
{
    *st = a->st;
    st->key_known = a->have_key;
    memcpy(st->fpr, a->fpr, MC_FPR_BYTES);
    st->pending = a->live;
    st->pending_bytes = a->bytes;
}

void mc_auth_rx_on_drop(mc_auth_rx *a, mc_auth_release cb, void *ctx)
{
    a->on_drop = cb;
    a->drop_ctx = ctx;
}

/* ---- class passphrase ---------------------------------------------------- */

int mc_seal_derive(const char *pass, size_t pass_len, const char *group, uint16_t port,
                   uint8_t key[MC_SEAL_KEY])
{
    if (sodium_ready())
        return MC_ENOMEM;
    char where[96];
    int n = snprintf(where, sizeof(where), "mcshare seal v1 %s:%u", group ? group : "",
                     (unsigned)port);
    if (n < 0 || (size_t)n >= sizeof(where))
        return MC_EINVAL;
    uint8_t salt[crypto_pwhash_SALTBYTES];
    crypto_generichash(salt, sizeof(salt), (const uint8_t *)where, (size_t)n, NULL, 0);
    if (crypto_pwhash(key, MC_SEAL_KEY, pass, pass_len, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return MC_ENOMEM;
    return 0;
}

int mc_seal_read_passphrase(const char *path, char *out, size_t cap, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    int err = mc_read_file(path, 1 << 16, &text, &n);
    if (err)
        return err;
    size_t l = strcspn(text, "\r\n");
    if (l >= cap)
        l = cap - 1;
    memcpy(out, text, l);
    out[l] = 0;
    sodium_memzero(text, n);
    free(text);
    *len = l;
    return l >= 8 ? 0 : MC_EINVAL;
}

int mc_seal(const uint8_t key[MC_SEAL_KEY], const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    mc_hdr h;
    if (mc_wire_parse_header(in, len, &h) || h.type == MC_PT_SEALED || h.type == MC_PT_MANIFEST)
        return MC_EINVAL;
    if (cap < len + MC_SEAL_OVERHEAD)
        return MC_ETOOBIG;
    h.type = MC_PT_SEALED;
    mc_wire_write_header(out, cap, &h);
    uint8_t *nonce = out + MC_HDR_BYTES;
    randombytes_buf(nonce, MC_SEAL_NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + MC_HDR_BYTES + MC_SEAL_NONCE, &clen, in, len,
                                               out, MC_HDR_BYTES, NULL, nonce, key);
    return (int)(MC_HDR_BYTES + MC_SEAL_NONCE + clen);
}

int mc_unseal(const uint8_t key[MC_SEAL_KEY], const uint8_t *in, size_t len, uint8_t *out,
              size_t cap)
{
    mc_hdr h;
    if (mc_wire_parse_header(in, len, &h) || h.type != MC_PT_SEALED || len < MC_SEAL_OVERHEAD ||
        len - MC_SEAL_OVERHEAD > cap || len > MC_MAX_MTU)
        return MC_EFIELD;
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL,
                                                   in + MC_HDR_BYTES + MC_SEAL_NONCE,
                                                   len - MC_HDR_BYTES - MC_SEAL_NONCE, in,
                                                   MC_HDR_BYTES, in + MC_HDR_BYTES, key))
        return MC_EFIELD;
    /* The inner packet must be what the outer header says it is. */
    mc_hdr ih;
    if (mc_wire_parse_header(out, (size_t)plen, &ih) || ih.session != h.session ||
        ih.seq != h.seq || ih.ts_us != h.ts_us || ih.type == MC_PT_SEALED ||
        ih.type == MC_PT_MANIFEST)
        return MC_EFIELD;
    return (int)plen;
}

int mc_seal_key_from_file(const char *prog, const char *path, const char *group, uint16_t port,
                          uint8_t key[MC_SEAL_KEY])
{
    char pass[1024];
    size_t len = 0;
    int err = mc_seal_read_passphrase(path, pass, sizeof(pass), &len);
    if (err) {
        char why[96];
        if (err == MC_EINVAL)
            snprintf(why, sizeof(why), "its first line holds %zu characters; a passphrase needs "
                     "8 or more", len);
        else
            snprintf(why, sizeof(why), "%s", err == -EINVAL ? "not a regular file"
                     : err == MC_ETOOBIG ? "larger than 64 KiB: not a passphrase file"
                     : mc_strerror(err));
        fprintf(stderr, "%s: cannot use the passphrase file %s: %s\n", prog, path, why);
        sodium_memzero(pass, sizeof(pass));
        return 1;
    }
    err = mc_seal_derive(pass, len, group, port, key);
    sodium_memzero(pass, sizeof(pass));
    if (err)
        fprintf(stderr, "%s: cannot derive a key from the passphrase: %s\n", prog, mc_strerror(err));
    return err ? 1 : 0;
}

static void welcome_text(uint32_t session, const uint8_t nonce[16], uint8_t out[40])
{
    memcpy(out, "mcshare welcome v1", 18);
    out[18] = (uint8_t)(session >> 24);
    out[19] = (uint8_t)(session >> 16);
    out[20] = (uint8_t)(session >> 8);
    out[21] = (uint8_t)session;
    memcpy(out + 22, nonce, 16);
    out[38] = out[39] = 0;
}

void mc_auth_sign_welcome(const mc_signing_key *key, uint32_t session, const uint8_t nonce[16],
                          uint8_t sig[MC_SIG_BYTES])
{
    uint8_t text[40];
    welcome_text(session, nonce, text);
    crypto_sign_detached(sig, NULL, text, sizeof(text), key->sk);
}

int mc_auth_verify_welcome(const uint8_t pk[MC_KEY_PUBLIC], uint32_t session,
                           const uint8_t nonce[16], const uint8_t sig[MC_SIG_BYTES])
{
    uint8_t text[40];
    welcome_text(session, nonce, text);
    if (sodium_ready())
        return MC_ENOMEM;
    return mc_sig_valid(sig, text, sizeof(text), pk) ? 0 : MC_EFIELD;
}

int mc_auth_rx_key(const mc_auth_rx *a, uint8_t pk[MC_KEY_PUBLIC])
{
    if (!a->have_key)
        return MC_ESTATE;
    memcpy(pk, a->pk, MC_KEY_PUBLIC);
    return 0;
}
