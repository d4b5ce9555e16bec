/* The platform layer on Windows 8 and later (mc/platform.h): threads from
 * _beginthreadex, SRW locks, condition variables, InitOnce, the
 * performance counter as the monotonic clock, the system time as the wall
 * clock, BCryptGenRandom, Winsock (WSAPoll). Built by the Windows cross-build (issue 13);
 * tools/check compiles it with mingw-w64 where that is installed. */
#include "mc/platform.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <bcrypt.h>
#include <iphlpapi.h>
#include <stdio.h>
#include <errno.h>
#include <process.h>
#include <limits.h>
#include <stdlib.h>

#include "mc/common.h"

/* _beginthreadex wants unsigned __stdcall fn(void *): a trampoline. */
typedef struct {
    mc_thread_fn fn;
    void *arg;
} start_arg;

static unsigned __stdcall trampoline(void *p)
{
    start_arg a = *(start_arg *)p;
    free(p);
    a.fn(a.arg);
    return 0;
}

int mc_thread_start(mc_thread *t, mc_thread_fn fn, void *arg)
{
    start_arg *a = malloc(sizeof(*a));
    if (!a)
        return MC_ENOMEM;
    a->fn = fn;
    a->arg = arg;
    uintptr_t h = _beginthreadex(NULL, 0, trampoline, a, 0, NULL);
    if (!h) {
        free(a);
        return MC_ENOMEM;
    }
    *t = (HANDLE)h;
    return 0;
}

void mc_thread_join(mc_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

void mc_mutex_init(mc_mutex *m) { InitializeSRWLock(m); }
void mc_mutex_destroy(mc_mutex *m) { (void)m; } /* SRW locks hold no resources */
void mc_mutex_lock(mc_mutex *m) { AcquireSRWLockExclusive(m); }
void mc_mutex_unlock(mc_mutex *m) { ReleaseSRWLockExclusive(m); }

void mc_cond_init(mc_cond *c) { InitializeConditionVariable(c); }
void mc_cond_destroy(mc_cond *c) { (void)c; }
void mc_cond_wait(mc_cond *c, mc_mutex *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }

int mc_cond_wait_until(mc_cond *c, mc_mutex *m, uint64_t deadline_us)
{
    uint64_t now = mc_now_us();
    if (now >= deadline_us)
        return 1;
    /* Milliseconds, rounded up: never back before the deadline. */
    uint64_t ms = (deadline_us - now + 999) / 1000;
    DWORD wait = ms >= INFINITE ? INFINITE - 1 : (DWORD)ms;
    if (SleepConditionVariableSRW(c, m, wait, 0))
        return 0;
    return GetLastError() == ERROR_TIMEOUT ? mc_now_us() >= deadline_us : 0;
}

void mc_cond_signal(mc_cond *c) { WakeConditionVariable(c); }
void mc_cond_broadcast(mc_cond *c) { WakeAllConditionVariable(c); }

static BOOL CALLBACK once_trampoline(PINIT_ONCE o, PVOID fn, PVOID *ctx)
{
    (void)o;
    (void)ctx;
    ((void (*)(void))fn)();
    return TRUE;
}

void mc_once_run(mc_once *o, void (*fn)(void))
{
    InitOnceExecuteOnce(o, once_trampoline, (PVOID)fn, NULL);
}

int mc_host_name(char *out, size_t cap)
{
    DWORD n = (DWORD)(cap > 0xFFFF ? 0xFFFF : cap);
    if (!cap)
        return MC_EINVAL;
    if (!GetComputerNameExA(ComputerNameDnsHostname, out, &n)) {
        out[0] = 0;
        return -EIO;
    }
    return 0;
}

int mc_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n > 0 ? (int)n : 1;
}

int mc_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ULONG chunk = n > 0x40000000u ? 0x40000000u : (ULONG)n;
        if (BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return MC_EINVAL;
        p += chunk;
        n -= chunk;
    }
    return 0;
}

uint64_t mc_wall_us(void)
{
    FILETIME ft; /* 100 ns since 1601 */
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return t / 10u - 11644473600000000ull;
}

uint64_t mc_now_us(void)
{
    static LARGE_INTEGER freq; /* fixed at boot: reading it twice is harmless */
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    return (uint64_t)(c.QuadPart / freq.QuadPart) * 1000000u +
           (uint64_t)(c.QuadPart % freq.QuadPart) * 1000000u / (uint64_t)freq.QuadPart;
}

void mc_sleep_until_us(uint64_t deadline_us)
{
    /* A high-resolution waitable timer where there is one (Windows 10
     * 1803+), Sleep's coarser tick otherwise. */
    uint64_t now = mc_now_us();
    if (now >= deadline_us)
        return;
    HANDLE t = CreateWaitableTimerExW(NULL, NULL, 0x00000002 /* HIGH_RESOLUTION */,
                                      TIMER_ALL_ACCESS);
    if (t) {
        LARGE_INTEGER due = {.QuadPart = -(LONGLONG)((deadline_us - now) * 10u)};
        if (SetWaitableTimer(t, &due, 0, NULL, NULL, FALSE))
            WaitForSingleObject(t, INFINITE);
        CloseHandle(t);
    } else {
        Sleep((DWORD)((deadline_us - now + 999) / 1000));
    }
}

/* ---- socket I/O: Winsock --------------------------------------------------- */

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_err;

static BOOL CALLBACK wsa_start(PINIT_ONCE o, PVOID p, PVOID *ctx)
{
    (void)o, (void)p, (void)ctx;
    WSADATA d;
    wsa_err = WSAStartup(MAKEWORD(2, 2), &d) ? MC_ENOMEM : 0;
    return TRUE;
}

int mc_sock_startup(void)
{
    InitOnceExecuteOnce(&wsa_once, wsa_start, NULL, NULL);
    return wsa_err;
}

/* Winsock's errors as the library's negative codes. */
static long sock_err(void)
{
    switch (WSAGetLastError()) {
    case WSAEWOULDBLOCK: return -EAGAIN;
    case WSAENOBUFS: return -ENOBUFS;
    case WSAEINTR: return -EINTR;
    case WSAEADDRINUSE: return -EADDRINUSE;
    case WSAEADDRNOTAVAIL: return -EADDRNOTAVAIL;
    case WSAEACCES: return -EACCES;
    case WSAENETUNREACH: return -ENETUNREACH;
    case WSAEHOSTUNREACH: return -EHOSTUNREACH;
    case WSAEINVAL: return -EINVAL;
    case WSAEMFILE: return -EMFILE;
    case WSAEAFNOSUPPORT: return -EAFNOSUPPORT;
    default: return -EIO;
    }
}

int mc_sock_udp(void)
{
    SOCKET s = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET)
        return (int)sock_err();
    if (s > INT_MAX) { /* kernel handles are small; never seen */
        closesocket(s);
        return -EMFILE;
    }
    return (int)s;
}

int mc_sock_opt(int fd, int level, int name, const void *val, int len)
{
    return setsockopt((SOCKET)fd, level, name, val, len) == SOCKET_ERROR ? (int)sock_err() : 0;
}

int mc_sock_bind(int fd, const struct sockaddr_in *a)
{
    return bind((SOCKET)fd, (const struct sockaddr *)a, sizeof(*a)) == SOCKET_ERROR
               ? (int)sock_err() : 0;
}

int mc_sock_connect(int fd, const struct sockaddr_in *a)
{
    return connect((SOCKET)fd, (const struct sockaddr *)a, sizeof(*a)) == SOCKET_ERROR
               ? (int)sock_err() : 0;
}

int mc_net_ifaces(mc_iface *out, int max)
{
    ULONG size = 16384;
    IP_ADAPTER_ADDRESSES *list = NULL;
    ULONG r = ERROR_BUFFER_OVERFLOW;
    for (int tries = 0; tries < 3 && r == ERROR_BUFFER_OVERFLOW; tries++) {
        free(list);
        if (!(list = malloc(size)))
            return MC_ENOMEM;
        r = GetAdaptersAddresses(AF_INET, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
                                 GAA_FLAG_SKIP_DNS_SERVER, NULL, list, &size);
    }
    if (r != NO_ERROR) {
        free(list);
        return r == ERROR_NO_DATA ? 0 : -EIO;
    }
    int n = 0;
    for (IP_ADAPTER_ADDRESSES *a = list; a && n < max; a = a->Next) {
        IP_ADAPTER_UNICAST_ADDRESS *u = a->FirstUnicastAddress;
        while (u && u->Address.lpSockaddr->sa_family != AF_INET)
            u = u->Next;
        if (!u)
            continue;
        if (!WideCharToMultiByte(CP_UTF8, 0, a->FriendlyName, -1, out[n].name,
                                 (int)sizeof(out[n].name), NULL, NULL))
            snprintf(out[n].name, sizeof(out[n].name), "%s", a->AdapterName);
        out[n].addr = ((struct sockaddr_in *)u->Address.lpSockaddr)->sin_addr;
        out[n].index = a->IfIndex;
        n++;
    }
    free(list);
    return n;
}

void mc_sock_close(int fd)
{
    if (fd >= 0)
        closesocket((SOCKET)fd);
}

int mc_sock_wait(const int *fds, int n, int timeout_ms, uint8_t *ready)
{
    WSAPOLLFD small[8], *p = n <= 8 ? small : calloc((size_t)n, sizeof(*p));
    if (!p)
        return MC_ENOMEM;
    int live = 0;
    for (int i = 0; i < n; i++) /* WSAPoll takes no placeholders: skip the negative */
        if (fds[i] >= 0)
            p[live++] = (WSAPOLLFD){.fd = (SOCKET)fds[i], .events = POLLRDNORM};
    int r = live ? WSAPoll(p, (ULONG)live, timeout_ms) : (Sleep((DWORD)timeout_ms), 0);
    if (r < 0)
        r = (int)sock_err();
    for (int i = 0, k = 0; i < n; i++)
        ready[i] = fds[i] >= 0 && r > 0 && (p[k++].revents & (POLLRDNORM | POLLERR | POLLHUP));
    if (p != small)
        free(p);
    return r;
}

long mc_sock_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from)
{
    /* No MSG_DONTWAIT in Winsock: ask first, so the call never blocks. */
    WSAPOLLFD p = {.fd = (SOCKET)fd, .events = POLLRDNORM};
    if (WSAPoll(&p, 1, 0) <= 0 || !(p.revents & (POLLRDNORM | POLLERR)))
        return 0;
    int fl = sizeof(*from);
    int n = recvfrom((SOCKET)fd, buf, (int)(cap > INT_MAX ? INT_MAX : cap), 0,
                     (struct sockaddr *)from, from ? &fl : NULL);
    if (n == SOCKET_ERROR) {
        int e = WSAGetLastError();
        /* A datagram longer than cap is cut, as on POSIX; an ICMP port
         * unreachable from an earlier send is not an error of this read. */
        if (e == WSAEMSGSIZE)
            return (long)cap;
        return e == WSAECONNRESET || e == WSAEWOULDBLOCK ? 0 : sock_err();
    }
    return n;
}

int mc_sock_recv_batch(int fd, uint8_t *const *bufs, size_t cap, size_t *lens,
                       struct sockaddr_in *froms, int max)
{
    int n = 0;
    while (n < max) {
        long got = mc_sock_recv(fd, bufs[n], cap, froms ? &froms[n] : NULL);
        if (got < 0)
            return n ? n : (int)got;
        if (got == 0)
            break;
        lens[n++] = (size_t)got;
    }
    return n;
}

long mc_sock_send(int fd, const void *buf, size_t len, const struct sockaddr_in *to, int nowait)
{
    (void)nowait; /* a UDP send on Windows does not wait for the peer */
    int n = to ? sendto((SOCKET)fd, buf, (int)len, 0, (const struct sockaddr *)to, sizeof(*to))
               : send((SOCKET)fd, buf, (int)len, 0);
    return n == SOCKET_ERROR ? sock_err() : n;
}
