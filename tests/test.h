/* Minimal test harness: typed asserts that report file:line and the values,
 * a seeded PRNG that prints its seed on failure, and a per-test time limit. */
#ifndef MC_TEST_H
#define MC_TEST_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t test_seed;
static int test_seeded;
static const char *test_name __attribute__((unused)) = "?";

static inline void test_fail_note(void)
{
    if (test_seeded)
        fprintf(stderr, "  (random seed %" PRIu64 "; rerun with MC_TEST_SEED=%" PRIu64 ")\n",
                test_seed, test_seed);
}

#define FAIL(...)                                                                   \
    do {                                                                            \
        fprintf(stderr, "FAIL %s at %s:%d: ", test_name, __FILE__, __LINE__);       \
        fprintf(stderr, __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                        \
        test_fail_note();                                                           \
        exit(1);                                                                    \
    } while (0)

#define ASSERT_TRUE(c) do { if (!(c)) FAIL("expected %s", #c); } while (0)
#define ASSERT_EQ_INT(a, b)                                                         \
    do {                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                         \
        if (a_ != b_) FAIL("%s == %lld, expected %s == %lld", #a, a_, #b, b_);      \
    } while (0)
#define ASSERT_GE_DBL(a, b)                                                         \
    do {                                                                            \
        double a_ = (double)(a), b_ = (double)(b);                                  \
        if (!(a_ >= b_)) FAIL("%s == %g, expected >= %g", #a, a_, b_);              \
    } while (0)
#define ASSERT_LE_DBL(a, b)                                                         \
    do {                                                                            \
        double a_ = (double)(a), b_ = (double)(b);                                  \
        if (!(a_ <= b_)) FAIL("%s == %g, expected <= %g", #a, a_, b_);              \
    } while (0)

/* xorshift64*: seeded from MC_TEST_SEED or the clock, printed on failure. */
static uint64_t test_rng_state;
static inline void test_seed_init(void)
{
    const char *e = getenv("MC_TEST_SEED");
    test_seed = e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    if (test_seed == 0)
        test_seed = 1;
    test_rng_state = test_seed;
    test_seeded = 1;
}
static inline uint64_t test_rand(void)
{
    test_rng_state ^= test_rng_state >> 12;
    test_rng_state ^= test_rng_state << 25;
    test_rng_state ^= test_rng_state >> 27;
    return test_rng_state * 2685821657736338717ull;
}
static inline uint32_t test_rand_below(uint32_t n) { return (uint32_t)(test_rand() % n); }

#ifdef _WIN32
/* Windows (the cross-build's tests under wine): bounded by the runner's
 * timeout instead; there is no alarm(). */
static inline void test_limit_seconds(unsigned s) { (void)s; }
#else
static inline void test_on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: test time limit exceeded\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

/* Every test binary is bounded in time. */
static inline void test_limit_seconds(unsigned s)
{
    signal(SIGALRM, test_on_alarm);
    alarm(s);
}
#endif

#define RUN(fn)                                                                     \
    do {                                                                            \
        test_name = #fn;                                                            \
        fn();                                                                       \
        printf("ok %s\n", #fn);                                                     \
    } while (0)

#endif
