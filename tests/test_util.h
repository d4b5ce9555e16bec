/* Helpers shared by the tests: a packet recorder that serves as a sender's
 * sink. (PSNR is the library's mc_psnr_bgrx.) */
#ifndef MC_TEST_UTIL_H
#define MC_TEST_UTIL_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pthread_mutex_t mu;
    uint8_t **pkt;
    size_t *len;
    size_t n, cap;
} recorder;

static inline void recorder_init(recorder *r) { memset(r, 0, sizeof(*r)); pthread_mutex_init(&r->mu, NULL); }

static inline void recorder_sink(void *ctx, const uint8_t *pkt, size_t len)
{
    recorder *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->pkt = realloc(r->pkt, r->cap * sizeof(*r->pkt));
        r->len = realloc(r->len, r->cap * sizeof(*r->len));
        if (!r->pkt || !r->len)
            abort();
    }
    r->pkt[r->n] = malloc(len);
    if (!r->pkt[r->n])
        abort();
    memcpy(r->pkt[r->n], pkt, len);
    r->len[r->n++] = len;
    pthread_mutex_unlock(&r->mu);
}

static inline void recorder_free(recorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->pkt[i]);
    free(r->pkt);
    free(r->len);
    pthread_mutex_destroy(&r->mu);
}

#endif
