/* The teacher's dashboard (mc/dashboard.h): libmicrohttpd, one thread per
 * connection (at most DASH_MAX_CONN), the state as Server-Sent Events. */
#define _GNU_SOURCE
#include "mc/dashboard.h"

#include "mc/platform.h" /* the socket headers, before microhttpd.h */
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc/common.h"

#define DASH_MAX_CONN 32
#define DASH_QUEUE 16
#define DASH_TOKEN_BYTES 16
#define DASH_KEEPALIVE_S 10

/* The page (src/dashboard.html), embedded by the build. */
extern const unsigned char mc_dashboard_html[];
extern const size_t mc_dashboard_html_len;

struct mc_dashboard {
    struct MHD_Daemon *mhd;
    char token[DASH_TOKEN_BYTES * 2 + 1];
    char url[160];
    mc_mutex mu;
    mc_cond cv;
    int stop;
    char *state;         /* the newest JSON (never NULL once created) */
    unsigned long gen;   /* bumped by each publish */
    mc_dash_command q[DASH_QUEUE];
    int q_head, q_len;
    unsigned long requests, refused;
};

size_t mc_json_string(char *out, size_t len, size_t cap, const char *s)
{
    if (!cap)
        return len;
    /* Room for the closing quote and the NUL is kept at every step. */
#define PUT(c) do { if (len + 2 < cap) out[len++] = (c); } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\') {
            if (len + 3 < cap) {
                out[len++] = '\\';
                out[len++] = (char)*p;
            }
        } else if (*p < 0x20 || *p == 0x7F) {
            if (len + 8 < cap)
                len += (size_t)snprintf(out + len, cap - len, "\\u%04x", *p);
        } else {
            PUT((char)*p);
        }
    }
    if (len + 1 < cap)
        out[len++] = '"';
    out[len < cap ? len : cap - 1] = 0;
#undef PUT
    return len;
}

/* ---- the event stream ------------------------------------------------ */

typedef struct {
    mc_dashboard *d;
    unsigned long seen;
    char *buf;
    size_t len, off;
} stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    stream *s = cls;
    mc_dashboard *d = s->d;
    if (s->off == s->len) {
        free(s->buf);
        s->buf = NULL;
        s->len = s->off = 0;
        mc_mutex_lock(&d->mu);
        uint64_t until = mc_now_us() + DASH_KEEPALIVE_S * 1000000u;
        while (!d->stop && d->gen == s->seen)
            if (mc_cond_wait_until(&d->cv, &d->mu, until))
                break;
        if (d->stop) {
            mc_mutex_unlock(&d->mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (d->gen != s->seen) {
            size_t n = strlen(d->state) + 32;
            s->buf = malloc(n);
            if (s->buf)
                s->len = (size_t)snprintf(s->buf, n, "event: state\ndata: %s\n\n", d->state);
            s->seen = d->gen;
        }
        mc_mutex_unlock(&d->mu);
        if (!s->buf) { /* nothing new (or no memory): a comment keeps proxies awake */
            s->buf = strdup(": keepalive\n\n");
            if (!s->buf)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            s->len = strlen(s->buf);
        }
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    free(s->buf);
    free(s);
}

/* ---- requests -------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* The address holds the token: never sent on as a referrer, the page
     * never framed by another site, nothing loaded from elsewhere. */
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    return reply(c, code, "text/plain; charset=utf-8", text, strlen(text));
}

static int token_ok(const mc_dashboard *d, struct MHD_Connection *c)
{
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    return t && strlen(t) == sizeof(d->token) - 1 &&
           sodium_memcmp(t, d->token, sizeof(d->token) - 1) == 0;
}

static int value_ok(const char *v)
{
    if (strlen(v) >= sizeof(((mc_dash_command *)0)->value))
        return 0;
    for (const char *p = v; *p; p++)
        if (*p < 0x21 || *p > 0x7E)
            return 0;
    return 1;
}

static enum MHD_Result on_control(mc_dashboard *d, struct MHD_Connection *c)
{
    static const struct { const char *name; int action, needs_value; } ACTIONS[] = {
        {"pause", MC_DASH_PAUSE, 0},   {"resume", MC_DASH_RESUME, 0},
        {"end", MC_DASH_END, 0},       {"preset", MC_DASH_PRESET, 1},
        {"region", MC_DASH_REGION, 1}, {"monitor", MC_DASH_MONITOR, 1},
    };
    const char *a = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "action");
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "value");
    mc_dash_command cmd = {0};
    for (size_t i = 0; a && i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++)
        if (!strcmp(a, ACTIONS[i].name)) {
            if (ACTIONS[i].needs_value && (!v || !*v))
                return reply_text(c, 400, "this action needs a value\n");
            cmd.action = ACTIONS[i].action;
        }
    if (!cmd.action)
        return reply_text(c, 400, "unknown action (pause, resume, end, preset, region, monitor)\n");
    if (v && !value_ok(v))
        return reply_text(c, 400, "value too long or with spaces or control characters\n");
    snprintf(cmd.value, sizeof(cmd.value), "%s", v ? v : "");
    mc_mutex_lock(&d->mu);
    int full = d->q_len == DASH_QUEUE;
    if (!full)
        d->q[(d->q_head + d->q_len++) % DASH_QUEUE] = cmd;
    mc_mutex_unlock(&d->mu);
    if (full)
        return reply_text(c, 503, "too many commands waiting; try again\n");
    return reply(c, 202, "application/json", "{\"queued\":true}", 15);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **con_cls)
{
    (void)version;
    (void)upload;
    mc_dashboard *d = cls;
    int post = !strcmp(method, "POST");
    if (post && !*con_cls) { /* the first call for a POST: the headers only */
        *con_cls = d;
        return MHD_YES;
    }
    if (*upload_len) { /* a body: not used, read and dropped */
        *upload_len = 0;
        return MHD_YES;
    }
    mc_mutex_lock(&d->mu);
    d->requests++;
    int ok = token_ok(d, c);
    if (!ok)
        d->refused++;
    mc_mutex_unlock(&d->mu);
    if (!ok)
        return reply_text(c, 403, "mcshare dashboard: this address needs the token that mcshare "
                                  "printed when it started (…/?token=…)\n");
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(url, "/") && get)
        return reply(c, 200, "text/html; charset=utf-8", mc_dashboard_html, mc_dashboard_html_len);
    if (!strcmp(url, "/state") && get) {
        mc_mutex_lock(&d->mu);
        char *copy = strdup(d->state);
        mc_mutex_unlock(&d->mu);
        if (!copy)
            return MHD_NO;
        enum MHD_Result r = reply(c, 200, "application/json", copy, strlen(copy));
        free(copy);
        return r;
    }
    if (!strcmp(url, "/events") && get) {
        stream *s = calloc(1, sizeof(*s));
        if (!s)
            return MHD_NO;
        s->d = d;
        s->seen = (unsigned long)-1; /* the current state first */
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
        if (!r) {
            free(s);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/control")) {
        if (!post) /* a link or an image must not pause the class */
            return reply_text(c, 405, "use POST\n");
        return on_control(d, c);
    }
    return reply_text(c, 404, "not found\n");
}

/* ---- life cycle ------------------------------------------------------------- */

static int parse_listen(const char *text, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof(host) || colon == text)
        return MC_EINVAL;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return MC_EINVAL;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return MC_EINVAL;
    return 0;
}

int mc_dashboard_create(const char *listen_addr, mc_dashboard **out, char *why, size_t cap)
{
    *out = NULL;
    struct sockaddr_in sa;
    const char *la = listen_addr ? listen_addr : "127.0.0.1:0";
    if (parse_listen(la, &sa)) {
        snprintf(why, cap, "'%s' is not ADDR:PORT with an IPv4 address (e.g. 127.0.0.1:8080)", la);
        return MC_EINVAL;
    }
    if (sodium_init() < 0) {
        snprintf(why, cap, "libsodium cannot start");
        return MC_ENOMEM;
    }
    mc_dashboard *d = calloc(1, sizeof(*d));
    if (!d || !(d->state = strdup("{}"))) {
        free(d);
        snprintf(why, cap, "out of memory");
        return MC_ENOMEM;
    }
    mc_mutex_init(&d->mu);
    mc_cond_init(&d->cv);
    uint8_t raw[DASH_TOKEN_BYTES];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(d->token, sizeof(d->token), raw, sizeof(raw));
    d->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                              NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR, &sa,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)DASH_MAX_CONN,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(DASH_MAX_CONN / 2),
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(3 * DASH_KEEPALIVE_S),
                              MHD_OPTION_END);
    if (!d->mhd) {
        snprintf(why, cap, "cannot serve on %s (the port may be taken, or the address is not "
                 "this computer's)", la);
        mc_dashboard_destroy(d);
        return MC_EADDR;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : ntohs(sa.sin_port);
    char host[64];
    if (sa.sin_addr.s_addr == htonl(INADDR_ANY)) {
        if (mc_host_name(host, sizeof(host)) || !host[0])
            snprintf(host, sizeof(host), "localhost");
    } else {
        inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
    }
    snprintf(d->url, sizeof(d->url), "http://%s:%u/?token=%s", host, port, d->token);
    *out = d;
    return 0;
}

const char *mc_dashboard_url(const mc_dashboard *d) { return d->url; }

void mc_dashboard_publish(mc_dashboard *d, const char *json)
{
    char *copy = strdup(json);
    if (!copy)
        return; /* the page keeps the previous state */
    mc_mutex_lock(&d->mu);
    free(d->state);
    d->state = copy;
    d->gen++;
    mc_cond_broadcast(&d->cv);
    mc_mutex_unlock(&d->mu);
}

int mc_dashboard_next(mc_dashboard *d, mc_dash_command *cmd)
{
    mc_mutex_lock(&d->mu);
    int have = d->q_len > 0;
    if (have) {
        *cmd = d->q[d->q_head];
        d->q_head = (d->q_head + 1) % DASH_QUEUE;
        d->q_len--;
    }
    mc_mutex_unlock(&d->mu);
    return have;
}

void mc_dashboard_counts(const mc_dashboard *d, unsigned long *requests, unsigned long *refused)
{
    mc_mutex_lock((mc_mutex *)&d->mu);
    *requests = d->requests;
    *refused = d->refused;
    mc_mutex_unlock((mc_mutex *)&d->mu);
}

void mc_dashboard_destroy(mc_dashboard *d)
{
    if (!d)
        return;
    mc_mutex_lock(&d->mu);
    d->stop = 1; /* every event stream ends */
    mc_cond_broadcast(&d->cv);
    mc_mutex_unlock(&d->mu);
    if (d->mhd)
        MHD_stop_daemon(d->mhd);
    mc_cond_destroy(&d->cv);
    mc_mutex_destroy(&d->mu);
    free(d->state);
    free(d);
}
