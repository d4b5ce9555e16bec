/* Tile verification against a deterministic source. */
#include "mc/verify.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/jpeg.h"
#include "mc/testsrc.h"
#include "mc/wire.h"

#define CACHE 8 /* rendered source frames kept (most tiles share few versions) */

typedef struct {
    uint32_t frame;
    int valid;
    uint8_t *px;
} cached_frame;

struct mc_verifier {
    pthread_mutex_t mu;
    mc_render_fn render;
    int width, height, quality, subsamp, tile_cap;
    mc_tile_encoder *enc;
    mc_tile_decoder *dec;
    uint8_t *jbuf, *want;
    size_t jcap;
    cached_frame cache[CACHE];
    int next_victim;
    mc_verify_result res;
};

int mc_verifier_create(mc_render_fn render, mc_verifier **out)
{
    mc_verifier *v = calloc(1, sizeof(*v));
    if (!v)
        return MC_ENOMEM;
    pthread_mutex_init(&v->mu, NULL);
    v->render = render ? render : mc_testsrc_render;
    v->res.worst_psnr = 99.0;
    *out = v;
    return 0;
}

static void drop_state(mc_verifier *v)
{
    for (int i = 0; i < CACHE; i++) {
        free(v->cache[i].px);
        v->cache[i] = (cached_frame){0};
    }
    mc_tile_encoder_destroy(v->enc);
    mc_tile_decoder_destroy(v->dec);
    free(v->jbuf);
    free(v->want);
    v->enc = NULL;
    v->dec = NULL;
    v->jbuf = v->want = NULL;
}

void mc_verifier_destroy(mc_verifier *v)
{
    if (!v)
        return;
    drop_state(v);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

/* (Re)creates the codec and cache when the stream's settings change. */
static int setup(mc_verifier *v, const mc_tile_event *ev)
{
    int tile = ev->w > ev->h ? ev->w : ev->h;
    if (v->enc && v->width == ev->pic_width && v->height == ev->pic_height &&
        v->quality == ev->quality && v->subsamp == ev->subsamp && tile <= v->tile_cap)
        return 0;
    drop_state(v);
    v->width = ev->pic_width;
    v->height = ev->pic_height;
    v->quality = ev->quality;
    v->subsamp = ev->subsamp;
    v->tile_cap = MC_MAX_TILE;
    v->jcap = mc_tile_max_bytes(MC_MAX_TILE, ev->subsamp);
    v->jbuf = malloc(MC_TILE_HEADROOM + v->jcap + MC_TILE_TAILROOM);
    v->want = malloc((size_t)MC_MAX_TILE * MC_MAX_TILE * 4);
    if (!v->jbuf || !v->want)
        return MC_ENOMEM;
    int err = mc_tile_encoder_create(ev->quality, ev->subsamp, MC_MAX_TILE, &v->enc);
    if (!err)
        err = mc_tile_decoder_create(&v->dec);
    return err;
}

static const uint8_t *source_frame(mc_verifier *v, uint32_t frame)
{
    for (int i = 0; i < CACHE; i++)
        if (v->cache[i].valid && v->cache[i].frame == frame)
            return v->cache[i].px;
    cached_frame *c = &v->cache[v->next_victim];
    v->next_victim = (v->next_victim + 1) % CACHE;
    if (!c->px)
        c->px = malloc((size_t)v->width * v->height * 4);
    if (!c->px)
        return NULL;
    v->render(c->px, v->width * 4, v->width, v->height, frame);
    c->frame = frame;
    c->valid = 1;
    return c->px;
}

double mc_psnr_bgrx(const uint8_t *a, int ap, const uint8_t *b, int bp, int w, int h)
{
    double se = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * 4; x++)
            if ((x & 3) != 3) {
                double d = (double)a[y * ap + x] - b[y * bp + x];
                se += d * d;
            }
    return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 * w * h * 3 / se);
}

static int check_locked(mc_verifier *v, const mc_tile_event *ev)
{
    if (setup(v, ev))
        return 0;
    const uint8_t *src = source_frame(v, ev->version);
    if (!src)
        return 0;
    const uint8_t *ref = src + (size_t)ev->y * v->width * 4 + (size_t)ev->x * 4;
    size_t tl;
    uint16_t so;
    const uint8_t *t = mc_tile_encoder_template(v->enc, &tl, &so);
    int n = mc_tile_encode(v->enc, ref, v->width * 4, ev->w, ev->h, v->jbuf + MC_TILE_HEADROOM,
                           v->jcap);
    if (n <= 0 || mc_tile_decode(v->dec, t, tl, so, v->jbuf + MC_TILE_HEADROOM, (size_t)n, ev->w,
                                 ev->h, v->want, ev->w * 4))
        return 0;
    for (int y = 0; y < ev->h; y++)
        if (memcmp(ev->pixels + (size_t)y * ev->pitch, v->want + (size_t)y * ev->w * 4,
                   (size_t)ev->w * 4) != 0) {
            double p = mc_psnr_bgrx(ev->pixels, ev->pitch, ref, v->width * 4, ev->w, ev->h);
            if (p < v->res.worst_psnr)
                v->res.worst_psnr = p;
            return 0;
        }
    return 1;
}

int mc_verifier_check(mc_verifier *v, const mc_tile_event *ev)
{
    pthread_mutex_lock(&v->mu);
    int ok = check_locked(v, ev);
    v->res.checked++;
    if (!ok)
        v->res.wrong++;
    pthread_mutex_unlock(&v->mu);
    return ok;
}

void mc_verifier_on_tile(void *ctx, const mc_tile_event *ev) { mc_verifier_check(ctx, ev); }

void mc_verifier_result(mc_verifier *v, mc_verify_result *out)
{
    pthread_mutex_lock(&v->mu);
    *out = v->res;
    pthread_mutex_unlock(&v->mu);
}
