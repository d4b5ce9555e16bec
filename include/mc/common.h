/* mcshare — common definitions: error codes, the clock, logging.
 *
 * Every function in the library returns 0 on success or a negative MC_E*
 * code; OS errors are returned as negated errno values. mc_strerror() turns
 * either kind into text.
 */
#ifndef MC_COMMON_H
#define MC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define MC_VERSION_STRING "0.1.0"

/* Library error codes. They are all below -1000 so they never collide with
 * a negated errno. The comment says the likely cause. */
enum {
    MC_EINVAL = -1001,    /* a bad argument or option value from the caller */
    MC_ENOMEM = -1002,    /* an allocation failed (machine out of memory) */
    MC_ETRUNC = -1003,    /* a packet is shorter than its header says */
    MC_EMAGIC = -1004,    /* not an mcshare packet (foreign traffic on the port) */
    MC_EVERSION = -1005,  /* an mcshare packet of a wire version we do not speak */
    MC_EFIELD = -1006,    /* a header field out of range (corrupt or forged packet) */
    MC_ETOOBIG = -1007,   /* the data does not fit the buffer or the MTU */
    MC_EJPEG = -1008,     /* libjpeg-turbo refused to encode or decode */
    MC_EDISPLAY = -1009,  /* the X display cannot be opened (no $DISPLAY, no server) */
    MC_ECAPTURE = -1010,  /* the X server refused a screen grab */
    MC_ESTATE = -1011,    /* a call in the wrong state (e.g. started twice) */
    MC_EADDR = -1012,     /* not a multicast group address, or a bad interface */
    MC_EAUDIO = -1013,    /* no audio device, or the audio file cannot be used */
};

/* Text for an MC_E* code or a negated errno. Never NULL. */
const char *mc_strerror(int err);

/* Monotonic clock in microseconds (CLOCK_MONOTONIC). All timestamps on the
 * wire and in the statistics use this clock. */
uint64_t mc_now_us(void);

/* Sleeps until the monotonic clock reaches deadline_us (returns at once if
 * it already has). */
void mc_sleep_until_us(uint64_t deadline_us);

/* Logging. Level 0 = errors and warnings only, 1 = info (-v), 2 = debug (-vv). */
extern int mc_log_level;
void mc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Range-checked number parsing for command lines (no atoi/sscanf). Return 0
 * or MC_EINVAL when the text is not a whole number in [min, max]. */
int mc_parse_long(const char *text, long min, long max, long *out);
int mc_parse_double(const char *text, double min, double max, double *out);
/* "WxH" -> w, h (each 1..max). */
int mc_parse_size(const char *text, int max, int *w, int *h);
/* "WxH+X+Y" -> w, h, x, y. */
int mc_parse_region(const char *text, int max, int *w, int *h, int *x, int *y);

#endif
