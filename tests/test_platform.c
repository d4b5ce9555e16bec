/* The platform layer (mc/platform.h), as each implementation must behave:
 * threads, a mutex that really excludes, timed waits on the monotonic
 * clock (they time out, and a signal ends them early), once, random
 * bytes, the wall clock. Built for Linux here; the same file is the
 * Windows build's first test. */
#include <string.h>

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
    mc_cond_destroy(&cv);
    mc_mutex_destroy(&mu);
    return 0;
}
