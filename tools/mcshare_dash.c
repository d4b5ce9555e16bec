/* mcshare's dashboard glue (tools/mcshare.h): the quality presets, the
 * part of the screen shown, the state the page gets, the browser. The HTTP
 * side is src/dashboard.c. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
#include <shellapi.h>
#else
#include <sys/wait.h>
#endif

#include "mc/cli.h"
#include "mc/codec.h"
#include "mc/common.h"
#include "mc/platform.h"
#include "mc/wire.h"
#include "mcshare.h"

/* Quality presets: the dashboard's choice, and --preset. fps 0 keeps
 * --fps; otherwise --fps is lowered to it. */
static const preset PRESETS[] = {
    {"sharp", "Sharp: text exact, photos JPEG 90, full colour", MC_CODEC_AUTO, 90, MC_SUBSAMP_444, 0},
    {"balanced", "Balanced (default)", MC_CODEC_AUTO, 75, MC_SUBSAMP_420, 0},
    {"light", "Light, for Wi-Fi: photos JPEG 50, at most 10 fps", MC_CODEC_AUTO, 50, MC_SUBSAMP_420, 10},
};
#define NPRESETS (int)(sizeof(PRESETS) / sizeof(PRESETS[0]))

const preset *mcshare_preset_find(const char *id)
{
    for (int i = 0; i < NPRESETS; i++)
        if (!strcmp(PRESETS[i].id, id))
            return &PRESETS[i];
    return NULL;
}

void mcshare_preset_apply(options *o, const preset *p)
{
    o->s.codec = p->codec;
    o->s.quality = p->quality;
    o->s.subsamp = p->subsamp;
    o->s.fps = p->fps && o->fps_asked > p->fps ? p->fps : o->fps_asked;
}

const char *mcshare_preset_now(const options *o)
{
    for (int i = 0; i < NPRESETS; i++) {
        const preset *p = &PRESETS[i];
        int fps = p->fps && o->fps_asked > p->fps ? p->fps : o->fps_asked;
        if (o->s.codec == p->codec && o->s.quality == p->quality && o->s.subsamp == p->subsamp &&
            o->s.fps == fps)
            return p->id;
    }
    return "custom";
}

/* Shows another part of the screen: a monitor (by name), or a region
 * (w = 0: the whole screen). The old capture stays when the new one cannot
 * open. 0, or -1 with msg set. */
static int set_region(options *o, source *src, const char *monitor, int x, int y, int w, int h,
                      char *msg, size_t cap)
{
    if (!src->screen) {
        snprintf(msg, cap, "the test pattern has no parts to choose");
        return -1;
    }
    mc_capture_config cc = {.backend = src->backend, .display = o->display, .x = x, .y = y,
                            .w = w, .h = h, .monitor = monitor, .cursor = o->cursor,
                            .no_damage = !o->damage};
    char why[512];
    mc_capture *c = NULL;
    if (mc_capture_create(&cc, &c, why, sizeof(why))) {
        snprintf(msg, cap, "cannot show that part: %.200s", why);
        return -1;
    }
    int cw, ch;
    mc_capture_size(c, &cw, &ch);
    int ow = o->ow ? o->ow : cw, oh = o->oh ? o->oh : ch;
    uint8_t *scaled = NULL;
    if (ow != cw || oh != ch) {
        scaled = malloc((size_t)ow * (size_t)oh * 4);
        if (!scaled) {
            mc_capture_destroy(c);
            snprintf(msg, cap, "out of memory");
            return -1;
        }
    }
    mc_capture_destroy(src->cap);
    free(src->scaled);
    src->cap = c;
    src->scaled = scaled;
    src->cw = cw;
    src->ch = ch;
    o->s.width = ow;
    o->s.height = oh;
    o->rx = x, o->ry = y, o->rw = w, o->rh = h;
    snprintf(o->monitor_name, sizeof(o->monitor_name), "%s", monitor ? monitor : "");
    return 0;
}

static void region_text(const options *o, char *out, size_t cap)
{
    if (o->rw)
        snprintf(out, cap, "%dx%d+%d+%d", o->rw, o->rh, o->rx, o->ry);
    else
        snprintf(out, cap, "full");
}

int mcshare_dash_commands(mc_dashboard *d, options *o, source *src, char *msg, size_t cap,
                          int *regrab)
{
    mc_dash_command cmd;
    int again = 0;
    while (d && mc_dashboard_next(d, &cmd)) {
        switch (cmd.action) {
        case MC_DASH_PAUSE:
            if (!o->paused)
                fprintf(stderr, "mcshare: paused from the dashboard: the students see a frozen "
                        "picture\n");
            o->paused = 1;
            snprintf(msg, cap, "Paused: the students see the picture as it was.");
            break;
        case MC_DASH_RESUME:
            if (o->paused)
                fprintf(stderr, "mcshare: resumed from the dashboard\n");
            o->paused = 0;
            snprintf(msg, cap, "Live again.");
            break;
        case MC_DASH_END:
            fprintf(stderr, "mcshare: ending the broadcast (asked from the dashboard)\n");
            again |= MCSHARE_END;
            break;
        case MC_DASH_PRESET: {
            const preset *p = mcshare_preset_find(cmd.value);
            if (!p) {
                snprintf(msg, cap, "No quality preset is called '%s'.", cmd.value);
                break;
            }
            if (!strcmp(mcshare_preset_now(o), p->id))
                break;
            mcshare_preset_apply(o, p);
            fprintf(stderr, "mcshare: quality preset '%s' from the dashboard: JPEG quality %d, "
                    "%s, %d fps\n", p->id, o->s.quality,
                    o->s.subsamp == MC_SUBSAMP_444 ? "4:4:4" : "4:2:0", o->s.fps);
            snprintf(msg, cap, "Quality: %s.", p->label);
            again |= MCSHARE_RESTART;
            *regrab = 1;
            break;
        }
        case MC_DASH_MONITOR:
        case MC_DASH_REGION: {
            int x = 0, y = 0, w = 0, h = 0, mon = -1;
            char mname[32] = "";
            if (cmd.action == MC_DASH_MONITOR) {
                mc_monitor m[16];
                int n = src->cap ? mc_capture_monitors(src->cap, m, 16) : 0;
                long i;
                if (mc_parse_long(cmd.value, 0, 15, &i) || i >= n) {
                    snprintf(msg, cap, "There is no monitor %s.", cmd.value);
                    break;
                }
                snprintf(mname, sizeof(mname), "%s", m[i].name);
                mon = (int)i;
            } else if (strcmp(cmd.value, "full") &&
                       mc_parse_region(cmd.value, MC_MAX_DIM, &w, &h, &x, &y)) {
                snprintf(msg, cap, "'%s' is not a part of the screen: write WxH+X+Y, "
                         "e.g. 1280x720+0+0.", cmd.value);
                break;
            }
            if (set_region(o, src, mon >= 0 ? mname : NULL, x, y, w, h, msg, cap))
                break;
            o->monitor = mon;
            char r[64];
            if (mon >= 0)
                snprintf(r, sizeof(r), "monitor %s", mname);
            else if (w)
                region_text(o, r, sizeof(r));
            else
                snprintf(r, sizeof(r), "the whole screen");
            fprintf(stderr, "mcshare: showing %s from the dashboard (%dx%d)\n", r, o->s.width,
                    o->s.height);
            snprintf(msg, cap, "Showing %s.", r);
            again |= MCSHARE_RESTART;
            *regrab = 1;
            break;
        }
        }
    }
    return again;
}

/* The state the dashboard shows, as JSON (the page: src/dashboard.html). */
void mcshare_dash_publish(mc_dashboard *d, const options *o, const source *src, mc_sender *s,
                          mc_sender_stats *prev, uint64_t dt_us, uint64_t start_us,
                          const char *msg)
{
    static mc_viewer_info v[4096];
    static char *buf;
    static size_t cap;
    mc_sender_stats st;
    mc_sender_get_stats(s, &st);
    int n = mc_sender_roster(s, v, 4096);
    size_t need = 16384 + (size_t)n * 512; /* 16 monitors' escaped names fit the base */
    if (need > cap) {
        char *nb = realloc(buf, need);
        if (!nb)
            return;
        buf = nb;
        cap = need;
    }
    double sec = dt_us ? (double)dt_us / 1e6 : 1, worst = -1;
    for (int i = 0; i < n; i++)
        if (v[i].report_age_s >= 0 && v[i].loss_pct > worst)
            worst = v[i].loss_pct;
    char where[96], desc[256], region[48], name[64] = "mcshare";
    snprintf(where, sizeof(where), "%s:%u", o->group, (unsigned)o->s.port);
    mc_capture_describe(src->cap, desc, sizeof(desc));
    region_text(o, region, sizeof(region));
    if (o->name)
        snprintf(name, sizeof(name), "%s", o->name);
    else if (mc_host_name(name, sizeof(name)))
        snprintf(name, sizeof(name), "mcshare");
    size_t l = 0;
#define ADD(...) l += (size_t)snprintf(buf + l, l < cap ? cap - l : 0, __VA_ARGS__)
#define STR(x) l = mc_json_string(buf, l, cap, (x))
    ADD("{\"name\":");
    STR(name);
    ADD(",\"group\":");
    STR(where);
    ADD(",\"source\":");
    STR(desc);
    ADD(",\"fingerprint\":");
    STR(o->fpr);
    ADD(",\"size\":\"%dx%d\",\"paused\":%s,\"preset\":\"%s\",\"region\":\"%s\",\"monitor\":%d,"
        "\"uptime_s\":%.0f,\"message\":",
        o->s.width, o->s.height, o->paused ? "true" : "false", mcshare_preset_now(o), region, o->monitor,
        (double)(mc_now_us() - start_us) / 1e6);
    STR(msg);
    ADD(",\"presets\":[");
    for (int i = 0; i < NPRESETS; i++) {
        ADD("%s{\"id\":\"%s\",\"label\":", i ? "," : "", PRESETS[i].id);
        STR(PRESETS[i].label);
        ADD("}");
    }
    ADD("],\"monitors\":[");
    mc_monitor m[16];
    int nm = src->screen ? mc_capture_monitors(src->cap, m, 16) : 0;
    for (int i = 0; i < nm; i++) {
        ADD("%s{\"name\":", i ? "," : "");
        STR(m[i].name);
        ADD(",\"geometry\":\"%dx%d+%d+%d\"}", m[i].w, m[i].h, m[i].x, m[i].y);
    }
    ADD("],\"stats\":{\"viewers\":%d,\"mbit\":%.3f,\"fps\":%.1f,\"fec\":%d,\"worst_loss\":",
        st.viewers, (double)(st.bytes - prev->bytes) * 8 / sec / 1e6,
        (double)(st.frames - prev->frames) / sec, st.fec_percent_now);
    if (worst >= 0)
        ADD("%.3f", worst);
    else
        ADD("null");
    ADD(",\"repairs\":%llu,\"keyframes\":%llu,\"sound_kbit\":%.1f},\"roster\":[",
        (unsigned long long)st.repairs_sent, (unsigned long long)st.keyframes_sent,
        (double)(st.audio_bytes - prev->audio_bytes) * 8 / sec / 1e3);
    for (int i = 0; i < n; i++) {
        const mc_viewer_info *e = &v[i];
        char behind[96] = "";
        if (e->report_age_s > 10)
            snprintf(behind, sizeof(behind), "no report for %.0f s", e->report_age_s);
        else if (e->report_age_s >= 0 && (long)e->tiles_held * 10 < (long)e->tiles_total * 9)
            snprintf(behind, sizeof(behind), "missing %d of %d tiles",
                     e->tiles_total - e->tiles_held, e->tiles_total);
        else if (e->report_age_s >= 0 && e->loss_pct >= 5)
            snprintf(behind, sizeof(behind), "losing %.1f %% of packets", e->loss_pct);
        else if (e->report_age_s >= 0 && e->lat_p95_ms > 500)
            snprintf(behind, sizeof(behind), "slow: %.0f ms", e->lat_p95_ms);
        ADD("%s{\"name\":", i ? "," : "");
        STR(e->name);
        ADD(",\"addr\":");
        STR(e->addr);
        ADD(",\"since_s\":%.0f,", e->connected_s);
        if (e->report_age_s >= 0)
            ADD("\"loss\":%.3f,\"tiles\":\"%d/%d\",\"p50\":%.1f,\"p95\":%.1f,", e->loss_pct,
                e->tiles_held, e->tiles_total, e->lat_p50_ms, e->lat_p95_ms);
        else
            ADD("\"loss\":null,\"tiles\":null,\"p50\":null,\"p95\":null,");
        ADD("\"refused\":%llu,\"behind\":", (unsigned long long)e->dropped);
        STR(behind);
        ADD("}");
    }
    ADD("]}");
#undef ADD
#undef STR
    if (l < cap) /* else cut short: the page keeps the previous state */
        mc_dashboard_publish(d, buf);
    *prev = st;
}

#ifdef _WIN32
void mcshare_open_browser(const char *url)
{
    /* The user's default browser, as a double-click on a link would. */
    if ((INT_PTR)ShellExecuteA(NULL, "open", url, NULL, NULL, SW_SHOWNORMAL) <= 32)
        fprintf(stderr, "mcshare: cannot open a browser: open the address above\n");
}
#else
void mcshare_open_browser(const char *url)
{
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!w || !*w)) {
        fprintf(stderr, "mcshare: no desktop session to open a browser in: open the address "
                "above\n");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) { /* the child starts the opener and leaves it to init */
        if (fork() == 0) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            execlp("xdg-open", "xdg-open", url, (char *)NULL);
            _exit(127);
        }
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}
#endif

