/* Error text, the monotonic clock, logging and range-checked parsing. */
#include "mc/common.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int mc_log_level = 0;

const char *mc_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case MC_EINVAL: return "invalid argument";
    case MC_ENOMEM: return "out of memory";
    case MC_ETRUNC: return "packet truncated";
    case MC_EMAGIC: return "not an mcshare packet";
    case MC_EVERSION: return "unsupported mcshare wire version";
    case MC_EFIELD: return "packet field out of range";
    case MC_ETOOBIG: return "data too large for the buffer or MTU";
    case MC_EJPEG: return "JPEG encode/decode failed";
    case MC_EDISPLAY: return "cannot open the X display";
    case MC_ECAPTURE: return "screen capture failed";
    case MC_ESTATE: return "operation not valid in this state";
    case MC_EADDR: return "bad multicast group or interface address";
    case MC_EAUDIO: return "no usable audio device or file";
    default: break;
    }
    if (err < 0 && err > -1000)
        return strerror(-err);
    return "unknown error";
}

/* mc_now_us and mc_sleep_until_us: the platform layer (src/platform_posix.c). */

void mc_log(int level, const char *fmt, ...)
{
    if (level > mc_log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int mc_parse_long(const char *text, long min, long max, long *out)
{
    if (!text || !*text)
        return MC_EINVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return MC_EINVAL;
    *out = v;
    return 0;
}

int mc_parse_double(const char *text, double min, double max, double *out)
{
    if (!text || !*text)
        return MC_EINVAL;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end != '\0' || !isfinite(v) || v < min || v > max)
        return MC_EINVAL;
    *out = v;
    return 0;
}

/* Parses one unsigned decimal from *p, advancing it. */
static int take_uint(const char **p, long max, int *out)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return MC_EINVAL;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > max)
            return MC_EINVAL;
        s++;
    }
    *p = s;
    *out = (int)v;
    return 0;
}

int mc_parse_size(const char *text, int max, int *w, int *h)
{
    const char *p = text;
    if (!p || take_uint(&p, max, w) || (*p != 'x' && *p != 'X'))
        return MC_EINVAL;
    p++;
    if (take_uint(&p, max, h) || *p != '\0' || *w < 1 || *h < 1)
        return MC_EINVAL;
    return 0;
}

int mc_parse_region(const char *text, int max, int *w, int *h, int *x, int *y)
{
    const char *p = text;
    if (!p || take_uint(&p, max, w) || (*p != 'x' && *p != 'X'))
        return MC_EINVAL;
    p++;
    if (take_uint(&p, max, h) || *p++ != '+' || take_uint(&p, INT_MAX / 2, x) ||
        *p++ != '+' || take_uint(&p, INT_MAX / 2, y) || *p != '\0' || *w < 1 || *h < 1)
        return MC_EINVAL;
    return 0;
}
