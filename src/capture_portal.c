/* The ScreenCast portal capture backend (mc/capture.h): any Wayland
 * desktop with an xdg-desktop-portal backend (GNOME, KDE, wlroots with
 * xdg-desktop-portal-wlr) hands us a PipeWire stream of the screen the
 * teacher chose in its dialog.
 *
 * The portal, over the session bus (sd-bus): CreateSession, SelectSources
 * (a monitor; the pointer as metadata where offered, so --cursor works;
 * persist_mode 2 with the restore token of the last run, so the dialog
 * shows once), Start (the dialog), OpenPipeWireRemote. Each request answers
 * later with a Response signal on its own object path, which we subscribe
 * to before asking.
 *
 * PipeWire, on its own thread (pw_thread_loop): a video stream of the
 * node Start named, in shared-memory buffers (MemFd or MemPtr, never
 * DMA-BUF: no GPU needed), with the damage rectangles and the pointer as
 * metadata. Each buffer's damaged rectangles are copied into our picture
 * (the whole picture when the compositor lists none: mutter before 44);
 * the sender's own tile comparison stays behind it. The pointer is drawn
 * into the copy handed out, so the picture itself stays clean. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>
#include <systemd/sd-bus.h>

#include "capture_internal.h"
#include "mc/capture.h"
#include "mc/common.h"
#include "mc/files.h"
#include "mc/platform.h"
#include "mc/scale.h"

#define DESKTOP "org.freedesktop.portal.Desktop"
#define DESKTOP_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST "org.freedesktop.portal.ScreenCast"
#define CURSOR_MAX 256 /* the largest pointer bitmap we take, per side */
#define DIALOG_WAIT_US (300u * 1000000u) /* the teacher's time to choose */
#define FIRST_FRAME_US (5u * 1000000u)

enum { CURSOR_HIDDEN = 1, CURSOR_EMBEDDED = 2, CURSOR_METADATA = 4 };

typedef struct {
    sd_bus *bus;
    char sender[64];          /* our unique name as the portal spells it in paths */
    char session[256];        /* the session's object path */
    unsigned token;
    sd_bus_message *response; /* the Response of the request in flight */
    int responded;
    int portal_version;
    int cursor_mode;          /* granted: CURSOR_* */
    uint32_t node;
    char restore_path[512];

    struct pw_thread_loop *loop;
    struct pw_context *ctx;
    struct pw_core *core;
    struct spa_hook core_listener;
    struct pw_stream *stream;
    struct spa_hook stream_listener;

    /* Shared with the PipeWire thread, under lock. */
    mc_mutex lock;
    mc_cond cond;
    int w, h;                 /* the picture (the first format's size) */
    int fw, fh;               /* the stream's current size */
    uint32_t format;          /* SPA_VIDEO_FORMAT_* */
    uint8_t *pic;             /* the screen, without the pointer */
    uint8_t *stage;           /* a stream of another size, before scaling */
    int pic_dirty, dy0, dy1;  /* rows changed since the last grab */
    int got_first;
    uint64_t last_seq;        /* the last buffer's sequence number */
    int have_seq;
    int cur_on, cur_x, cur_y, cur_w, cur_h, cur_dirty;
    uint8_t *cur;             /* the pointer, straight BGRA, cur_w x cur_h */
    int closed;               /* the session or the stream ended */
    char closed_why[160];
    uint64_t frames, rects;

    /* The grab thread's own. */
    uint8_t *out;             /* handed out: the picture with the pointer */
    int drawn_x, drawn_y, drawn_w, drawn_h, drawn; /* where the pointer was drawn */
    int want_cursor;
    char name[96];
} portal_cap;

static void portal_close(void *state);

/* ---- the portal over D-Bus ---------------------------------------------- */

static int on_response(sd_bus_message *m, void *data, sd_bus_error *err)
{
    portal_cap *c = data;
    (void)err;
    if (!c->response)
        c->response = sd_bus_message_ref(m);
    c->responded = 1;
    return 0;
}

static int on_session_closed(sd_bus_message *m, void *data, sd_bus_error *err)
{
    portal_cap *c = data;
    (void)m, (void)err;
    mc_mutex_lock(&c->lock);
    if (!c->closed)
        snprintf(c->closed_why, sizeof(c->closed_why),
                 "the desktop ended the screen sharing (the portal closed the session)");
    c->closed = 1;
    mc_cond_broadcast(&c->cond);
    mc_mutex_unlock(&c->lock);
    return 0;
}

/* Appends {"key": <value>} entries to an open a{sv}. */
static int dict_u(sd_bus_message *m, const char *k, uint32_t v)
{
    return sd_bus_message_append(m, "{sv}", k, "u", v);
}
static int dict_s(sd_bus_message *m, const char *k, const char *v)
{
    return sd_bus_message_append(m, "{sv}", k, "s", v);
}

/* Moves the message to the value of `key` in the a{sv} at its read
 * position, inside the variant, for the caller to read (the message is
 * not read further). 1 found, 0 not there, < 0 malformed. */
static int find_key(sd_bus_message *m, const char *key, const char *contents)
{
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r <= 0)
        return r < 0 ? r : 0;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *k;
        if ((r = sd_bus_message_read(m, "s", &k)) < 0)
            return r;
        if (!strcmp(k, key)) {
            if (sd_bus_message_enter_container(m, 'v', contents) > 0)
                return 1;
            return -EBADMSG; /* the right key with the wrong type */
        }
        if ((r = sd_bus_message_skip(m, "v")) < 0 ||
            (r = sd_bus_message_exit_container(m)) < 0)
            return r;
    }
    return r < 0 ? r : 0;
}

static void next_token(portal_cap *c, char *tok, size_t cap, char *path, size_t pcap)
{
    snprintf(tok, cap, "mcshare%u_%u", (unsigned)getpid(), ++c->token);
    snprintf(path, pcap, DESKTOP_PATH "/request/%s/%s", c->sender, tok);
}

/* Sends a request (the method call m, whose options dict is still open and
 * gets the handle_token here) and waits for its Response. Returns the
 * response code (0 granted, 1 cancelled, 2 other) or < 0; the results are
 * in c->response, positioned at the a{sv}. */
static int request(portal_cap *c, sd_bus_message *m, uint64_t wait_us, char *why, size_t cap)
{
    char tok[64], path[256];
    next_token(c, tok, sizeof(tok), path, sizeof(path));
    sd_bus_slot *slot = NULL;
    int r = sd_bus_match_signal(c->bus, &slot, DESKTOP, path, "org.freedesktop.portal.Request",
                                "Response", on_response, c);
    if (r >= 0 && (r = dict_s(m, "handle_token", tok)) >= 0)
        r = sd_bus_message_close_container(m);
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    if (r >= 0)
        r = sd_bus_call(c->bus, m, 10 * 1000000u, &err, &reply);
    if (r < 0) {
        snprintf(why, cap, "the ScreenCast portal refused %s: %s",
                 sd_bus_message_get_member(m), err.message ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        sd_bus_slot_unref(slot);
        return r;
    }
    sd_bus_message_unref(reply);
    c->responded = 0;
    uint64_t end = mc_now_us() + wait_us;
    while (!c->responded) {
        r = sd_bus_process(c->bus, NULL);
        if (r > 0)
            continue;
        uint64_t now = mc_now_us();
        if (r < 0 || now >= end) {
            snprintf(why, cap, "%s: %s", sd_bus_message_get_member(m),
                     r < 0 ? "the session bus went away" : "no answer from the portal in time");
            sd_bus_slot_unref(slot);
            return r < 0 ? r : -ETIMEDOUT;
        }
        sd_bus_wait(c->bus, end - now);
    }
    sd_bus_slot_unref(slot);
    uint32_t code = 2;
    if (sd_bus_message_read(c->response, "u", &code) < 0)
        code = 2;
    return (int)code;
}

static void drop_response(portal_cap *c)
{
    c->response = sd_bus_message_unref(c->response);
}

static int new_call(portal_cap *c, sd_bus_message **m, const char *method)
{
    return sd_bus_message_new_method_call(c->bus, m, DESKTOP, DESKTOP_PATH, SCREENCAST, method);
}

static void restore_token_path(portal_cap *c)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    c->restore_path[0] = 0;
    if (xdg && *xdg)
        snprintf(c->restore_path, sizeof(c->restore_path), "%s/mcshare/portal-restore-token", xdg);
    else if (home && *home)
        snprintf(c->restore_path, sizeof(c->restore_path),
                 "%s/.config/mcshare/portal-restore-token", home);
}

/* Start's results: streams a(ua{sv}) (we take the first node) and
 * restore_token s (kept for the next run). 1 when a node was found. */
static int parse_start(portal_cap *c, sd_bus_message *m)
{
    int found = 0;
    if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
        return 0;
    while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
        const char *k;
        if (sd_bus_message_read(m, "s", &k) < 0)
            break;
        if (!strcmp(k, "streams") && sd_bus_message_enter_container(m, 'v', "a(ua{sv})") > 0) {
            if (sd_bus_message_enter_container(m, 'a', "(ua{sv})") > 0) {
                if (sd_bus_message_enter_container(m, 'r', "ua{sv}") > 0) {
                    if (sd_bus_message_read(m, "u", &c->node) >= 0)
                        found = 1;
                    sd_bus_message_skip(m, "a{sv}");
                    sd_bus_message_exit_container(m);
                }
                sd_bus_message_exit_container(m); /* an array: skips the other streams */
            }
            sd_bus_message_exit_container(m);
        } else if (!strcmp(k, "restore_token") && sd_bus_message_enter_container(m, 'v', "s") > 0) {
            const char *t = NULL;
            if (sd_bus_message_read(m, "s", &t) >= 0 && t && *t && strlen(t) < 256 &&
                c->restore_path[0] && mc_mkdir_parents(c->restore_path) == 0)
                mc_write_file_atomic(c->restore_path, t, strlen(t), 0600, 0);
            sd_bus_message_exit_container(m);
        } else if (sd_bus_message_skip(m, "v") < 0) {
            break;
        }
        if (sd_bus_message_exit_container(m) < 0)
            break;
    }
    return found;
}

/* Asks the portal for the screen: the dialog (or its remembered answer),
 * then the PipeWire node and a connection to it. */
static int portal_session(portal_cap *c, const mc_capture_config *cfg, int *fd, char *why,
                          size_t cap)
{
    int r = sd_bus_open_user(&c->bus);
    if (r < 0) {
        snprintf(why, cap, "no session bus to reach the ScreenCast portal (%s)", strerror(-r));
        return MC_EDISPLAY;
    }
    const char *unique;
    if (sd_bus_get_unique_name(c->bus, &unique) < 0)
        return MC_ECAPTURE;
    size_t k = 0;
    for (const char *p = unique + (*unique == ':'); *p && k + 1 < sizeof(c->sender); p++)
        c->sender[k++] = *p == '.' ? '_' : *p;
    c->sender[k] = 0;

    uint32_t version = 0, modes = 0, types = 0;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    r = sd_bus_get_property_trivial(c->bus, DESKTOP, DESKTOP_PATH, SCREENCAST, "version", &err,
                                    'u', &version);
    if (r < 0) {
        snprintf(why, cap, "no ScreenCast portal on the session bus (%s); install the desktop's "
                 "xdg-desktop-portal backend (GNOME, KDE or wlr)",
                 err.message ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        return MC_EDISPLAY;
    }
    sd_bus_get_property_trivial(c->bus, DESKTOP, DESKTOP_PATH, SCREENCAST,
                                "AvailableCursorModes", NULL, 'u', &modes);
    sd_bus_get_property_trivial(c->bus, DESKTOP, DESKTOP_PATH, SCREENCAST,
                                "AvailableSourceTypes", NULL, 'u', &types);
    c->portal_version = (int)version;
    if (!cfg->cursor)
        c->cursor_mode = (modes & CURSOR_HIDDEN) ? CURSOR_HIDDEN : 0;
    else
        c->cursor_mode = (modes & CURSOR_METADATA) ? CURSOR_METADATA
                         : (modes & CURSOR_EMBEDDED) ? CURSOR_EMBEDDED : 0;

    /* CreateSession */
    sd_bus_message *m = NULL;
    char stok[64], spath[256];
    next_token(c, stok, sizeof(stok), spath, sizeof(spath));
    if ((r = new_call(c, &m, "CreateSession")) < 0 ||
        (r = sd_bus_message_open_container(m, 'a', "{sv}")) < 0 ||
        (r = dict_s(m, "session_handle_token", stok)) < 0)
        goto bus_error;
    r = request(c, m, 10000000u, why, cap);
    m = sd_bus_message_unref(m);
    if (r != 0) {
        if (r > 0)
            snprintf(why, cap, "the ScreenCast portal did not open a session (answer %d)", r);
        return MC_ECAPTURE;
    }
    const char *sh = NULL;
    if (find_key(c->response, "session_handle", "s") > 0)
        sd_bus_message_read(c->response, "s", &sh);
    if (!sh) /* the path we asked for, where the portal put it */
        snprintf(c->session, sizeof(c->session), DESKTOP_PATH "/session/%s/%s", c->sender, stok);
    else
        snprintf(c->session, sizeof(c->session), "%s", sh);
    drop_response(c);
    r = sd_bus_match_signal(c->bus, NULL, DESKTOP, c->session, "org.freedesktop.portal.Session",
                            "Closed", on_session_closed, c);
    if (r < 0)
        goto bus_error;

    /* SelectSources: one monitor, or one window where the desktop offers
     * that (a stream of its own size, scaled if it changes); the restore
     * token of the last run. */
    restore_token_path(c);
    char *token = NULL;
    size_t tlen = 0;
    if (c->restore_path[0] && mc_read_file(c->restore_path, 256, &token, &tlen) == 0) {
        while (tlen && (token[tlen - 1] == '\n' || token[tlen - 1] == ' '))
            token[--tlen] = 0;
    }
    if ((r = new_call(c, &m, "SelectSources")) < 0 ||
        (r = sd_bus_message_append(m, "o", c->session)) < 0 ||
        (r = sd_bus_message_open_container(m, 'a', "{sv}")) < 0 ||
        (r = dict_u(m, "types", (types & 3) ? types & 3 : 1u)) < 0 ||
        (r = sd_bus_message_append(m, "{sv}", "multiple", "b", 0)) < 0 ||
        (c->cursor_mode && (r = dict_u(m, "cursor_mode", (uint32_t)c->cursor_mode)) < 0) ||
        (version >= 4 && (r = dict_u(m, "persist_mode", 2)) < 0) ||
        (version >= 4 && token && tlen && (r = dict_s(m, "restore_token", token)) < 0)) {
        free(token);
        goto bus_error;
    }
    free(token);
    r = request(c, m, 10000000u, why, cap);
    m = sd_bus_message_unref(m);
    drop_response(c);
    if (r != 0) {
        if (r > 0)
            snprintf(why, cap, "the ScreenCast portal refused to share a monitor (answer %d)", r);
        return MC_ECAPTURE;
    }

    /* Start: the dialog. */
    fprintf(stderr, "mcshare: asking the desktop to share the screen (answer its dialog)\n");
    if ((r = new_call(c, &m, "Start")) < 0 ||
        (r = sd_bus_message_append(m, "os", c->session, "")) < 0 ||
        (r = sd_bus_message_open_container(m, 'a', "{sv}")) < 0)
        goto bus_error;
    r = request(c, m, DIALOG_WAIT_US, why, cap);
    m = sd_bus_message_unref(m);
    if (r == 1) {
        snprintf(why, cap, "screen sharing was cancelled in the desktop's dialog");
        drop_response(c);
        return MC_ECAPTURE;
    }
    if (r != 0) {
        if (r > 0)
            snprintf(why, cap, "the desktop did not start screen sharing (answer %d)", r);
        drop_response(c);
        return MC_ECAPTURE;
    }
    /* The results: the stream's node, and a new restore token (each
     * Start gives one; the old one is spent). */
    int found = parse_start(c, c->response);
    drop_response(c);
    if (!found) {
        snprintf(why, cap, "the portal started screen sharing but named no stream");
        return MC_ECAPTURE;
    }

    /* OpenPipeWireRemote: a connection to PipeWire that sees our node. */
    sd_bus_message *reply = NULL;
    r = sd_bus_call_method(c->bus, DESKTOP, DESKTOP_PATH, SCREENCAST, "OpenPipeWireRemote", &err,
                           &reply, "oa{sv}", c->session, 0);
    int pfd = -1;
    if (r >= 0 && sd_bus_message_read(reply, "h", &pfd) >= 0)
        *fd = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
    sd_bus_message_unref(reply);
    if (r < 0 || *fd < 0) {
        snprintf(why, cap, "the portal gave no PipeWire connection: %s",
                 err.message ? err.message : strerror(r < 0 ? -r : errno));
        sd_bus_error_free(&err);
        return MC_ECAPTURE;
    }
    return 0;
bus_error:
    sd_bus_message_unref(m);
    snprintf(why, cap, "talking to the ScreenCast portal: %s", strerror(-r));
    return MC_ECAPTURE;
}

/* ---- PipeWire (its thread) ----------------------------------------------- */

static void set_closed(portal_cap *c, const char *why)
{
    mc_mutex_lock(&c->lock);
    if (!c->closed)
        snprintf(c->closed_why, sizeof(c->closed_why), "%s", why);
    c->closed = 1;
    mc_cond_broadcast(&c->cond);
    mc_mutex_unlock(&c->lock);
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
    portal_cap *c = data;
    (void)seq;
    if (id == PW_ID_CORE && res == -EPIPE)
        set_closed(c, "the connection to PipeWire was lost");
    else if (id == PW_ID_CORE)
        fprintf(stderr, "mcshare: PipeWire: %s\n", message ? message : spa_strerror(res));
}

static const struct pw_core_events core_events = {PW_VERSION_CORE_EVENTS, .error = on_core_error};

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state,
                     const char *error)
{
    portal_cap *c = data;
    if (state == PW_STREAM_STATE_ERROR) {
        char why[160];
        snprintf(why, sizeof(why), "the screen's PipeWire stream failed: %s",
                 error ? error : "no reason given");
        set_closed(c, why);
    } else if (state == PW_STREAM_STATE_UNCONNECTED && old != PW_STREAM_STATE_UNCONNECTED) {
        set_closed(c, "the desktop ended the screen's PipeWire stream");
    }
}

static void on_param(void *data, uint32_t id, const struct spa_pod *param)
{
    portal_cap *c = data;
    if (!param || id != SPA_PARAM_Format)
        return;
    struct spa_video_info_raw info;
    uint32_t mt, ms;
    if (spa_format_parse(param, &mt, &ms) < 0 || mt != SPA_MEDIA_TYPE_video ||
        ms != SPA_MEDIA_SUBTYPE_raw || spa_format_video_raw_parse(param, &info) < 0 ||
        !info.size.width || !info.size.height || info.size.width > 16384 ||
        info.size.height > 16384) {
        pw_stream_set_error(c->stream, -EINVAL, "unusable video format");
        return;
    }
    mc_mutex_lock(&c->lock);
    c->format = info.format;
    c->fw = (int)info.size.width;
    c->fh = (int)info.size.height;
    if (!c->pic) { /* the picture keeps the first size; a later one is scaled */
        c->w = c->fw;
        c->h = c->fh;
        c->dy0 = c->h;
        c->pic = calloc((size_t)c->w * (size_t)c->h, 4);
    }
    /* A stream of another size (a window resized, the screen's mode
     * changed): scaled to the picture's, through a copy of its own. */
    int ok = c->pic != NULL;
    if (ok && (c->fw != c->w || c->fh != c->h)) {
        uint8_t *st = realloc(c->stage, (size_t)c->fw * (size_t)c->fh * 4);
        if (st)
            c->stage = st;
        ok = st != NULL;
    }
    mc_mutex_unlock(&c->lock);
    if (!ok) {
        pw_stream_set_error(c->stream, -ENOMEM, "out of memory for the picture");
        return;
    }
    uint8_t buf[1024];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *p[4];
    int n = 0;
    p[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
        SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(4, 2, 16),
        SPA_PARAM_BUFFERS_dataType,
        SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemFd) | (1 << SPA_DATA_MemPtr)));
    p[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
        SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
    p[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
        SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(sizeof(struct spa_meta_region) * 16,
                                                      sizeof(struct spa_meta_region) * 1,
                                                      sizeof(struct spa_meta_region) * 16));
    /* Always asked for: without it a stream's buffers have no room for the
     * pointer (the pointer is taken only in metadata mode). */
    p[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
            SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Cursor),
            SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(
                sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + 64 * 64 * 4,
                sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + 1 * 1 * 4,
                sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) +
                    CURSOR_MAX * CURSOR_MAX * 4));
    pw_stream_update_params(c->stream, p, (uint32_t)n);
}

/* Copies rows y0..y1, columns x0..x1 of the stream's buffer into dst
 * (dw pixels a row) as BGRX. Under lock. */
static void convert_rect(const portal_cap *c, const uint8_t *src, int stride, uint8_t *dst,
                         int dw, int x0, int y0, int x1, int y1)
{
    int rgb = c->format == SPA_VIDEO_FORMAT_RGBx || c->format == SPA_VIDEO_FORMAT_RGBA;
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = src + (size_t)y * (size_t)stride + (size_t)x0 * 4;
        uint8_t *d = dst + ((size_t)y * (size_t)dw + (size_t)x0) * 4;
        if (!rgb) {
            memcpy(d, s, (size_t)(x1 - x0) * 4);
            continue;
        }
        for (int x = x0; x < x1; x++, s += 4, d += 4) {
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
            d[3] = 0xFF;
        }
    }
}

/* The same into the picture, noting the rows changed. */
static void copy_rect(portal_cap *c, const uint8_t *src, int stride, int x0, int y0, int x1,
                      int y1)
{
    convert_rect(c, src, stride, c->pic, c->w, x0, y0, x1, y1);
    if (y0 < c->dy0)
        c->dy0 = y0;
    if (y1 > c->dy1)
        c->dy1 = y1;
}

/* The pointer from a buffer's cursor metadata, checked against the
 * metadata's size (it comes from another process). Under lock. */
static void take_cursor(portal_cap *c, struct spa_buffer *b)
{
    struct spa_meta *meta = spa_buffer_find_meta(b, SPA_META_Cursor);
    if (!meta || meta->size < sizeof(struct spa_meta_cursor))
        return;
    const struct spa_meta_cursor *mc = meta->data;
    if (!spa_meta_cursor_is_valid(mc)) { /* id 0: no pointer on this screen */
        c->cur_dirty |= c->cur_on;
        c->cur_on = 0;
        return;
    }
    int at_x = mc->position.x - mc->hotspot.x, at_y = mc->position.y - mc->hotspot.y;
    if (c->fw != c->w && c->fw > 0) /* a stream scaled to the picture */
        at_x = (int)((int64_t)at_x * c->w / c->fw);
    if (c->fh != c->h && c->fh > 0)
        at_y = (int)((int64_t)at_y * c->h / c->fh);
    if (at_x != c->cur_x || at_y != c->cur_y || !c->cur_on)
        c->cur_dirty = 1;
    c->cur_on = 1;
    c->cur_x = at_x;
    c->cur_y = at_y;
    if (mc->bitmap_offset < sizeof(*mc) ||
        (uint64_t)mc->bitmap_offset + sizeof(struct spa_meta_bitmap) > meta->size)
        return; /* no new shape: the last one stays */
    const struct spa_meta_bitmap *bm = SPA_PTROFF(mc, mc->bitmap_offset, struct spa_meta_bitmap);
    uint32_t bw = bm->size.width, bh = bm->size.height;
    int red_first = bm->format == SPA_VIDEO_FORMAT_RGBA || bm->format == SPA_VIDEO_FORMAT_RGBx;
    int alpha_first = bm->format == SPA_VIDEO_FORMAT_ARGB || bm->format == SPA_VIDEO_FORMAT_ABGR;
    int known = red_first || alpha_first || bm->format == SPA_VIDEO_FORMAT_BGRA;
    if (!bw || !bh || bw > CURSOR_MAX || bh > CURSOR_MAX || !known || bm->stride < (int)bw * 4 ||
        (uint64_t)mc->bitmap_offset + bm->offset + (uint64_t)bm->stride * (bh - 1) + bw * 4 >
            meta->size)
        return;
    const uint8_t *px = SPA_PTROFF(bm, bm->offset, const uint8_t);
    for (uint32_t y = 0; y < bh; y++)
        for (uint32_t x = 0; x < bw; x++) {
            const uint8_t *s = px + (size_t)y * (size_t)bm->stride + x * 4;
            uint8_t *d = c->cur + ((size_t)y * bw + x) * 4, p[4];
            memcpy(p, s, 4);
            if (alpha_first) { /* A R G B or A B G R */
                uint8_t a = p[0];
                p[0] = p[1], p[1] = p[2], p[2] = p[3], p[3] = a;
                red_first = bm->format == SPA_VIDEO_FORMAT_ARGB;
            }
            d[0] = red_first ? p[2] : p[0];
            d[1] = p[1];
            d[2] = red_first ? p[0] : p[2];
            d[3] = p[3];
        }
    c->cur_w = (int)bw;
    c->cur_h = (int)bh;
    c->cur_dirty = 1;
}

static void on_process(void *data)
{
    portal_cap *c = data;
    struct pw_buffer *pb;
    while ((pb = pw_stream_dequeue_buffer(c->stream))) {
        struct spa_buffer *b = pb->buffer;
        struct spa_data *d = b->n_datas ? &b->datas[0] : NULL;
        const struct spa_meta_header *hd = spa_buffer_find_meta_data(b, SPA_META_Header,
                                                                     sizeof(*hd));
        mc_mutex_lock(&c->lock);
        if (c->cursor_mode == CURSOR_METADATA)
            take_cursor(c, b);
        int corrupt = (hd && (hd->flags & SPA_META_HEADER_FLAG_CORRUPTED)) ||
                      (d && (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED));
        /* Damage lists what changed since the buffer before: only when no
         * buffer was missed (the header's sequence numbers follow) can the
         * rest be kept. Without sequence numbers, every picture is copied. */
        int in_order = hd && c->have_seq && hd->seq == c->last_seq + 1;
        if (hd) {
            c->last_seq = hd->seq;
            c->have_seq = 1;
        }
        int stride = d && d->chunk->stride > 0 ? d->chunk->stride : c->fw * 4;
        int scaled = c->fw != c->w || c->fh != c->h;
        int w = c->fw, h = c->fh;
        /* A picture: data mapped, a chunk that holds every row we read. */
        if (d && d->data && !corrupt && d->chunk->size > 0 && stride >= c->fw * 4 &&
            (!scaled || c->stage) &&
            d->chunk->offset < d->maxsize &&
            (uint64_t)d->chunk->offset + (uint64_t)stride * (uint64_t)(h - 1) +
                    (uint64_t)w * 4 <= d->maxsize) {
            const uint8_t *src = (const uint8_t *)d->data + d->chunk->offset;
            struct spa_meta *dm = spa_buffer_find_meta(b, SPA_META_VideoDamage);
            int listed = 0;
            if (scaled) { /* all of it, scaled */
                convert_rect(c, src, stride, c->stage, w, 0, 0, w, h);
                mc_scale_bgrx(c->stage, w, h, w * 4, c->pic, c->w, c->h, c->w * 4);
                c->dy0 = 0;
                c->dy1 = c->h;
                listed = -1;
            } else if (dm && c->got_first && in_order) {
                struct spa_meta_region *r;
                spa_meta_for_each(r, dm) {
                    if (!spa_meta_region_is_valid(r))
                        break;
                    int64_t x0 = r->region.position.x, y0 = r->region.position.y;
                    int64_t x1 = x0 + r->region.size.width, y1 = y0 + r->region.size.height;
                    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
                    x1 = x1 > w ? w : x1, y1 = y1 > h ? h : y1;
                    if (x0 < x1 && y0 < y1)
                        copy_rect(c, src, stride, (int)x0, (int)y0, (int)x1, (int)y1);
                    listed++;
                }
            }
            if (!listed) /* no damage list, a buffer missed, the first: all of it */
                copy_rect(c, src, stride, 0, 0, w, h);
            if (listed > 0)
                c->rects += (uint64_t)listed;
            c->frames++;
            c->pic_dirty = 1;
            c->got_first = 1;
        }
        if (c->pic_dirty || c->cur_dirty)
            mc_cond_broadcast(&c->cond);
        mc_mutex_unlock(&c->lock);
        pw_stream_queue_buffer(c->stream, pb);
    }
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS, .state_changed = on_state, .param_changed = on_param,
    .process = on_process};

static int pipewire_start(portal_cap *c, int fd, char *why, size_t cap)
{
    pw_init(NULL, NULL);
    c->loop = pw_thread_loop_new("mcshare-pw", NULL);
    c->ctx = c->loop ? pw_context_new(pw_thread_loop_get_loop(c->loop), NULL, 0) : NULL;
    if (!c->ctx || pw_thread_loop_start(c->loop) < 0) {
        close(fd);
        snprintf(why, cap, "cannot start PipeWire's loop");
        return MC_ECAPTURE;
    }
    pw_thread_loop_lock(c->loop);
    c->core = pw_context_connect_fd(c->ctx, fd, NULL, 0); /* takes the fd */
    if (!c->core) {
        pw_thread_loop_unlock(c->loop);
        snprintf(why, cap, "cannot connect to PipeWire through the portal: %s", strerror(errno));
        return MC_ECAPTURE;
    }
    pw_core_add_listener(c->core, &c->core_listener, &core_events, c);
    c->stream = pw_stream_new(c->core, "mcshare",
                              pw_properties_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
                                                "Capture", PW_KEY_MEDIA_ROLE, "Screen", NULL));
    int r = -ENOMEM;
    if (c->stream) {
        pw_stream_add_listener(c->stream, &c->stream_listener, &stream_events, c);
        uint8_t buf[1024];
        struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
        /* No modifier property: shared memory only, no GPU needed. */
        const struct spa_pod *fmt = spa_pod_builder_add_object(&b,
            SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
            SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
            SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
            SPA_FORMAT_VIDEO_format, SPA_POD_CHOICE_ENUM_Id(5, SPA_VIDEO_FORMAT_BGRx,
                SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRA, SPA_VIDEO_FORMAT_RGBx,
                SPA_VIDEO_FORMAT_RGBA),
            SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_RANGE_Rectangle(&SPA_RECTANGLE(1920, 1080),
                &SPA_RECTANGLE(1, 1), &SPA_RECTANGLE(16384, 16384)),
            SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_RANGE_Fraction(&SPA_FRACTION(60, 1),
                &SPA_FRACTION(0, 1), &SPA_FRACTION(1000, 1)));
        r = pw_stream_connect(c->stream, PW_DIRECTION_INPUT, c->node,
                              PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, &fmt, 1);
    }
    pw_thread_loop_unlock(c->loop);
    if (r < 0) {
        snprintf(why, cap, "cannot open the screen's PipeWire stream (node %u): %s", c->node,
                 spa_strerror(r));
        return MC_ECAPTURE;
    }
    return 0;
}

/* ---- the backend --------------------------------------------------------- */

static int portal_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    portal_cap *c = calloc(1, sizeof(*c));
    if (!c || !(c->cur = malloc(CURSOR_MAX * CURSOR_MAX * 4))) {
        free(c);
        return MC_ENOMEM;
    }
    mc_mutex_init(&c->lock);
    mc_cond_init(&c->cond);
    c->want_cursor = cfg->cursor;
    if (cfg->monitor || cfg->w) {
        snprintf(why, cap, "with the portal, the teacher chooses the monitor in the desktop's "
                 "dialog: --monitor and --region do not apply (--size scales)");
        portal_close(c);
        return MC_EINVAL;
    }
    int fd = -1;
    int err = portal_session(c, cfg, &fd, why, cap);
    if (!err)
        err = pipewire_start(c, fd, why, cap);
    if (err) {
        portal_close(c);
        return err;
    }
    /* The first picture: its size, and that the stream works. */
    uint64_t end = mc_now_us() + FIRST_FRAME_US;
    mc_mutex_lock(&c->lock);
    while (!c->got_first && !c->closed && mc_cond_wait_until(&c->cond, &c->lock, end) == 0) {
    }
    int ok = c->got_first && !c->closed;
    if (!ok)
        snprintf(why, cap, "%s", c->closed ? c->closed_why
                 : "the screen's PipeWire stream sent no picture within 5 s");
    int w = c->w, h = c->h;
    mc_mutex_unlock(&c->lock);
    if (!ok || !(c->out = malloc((size_t)w * (size_t)h * 4))) {
        portal_close(c);
        return ok ? MC_ENOMEM : MC_ECAPTURE;
    }
    static const char *modes[] = {"", "hidden", "embedded", "", "as metadata"};
    snprintf(c->name, sizeof(c->name), "ScreenCast portal v%d, PipeWire node %u%s%s",
             c->portal_version, c->node, c->cursor_mode ? ", pointer " : "",
             c->cursor_mode ? modes[c->cursor_mode] : "");
    *state = c;
    return 0;
}

static void portal_size(void *state, int *w, int *h)
{
    const portal_cap *c = state;
    *w = c->w;
    *h = c->h;
}

/* Draws the pointer (straight alpha) into out. */
static void draw_cursor(portal_cap *c)
{
    c->drawn = 0;
    if (!c->cur_on || !c->cur_w || c->cursor_mode != CURSOR_METADATA || !c->want_cursor)
        return;
    int x0 = c->cur_x, y0 = c->cur_y;
    for (int j = 0; j < c->cur_h; j++) {
        int y = y0 + j;
        if (y < 0 || y >= c->h)
            continue;
        for (int i = 0; i < c->cur_w; i++) {
            int x = x0 + i;
            if (x < 0 || x >= c->w)
                continue;
            const uint8_t *s = c->cur + ((size_t)j * (size_t)c->cur_w + (size_t)i) * 4;
            uint8_t *d = c->out + ((size_t)y * (size_t)c->w + (size_t)x) * 4;
            unsigned a = s[3];
            for (int k = 0; k < 3; k++)
                d[k] = (uint8_t)((s[k] * a + d[k] * (255 - a) + 127) / 255);
        }
    }
    c->drawn = 1;
    c->drawn_x = x0, c->drawn_y = y0, c->drawn_w = c->cur_w, c->drawn_h = c->cur_h;
}

static void extend_rows(int *y0, int *y1, int a, int b, int h)
{
    a = a < 0 ? 0 : a, b = b > h ? h : b;
    if (a >= b)
        return;
    if (a < *y0)
        *y0 = a;
    if (b > *y1)
        *y1 = b;
}

static void pump_bus(portal_cap *c)
{
    for (int i = 0; i < 64 && sd_bus_process(c->bus, NULL) > 0; i++) {
    }
}

static int portal_grab(void *state, uint32_t frame, const uint8_t **pixels, int *pitch,
                       int *changed)
{
    portal_cap *c = state;
    (void)frame;
    pump_bus(c); /* the portal may have closed the session */
    mc_mutex_lock(&c->lock);
    if (c->closed) {
        mc_mutex_unlock(&c->lock);
        return MC_ECAPTURE;
    }
    *pitch = c->w * 4;
    *pixels = c->out;
    *changed = c->pic_dirty || c->cur_dirty || frame <= 1;
    if (*changed) {
        /* Rows to refresh in out: the damage, and where the pointer was
         * and is. Then the pointer again. */
        int y0 = c->h, y1 = 0;
        if (frame <= 1)
            y0 = 0, y1 = c->h;
        if (c->pic_dirty)
            extend_rows(&y0, &y1, c->dy0, c->dy1, c->h);
        if (c->drawn)
            extend_rows(&y0, &y1, c->drawn_y, c->drawn_y + c->drawn_h, c->h);
        if (c->cur_on)
            extend_rows(&y0, &y1, c->cur_y, c->cur_y + c->cur_h, c->h);
        if (y0 < y1)
            memcpy(c->out + (size_t)y0 * (size_t)c->w * 4, c->pic + (size_t)y0 * (size_t)c->w * 4,
                   (size_t)(y1 - y0) * (size_t)c->w * 4);
        draw_cursor(c);
        c->pic_dirty = c->cur_dirty = 0;
        c->dy0 = c->h;
        c->dy1 = 0;
    }
    mc_mutex_unlock(&c->lock);
    return 0;
}

static int portal_wait(void *state, uint64_t timeout_us)
{
    portal_cap *c = state;
    uint64_t end = mc_now_us() + timeout_us;
    mc_mutex_lock(&c->lock);
    while (!c->pic_dirty && !c->cur_dirty && !c->closed &&
           mc_cond_wait_until(&c->cond, &c->lock, end) == 0) {
    }
    int r = c->pic_dirty || c->cur_dirty || c->closed;
    mc_mutex_unlock(&c->lock);
    return r;
}

static void portal_describe(void *state, char *out, size_t cap)
{
    const portal_cap *c = state;
    snprintf(out, cap, "%s", c->name);
}

static void portal_stats(void *state, uint64_t *frames, uint64_t *rects)
{
    portal_cap *c = state;
    mc_mutex_lock(&c->lock);
    *frames = c->frames;
    *rects = c->rects;
    mc_mutex_unlock(&c->lock);
}

static const char *portal_error(void *state)
{
    portal_cap *c = state;
    return c->closed ? c->closed_why : NULL;
}

static void portal_close(void *state)
{
    portal_cap *c = state;
    if (!c)
        return;
    if (c->loop)
        pw_thread_loop_stop(c->loop);
    if (c->stream)
        pw_stream_destroy(c->stream);
    if (c->core)
        pw_core_disconnect(c->core);
    if (c->ctx)
        pw_context_destroy(c->ctx);
    if (c->loop)
        pw_thread_loop_destroy(c->loop);
    if (c->bus && c->session[0]) /* ends the sharing (the desktop's indicator goes) */
        sd_bus_call_method(c->bus, DESKTOP, c->session, "org.freedesktop.portal.Session", "Close",
                           NULL, NULL, "");
    sd_bus_message_unref(c->response);
    sd_bus_flush_close_unref(c->bus);
    mc_cond_destroy(&c->cond);
    mc_mutex_destroy(&c->lock);
    free(c->pic);
    free(c->stage);
    free(c->out);
    free(c->cur);
    free(c);
}

const mc_capture_backend mc_capture_portal = {
    .name = "portal", .open = portal_open, .size = portal_size, .grab = portal_grab,
    .wait = portal_wait, .describe = portal_describe, .stats = portal_stats,
    .error = portal_error, .close = portal_close};
