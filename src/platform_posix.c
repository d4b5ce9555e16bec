/* The platform layer on POSIX (mc/platform.h): pthreads, the monotonic
 * clock, getrandom, socket I/O (poll, recvmmsg). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mc/platform.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

int mc_host_name(char *out, size_t cap)
{
    if (!cap)
        return MC_EINVAL;
    if (gethostname(out, cap - 1)) {
        out[0] = 0;
        return -errno;
    }
    out[cap - 1] = 0;
    return 0;
}

int mc_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

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

int mc_sock_startup(void) { return 0; }

int mc_sock_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int mc_sock_opt(int fd, int level, int name, const void *val, int len)
{
    return setsockopt(fd, level, name, val, (socklen_t)len) ? -errno : 0;
}

int mc_sock_bind(int fd, const struct sockaddr_in *a)
{
    return bind(fd, (const struct sockaddr *)a, sizeof(*a)) ? -errno : 0;
}

int mc_sock_connect(int fd, const struct sockaddr_in *a)
{
    return connect(fd, (const struct sockaddr *)a, sizeof(*a)) ? -errno : 0;
}

int mc_net_ifaces(mc_iface *out, int max)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list))
        return -errno;
    int n = 0;
    for (struct ifaddrs *i = list; i && n < max; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        snprintf(out[n].name, sizeof(out[n].name), "%s", i->ifa_name);
        out[n].addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        out[n].index = if_nametoindex(i->ifa_name);
        n++;
    }
    freeifaddrs(list);
    return n;
}

void mc_sock_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int mc_sock_wait(const int *fds, int n, int timeout_ms, uint8_t *ready)
{
    struct pollfd small[8], *p = n <= 8 ? small : calloc((size_t)n, sizeof(*p));
    if (!p)
        return MC_ENOMEM;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN}; /* negative: ignored by poll */
    int r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0)
        r = -errno;
    for (int i = 0; i < n; i++)
        ready[i] = r > 0 && (p[i].revents & (POLLIN | POLLERR | POLLHUP));
    if (p != small)
        free(p);
    return r;
}

long mc_sock_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from)
{
    socklen_t fl = sizeof(*from);
    ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, from ? &fl : NULL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
    return (long)n;
}

int mc_sock_recv_batch(int fd, uint8_t *const *bufs, size_t cap, size_t *lens,
                       struct sockaddr_in *froms, int max)
{
    enum { MAXB = 64 };
    struct mmsghdr msgs[MAXB];
    struct iovec iov[MAXB];
    if (max > MAXB)
        max = MAXB;
    for (int i = 0; i < max; i++) {
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = cap};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1,
                                               .msg_name = froms ? &froms[i] : NULL,
                                               .msg_namelen = froms ? sizeof(froms[i]) : 0}};
    }
    int n = recvmmsg(fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        lens[i] = msgs[i].msg_len;
    return n;
}

long mc_sock_send(int fd, const void *buf, size_t len, const struct sockaddr_in *to, int nowait)
{
    ssize_t n = to ? sendto(fd, buf, len, nowait ? MSG_DONTWAIT : 0, (const struct sockaddr *)to,
                            sizeof(*to))
                   : send(fd, buf, len, nowait ? MSG_DONTWAIT : 0);
    return n < 0 ? -errno : (long)n;
}
