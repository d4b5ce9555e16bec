/* Shared by the capture seam and its backends (internal). */
#ifndef MC_CAPTURE_INTERNAL_H
#define MC_CAPTURE_INTERNAL_H

#include "mc/capture.h"

/* The backend state of an X11 capture, NULL for any other backend. */
void *mc__capture_state(const mc_capture *c);

/* The monitor `which` names in m[0..n): by index ("0", "1", ...) or by
 * name; -1 when none. */
int mc__monitor_pick(const mc_monitor *m, int n, const char *which);
/* "0 'HDMI-1' 1920x1080+0+0, 1 '...' ..." (or "none"), for messages. */
void mc__monitor_names(const mc_monitor *m, int n, char *out, size_t cap);

#endif
