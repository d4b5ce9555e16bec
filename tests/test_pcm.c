/* The sound converter (mc/pcm.h): what a sound system or a file gives, as
 * the encoder takes it. Converted block by block it must come out as
 * converted whole (the Windows loopback hands over blocks of any size);
 * rates, channels and sample formats must keep the sound's pitch and level.
 * Also built for Windows and run under wine. */
#include <math.h>
#include <string.h>

#include "mc/audio.h"
#include "mc/common.h"
#include "mc/pcm.h"
#include "test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif



static float fin[96000 * 6]; /* a second of 96 kHz 5.1 */
static int16_t out_whole[2 * 60000], out_blocks[2 * 60000];

/* A sine of hz at amp in channel 0 (and its negative in channel 1), rate
 * Hz, n frames of ch channels, as 32-bit float. */
static void make_sine(unsigned rate, unsigned ch, size_t n, double hz, double amp)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            fin[i * ch + c] =
                (float)((c == 1 ? -amp : amp) * sin(2 * M_PI * hz * (double)i / rate));
}

/* Rising zero crossings of channel c per second of 48 kHz output. */
static double pitch(const int16_t *o, size_t n, int c)
{
    size_t ups = 0;
    for (size_t i = 1; i < n; i++)
        ups += o[2 * (i - 1) + c] < 0 && o[2 * i + c] >= 0;
    return (double)ups * MC_AUDIO_RATE / (double)n;
}

static double peak(const int16_t *o, size_t n, int c)
{
    int m = 0;
    for (size_t i = 0; i < n; i++)
        m = o[2 * i + c] > m ? o[2 * i + c] : m;
    return m / 32768.0;
}

static void test_rejects_what_it_cannot_read(void)
{
    mc_pcm_conv c;
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 12, 0, 2, 48000), MC_EINVAL);
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 1, 2, 48000), MC_EINVAL); /* float is 32-bit */
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 0, 0, 48000), MC_EINVAL);
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 0, 9, 48000), MC_EINVAL);
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 0, 2, 999), MC_EINVAL);
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 0, 2, 384001), MC_EINVAL);
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 32, 1, 8, 384000), 0);
}

/* 48 kHz 16-bit stereo passes unchanged, at once (no frame held back). */
static void test_48k_stereo_is_unchanged(void)
{
    int16_t in[2 * 480], out[2 * 600];
    for (int i = 0; i < 2 * 480; i++)
        in[i] = (int16_t)(i * 67 - 30000);
    mc_pcm_conv c;
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 16, 0, 2, 48000), 0);
    for (int rep = 0; rep < 3; rep++) {
        size_t n = mc_pcm_convert(&c, in, 480, out, 600);
        ASSERT_EQ_INT(n, 480);
        ASSERT_TRUE(!memcmp(in, out, sizeof(in)));
    }
}

/* Converts fin (n frames) whole, and again in blocks of random sizes; the
 * two must agree to within a step of rounding, and keep pitch and level. */
static void check_rate(unsigned rate, unsigned ch, double hz)
{
    size_t n = rate; /* one second */
    make_sine(rate, ch, n, hz, 0.5);
    mc_pcm_conv c;
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 32, 1, ch, rate), 0);
    size_t cap = mc_pcm_out_max(&c, n);
    ASSERT_TRUE(cap <= sizeof(out_whole) / 4);
    size_t whole = mc_pcm_convert(&c, fin, n, out_whole, cap);
    /* One second in is one second out, give or take an input frame (the
     * span after the last one waits for the next block). */
    ASSERT_LE_DBL(fabs((double)whole - MC_AUDIO_RATE), 1.0 + (double)MC_AUDIO_RATE / rate);

    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 32, 1, ch, rate), 0);
    size_t got = 0;
    for (size_t at = 0; at < n;) {
        size_t b = 1 + test_rand_below(900);
        if (b > n - at)
            b = n - at;
        size_t room = sizeof(out_blocks) / 4 - got;
        ASSERT_TRUE(mc_pcm_out_max(&c, b) <= room);
        got += mc_pcm_convert(&c, fin + at * ch, b, out_blocks + 2 * got, room);
        at += b;
    }
    /* The last frame may fall either side of the end by rounding. */
    ASSERT_LE_DBL(fabs((double)got - (double)whole), 1);
    size_t both = got < whole ? got : whole;
    int worst = 0;
    for (size_t i = 0; i < 2 * both; i++) {
        int d = abs(out_whole[i] - out_blocks[i]);
        worst = d > worst ? d : worst;
    }
    if (worst > 1)
        FAIL("%u Hz x%u: blocks differ from the whole by %d", rate, ch, worst);
    double p = pitch(out_blocks, got, 0), lv = peak(out_blocks, got, 0);
    if (fabs(p - hz) > 2 || fabs(lv - 0.5) > 0.01)
        FAIL("%u Hz x%u: %g Hz at %g out of %g Hz at 0.5", rate, ch, p, lv, hz);
    /* The right channel: the source's second channel, or the mono one. */
    double rv = peak(out_blocks, got, 1);
    for (size_t i = 0; i < got; i++) {
        int want = ch == 1 ? out_blocks[2 * i] : -out_blocks[2 * i];
        if (abs(out_blocks[2 * i + 1] - want) > 1)
            FAIL("%u Hz x%u: right channel at %zu is %d, not %d", rate, ch, i,
                 out_blocks[2 * i + 1], want);
    }
    ASSERT_LE_DBL(fabs(rv - 0.5), 0.01);
}

static void test_rates_and_channels(void)
{
    check_rate(44100, 2, 1000);  /* the usual Windows mix format */
    check_rate(48000, 2, 440);
    check_rate(96000, 6, 440);   /* 5.1: the front pair is kept */
    check_rate(22050, 1, 300);   /* mono: on both sides */
    check_rate(8000, 2, 250);
}

/* 8, 16, 24 and 32-bit integers and float give the same values; float out
 * of range is clipped and NaN is silence. */
static void test_sample_formats(void)
{
    static const double v[4] = {0.5, -0.25, 0.999, -1.0};
    uint8_t b8[4], b16[8], b24[12], b32[16], bf[16];
    for (int i = 0; i < 4; i++) {
        int32_t s = (int32_t)lrint(v[i] * 2147483648.0 > 2147483647.0 ? 2147483647.0
                                                                     : v[i] * 2147483648.0);
        b8[i] = (uint8_t)((s >> 24) + 128);
        for (int k = 0; k < 2; k++) b16[2 * i + k] = (uint8_t)((uint32_t)s >> (16 + 8 * k));
        for (int k = 0; k < 3; k++) b24[3 * i + k] = (uint8_t)((uint32_t)s >> (8 + 8 * k));
        for (int k = 0; k < 4; k++) b32[4 * i + k] = (uint8_t)((uint32_t)s >> (8 * k));
        float f = (float)v[i];
        memcpy(bf + 4 * i, &f, 4);
    }
    const void *bufs[5] = {b8, b16, b24, b32, bf};
    const unsigned bits[5] = {8, 16, 24, 32, 32};
    for (int f = 0; f < 5; f++) {
        mc_pcm_conv c;
        int16_t o[2 * 8];
        ASSERT_EQ_INT(mc_pcm_conv_init(&c, bits[f], f == 4, 1, 48000), 0);
        ASSERT_EQ_INT(mc_pcm_convert(&c, bufs[f], 4, o, 8), 4);
        for (int i = 0; i < 4; i++) {
            double want = v[i] * 32768.0, tol = bits[f] == 8 ? 256 : 1;
            if (fabs(o[2 * i] - want) > tol || o[2 * i + 1] != o[2 * i])
                FAIL("%u-bit%s sample %d: %d, not %.0f", bits[f], f == 4 ? " float" : "", i,
                     o[2 * i], want);
        }
    }
    float odd[3] = {4.0f, -4.0f, NAN};
    int16_t o[2 * 4];
    mc_pcm_conv c;
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 32, 1, 1, 48000), 0);
    ASSERT_EQ_INT(mc_pcm_convert(&c, odd, 3, o, 4), 3);
    ASSERT_EQ_INT(o[0], 32767);
    ASSERT_EQ_INT(o[2], -32768);
    ASSERT_EQ_INT(o[4], 0);
}

/* A cap below what a block makes: no write past it, and the converter's
 * place still moves on as if all had been written. */
static void test_cap_is_kept(void)
{
    make_sine(44100, 2, 4410, 1000, 0.5);
    mc_pcm_conv c, d;
    ASSERT_EQ_INT(mc_pcm_conv_init(&c, 32, 1, 2, 44100), 0);
    d = c;
    out_whole[2 * 100] = 12345;
    ASSERT_EQ_INT(mc_pcm_convert(&c, fin, 4410, out_whole, 100), 100);
    ASSERT_EQ_INT(out_whole[2 * 100], 12345);
    size_t all = mc_pcm_convert(&d, fin, 4410, out_blocks, 60000);
    ASSERT_TRUE(all > 100);
    ASSERT_LE_DBL(fabs(c.pos - d.pos), 1e-9);
}

/* A source like WASAPI's loopback: a 10 ms packet every 10 ms of its own
 * clock (0.3 % fast) while sound plays, each reaching the poll 0 to 15 ms
 * after it ends, nothing while nothing plays; polled every 5 ms, one poll
 * in ten 30 ms late. Through forty pauses, what is handed over must keep
 * to the clock (no creeping lag or lead), silence must begin soon after
 * the sound stops, and none may be slipped into flowing sound. */
static void test_gapfill_keeps_the_clock(void)
{
    const uint64_t quiet = 40000, lag = 10000;
    mc_pcm_gapfill g;
    uint64_t now = 1000000, t0 = now;
    mc_pcm_gapfill_init(&g, now, quiet, lag);
    double handed = 0; /* frames */
    double worst_ahead = 0, worst_behind = 0;
#define BEHIND_MS() (((double)(now - t0) - handed * 1e6 / MC_AUDIO_RATE) / 1000)
    for (int cycle = 0; cycle < 40; cycle++) {
        int packets = 50 + (int)test_rand_below(100);
        uint64_t arrive[150];
        double end = (double)now + 1000 * test_rand_below(10);
        for (int p = 0; p < packets; p++) {
            end += 9970;
            arrive[p] = (uint64_t)end + 1000 * test_rand_below(16);
            if (p && arrive[p] < arrive[p - 1])
                arrive[p] = arrive[p - 1]; /* packets come in order */
        }
        size_t odd = 0;
        int p = 0, batches = 0;
        while (p < packets) {
            now += test_rand_below(10) ? 5000 : 30000;
            int k = 0;
            while (p + k < packets && arrive[p + k] <= now)
                k++;
            if (k) {
                size_t sil, cut = mc_pcm_gapfill_packet(&g, 480 * (size_t)k, now, &sil);
                handed += (double)sil + 480.0 * k - (double)cut;
                if (batches++) /* only the first batch after a pause is placed */
                    odd += sil + cut;
                else if (cycle > 0 && fabs(BEHIND_MS()) > 0.05) /* ... and ends now */
                    FAIL("cycle %d: the sound after a pause placed %.2f ms from the clock",
                         cycle, BEHIND_MS());
                p += k;
            } else {
                size_t n = mc_pcm_gapfill_idle(&g, now);
                if (batches) /* before the first packet the pause goes on */
                    odd += n;
                handed += (double)n;
            }
            double b = BEHIND_MS();
            worst_ahead = b < worst_ahead ? b : worst_ahead;
            worst_behind = b > worst_behind ? b : worst_behind;
        }
        if (odd)
            FAIL("cycle %d: %zu frames of silence or cuts inside flowing sound", cycle, odd);
        /* a pause of 0.1 to 3 s */
        uint64_t pause_end = now + 100000 + test_rand_below(2900000), first_silence = 0;
        uint64_t last_packet = now;
        while (now < pause_end) {
            now += 5000;
            size_t n = mc_pcm_gapfill_idle(&g, now);
            if (n && !first_silence)
                first_silence = now;
            handed += (double)n;
        }
        if (!first_silence || first_silence - last_packet > quiet + 10000)
            FAIL("cycle %d: silence began %.0f ms after the last packet", cycle,
                 first_silence ? (double)(first_silence - last_packet) / 1000 : -1.0);
        /* At the end of a pause, what was handed over trails the clock by
         * the lag, whatever happened before. */
        if (fabs(BEHIND_MS() - lag / 1000.0) > 1)
            FAIL("cycle %d: %.1f ms behind the clock after the pause", cycle, BEHIND_MS());
    }
    /* While sound flows, a late poll or a late packet moves it a little. */
    if (worst_ahead < -25 || worst_behind > 50)
        FAIL("handed over from %.1f ms ahead of the clock to %.1f ms behind it", -worst_ahead,
             worst_behind);
#undef BEHIND_MS
}

int main(void)
{
    test_limit_seconds(60);
    test_seed_init();
    RUN(test_rejects_what_it_cannot_read);
    RUN(test_48k_stereo_is_unchanged);
    RUN(test_rates_and_channels);
    RUN(test_sample_formats);
    RUN(test_cap_is_kept);
    RUN(test_gapfill_keeps_the_clock);
    return 0;
}
