/* Audio: the AUDIO packet, the sender's tone through Opus, the viewer's
 * jitter buffer under loss, jitter and garbage, the A/V clock, and drift
 * between two sound cards over a 45-minute lesson (simulated time). */
#include <math.h>
#include "mc/platform.h"

#include "mc/audio.h"
#include "mc/common.h"
#include "mc/wire.h"
#include "test.h"

/* ---- packets recorded from a real mc_audio_tx ------------------------- */

typedef struct {
    mc_mutex mu;
    int n;
    uint8_t pkt[400][MC_AUDIO_MAX_OPUS * 2];
    size_t len[400];
    uint64_t at[400];
} tape;

static void tape_sink(void *ctx, const uint8_t *pkt, size_t len)
{
    tape *t = ctx;
    mc_mutex_lock(&t->mu);
    if (t->n < 400 && len <= sizeof(t->pkt[0])) {
        memcpy(t->pkt[t->n], pkt, len);
        t->len[t->n] = len;
        t->at[t->n] = mc_now_us();
        t->n++;
    }
    mc_mutex_unlock(&t->mu);
}

/* Records `ms` of the tone; marks a click at mark_at_ms (< 0: none). */
static void record_tone(tape *t, int redundancy, int ms, int mark_at_ms, uint64_t *mark_ts)
{
    memset(t, 0, sizeof(*t));
    mc_mutex_init(&t->mu);
    mc_audio_config cfg;
    mc_audio_config_default(&cfg);
    cfg.source = "tone";
    cfg.redundancy = redundancy;
    mc_audio_tx *tx;
    ASSERT_EQ_INT(mc_audio_tx_create(&cfg, 0x1234, tape_sink, t, &tx), 0);
    uint64_t start = mc_now_us();
    if (mark_at_ms >= 0) {
        *mark_ts = start + (uint64_t)mark_at_ms * 1000u;
        mc_audio_tx_mark(tx, *mark_ts);
    }
    mc_sleep_until_us(start + (uint64_t)ms * 1000u);
    mc_audio_tx_stats st;
    mc_audio_tx_get_stats(tx, &st);
    mc_audio_tx_destroy(tx);
    ASSERT_TRUE(t->n >= ms / 10 - 5);
    /* Read before the thread stopped: at most one packet more got out. */
    ASSERT_TRUE((uint64_t)t->n >= st.packets && (uint64_t)t->n - st.packets <= 1);
    if (mark_at_ms >= 0)
        ASSERT_EQ_INT(st.marks, 1);
}

static void test_wire(void)
{
    test_name = "wire";
    uint8_t a[3] = {1, 2, 3}, b[5] = {9, 8, 7, 6, 5}, buf[256];
    mc_audio in = {.channels = 2, .count = 2, .frame_samples = 480, .rate = MC_AUDIO_RATE};
    in.frames[0].data = a;
    in.frames[0].len = 3;
    in.frames[1].data = b;
    in.frames[1].len = 5;
    mc_hdr h = {.type = MC_PT_AUDIO, .session = 7, .seq = 0xFFFFFFFFu, .ts_us = 123456789};
    int n = mc_wire_write_audio(buf, sizeof(buf), &h, &in);
    ASSERT_EQ_INT(n, MC_HDR_BYTES + MC_AUDIO_HDR_BYTES + 2 + 3 + 2 + 5);
    mc_hdr h2;
    mc_audio out;
    ASSERT_EQ_INT(mc_wire_parse_header(buf, (size_t)n, &h2), 0);
    ASSERT_EQ_INT(h2.type, MC_PT_AUDIO);
    ASSERT_EQ_INT(h2.seq, 0xFFFFFFFFu);
    ASSERT_EQ_INT(mc_wire_parse_audio(buf, (size_t)n, &out), 0);
    ASSERT_EQ_INT(out.count, 2);
    ASSERT_EQ_INT(out.frames[1].len, 5);
    ASSERT_TRUE(!memcmp(out.frames[1].data, b, 5));
    /* Every shorter packet and a longer one are refused. */
    for (int cut = 0; cut < n; cut++)
        ASSERT_TRUE(mc_wire_parse_audio(buf, (size_t)cut, &out) < 0);
    ASSERT_TRUE(mc_wire_parse_audio(buf, (size_t)n + 1, &out) < 0);
    /* Out-of-range fields. */
    uint8_t bad[256];
    int offs[] = {0, 1, 2, 4};
    uint8_t vals[] = {3, 0, 0x7F, 1};
    for (int i = 0; i < 4; i++) {
        memcpy(bad, buf, (size_t)n);
        bad[MC_HDR_BYTES + offs[i]] = vals[i];
        ASSERT_TRUE(mc_wire_parse_audio(bad, (size_t)n, &out) < 0);
    }
    memcpy(bad, buf, (size_t)n);
    bad[MC_HDR_BYTES + MC_AUDIO_HDR_BYTES] = 0xFF; /* first frame length far too long */
    ASSERT_TRUE(mc_wire_parse_audio(bad, (size_t)n, &out) < 0);
    in.count = 0;
    ASSERT_TRUE(mc_wire_write_audio(buf, sizeof(buf), &h, &in) < 0);
}

/* ---- playout simulation ----------------------------------------------- */

#define OUT_MAX (48000 * 4)

typedef struct {
    int16_t out[OUT_MAX * 2];
    int n;            /* samples collected since sound started */
    uint64_t first_us; /* local time of out[0] */
    uint64_t click_us; /* a click found (0: none) */
    int concealed, recovered, underruns;
} played;

/* Plays a tape: packet i arrives at its send time + 2 ms (+ jitter), some
 * are dropped at random (drop_pct) and packets [burst_from, burst_from +
 * burst_n) always; the device pulls 10 ms every 10 ms. */
static void play_tape_burst(const tape *t, double drop_pct, int jitter_ms, int burst_from,
                            int burst_n, played *p)
{
    memset(p, 0, sizeof(*p));
    mc_audio_rx *rx;
    ASSERT_EQ_INT(mc_audio_rx_create(MC_AUDIO_TARGET_MS, &rx), 0);
    uint64_t arrive[400];
    int order[400];
    for (int i = 0; i < t->n; i++) {
        arrive[i] = t->at[i] + 2000 + (jitter_ms ? test_rand_below((uint32_t)jitter_ms * 1000) : 0);
        order[i] = i;
    }
    for (int i = 1; i < t->n; i++) /* by arrival time: jitter reorders */
        for (int j = i; j > 0 && arrive[order[j]] < arrive[order[j - 1]]; j--) {
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    int next = 0;
    int16_t buf[2 * 480];
    for (uint64_t now = t->at[0]; now < t->at[t->n - 1]; now += 10000) {
        for (; next < t->n && arrive[order[next]] <= now; next++) {
            if (test_rand_below(10000) < drop_pct * 100)
                continue;
            if (order[next] >= burst_from && order[next] < burst_from + burst_n)
                continue;
            const uint8_t *pk = t->pkt[order[next]];
            mc_hdr h;
            mc_audio a;
            ASSERT_EQ_INT(mc_wire_parse_header(pk, t->len[order[next]], &h), 0);
            ASSERT_EQ_INT(mc_wire_parse_audio(pk, t->len[order[next]], &a), 0);
            mc_audio_rx_push(rx, h.session, &h, &a, arrive[order[next]]);
        }
        int got = mc_audio_rx_pull(rx, buf, 480, now, 0);
        uint64_t clicks[4];
        if (mc_audio_rx_take_clicks(rx, clicks, 4) > 0 && !p->click_us)
            p->click_us = clicks[0];
        if (got > 0 && p->n == 0)
            p->first_us = now;
        if (p->n > 0 || got > 0)
            for (int i = 0; i < 480 && p->n < OUT_MAX && next < t->n; i++, p->n++) {
                p->out[2 * p->n] = buf[2 * i];
                p->out[2 * p->n + 1] = buf[2 * i + 1];
            }
    }
    mc_audio_rx_stats st;
    mc_audio_rx_get_stats(rx, &st);
    p->concealed = (int)st.concealed;
    p->recovered = (int)st.recovered;
    p->underruns = (int)st.underruns;
    mc_audio_rx_destroy(rx);
}

static void play_tape(const tape *t, double drop_pct, int jitter_ms, played *p)
{
    play_tape_burst(t, drop_pct, jitter_ms, -1, 0, p);
}

/* Frequency (positive zero crossings), RMS, and the longest near-silent run
 * of the left channel, skipping the first 50 ms (the codec warming up). */
static void analyse(const played *p, double *hz, double *rms, int *gap)
{
    int from = 2400, cross = 0, run = 0;
    double sum = 0;
    *gap = 0;
    for (int i = from; i < p->n; i++) {
        int16_t s = p->out[2 * i];
        sum += (double)s * s;
        if (i > from && p->out[2 * (i - 1)] < 0 && s >= 0)
            cross++;
        run = abs(s) < 300 ? run + 1 : 0;
        /* a sine passes zero every 54 samples; silence is a long run */
        *gap = run > *gap ? run : *gap;
    }
    int n = p->n - from;
    *hz = n > 0 ? cross * 48000.0 / n : 0;
    *rms = n > 0 ? sqrt(sum / n) / 32767 : 0;
}

static void test_tone(void)
{
    test_name = "tone";
    static tape t;
    static played p;
    record_tone(&t, 2, 1500, -1, NULL);
    double hz, rms;
    int gap;
    play_tape(&t, 0, 0, &p);
    analyse(&p, &hz, &rms, &gap);
    printf("tone, no loss: %.1f Hz, rms %.3f, longest quiet run %d samples, concealed %d\n", hz,
           rms, gap, p.concealed);
    ASSERT_TRUE(p.n > 48000);
    ASSERT_TRUE(fabs(hz - 440) < 4);
    ASSERT_TRUE(fabs(rms - 0.25 / sqrt(2)) < 0.03);
    ASSERT_LE_DBL(gap, 40);
    ASSERT_EQ_INT(p.concealed, 0);
    ASSERT_EQ_INT(p.underruns, 0);

    /* 5 % loss: the repeated frames fill the holes. */
    play_tape(&t, 5, 0, &p);
    analyse(&p, &hz, &rms, &gap);
    printf("tone, 5%% loss, 2 repeats: %.1f Hz, rms %.3f, gap %d, concealed %d, repeats used %d\n",
           hz, rms, gap, p.concealed, p.recovered);
    ASSERT_TRUE(fabs(hz - 440) < 4);
    ASSERT_LE_DBL(gap, 40);
    ASSERT_TRUE(p.recovered > 0);
    ASSERT_LE_DBL(p.concealed, 2);

    /* Three packets lost in a row, just after playback started and later:
     * each frame rides in three packets, so one frame is gone. Nothing
     * newer is held when it is needed, yet Opus conceals it: no silence,
     * no underrun (the buffer once played 10 ms of silence here). */
    for (int from = 4; from <= 80; from += 76) {
        play_tape_burst(&t, 0, 0, from, 3, &p);
        analyse(&p, &hz, &rms, &gap);
        printf("tone, packets %d-%d lost: %.1f Hz, gap %d, concealed %d, underruns %d\n", from,
               from + 2, hz, gap, p.concealed, p.underruns);
        ASSERT_EQ_INT(p.concealed, 1);
        ASSERT_EQ_INT(p.underruns, 0);
        ASSERT_LE_DBL(gap, 40);
        ASSERT_TRUE(fabs(hz - 440) < 4);
    }
    /* Half a second lost: that is an underrun (a new start, then the tone
     * again), not half a second of made-up sound. */
    play_tape_burst(&t, 0, 0, 60, 50, &p);
    analyse(&p, &hz, &rms, &gap);
    printf("tone, 500 ms lost: gap %d, concealed %d, underruns %d\n", gap, p.concealed,
           p.underruns);
    ASSERT_EQ_INT(p.underruns, 1);
    ASSERT_LE_DBL(p.concealed, 4);
    ASSERT_TRUE(gap > 48000 / 4 && gap < 48000 * 3 / 4);

    /* Jitter up to 15 ms reorders packets; the 30 ms buffer absorbs it. */
    play_tape(&t, 0, 15, &p);
    analyse(&p, &hz, &rms, &gap);
    printf("tone, 15 ms jitter: %.1f Hz, gap %d, concealed %d, underruns %d\n", hz, gap,
           p.concealed, p.underruns);
    ASSERT_TRUE(fabs(hz - 440) < 4);
    ASSERT_EQ_INT(p.underruns, 0);
    ASSERT_EQ_INT(p.concealed, 0);

    /* No repeats and 5 % loss: Opus conceals, and there is never silence. */
    record_tone(&t, 0, 1500, -1, NULL);
    play_tape(&t, 5, 0, &p);
    analyse(&p, &hz, &rms, &gap);
    printf("tone, 5%% loss, no repeats: %.1f Hz, rms %.3f, gap %d, concealed %d\n", hz, rms, gap,
           p.concealed);
    ASSERT_TRUE(p.concealed > 0);
    ASSERT_TRUE(fabs(hz - 440) < 10);
    ASSERT_LE_DBL(gap, 480); /* at most one frame's worth of quiet */
}

/* The click for a marker is heard when the audio clock says the marker's
 * capture time is being heard. */
static void test_marker_clock(void)
{
    test_name = "marker_clock";
    static tape t;
    static played p;
    uint64_t mark;
    record_tone(&t, 2, 1200, 700, &mark);
    play_tape(&t, 0, 0, &p);
    ASSERT_TRUE(p.click_us != 0);
    /* Replay to read the clock at the click's play time. */
    mc_audio_rx *rx;
    ASSERT_EQ_INT(mc_audio_rx_create(MC_AUDIO_TARGET_MS, &rx), 0);
    int next = 0;
    int16_t buf[2 * 480];
    uint64_t heard = 0;
    for (uint64_t now = t.at[0]; now < t.at[t.n - 1]; now += 10000) {
        for (; next < t.n && t.at[next] + 2000 <= now; next++) {
            mc_hdr h;
            mc_audio a;
            mc_wire_parse_header(t.pkt[next], t.len[next], &h);
            mc_wire_parse_audio(t.pkt[next], t.len[next], &a);
            mc_audio_rx_push(rx, h.session, &h, &a, t.at[next] + 2000);
        }
        mc_audio_rx_pull(rx, buf, 480, now, 0);
        if (now <= p.click_us && p.click_us < now + 10000)
            ASSERT_EQ_INT(mc_audio_rx_clock(rx, p.click_us, &heard), 1);
    }
    mc_audio_rx_destroy(rx);
    double err_ms = ((double)heard - (double)mark) / 1000.0;
    printf("marker click heard at clock %+.2f ms from its capture time; %.1f ms after capture\n",
           err_ms, (double)(p.click_us - mark) / 1000.0);
    ASSERT_TRUE(fabs(err_ms) < 2.0);
    /* Heard after capture by about the buffer target + one frame. */
    ASSERT_TRUE(p.click_us > mark + 20000 && p.click_us < mark + 80000);
}

/* Two sound cards 0.1 % apart for 45 minutes of simulated time: the delay
 * from capture to ear must not wander (without correction it would drift
 * by 2.7 s, or the buffer would run dry every few seconds). */
static void drift_run(const tape *t, double device_ppm, int minutes)
{
    mc_audio_rx *rx;
    ASSERT_EQ_INT(mc_audio_rx_create(MC_AUDIO_TARGET_MS, &rx), 0);
    uint64_t t0 = 1000000000ull, end = t0 + (uint64_t)minutes * 60000000ull;
    double pull_period = 10000.0 / (1.0 + device_ppm / 1e6); /* a fast device pulls more often */
    double next_pull = (double)t0;
    uint64_t k = 0; /* frames sent */
    uint32_t seq0 = 0xFFFFFF00u; /* wraps during the run */
    double lo = 1e9, hi = -1e9, last_delay = 0, ppm_sum = 0;
    long ppm_n = 0;
    uint64_t underruns_warm = 0;
    int16_t buf[2 * 480];
    mc_audio_rx_stats st;
    for (;;) {
        uint64_t send_at = t0 + k * 10000;
        if ((double)send_at <= next_pull) { /* sender first when both are due */
            if (send_at >= end)
                break;
            const uint8_t *pk = t->pkt[k % (uint64_t)t->n];
            mc_hdr h;
            mc_audio a;
            mc_wire_parse_header(pk, t->len[k % (uint64_t)t->n], &h);
            mc_wire_parse_audio(pk, t->len[k % (uint64_t)t->n], &a);
            a.count = 1; /* one frame per packet here: no repeats needed */
            h.seq = seq0 + (uint32_t)k;
            h.ts_us = send_at - 10000;
            mc_audio_rx_push(rx, 1, &h, &a, send_at + 1000);
            k++;
            continue;
        }
        uint64_t now = (uint64_t)next_pull;
        mc_audio_rx_pull(rx, buf, 480, now, 0);
        next_pull += pull_period;
        uint64_t ts;
        if (now - t0 < 60000000ull || !mc_audio_rx_clock(rx, now, &ts))
            continue; /* the first minute settles the controller */
        mc_audio_rx_get_stats(rx, &st);
        if (!underruns_warm)
            underruns_warm = st.underruns + 1;
        double delay = ((double)now - (double)ts) / 1000.0;
        ppm_sum += st.drift_ppm;
        ppm_n++;
        lo = delay < lo ? delay : lo;
        hi = delay > hi ? delay : hi;
        last_delay = delay;
    }
    mc_audio_rx_get_stats(rx, &st);
    printf("drift %+.0f ppm over %d min: capture->ear %.1f..%.1f ms (end %.1f), correction %+.0f ppm, "
           "underruns after the first minute %llu, concealed %llu\n",
           device_ppm, minutes, lo, hi, last_delay, ppm_n ? ppm_sum / (double)ppm_n : 0,
           (unsigned long long)(st.underruns - (underruns_warm - 1)),
           (unsigned long long)st.concealed);
    ASSERT_EQ_INT(st.underruns - (underruns_warm - 1), 0);
    ASSERT_LE_DBL(hi - lo, 15);   /* no wander */
    ASSERT_LE_DBL(hi, 70);
    ASSERT_GE_DBL(lo, 20);
    /* The controller found the difference: on average, the device's rate. */
    ASSERT_TRUE(ppm_n > 0 && fabs(ppm_sum / (double)ppm_n + device_ppm) < 100);
    mc_audio_rx_destroy(rx);
}

static void test_drift(void)
{
    test_name = "drift";
    static tape t;
    record_tone(&t, 0, 1000, -1, NULL);
    const char *e = getenv("MC_AUDIO_DRIFT_MINUTES");
    int minutes = e ? (int)strtol(e, NULL, 10) : 45;
    if (minutes < 2)
        minutes = 2;
    drift_run(&t, 1000, minutes);
    drift_run(&t, -1000, minutes);
}

/* Garbage frames, jumps and format changes: no crash, and the sound goes
 * on: a real stream that follows the garbage plays as a clean tone. */
static void test_garbage(void)
{
    test_name = "garbage";
    static tape t;
    record_tone(&t, 2, 1000, -1, NULL);
    mc_audio_rx *rx;
    ASSERT_EQ_INT(mc_audio_rx_create(MC_AUDIO_TARGET_MS, &rx), 0);
    uint8_t junk[MC_AUDIO_MAX_OPUS];
    int16_t buf[2 * 960];
    uint64_t now = 5000000;
    for (int i = 0; i < 5000; i++, now += 3000) {
        for (size_t j = 0; j < sizeof(junk); j++)
            junk[j] = (uint8_t)test_rand();
        static const uint16_t sizes[] = {120, 240, 480, 960, 1920, 2880};
        mc_audio a = {.channels = (uint8_t)(1 + test_rand_below(2)),
                      .count = (uint8_t)(1 + test_rand_below(4)),
                      .frame_samples = sizes[test_rand_below(6)], .rate = MC_AUDIO_RATE};
        for (int f = 0; f < a.count; f++) {
            a.frames[f].data = junk;
            a.frames[f].len = (uint16_t)(1 + test_rand_below(MC_AUDIO_MAX_OPUS));
        }
        mc_hdr h = {.type = MC_PT_AUDIO, .session = test_rand_below(3),
                    .seq = (uint32_t)test_rand() % 200, .ts_us = test_rand()};
        mc_audio_rx_push(rx, h.session, &h, &a, now);
        if (i % 3 == 0)
            mc_audio_rx_pull(rx, buf, 1 + (int)test_rand_below(960), now, test_rand_below(50000));
        uint64_t ts;
        mc_audio_rx_clock(rx, now + test_rand_below(1000000), &ts);
    }
    /* Then the teacher's real stream (another session id than the
     * garbage's 0..2): 10 ms pulls must give the tone without a hole. */
    int16_t left[48000 * 2];
    int n = 0, next = 0;
    uint64_t base = now + 1000000 - t.at[0];
    for (uint64_t at = t.at[0]; at < t.at[t.n - 1]; at += 10000) {
        for (; next < t.n && t.at[next] + 2000 <= at; next++) {
            mc_hdr h;
            mc_audio a;
            ASSERT_EQ_INT(mc_wire_parse_header(t.pkt[next], t.len[next], &h), 0);
            ASSERT_EQ_INT(mc_wire_parse_audio(t.pkt[next], t.len[next], &a), 0);
            mc_audio_rx_push(rx, h.session, &h, &a, base + t.at[next] + 2000);
        }
        int got = mc_audio_rx_pull(rx, buf, 480, base + at, 0);
        for (int i = 0; i < got && n < (int)(sizeof(left) / sizeof(left[0])); i++)
            left[n++] = buf[2 * i];
    }
    mc_audio_rx_stats st;
    mc_audio_rx_get_stats(rx, &st);
    int cross = 0, run = 0, gap = 0;
    for (int i = 2400; i < n; i++) { /* past the codec's warm-up */
        if (left[i - 1] < 0 && left[i] >= 0)
            cross++;
        run = abs(left[i]) < 300 ? run + 1 : 0;
        gap = run > gap ? run : gap;
    }
    double hz = n > 2400 ? cross * 48000.0 / (n - 2400) : 0;
    printf("after garbage: %d samples of the real stream, %.1f Hz, gap %d, concealed %llu\n", n,
           hz, gap, (unsigned long long)st.concealed);
    ASSERT_TRUE(n > 48000 * 8 / 10);
    ASSERT_TRUE(fabs(hz - 440) < 4);
    ASSERT_LE_DBL(gap, 40);
    ASSERT_EQ_INT(st.channels, 2);
    mc_audio_rx_destroy(rx);
}

static void test_config(void)
{
    test_name = "config";
    mc_audio_config c;
    mc_audio_config_default(&c);
    ASSERT_EQ_INT(mc_audio_parse_bitrate("low", &c), 0);
    ASSERT_EQ_INT(c.bitrate, MC_AUDIO_LOW_BPS);
    ASSERT_EQ_INT(c.channels, 1);
    ASSERT_EQ_INT(mc_audio_parse_bitrate("96000", &c), 0);
    ASSERT_EQ_INT(c.bitrate, 96000);
    ASSERT_TRUE(mc_audio_parse_bitrate("loud", &c) < 0);
    ASSERT_TRUE(mc_audio_parse_bitrate("100", &c) < 0);
    mc_audio_tx *tx;
    c.source = "file:/nonexistent.wav";
    ASSERT_EQ_INT(mc_audio_tx_create(&c, 1, NULL, NULL, &tx), MC_EAUDIO);
    c.source = "tone";
    c.frame_ms = 7;
    ASSERT_EQ_INT(mc_audio_tx_create(&c, 1, NULL, NULL, &tx), MC_EINVAL);
    mc_audio_rx *rx;
    ASSERT_EQ_INT(mc_audio_rx_create(5, &rx), MC_EINVAL);
}

int main(void)
{
    test_limit_seconds(150);
    test_seed_init();
    test_wire();
    test_config();
    test_garbage();
    test_tone();
    test_marker_clock();
    test_drift();
    printf("audio: all tests passed\n");
    return 0;
}
