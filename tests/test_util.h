/* Helpers shared by the tests: PSNR of a tile against a reference, and a
 * packet recorder that serves as a sender's sink. */
#ifndef MC_TEST_UTIL_H
#define MC_TEST_UTIL_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* PSNR in dB over the colour channels of two BGRX blocks (99 = identical). */
static inline double psnr_bgrx(const uint8_t *a, int apitch, const uint8_t *b, int bpitch, int w, int h)
{
    double se = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                double d = (double)a[y * apitch + x * 4 + k] - b[y * bpitch + x * 4 + k];
                se += d * d;
            }
    if (se == 0)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 / (se / ((double)w * h * 3)));
}

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
