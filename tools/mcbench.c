/* mcbench: measures the tile codec and the sender pipeline on this machine.
 *
 *   codec:    for screen-like and video-like 1920x1080 content, tile sizes
 *             32/64/128/256 and qualities 50/75/90: encode and decode
 *             megapixels/s on one core and on N threads, bytes per frame,
 *             PSNR, and what sending the JPEG tables once saves against
 *             per-tile JPEG headers and against one whole-frame JPEG.
 *   pipeline: the real sender (diff, workers, packetizer) into an in-process
 *             receiver, full-screen changes every frame: frames/s and
 *             capture-to-decoded latency.
 *   audio:    Opus as mcshare uses it (low-delay mode) for each bitrate
 *             profile and frame length: encode and decode CPU per second of
 *             sound, and bytes per second on the wire with the repeats.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include "mc/platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/resource.h>
#endif
#include <opus/opus.h>
#include <turbojpeg.h>

#include "mc/audio.h"
#include "mc/auth.h"
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/fec.h"
#include "mc/jpeg.h"
#include "mc/receiver.h"
#include "mc/sender.h"
#include "mc/testsrc.h"
#include "mc/tiles.h"
#include "mc/verify.h"
#include "mc/wire.h"

typedef struct {
    int json, threads, width, height, reps, pipeline_frames;
    const char *only; /* "codec" or "pipeline" */
    const char *rt_in, *rt_out; /* --roundtrip IN --out OUT */
    int rt_quality, rt_tile, rt_codec;
    const char *content_dir; /* --content DIR: slide.ppm, code.ppm, photo.ppm */
} options;

typedef struct {
    const char *content, *mode;
    int tile, quality;
    double enc_mps_1, enc_mps_n, dec_mps_1, bytes, psnr, whole_bytes, lossless_pct;
} codec_result;

typedef struct {
    const mc_grid *g;
    const uint8_t *pic;
    int quality, mode, first, step;
    size_t bytes;
    int lossless;
    uint8_t *buf;
    size_t cap;
} enc_job;

static mc_codec_config codec_cfg(int quality, int tile)
{
    return (mc_codec_config){.quality = quality, .subsamp = MC_SUBSAMP_420, .tile = tile};
}

static void *encode_tiles(void *arg)
{
    enc_job *j = arg;
    mc_tile_coder *tc;
    mc_codec_config cc = codec_cfg(j->quality, j->g->tile);
    if (mc_tile_coder_create(j->mode, &cc, &tc))
        return NULL;
    j->bytes = 0;
    j->lossless = 0;
    for (int t = j->first; t < j->g->count; t += j->step) {
        int x, y, w, h, exact;
        uint8_t codec;
        mc_grid_rect(j->g, t, &x, &y, &w, &h);
        int n = mc_tile_coder_encode(tc, j->pic + ((size_t)y * j->g->width + x) * 4,
                                     j->g->width * 4, w, h, j->buf, j->cap, &codec, &exact);
        if (n > 0)
            j->bytes += (size_t)n;
        j->lossless += codec == MC_CODEC_LOSSLESS;
    }
    mc_tile_coder_destroy(tc);
    return NULL;
}

/* Codes every tile of the frame `reps` times on `threads` threads and
 * returns megapixels/s; *bytes gets the bytes of one frame, *lossless the
 * tiles coded losslessly. */
static double bench_encode(const mc_grid *g, const uint8_t *pic, int quality, int mode,
                           int threads, int reps, size_t *bytes, int *lossless)
{
    enc_job jobs[64];
    mc_thread th[64];
    mc_codec_config cc = codec_cfg(quality, g->tile);
    size_t cap = mc_tile_coder_max_bytes(mode, &cc);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (enc_job){g, pic, quality, mode, i, threads, 0, 0, malloc(cap), cap};
        if (!jobs[i].buf)
            exit(1);
    }
    uint64_t t0 = mc_now_us();
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < threads; i++)
            mc_thread_start(&th[i], encode_tiles, &jobs[i]);
        for (int i = 0; i < threads; i++)
            mc_thread_join(th[i]);
    }
    double sec = (double)(mc_now_us() - t0) / 1e6;
    *bytes = 0;
    *lossless = 0;
    for (int i = 0; i < threads; i++) {
        *bytes += jobs[i].bytes;
        *lossless += jobs[i].lossless;
        free(jobs[i].buf);
    }
    return (double)g->width * g->height * reps / sec / 1e6;
}

/* Codes and decodes each tile once (for PSNR: what a viewer holds), then
 * times decoding. */
static double bench_decode(const mc_grid *g, const uint8_t *pic, int quality, int mode, int reps,
                           uint8_t *out, double *psnr_db)
{
    mc_tile_coder *tc;
    mc_tile_decoders *dec;
    mc_codec_config cc = codec_cfg(quality, g->tile);
    if (mc_tile_coder_create(mode, &cc, &tc) || mc_tile_decoders_create(&dec))
        exit(1);
    uint8_t ids[MC_CODEC_COUNT];
    const uint8_t *params[MC_CODEC_COUNT];
    size_t lens[MC_CODEC_COUNT];
    int np = mc_tile_coder_params(tc, ids, params, lens);
    for (int i = 0; i < np; i++)
        if (mc_tile_decoders_params(dec, ids[i], params[i], lens[i]))
            exit(1);
    size_t cap = mc_tile_coder_max_bytes(mode, &cc);
    uint8_t **data = calloc((size_t)g->count, sizeof(*data));
    int *len = calloc((size_t)g->count, sizeof(*len));
    uint8_t *codec = calloc((size_t)g->count, 1);
    for (int t = 0; t < g->count; t++) {
        int x, y, w, h, exact;
        mc_grid_rect(g, t, &x, &y, &w, &h);
        data[t] = malloc(MC_CODEC_HEADROOM + cap + MC_CODEC_TAILROOM);
        len[t] = mc_tile_coder_encode(tc, pic + ((size_t)y * g->width + x) * 4, g->width * 4, w, h,
                                      data[t] + MC_CODEC_HEADROOM, cap, &codec[t], &exact);
    }
    uint64_t t0 = mc_now_us();
    for (int r = 0; r < reps; r++)
        for (int t = 0; t < g->count; t++) {
            int x, y, w, h;
            mc_grid_rect(g, t, &x, &y, &w, &h);
            mc_tile_decoders_decode(dec, codec[t], data[t] + MC_CODEC_HEADROOM, (size_t)len[t], w,
                                    h, out + ((size_t)y * g->width + x) * 4, g->width * 4);
        }
    double sec = (double)(mc_now_us() - t0) / 1e6;
    *psnr_db = mc_psnr_bgrx(pic, g->width * 4, out, g->width * 4, g->width, g->height);
    for (int t = 0; t < g->count; t++)
        free(data[t]);
    free(data);
    free(len);
    free(codec);
    mc_tile_coder_destroy(tc);
    mc_tile_decoders_destroy(dec);
    return (double)g->width * g->height * reps / sec / 1e6;
}

/* One JPEG of the whole frame, as a per-frame MJPEG stream would send. */
static size_t whole_frame_jpeg(const uint8_t *pic, int w, int h, int quality)
{
    tjhandle tj = tjInitCompress();
    unsigned char *buf = NULL;
    unsigned long size = 0;
    tjCompress2(tj, pic, w, w * 4, h, TJPF_BGRX, &buf, &size, TJSAMP_420, quality, 0);
    tjFree(buf);
    tjDestroy(tj);
    return size;
}

#ifdef _WIN32
static double cpu_seconds(void)
{
    FILETIME c, e, k, u;
    if (!GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u))
        return 0;
    ULARGE_INTEGER kk = {.LowPart = k.dwLowDateTime, .HighPart = k.dwHighDateTime};
    ULARGE_INTEGER uu = {.LowPart = u.dwLowDateTime, .HighPart = u.dwHighDateTime};
    return (double)(kk.QuadPart + uu.QuadPart) / 1e7; /* 100 ns units */
}
#else
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}
#endif

typedef struct {
    uint8_t **pkt;
    size_t *len, n, cap;
} packet_log;

typedef struct {
    uint64_t bytes, packets;
    mc_receiver *rx;     /* NULL: count only */
    packet_log *record;  /* optional: keep every packet */
} sink_ctx;

static void count_sink(void *ctx, const uint8_t *pkt, size_t len)
{
    sink_ctx *s = ctx;
    s->bytes += len;
    s->packets++;
    if (s->rx)
        mc_receiver_feed(s->rx, pkt, len, mc_now_us());
    if (s->record) {
        if (s->record->n == s->record->cap) {
            s->record->cap = s->record->cap ? s->record->cap * 2 : 4096;
            s->record->pkt = realloc(s->record->pkt, s->record->cap * sizeof(uint8_t *));
            s->record->len = realloc(s->record->len, s->record->cap * sizeof(size_t));
            if (!s->record->pkt || !s->record->len)
                exit(1);
        }
        uint8_t *copy = malloc(len);
        if (!copy)
            exit(1);
        memcpy(copy, pkt, len);
        s->record->pkt[s->record->n] = copy;
        s->record->len[s->record->n++] = len;
    }
}

/* The sender pipeline with every tile changing every frame. Returns fps. */
static void bench_pipeline(const options *o, const char *content, int with_receiver, int sign)
{
    mc_signing_key key;
    if (sign && mc_key_generate(&key))
        exit(1);
    int w = o->width, h = o->height, nframes = 8;
    uint8_t *frames = malloc((size_t)w * h * 4 * nframes);
    for (int i = 0; i < nframes; i++) {
        uint8_t *p = frames + (size_t)w * h * 4 * i;
        if (!strcmp(content, "video"))
            mc_testsrc_render_video(p, w * 4, w, h, (uint32_t)i);
        else
            mc_testsrc_render(p, w * 4, w, h, (uint32_t)i * 40);
    }
    sink_ctx sink = {0};
    mc_receiver_config rc;
    mc_receiver_config_default(&rc);
    rc.group = NULL;
    rc.threads = o->threads;
    rc.require_signed = sign;
    if (with_receiver && mc_receiver_create(&rc, &sink.rx))
        exit(1);
    mc_sender_config sc;
    mc_sender_config_default(&sc);
    sc.width = w;
    sc.height = h;
    sc.threads = o->threads;
    sc.fps = 60;
    sc.max_bitrate_mbit = 100000;
    sc.sink = count_sink;
    sc.sink_ctx = &sink;
    sc.key = sign ? &key : NULL;
    mc_sender *s;
    if (mc_sender_create(&sc, &s))
        exit(1);
    double c0 = cpu_seconds();
    uint64_t t0 = mc_now_us();
    for (int f = 0; f < o->pipeline_frames; f++)
        mc_sender_submit(s, frames + (size_t)w * h * 4 * (f % nframes), w * 4, mc_now_us());
    mc_sender_flush(s);
    double sec = (double)(mc_now_us() - t0) / 1e6, cpu = cpu_seconds() - c0;
    mc_sender_stats st;
    mc_sender_get_stats(s, &st);
    mc_receiver_stats rs = {0};
    if (sink.rx) {
        for (int i = 0; i < 200 && rs.frames_decoded < (uint64_t)o->pipeline_frames; i++) {
            mc_receiver_wait(sink.rx, 10);
            mc_receiver_get_stats(sink.rx, &rs);
        }
    }
    double fps = o->pipeline_frames / sec, mbit = (double)sink.bytes * 8 / sec / 1e6;
    double tiles_per_frame = (double)st.tiles_changed / (double)st.frames;
    if (o->json)
        printf("{\"bench\":\"pipeline\",\"content\":\"%s\",\"width\":%d,\"height\":%d,"
               "\"receiver\":%s,\"threads\":%d,\"fps\":%.1f,\"cores_used\":%.2f,"
               "\"mbit_s\":%.1f,\"bytes_per_frame\":%.0f,\"tiles_changed_per_frame\":%.1f,"
               "\"frames_decoded\":%llu,\"lat_decoded_ms_p50\":%.2f,\"signed\":%d}\n",
               content, w, h, with_receiver ? "true" : "false", o->threads, fps, cpu / sec, mbit,
               (double)sink.bytes / o->pipeline_frames, tiles_per_frame,
               (unsigned long long)rs.frames_decoded, rs.lat_decoded_ms[0], sign);
    else
        printf("pipeline %-6s %dx%d %s%s: %6.1f fps, %.2f cores, %7.1f Mbit/s at that rate, "
               "%.0f KB/frame, %.0f tiles/frame\n",
               content, w, h, with_receiver ? "sender+receiver" : "sender only    ",
               sign ? ", signed" : "", fps, cpu / sec,
               mbit, (double)sink.bytes / o->pipeline_frames / 1024, tiles_per_frame);
    mc_sender_destroy(s);
    mc_receiver_destroy(sink.rx);
    free(frames);
}

/* Reed-Solomon throughput: encode k=32 + 7 parity symbols of 1200 bytes,
 * and recover 7 lost data symbols (matrix inversion included). */
static void bench_fec_codec(const options *o)
{
    enum { K = 32, P = 7, L = 1200, REPS = 2000 };
    static uint8_t mem[K + P][L];
    uint8_t *data[K], *par[P], *syms[K + P], present[K + P];
    for (int i = 0; i < K + P; i++) {
        for (int b = 0; b < L; b++)
            mem[i][b] = (uint8_t)(i * 31 + b);
        syms[i] = mem[i];
        if (i < K)
            data[i] = mem[i];
        else
            par[i - K] = mem[i];
    }
    uint64_t t0 = mc_now_us();
    for (int r = 0; r < REPS; r++)
        mc_fec_encode(K, P, L, data, par);
    double enc = (double)K * L * REPS / ((double)(mc_now_us() - t0) / 1e6) / 1e6;
    t0 = mc_now_us();
    for (int r = 0; r < REPS; r++) {
        memset(present, 1, sizeof(present));
        for (int j = 0; j < P; j++)
            present[(r + j * 4) % K] = 0;
        mc_fec_recover(K, P, L, present, syms);
    }
    double us = (double)(mc_now_us() - t0) / REPS;
    if (o->json)
        printf("{\"bench\":\"fec_codec\",\"k\":%d,\"p\":%d,\"symbol\":%d,"
               "\"encode_mb_s\":%.0f,\"recover_7_us\":%.1f}\n", K, P, L, enc, us);
    else
        printf("Reed-Solomon (ISA-L) k=%d p=%d, %d-byte packets: encode %.0f MB/s of data; "
               "recovering %d lost packets takes %.1f us per block\n", K, P, L, enc, P, us);
}

typedef struct {
    uint64_t state;
} lcg;

static uint32_t lcg_next(lcg *g)
{
    g->state = g->state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->state >> 33);
}

/* Tiles complete from their first transmission, FEC included, under
 * seeded random loss: a 1280x720 test-pattern stream replayed with each
 * loss rate and FEC overhead. */
static void bench_fec_loss(const options *o)
{
    static const int fecs[] = {0, 10, 20, 40}, losses[] = {0, 1, 5, 10, 20};
    int frames = o->pipeline_frames * 4;
    if (!o->json)
        printf("\ntiles complete without repair (share of tile versions whose first transmission\n"
               "completed, FEC included), %d frames of 1280x720 test pattern, seeded loss:\n\n"
               "| FEC overhead | 0 %% loss | 1 %% | 5 %% | 10 %% | 20 %% | packets sent per data packet |\n"
               "|---|---|---|---|---|---|---|\n", frames);
    for (size_t fi = 0; fi < sizeof(fecs) / sizeof(fecs[0]); fi++) {
        packet_log rec = {0};
        mc_sender_config sc;
        mc_sender_config_default(&sc);
        sc.width = 1280;
        sc.height = 720;
        sc.max_bitrate_mbit = 100000;
        sc.fec_percent = fecs[fi];
        sink_ctx sink = {0};
        sink.record = &rec;
        sc.sink = count_sink;
        sc.sink_ctx = &sink;
        mc_sender *s;
        if (mc_sender_create(&sc, &s))
            exit(1);
        uint8_t *pic = malloc(1280 * 720 * 4);
        for (int f = 1; f <= frames; f++) {
            mc_testsrc_render(pic, 1280 * 4, 1280, 720, (uint32_t)f);
            mc_sender_submit(s, pic, 1280 * 4, mc_now_us());
        }
        mc_sender_flush(s);
        mc_sender_stats st;
        mc_sender_get_stats(s, &st);
        mc_sender_destroy(s);
        free(pic);
        if (!o->json)
            printf("| %d %% |", fecs[fi]);
        for (size_t li = 0; li < sizeof(losses) / sizeof(losses[0]); li++) {
            mc_receiver_config rc;
            mc_receiver_config_default(&rc);
            rc.group = NULL;
            rc.threads = 0;
            rc.no_decode = 1;
            mc_receiver *r;
            if (mc_receiver_create(&rc, &r))
                exit(1);
            lcg g = {.state = 12345 + li};
            for (size_t i = 0; i < rec.n; i++)
                if (i < 2 || (int)(lcg_next(&g) % 1000) >= losses[li] * 10)
                    mc_receiver_feed(r, rec.pkt[i], rec.len[i], mc_now_us());
            mc_receiver_stats rs;
            mc_receiver_get_stats(r, &rs);
            double share = rs.tiles_first_seen ? 100.0 * (double)rs.tiles_first_try / (double)rs.tiles_first_seen : 0;
            if (o->json)
                printf("{\"bench\":\"fec_loss\",\"fec_pct\":%d,\"loss_pct\":%d,"
                       "\"tiles_first_try_pct\":%.2f,\"fec_recovered\":%llu,\"frames_complete_pct\":%.2f}\n",
                       fecs[fi], losses[li], share, (unsigned long long)rs.fec_recovered,
                       rs.frames_seen ? 100.0 * (double)rs.frames_complete / (double)rs.frames_seen : 0);
            else
                printf(" %.2f %% |", share);
            mc_receiver_destroy(r);
        }
        if (!o->json)
            printf(" %.2f |\n", (double)st.packets / (double)(st.packets - st.fec_parity_packets));
        for (size_t i = 0; i < rec.n; i++)
            free(rec.pkt[i]);
        free(rec.pkt);
        free(rec.len);
    }
}

static void print_codec(const options *o, const codec_result *r)
{
    if (o->json) {
        printf("{\"bench\":\"codec\",\"content\":\"%s\",\"codec\":\"%s\",\"tile\":%d,"
               "\"quality\":%d,\"encode_mpix_s_1core\":%.1f,\"encode_mpix_s_%dthreads\":%.1f,"
               "\"decode_mpix_s_1core\":%.1f,\"bytes_per_frame\":%.0f,\"lossless_tiles_pct\":%.1f,"
               "\"whole_frame_jpeg_bytes\":%.0f,\"psnr_db\":%.2f}\n",
               r->content, r->mode, r->tile, r->quality, r->enc_mps_1, o->threads, r->enc_mps_n,
               r->dec_mps_1, r->bytes, r->lossless_pct, r->whole_bytes, r->psnr);
        return;
    }
    printf("%-7s %-8s %4d %3d | %7.1f %7.1f | %7.1f | %8.1f %5.1f%% %8.0f | %5.2f%s\n", r->content,
           r->mode, r->tile, r->quality, r->enc_mps_1, r->enc_mps_n, r->dec_mps_1,
           r->bytes / 1024, r->lossless_pct, r->whole_bytes / 1024, r->psnr,
           r->psnr >= 99 ? " (exact)" : "");
}

/* A binary PPM (tools/content writes them) as BGRX, scaled to w x h by
 * cropping or padding with white; NULL if it cannot be read. */
static uint8_t *load_ppm(const char *path, int w, int h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    int pw, ph, mx;
    uint8_t *pic = NULL;
    if (fscanf(f, "P6 %d %d %d", &pw, &ph, &mx) == 3 && mx == 255 && fgetc(f) != EOF &&
        pw > 0 && ph > 0 && pw <= MC_MAX_DIM && ph <= MC_MAX_DIM) {
        uint8_t *rgb = malloc((size_t)pw * ph * 3);
        pic = malloc((size_t)w * h * 4);
        if (rgb && pic && fread(rgb, 3, (size_t)pw * ph, f) == (size_t)pw * ph) {
            memset(pic, 0xFF, (size_t)w * h * 4);
            for (int y = 0; y < h && y < ph; y++)
                for (int x = 0; x < w && x < pw; x++) {
                    const uint8_t *s = rgb + ((size_t)y * pw + x) * 3;
                    uint8_t *d = pic + ((size_t)y * w + x) * 4;
                    d[0] = s[2];
                    d[1] = s[1];
                    d[2] = s[0];
                    d[3] = 0;
                }
        } else {
            free(pic);
            pic = NULL;
        }
        free(rgb);
    }
    fclose(f);
    return pic;
}

static void bench_codec(const options *o)
{
    static const char *modes[] = {"auto", "jpeg", "lossless"};
    static const char *files[] = {"slide", "code", "photo"};
    static const int tiles[] = {32, 64, 128};
    size_t px = (size_t)o->width * o->height * 4;
    uint8_t *pic = malloc(px), *out = malloc(px);
    if (!o->json)
        printf("content codec   tile  q | enc MP/s 1core %dthr | dec MP/s 1core | KB/frame lossless whole-JPEG | PSNR dB\n",
               o->threads);
    for (int c = 0; c < 5; c++) {
        const char *name = c == 0 ? "pattern" : c == 1 ? "video" : files[c - 2];
        if (c == 0) {
            mc_testsrc_render(pic, o->width * 4, o->width, o->height, 100);
        } else if (c == 1) {
            mc_testsrc_render_video(pic, o->width * 4, o->width, o->height, 7);
        } else {
            char path[4096];
            if (!o->content_dir ||
                snprintf(path, sizeof(path), "%s/%s.ppm", o->content_dir, files[c - 2]) >= (int)sizeof(path))
                continue;
            uint8_t *p = load_ppm(path, o->width, o->height);
            if (!p) {
                fprintf(stderr, "mcbench: cannot read %s (make it with tools/content)\n", path);
                continue;
            }
            memcpy(pic, p, px);
            free(p);
        }
        for (int m = 0; m < 3; m++)
            for (int ti = 0; ti < 3; ti++) {
                if (m != MC_CODEC_AUTO && tiles[ti] != 64)
                    continue; /* the other tile sizes for the default codec only */
                mc_grid g;
                mc_grid_init(&g, o->width, o->height, tiles[ti]);
                codec_result r = {.content = name, .mode = modes[m], .tile = tiles[ti], .quality = 75};
                size_t bytes;
                int lossless;
                r.enc_mps_1 = bench_encode(&g, pic, r.quality, m, 1, o->reps, &bytes, &lossless);
                r.enc_mps_n = bench_encode(&g, pic, r.quality, m, o->threads, o->reps, &bytes, &lossless);
                r.dec_mps_1 = bench_decode(&g, pic, r.quality, m, o->reps, out, &r.psnr);
                r.bytes = (double)bytes;
                r.lossless_pct = 100.0 * lossless / g.count;
                r.whole_bytes = (double)whole_frame_jpeg(pic, o->width, o->height, r.quality);
                print_codec(o, &r);
            }
    }
    free(pic);
    free(out);
}

/* Speech-and-music-like test sound: three partials with a syllable-rate
 * envelope plus a little noise, so the encoder works as on real sound. */
static void audio_content(int16_t *pcm, int frames, uint64_t *rng)
{
    for (int i = 0; i < frames; i++) {
        double t = i / 48000.0, env = 0.5 + 0.5 * sin(2 * M_PI * 4 * t);
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        double noise = ((double)(*rng >> 11) / 9007199254740992.0 - 0.5) * 0.05;
        double l = env * (0.3 * sin(2 * M_PI * 220 * t) + 0.15 * sin(2 * M_PI * 660 * t)) + noise;
        double r = env * (0.3 * sin(2 * M_PI * 330 * t) + 0.1 * sin(2 * M_PI * 1320 * t)) + noise;
        pcm[2 * i] = (int16_t)lrint(l * 32767);
        pcm[2 * i + 1] = (int16_t)lrint(r * 32767);
    }
}

static void bench_audio(const options *o)
{
    enum { SECS = 20 };
    static int16_t pcm[48000 * SECS * 2], out[2880 * 2];
    static uint8_t pkt[1276];
    uint64_t rng = 1;
    audio_content(pcm, 48000 * SECS, &rng);
    static const struct { const char *name; int bps, ch; } prof[] = {
        {"low", MC_AUDIO_LOW_BPS, 1}, {"medium", MC_AUDIO_MEDIUM_BPS, 2}, {"high", MC_AUDIO_HIGH_BPS, 2}};
    if (!o->json)
        printf("\naudio: Opus (restricted low delay), %d s of test sound, 2 repeats per packet\n"
               "%-7s %5s %9s %10s %14s %14s %16s\n", SECS, "profile", "frame", "codec kb/s",
               "bytes/frame", "encode %core", "decode %core", "wire kbit/s");
    for (size_t p = 0; p < sizeof(prof) / sizeof(prof[0]); p++)
        for (int fms = 5; fms <= 20; fms *= 2) {
            int err, fs = 48 * fms, nframes = 48000 * SECS / fs;
            OpusEncoder *enc = opus_encoder_create(48000, prof[p].ch, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
            OpusDecoder *dec = opus_decoder_create(48000, 2, &err);
            opus_encoder_ctl(enc, OPUS_SET_BITRATE(prof[p].bps));
            static int16_t mono[2880];
            uint64_t enc_us = 0, dec_us = 0, bytes = 0;
            for (int f = 0; f < nframes; f++) {
                const int16_t *in = pcm + (size_t)f * fs * 2;
                if (prof[p].ch == 1) {
                    for (int i = 0; i < fs; i++)
                        mono[i] = (int16_t)((in[2 * i] + in[2 * i + 1]) / 2);
                    in = mono;
                }
                uint64_t t0 = mc_now_us();
                int n = opus_encode(enc, in, fs, pkt, sizeof(pkt));
                uint64_t t1 = mc_now_us();
                if (n > 0 && opus_decode(dec, pkt, n, out, fs, 0) != fs)
                    n = 0; /* counted as no bytes: shows up as a broken figure */
                uint64_t t2 = mc_now_us();
                enc_us += t1 - t0;
                dec_us += t2 - t1;
                bytes += n > 0 ? (uint64_t)n : 0;
            }
            double per_frame = (double)bytes / nframes, fps = 1000.0 / fms;
            /* Each packet: IP+UDP 28, header 20 + 8, then 3 frames with 2 length bytes each. */
            double wire = (28 + MC_HDR_BYTES + MC_AUDIO_HDR_BYTES + 3 * (2 + per_frame)) * fps * 8 / 1000;
            double epct = enc_us / (SECS * 1e6) * 100, dpct = dec_us / (SECS * 1e6) * 100;
            if (o->json)
                printf("{\"bench\":\"audio\",\"profile\":\"%s\",\"frame_ms\":%d,\"codec_kbit_s\":%.1f,"
                       "\"bytes_per_frame\":%.1f,\"encode_core_pct\":%.3f,\"decode_core_pct\":%.3f,"
                       "\"wire_kbit_s\":%.1f}\n", prof[p].name, fms, per_frame * fps * 8 / 1000,
                       per_frame, epct, dpct, wire);
            else
                printf("%-7s %3d ms %9.1f %10.1f %13.2f%% %13.2f%% %16.1f\n", prof[p].name, fms,
                       per_frame * fps * 8 / 1000, per_frame, epct, dpct, wire);
            opus_encoder_destroy(enc);
            opus_decoder_destroy(dec);
        }
}

/* --roundtrip: raw BGRX frames through the tile codecs exactly as a viewer
 * ends up holding them (every tile coded as the sender would, --codec, at
 * the session's quality, and decoded), so other tools can measure the
 * picture quality a viewer sees with the same PSNR filter they apply to
 * other codecs (tools/compare). */
static int roundtrip(const options *o)
{
    mc_grid g;
    if (mc_grid_init(&g, o->width, o->height, o->rt_tile)) {
        fprintf(stderr, "mcbench: bad --size or --tile for --roundtrip\n");
        return 2;
    }
    FILE *in = fopen(o->rt_in, "rb"), *out = o->rt_out ? fopen(o->rt_out, "wb") : NULL;
    if (!in || (o->rt_out && !out)) {
        fprintf(stderr, "mcbench: cannot open %s\n", !in ? o->rt_in : o->rt_out);
        if (in)
            fclose(in);
        return 1;
    }
    size_t fsize = (size_t)o->width * (size_t)o->height * 4;
    uint8_t *pic = malloc(fsize), *dec = malloc(fsize);
    if (!pic || !dec)
        exit(1);
    long frames = 0;
    double psnr_sum = 0;
    int rc = 0;
    while (fread(pic, 1, fsize, in) == fsize) {
        double psnr;
        bench_decode(&g, pic, o->rt_quality, o->rt_codec, 1, dec, &psnr);
        if (out && fwrite(dec, 1, fsize, out) != fsize) {
            fprintf(stderr, "mcbench: cannot write %s\n", o->rt_out);
            rc = 1;
            break;
        }
        psnr_sum += psnr;
        frames++;
    }
    if (out && fclose(out))
        rc = 1;
    fclose(in);
    free(pic);
    free(dec);
    if (!frames) {
        fprintf(stderr, "mcbench: %s holds no whole %dx%d BGRX frame\n", o->rt_in, o->width,
                o->height);
        return 1;
    }
    if (o->json)
        printf("{\"bench\":\"roundtrip\",\"frames\":%ld,\"quality\":%d,\"tile\":%d,"
               "\"psnr_db\":%.3f}\n", frames, o->rt_quality, o->rt_tile, psnr_sum / (double)frames);
    else
        printf("%ld frames at quality %d, tile %d: mean PSNR %.2f dB\n", frames, o->rt_quality,
               o->rt_tile, psnr_sum / (double)frames);
    return rc;
}

/* Sender authentication: the pieces (recording a packet, signing a
 * manifest, verifying one) and the whole pipeline with and without it,
 * measured side by side in one run. */
typedef struct {
    uint8_t buf[1400];
    size_t len;
} kept_manifest;

/* Keeps the first manifest a flush sends (the second is the repeat). */
static void keep_manifest(void *ctx, const uint8_t *pkt, size_t len)
{
    kept_manifest *k = ctx;
    if (!k->len && len <= sizeof(k->buf)) {
        memcpy(k->buf, pkt, len);
        k->len = len;
    }
}

static void bench_auth(const options *o)
{
    mc_signing_key key;
    if (mc_key_generate(&key))
        exit(1);
    enum { N = 67 * 300, M = 1000 };
    static uint8_t pkt[1200];
    static kept_manifest out;
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)(i * 7);
    mc_hdr h = {.type = MC_PT_VIDEO, .session = 1};
    mc_auth_tx *tx;
    if (mc_auth_tx_create(&key, 1, 1200, &tx))
        exit(1);
    /* N packets recorded: a manifest (signed) every 67. */
    double c0 = cpu_seconds();
    for (int i = 0; i < N; i++) {
        h.seq = (uint32_t)i;
        mc_wire_write_header(pkt, sizeof(pkt), &h);
        mc_auth_tx_add(tx, pkt, sizeof(pkt), keep_manifest, &out);
    }
    double per_packet_us = (cpu_seconds() - c0) * 1e6 / N;
    /* A manifest of one packet: the signature's cost. */
    c0 = cpu_seconds();
    for (int i = 0; i < M; i++) {
        mc_auth_tx_add(tx, pkt, sizeof(pkt), keep_manifest, &out);
        mc_auth_tx_flush(tx, 0, keep_manifest, &out);
    }
    double sign_us = (cpu_seconds() - c0) * 1e6 / M;
    /* Verifying a full manifest (67 hashes). */
    out.len = 0;
    for (int k = 0; k < 67; k++)
        mc_auth_tx_add(tx, pkt, sizeof(pkt), keep_manifest, &out);
    c0 = cpu_seconds();
    int bad = 0;
    for (int i = 0; i < M; i++)
        bad += mc_manifest_verify(out.buf, out.len) != 0;
    double verify_us = (cpu_seconds() - c0) * 1e6 / M;
    mc_auth_tx_destroy(tx);
    if (bad)
        fprintf(stderr, "mcbench: %d manifests did not verify\n", bad);
    if (o->json)
        printf("{\"bench\":\"auth\",\"sender_us_per_packet\":%.3f,\"sign_us\":%.1f,"
               "\"verify_us\":%.1f}\n", per_packet_us, sign_us, verify_us);
    else
        printf("auth: sender %.2f us per 1200-byte packet (BLAKE2b + a signed manifest per 67);"
               " one signature %.1f us; verifying a 67-hash manifest %.1f us\n",
               per_packet_us, sign_us, verify_us);
    bench_pipeline(o, "video", 1, 0);
    bench_pipeline(o, "video", 1, 1);
    bench_pipeline(o, "screen", 1, 0);
    bench_pipeline(o, "screen", 1, 1);
}

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mcbench [OPTIONS]\n"
"Measures the tile codec and the sender pipeline on this machine.\n\n"
"  --only codec|pipeline|fec|audio|auth  run one part (default: all)\n"
"  --size WxH              picture size (default 1920x1080)\n"
"  --threads N             threads for the multi-threaded figures (default: CPUs)\n"
"  --reps N                repetitions per codec figure (default 5)\n"
"  --frames N              frames for the pipeline run (default 240; x4 for fec)\n"
"  --json                  one JSON object per result\n"
"  --content DIR           also measure the codecs on DIR/slide.ppm, code.ppm and\n"
"                          photo.ppm (tools/content DIR makes them)\n"
"  --roundtrip IN.raw      instead: pass raw BGRX frames of --size through the\n"
"                          tile codecs (every tile coded as mcshare would and\n"
"                          decoded) and print the mean PSNR (99 = exact)\n"
"  --out OUT.raw           with --roundtrip: write the decoded frames there\n"
"  --quality N             with --roundtrip: JPEG quality 1..100 (default 75)\n"
"  --codec auto|jpeg|lossless  with --roundtrip: as mcshare --codec (default auto)\n"
"  --tile N                with --roundtrip: tile edge (default 64)\n"
"  -h, --help, -V, --version\n");
}

int main(int argc, char **argv)
{
    mc_sender_config d;
    mc_sender_config_default(&d);
    options o = {.threads = d.threads, .width = 1920, .height = 1080, .reps = 5,
                 .pipeline_frames = 240, .rt_quality = d.quality, .rt_tile = d.tile};
    static const struct option longs[] = {
        {"only", 1, 0, 'o'}, {"size", 1, 0, 's'}, {"threads", 1, 0, 't'}, {"reps", 1, 0, 'r'},
        {"frames", 1, 0, 'f'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'},
        {"roundtrip", 1, 0, 'R'}, {"out", 1, 0, 'O'}, {"quality", 1, 0, 'q'},
        {"tile", 1, 0, 'T'}, {"codec", 1, 0, 'C'}, {"content", 1, 0, 'D'}, {0, 0, 0, 0}};
    int c;
    long n;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hV", longs, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (strcmp(optarg, "codec") && strcmp(optarg, "pipeline") && strcmp(optarg, "fec") &&
                strcmp(optarg, "audio") && strcmp(optarg, "auth"))
                goto bad;
            o.only = optarg;
            break;
        case 's': if (mc_parse_size(optarg, MC_MAX_DIM, &o.width, &o.height)) goto bad; break;
        case 't': if (mc_parse_long(optarg, 1, 64, &n)) goto bad; o.threads = (int)n; break;
        case 'r': if (mc_parse_long(optarg, 1, 1000, &n)) goto bad; o.reps = (int)n; break;
        case 'f': if (mc_parse_long(optarg, 1, 100000, &n)) goto bad; o.pipeline_frames = (int)n; break;
        case 'j': o.json = 1; break;
        case 'R': o.rt_in = optarg; break;
        case 'O': o.rt_out = optarg; break;
        case 'q': if (mc_parse_long(optarg, 1, 100, &n)) goto bad; o.rt_quality = (int)n; break;
        case 'T': if (mc_parse_long(optarg, 16, 512, &n) || n % 8) goto bad; o.rt_tile = (int)n; break;
        case 'C': if (mc_codec_mode_parse(optarg, &o.rt_codec)) goto bad; break;
        case 'D': o.content_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("mcbench %s\n", MC_VERSION_STRING); return 0;
        default: goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    if (o.rt_out && !o.rt_in) {
        fprintf(stderr, "mcbench: --out goes with --roundtrip\n");
        return 2;
    }
    if (o.rt_in)
        return roundtrip(&o);
    if (!o.only || !strcmp(o.only, "codec"))
        bench_codec(&o);
    if (!o.only || !strcmp(o.only, "pipeline")) {
        bench_pipeline(&o, "video", 0, 0);
        bench_pipeline(&o, "screen", 0, 0);
        bench_pipeline(&o, "video", 1, 0);
    }
    if (!o.only || !strcmp(o.only, "fec")) {
        bench_fec_codec(&o);
        bench_fec_loss(&o);
    }
    if (!o.only || !strcmp(o.only, "audio"))
        bench_audio(&o);
    if (!o.only || !strcmp(o.only, "auth"))
        bench_auth(&o);
    return 0;
bad:
    fprintf(stderr, "mcbench: invalid option or value near '%s'\nTry 'mcbench --help'.\n",
            argv[optind - 1 > 0 ? optind - 1 : 0]);
    return 2;
}
