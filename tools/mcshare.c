/* mcshare: broadcast this screen (or a test pattern) to a multicast group. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc/audio.h"
#include "mc/capture.h"
#include "mc/cli.h"
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/config.h"
#include "mc/dashboard.h"
#include "mc/discovery.h"
#include "mc/listen.h"
#include "mc/net.h"
#include "mc/platform.h"
#include "mc/scale.h"
#include "mc/sender.h"
#include "mc/testsrc.h"
#include "mc/wire.h"
#include "mcshare.h"

static volatile sig_atomic_t g_stop, g_roster;

static void on_signal(int sig)
{
#ifdef SIGUSR1
    if (sig == SIGUSR1) {
        g_roster = 1;
        return;
    }
#else
    (void)sig;
#endif
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mcshare [OPTIONS]\n"
"Broadcast this screen to every viewer on the LAN as one multicast stream.\n"
"Viewers run: mcview GROUP[:PORT]\n\n"
"  --group ADDR         multicast group (default 239.1.1.1)\n"
"  --port N             UDP port (default 5004)\n"
"  --display :N         X display to capture (default $DISPLAY)\n"
"  --source auto|x11|wlr|portal|dxgi|gdi|test|test-video\n"
"                       the screen: auto (default) takes wlr in a Wayland\n"
"                       session whose compositor offers wlr-screencopy (sway,\n"
"                       Hyprland), the desktop's ScreenCast portal in other\n"
"                       Wayland sessions (GNOME, KDE: a dialog asks once),\n"
"                       x11 with an X display, on Windows dxgi (Desktop\n"
"                       Duplication) or else gdi, and says which; or\n"
"                       the built-in moving test pattern, or a photo-like\n"
"                       pattern where every tile changes every frame (benchmarks)\n"
"  --region WxH+X+Y     capture only this part of the screen (default: all)\n"
"  --monitor N|NAME     capture this monitor (X11: one of RandR's monitors;\n"
"                       Wayland: one of the compositor's outputs; default: the\n"
"                       whole X screen, or the first output)\n"
"  --list-monitors      list the monitors of the screen, then exit\n"
"  --size WxH           send at this resolution, scaled (default: as captured;\n"
"                       1280x720 for the test pattern)\n"
"  --fps N              frames per second, 1..240 (default 30)\n"
"  --codec C            auto: each tile lossless where that is exact and not much\n"
"                       larger (text, code, slides, UI), JPEG where it is\n"
"                       photo-like; jpeg or lossless: every tile (default auto)\n"
"  --quality N          JPEG quality 1..100, for the JPEG tiles (default 75)\n"
"  --preset P           sharp (photos JPEG 90, full colour), balanced (the\n"
"                       defaults) or light (for Wi-Fi: JPEG 50, at most 10 fps);\n"
"                       options after it change single settings\n"
"  --subsampling S      chroma subsampling 420|444 (default 420)\n"
"  --tile N             tile edge in pixels, multiple of 8, 16..512 (default 64)\n"
"  --refresh MS         resend every tile about this often, for viewers that\n"
"                       joined late or lost packets without a control channel;\n"
"                       a static screen costs its picture once per period;\n"
"                       1000..60000 (default 8000)\n"
"  --max-bitrate MBIT   pace the stream to this many Mbit/s (default 100)\n"
"  --fec PCT|auto       Reed-Solomon parity, %% of data packets, 0..200, at least 2\n"
"                       parity packets per block; 0 turns FEC off; auto sizes it\n"
"                       from the viewers' reported loss (default 20)\n"
"  --ctrl-port N        control channel port (ENet, UDP) for repairs, keyframes,\n"
"                       reports and clock sync; 0 turns it off (default: port + 1)\n"
"  --max-viewers N      control connections accepted (default 256; watching\n"
"                       needs none)\n"
"  --dashboard          serve the teacher's page (who watches, figures, pause,\n"
"                       quality, what to show, end) on this computer and open\n"
"                       it in the default browser; its address, with a random\n"
"                       token, is printed\n"
"  --dashboard-listen ADDR:PORT\n"
"                       serve the page here instead of 127.0.0.1 on a free port,\n"
"                       without opening a browser (0.0.0.0:8080: reachable from\n"
"                       other computers, still only with the token)\n"
"  --roster             list the connected viewers with each status line\n"
"                       (kill -USR1 prints it at any time)\n"
"  --audio SOURCE       sound to send with the picture:\n"
"                         default    what this computer plays (the PulseAudio or\n"
"                                    PipeWire monitor of the default output;\n"
"                                    on Windows the output's WASAPI loopback)\n"
"                         mic        the default microphone\n"
"                         file:F.wav a WAV file (PCM or float, any rate), looped\n"
"                         tone       a 440 Hz test tone that clicks when the test\n"
"                                    pattern flashes its marker (A/V sync checks)\n"
"                         none       no sound\n"
"                       default: 'default' for the screen, 'none' for test sources.\n"
"                       Sound asked for with --audio that cannot be used stops\n"
"                       mcshare with the reason; without --audio and without a\n"
"                       sound device, mcshare says so and sends the picture alone.\n"
"  --audio-bitrate B    low (24 kbit/s mono), medium (64 kbit/s stereo, default),\n"
"                       high (128 kbit/s stereo), or bits/s 6000..510000\n"
"  --audio-frame MS     Opus frame length 5|10|20 ms (default 10)\n"
"  --audio-redundancy N earlier frames repeated in each audio packet, 0..3\n"
"                       (default 2: a frame is lost only if 3 packets in a row are)\n"
"  --mtu BYTES          largest UDP payload, %d..%d (default 1200)\n"
"  --ttl N              multicast TTL; 1 keeps it on the LAN (default 1)\n"
"  --iface ADDR|NAME    send on this interface (default: routing table)\n"
"  --loop               also deliver to viewers on this host (IP_MULTICAST_LOOP)\n"
"  --cursor on|off      draw the mouse pointer into the picture (default on)\n"
"  --damage on|off      skip grabbing when the X server reports no change\n"
"                       (DAMAGE extension; default on)\n"
"  --threads N          JPEG encoder threads (default: one per CPU)\n"
"  --frames N           stop after N frames (default: run until Ctrl-C)\n"
"  --duration S         stop after S seconds\n"
"  --name NAME          the broadcast's name in the students' list, e.g.\n"
"                       \"Physics 2B\" (default: this computer's name)\n"
"  --no-announce        do not announce the broadcast on the LAN (SAP on\n"
"                       239.255.255.255:9875, signed; mcview without a GROUP\n"
"                       lists what is announced)\n"
"  --force              broadcast even when another mcshare is live on the group\n"
"                       or holds the control port (viewers would be split\n"
"                       between the two)\n"
"  --key FILE           the sender's signing key (Ed25519), created with mode\n"
"                       0600 on first use (default ~/.config/mcshare/sender.key).\n"
"                       Its fingerprint is printed at start: students can pin\n"
"                       it with mcview --trust FINGERPRINT\n"
"  --passphrase-file F  encrypt the broadcast with the passphrase on F's first\n"
"                       line (8+ characters); viewers need the same file.\n"
"                       Without it anyone on the LAN can watch\n"
"  --no-sign            send an unsigned stream (only viewers run with\n"
"                       --insecure accept it; for measurements)\n"
"  --config FILE        settings from FILE instead of /etc/mcshare/mcshare.conf and\n"
"                       ~/.config/mcshare/mcshare.conf (\"key = value\" lines; the\n"
"                       keys are these long options; the command line wins)\n"
"  -v, --verbose        more messages (-vv: debug); a status line is printed\n"
"                       every 5 s in any case\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n\n"
"Before it starts, mcshare listens for a second to make sure no other broadcast\n"
"is live on the group. Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops the\n"
"broadcast and tells the viewers it ended.\n",
            MC_MIN_MTU, MC_MAX_MTU);
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "mcshare: invalid %s '%s': %s\nTry 'mcshare --help'.\n", opt, val, why);
    return 2;
}

enum { O_GROUP = 256, O_PORT, O_DISPLAY, O_SOURCE, O_REGION, O_SIZE, O_FPS, O_QUALITY, O_CODEC,
       O_SUBSAMP, O_TILE, O_REFRESH, O_BITRATE, O_MTU, O_TTL, O_IFACE, O_LOOP, O_CURSOR,
       O_THREADS, O_FRAMES, O_DURATION, O_KEY, O_NO_SIGN, O_PASSFILE, O_DAMAGE, O_FEC, O_CTRL_PORT, O_MAX_VIEWERS,
       O_ROSTER, O_AUDIO, O_AUDIO_BITRATE, O_AUDIO_FRAME, O_AUDIO_RED, O_FORCE, O_NAME,
       O_NO_ANNOUNCE, O_CONFIG, O_PRESET, O_DASHBOARD, O_DASH_LISTEN, O_MONITOR,
       O_LIST_MONITORS };

static int parse_one(options *o, int c, const char *v)
{
    long n;
    char why[256];
    switch (c) {
    case O_GROUP:
        if (mc_parse_endpoint(v, o->group, sizeof(o->group), &o->s.port))
            return bad("--group", v, "not a multicast address (224.0.0.0-239.255.255.255)");
        if (mc_group_check(o->group, why, sizeof(why)) < 0)
            return bad("--group", v, why);
        return 0;
    case O_PORT:
        if (mc_parse_long(v, 1, 65534, &n))
            return bad("--port", v, "must be 1..65534");
        o->s.port = (uint16_t)n;
        return 0;
    case O_DISPLAY: o->display = v; return 0;
    case O_SOURCE:
        if (strcmp(v, "auto") && strcmp(v, "x11") && strcmp(v, "wlr") && strcmp(v, "portal") &&
            strcmp(v, "gdi") && strcmp(v, "dxgi") && strcmp(v, "test") && strcmp(v, "test-video"))
            return bad("--source", v, "must be auto, x11, wlr, portal, dxgi, gdi, test or test-video");
        o->source = v;
        return 0;
    case O_REGION:
        if (mc_parse_region(v, MC_MAX_DIM, &o->rw, &o->rh, &o->rx, &o->ry))
            return bad("--region", v, "expected WxH+X+Y, e.g. 1280x720+0+0");
        return 0;
    case O_SIZE:
        if (mc_parse_size(v, MC_MAX_DIM, &o->ow, &o->oh))
            return bad("--size", v, "expected WxH, e.g. 1920x1080 (at most 8192)");
        return 0;
    case O_FPS:
        if (mc_parse_long(v, 1, 240, &n)) return bad("--fps", v, "must be 1..240");
        o->s.fps = o->fps_asked = (int)n;
        return 0;
    case O_CODEC:
        if (mc_codec_mode_parse(v, &o->s.codec)) return bad("--codec", v, "must be auto, jpeg or lossless");
        return 0;
    case O_QUALITY:
        if (mc_parse_long(v, 1, 100, &n)) return bad("--quality", v, "must be 1..100");
        o->s.quality = (int)n;
        return 0;
    case O_SUBSAMP:
        if (strcmp(v, "420") && strcmp(v, "444")) return bad("--subsampling", v, "must be 420 or 444");
        o->s.subsamp = strcmp(v, "420") ? MC_SUBSAMP_444 : MC_SUBSAMP_420;
        return 0;
    case O_TILE:
        if (mc_parse_long(v, MC_MIN_TILE, MC_MAX_TILE, &n) || n % 8)
            return bad("--tile", v, "must be a multiple of 8 in 16..512");
        o->s.tile = (int)n;
        return 0;
    case O_REFRESH:
        if (mc_parse_long(v, 1000, 60000, &n)) return bad("--refresh", v, "must be 1000..60000 ms");
        o->s.refresh_ms = (int)n;
        return 0;
    case O_BITRATE:
        if (mc_parse_double(v, 0.1, 100000, &o->s.max_bitrate_mbit))
            return bad("--max-bitrate", v, "must be 0.1..100000 Mbit/s");
        return 0;
    case O_MTU:
        if (mc_parse_long(v, MC_MIN_MTU, MC_MAX_MTU, &n)) return bad("--mtu", v, "out of range (see --help)");
        o->s.mtu = (int)n;
        return 0;
    case O_TTL:
        if (mc_parse_long(v, 0, 255, &n)) return bad("--ttl", v, "must be 0..255");
        o->s.ttl = (int)n;
        return 0;
    case O_IFACE: o->s.iface = v; return 0;
    case O_LOOP: o->s.loop = 1; return 0;
    case O_CURSOR:
        if (strcmp(v, "on") && strcmp(v, "off")) return bad("--cursor", v, "must be on or off");
        o->cursor = !strcmp(v, "on");
        return 0;
    case O_FEC:
        if (!strcmp(v, "auto")) {
            o->s.fec_auto = 1;
            o->s.fec_percent = 20; /* until the first reports arrive */
            return 0;
        }
        if (mc_parse_long(v, 0, 200, &n)) return bad("--fec", v, "must be 0..200 (percent) or auto");
        o->s.fec_percent = (int)n;
        o->s.fec_auto = 0;
        return 0;
    case O_CTRL_PORT:
        if (mc_parse_long(v, 0, 65535, &o->ctrl_port)) return bad("--ctrl-port", v, "must be 0..65535");
        return 0;
    case O_MAX_VIEWERS:
        if (mc_parse_long(v, 1, 4096, &n)) return bad("--max-viewers", v, "must be 1..4096");
        o->s.max_viewers = (int)n;
        return 0;
    case O_ROSTER: o->roster = 1; return 0;
    case O_AUDIO:
        if (strcmp(v, "default") && strcmp(v, "mic") && strcmp(v, "tone") && strcmp(v, "none") &&
            (strncmp(v, "file:", 5) || !v[5]))
            return bad("--audio", v, "must be default, mic, tone, none or file:PATH.wav");
        o->audio.source = v;
        o->audio.required = 1; /* asked for: never dropped silently */
        return 0;
    case O_AUDIO_BITRATE:
        if (mc_audio_parse_bitrate(v, &o->audio))
            return bad("--audio-bitrate", v, "must be low, medium, high or 6000..510000 bits/s");
        return 0;
    case O_AUDIO_FRAME:
        if (mc_parse_long(v, 5, 20, &n) || (n != 5 && n != 10 && n != 20))
            return bad("--audio-frame", v, "must be 5, 10 or 20 (ms)");
        o->audio.frame_ms = (int)n;
        return 0;
    case O_AUDIO_RED:
        if (mc_parse_long(v, 0, 3, &n)) return bad("--audio-redundancy", v, "must be 0..3");
        o->audio.redundancy = (int)n;
        return 0;
    case O_DAMAGE:
        if (strcmp(v, "on") && strcmp(v, "off")) return bad("--damage", v, "must be on or off");
        o->damage = !strcmp(v, "on");
        return 0;
    case O_THREADS:
        if (mc_parse_long(v, 1, 64, &n)) return bad("--threads", v, "must be 1..64");
        o->s.threads = (int)n;
        return 0;
    case O_FRAMES:
        if (mc_parse_long(v, 1, 1000000000L, &o->frames)) return bad("--frames", v, "must be 1..1000000000");
        return 0;
    case O_KEY:
        o->key_file = v;
        return 0;
    case O_NO_SIGN:
        o->no_sign = 1;
        return 0;
    case O_FORCE:
        o->force = 1;
        return 0;
    case O_NAME: {
        size_t l = strlen(v);
        if (!l || l > 60)
            return bad("--name", v, "must be 1 to 60 characters");
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7F)
                return bad("--name", v, "must not hold control characters");
        o->name = v;
        return 0;
    }
    case O_NO_ANNOUNCE:
        o->no_announce = 1;
        return 0;
    case O_CONFIG:
        return 0; /* read before parsing (mc/config.h) */
    case O_PRESET: {
        const preset *p = mcshare_preset_find(v);
        if (!p)
            return bad("--preset", v, "must be sharp, balanced or light");
        mcshare_preset_apply(o, p);
        return 0;
    }
    case O_DASHBOARD:
        o->dashboard = 1;
        return 0;
    case O_MONITOR:
        if (!*v || strlen(v) >= sizeof(o->monitor_name))
            return bad("--monitor", v, "a monitor's number (0, 1, ...) or name, as --list-monitors "
                       "shows them");
        o->monitor_arg = v;
        return 0;
    case O_LIST_MONITORS:
        o->list_monitors = 1;
        return 0;
    case O_DASH_LISTEN: {
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v || !colon[1] || mc_parse_long(colon + 1, 0, 65535, &n))
            return bad("--dashboard-listen", v, "expected ADDR:PORT, e.g. 127.0.0.1:8080");
        o->dash_listen = v;
        return 0;
    }
    case O_PASSFILE:
        o->pass_file = v;
        return 0;
    case O_DURATION:
        if (mc_parse_double(v, 0.1, 1e7, &o->duration_s))
            return bad("--duration", v, "must be 0.1..10000000 seconds (about 115 days)");
        return 0;
    }
    return 2;
}

static const struct option LONGS[] = {
    {"config", 1, 0, O_CONFIG},
    {"group", 1, 0, O_GROUP}, {"port", 1, 0, O_PORT}, {"display", 1, 0, O_DISPLAY},
    {"source", 1, 0, O_SOURCE}, {"region", 1, 0, O_REGION}, {"size", 1, 0, O_SIZE},
    {"fps", 1, 0, O_FPS}, {"quality", 1, 0, O_QUALITY}, {"codec", 1, 0, O_CODEC}, {"subsampling", 1, 0, O_SUBSAMP},
    {"tile", 1, 0, O_TILE}, {"refresh", 1, 0, O_REFRESH}, {"max-bitrate", 1, 0, O_BITRATE},
    {"mtu", 1, 0, O_MTU}, {"ttl", 1, 0, O_TTL}, {"iface", 1, 0, O_IFACE},
    {"loop", 0, 0, O_LOOP}, {"cursor", 1, 0, O_CURSOR}, {"threads", 1, 0, O_THREADS},
    {"frames", 1, 0, O_FRAMES}, {"damage", 1, 0, O_DAMAGE}, {"fec", 1, 0, O_FEC},
    {"ctrl-port", 1, 0, O_CTRL_PORT}, {"max-viewers", 1, 0, O_MAX_VIEWERS},
    {"roster", 0, 0, O_ROSTER}, {"audio", 1, 0, O_AUDIO},
    {"audio-bitrate", 1, 0, O_AUDIO_BITRATE}, {"audio-frame", 1, 0, O_AUDIO_FRAME},
    {"audio-redundancy", 1, 0, O_AUDIO_RED}, {"duration", 1, 0, O_DURATION}, {"verbose", 0, 0, 'v'},
    {"key", 1, 0, O_KEY}, {"no-sign", 0, 0, O_NO_SIGN}, {"force", 0, 0, O_FORCE},
    {"name", 1, 0, O_NAME}, {"no-announce", 0, 0, O_NO_ANNOUNCE},
    {"passphrase-file", 1, 0, O_PASSFILE}, {"preset", 1, 0, O_PRESET},
    {"dashboard", 0, 0, O_DASHBOARD}, {"monitor", 1, 0, O_MONITOR},
    {"list-monitors", 0, 0, O_LIST_MONITORS}, {"dashboard-listen", 1, 0, O_DASH_LISTEN},
    {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};

static int parse_args(int argc, char **argv, options *o)
{

    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "vhV", LONGS, NULL)) != -1) {
        if (c == 'h') { usage(stdout); return -1; }
        if (c == 'V') { printf("mcshare %s (wire version %d)\n", MC_VERSION_STRING, MC_WIRE_VERSION); return -1; }
        if (c == 'v') { mc_log_level++; continue; }
        if (c == '?')
            return mc_cli_unknown("mcshare", argv[optind - 1]);
        int err = parse_one(o, c, optarg);
        if (err)
            return err;
    }
    if (optind < argc) {
        fprintf(stderr, "mcshare: unexpected argument '%s'\nTry 'mcshare --help'.\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* --source auto: the session decides. Returns the backend, and why. */
static const char *pick_backend(char *why, size_t cap)
{
#ifdef _WIN32
    snprintf(why, cap, "auto: Windows");
    return "dxgi";
#endif
    const char *wl = getenv("WAYLAND_DISPLAY"), *x = getenv("DISPLAY");
    const char *type = getenv("XDG_SESSION_TYPE");
    if (wl && *wl) {
        snprintf(why, cap, "auto: $WAYLAND_DISPLAY is %s%s%s", wl, type ? ", session type " : "",
                 type ? type : "");
        return "wlr";
    }
    if (x && *x) {
        snprintf(why, cap, "auto: $DISPLAY is %s, no Wayland session", x);
        return "x11";
    }
    snprintf(why, cap, "auto: neither $WAYLAND_DISPLAY nor $DISPLAY is set");
    return "x11";
}

static int open_source(options *o, source *src)
{
    char chose[160] = "";
    const char *backend = o->source && strcmp(o->source, "auto") ? o->source : NULL;
    if (!backend)
        backend = o->display ? "x11" : pick_backend(chose, sizeof(chose));
    src->backend = backend;
    src->screen = !strcmp(backend, "x11") || !strcmp(backend, "wlr") || !strcmp(backend, "portal") ||
                  !strcmp(backend, "gdi") || !strcmp(backend, "dxgi");
    if (!src->screen && (o->rw || o->display))
        mc_log(0, "mcshare: --region/--display apply to screen capture only; ignored for --source %s",
               o->source);
    mc_capture_config cc = {.backend = backend, .display = o->display, .monitor = o->monitor_arg,
                            .x = o->rx, .y = o->ry,
                            .w = o->rw, .h = o->rh, .width = o->ow, .height = o->oh,
                            .cursor = o->cursor, .no_damage = !o->damage};
    char why[512];
    int err = mc_capture_create(&cc, &src->cap, why, sizeof(why));
    if (err == MC_EDISPLAY && chose[0] && !strcmp(backend, "dxgi")) {
        /* No Desktop Duplication (a remote session, an old driver): GDI. */
        fprintf(stderr, "mcshare: %s; capturing through GDI instead\n", why);
        size_t l = strlen(chose);
        snprintf(chose + l, sizeof(chose) - l, ", no Desktop Duplication: GDI");
        src->backend = backend = cc.backend = "gdi";
        err = mc_capture_create(&cc, &src->cap, why, sizeof(why));
    }
    if (err == MC_EDISPLAY && chose[0] && !strcmp(backend, "wlr") &&
        strstr(mc_capture_backends(), "portal")) {
        /* A Wayland desktop without wlr-screencopy (GNOME, KDE): its portal. */
        fprintf(stderr, "mcshare: %s; trying the desktop's ScreenCast portal\n", why);
        size_t l = strlen(chose);
        snprintf(chose + l, sizeof(chose) - l, ", wlr-screencopy unavailable: the portal");
        src->backend = backend = cc.backend = "portal";
        err = mc_capture_create(&cc, &src->cap, why, sizeof(why));
    }
    if (err) {
        /* Never a silent test pattern, or X programs alone, instead of the
         * teacher's screen. */
        fprintf(stderr, "mcshare: cannot capture the screen: %s%s%s%s%s\n", why,
                chose[0] ? " (" : "", chose, chose[0] ? ")" : "",
                err == MC_EDISPLAY && !o->source
                    ? ". To send the built-in test pattern instead, use --source test" : "");
        return 1;
    }
    mc_capture_size(src->cap, &src->cw, &src->ch);
    mc_capture_describe(src->cap, why, sizeof(why));
    fprintf(stderr, "mcshare: capturing %dx%d: %s%s%s%s\n", src->cw, src->ch, why,
            chose[0] ? " (" : "", chose, chose[0] ? ")" : "");
    return 0;
}

/* Produces frame `n` of the source at the send size. *px = NULL when the
 * screen did not change since the last grab. */
static int grab(source *src, const options *o, uint32_t n, int force, const uint8_t **px,
                int *pitch)
{
    int changed = 1;
    int err = mc_capture_grab(src->cap, n, px, pitch, &changed);
    if (!err && !changed && n > 1 && !force) {
        *px = NULL;
        return 0;
    }
    if (err || !src->scaled)
        return err;
    mc_scale_bgrx(*px, src->cw, src->ch, *pitch, src->scaled, o->s.width, o->s.height,
                  o->s.width * 4);
    *px = src->scaled;
    *pitch = o->s.width * 4;
    return 0;
}

static void print_roster(mc_sender *s)
{
    static mc_viewer_info v[4096];
    int n = mc_sender_roster(s, v, 4096);
    fprintf(stderr, "mcshare: %d viewer%s connected\n", n, n == 1 ? "" : "s");
    fprintf(stderr, "  %-24s %-21s %8s %7s %11s %15s %8s\n", "name", "address", "since", "loss",
            "tiles", "latency p50/95", "refused");
    for (int i = 0; i < n; i++) {
        char loss[16] = "-", tiles[24] = "-", lat[24] = "-";
        if (v[i].report_age_s >= 0) {
            snprintf(loss, sizeof(loss), "%.2f%%", v[i].loss_pct);
            snprintf(tiles, sizeof(tiles), "%d/%d", v[i].tiles_held, v[i].tiles_total);
            snprintf(lat, sizeof(lat), "%.1f/%.1f ms", v[i].lat_p50_ms, v[i].lat_p95_ms);
        }
        fprintf(stderr, "  %-24s %-21s %7.0fs %7s %11s %15s %8llu\n", v[i].name, v[i].addr,
                v[i].connected_s, loss, tiles, lat, (unsigned long long)v[i].dropped);
    }
}

static void status_line(mc_sender *s, mc_sender_stats *prev, uint64_t dt_us)
{
    mc_sender_stats st;
    mc_sender_get_stats(s, &st);
    static mc_viewer_info v[4096];
    int n = mc_sender_roster(s, v, 4096);
    double worst = -1;
    for (int i = 0; i < n; i++)
        if (v[i].report_age_s >= 0 && v[i].loss_pct > worst)
            worst = v[i].loss_pct;
    char w[32] = "-";
    if (worst >= 0)
        snprintf(w, sizeof(w), "%.2f %%", worst);
    double sec = (double)dt_us / 1e6;
    fprintf(stderr, "mcshare: %d viewers, worst loss %s, FEC %d %%, %.1f fps, %.2f Mbit/s "
            "(sound %.0f kbit/s), tiles/s %.0f changed (%.0f moved) + %.0f repeated + %.0f "
            "refreshed, repairs %llu, keyframes %llu\n",
            st.viewers, w, st.fec_percent_now, (double)(st.frames - prev->frames) / sec,
            (double)(st.bytes - prev->bytes) * 8 / sec / 1e6,
            (double)(st.audio_bytes - prev->audio_bytes) * 8 / sec / 1e3,
            (double)(st.tiles_changed - prev->tiles_changed) / sec,
            (double)(st.tiles_moved - prev->tiles_moved) / sec,
            (double)(st.tiles_repeated - prev->tiles_repeated) / sec,
            (double)(st.tiles_refreshed - prev->tiles_refreshed) / sec,
            (unsigned long long)st.repairs_sent, (unsigned long long)st.keyframes_sent);
    *prev = st;
}

static mc_disco_announcer *g_announcer;
static mc_dashboard *g_dash;

static void announce(options *o, mc_sender *s, int quiet)
{
    if (o->no_announce || o->no_sign)
        return;
    mc_disco_entry de = {.port = o->s.port, .ctrl_port = o->s.ctrl_port,
                         .session = mc_sender_session(s), .sealed = o->pass_file != NULL};
    char host[64] = "mcshare";
    if (!o->name && mc_host_name(host, sizeof(host)))
        snprintf(host, sizeof(host), "mcshare");
    snprintf(de.name, sizeof(de.name), "%s", o->name ? o->name : host);
    snprintf(de.group, sizeof(de.group), "%.15s", o->group); /* a dotted quad */
    int aerr = mc_disco_announcer_create(&de, &o->key, o->s.iface, o->s.ttl, o->s.loop, &g_announcer);
    if (aerr)
        fprintf(stderr, "mcshare: cannot announce the broadcast (%s); students must type "
                "its address\n", mc_strerror(aerr));
    else if (!quiet)
        fprintf(stderr, "mcshare: announced on the LAN as '%s' (students: mcview, with no "
                "address, lists it)\n", de.name);
}

/* Starts the broadcast again with o's settings (another size, quality):
 * a new session, without the BYE, so viewers follow it without showing
 * "ended". 0, or the error (then there is no broadcast). */
static int restart(options *o, mc_sender **s)
{
    mc_disco_announcer_destroy(g_announcer);
    g_announcer = NULL;
    mc_sender_destroy_quietly(*s);
    *s = NULL;
    int err = mc_sender_create(&o->s, s);
    if (err) {
        fprintf(stderr, "mcshare: cannot start the broadcast again: %s\n", mc_strerror(err));
        return err;
    }
    announce(o, *s, 1);
    return 0;
}

static int run(options *o, source *src, mc_sender **sp)
{
    uint64_t interval = 1000000u / (uint64_t)o->s.fps, start = mc_now_us(), next = start;
    uint64_t last_status = start, last_change = 0, last_dash = 0;
    mc_sender_stats prev = {0}, dash_prev = {0};
    char msg[256] = "";
    int regrab = 1;
    for (uint32_t n = 1; !g_stop; n++) {
        if (o->frames && n > (uint64_t)o->frames)
            break;
        if (o->duration_s > 0 && mc_now_us() - start >= (uint64_t)(o->duration_s * 1e6))
            break;
        int act = mcshare_dash_commands(g_dash, o, src, msg, sizeof(msg), &regrab);
        if (act & MCSHARE_END)
            g_stop = 1;
        if ((act & MCSHARE_RESTART) && !g_stop) {
            if (restart(o, sp))
                return 1;
            interval = 1000000u / (uint64_t)o->s.fps;
            prev = dash_prev = (mc_sender_stats){0};
            last_dash = 0;
        }
        if (g_stop)
            break;
        mc_sender *s = *sp;
        const uint8_t *px = NULL;
        int pitch = 0;
        uint64_t ts = mc_now_us();
        if (!o->paused || regrab) { /* paused: the same picture again (the refresh goes on) */
            int err = grab(src, o, n, regrab, &px, &pitch);
            if (err) {
                const char *why = mc_capture_error(src->cap);
                fprintf(stderr, "mcshare: capture failed: %s; the broadcast ends\n",
                        why ? why : mc_strerror(err));
                return 1;
            }
            regrab = 0;
        }
        if (o->source && !strcmp(o->source, "test") && mc_testsrc_is_marker(n) && !o->paused)
            mc_sender_audio_mark(s, ts); /* the tone clicks as the marker flashes */
        if (mc_sender_submit(s, px, pitch, ts))
            break;
        uint64_t now = mc_now_us();
        mc_disco_announcer_tick(g_announcer, now);
        if (now - last_status >= 5000000u) { /* the teacher's one-line summary */
            status_line(s, &prev, now - last_status);
            if (o->roster)
                print_roster(s);
            last_status = now;
        }
        if (g_dash && now - last_dash >= 1000000u) {
            mcshare_dash_publish(g_dash, o, src, s, &dash_prev, last_dash ? now - last_dash : 0, start, msg);
            last_dash = now;
        }
        if (g_roster) {
            g_roster = 0;
            print_roster(s);
        }
        if (px)
            last_change = ts;
        /* Late (slow link or a slow capture): skip ahead, do not catch up. */
        next += interval;
        if (next + interval < now)
            next = now;
        if (o->paused || !mc_capture_reports_changes(src->cap)) {
            mc_sleep_until_us(next); /* no damage reports (or paused): the clock alone */
            continue;
        }
        /* Capture on change: a change the X server reports is grabbed at
         * once, not at the next tick, but never sooner than one interval
         * after the last changed frame (--fps is the highest rate). With
         * no change the clock goes on (the pointer, the refresh). */
        uint64_t earliest = last_change + interval;
        if (earliest > mc_now_us())
            mc_sleep_until_us(earliest < next ? earliest : next);
        now = mc_now_us();
        if (now < next && mc_capture_wait(src->cap, next - now) && !g_stop)
            next = mc_now_us(); /* the following ticks count from this grab */
    }
    return 0;
}

/* Refuses (1) when another broadcast is live on the group, unless --force. */
static int listen_first(const options *o)
{
    mc_other_broadcast other;
    int r = mc_listen_for_broadcast(o->group, o->s.port, o->s.iface, 1000, &other);
    if (r < 0) {
        fprintf(stderr, "mcshare: cannot listen on %s:%u first: %s\n", o->group,
                (unsigned)o->s.port, mc_strerror(r));
        return 1;
    }
    if (!r)
        return 0;
    char desc[160];
    mc_other_broadcast_describe(&other, desc, sizeof(desc));
    if (o->force) {
        fprintf(stderr, "mcshare: WARNING: another broadcast is live on %s:%u (%s); "
                "broadcasting anyway (--force): viewers will be split between the two\n",
                o->group, (unsigned)o->s.port, desc);
        return 0;
    }
    fprintf(stderr, "mcshare: another broadcast is live on %s:%u (%s). Two on one group split "
            "the room: stop that one first, or choose another --group or --port "
            "(--force broadcasts anyway)\n", o->group, (unsigned)o->s.port, desc);
    return 1;
}

int main(int argc, char **argv)
{
    options o = {.cursor = 1, .damage = 1, .ctrl_port = -1, .monitor = -1};
    mc_sender_config_default(&o.s);
    o.fps_asked = o.s.fps;
    mc_audio_config_default(&o.audio);
    o.audio.source = NULL;
    snprintf(o.group, sizeof(o.group), "%s", MC_DEFAULT_GROUP);
    /* The admins' files first, then the command line (which wins). The
     * settings live as long as the program: options point into them. */
    static mc_config cf;
    if (mc_config_load(&cf, "mcshare", LONGS, argc, argv)) {
        fprintf(stderr, "mcshare: %s\n", cf.error);
        return 2;
    }
    int rc = parse_args(cf.argc, cf.argv, &o);
    if (rc > 0 && mc_config_origin(&cf, optind - 1))
        fprintf(stderr, "mcshare: (that setting is in %s)\n", mc_config_origin(&cf, optind - 1));
    if (rc)
        return rc < 0 ? 0 : rc;
    o.s.group = o.group;
    char why[512];
    if (mc_group_check(o.group, why, sizeof(why)) == 1)
        fprintf(stderr, "mcshare: note: %s\n", why);
    if (mc_net_check_iface(o.s.iface, why, sizeof(why))) {
        fprintf(stderr, "mcshare: --iface: %s\n", why);
        return 1;
    }
    o.s.ctrl_port = (uint16_t)(o.ctrl_port < 0 ? (o.s.port + 1) % 65536 : o.ctrl_port);

    source src = {0};
    if (open_source(&o, &src))
        return 1;
    if (o.list_monitors) { /* to stdout, one per line: NUMBER NAME WxH+X+Y */
        mc_monitor m[16];
        int n = src.screen ? mc_capture_monitors(src.cap, m, 16) : 0;
        for (int i = 0; i < n; i++)
            printf("%d %s %dx%d+%d+%d\n", i, m[i].name, m[i].w, m[i].h, m[i].x, m[i].y);
        if (!n)
            fprintf(stderr, "mcshare: %s lists no monitors\n",
                    src.screen ? "this screen" : "the test pattern");
        mc_capture_destroy(src.cap);
        return n ? 0 : 1;
    }
    if (o.monitor_arg)
        snprintf(o.monitor_name, sizeof(o.monitor_name), "%s", o.monitor_arg);
    if (!o.audio.source)
        o.audio.source = src.screen ? "default" : "none";
    o.s.audio = &o.audio;
    o.s.width = o.ow ? o.ow : src.cw;
    o.s.height = o.oh ? o.oh : src.ch;
    if (o.s.width != src.cw || o.s.height != src.ch) {
        src.scaled = malloc((size_t)o.s.width * o.s.height * 4);
        if (!src.scaled)
            return 1;
    }
    mc_cli_on_stop(on_signal); /* the terminal closed: end as cleanly as Ctrl-C */
#ifdef SIGUSR1
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGUSR1, &sa, NULL); /* the roster */
#endif

    mc_sender *s = NULL;
    char fpr_text[MC_FPR_CHARS] = "";
    if (!o.no_sign) {
        char path[4096];
        int created = 0, kerr = 0;
        if (!o.key_file && mc_key_default_path(path, sizeof(path), "sender.key"))
            kerr = MC_ETOOBIG;
        const char *kf = o.key_file ? o.key_file : path;
        if (!kerr)
            kerr = mc_key_load_or_create(kf, &o.key, &created);
        if (kerr) {
            fprintf(stderr, "mcshare: cannot use the signing key %s: %s\n", kf, mc_strerror(kerr));
            rc = 1;
            goto cleanup;
        }
        uint8_t fpr[MC_FPR_BYTES];
        mc_key_fingerprint(o.key.pk, fpr);
        mc_fpr_format(fpr, fpr_text);
        snprintf(o.fpr, sizeof(o.fpr), "%s", fpr_text);
        if (created)
            fprintf(stderr, "mcshare: created a new signing key in %s\n", kf);
        o.s.key = &o.key;
    }

    if (o.pass_file) {
        if (mc_seal_key_from_file("mcshare", o.pass_file, o.group, o.s.port, o.seal_key)) {
            rc = 1;
            goto cleanup;
        }
        o.s.seal_key = o.seal_key;
    }

    if (o.dashboard || o.dash_listen) { /* before anything is sent: a bad address stops here */
        char dwhy[256];
        if (mc_dashboard_create(o.dash_listen, &g_dash, dwhy, sizeof(dwhy))) {
            fprintf(stderr, "mcshare: --dashboard: %s\n", dwhy);
            rc = 1;
            goto cleanup;
        }
    }
    if (listen_first(&o)) {
        rc = 1;
        goto cleanup;
    }
    if (g_stop)
        goto cleanup;
    int err = mc_sender_create(&o.s, &s);
    if (err == MC_EADDR && o.s.ctrl_port) {
        if (!o.force) {
            fprintf(stderr, "mcshare: the control port %u is taken on this computer: another "
                    "mcshare is probably broadcasting here already. Stop it first, or choose "
                    "another --group/--port (or --ctrl-port); --force broadcasts anyway, "
                    "without repairs and reports\n", (unsigned)o.s.ctrl_port);
            rc = 1;
            goto cleanup;
        }
        fprintf(stderr, "mcshare: control port %u is taken (--force): broadcasting without "
                "repairs and reports\n", (unsigned)o.s.ctrl_port);
        o.s.ctrl_port = 0;
        o.s.fec_auto = 0;
        err = mc_sender_create(&o.s, &s);
    }
    if (err == MC_EAUDIO) {
        fprintf(stderr, "mcshare: the sound asked for (--audio %s) cannot be used (see above); "
                "not broadcasting. --audio none sends the picture alone\n", o.audio.source);
        rc = 1;
        goto cleanup;
    }
    if (err) {
        fprintf(stderr, "mcshare: cannot start the broadcast on %s:%u: %s\n", o.group,
                (unsigned)o.s.port, mc_strerror(err));
        rc = 1;
        goto cleanup;
    }
    static const char *codec_names[] = {"auto: lossless or JPEG", "JPEG", "lossless"};
    fprintf(stderr, "mcshare: broadcasting %dx%d (%s) to %s:%u — tile %d, %s (JPEG quality %d), %d fps, "
            "≤ %.0f Mbit/s, FEC %d %%%s, control port %u, session %08x. Viewers: mcview %s%s%u. "
            "Ctrl-C stops.\n",
            o.s.width, o.s.height, src.screen ? "screen" : mc_capture_backend_name(src.cap), o.group,
            (unsigned)o.s.port, o.s.tile, codec_names[o.s.codec], o.s.quality, o.s.fps, o.s.max_bitrate_mbit,
            o.s.fec_percent, o.s.fec_auto ? " (auto)" : "", (unsigned)o.s.ctrl_port,
            mc_sender_session(s), o.group, ":", (unsigned)o.s.port);
    fprintf(stderr, "mcshare: sound: %s\n", mc_sender_audio_describe(s));
    if (!o.no_announce && !o.no_sign) {
        announce(&o, s, 0);
    } else if (!o.no_announce) {
        fprintf(stderr, "mcshare: not announced on the LAN: announcements are signed, and "
                "--no-sign has no key\n");
    }
    if (fpr_text[0])
        fprintf(stderr, "mcshare: signed; key fingerprint %s (write it on the board: "
                "mcview %s:%u --trust %s)\n", fpr_text, o.group, (unsigned)o.s.port, fpr_text);
    else
        fprintf(stderr, "mcshare: UNSIGNED (--no-sign): viewers accept it only with --insecure\n");
    if (o.pass_file)
        fprintf(stderr, "mcshare: encrypted with the passphrase in %s: viewers need "
                "--passphrase-file with the same passphrase\n", o.pass_file);
    if (g_dash) {
        fprintf(stderr, "mcshare: the dashboard: %s\n", mc_dashboard_url(g_dash));
        if (o.dashboard)
            mcshare_open_browser(mc_dashboard_url(g_dash));
    }
    rc = run(&o, &src, &s);
    if (!rc && !g_stop && s)
        mc_sender_flush(s); /* --frames/--duration: let the last frame out */
cleanup:
    mc_dashboard_destroy(g_dash); /* the open pages say mcshare stopped */
    g_dash = NULL;
    if (!rc && g_stop && !s)
        fprintf(stderr, "mcshare: stopped before broadcasting\n");
    mc_disco_announcer_destroy(g_announcer); /* the deletion: gone from the lists */
    g_announcer = NULL;
    int told = s != NULL;
    mc_sender_destroy(s); /* sends BYE: viewers show "broadcast ended" */
    uint64_t cap_frames, cap_rects;
    if (src.cap && mc_capture_stats(src.cap, &cap_frames, &cap_rects))
        fprintf(stderr, "mcshare: capture: %llu pictures copied; the compositor reported %llu "
                "changed rectangles with them\n", (unsigned long long)cap_frames,
                (unsigned long long)cap_rects);
    if (!rc && g_stop && told)
        fprintf(stderr, "mcshare: stopped; viewers were told the broadcast ended\n");
    else if (rc && told)
        fprintf(stderr, "mcshare: viewers were told the broadcast ended\n");
    mc_capture_destroy(src.cap);
    free(src.scaled);
    return rc;
}
