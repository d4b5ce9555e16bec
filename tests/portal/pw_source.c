/* A PipeWire screen of the tests' own: a video source node sending BGRx
 * frames with the metadata a compositor's screen cast carries (damage
 * rectangles, the pointer as a bitmap with its position), as mutter's or
 * xdg-desktop-portal-wlr's would, but on command:
 *
 *   pw_source WIDTH HEIGHT
 *
 * prints "node N" once its node exists, then reads commands on stdin:
 *   fill RRGGBB              the whole picture, damage = the whole picture
 *   rect X Y W H RRGGBB      a rectangle, damage = that rectangle only
 *   cursor X Y               the pointer moves: a buffer without a picture
 *                            (chunk size 0), as mutter sends for the cursor
 *   nodamage RRGGBB          the whole picture, no damage list (mutter < 44)
 *   lost X Y W H RRGGBB      a rectangle, sent as if the buffer before was lost:
 *                            the sequence number skips one, the damage lists
 *                            a pixel at 0,0 only
 *   resize W H RRGGBB        a new size (a new format), all RRGGBB
 *   load N FILE              a binary PPM of the screen's size into slot N (0..3)
 *   show N                   slot N as the whole picture, damage = all of it
 *   save FILE                the picture (without the pointer) as a PPM
 *   quit
 * and answers each with "sent K" (K buffers so far) or "skipped" when no
 * consumer holds the stream. The pointer is a 16x16 ARGB square, opaque
 * black with a white centre, its hot spot at (0,0). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>

#define CUR 16
#define SLOTS 4
#define CURSOR_META_SIZE (sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) + CUR * CUR * 4)

typedef struct {
    struct pw_main_loop *loop;
    struct pw_stream *stream;
    struct spa_hook listener;
    int w, h, stride;
    uint32_t *pic;       /* the current picture */
    uint32_t *slot[SLOTS]; /* pictures loaded for "show" */
    int cx, cy;          /* the pointer */
    int printed, streaming, first_pending, quiet;
    unsigned long sent, seq;
    char line[256];
    size_t len;
} src;

static void put_cursor(src *s, struct spa_buffer *b)
{
    struct spa_meta_cursor *mc = spa_buffer_find_meta_data(b, SPA_META_Cursor, sizeof(*mc));
    if (!mc)
        return;
    mc->id = 1;
    mc->flags = 0;
    mc->position.x = s->cx;
    mc->position.y = s->cy;
    mc->hotspot.x = mc->hotspot.y = 0;
    mc->bitmap_offset = sizeof(*mc);
    struct spa_meta_bitmap *bm = SPA_PTROFF(mc, mc->bitmap_offset, struct spa_meta_bitmap);
    bm->format = SPA_VIDEO_FORMAT_BGRA; /* bytes B, G, R, A */
    bm->size.width = CUR;
    bm->size.height = CUR;
    bm->stride = CUR * 4;
    bm->offset = sizeof(*bm);
    uint32_t *px = SPA_PTROFF(bm, bm->offset, uint32_t);
    for (int y = 0; y < CUR; y++)
        for (int x = 0; x < CUR; x++) {
            int inner = x >= 4 && x < 12 && y >= 4 && y < 12;
            px[y * CUR + x] = inner ? 0xFFFFFFFFu : 0xFF000000u;
        }
}

/* One buffer: the picture (or none, for a pointer move), with damage.
 * 0 sent, -1 skipped (no consumer, or no free buffer). */
static int send_frame(src *s, int with_pic, int dx, int dy, int dw, int dh, int damage)
{
    struct pw_buffer *pb = s->streaming ? pw_stream_dequeue_buffer(s->stream) : NULL;
    if (!pb) {
        if (!s->quiet)
            printf("skipped\n");
        return -1;
    }
    struct spa_buffer *b = pb->buffer;
    struct spa_data *d = &b->datas[0];
    struct spa_meta_header *h = spa_buffer_find_meta_data(b, SPA_META_Header, sizeof(*h));
    if (h) {
        h->pts = -1;
        h->flags = 0;
        h->seq = s->seq++;
        h->dts_offset = 0;
    }
    struct spa_meta *m = spa_buffer_find_meta(b, SPA_META_VideoDamage);
    if (m) {
        struct spa_meta_region *r = spa_meta_first(m);
        if (damage && with_pic && spa_meta_check(r, m)) {
            r->region = SPA_REGION(dx, dy, (uint32_t)dw, (uint32_t)dh);
            r++;
        }
        if (spa_meta_check(r, m))
            r->region = SPA_REGION(0, 0, 0, 0);
        if (!damage) /* as a compositor without damage: the list is left out */
            memset(spa_meta_first(m), 0, m->size);
    }
    put_cursor(s, b);
    if (with_pic && d->data) {
        for (int y = 0; y < s->h; y++)
            memcpy((uint8_t *)d->data + (size_t)y * s->stride, s->pic + (size_t)y * s->w,
                   (size_t)s->w * 4);
        d->chunk->offset = 0;
        d->chunk->size = (uint32_t)(s->stride * s->h);
        d->chunk->stride = s->stride;
    } else {
        d->chunk->size = 0;
    }
    pw_stream_queue_buffer(s->stream, pb);
    printf("sent %lu\n", ++s->sent);
    return 0;
}

/* The whole picture when a consumer comes, as a compositor sends its
 * screen when a cast starts; retried until the consumer has buffers. */
static void on_timer(void *data, uint64_t expirations)
{
    src *s = data;
    (void)expirations;
    if (s->first_pending && s->streaming) {
        s->quiet = 1;
        s->first_pending = send_frame(s, 1, 0, 0, s->w, s->h, 1) != 0;
        s->quiet = 0;
        fflush(stdout);
    }
}

/* BGRx at w x h, frames when they change (up to 60 a second). */
static const struct spa_pod *format_param(struct spa_pod_builder *b, int w, int h)
{
    return spa_pod_builder_add_object(b,
        SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
        SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
        SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
        SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_BGRx),
        SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE((uint32_t)w, (uint32_t)h)),
        SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&SPA_FRACTION(0, 1)),
        SPA_FORMAT_VIDEO_maxFramerate, SPA_POD_CHOICE_RANGE_Fraction(
            &SPA_FRACTION(60, 1), &SPA_FRACTION(1, 1), &SPA_FRACTION(60, 1)));
}

/* A binary PPM of the screen's size into slot n. */
static int load_ppm(src *s, int n, const char *path)
{
    FILE *f = fopen(path, "rb");
    int w, h, max;
    if (!f)
        return -1;
    if (fscanf(f, "P6 %d %d %d", &w, &h, &max) != 3 || w != s->w || h != s->h || max != 255 ||
        fgetc(f) == EOF) {
        fclose(f);
        return -1;
    }
    if (!s->slot[n] && !(s->slot[n] = malloc((size_t)w * h * 4))) {
        fclose(f);
        return -1;
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        int r = fgetc(f), g = fgetc(f), b = fgetc(f);
        if (b == EOF) {
            fclose(f);
            return -1;
        }
        s->slot[n][i] = 0xFF000000u | (uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b;
    }
    fclose(f);
    return 0;
}

static void fill(src *s, int x, int y, int w, int h, uint32_t rgb)
{
    for (int j = y; j < y + h && j < s->h; j++)
        for (int i = x; i < x + w && i < s->w; i++)
            s->pic[(size_t)j * s->w + i] = 0xFF000000u | rgb; /* BGRx in memory */
}

static void command(src *s, const char *l)
{
    int x, y, w, h;
    unsigned rgb;
    if (sscanf(l, "fill %x", &rgb) == 1) {
        fill(s, 0, 0, s->w, s->h, rgb);
        send_frame(s, 1, 0, 0, s->w, s->h, 1);
    } else if (sscanf(l, "nodamage %x", &rgb) == 1) {
        fill(s, 0, 0, s->w, s->h, rgb);
        send_frame(s, 1, 0, 0, s->w, s->h, 0);
    } else if (sscanf(l, "rect %d %d %d %d %x", &x, &y, &w, &h, &rgb) == 5 && x >= 0 && y >= 0 &&
               w > 0 && h > 0) {
        fill(s, x, y, w, h, rgb);
        send_frame(s, 1, x, y, w, h, 1);
    } else if (sscanf(l, "lost %d %d %d %d %x", &x, &y, &w, &h, &rgb) == 5 && x >= 0 &&
               y >= 0 && w > 0 && h > 0) {
        /* As if the buffer before this one never reached the consumer: the
         * sequence skips one and the damage lists only what changed since
         * that lost buffer (here a pixel elsewhere), not this rectangle. */
        fill(s, x, y, w, h, rgb);
        s->seq++;
        send_frame(s, 1, 0, 0, 1, 1, 1);
    } else if (sscanf(l, "cursor %d %d", &x, &y) == 2) {
        s->cx = x;
        s->cy = y;
        send_frame(s, 0, 0, 0, 0, 0, 1);
    } else if (sscanf(l, "load %d", &x) == 1 && x >= 0 && x < SLOTS) {
        const char *path = strchr(l + 5, ' ');
        printf(path && load_ppm(s, x, path + 1) == 0 ? "loaded\n" : "cannot load\n");
    } else if (sscanf(l, "show %d", &x) == 1 && x >= 0 && x < SLOTS && s->slot[x]) {
        memcpy(s->pic, s->slot[x], (size_t)s->w * s->h * 4);
        send_frame(s, 1, 0, 0, s->w, s->h, 1);
    } else if (sscanf(l, "resize %d %d %x", &w, &h, &rgb) == 3 && w > 0 && h > 0 && w <= 4096 &&
               h <= 4096) {
        /* A window resized, a screen's mode changed: a new format; the
         * picture, all of rgb, comes once the consumer has agreed to it. */
        uint32_t *np = malloc((size_t)w * h * 4);
        if (!np) {
            printf("cannot\n");
            fflush(stdout);
            return;
        }
        free(s->pic);
        s->pic = np;
        for (int i = 0; i < SLOTS; i++) /* of the old size */
            free(s->slot[i]), s->slot[i] = NULL;
        s->w = w, s->h = h, s->stride = w * 4;
        fill(s, 0, 0, w, h, rgb);
        uint8_t buf[1024];
        struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
        const struct spa_pod *fmt = format_param(&b, w, h);
        pw_stream_update_params(s->stream, &fmt, 1);
        s->first_pending = 1; /* sent by the timer once buffers of the new size exist */
        printf("sent %lu\n", s->sent); /* answered now; the picture follows */
    } else if (!strncmp(l, "save ", 5)) {
        FILE *f = fopen(l + 5, "wb");
        if (f) {
            fprintf(f, "P6\n%d %d\n255\n", s->w, s->h);
            for (size_t i = 0; i < (size_t)s->w * s->h; i++) {
                uint32_t v = s->pic[i];
                fputc((int)(v >> 16 & 0xFF), f), fputc((int)(v >> 8 & 0xFF), f), fputc((int)(v & 0xFF), f);
            }
            fclose(f);
        }
        printf(f ? "saved\n" : "cannot save\n");
    } else if (!strncmp(l, "quit", 4)) {
        pw_main_loop_quit(s->loop);
        return;
    } else {
        printf("bad command\n");
    }
    fflush(stdout);
}

static void on_stdin(void *data, int fd, uint32_t mask)
{
    src *s = data;
    char buf[256];
    ssize_t n = (mask & SPA_IO_IN) ? read(fd, buf, sizeof(buf)) : 0;
    if (n <= 0) {
        pw_main_loop_quit(s->loop);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            s->line[s->len] = 0;
            command(s, s->line);
            s->len = 0;
        } else if (s->len + 1 < sizeof(s->line)) {
            s->line[s->len++] = buf[i];
        }
    }
}

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state,
                     const char *error)
{
    src *s = data;
    (void)old;
    if (state == PW_STREAM_STATE_ERROR)
        fprintf(stderr, "pw_source: stream error: %s\n", error ? error : "?");
    if (!s->printed && pw_stream_get_node_id(s->stream) != SPA_ID_INVALID) {
        printf("node %u\n", pw_stream_get_node_id(s->stream));
        fflush(stdout);
        s->printed = 1;
    }
    int was = s->streaming;
    s->streaming = state == PW_STREAM_STATE_STREAMING;
    if (s->streaming && !was) { /* a consumer: the whole picture first */
        printf("streaming\n");
        fflush(stdout);
        s->first_pending = 1;
    }
}

static void on_param(void *data, uint32_t id, const struct spa_pod *param)
{
    src *s = data;
    if (!param || id != SPA_PARAM_Format)
        return;
    /* A format agreed (after a resize too): the whole picture once its
     * buffers come. A picture sent just after a resize may have gone into
     * a buffer of the old format, and been dropped with it. */
    s->first_pending = 1;
    uint8_t buf[1024];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *p[4];
    p[0] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
        SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(4, 2, 8),
        SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
        SPA_PARAM_BUFFERS_size, SPA_POD_Int(s->stride * s->h),
        SPA_PARAM_BUFFERS_stride, SPA_POD_Int(s->stride),
        SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemFd)));
    p[1] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
        SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
    p[2] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
        SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(sizeof(struct spa_meta_region) * 16,
                                                      sizeof(struct spa_meta_region) * 1,
                                                      sizeof(struct spa_meta_region) * 16));
    p[3] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Cursor),
        SPA_PARAM_META_size, SPA_POD_Int(CURSOR_META_SIZE));
    pw_stream_update_params(s->stream, p, 4);
}

static const struct pw_stream_events events = {
    PW_VERSION_STREAM_EVENTS, .state_changed = on_state, .param_changed = on_param};

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[2]) <= 0 || atoi(argv[1]) > 4096 ||
        atoi(argv[2]) > 4096) {
        fprintf(stderr, "usage: pw_source WIDTH HEIGHT\n");
        return 2;
    }
    pw_init(NULL, NULL);
    src s = {.w = atoi(argv[1]), .h = atoi(argv[2]), .cx = 10, .cy = 10};
    s.stride = s.w * 4;
    s.pic = calloc((size_t)s.w * s.h, 4);
    s.loop = pw_main_loop_new(NULL);
    struct pw_loop *l = pw_main_loop_get_loop(s.loop);
    struct pw_context *ctx = pw_context_new(l, NULL, 0);
    struct pw_core *core = ctx ? pw_context_connect(ctx, NULL, 0) : NULL;
    if (!s.pic || !core) {
        fprintf(stderr, "pw_source: cannot connect to PipeWire: %s\n", strerror(errno));
        return 1;
    }
    fill(&s, 0, 0, s.w, s.h, 0x336699);
    s.stream = pw_stream_new(core, "mctest-screen",
                             pw_properties_new(PW_KEY_MEDIA_CLASS, "Video/Source", NULL));
    pw_stream_add_listener(s.stream, &s.listener, &events, &s);
    uint8_t buf[1024];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *fmt = format_param(&b, s.w, s.h);
    if (pw_stream_connect(s.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
                          PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS, &fmt, 1) < 0) {
        fprintf(stderr, "pw_source: cannot connect the stream\n");
        return 1;
    }
    pw_loop_add_io(l, 0, SPA_IO_IN, false, on_stdin, &s);
    struct spa_source *timer = pw_loop_add_timer(l, on_timer, &s);
    struct timespec first = {0, 20000000}, every = {0, 20000000};
    pw_loop_update_timer(l, timer, &first, &every, false);
    pw_main_loop_run(s.loop);
    pw_stream_destroy(s.stream);
    pw_core_disconnect(core);
    pw_context_destroy(ctx);
    pw_main_loop_destroy(s.loop);
    free(s.pic);
    for (int i = 0; i < SLOTS; i++)
        free(s.slot[i]);
    pw_deinit();
    return 0;
}
