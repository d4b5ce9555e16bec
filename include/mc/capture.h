/* Screen capture from an X11 display: MIT-SHM (XShmGetImage) where the
 * server offers it, XGetImage otherwise; the cursor is drawn in with
 * XFixes. Pixels come out as BGRX, 4 bytes per pixel. */
#ifndef MC_CAPTURE_H
#define MC_CAPTURE_H

#include <stdint.h>

typedef struct mc_capture mc_capture;

typedef struct {
    const char *display; /* NULL = $DISPLAY */
    int x, y, w, h;      /* region; w = 0 means the whole screen */
    int cursor;          /* draw the mouse pointer into the picture */
    int no_shm;          /* force XGetImage (tests the fallback) */
    int no_damage;       /* grab every frame even without DAMAGE events */
} mc_capture_config;

/* Returns 0, MC_EDISPLAY when the display cannot be opened, MC_EINVAL when
 * the region lies outside the screen. */
int mc_capture_create(const mc_capture_config *cfg, mc_capture **out);

/* The size of a display's screen (for error messages): 0, or
 * MC_EDISPLAY when it cannot be opened. */
int mc_capture_display_size(const char *display, int *w, int *h);
/* Size of the captured region. */
void mc_capture_size(const mc_capture *c, int *w, int *h);

/* 1 if MIT-SHM is in use. */
int mc_capture_uses_shm(const mc_capture *c);

/* Grabs the region. *pixels points to the capture buffer until the next
 * grab; *pitch is its row length in bytes. *changed is 0 when the X server
 * reported no damage and the pointer did not move since the last grab: the
 * picture is then the previous one and was not copied again (a static
 * screen costs next to nothing). Without the DAMAGE extension, always 1. */
int mc_capture_grab(mc_capture *c, const uint8_t **pixels, int *pitch, int *changed);

/* Waits up to timeout_us for the screen to change: returns 1 as soon as
 * the X server reports damage (or the cursor changed), 0 when the time ran
 * out. Without DAMAGE it cannot know, and returns 1 at once: the caller
 * keeps its clock. */
int mc_capture_wait(mc_capture *c, uint64_t timeout_us);
/* 1 if the DAMAGE extension is in use. */
int mc_capture_uses_damage(const mc_capture *c);

void mc_capture_destroy(mc_capture *c);

#endif
