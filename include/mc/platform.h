/* The platform layer: threads, mutexes, condition variables with timed
 * waits, a once-only initialiser and random bytes. One implementation per
 * platform, one file each: src/platform_posix.c (Linux, the BSDs) and
 * src/platform_win32.c (Windows 8 and later: SRW locks, condition
 * variables, BCryptGenRandom). The library uses only these; the clock is
 * mc_now_us / mc_sleep_until_us (mc/common.h), implemented beside them.
 * Sockets have their seam in mc/net.h. */
#ifndef MC_PLATFORM_H
#define MC_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <windows.h>
typedef HANDLE mc_thread;
typedef SRWLOCK mc_mutex;
typedef CONDITION_VARIABLE mc_cond;
typedef INIT_ONCE mc_once;
#define MC_ONCE_INIT INIT_ONCE_STATIC_INIT
#else
#include <pthread.h>
typedef pthread_t mc_thread;
typedef pthread_mutex_t mc_mutex;
typedef pthread_cond_t mc_cond;
typedef pthread_once_t mc_once;
#define MC_ONCE_INIT PTHREAD_ONCE_INIT
#endif

typedef void *(*mc_thread_fn)(void *arg);

/* Starts fn(arg) on a new thread: 0, or MC_ENOMEM. */
int mc_thread_start(mc_thread *t, mc_thread_fn fn, void *arg);
/* Waits for the thread to return, and frees it. */
void mc_thread_join(mc_thread t);

void mc_mutex_init(mc_mutex *m);
void mc_mutex_destroy(mc_mutex *m);
void mc_mutex_lock(mc_mutex *m);
void mc_mutex_unlock(mc_mutex *m);

/* A condition variable whose timed waits follow the monotonic clock (a
 * wall clock set back cannot stretch them). */
void mc_cond_init(mc_cond *c);
void mc_cond_destroy(mc_cond *c);
void mc_cond_wait(mc_cond *c, mc_mutex *m);
/* Waits until woken or until mc_now_us() reaches deadline_us: 0 when
 * woken (or spuriously), 1 when the deadline passed. */
int mc_cond_wait_until(mc_cond *c, mc_mutex *m, uint64_t deadline_us);
void mc_cond_signal(mc_cond *c);
void mc_cond_broadcast(mc_cond *c);

/* Runs fn once in the process, whichever thread comes first. */
void mc_once_run(mc_once *o, void (*fn)(void));

/* The wall clock (UTC), microseconds since 1970: for what crosses machines
 * (manifest times, announcements); durations use mc_now_us. */
uint64_t mc_wall_us(void);

/* n bytes from the system's secure generator: 0, or a negative code. */
int mc_random_bytes(void *buf, size_t n);

#endif
