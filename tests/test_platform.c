/* The platform layer (mc/platform.h), as each implementation must behave:
 * threads, a mutex that really excludes, timed waits on the monotonic
 * clock (they time out, and a signal ends them early), once, random
 * bytes, the wall clock, UDP socket I/O on loopback. Built for Linux here; the same file is the
 * Windows build's first test. */
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include "mc/common.h"
#include "mc/platform.h"
#include "test.h"

static mc_mutex mu;
static mc_cond cv;
static long counter;
static int flag;

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        mc_mutex_lock(&mu);
        counter++;
        mc_mutex_unlock(&mu);
    }
    return NULL;
}

static void test_threads_and_mutex(void)
{
    mc_thread t[4];
    counter = 0;
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(mc_thread_start(&t[i], adder, NULL), 0);
    for (int i = 0; i < 4; i++)
        mc_thread_join(t[i]);
    ASSERT_EQ_INT(counter, 400000);
}

static void test_timed_wait_times_out(void)
{
    mc_mutex_lock(&mu);
    uint64_t t0 = mc_now_us();
    int rc = 0;
    while (!rc)
        rc = mc_cond_wait_until(&cv, &mu, t0 + 50000);
    uint64_t waited = mc_now_us() - t0;
    mc_mutex_unlock(&mu);
    ASSERT_EQ_INT(rc, 1);
    ASSERT_GE_DBL((double)waited, 50000.0); /* never before the deadline */
    /* A deadline already past: at once. */
    mc_mutex_lock(&mu);
    ASSERT_EQ_INT(mc_cond_wait_until(&cv, &mu, mc_now_us() - 1000), 1);
    mc_mutex_unlock(&mu);
}

static void *waker(void *arg)
{
    (void)arg;
    mc_sleep_until_us(mc_now_us() + 20000);
    mc_mutex_lock(&mu);
    flag = 1;
    mc_cond_signal(&cv);
    mc_mutex_unlock(&mu);
    return NULL;
}

static void test_signal_ends_the_wait(void)
{
    mc_thread t;
    flag = 0;
    uint64_t t0 = mc_now_us();
    ASSERT_EQ_INT(mc_thread_start(&t, waker, NULL), 0);
    mc_mutex_lock(&mu);
    int rc = 0;
    while (!flag && !rc)
        rc = mc_cond_wait_until(&cv, &mu, t0 + 30000000u); /* 30 s: woken long before */
    mc_mutex_unlock(&mu);
    mc_thread_join(t);
    ASSERT_EQ_INT(flag, 1);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_LE_DBL((double)(mc_now_us() - t0), 20e6);
}

static int once_runs;
static void once_fn(void) { once_runs++; }

static void test_once(void)
{
    static mc_once o = MC_ONCE_INIT;
    mc_once_run(&o, once_fn);
    mc_once_run(&o, once_fn);
    ASSERT_EQ_INT(once_runs, 1);
}

static void test_random_and_clocks(void)
{
    uint8_t a[32], b[32], zero[32] = {0};
    ASSERT_EQ_INT(mc_random_bytes(a, sizeof(a)), 0);
    ASSERT_EQ_INT(mc_random_bytes(b, sizeof(b)), 0);
    ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
    ASSERT_TRUE(memcmp(a, zero, sizeof(a)) != 0);
    ASSERT_GE_DBL((double)mc_wall_us(), 1.7e15); /* after 2023 */
    uint64_t t0 = mc_now_us();
    mc_sleep_until_us(t0 + 10000);
    ASSERT_GE_DBL((double)(mc_now_us() - t0), 10000.0);
}

/* A UDP socket on 127.0.0.1 (the OS's own calls: opening is net.c's job). */
static int udp_local(struct sockaddr_in *at)
{
    ASSERT_EQ_INT(mc_sock_startup(), 0);
    int fd = (int)socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(*at);
    ASSERT_EQ_INT(getsockname(fd, (struct sockaddr *)at, &l), 0);
    return fd;
}

/* Socket I/O: nothing waiting reads as 0 without blocking; a wait times
 * out; three datagrams wait, are read in one batch with their lengths and
 * sender; an empty socket in the wait set is not marked. */
static void test_socket_io(void)
{
    struct sockaddr_in ra, sa;
    int rx = udp_local(&ra), tx = udp_local(&sa);
    uint8_t buf[64];
    uint64_t t0 = mc_now_us();
    ASSERT_EQ_INT(mc_sock_recv(rx, buf, sizeof(buf), NULL), 0);
    uint8_t ready[2];
    int both[2] = {rx, tx};
    ASSERT_EQ_INT(mc_sock_wait(both, 2, 30, ready), 0);
    ASSERT_GE_DBL((double)(mc_now_us() - t0), 25000.0);
    const char *msgs[3] = {"one", "second", "3"};
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(mc_sock_send(tx, msgs[i], strlen(msgs[i]), &ra, 1), (long)strlen(msgs[i]));
    int skip[3] = {-1, rx, tx};
    uint8_t r3[3];
    ASSERT_EQ_INT(mc_sock_wait(skip, 3, 2000, r3), 1);
    ASSERT_TRUE(!r3[0] && r3[1] && !r3[2]);
    uint8_t b[4][64], *bp[4] = {b[0], b[1], b[2], b[3]};
    size_t lens[4];
    struct sockaddr_in from[4];
    int got = 0;
    for (int tries = 0; got < 3 && tries < 100; tries++) { /* loopback: all there at once, */
        int n = mc_sock_recv_batch(rx, bp + got, 64, lens + got, from + got, 4 - got);
        ASSERT_TRUE(n >= 0);                               /* or very nearly */
        got += n;
        if (got < 3)
            mc_sleep_until_us(mc_now_us() + 1000);
    }
    ASSERT_EQ_INT(got, 3);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(lens[i], strlen(msgs[i]));
        ASSERT_TRUE(!memcmp(b[i], msgs[i], lens[i]));
        ASSERT_EQ_INT(from[i].sin_port, sa.sin_port);
    }
    ASSERT_EQ_INT(mc_sock_recv(rx, buf, sizeof(buf), NULL), 0);
    mc_sock_close(rx);
    mc_sock_close(tx);
    mc_sock_close(-1); /* ignored */
}

int main(void)
{
    test_limit_seconds(60);
    mc_mutex_init(&mu);
    mc_cond_init(&cv);
    RUN(test_threads_and_mutex);
    RUN(test_timed_wait_times_out);
    RUN(test_signal_ends_the_wait);
    RUN(test_once);
    RUN(test_random_and_clocks);
    RUN(test_socket_io);
    mc_cond_destroy(&cv);
    mc_mutex_destroy(&mu);
    return 0;
}
