/* Screen capture behind one interface. A backend per source, one file
 * each: X11 (src/capture_x11.c: MIT-SHM or XGetImage, DAMAGE, the cursor
 * from XFixes), wlroots compositors (src/capture_wlr.c: wlr-screencopy
 * with damage), the ScreenCast portal with PipeWire (src/capture_portal.c:
 * GNOME, KDE and any desktop with a portal backend) and the built-in test
 * patterns (src/capture_test.c); the Windows backends join the table in
 * src/capture.c. Pixels
 * come out as BGRX, 4 bytes per pixel. */
#ifndef MC_CAPTURE_H
#define MC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mc_capture mc_capture;

typedef struct {
    const char *backend; /* "x11", "wlr", "portal", "test", "test-video"; NULL = "x11" */
    const char *display; /* X11: NULL = $DISPLAY */
    int x, y, w, h;      /* screens: the region; w = 0 means the whole screen */
    const char *monitor; /* screens: a monitor by its index (0, 1, ...) or name, as
                            mc_capture_monitors lists them; NULL = the whole
                            screen (X11) or the first output (wlr). Not with a region
                            on X11; on wlr the region is within the monitor */
    int width, height;   /* test patterns: their size (0 = 1280x720) */
    int cursor;          /* draw the mouse pointer into the picture */
    int no_shm;          /* X11: force XGetImage (tests the fallback) */
    int no_damage;       /* X11: grab every frame even without DAMAGE events */
} mc_capture_config;

/* A monitor of the screen being captured, in the screen's pixels. */
typedef struct {
    char name[32];
    int x, y, w, h;
} mc_monitor;

/* One backend: its operations on its own state. */
typedef struct {
    const char *name;
    /* Opens the source: 0, or MC_EDISPLAY (no display or session to
     * capture), MC_EINVAL (a region outside the screen), MC_ECAPTURE, with
     * *why saying it in words that name the cause. */
    int (*open)(const mc_capture_config *cfg, void **state, char *why, size_t cap);
    void (*size)(void *state, int *w, int *h);
    /* The picture of frame number `frame` (test patterns draw from it);
     * valid until the next grab. *changed = 0: the screen did not change
     * since the last grab and the picture was not copied again. */
    int (*grab)(void *state, uint32_t frame, const uint8_t **pixels, int *pitch, int *changed);
    /* Waits up to timeout_us for a change: 1 as soon as one is reported,
     * 0 when the time ran out. NULL: the source cannot tell (the caller
     * keeps its clock). */
    int (*wait)(void *state, uint64_t timeout_us);
    /* A short description for the teacher: "X11 :0, MIT-SHM, DAMAGE". */
    void (*describe)(void *state, char *out, size_t cap);
    /* Optional: pictures copied, and changed rectangles the source (the
     * compositor) reported with them. NULL: not counted. */
    void (*stats)(void *state, uint64_t *frames, uint64_t *rects);
    /* Optional: the screen's monitors (up to max), for choosing one as the
     * region; returns how many. NULL: the source has no monitors to list. */
    int (*monitors)(void *state, mc_monitor *out, int max);
    /* Optional: why the source stopped, in words, once grab has failed
     * ("the desktop ended the screen sharing"); NULL when it does not know. */
    const char *(*error)(void *state);
    void (*close)(void *state);
} mc_capture_backend;

extern const mc_capture_backend mc_capture_x11, mc_capture_test, mc_capture_test_video,
    mc_capture_wlr, mc_capture_portal, mc_capture_gdi, mc_capture_dxgi;

/* Opens cfg->backend. Returns 0 or an MC_E* code with *why filled. */
int mc_capture_create(const mc_capture_config *cfg, mc_capture **out, char *why, size_t cap);
/* Size of the captured picture. */
void mc_capture_size(const mc_capture *c, int *w, int *h);
int mc_capture_grab(mc_capture *c, uint32_t frame, const uint8_t **pixels, int *pitch,
                    int *changed);
/* Waits up to timeout_us for the source to change: 1 as soon as it
 * reports one, 0 when the time ran out. A source that cannot report
 * changes returns 1 at once: the caller keeps its clock. */
int mc_capture_wait(mc_capture *c, uint64_t timeout_us);
/* 1 if the source reports its changes (capture on change is possible). */
int mc_capture_reports_changes(const mc_capture *c);
const char *mc_capture_backend_name(const mc_capture *c);
void mc_capture_describe(const mc_capture *c, char *out, size_t cap);
/* Pictures copied and changed rectangles reported by the source: 1, or 0
 * when the backend does not count them. */
int mc_capture_stats(const mc_capture *c, uint64_t *frames, uint64_t *rects);
/* The monitors of the screen (a region of it is captured or not): how many
 * were written to out, 0 when the source cannot list them. X11: RandR's
 * monitors, parts of one screen; wlr: the compositor's outputs. */
int mc_capture_monitors(const mc_capture *c, mc_monitor *out, int max);
/* Why the source stopped after a failed grab, in words; NULL when the
 * backend cannot say. */
const char *mc_capture_error(const mc_capture *c);
/* The backends this build has, as "x11, wlr, test, test-video". */
const char *mc_capture_backends(void);
void mc_capture_destroy(mc_capture *c);

/* X11 only, for tests: 1 if MIT-SHM / DAMAGE are in use. */
int mc_capture_x11_uses_shm(const mc_capture *c);
int mc_capture_x11_uses_damage(const mc_capture *c);

#endif
