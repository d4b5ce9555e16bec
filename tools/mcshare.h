/* mcshare's parts shared between its files: the options, the source, and
 * the dashboard glue (tools/mcshare_dash.c: the quality presets, choosing
 * what part of the screen is shown, the state the page gets). */
#ifndef MCSHARE_TOOL_H
#define MCSHARE_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "mc/audio.h"
#include "mc/auth.h"
#include "mc/capture.h"
#include "mc/dashboard.h"
#include "mc/sender.h"

typedef struct {
    mc_sender_config s;
    char group[64];
    const char *display, *source;
    int rx, ry, rw, rh; /* --region */
    int ow, oh;         /* --size */
    int cursor, damage, roster;
    long ctrl_port; /* -1: data port + 1 */
    long frames;        /* stop after this many frames (0 = run until signalled) */
    mc_audio_config audio;
    double duration_s;
    const char *key_file, *pass_file;
    int no_sign, force, no_announce;
    const char *name;
    uint8_t seal_key[MC_SEAL_KEY];
    mc_signing_key key;
    int dashboard;           /* --dashboard: serve the page and open it */
    const char *dash_listen; /* --dashboard-listen ADDR:PORT */
    int fps_asked;           /* --fps as given (a preset may lower it) */
    int paused;              /* the dashboard froze the picture */
    int monitor;             /* the monitor shown (index), -1: none chosen */
    const char *monitor_arg; /* --monitor N|NAME */
    char monitor_name[32];   /* the monitor shown, by name ("" = none) */
    int list_monitors;       /* --list-monitors */
    char fpr[MC_FPR_CHARS];
} options;

typedef struct {
    mc_capture *cap;
    const char *backend;
    int cw, ch;        /* source size */
    int screen;        /* a real screen (not a test pattern) */
    uint8_t *scaled;   /* --size output */
} source;

typedef struct {
    const char *id, *label;
    int codec, quality, subsamp, fps;
} preset;

/* The preset called id, or NULL. */
const preset *mcshare_preset_find(const char *id);
/* Sets o's codec, quality, subsampling and frame rate from p. */
void mcshare_preset_apply(options *o, const preset *p);
/* The preset the settings match, or "custom". */
const char *mcshare_preset_now(const options *o);

enum { MCSHARE_RESTART = 1, MCSHARE_END = 2 };
/* Carries out the dashboard's commands: 0, or MCSHARE_RESTART (start the
 * broadcast again with the new settings; *regrab = 1: grab the picture
 * anew, also while paused) and/or MCSHARE_END. *msg: what the page shows. */
int mcshare_dash_commands(mc_dashboard *d, options *o, source *src, char *msg, size_t cap,
                          int *regrab);
/* Publishes the state (stats over dt_us, against *prev, which it updates). */
void mcshare_dash_publish(mc_dashboard *d, const options *o, const source *src, mc_sender *s,
                          mc_sender_stats *prev, uint64_t dt_us, uint64_t start_us,
                          const char *msg);
/* Opens url in the desktop's default browser (xdg-open), without waiting. */
void mcshare_open_browser(const char *url);

#endif
