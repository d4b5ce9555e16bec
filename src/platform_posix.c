/* The platform layer on POSIX (mc/platform.h): pthreads, the monotonic
 * clock, getrandom. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mc/platform.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "mc/common.h"

int mc_thread_start(mc_thread *t, mc_thread_fn fn, void *arg)
{
    return pthread_create(t, NULL, fn, arg) ? MC_ENOMEM : 0;
}

void mc_thread_join(mc_thread t) { pthread_join(t, NULL); }

void mc_mutex_init(mc_mutex *m) { pthread_mutex_init(m, NULL); }
void mc_mutex_destroy(mc_mutex *m) { pthread_mutex_destroy(m); }
void mc_mutex_lock(mc_mutex *m) { pthread_mutex_lock(m); }
void mc_mutex_unlock(mc_mutex *m) { pthread_mutex_unlock(m); }

void mc_cond_init(mc_cond *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

void mc_cond_destroy(mc_cond *c) { pthread_cond_destroy(c); }
void mc_cond_wait(mc_cond *c, mc_mutex *m) { pthread_cond_wait(c, m); }

int mc_cond_wait_until(mc_cond *c, mc_mutex *m, uint64_t deadline_us)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_us / 1000000u),
                          .tv_nsec = (long)(deadline_us % 1000000u) * 1000};
    return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT;
}

void mc_cond_signal(mc_cond *c) { pthread_cond_signal(c); }
void mc_cond_broadcast(mc_cond *c) { pthread_cond_broadcast(c); }

void mc_once_run(mc_once *o, void (*fn)(void)) { pthread_once(o, fn); }

int mc_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

uint64_t mc_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t mc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void mc_sleep_until_us(uint64_t deadline_us)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_us / 1000000u),
                          .tv_nsec = (long)(deadline_us % 1000000u) * 1000};
    /* EINTR (a signal) just returns early; callers re-check their state. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}
