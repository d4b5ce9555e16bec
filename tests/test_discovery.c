/* SAP/SDP announcements: a round trip, the signature covering every field
 * and the announcement/deletion bit, other SAP traffic left alone, names
 * made safe to show, a listener that keeps the newest word of each
 * broadcast (a replayed deletion does not remove a live one). */
#include <stdio.h>
#include <string.h>

#include "mc/common.h"
#include "mc/discovery.h"
#include "test.h"

static mc_signing_key key, other;

static int build(const mc_disco_entry *e, const mc_signing_key *k, int del, uint8_t *buf)
{
    int n = mc_disco_build(e, k, del, 0x0100000a /* 10.0.0.1 */, buf, 2048);
    ASSERT_TRUE(n > 0);
    return n;
}

static mc_disco_entry sample(void)
{
    mc_disco_entry e = {.port = 5004, .ctrl_port = 5005, .session = 0xdeadbeef,
                        .time_ms = 1764270000123ull, .sealed = 1};
    snprintf(e.name, sizeof(e.name), "Physics 2B");
    snprintf(e.group, sizeof(e.group), "239.1.2.3");
    return e;
}

static void test_round_trip(void)
{
    uint8_t buf[2048];
    mc_disco_entry e = sample(), got;
    int n = build(&e, &key, 0, buf);
    ASSERT_EQ_INT(mc_disco_parse(buf, (size_t)n, &got), 0);
    ASSERT_TRUE(!strcmp(got.name, "Physics 2B") && !strcmp(got.group, "239.1.2.3"));
    ASSERT_EQ_INT(got.port, 5004);
    ASSERT_EQ_INT(got.ctrl_port, 5005);
    ASSERT_EQ_INT(got.session, 0xdeadbeef);
    ASSERT_TRUE(got.time_ms == 1764270000123ull);
    ASSERT_EQ_INT(got.sealed, 1);
    ASSERT_EQ_INT(got.deleted, 0);
    ASSERT_TRUE(!strcmp(got.origin, "10.0.0.1"));
    uint8_t fpr[MC_FPR_BYTES];
    mc_key_fingerprint(key.pk, fpr);
    ASSERT_TRUE(!memcmp(got.fpr, fpr, MC_FPR_BYTES));
    n = build(&e, &key, 1, buf);
    ASSERT_EQ_INT(mc_disco_parse(buf, (size_t)n, &got), 0);
    ASSERT_EQ_INT(got.deleted, 1);
}

/* Any byte changed before the signature, or the T bit, breaks it. */
static void test_tampering(void)
{
    uint8_t buf[2048], bad[2048];
    mc_disco_entry e = sample(), got;
    int n = build(&e, &key, 0, buf);
    const char *sdp = memchr(buf + 8, 'v', (size_t)n - 8);
    size_t start = (size_t)((const uint8_t *)sdp - buf);
    const char *sig = strstr((const char *)buf + start, "a=x-mcshare-sig:");
    ASSERT_TRUE(sig != NULL);
    size_t sig_at = (size_t)((const uint8_t *)sig - buf);
    int refused = 0, tried = 0;
    for (size_t i = start; i < sig_at; i += 7, tried++) {
        memcpy(bad, buf, (size_t)n);
        bad[i] ^= 0x01;
        refused += mc_disco_parse(bad, (size_t)n, &got) != 0;
    }
    ASSERT_EQ_INT(refused, tried);
    memcpy(bad, buf, (size_t)n);
    bad[0] |= 0x04; /* an announcement made a deletion */
    ASSERT_EQ_INT(mc_disco_parse(bad, (size_t)n, &got), MC_EFIELD);
    /* Another key's signature pasted in does not make it theirs. */
    uint8_t buf2[2048];
    int n2 = build(&e, &other, 0, buf2);
    ASSERT_EQ_INT(mc_disco_parse(buf2, (size_t)n2, &got), 0);
    uint8_t fo[MC_FPR_BYTES];
    mc_key_fingerprint(other.pk, fo);
    ASSERT_TRUE(!memcmp(got.fpr, fo, MC_FPR_BYTES)); /* it names its own key, not ours */
}

static void test_other_traffic(void)
{
    mc_disco_entry got;
    const char vlc[] = "\x20\x00\x12\x34\x0a\x00\x00\x02" "application/sdp\0"
                       "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=A video\r\nc=IN IP4 239.255.1.1/255\r\n"
                       "t=0 0\r\nm=video 5004 RTP/AVP 33\r\n";
    ASSERT_EQ_INT(mc_disco_parse((const uint8_t *)vlc, sizeof(vlc) - 1, &got), MC_EMAGIC);
    const uint8_t v2[8] = {0x40, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ_INT(mc_disco_parse(v2, sizeof(v2), &got), MC_EMAGIC);
    ASSERT_EQ_INT(mc_disco_parse(v2, 3, &got), MC_EMAGIC);
}

static void test_name_made_safe(void)
{
    uint8_t buf[2048];
    mc_disco_entry e = sample(), got;
    snprintf(e.name, sizeof(e.name), "Bad\x1b[2Jname");
    int n = build(&e, &key, 0, buf);
    ASSERT_EQ_INT(mc_disco_parse(buf, (size_t)n, &got), 0);
    ASSERT_TRUE(!strcmp(got.name, "Bad?[2Jname"));
}

static int listed(const mc_disco_listener *l, uint64_t time_ms)
{
    mc_disco_entry all[MC_DISCO_MAX];
    int n = mc_disco_listener_list(l, all, MC_DISCO_MAX);
    for (int i = 0; i < n; i++)
        if (all[i].time_ms == time_ms)
            return 1;
    return 0;
}

/* A broadcast's announcements carry its start time: the same bytes each
 * time (one message id hash, so SAP tools list it once), and the deletion
 * the same hash. A deletion ends that broadcast for good: replayed
 * announcements of it are ignored; a restart (a newer start) is listed;
 * an old deletion replayed does not remove the new one. */
static void test_listener_ends(void)
{
    uint8_t a1[2048], a2[2048], d1[2048], b1[2048], old[2048];
    mc_disco_entry e = sample();
    int na1 = build(&e, &key, 0, a1), na2 = build(&e, &key, 0, a2), nd1 = build(&e, &key, 1, d1);
    ASSERT_EQ_INT(na1, na2);
    ASSERT_TRUE(!memcmp(a1, a2, (size_t)na1)); /* deterministic: one hash */
    ASSERT_TRUE(a1[2] == d1[2] && a1[3] == d1[3]);
    mc_disco_entry older = e;
    older.time_ms -= 60000;
    int nold = build(&older, &key, 1, old);
    mc_disco_entry again = e;
    again.time_ms += 5000; /* restarted five seconds later */
    again.session ^= 1;
    int nb1 = build(&again, &key, 0, b1);
    mc_disco_listener *l;
    ASSERT_EQ_INT(mc_disco_listener_create(NULL, &l), 0);
    uint64_t t = 1000000;
    ASSERT_EQ_INT(mc_disco_listener_feed(l, a1, (size_t)na1, t), 0);
    ASSERT_TRUE(listed(l, e.time_ms));
    ASSERT_EQ_INT(mc_disco_listener_feed(l, d1, (size_t)nd1, t + 1000), 0);
    ASSERT_TRUE(!listed(l, e.time_ms));
    ASSERT_EQ_INT(mc_disco_listener_feed(l, a1, (size_t)na1, t + 2000), 0); /* replayed */
    ASSERT_TRUE(!listed(l, e.time_ms));
    ASSERT_EQ_INT(mc_disco_listener_feed(l, b1, (size_t)nb1, t + 3000), 0);
    ASSERT_TRUE(listed(l, again.time_ms));
    ASSERT_EQ_INT(mc_disco_listener_feed(l, old, (size_t)nold, t + 4000), 0);
    ASSERT_EQ_INT(mc_disco_listener_feed(l, d1, (size_t)nd1, t + 5000), 0);
    ASSERT_TRUE(listed(l, again.time_ms));
    mc_disco_listener_destroy(l);
}

int main(void)
{
    test_limit_seconds(30);
    ASSERT_EQ_INT(mc_key_generate(&key), 0);
    ASSERT_EQ_INT(mc_key_generate(&other), 0);
    RUN(test_round_trip);
    RUN(test_tampering);
    RUN(test_other_traffic);
    RUN(test_name_made_safe);
    RUN(test_listener_ends);
    return 0;
}
