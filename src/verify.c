/* Tile verification against a deterministic source. */
#include "mc/verify.h"

#include <math.h>
#include "mc/platform.h"
#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/codec.h"
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
    mc_mutex mu;
    mc_render_fn render;
    int width, height, tile_cap;
    uint8_t params[MC_JPEG_PARAMS_BYTES]; /* the session's JPEG parameters */
    mc_jpeg_enc *enc;
    mc_jpeg_dec *dec;
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
    mc_mutex_init(&v->mu);
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
    mc_jpeg_enc_destroy(v->enc);
    mc_jpeg_dec_destroy(v->dec);
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
    mc_mutex_destroy(&v->mu);
    free(v);
}

/* (Re)creates the cache, and the JPEG codec when the stream's JPEG
 * parameters change. */
static int setup(mc_verifier *v, const mc_tile_event *ev)
{
    int tile = ev->w > ev->h ? ev->w : ev->h;
    int jpeg = ev->codec == MC_CODEC_JPEG;
    if (jpeg && (ev->codec_params_len != MC_JPEG_PARAMS_BYTES))
        return MC_EFIELD;
    if (v->want && v->width == ev->pic_width && v->height == ev->pic_height &&
        tile <= v->tile_cap &&
        (!jpeg || (v->enc && !memcmp(v->params, ev->codec_params, sizeof(v->params)))))
        return 0;
    if (v->width != ev->pic_width || v->height != ev->pic_height || !v->want)
        drop_state(v);
    v->width = ev->pic_width;
    v->height = ev->pic_height;
    v->tile_cap = MC_MAX_TILE;
    if (!v->want && !(v->want = malloc((size_t)MC_MAX_TILE * MC_MAX_TILE * 4)))
        return MC_ENOMEM;
    if (!jpeg)
        return 0;
    mc_jpeg_enc_destroy(v->enc);
    mc_jpeg_dec_destroy(v->dec);
    v->enc = NULL;
    v->dec = NULL;
    free(v->jbuf);
    mc_codec_config cc = {.quality = ev->codec_params[1], .subsamp = ev->codec_params[0],
                          .tile = MC_MAX_TILE};
    v->jcap = mc_jpeg_max_bytes(&cc);
    v->jbuf = malloc(MC_CODEC_HEADROOM + v->jcap + MC_CODEC_TAILROOM);
    if (!v->jbuf)
        return MC_ENOMEM;
    int err = mc_jpeg_enc_create(&cc, &v->enc);
    uint8_t mine[MC_JPEG_PARAMS_BYTES];
    if (!err && (mc_jpeg_enc_params(v->enc, mine, sizeof(mine)) < 0 ||
                 memcmp(mine, ev->codec_params, sizeof(mine))))
        err = MC_EFIELD; /* tables this library would not make: cannot check */
    if (!err)
        err = mc_jpeg_dec_create(&v->dec);
    if (!err)
        err = mc_jpeg_dec_params(v->dec, mine, sizeof(mine));
    if (!err)
        memcpy(v->params, mine, sizeof(mine));
    else
        drop_state(v);
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

/* What the viewer must show for this tile: the source itself for a
 * lossless or moved tile, the source through the same JPEG coding for a
 * JPEG one (TurboJPEG is deterministic). */
static int check_locked(mc_verifier *v, const mc_tile_event *ev)
{
    if (setup(v, ev))
        return 0;
    const uint8_t *src = source_frame(v, ev->version);
    if (!src)
        return 0;
    const uint8_t *ref = src + (size_t)ev->y * v->width * 4 + (size_t)ev->x * 4;
    const uint8_t *want = ref;
    int want_pitch = v->width * 4;
    if (ev->codec == MC_CODEC_JPEG) {
        int n = mc_jpeg_encode(v->enc, ref, v->width * 4, ev->w, ev->h,
                               v->jbuf + MC_CODEC_HEADROOM, v->jcap);
        if (n <= 0 || mc_jpeg_decode(v->dec, v->jbuf + MC_CODEC_HEADROOM, (size_t)n, ev->w, ev->h,
                                     v->want, ev->w * 4))
            return 0;
        want = v->want;
        want_pitch = ev->w * 4;
    }
    for (int y = 0; y < ev->h; y++)
        for (int x = 0; x < ev->w; x++)
            if (memcmp(ev->pixels + (size_t)y * ev->pitch + (size_t)x * 4,
                       want + (size_t)y * want_pitch + (size_t)x * 4, 3) != 0) {
                double p = mc_psnr_bgrx(ev->pixels, ev->pitch, ref, v->width * 4, ev->w, ev->h);
                if (p < v->res.worst_psnr)
                    v->res.worst_psnr = p;
                return 0;
            }
    return 1;
}

int mc_verifier_check(mc_verifier *v, const mc_tile_event *ev)
{
    mc_mutex_lock(&v->mu);
    int ok = check_locked(v, ev);
    v->res.checked++;
    if (!ok)
        v->res.wrong++;
    mc_mutex_unlock(&v->mu);
    return ok;
}

void mc_verifier_on_tile(void *ctx, const mc_tile_event *ev) { mc_verifier_check(ctx, ev); }

void mc_verifier_result(mc_verifier *v, mc_verify_result *out)
{
    mc_mutex_lock(&v->mu);
    *out = v->res;
    mc_mutex_unlock(&v->mu);
}
