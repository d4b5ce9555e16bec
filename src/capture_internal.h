/* Shared by the capture seam and its backends (internal). */
#ifndef MC_CAPTURE_INTERNAL_H
#define MC_CAPTURE_INTERNAL_H

#include "mc/capture.h"

/* The backend state of an X11 capture, NULL for any other backend. */
void *mc__capture_state(const mc_capture *c);

#endif
