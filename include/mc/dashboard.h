/* The teacher's dashboard: a small web page that mcshare serves (HTTP by
 * libmicrohttpd) with the broadcast's state pushed live (Server-Sent
 * Events) and buttons that queue commands for mcshare's main loop.
 *
 * The module knows nothing of the sender: the host publishes a JSON text
 * of its state (mc_dashboard_publish) and takes the commands
 * (mc_dashboard_next). Every request must carry the random token that
 * is part of the printed address (?token=...); without it the answer is
 * 403 and nothing else. The page escapes what it shows (viewer names come
 * from the network). */
#ifndef MC_DASHBOARD_H
#define MC_DASHBOARD_H

#include <stddef.h>

typedef struct mc_dashboard mc_dashboard;

enum mc_dash_action {
    MC_DASH_PAUSE = 1, /* freeze the picture the viewers see */
    MC_DASH_RESUME,
    MC_DASH_END,       /* end the broadcast (as Ctrl-C) */
    MC_DASH_PRESET,    /* value: a quality preset's name */
    MC_DASH_REGION,    /* value: WxH+X+Y, or "full" for the whole screen */
    MC_DASH_MONITOR,   /* value: a monitor's index as the state lists them */
};

typedef struct {
    int action;      /* enum mc_dash_action */
    char value[64];  /* checked for length and characters, not for meaning */
} mc_dash_command;

/* Serves on listen_addr ("ADDR:PORT"; port 0 lets the system choose; NULL
 * = "127.0.0.1:0"). Returns 0 or an MC_E* / -errno code with *why set. */
int mc_dashboard_create(const char *listen_addr, mc_dashboard **out, char *why, size_t cap);

/* The page's address with its token, e.g. http://127.0.0.1:40123/?token=...
 * An address listening on every interface is shown as this host's name. */
const char *mc_dashboard_url(const mc_dashboard *d);

/* Replaces the state the page shows (a JSON object) and pushes it to every
 * open page. Call about once a second. */
void mc_dashboard_publish(mc_dashboard *d, const char *json);

/* Takes the oldest queued command: 1, or 0 when none is waiting. */
int mc_dashboard_next(mc_dashboard *d, mc_dash_command *cmd);

/* Requests answered, and of them refused for a missing or wrong token. */
void mc_dashboard_counts(const mc_dashboard *d, unsigned long *requests, unsigned long *refused);

/* Closes every page's event stream and stops serving. NULL is a no-op. */
void mc_dashboard_destroy(mc_dashboard *d);

/* Appends s to out as a JSON string (quotes and escapes included), never
 * past cap - 1; returns the new length. For the host's JSON. */
size_t mc_json_string(char *out, size_t len, size_t cap, const char *s);

#endif
