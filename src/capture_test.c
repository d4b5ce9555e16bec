/* The built-in test patterns as capture backends (mc/capture.h): "test",
 * the moving screen-like pattern of mc/testsrc.h drawn for each frame, and
 * "test-video", a photo-like picture where every tile changes every frame,
 * rendered ahead for a cycle of frames so drawing costs nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "mc/capture.h"
#include "mc/common.h"
#include "mc/testsrc.h"

#define VIDEO_CYCLE 8 /* test-video frames rendered ahead and cycled */

typedef struct {
    int w, h, video;
    uint8_t *px; /* one frame, or VIDEO_CYCLE of them */
} test_cap;

static int open_pattern(const mc_capture_config *cfg, void **state, char *why, size_t cap,
                        int video)
{
    test_cap *t = calloc(1, sizeof(*t));
    if (!t)
        return MC_ENOMEM;
    t->w = cfg->width ? cfg->width : 1280;
    t->h = cfg->height ? cfg->height : 720;
    t->video = video;
    size_t frame = (size_t)t->w * t->h * 4;
    t->px = malloc(frame * (video ? VIDEO_CYCLE : 1));
    if (!t->px) {
        snprintf(why, cap, "out of memory for a %dx%d test pattern", t->w, t->h);
        free(t);
        return MC_ENOMEM;
    }
    for (int i = 0; video && i < VIDEO_CYCLE; i++)
        mc_testsrc_render_video(t->px + frame * (size_t)i, t->w * 4, t->w, t->h, (uint32_t)i);
    *state = t;
    return 0;
}

static int test_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    return open_pattern(cfg, state, why, cap, 0);
}

static int video_open(const mc_capture_config *cfg, void **state, char *why, size_t cap)
{
    return open_pattern(cfg, state, why, cap, 1);
}

static void test_size(void *state, int *w, int *h)
{
    const test_cap *t = state;
    *w = t->w;
    *h = t->h;
}

static int test_grab(void *state, uint32_t frame, const uint8_t **pixels, int *pitch,
                     int *changed)
{
    test_cap *t = state;
    *pitch = t->w * 4;
    *changed = 1;
    if (t->video) {
        *pixels = t->px + (size_t)t->w * t->h * 4 * (frame % VIDEO_CYCLE);
        return 0;
    }
    mc_testsrc_render(t->px, t->w * 4, t->w, t->h, frame);
    *pixels = t->px;
    return 0;
}

static void test_describe(void *state, char *out, size_t cap)
{
    const test_cap *t = state;
    snprintf(out, cap, "%s %dx%d", t->video ? "photo-like test video" : "moving test pattern",
             t->w, t->h);
}

static void test_close(void *state)
{
    test_cap *t = state;
    if (!t)
        return;
    free(t->px);
    free(t);
}

/* No change reports (wait = NULL): the patterns change on the clock. */
const mc_capture_backend mc_capture_test = {.name = "test", .open = test_open,
                                            .size = test_size, .grab = test_grab,
                                            .describe = test_describe, .close = test_close};
const mc_capture_backend mc_capture_test_video = {.name = "test-video", .open = video_open,
                                                  .size = test_size, .grab = test_grab,
                                                  .describe = test_describe,
                                                  .close = test_close};
