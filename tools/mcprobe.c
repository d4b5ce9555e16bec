/* mcprobe: a headless viewer that reports what it receives, once a second.
 * The same receiver code as mcview, decoding included. */
#define _GNU_SOURCE
#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc/cli.h"
#include "mc/common.h"
#include "mc/config.h"
#include "mc/status.h"
#include "mc/trust.h"
#include "plot.h"
#include "mc/net.h"
#include "mc/platform.h"
#include "mc/receiver.h"
#include "mc/verify.h"
#include "mc/wire.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

typedef struct {
    char group[64];
    uint16_t port;
    const char *iface, *snapshot, *csv_path, *plot_path;
    FILE *csv;
    double drop_pct, drop_burst;
    long seed, viewers;
    double duration_s;
    long interval_ms;
    int json, verify, no_decode, quiet, no_control, no_audio, insecure;
    const char *name, *trust, *known, *pass_file;
    const char *source; /* SSM: the sender's address */
    char relay[300];    /* fed by an mcrelay at HOST[:PORT] instead of the group */
} options;

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mcprobe [OPTIONS] [GROUP[:PORT]]\n"
"Join an mcshare broadcast without a window and report, once a second,\n"
"what arrives: frame rate, bitrate, packets expected and lost before FEC,\n"
"rebuilt by FEC (fec+), tiles repaired (completed only by a later resend),\n"
"tiles held, latency p50/p95 from capture to complete and to decoded, and\n"
"jitter (RFC 3550 estimator over each frame's capture-to-complete time).\n\n"
"  GROUP[:PORT]        multicast group and port (default 239.1.1.1:5004)\n"
"  --iface ADDR|NAME   join on this interface (default: routing table)\n"
"  --source ADDR       join only the datagrams of the sender at ADDR (source-\n"
"                      specific multicast, IGMPv3; for 232.0.0.0/8 SSM groups)\n"
"  --duration S        stop after S seconds (default: until Ctrl-C, SIGTERM or\n"
"                      SIGHUP, which all end the run normally: the summary and\n"
"                      every file asked for are written)\n"
"  --interval MS       report every MS milliseconds, 50..60000 (default 1000)\n"
"  --json              one JSON object per line, then a summary object\n"
"  --no-decode         reassemble and count, but do not decode tiles\n"
"  --name NAME         name shown to the teacher (default: host name)\n"
"  --no-control        do not use the sender's control channel\n"
"  --trust FINGERPRINT accept only a stream signed by this key (mcshare prints\n"
"                      it); without it the first key seen on the group is\n"
"                      trusted and remembered, like ssh's known_hosts\n"
"  --known-senders F   that memory (default ~/.config/mcshare/known_senders)\n"
"  --insecure          also accept unsigned streams (mcshare --no-sign)\n"
"  --passphrase-file F open a broadcast encrypted with the passphrase in F\n"
"  --no-audio          do not play the sound (into nothing, on a 10 ms clock,\n"
"                      as a sound card would); video is then not held back for\n"
"                      A/V sync and no sound figures are reported\n"
"  --verify-pattern    check every decoded tile against the built-in test\n"
"                      pattern (sender running --source test); counts wrong tiles\n"
"  --snapshot FILE     write the final picture as a binary PPM\n"
"  --csv FILE          also write every report as a CSV row\n"
"  --plot FILE.svg     at the end, draw latency over time, a latency histogram\n"
"                      and loss/FEC over time (open it in a browser)\n"
"  --drop PCT[,BURST]  drop PCT %% of arriving datagrams, in runs of BURST on\n"
"                      average (default 1: independent), for testing without a\n"
"                      firewall; the same --seed gives the same drops\n"
"  --seed N            seed for --drop (default 1)\n"
"  --viewers N         N independent viewers in this process (own sockets, own\n"
"                      control connections, named NAME-i), for scale tests; the\n"
"                      reports follow viewer 0, then one line per viewer and an\n"
"                      aggregate line (default 1)\n"
"  --group GROUP[:PORT] the same as the argument (for configuration files)\n"
"  --config FILE        settings from FILE instead of /etc/mcshare/mcprobe.conf and\n"
"                       ~/.config/mcshare/mcprobe.conf (\"key = value\" lines; the\n"
"                       keys are these long options; the command line wins)\n"
"  -q, --quiet         only the summary\n"
"  -v, --verbose       more messages (-vv: debug)\n"
"  -h, --help, -V, --version\n\n"
"Latency is from the sender's capture time to this host's clock, corrected by\n"
"the control channel's clock sync (exact when both share a clock: same\n"
"machine, network namespaces). With sound, each report adds the sound's\n"
"capture-to-heard latency, concealed frames, and the A/V offset: the test\n"
"pattern's flash entering the picture minus the test tone's click being heard\n"
"(sender: --source test --audio tone). Sound figures follow viewer 0.\n"
"Exit status: 0 ok, 1 nothing received, 3 --verify-pattern found wrong tiles.\n");
}

static const struct option LONGS[] = {
    {"group", 1, 0, 'G'}, {"config", 1, 0, 'X'}, {"source", 1, 0, 'R'},
    {"iface", 1, 0, 'i'}, {"duration", 1, 0, 'd'}, {"json", 0, 0, 'j'},
    {"no-decode", 0, 0, 'n'}, {"verify-pattern", 0, 0, 'p'}, {"snapshot", 1, 0, 's'},
    {"interval", 1, 0, 'I'}, {"csv", 1, 0, 'c'}, {"plot", 1, 0, 'P'}, {"drop", 1, 0, 'D'}, {"seed", 1, 0, 'S'},
    {"viewers", 1, 0, 'W'}, {"name", 1, 0, 'N'}, {"no-control", 0, 0, 'C'}, {"no-audio", 0, 0, 'A'}, {"trust", 1, 0, 'T'}, {"known-senders", 1, 0, 'K'}, {"insecure", 0, 0, 'U'}, {"passphrase-file", 1, 0, 'F'}, {"quiet", 0, 0, 'q'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'},
    {"version", 0, 0, 'V'}, {0, 0, 0, 0}};

static int parse_args(int argc, char **argv, options *o)
{

    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qvhV", LONGS, NULL)) != -1) {
        switch (c) {
        case 'i': o->iface = optarg; break;
        case 'G':
            if (mc_parse_endpoint(optarg, o->group, sizeof(o->group), &o->port)) {
                fprintf(stderr, "mcprobe: invalid --group '%s': not a multicast GROUP[:PORT]\n", optarg);
                return 2;
            }
            break;
        case 'X': break; /* --config: read before parsing (mc/config.h) */
        case 'R': {
            struct in_addr a;
            if (inet_pton(AF_INET, optarg, &a) != 1) {
                fprintf(stderr, "mcprobe: invalid --source '%s': the sender's IPv4 address\n", optarg);
                return 2;
            }
            o->source = optarg;
            break;
        }
        case 'd':
            if (mc_parse_double(optarg, 0.1, 1e7, &o->duration_s)) {
                fprintf(stderr, "mcprobe: invalid --duration '%s': must be 0.1..10000000 seconds "
                        "(about 115 days)\n", optarg);
                return 2;
            }
            break;
        case 'I':
            if (mc_parse_long(optarg, 50, 60000, &o->interval_ms)) {
                fprintf(stderr, "mcprobe: invalid --interval '%s': must be 50..60000 ms\n", optarg);
                return 2;
            }
            break;
        case 'j': o->json = 1; break;
        case 'c': o->csv_path = optarg; break;
        case 'P': o->plot_path = optarg; break;
        case 'W':
            if (mc_parse_long(optarg, 1, 1000, &o->viewers)) {
                fprintf(stderr, "mcprobe: invalid --viewers '%s': must be 1..1000\n", optarg);
                return 2;
            }
            break;
        case 'S':
            if (mc_parse_long(optarg, 0, 2147483647L, &o->seed)) {
                fprintf(stderr, "mcprobe: invalid --seed '%s': must be 0..2147483647\n", optarg);
                return 2;
            }
            break;
        case 'D': {
            char pct[32], *comma;
            snprintf(pct, sizeof(pct), "%s", optarg);
            comma = strchr(pct, ',');
            if (comma)
                *comma++ = '\0';
            o->drop_burst = 1;
            if (mc_parse_double(pct, 0, 100, &o->drop_pct) ||
                (comma && mc_parse_double(comma, 1, 1000, &o->drop_burst))) {
                fprintf(stderr, "mcprobe: invalid --drop '%s': expected PCT or PCT,BURST "
                        "(0..100, burst >= 1)\n", optarg);
                return 2;
            }
            break;
        }
        case 'N': o->name = optarg; break;
        case 'C': o->no_control = 1; break;
        case 'A': o->no_audio = 1; break;
        case 'T': o->trust = optarg; break;
        case 'K': o->known = optarg; break;
        case 'U': o->insecure = 1; break;
        case 'F': o->pass_file = optarg; break;
        case 'n': o->no_decode = 1; break;
        case 'p': o->verify = 1; break;
        case 's': o->snapshot = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'v': mc_log_level++; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("mcprobe %s (wire version %d)\n", MC_VERSION_STRING, MC_WIRE_VERSION); return -1;
        default:
            return mc_cli_unknown("mcprobe", argv[optind - 1]);
        }
    }
    if (mc_cli_endpoint("mcprobe", argc, argv, optind, o->group, sizeof(o->group), &o->port,
                        o->relay, sizeof(o->relay)))
        return 2;
    if (o->verify && o->no_decode) {
        fprintf(stderr, "mcprobe: --verify-pattern needs decoding; drop --no-decode\n");
        return 2;
    }
    return 0;
}

static const char *state_name(int s)
{
    return s == MC_RX_LIVE ? "live" : s == MC_RX_ENDED ? "ended" : "waiting";
}

/* One report. Human and JSON output come from the same values. */
static void report(const options *o, const char *kind, double t, const mc_receiver_stats *st,
                   const mc_receiver_stats *prev, double dt, const mc_verify_result *vr)
{
    double fps = (double)(st->frames_decoded - prev->frames_decoded) / dt;
    if (o->no_decode)
        fps = (double)(st->frames_complete - prev->frames_complete) / dt;
    double mbit = (double)(st->bytes - prev->bytes) * 8 / dt / 1e6;
    long long lost = (long long)st->expected - (long long)st->received;
    if (lost < 0)
        lost = 0;
    double loss_pct = st->expected ? 100.0 * (double)lost / (double)st->expected : 0;
    /* After FEC: what was lost and not rebuilt (parity lost is not missed). */
    long long residual = lost - (long long)st->fec_recovered;
    if (residual < 0)
        residual = 0;
    /* Tiles the interval completed from a repair or refresh, not first time. */
    unsigned long long repaired = (unsigned long long)(st->tiles_repaired - prev->tiles_repaired);
    if (o->csv) {
        fprintf(o->csv, "%s,%.2f,%s,%.2f,%.3f,%llu,%llu,%lld,%.3f,%llu,%lld,%d,%d,%.2f,%.2f,%.2f,%.2f,"
                "%llu,%llu,%.2f,%.2f,%d,%llu,%.2f\n",
                kind, t, state_name(st->state), fps, mbit, (unsigned long long)st->expected,
                (unsigned long long)st->received, lost, loss_pct,
                (unsigned long long)st->fec_recovered, residual, st->tiles_held, st->tiles,
                st->lat_complete_ms[0], st->lat_complete_ms[1], st->lat_decoded_ms[0],
                st->lat_decoded_ms[1], (unsigned long long)st->audio_packets,
                (unsigned long long)st->audio.concealed, st->audio_lat_ms[0], st->av_offset_ms[1],
                st->av_samples, repaired, st->jitter_ms);
        fflush(o->csv);
    }
    if (o->quiet && strcmp(kind, "summary"))
        return; /* -q: the summary only on the terminal; the CSV gets everything */
    if (o->json) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        printf("{\"type\":\"%s\",\"t\":%.2f,\"wall\":%.3f,\"tiles_behind\":%d,\"tiles_stale\":%d,\"state\":\"%s\",\"session\":\"%08x\",\"width\":%d,"
               "\"height\":%d,\"fps\":%.2f,\"mbit_s\":%.3f,\"packets\":%llu,\"expected\":%llu,"
               "\"received\":%llu,\"lost\":%lld,\"loss_pct\":%.3f,\"tiles\":%d,\"tiles_held\":%d,"
               "\"tiles_complete\":%llu,\"tiles_decoded\":%llu,\"decode_errors\":%llu,"
               "\"frames_complete\":%llu,\"frames_decoded\":%llu,\"dropped_invalid\":%llu,"
               "\"foreign_session\":%llu,\"fec_recovered\":%llu,\"fec_unrecoverable\":%llu,"
               "\"residual_lost\":%lld,\"frames_seen\":%llu,\"frames_expected\":%llu,\"tiles_first_seen\":%llu,"
               "\"tiles_first_try\":%llu,\"tiles_repaired\":%llu,\"jitter_ms\":%.2f,\"ctrl_connected\":%d,\"keyframes_asked\":%llu,"
               "\"repairs_asked\":%llu,\"ctrl_refused\":%llu,\"clock_synced\":%d,\"clock_offset_us\":%lld,"
               "\"lat_complete_ms\":[%.2f,%.2f,%.2f],"
               "\"lat_decoded_ms\":[%.2f,%.2f,%.2f]",
               kind, t, (double)wall.tv_sec + wall.tv_nsec / 1e9, st->tiles_behind, st->tiles_stale,
               state_name(st->state), st->session, st->width, st->height, fps, mbit,
               (unsigned long long)st->packets, (unsigned long long)st->expected,
               (unsigned long long)st->received, lost, loss_pct, st->tiles, st->tiles_held,
               (unsigned long long)st->tiles_complete, (unsigned long long)st->tiles_decoded,
               (unsigned long long)st->decode_errors, (unsigned long long)st->frames_complete,
               (unsigned long long)st->frames_decoded,
               (unsigned long long)(st->bad_magic + st->bad_version + st->bad_field +
                                    st->bad_type + st->bad_tile + st->corrupt_tile),
               (unsigned long long)st->foreign_session, (unsigned long long)st->fec_recovered,
               (unsigned long long)st->fec_unrecoverable, residual,
               (unsigned long long)st->frames_seen, (unsigned long long)st->frames_expected,
               (unsigned long long)st->tiles_first_seen,
               (unsigned long long)st->tiles_first_try, repaired, st->jitter_ms,
               st->ctrl_connected,
               (unsigned long long)st->ctrl_keyframes_asked,
               (unsigned long long)st->ctrl_repairs_asked,
               (unsigned long long)st->ctrl_refused, st->clock_synced,
               (long long)st->clock_offset_us, st->lat_complete_ms[0],
               st->lat_complete_ms[1], st->lat_complete_ms[2], st->lat_decoded_ms[0],
               st->lat_decoded_ms[1], st->lat_decoded_ms[2]);
        printf(",\"tiles_moved\":%llu,\"moves_failed\":%llu,\"pending_moves\":%d,"
               "\"bad_codec_params\":%llu,\"wire_version_seen\":%d",
               (unsigned long long)st->tiles_moved, (unsigned long long)st->moves_failed,
               st->pending_moves, (unsigned long long)st->bad_codec_params, st->wire_version_seen);
        if (vr)
            printf(",\"verified\":%llu,\"wrong\":%llu", (unsigned long long)vr->checked,
                   (unsigned long long)vr->wrong);
        const mc_audio_rx_stats *a = &st->audio;
        printf(",\"audio_packets\":%llu,\"audio_playing\":%d,\"audio_frames\":%llu,"
               "\"audio_recovered\":%llu,\"audio_concealed\":%llu,\"audio_late\":%llu,"
               "\"audio_underruns\":%llu,\"audio_samples\":%llu,\"audio_level_ms\":%.1f,"
               "\"audio_target_ms\":%d,\"audio_drift_ppm\":%.0f,\"audio_lat_ms\":[%.2f,%.2f,%.2f],"
               "\"av_offset_ms\":[%.2f,%.2f,%.2f],\"av_samples\":%d,\"video_held\":%d",
               (unsigned long long)st->audio_packets, a->playing, (unsigned long long)a->frames,
               (unsigned long long)a->recovered, (unsigned long long)a->concealed,
               (unsigned long long)a->late, (unsigned long long)a->underruns,
               (unsigned long long)a->samples_played, a->level_ms, a->target_ms, a->drift_ppm,
               st->audio_lat_ms[0], st->audio_lat_ms[1], st->audio_lat_ms[2], st->av_offset_ms[0],
               st->av_offset_ms[1], st->av_offset_ms[2], st->av_samples, st->video_held);
        const mc_auth_rx_stats *au = &st->auth;
        printf(",\"sealed_locked\":%llu,\"sealed_bad\":%llu",
               (unsigned long long)st->sealed_locked, (unsigned long long)st->sealed_bad);
        printf(",\"signed\":%d,\"auth_verified\":%llu,\"auth_manifests\":%llu,"
               "\"auth_bad\":%llu,\"auth_wrong_key\":%llu,\"auth_replayed\":%llu,"
               "\"auth_unverified\":%llu,\"auth_evicted\":%llu,\"auth_pending\":%d}\n",
               st->auth_on, (unsigned long long)au->verified, (unsigned long long)au->manifests,
               (unsigned long long)au->bad_manifest, (unsigned long long)au->wrong_key,
               (unsigned long long)au->replayed, (unsigned long long)au->unverified,
               (unsigned long long)au->evicted, au->pending);
    } else {
        printf("%s%5.1fs %-7s %dx%d %5.1f fps %7.2f Mbit/s  loss %lld/%llu (%.2f%%) fec+%llu"
               "  repaired %llu  tiles %d/%d"
               "  latency ms p50/p95: complete %.1f/%.1f decoded %.1f/%.1f jitter %.1f",
               strcmp(kind, "summary") ? "" : "summary ", t, state_name(st->state), st->width, st->height,
               fps, mbit, lost, (unsigned long long)st->expected, loss_pct,
               (unsigned long long)st->fec_recovered, repaired, st->tiles_held,
               st->tiles, st->lat_complete_ms[0], st->lat_complete_ms[1], st->lat_decoded_ms[0],
               st->lat_decoded_ms[1], st->jitter_ms);
        if (vr)
            printf("  verified %llu wrong %llu", (unsigned long long)vr->checked,
                   (unsigned long long)vr->wrong);
        if (st->audio.frames) {
            printf("  sound: heard after %.1f ms, concealed %llu, repeats used %llu",
                   st->audio_lat_ms[0], (unsigned long long)st->audio.concealed,
                   (unsigned long long)st->audio.recovered);
            if (st->av_samples)
                printf(", A/V %+.1f ms", st->av_offset_ms[1]);
        }
        unsigned long long refused = (unsigned long long)(st->auth.bad_manifest + st->auth.wrong_key +
                                                          st->auth.replayed + st->auth.unverified);
        if (refused)
            printf("  refused %llu (unsigned, forged or replayed)", refused);
        printf("\n");
    }
    fflush(stdout);
}

typedef struct {
    plot_point *pts;
    int n, cap;
    float lat[2048], tmp[2048];
} plot_data;

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* One point per report: latency percentiles of the frames decoded in the
 * interval, loss and FEC of the interval. */
static void plot_add(plot_data *pd, mc_receiver *r, double t, const mc_receiver_stats *st,
                     const mc_receiver_stats *prev)
{
    if (pd->n == pd->cap) {
        int cap = pd->cap ? pd->cap * 2 : 256;
        plot_point *np = realloc(pd->pts, (size_t)cap * sizeof(*np));
        if (!np)
            return;
        pd->pts = np;
        pd->cap = cap;
    }
    plot_point *p = &pd->pts[pd->n++];
    *p = (plot_point){.t = t};
    int n = mc_receiver_latency_samples(r, pd->lat, 2048);
    long fresh = (long)(st->frames_decoded - prev->frames_decoded);
    int k = fresh < n ? (int)fresh : n; /* the interval's samples are the newest */
    if (k > 0) {
        memcpy(pd->tmp, pd->lat + (n - k), (size_t)k * sizeof(float));
        qsort(pd->tmp, (size_t)k, sizeof(float), cmp_float);
        p->p50 = pd->tmp[(k - 1) / 2];
        p->p95 = pd->tmp[(k - 1) * 95 / 100];
    }
    double exp = (double)(st->expected - prev->expected);
    if (exp > 0 && st->expected >= prev->expected) {
        double lost = exp - (double)(st->received - prev->received);
        p->loss_pct = lost > 0 ? 100.0 * lost / exp : 0;
        p->recovered_pct = 100.0 * (double)(st->fec_recovered - prev->fec_recovered) / exp;
    }
}

static int write_ppm(mc_receiver *r, const char *path)
{
    mc_picture pic;
    mc_receiver_lock_picture(r, &pic);
    int err = 0, e = 0;
    FILE *f = pic.pixels ? fopen(path, "wb") : NULL;
    if (f) {
        fprintf(f, "P6\n%d %d\n255\n", pic.width, pic.height);
        for (int y = 0; y < pic.height; y++)
            for (int x = 0; x < pic.width; x++) {
                const uint8_t *p = pic.pixels + (size_t)y * pic.pitch + (size_t)x * 4;
                uint8_t rgb[3] = {p[2], p[1], p[0]};
                fwrite(rgb, 1, 3, f);
            }
        if (fclose(f)) {
            err = 1;
            e = errno;
        }
    } else {
        err = 1;
        e = errno;
    }
    int had = pic.pixels != NULL;
    mc_receiver_unlock_picture(r);
    if (err)
        fprintf(stderr, "mcprobe: cannot write --snapshot '%s': %s\n", path,
                had ? strerror(e) : "no picture was received");
    return err;
}

/* Opens o->viewers receivers; viewer i > 0 is named NAME-i and drops with
 * seed + i, and decodes on one thread (there may be hundreds). */
static int open_viewers(const options *o, const mc_receiver_config *base, mc_receiver **all)
{
    char host[64];
    if (mc_host_name(host, sizeof(host)) || !host[0])
        snprintf(host, sizeof(host), "probe");
    for (long i = 0; i < o->viewers; i++) {
        mc_receiver_config c = *base;
        char name[64];
        if (o->viewers > 1) {
            snprintf(name, sizeof(name), "%.24s-%ld", o->name ? o->name : host, i);
            c.name = name;
            c.threads = 1;
            c.drop_seed = (uint64_t)o->seed + (uint64_t)i;
            if (i > 0) { /* the verifier, snapshot and sound follow viewer 0 only */
                c.on_tile = NULL;
                c.cb_ctx = NULL;
                c.audio = MC_AUDIO_OUT_NONE;
            }
        }
        int err = mc_receiver_create(&c, &all[i]);
        if (err)
            return err;
    }
    return 0;
}

static void close_viewers(const options *o, mc_receiver **all)
{
    for (long i = 0; i < o->viewers; i++)
        mc_receiver_destroy(all[i]);
    free(all);
}

/* One line per viewer, then the aggregate. Returns 1 if any viewer got
 * nothing. */
static int report_viewers(const options *o, mc_receiver **all, double secs)
{
    int silent = 0, full = 0;
    double worst_loss = 0, sum_loss = 0, min_fps = 1e9, worst_p95 = 0;
    for (long i = 0; i < o->viewers; i++) {
        mc_receiver_stats st;
        mc_receiver_get_stats(all[i], &st);
        long long lost = (long long)st.expected - (long long)st.received;
        double loss = st.expected ? 100.0 * (double)(lost > 0 ? lost : 0) / (double)st.expected : 0;
        double fps = (double)(o->no_decode ? st.frames_complete : st.frames_decoded) / secs;
        silent += st.sessions == 0;
        full += st.tiles && st.tiles_held == st.tiles;
        worst_loss = loss > worst_loss ? loss : worst_loss;
        sum_loss += loss;
        min_fps = fps < min_fps ? fps : min_fps;
        double p95 = o->no_decode ? st.lat_complete_ms[1] : st.lat_decoded_ms[1];
        worst_p95 = p95 > worst_p95 ? p95 : worst_p95;
        if (o->json)
            printf("{\"type\":\"viewer\",\"index\":%ld,\"fps\":%.2f,\"loss_pct\":%.3f,"
                   "\"tiles_held\":%d,\"tiles\":%d,\"ctrl_connected\":%d,\"lat_p95_ms\":%.2f}\n",
                   i, fps, loss, st.tiles_held, st.tiles, st.ctrl_connected, p95);
        else if (!o->quiet)
            printf("viewer %3ld: %5.1f fps  loss %.2f%%  tiles %d/%d  control %s  latency p95 %.1f ms\n",
                   i, fps, loss, st.tiles_held, st.tiles, st.ctrl_connected ? "yes" : "no", p95);
    }
    if (o->json)
        printf("{\"type\":\"aggregate\",\"viewers\":%ld,\"silent\":%d,\"full_picture\":%d,"
               "\"min_fps\":%.2f,\"mean_loss_pct\":%.3f,\"worst_loss_pct\":%.3f,"
               "\"worst_lat_p95_ms\":%.2f}\n", o->viewers, silent, full, min_fps,
               sum_loss / (double)o->viewers, worst_loss, worst_p95);
    else
        printf("aggregate: %ld viewers, %d with the whole picture, %d heard nothing; lowest %.1f fps; "
               "loss mean %.2f%% worst %.2f%%; worst latency p95 %.1f ms\n", o->viewers, full, silent,
               min_fps, sum_loss / (double)o->viewers, worst_loss, worst_p95);
    return silent > 0;
}

/* Says on stderr what the viewer's window would say, when it changes and
 * is more than "waiting" (a refusal, the end, a lost signal). */
static void say_status(const options *o, mc_status *status, const mc_receiver_stats *st,
                       char *said, size_t cap)
{
    char now[256];
    mc_status_update(status, st, mc_now_us());
    mc_status_text(status, st, o->group, o->port, mc_now_us(), now, sizeof(now));
    if (!strcmp(now, said))
        return;
    snprintf(said, cap, "%s", now);
    if (now[0] && strncmp(now, "Waiting", 7))
        fprintf(stderr, "mcprobe: %s\n", now);
}

int main(int argc, char **argv)
{
    options o = {.group = MC_DEFAULT_GROUP, .port = MC_DEFAULT_PORT, .interval_ms = 1000,
                 .seed = 1, .drop_burst = 1, .viewers = 1};
    /* The admins' files first, then the command line (which wins). The
     * settings live as long as the program: options point into them. */
    static mc_config cf;
    if (mc_config_load(&cf, "mcprobe", LONGS, argc, argv)) {
        fprintf(stderr, "mcprobe: %s\n", cf.error);
        return 2;
    }
    int rc = parse_args(cf.argc, cf.argv, &o);
    if (rc > 0 && mc_config_origin(&cf, optind - 1))
        fprintf(stderr, "mcprobe: (that setting is in %s)\n", mc_config_origin(&cf, optind - 1));
    if (rc)
        return rc < 0 ? 0 : rc;
    /* The terminal closed: still write every file asked for; and a closed
     * pipe on stdout must not lose them either. */
    mc_cli_on_stop(on_signal);
    if (mc_cli_iface("mcprobe", o.iface) ||
        (o.snapshot && mc_cli_output_path("mcprobe", "--snapshot", o.snapshot)) ||
        (o.plot_path && mc_cli_output_path("mcprobe", "--plot", o.plot_path)))
        return 1;

    if (o.csv_path) {
        o.csv = fopen(o.csv_path, "w");
        if (!o.csv) {
            fprintf(stderr, "mcprobe: cannot write --csv '%s': %s\n", o.csv_path, strerror(errno));
            return 1;
        }
        fprintf(o.csv, "type,t_s,state,fps,mbit_s,expected,received,lost,loss_pct,fec_recovered,"
                "residual_lost,tiles_held,tiles,complete_p50_ms,complete_p95_ms,decoded_p50_ms,"
                "decoded_p95_ms,audio_packets,audio_concealed,audio_lat_p50_ms,av_offset_p50_ms,"
                "av_samples,tiles_repaired,jitter_ms\n");
    }
    mc_verifier *v = NULL;
    if (o.verify && mc_verifier_create(NULL, &v))
        return 1;
    mc_receiver_config rc_cfg;
    mc_receiver_config_default(&rc_cfg);
    rc_cfg.group = o.group;
    rc_cfg.port = o.port;
    rc_cfg.iface = o.iface;
    rc_cfg.source = o.source;
    if (o.relay[0]) {
        rc_cfg.relay = o.relay;
        rc_cfg.ctrl = 0;
    }
    rc_cfg.no_decode = o.no_decode;
    rc_cfg.ctrl = !o.no_control;
    rc_cfg.drop_pct = o.drop_pct;
    rc_cfg.drop_burst = o.drop_burst;
    rc_cfg.drop_seed = (uint64_t)o.seed;
    rc_cfg.name = o.name;
    rc_cfg.audio = o.no_audio ? MC_AUDIO_OUT_NONE : MC_AUDIO_OUT_VIRTUAL;
    mc_trust trust;
    char tgroup[320]; /* through a relay, the teacher's key is remembered under its name */
    snprintf(tgroup, sizeof(tgroup), "%s%s%s", o.relay[0] ? "relay:" : "", o.relay[0] ? o.relay : o.group,
             o.relay[0] && !strchr(o.relay, ':') ? ":5006" : "");
    int terr = mc_trust_init(&trust, tgroup, o.port, o.trust, o.known);
    if (terr) {
        fprintf(stderr, "mcprobe: %s\n", trust.error);
        return terr == MC_EINVAL ? 2 : 1;
    }
    rc_cfg.require_signed = !o.insecure;
    uint8_t seal_key[MC_SEAL_KEY];
    if (o.pass_file) {
        if (mc_seal_key_from_file("mcprobe", o.pass_file, o.group, o.port, seal_key))
            return 1;
        rc_cfg.seal_key = seal_key;
    }
    rc_cfg.trust_fpr = mc_trust_fpr(&trust);
    if (v) {
        rc_cfg.on_tile = mc_verifier_on_tile;
        rc_cfg.cb_ctx = v;
    }
    mc_receiver **all = calloc((size_t)o.viewers, sizeof(*all));
    if (!all)
        return 1;
    int err = open_viewers(&o, &rc_cfg, all);
    if (err) {
        fprintf(stderr, "mcprobe: cannot join %s:%u: %s\n", o.group, (unsigned)o.port,
                mc_strerror(err));
        close_viewers(&o, all);
        mc_verifier_destroy(v);
        return 1;
    }
    mc_receiver *r = all[0];
    if (!o.json && !o.quiet)
        fprintf(stderr, "mcprobe: listening on %s:%u\n", o.group, (unsigned)o.port);
    uint64_t start = mc_now_us(), last = start;
    mc_receiver_stats prev = {0}, st;
    plot_data *pd = o.plot_path ? calloc(1, sizeof(*pd)) : NULL;
    mc_verify_result vr = {0};
    mc_status status;
    mc_status_init(&status);
    char said[256] = "";
    while (!g_stop) {
        uint64_t now = mc_now_us();
        double t = (double)(now - start) / 1e6;
        if (o.duration_s > 0 && t >= o.duration_s)
            break;
        uint64_t step = (uint64_t)o.interval_ms * 1000u;
        uint64_t wake = last + step;
        if (o.duration_s > 0 && start + (uint64_t)(o.duration_s * 1e6) < wake)
            wake = start + (uint64_t)(o.duration_s * 1e6);
        mc_sleep_until_us(wake);
        now = mc_now_us();
        if (now - last < step)
            continue;
        mc_receiver_get_stats(r, &st);
        if (st.auth_on)
            mc_trust_update(&trust, &st.auth, "mcprobe");
        say_status(&o, &status, &st, said, sizeof(said));
        if (v)
            mc_verifier_result(v, &vr);
        if (pd)
            plot_add(pd, r, (double)(now - start) / 1e6, &st, &prev);
        if (!o.quiet || o.csv)
            report(&o, "second", (double)(now - start) / 1e6, &st, &prev,
                   (double)(now - last) / 1e6, v ? &vr : NULL);
        prev = st;
        last = now;
    }
    uint64_t end = mc_now_us();
    mc_receiver_stats zero = {0};
    mc_receiver_get_stats(r, &st);
    if (st.auth_on)
        mc_trust_update(&trust, &st.auth, "mcprobe");
    if (v)
        mc_verifier_result(v, &vr);
    report(&o, "summary", (double)(end - start) / 1e6, &st, &zero,
           (double)(end - start) / 1e6, v ? &vr : NULL);
    rc = st.sessions == 0 ? 1 : (v && vr.wrong) ? 3 : 0;
    if (st.sessions == 0) { /* why: a refusal, or nothing at all */
        char why[256];
        mc_status_update(&status, &st, mc_now_us());
        mc_status_text(&status, &st, o.group, o.port, mc_now_us(), why, sizeof(why));
        fprintf(stderr, "mcprobe: no broadcast received on %s:%u%s%s\n", o.group, (unsigned)o.port,
                why[0] && strncmp(why, "Waiting", 7) ? ": " : "",
                why[0] && strncmp(why, "Waiting", 7) ? why : "");
    }
    if (o.snapshot && st.sessions && write_ppm(r, o.snapshot))
        rc = rc ? rc : 1;
    if (o.viewers > 1 && report_viewers(&o, all, (double)(end - start) / 1e6))
        rc = rc ? rc : 1;
    if (pd) {
        char title[160];
        snprintf(title, sizeof(title), "mcprobe %s:%u, %dx%d, session %08x", o.group,
                 (unsigned)o.port, st.width, st.height, st.session);
        int nl = mc_receiver_latency_samples(r, pd->lat, 2048);
        if (plot_write_svg(o.plot_path, title, pd->pts, pd->n, pd->lat, nl)) {
            fprintf(stderr, "mcprobe: cannot write --plot '%s'\n", o.plot_path);
            rc = rc ? rc : 1;
        }
        free(pd->pts);
        free(pd);
    }
    close_viewers(&o, all);
    mc_verifier_destroy(v);
    if (o.csv && fclose(o.csv))
        rc = rc ? rc : 1;
    return rc;
}
