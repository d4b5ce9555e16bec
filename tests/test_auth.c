/* Signed manifests: keys and fingerprints, a sender -> viewer round trip,
 * and what a student on the LAN may try: forged, modified, replayed and
 * flooded packets, another key, an old session. */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "mc/auth.h"
#include "mc/common.h"
#include "mc/wire.h"
#include "test.h"

/* What the "network" carries and what the viewer released. */
#define MAXP 4096
typedef struct {
    uint8_t pkt[MAXP][1500];
    size_t len[MAXP];
    int n;
} wire_log;

static void log_emit(void *ctx, const uint8_t *pkt, size_t len)
{
    wire_log *w = ctx;
    if (w->n < MAXP && len <= sizeof(w->pkt[0])) {
        memcpy(w->pkt[w->n], pkt, len);
        w->len[w->n++] = len;
    }
}

static wire_log net, out;

static size_t make_packet(uint8_t *buf, uint32_t session, uint32_t seq, int fill)
{
    mc_hdr h = {.type = MC_PT_VIDEO, .session = session, .seq = seq, .ts_us = 1000 + seq};
    mc_wire_write_header(buf, 1200, &h);
    size_t len = 200 + (size_t)(seq % 700);
    for (size_t i = MC_HDR_BYTES; i < len; i++)
        buf[i] = (uint8_t)(fill + i * 7 + seq);
    return len;
}

static mc_signing_key key_a, key_b;

static void make_keys(const char *dir)
{
    char path[512];
    int created;
    snprintf(path, sizeof(path), "%s/a/sender.key", dir);
    ASSERT_EQ_INT(mc_key_load_or_create(path, &key_a, &created), 0);
    ASSERT_EQ_INT(created, 1);
    struct stat st;
    ASSERT_EQ_INT(stat(path, &st), 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0600);
    mc_signing_key again;
    ASSERT_EQ_INT(mc_key_load_or_create(path, &again, &created), 0);
    ASSERT_EQ_INT(created, 0);
    ASSERT_TRUE(!memcmp(&again, &key_a, sizeof(again))); /* the same key comes back */
    chmod(path, 0644);
    ASSERT_EQ_INT(mc_key_load_or_create(path, &again, &created), MC_EINVAL); /* like ssh */
    chmod(path, 0600);
    snprintf(path, sizeof(path), "%s/b.key", dir);
    ASSERT_EQ_INT(mc_key_load_or_create(path, &key_b, &created), 0);
    ASSERT_TRUE(memcmp(key_a.pk, key_b.pk, MC_KEY_PUBLIC));
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    ASSERT_EQ_INT(mc_key_load_or_create(path, &again, &created), MC_EINVAL);
}

static void test_keys_and_fingerprints(void)
{
    char dir[] = "/tmp/mcauthXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    make_keys(dir);
    uint8_t f[MC_FPR_BYTES], g[MC_FPR_BYTES];
    char text[MC_FPR_CHARS];
    mc_key_fingerprint(key_a.pk, f);
    mc_fpr_format(f, text);
    ASSERT_EQ_INT(strlen(text), MC_FPR_CHARS - 1);
    ASSERT_EQ_INT(text[4], '-');
    ASSERT_EQ_INT(mc_fpr_parse(text, g), 0);
    ASSERT_TRUE(!memcmp(f, g, sizeof(f)));
    char upper[64];
    for (size_t i = 0; i <= strlen(text); i++)
        upper[i] = text[i] >= 'a' && text[i] <= 'f' ? (char)(text[i] - 32) : text[i] == '-' ? ' ' : text[i];
    ASSERT_EQ_INT(mc_fpr_parse(upper, g), 0);
    ASSERT_TRUE(!memcmp(f, g, sizeof(f)));
    ASSERT_EQ_INT(mc_fpr_parse("abcd", g), MC_EINVAL);
    ASSERT_EQ_INT(mc_fpr_parse("zzzz-zzzz-zzzz-zzzz-zzzz", g), MC_EINVAL);
    ASSERT_EQ_INT(mc_fpr_parse("0123-4567-89ab-cdef-0123-4", g), MC_EINVAL);
    mc_key_fingerprint(key_b.pk, g);
    ASSERT_TRUE(memcmp(f, g, sizeof(f)));
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ASSERT_EQ_INT(system(cmd), 0);
}

/* Sends n packets of session s through a sender's manifests into the
 * network log, flushing every `burst` packets. */
static void send_stream(mc_auth_tx *tx, uint32_t session, uint32_t first, int n, int burst)
{
    uint8_t buf[1500];
    for (int i = 0; i < n; i++) {
        size_t len = make_packet(buf, session, first + (uint32_t)i, 0);
        log_emit(&net, buf, len);
        mc_auth_tx_add(tx, buf, len, log_emit, &net);
        if ((i + 1) % burst == 0)
            mc_auth_tx_flush(tx, 0, log_emit, &net);
    }
    mc_auth_tx_flush(tx, 1, log_emit, &net);
}

static int is_manifest(const uint8_t *p) { return p[3] == MC_PT_MANIFEST; }

static void deliver(mc_auth_rx *rx, uint64_t now)
{
    for (int i = 0; i < net.n; i++)
        mc_auth_rx_push(rx, net.pkt[i], net.len[i], now, log_emit, &out);
}

static void test_roundtrip_in_order(void)
{
    mc_auth_tx *tx;
    mc_auth_rx *rx;
    net.n = out.n = 0;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 0x1234, 1200, &tx), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &rx), 0);
    send_stream(tx, 0x1234, 1, 500, 37);
    deliver(rx, 1000);
    int data = 0;
    for (int i = 0; i < net.n; i++)
        data += !is_manifest(net.pkt[i]);
    ASSERT_EQ_INT(data, 500);
    ASSERT_EQ_INT(out.n, 500);
    /* Released once each, in arrival order, byte for byte. */
    for (int i = 0, k = 0; i < net.n; i++) {
        if (is_manifest(net.pkt[i]))
            continue;
        ASSERT_EQ_INT(out.len[k], net.len[i]);
        ASSERT_TRUE(!memcmp(out.pkt[k], net.pkt[i], net.len[i]));
        k++;
    }
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(st.verified, 500);
    ASSERT_EQ_INT(st.pending, 0);
    ASSERT_EQ_INT(st.key_known, 1);
    uint8_t f[MC_FPR_BYTES];
    mc_key_fingerprint(key_a.pk, f);
    ASSERT_TRUE(!memcmp(st.fpr, f, sizeof(f))); /* trusted on first use */
    /* 500 packets at 1200 bytes: one signature per burst, not per packet. */
    ASSERT_LE_DBL(mc_auth_tx_manifests(tx), 500 / 37 + 1 + 500 / 60);
    ASSERT_EQ_INT(st.bad_manifest + st.wrong_key + st.replayed + st.unverified, 0);
    mc_auth_tx_destroy(tx);
    mc_auth_rx_destroy(rx);
}

/* Random loss of packets and manifests and random reordering: what is
 * released is exactly what arrived and was vouched for, never anything
 * else, and one lost manifest copy costs nothing. */
static void test_loss_and_reordering(void)
{
    mc_auth_tx *tx;
    mc_auth_rx *rx;
    net.n = out.n = 0;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 77, 1200, &tx), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &rx), 0);
    send_stream(tx, 77, 100, 2000, 20);
    /* Swap neighbours at random (2 %), drop 5 % of everything. */
    for (int i = 0; i + 1 < net.n; i++)
        if (test_rand_below(100) < 2) {
            uint8_t tmp[1500];
            size_t l = net.len[i];
            memcpy(tmp, net.pkt[i], l);
            memcpy(net.pkt[i], net.pkt[i + 1], net.len[i + 1]);
            net.len[i] = net.len[i + 1];
            memcpy(net.pkt[i + 1], tmp, l);
            net.len[i + 1] = l;
        }
    int arrived = 0, manifests_lost = 0;
    for (int i = 0; i < net.n; i++) {
        if (test_rand_below(100) < 5) {
            manifests_lost += is_manifest(net.pkt[i]);
            continue;
        }
        arrived += !is_manifest(net.pkt[i]);
        mc_auth_rx_push(rx, net.pkt[i], net.len[i], 5000 + (uint64_t)i, log_emit, &out);
    }
    ASSERT_TRUE(manifests_lost > 0);
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(rx, &st);
    /* Each datagram is listed by two manifests: losing both (0.25 %) is rare. */
    ASSERT_GE_DBL((double)out.n, arrived * 0.97);
    ASSERT_EQ_INT((int)st.verified, out.n);
    ASSERT_EQ_INT(st.bad_manifest + st.wrong_key, 0);
    for (int k = 0; k < out.n; k++) { /* everything released was genuinely sent */
        mc_hdr h;
        ASSERT_EQ_INT(mc_wire_parse_header(out.pkt[k], out.len[k], &h), 0);
        uint8_t ref[1500];
        size_t l = make_packet(ref, 77, h.seq, 0);
        ASSERT_TRUE(l == out.len[k] && !memcmp(ref, out.pkt[k], l));
    }
    mc_auth_tx_destroy(tx);
    mc_auth_rx_destroy(rx);
}

/* mc_auth_rx_reset gives what a fresh stage gives: the same stream, after a
 * reset of a stage that had trusted another key and held other datagrams,
 * releases exactly what a fresh stage releases. */
static void test_reset_is_fresh(void)
{
    mc_auth_tx *tx;
    mc_auth_rx *fresh, *used;
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &fresh), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &used), 0);
    /* First the used one trusts key_b and holds some of its datagrams. */
    net.n = out.n = 0;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_b, 5, 1200, &tx), 0);
    send_stream(tx, 5, 1, 300, 10);
    mc_auth_tx_destroy(tx);
    for (int i = 0; i < net.n - 3; i++)
        mc_auth_rx_push(used, net.pkt[i], net.len[i], 1000 + (uint64_t)i, log_emit, &out);
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(used, &st);
    ASSERT_TRUE(st.key_known && st.verified > 0);
    mc_auth_rx_reset(used);
    mc_auth_rx_get_stats(used, &st);
    ASSERT_TRUE(!st.key_known && st.verified == 0 && st.pending == 0);
    /* Then both get key_a's stream. */
    net.n = 0;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 6, 1200, &tx), 0);
    send_stream(tx, 6, 1, 300, 10);
    mc_auth_tx_destroy(tx);
    mc_auth_rx_stats a, b;
    int na, nb;
    out.n = 0;
    for (int i = 0; i < net.n; i++)
        mc_auth_rx_push(fresh, net.pkt[i], net.len[i], 5000 + (uint64_t)i, log_emit, &out);
    na = out.n;
    out.n = 0;
    for (int i = 0; i < net.n; i++)
        mc_auth_rx_push(used, net.pkt[i], net.len[i], 5000 + (uint64_t)i, log_emit, &out);
    nb = out.n;
    mc_auth_rx_get_stats(fresh, &a);
    mc_auth_rx_get_stats(used, &b);
    ASSERT_TRUE(na > 0);
    ASSERT_EQ_INT(na, nb);
    ASSERT_TRUE(a.verified == b.verified && a.manifests == b.manifests &&
                a.wrong_key == b.wrong_key && !memcmp(a.fpr, b.fpr, MC_FPR_BYTES));
    mc_auth_rx_destroy(fresh);
    mc_auth_rx_destroy(used);
}

/* A student: modified packets, forged packets with the right session,
 * manifests signed with another key (pinned and trust-on-first-use), a bad
 * signature, replays of packets and manifests, an old session. */
static void test_attacks(void)
{
    mc_auth_tx *tx, *evil;
    mc_auth_rx *rx;
    uint8_t fa[MC_FPR_BYTES];
    mc_key_fingerprint(key_a.pk, fa);
    net.n = out.n = 0;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 5, 1200, &tx), 0);
    ASSERT_EQ_INT(mc_auth_tx_create(&key_b, 5, 1200, &evil), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(fa, &rx), 0); /* pinned with --trust */

    /* 1. The student speaks first, with its own key and the right session. */
    send_stream(evil, 5, 1, 30, 30);
    deliver(rx, 1000);
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(out.n, 0);
    ASSERT_TRUE(st.wrong_key >= 1);
    ASSERT_EQ_INT(st.key_known, 0);

    /* 2. The teacher's stream, with modified copies of some packets and a
     * manifest whose signature was tampered with. */
    net.n = 0;
    send_stream(tx, 5, 1000, 40, 40);
    int real = net.n;
    for (int i = 0; i < real; i++) {
        if (is_manifest(net.pkt[i]))
            continue;
        memcpy(net.pkt[net.n], net.pkt[i], net.len[i]);
        net.pkt[net.n][net.len[i] - 1] ^= 1; /* a changed pixel */
        net.len[net.n] = net.len[i];
        net.n++;
    }
    uint8_t bad[1500];
    size_t bad_len = 0;
    for (int i = 0; i < real; i++)
        if (is_manifest(net.pkt[i])) {
            bad_len = net.len[i];
            memcpy(bad, net.pkt[i], bad_len);
            bad[bad_len - 5] ^= 0x40; /* the signature */
            break;
        }
    ASSERT_TRUE(bad_len > 0);
    /* The tampered manifest arrives first, under a fresh number (the low
     * byte of the header's seq), so it is checked and not taken for the
     * repeated copy of a manifest already used. */
    bad[11] ^= 0x7f;
    mc_auth_rx_push(rx, bad, bad_len, 2000, log_emit, &out);
    out.n = 0;
    deliver(rx, 2000);
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(out.n, 40);            /* exactly the genuine packets */
    ASSERT_TRUE(st.bad_manifest >= 1);   /* the tampered manifest */
    ASSERT_EQ_INT(st.key_known, 1);
    ASSERT_EQ_INT(st.pending, 30 + 40);  /* the student's and the modified copies wait ... */
    /* A bit flipped in a manifest's public key: it names a key nobody
     * holds and its signature cannot check out. Junk, not an impersonation:
     * counted as bad, never as "signed by another key". */
    uint64_t wrong_before = st.wrong_key, bad_before = st.bad_manifest;
    for (int i = 0; i < real; i++)
        if (is_manifest(net.pkt[i])) {
            memcpy(bad, net.pkt[i], net.len[i]);
            bad[MC_HDR_BYTES + 4 + 7] ^= 0x10;
            bad[11] ^= 0x3c; /* a fresh number */
            mc_auth_rx_push(rx, bad, net.len[i], 2000, log_emit, &out);
            break;
        }
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(st.wrong_key, wrong_before);
    ASSERT_EQ_INT(st.bad_manifest, bad_before + 1);
    mc_auth_rx_push(rx, net.pkt[0], net.len[0], 2000 + MC_AUTH_HOLD_US + 1, log_emit, &out);
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(st.unverified, 30 + 40); /* ... and are dropped, never used */

    /* 3. Replays: the whole capture again, a second later. Nothing new. */
    out.n = 0;
    for (int i = 0; i < real; i++)
        mc_auth_rx_push(rx, net.pkt[i], net.len[i], 3000000, log_emit, &out);
    ASSERT_EQ_INT(out.n, 0);

    /* 4. An old session: recorded earlier, replayed after the teacher's
     * newer session was seen. */
    mc_auth_tx *old;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 4, 1200, &old), 0);
    wire_log *saved = malloc(sizeof(*saved));
    net.n = 0;
    send_stream(old, 4, 1, 10, 10);
    memcpy(saved, &net, sizeof(net));
    mc_auth_rx_destroy(rx);
    ASSERT_EQ_INT(mc_auth_rx_create(fa, &rx), 0);
    net.n = 0;
    sleep(3); /* the recording is now 3 s old: over the 2 s tolerance */
    send_stream(tx, 5, 5000, 10, 10);
    out.n = 0;
    deliver(rx, 4000000);
    ASSERT_EQ_INT(out.n, 10);
    out.n = 0;
    memcpy(&net, saved, sizeof(net));
    deliver(rx, 4000001);
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(out.n, 0);
    ASSERT_TRUE(st.replayed >= 1);
    free(saved);
    mc_auth_tx_destroy(old);
    mc_auth_tx_destroy(tx);
    mc_auth_tx_destroy(evil);
    mc_auth_rx_destroy(rx);
}

/* Trust on first use keeps the first key: a second key is refused even
 * when its signatures are valid. */
static void test_tofu_keeps_first_key(void)
{
    mc_auth_tx *a, *b;
    mc_auth_rx *rx;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 9, 1200, &a), 0);
    ASSERT_EQ_INT(mc_auth_tx_create(&key_b, 9, 1200, &b), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &rx), 0);
    net.n = out.n = 0;
    send_stream(a, 9, 1, 5, 5);
    deliver(rx, 10);
    ASSERT_EQ_INT(out.n, 5);
    net.n = out.n = 0;
    send_stream(b, 9, 100, 5, 5);
    deliver(rx, 20);
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(rx, &st);
    ASSERT_EQ_INT(out.n, 0);
    ASSERT_TRUE(st.wrong_key >= 1);
    mc_auth_tx_destroy(a);
    mc_auth_tx_destroy(b);
    mc_auth_rx_destroy(rx);
}

/* A flood of random and valid-looking unsigned packets: memory held stays
 * under the caps, and the real stream still gets through. */
static void test_flood_is_bounded(void)
{
    mc_auth_tx *tx;
    mc_auth_rx *rx;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 11, 1200, &tx), 0);
    ASSERT_EQ_INT(mc_auth_rx_create(NULL, &rx), 0);
    uint8_t buf[1500];
    size_t max_bytes = 0;
    int max_pending = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 3000; i++) { /* forged: right session, random content */
            size_t len = make_packet(buf, 11, test_rand_below(1u << 30), (int)test_rand());
            mc_auth_rx_push(rx, buf, len, (uint64_t)round * 100000, log_emit, &out);
            len = 20 + test_rand_below(1400); /* random bytes with a valid header */
            for (size_t k = MC_HDR_BYTES; k < len; k++)
                buf[k] = (uint8_t)test_rand();
            mc_auth_rx_push(rx, buf, len, (uint64_t)round * 100000, log_emit, &out);
        }
        net.n = out.n = 0;
        send_stream(tx, 11, (uint32_t)round * 100, 50, 25);
        deliver(rx, (uint64_t)round * 100000 + 1);
        ASSERT_EQ_INT(out.n, 50);
        mc_auth_rx_stats st;
        mc_auth_rx_get_stats(rx, &st);
        max_bytes = st.pending_bytes > max_bytes ? st.pending_bytes : max_bytes;
        max_pending = st.pending > max_pending ? st.pending : max_pending;
    }
    mc_auth_rx_stats st;
    mc_auth_rx_get_stats(rx, &st);
    printf("  flood: held at most %d datagrams, %zu bytes; evicted %llu, expired %llu\n",
           max_pending, max_bytes, (unsigned long long)st.evicted,
           (unsigned long long)st.unverified);
    ASSERT_TRUE(max_pending <= MC_AUTH_PENDING);
    ASSERT_TRUE(max_bytes <= MC_AUTH_PENDING_BYTES);
    ASSERT_TRUE(st.evicted > 0);
    mc_auth_tx_destroy(tx);
    mc_auth_rx_destroy(rx);
}

static void test_manifest_parser_rejects(void)
{
    mc_auth_tx *tx;
    ASSERT_EQ_INT(mc_auth_tx_create(&key_a, 3, 1200, &tx), 0);
    net.n = 0;
    send_stream(tx, 3, 1, 3, 3);
    int mi = -1;
    for (int i = 0; i < net.n; i++)
        if (is_manifest(net.pkt[i]))
            mi = i;
    ASSERT_TRUE(mi >= 0);
    uint8_t *m = net.pkt[mi];
    size_t len = net.len[mi];
    mc_manifest pm;
    ASSERT_EQ_INT(mc_manifest_parse(m, len, &pm), 0);
    ASSERT_EQ_INT(pm.count, 3);
    ASSERT_EQ_INT(mc_manifest_verify(m, len), 0);
    for (size_t n = 0; n < len; n++) /* every truncation */
        ASSERT_TRUE(mc_manifest_parse(m, n, &pm) < 0);
    ASSERT_TRUE(mc_manifest_parse(m, len + MC_PKT_HASH, &pm) < 0);
    m[MC_HDR_BYTES] = 1; /* version 1's algorithm (16-byte hashes): not any more */
    ASSERT_EQ_INT(mc_manifest_parse(m, len, &pm), MC_EFIELD);
    m[MC_HDR_BYTES] = MC_MANIFEST_ALG;
    m[MC_HDR_BYTES + 3] = 0; /* count 0 */
    ASSERT_TRUE(mc_manifest_parse(m, len, &pm) < 0);
    m[MC_HDR_BYTES + 3] = 3;
    m[len - 1] ^= 1; /* signature */
    ASSERT_EQ_INT(mc_manifest_verify(m, len), MC_EFIELD);
    mc_auth_tx_destroy(tx);
}

/* The control channel's WELCOME: only the key holder can sign a viewer's
 * fresh challenge; a replayed WELCOME fails another challenge. */
static void test_welcome_proves_the_key(void)
{
    uint8_t nonce[16] = {1, 2, 3}, other[16] = {4, 5, 6}, sig[MC_SIG_BYTES];
    mc_auth_sign_welcome(&key_a, 77, nonce, sig);
    ASSERT_EQ_INT(mc_auth_verify_welcome(key_a.pk, 77, nonce, sig), 0);
    ASSERT_EQ_INT(mc_auth_verify_welcome(key_a.pk, 77, other, sig), MC_EFIELD); /* replayed */
    ASSERT_EQ_INT(mc_auth_verify_welcome(key_a.pk, 78, nonce, sig), MC_EFIELD); /* other session */
    ASSERT_EQ_INT(mc_auth_verify_welcome(key_b.pk, 77, nonce, sig), MC_EFIELD); /* other key */
    mc_auth_sign_welcome(&key_b, 77, nonce, sig); /* a student's own key */
    ASSERT_EQ_INT(mc_auth_verify_welcome(key_a.pk, 77, nonce, sig), MC_EFIELD);
}

int main(void)
{
    test_limit_seconds(60);
    test_seed_init();
    RUN(test_keys_and_fingerprints);
    RUN(test_roundtrip_in_order);
    RUN(test_loss_and_reordering);
    RUN(test_tofu_keeps_first_key);
    RUN(test_attacks);
    RUN(test_reset_is_fresh);
    RUN(test_flood_is_bounded);
    RUN(test_manifest_parser_rejects);
    RUN(test_welcome_proves_the_key);
    return 0;
}
