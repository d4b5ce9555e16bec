/* The platform layer: threads, mutexes, condition variables with timed
 * waits, a once-only initialiser, random bytes and socket I/O. One implementation per
 * platform, one file each: src/platform_posix.c (Linux, the BSDs) and
 * src/platform_win32.c (Windows 8 and later: SRW locks, condition
 * variables, BCryptGenRandom). The library uses only these; the clock is
 * mc_now_us / mc_sleep_until_us (mc/common.h), implemented beside them.
 * Sockets are opened, joined and sized in src/net.c (mc/net.h); reading,
 * writing, waiting and closing them is here. A socket is an int: a file
 * descriptor, or a Winsock SOCKET (kernel handles, which fit). */
#ifndef MC_PLATFORM_H
#define MC_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr_in;

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
typedef HANDLE mc_thread;
typedef SRWLOCK mc_mutex;
typedef CONDITION_VARIABLE mc_cond;
typedef INIT_ONCE mc_once;
#define MC_ONCE_INIT INIT_ONCE_STATIC_INIT
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
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

/* This computer's name (the host name; on Windows the computer name) in
 * out: 0, or a negative code (out then holds ""). */
int mc_host_name(char *out, size_t cap);

/* Processors online (at least 1). */
int mc_cpu_count(void);

/* A small fast generator for jitter (not for secrets): the next number
 * from *state, which any seed starts. */
static inline uint32_t mc_rand_next(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9e3779b9u; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* ---- socket set-up (UDP, IPv4; src/net.c builds on these) --------------- */

/* A UDP socket that child processes do not inherit: its number, or a
 * negative code. */
int mc_sock_udp(void);
/* setsockopt, bind and connect with the error as a negative code
 * (-errno; Winsock's errors mapped to the same codes): 0 or < 0. */
int mc_sock_opt(int fd, int level, int name, const void *val, int len);
int mc_sock_bind(int fd, const struct sockaddr_in *a);
int mc_sock_connect(int fd, const struct sockaddr_in *a);

/* A network interface with an IPv4 address: its name as people see it
 * (Linux: "eth0"; Windows: the adapter's friendly name, "Ethernet",
 * in UTF-8), its first IPv4 address and its index. */
typedef struct {
    char name[128];
    struct in_addr addr;
    unsigned index;
} mc_iface;
/* The interfaces with an IPv4 address (up to max): how many, or < 0. */
int mc_net_ifaces(mc_iface *out, int max);

/* ---- socket I/O (UDP, IPv4) --------------------------------------------- */

/* Starts the socket library where there is one (WSAStartup), once per
 * process: 0 or a negative code. src/net.c calls it before opening. */
int mc_sock_startup(void);
/* Closes a socket; a negative one is ignored. */
void mc_sock_close(int fd);
/* Waits up to timeout_ms for any of fds[0..n) to be readable (negative
 * entries are skipped): how many are, with ready[i] set for each; 0 on
 * timeout; -EINTR when a signal came (POSIX), another negative code on
 * failure. */
int mc_sock_wait(const int *fds, int n, int timeout_ms, uint8_t *ready);
/* Takes one datagram without waiting: its length, 0 when none waits, or a
 * negative code. *from gets the sender when not NULL. */
long mc_sock_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from);
/* Takes up to max datagrams without waiting (recvmmsg where there is one):
 * how many, each in bufs[i] with lens[i] and, when froms is not NULL,
 * froms[i]; 0 when none waits, or a negative code. */
int mc_sock_recv_batch(int fd, uint8_t *const *bufs, size_t cap, size_t *lens,
                       struct sockaddr_in *froms, int max);
/* Sends one datagram, to the connected peer (to = NULL) or to `to`;
 * without waiting when nowait. Returns the bytes sent or a negative code
 * (MC_EAGAIN-like codes are the system's: -EAGAIN, -ENOBUFS). */
long mc_sock_send(int fd, const void *buf, size_t len, const struct sockaddr_in *to, int nowait);

#endif
