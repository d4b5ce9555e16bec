/* mcview: show an mcshare broadcast in a window (SDL2). */
#define _GNU_SOURCE
#define SDL_MAIN_HANDLED /* our own main, on Windows too */
#include <SDL.h>
#include <SDL_ttf.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc/cli.h"
#include "mc/common.h"
#include "mc/config.h"
#include "mc/status.h"
#include "mc/trust.h"
#include "picker.h"
#include "mc/net.h"
#include "mc/platform.h"
#include "mc/receiver.h"
#include "mc/wire.h"


/* Ctrl-C / SIGTERM / SIGHUP. Set explicitly: SDL leaves SIGINT alone when it was
 * ignored at start, as it is for background jobs of scripts. */
static volatile sig_atomic_t g_stop;
#define KIOSK_SILENT_US 10000000u /* --kiosk: no packet for this long closes the window */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct {
    char group[64];
    uint16_t port;
    const char *iface;
    int fullscreen, win_w, win_h, stats, no_control;
    const char *name;
    int no_audio, volume, mute, audio_ms, insecure;
    const char *trust, *known, *pass_file;
    int group_given, list, json, kiosk, kiosk_lock;
    const char *source; /* SSM: the sender's address */
    char relay[300];    /* fed by an mcrelay at HOST[:PORT] instead of the group */
    double list_s;
} options;

typedef struct {
    options o;
    mc_trust trust;
    mc_receiver *r;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    SDL_AudioDeviceID audio;
    uint32_t audio_latency_us;
    TTF_Font *font;
    uint32_t generation;
    int tex_w, tex_h;
    mc_status status;
    char stats_text[320], rate_text[192]; /* rates once a second; the line 5 times a second */
    mc_receiver_stats prev;
    uint64_t prev_us, stats_us, trust_failed_us;
} viewer;

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mcview [OPTIONS] [GROUP[:PORT]]\n"
"Watch an mcshare broadcast. Without GROUP, mcview lists the broadcasts\n"
"announced on this network (SAP) and joins the one chosen, or the only one.\n\n"
"  --list[=S]          print the broadcasts announced on this network, heard\n"
"                      in S seconds (default 2.5; they announce every 2 s)\n"
"  --json              with --list: one JSON object per broadcast\n"
"  --fullscreen        start full screen\n"
"  --window WxH        window size (default 1280x720)\n"
"  --iface ADDR|NAME   join on this interface (default: routing table)\n"
"  --stats             show the statistics line from the start\n"
"  --name NAME         name shown to the teacher (default: host name)\n"
"  --volume N          sound volume 0..100 (default 100)\n"
"  --mute              start with the sound off\n"
"  --no-audio          do not play the sound; the picture is then shown as soon\n"
"                      as it is decoded instead of in step with the sound\n"
"  --audio-buffer MS   jitter buffer target, %d..%d ms (default %d; it grows by\n"
"                      itself after an underrun)\n"
"  --trust FINGERPRINT show only a broadcast signed by this key (the teacher's\n"
"                      mcshare prints it); without it the first key seen on\n"
"                      the group is trusted and remembered (like ssh), and a\n"
"                      different key later is refused loudly\n"
"  --known-senders F   that memory (default ~/.config/mcshare/known_senders)\n"
"  --insecure          also show unsigned broadcasts (mcshare --no-sign)\n"
"  --passphrase-file F open a broadcast encrypted with the passphrase in F\n"
"  --kiosk             for a student PC's autostart: no window until the teacher\n"
"                      broadcasts on GROUP, then full screen; closed again when\n"
"                      the broadcast ends (or is silent for 10 s)\n"
"  --kiosk-lock        with --kiosk: Q, Esc and closing the window do nothing\n"
"                      while the picture shows (exams; see mcview(1) for limits)\n"
"  --no-control        do not use the sender's control channel (no repairs,\n"
"                      reports or clock sync; the picture still converges)\n"
"  --group GROUP[:PORT] the same as the argument (for configuration files)\n"
"  --config FILE        settings from FILE instead of /etc/mcshare/mcview.conf and\n"
"                       ~/.config/mcshare/mcview.conf (\"key = value\" lines; the\n"
"                       keys are these long options; the command line wins)\n"
"  -v, --verbose       more messages (-vv: debug)\n"
"  -h, --help, -V, --version\n\n"
"Keys: F full screen on/off, S statistics line on/off, + and - volume,\n"
"M mute, Q or Esc quits.\n", MC_AUDIO_MIN_MS, MC_AUDIO_MAX_MS, MC_AUDIO_TARGET_MS);
}

static const struct option LONGS[] = {
    {"group", 1, 0, 'G'}, {"config", 1, 0, 'c'}, {"kiosk", 0, 0, 'k'}, {"kiosk-lock", 0, 0, 'l'},
    {"source", 1, 0, 'S'},
    {"fullscreen", 0, 0, 'f'}, {"window", 1, 0, 'w'}, {"iface", 1, 0, 'i'},
    {"stats", 0, 0, 's'}, {"name", 1, 0, 'N'}, {"volume", 1, 0, 'o'}, {"mute", 0, 0, 'm'},
    {"no-audio", 0, 0, 'A'}, {"audio-buffer", 1, 0, 'B'}, {"no-control", 0, 0, 'C'}, {"trust", 1, 0, 'T'},
    {"known-senders", 1, 0, 'K'}, {"insecure", 0, 0, 'U'}, {"passphrase-file", 1, 0, 'F'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'},
    {"list", 2, 0, 'L'}, {"json", 0, 0, 'J'},
    {"version", 0, 0, 'V'}, {0, 0, 0, 0}};

static int parse_args(int argc, char **argv, options *o)
{

    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "vhV", LONGS, NULL)) != -1) {
        switch (c) {
        case 'f': o->fullscreen = 1; break;
        case 'w':
            if (mc_parse_size(optarg, 16384, &o->win_w, &o->win_h)) {
                fprintf(stderr, "mcview: invalid --window '%s': expected WxH, e.g. 1280x720\n", optarg);
                return 2;
            }
            break;
        case 'i': o->iface = optarg; break;
        case 's': o->stats = 1; break;
        case 'N': o->name = optarg; break;
        case 'C': o->no_control = 1; break;
        case 'T': o->trust = optarg; break;
        case 'K': o->known = optarg; break;
        case 'U': o->insecure = 1; break;
        case 'F': o->pass_file = optarg; break;
        case 'G':
            if (mc_parse_endpoint(optarg, o->group, sizeof(o->group), &o->port)) {
                fprintf(stderr, "mcview: invalid --group '%s': not a multicast GROUP[:PORT]\n", optarg);
                return 2;
            }
            o->group_given = 1;
            break;
        case 'c': break; /* --config: read before parsing (mc/config.h) */
        case 'k': o->kiosk = 1; o->fullscreen = 1; break;
        case 'S': {
            struct in_addr a;
            if (inet_pton(AF_INET, optarg, &a) != 1) {
                fprintf(stderr, "mcview: invalid --source '%s': the sender's IPv4 address\n", optarg);
                return 2;
            }
            o->source = optarg;
            break;
        }
        case 'l': o->kiosk_lock = 1; break;
        case 'L':
            o->list = 1;
            o->list_s = 2.5;
            if (optarg && mc_parse_double(optarg, 0.5, 3600, &o->list_s)) {
                fprintf(stderr, "mcview: invalid --list '%s': must be 0.5..3600 seconds\n", optarg);
                return 2;
            }
            break;
        case 'J': o->json = 1; break;
        case 'o': {
            long n;
            if (mc_parse_long(optarg, 0, 100, &n)) {
                fprintf(stderr, "mcview: invalid --volume '%s': must be 0..100\n", optarg);
                return 2;
            }
            o->volume = (int)n;
            break;
        }
        case 'm': o->mute = 1; break;
        case 'A': o->no_audio = 1; break;
        case 'B': {
            long n;
            if (mc_parse_long(optarg, MC_AUDIO_MIN_MS, MC_AUDIO_MAX_MS, &n)) {
                fprintf(stderr, "mcview: invalid --audio-buffer '%s': must be %d..%d ms\n", optarg,
                        MC_AUDIO_MIN_MS, MC_AUDIO_MAX_MS);
                return 2;
            }
            o->audio_ms = (int)n;
            break;
        }
        case 'v': mc_log_level++; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("mcview %s (wire version %d)\n", MC_VERSION_STRING, MC_WIRE_VERSION); return -1;
        default:
            return mc_cli_unknown("mcview", argv[optind - 1]);
        }
    }
    if (mc_cli_endpoint("mcview", argc, argv, optind, o->group, sizeof(o->group), &o->port,
                        o->relay, sizeof(o->relay)))
        return 2;
    o->group_given |= optind < argc;
    if (o->kiosk_lock && !o->kiosk) {
        fprintf(stderr, "mcview: --kiosk-lock goes with --kiosk\nTry 'mcview --help'.\n");
        return 2;
    }
    if (o->kiosk && !o->group_given) {
        fprintf(stderr, "mcview: --kiosk needs the teacher's group: mcview --kiosk GROUP, or "
                "'group = GROUP' in /etc/mcshare/mcview.conf\n");
        return 2;
    }
    if (o->json && !o->list) {
        fprintf(stderr, "mcview: --json goes with --list\nTry 'mcview --help'.\n");
        return 2;
    }
    return 0;
}

static TTF_Font *open_font(int size)
{
    /* Beside the program first (the Windows zip carries DejaVuSans.ttf),
     * then where the systems keep fonts. */
    char *base = SDL_GetBasePath();
    if (base) {
        char path[4096];
        snprintf(path, sizeof(path), "%sDejaVuSans.ttf", base);
        SDL_free(base);
        TTF_Font *f = TTF_OpenFont(path, size);
        if (f)
            return f;
    }
    static const char *paths[] = {
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
#ifdef _WIN32
        "C:\\Windows\\Fonts\\segoeui.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
#endif
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        TTF_Font *f = TTF_OpenFont(paths[i], size);
        if (f)
            return f;
    }
    return NULL;
}

/* Draws one line of text on a dark band at vertical position y (or centred
 * when y < 0). Without a font, the window title carries the message. */
static void draw_text(viewer *v, const char *text, int y)
{
    if (!v->font || !*text)
        return;
    SDL_Color fg = {235, 235, 235, 255};
    SDL_Surface *s = TTF_RenderUTF8_Blended(v->font, text, fg);
    if (!s)
        return;
    SDL_Texture *t = SDL_CreateTextureFromSurface(v->ren, s);
    int ow, oh;
    SDL_GetRendererOutputSize(v->ren, &ow, &oh);
    /* y: a pixel row, or -1 the middle, -2 the bottom. */
    SDL_Rect band = {0, y == -1 ? (oh - s->h) / 2 - 8 : y == -2 ? oh - s->h - 16 : y, ow,
                     s->h + 16};
    SDL_Rect dst = {(ow - s->w) / 2, band.y + 8, s->w, s->h};
    SDL_SetRenderDrawBlendMode(v->ren, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(v->ren, 0, 0, 0, 170);
    SDL_RenderFillRect(v->ren, &band);
    if (t) {
        SDL_RenderCopy(v->ren, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    SDL_FreeSurface(s);
}

/* Copies the tiles that changed into the texture; recreates the texture
 * when the session's geometry changed. Returns 1 if anything changed. */
static int upload(viewer *v, int *state)
{
    mc_picture pic;
    int changed = 0;
    mc_receiver_lock_picture(v->r, &pic);
    *state = pic.state;
    if (pic.pixels && (pic.generation != v->generation || !v->tex)) {
        if (v->tex)
            SDL_DestroyTexture(v->tex);
        v->tex = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                                   pic.width, pic.height);
        v->tex_w = pic.width;
        v->tex_h = pic.height;
        v->generation = pic.generation;
        memset(pic.dirty, 1, (size_t)pic.cols * pic.rows);
        changed = 1;
    }
    for (int t = 0; v->tex && pic.pixels && t < pic.cols * pic.rows; t++) {
        if (!pic.dirty[t])
            continue;
        int x = t % pic.cols * pic.tile, y = t / pic.cols * pic.tile;
        SDL_Rect rc = {x, y, pic.width - x < pic.tile ? pic.width - x : pic.tile,
                       pic.height - y < pic.tile ? pic.height - y : pic.tile};
        SDL_UpdateTexture(v->tex, &rc, pic.pixels + (size_t)y * pic.pitch + (size_t)x * 4,
                          pic.pitch);
        pic.dirty[t] = 0;
        changed = 1;
    }
    mc_receiver_unlock_picture(v->r);
    return changed;
}

/* The stats sort latency samples and scan every tile: 5 times a second is
 * plenty for an overlay and a "no signal" check, not every 10 ms loop. */
static void update_stats(viewer *v, mc_receiver_stats *st)
{
    uint64_t now = mc_now_us();
    if (now - v->stats_us < 200000u)
        return;
    v->stats_us = now;
    mc_receiver_get_stats(v->r, st);
    if (st->auth_on) {
        int before = v->trust.saved;
        mc_trust_update(&v->trust, &st->auth, "mcview");
        if (before == 0 && v->trust.saved < 0)
            v->trust_failed_us = now; /* said on screen for a while, not only in the terminal */
    }
    if (now - v->prev_us >= 1000000u) {
        double dt = (double)(now - v->prev_us) / 1e6;
        long long lost = (long long)st->expected - (long long)st->received;
        double loss = st->expected ? 100.0 * (double)(lost > 0 ? lost : 0) / (double)st->expected : 0;
        snprintf(v->rate_text, sizeof(v->rate_text),
                 "%dx%d  %.1f fps  %.2f Mbit/s  loss %.2f%%  latency %.1f ms  tiles %d/%d",
                 st->width, st->height, (double)(st->frames_decoded - v->prev.frames_decoded) / dt,
                 (double)(st->bytes - v->prev.bytes) * 8 / dt / 1e6, loss, st->lat_decoded_ms[0],
                 st->tiles_held, st->tiles);
        v->prev = *st;
        v->prev_us = now;
    }
    char sound[96] = "  sound: off";
    if (v->audio && st->audio_packets) {
        if (st->muted)
            snprintf(sound, sizeof(sound), "  sound: muted");
        else
            snprintf(sound, sizeof(sound), "  sound: %d%%  %.0f ms buffer", st->volume,
                     st->audio.level_ms);
    } else if (v->audio) {
        snprintf(sound, sizeof(sound), "  sound: none sent%s", st->muted ? " (muted)" : "");
    }
    snprintf(v->stats_text, sizeof(v->stats_text), "%s%s", v->rate_text, sound);
}

static void render(viewer *v, int state, const mc_receiver_stats *st)
{
    SDL_SetRenderDrawColor(v->ren, 0, 0, 0, 255);
    SDL_RenderClear(v->ren);
    int ow, oh;
    SDL_GetRendererOutputSize(v->ren, &ow, &oh);
    if (v->tex && state != MC_RX_WAITING) {
        /* Scale to fit, keeping the aspect ratio (letterbox). */
        double s = (double)ow / v->tex_w < (double)oh / v->tex_h ? (double)ow / v->tex_w
                                                                : (double)oh / v->tex_h;
        SDL_Rect dst = {0, 0, (int)(v->tex_w * s + 0.5), (int)(v->tex_h * s + 0.5)};
        dst.x = (ow - dst.w) / 2;
        dst.y = (oh - dst.h) / 2;
        SDL_RenderCopy(v->ren, v->tex, NULL, &dst);
    }
    char msg[256];
    mc_status_update(&v->status, st, mc_now_us());
    mc_status_text(&v->status, st, v->o.group, v->o.port, mc_now_us(), msg, sizeof(msg));
    draw_text(v, msg, -1);
    if (v->trust.saved < 0 && mc_now_us() - v->trust_failed_us < 30000000u)
        draw_text(v, "This computer could not remember the teacher's key: next time any key will "
                  "be trusted as new (see the terminal)", -2);
    if (v->o.stats)
        draw_text(v, v->stats_text, 0);
    SDL_RenderPresent(v->ren);

    static char title[400];
    char want[400];
    snprintf(want, sizeof(want), "mcview %s:%u — %s", v->o.group, (unsigned)v->o.port,
             msg[0] ? msg : "live");
    if (strcmp(want, title)) {
        snprintf(title, sizeof(title), "%s", want);
        SDL_SetWindowTitle(v->win, title);
    }
}

/* Handles pending window events; returns 0 when the user quits. */
static int handle_events(viewer *v, int *redraw)
{
    SDL_Event e;
    /* --kiosk-lock: a student cannot close the picture from its window
     * (the limits are in mcview(1)). */
    int locked = v->o.kiosk_lock && v->win;
    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT && !locked)
            return 0;
        if (e.type == SDL_WINDOWEVENT)
            *redraw = 1;
        if (e.type != SDL_KEYDOWN)
            continue;
        switch (e.key.keysym.sym) {
        case SDLK_q:
        case SDLK_ESCAPE:
            if (locked)
                break;
            return 0;
        case SDLK_f:
            if (v->o.kiosk)
                break; /* a kiosk stays full screen */
            v->o.fullscreen = !v->o.fullscreen;
            SDL_SetWindowFullscreen(v->win, v->o.fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
            *redraw = 1;
            break;
        case SDLK_s:
            v->o.stats = !v->o.stats;
            *redraw = 1;
            break;
        case SDLK_PLUS:
        case SDLK_EQUALS: /* '+' without shift on most layouts */
        case SDLK_KP_PLUS:
        case SDLK_MINUS:
        case SDLK_KP_MINUS:
        case SDLK_m: {
            SDL_Keycode k = e.key.keysym.sym;
            if (k == SDLK_m)
                v->o.mute = !v->o.mute;
            else
                v->o.volume += k == SDLK_MINUS || k == SDLK_KP_MINUS ? -10 : 10;
            v->o.volume = v->o.volume < 0 ? 0 : v->o.volume > 100 ? 100 : v->o.volume;
            mc_receiver_set_volume(v->r, v->o.volume, v->o.mute);
            v->stats_us = 0; /* show the new sound state at once */
            *redraw = 1;
            break;
        }
        default:
            break;
        }
    }
    return 1;
}

/* A GPU the system can render with: a DRM render node (Linux). */
static int has_render_node(void)
{
    char path[64];
    for (int i = 128; i < 136; i++) {
        snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
        if (access(path, R_OK | W_OK) == 0)
            return 1;
    }
    return 0;
}

static int create_window(viewer *v);

static int open_window(viewer *v)
{
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "mcview: cannot open a window: %s\n"
                "mcview: (no display? use mcprobe to receive without a window)\n", SDL_GetError());
        return 1;
    }
    /* With no display SDL may fall back to its offscreen or KMS/DRM driver;
     * a window nobody can see is not what a student asked for. An explicit
     * SDL_VIDEODRIVER is respected. */
    const char *drv = SDL_GetCurrentVideoDriver();
    mc_log(1, "mcview: SDL video driver %s", drv ? drv : "(none)");
    if (!getenv("SDL_VIDEODRIVER") && drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy") ||
                                              !strcmp(drv, "evdev"))) {
        fprintf(stderr, "mcview: cannot open a window: no display (SDL chose '%s').\n"
                "mcview: set DISPLAY, or use mcprobe to receive without a window\n", drv);
        return 1;
    }
    if (TTF_Init() == 0 && !(v->font = open_font(22)))
        mc_log(0, "mcview: no DejaVuSans font found; status messages go to the window title");
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    /* Without a GPU (no DRM render node), SDL's OpenGL renderer runs on
     * Mesa's software rasterizer: 60 MB of LLVM in memory and more CPU
     * than SDL's own software renderer, which only copies the changed
     * tiles and scales. SDL_RENDER_DRIVER in the environment still wins. */
    if (!getenv("SDL_RENDER_DRIVER") && !has_render_node()) {
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0"); /* the window surface too */
    }
    return v->o.kiosk ? 0 : create_window(v); /* a kiosk shows its window only when live */
}

static int create_window(viewer *v)
{
    Uint32 flags = SDL_WINDOW_RESIZABLE | (v->o.fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    int x = SDL_WINDOWPOS_CENTERED, y = SDL_WINDOWPOS_CENTERED;
    SDL_Rect desk;
    if (v->o.fullscreen && SDL_GetDisplayBounds(0, &desk) == 0) {
        /* Start with the screen's own size and place: without a window
         * manager (kiosk set-ups, Xvfb) the fullscreen request alone may
         * not resize the window. */
        x = desk.x;
        y = desk.y;
        v->o.win_w = desk.w;
        v->o.win_h = desk.h;
    }
    v->win = SDL_CreateWindow("mcview", x, y, v->o.win_w, v->o.win_h, flags);
    if (v->win)
        v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (v->win && !v->ren)
        v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    if (!v->win || !v->ren) {
        fprintf(stderr, "mcview: cannot create the window: %s\n", SDL_GetError());
        return 1;
    }
    SDL_ShowCursor(v->o.fullscreen ? SDL_DISABLE : SDL_ENABLE);
    return 0;
}

/* The window goes; the picture stays with the receiver (the next window
 * gets all of it: a new texture marks every tile to upload). */
static void destroy_window(viewer *v)
{
    if (v->tex)
        SDL_DestroyTexture(v->tex);
    if (v->ren)
        SDL_DestroyRenderer(v->ren);
    if (v->win)
        SDL_DestroyWindow(v->win);
    v->tex = NULL;
    v->ren = NULL;
    v->win = NULL;
}

static void close_window(viewer *v)
{
    destroy_window(v);
    if (v->font)
        TTF_CloseFont(v->font);
    v->font = NULL;
    TTF_Quit();
    SDL_Quit();
}

static void SDLCALL on_audio(void *ctx, Uint8 *stream, int len)
{
    viewer *v = ctx;
    mc_receiver_audio_pull(v->r, (int16_t *)(void *)stream, len / 4, v->audio_latency_us);
}

/* Opens the sound output (48 kHz stereo, 10 ms buffers). Without one the
 * picture still plays, shown as soon as it is decoded. */
static void open_audio(viewer *v)
{
    if (v->o.no_audio)
        return;
    if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
        fprintf(stderr, "mcview: no sound output (%s); showing the picture only\n", SDL_GetError());
        return;
    }
    SDL_AudioSpec want = {.freq = MC_AUDIO_RATE, .format = AUDIO_S16SYS, .channels = 2,
                          .samples = 480, .callback = on_audio, .userdata = v},
                  have;
    v->audio = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0);
    if (!v->audio) {
        fprintf(stderr, "mcview: cannot open the sound output (%s); showing the picture only\n",
                SDL_GetError());
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        return;
    }
    /* A buffer handed over now is heard after the one being played; the
     * disk driver (tests) writes it out at once. */
    const char *drv = SDL_GetCurrentAudioDriver();
    v->audio_latency_us = drv && !strcmp(drv, "disk") ? 0 : (uint32_t)have.samples * 1000000u / (uint32_t)have.freq;
    mc_log(1, "mcview: sound output: %s, %d Hz, %d samples per buffer", drv ? drv : "?", have.freq,
           have.samples);
}

int main(int argc, char **argv)
{
    SDL_SetMainReady();
    viewer v = {.o = {.group = MC_DEFAULT_GROUP, .port = MC_DEFAULT_PORT, .win_w = 1280,
                      .win_h = 720, .volume = 100}};
    /* The admins' files first, then the command line (which wins). The
     * settings live as long as the program: options point into them. */
    static mc_config cf;
    if (mc_config_load(&cf, "mcview", LONGS, argc, argv)) {
        fprintf(stderr, "mcview: %s\n", cf.error);
        return 2;
    }
    int rc = parse_args(cf.argc, cf.argv, &v.o);
    if (rc > 0 && mc_config_origin(&cf, optind - 1))
        fprintf(stderr, "mcview: (that setting is in %s)\n", mc_config_origin(&cf, optind - 1));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (v.o.list)
        return mc_pick_list(v.o.iface, v.o.known, v.o.json, v.o.list_s);
    if (mc_cli_iface("mcview", v.o.iface))
        return 1;
    mc_cli_on_stop(on_signal);
    rc = open_window(&v);
    char typed[256] = "";
    if (!rc && !v.o.group_given) {
        mc_disco_entry pick;
        int r = mc_pick(v.win, v.ren, v.font, v.o.iface, v.o.known, &g_stop, &pick, typed,
                        sizeof(typed));
        if (r <= 0) {
            close_window(&v);
            return r < 0 ? 1 : 0;
        }
        snprintf(v.o.group, sizeof(v.o.group), "%s", pick.group);
        v.o.port = pick.port;
        static char origin[16];
        if (!v.o.source && (ntohl(inet_addr(pick.group)) >> 24) == 232) {
            snprintf(origin, sizeof(origin), "%s", pick.origin); /* SSM: join its source */
            v.o.source = origin;
        }
        char f[MC_FPR_CHARS];
        mc_fpr_format(pick.fpr, f);
        fprintf(stderr, "mcview: joining '%s' on %s:%u (announced by key %s)\n", pick.name,
                v.o.group, (unsigned)v.o.port, f);
    }
    mc_receiver_config cfg;
    mc_receiver_config_default(&cfg);
    cfg.group = v.o.group;
    cfg.port = v.o.port;
    cfg.iface = v.o.iface;
    cfg.source = v.o.source;
    if (v.o.relay[0]) {
        cfg.relay = v.o.relay;
        cfg.ctrl = 0;
        snprintf(v.o.group, sizeof(v.o.group), "%.63s", v.o.relay); /* names it on screen */
    }
    cfg.ctrl = !v.o.no_control;
    cfg.name = v.o.name;
    cfg.volume = v.o.volume;
    cfg.mute = v.o.mute;
    cfg.audio_target_ms = v.o.audio_ms;
    char tgroup[320]; /* through a relay, the teacher's key is remembered under its name */
    snprintf(tgroup, sizeof(tgroup), "%s%s%s", v.o.relay[0] ? "relay:" : "", v.o.relay[0] ? v.o.relay : v.o.group,
             v.o.relay[0] && !strchr(v.o.relay, ':') ? ":5006" : "");
    int terr = mc_trust_init(&v.trust, tgroup, v.o.port, v.o.trust, v.o.known);
    if (terr) {
        fprintf(stderr, "mcview: %s\n", v.trust.error);
        close_window(&v);
        return terr == MC_EINVAL ? 2 : 1;
    }
    cfg.require_signed = !v.o.insecure;
    uint8_t seal_key[MC_SEAL_KEY];
    if (v.o.pass_file) {
        if (mc_seal_key_from_file("mcview", v.o.pass_file, v.o.group, v.o.port, seal_key)) {
            close_window(&v);
            return 1;
        }
        cfg.seal_key = seal_key;
    } else if (typed[0]) {
        int err = mc_seal_derive(typed, strlen(typed), v.o.group, v.o.port, seal_key);
        memset(typed, 0, sizeof(typed));
        if (err) {
            fprintf(stderr, "mcview: cannot derive a key from the passphrase: %s\n", mc_strerror(err));
            close_window(&v);
            return 1;
        }
        cfg.seal_key = seal_key;
    }
    cfg.trust_fpr = mc_trust_fpr(&v.trust);
    if (!rc)
        open_audio(&v);
    cfg.audio = v.audio ? MC_AUDIO_OUT_APP : MC_AUDIO_OUT_NONE;
    int err = rc ? 0 : mc_receiver_create(&cfg, &v.r);
    if (err) {
        fprintf(stderr, "mcview: cannot join %s:%u: %s\n", v.o.group, (unsigned)v.o.port,
                mc_strerror(err));
        return 1;
    }
    if (v.audio)
        SDL_PauseAudioDevice(v.audio, 0);
    int last_state = -1;
    uint64_t last_draw = 0;
    mc_receiver_stats st = {0};
    while (!rc && !g_stop) {
        int redraw = 0, state;
        if (!handle_events(&v, &redraw))
            break;
        mc_receiver_wait(v.r, 10); /* wakes as soon as a frame is decoded */
        update_stats(&v, &st);
        if (v.o.kiosk) { /* the window only while the teacher broadcasts */
            int show = st.state == MC_RX_LIVE && mc_now_us() - st.last_packet_us < KIOSK_SILENT_US;
            if (show && !v.win) {
                if (create_window(&v)) {
                    rc = 1;
                    break;
                }
                mc_log(0, "mcview: the broadcast started: showing it");
                last_state = -1;
            } else if (!show && v.win) {
                destroy_window(&v);
                mc_log(0, "mcview: the broadcast %s: window closed until it comes back",
                       st.state == MC_RX_ENDED ? "ended" : "stopped without a word");
            }
            if (!v.win)
                continue;
        }
        redraw |= upload(&v, &state);
        uint64_t now = mc_now_us();
        /* Redraw on change, and at least twice a second for the overlays. */
        if (redraw || state != last_state || now - last_draw > 500000u) {
            render(&v, state, &st);
            last_state = state;
            last_draw = now;
        }
    }
    if (v.audio)
        SDL_CloseAudioDevice(v.audio); /* no callback into the receiver after this */
    mc_receiver_destroy(v.r);
    close_window(&v);
    return rc;
}
