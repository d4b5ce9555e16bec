/* Tile codec on TurboJPEG: encode full JPEGs, keep only the entropy-coded
 * data, and rebuild complete JPEGs from the session template on decode. */
#include "mc/jpeg.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "mc/common.h"
#include "mc/wire.h"

struct mc_tile_encoder {
    tjhandle tj;
    int quality, tjsamp, tile;
    unsigned char *jbuf; /* worst-case size: TurboJPEG never reallocates it */
    unsigned long jcap;
    uint8_t tmpl[MC_MAX_JPEG_HDR];
    size_t tmpl_len;
    uint16_t sof_off;
};

struct mc_tile_decoder {
    tjhandle tj;
};

static int tj_subsamp(int subsamp) { return subsamp == MC_SUBSAMP_420 ? TJSAMP_420 : TJSAMP_444; }

size_t mc_tile_max_bytes(int tile, int subsamp)
{
    return (size_t)tjBufSize(tile, tile, tj_subsamp(subsamp));
}

/* Finds the end of the SOS header (start of entropy-coded data) and the
 * offset of SOF0/1's height field. Returns the header length or -1. */
static long jpeg_header_len(const uint8_t *j, size_t len, uint16_t *sof_off)
{
    if (len < 4 || j[0] != 0xFF || j[1] != 0xD8)
        return -1;
    size_t p = 2;
    *sof_off = 0;
    while (p + 4 <= len) {
        if (j[p] != 0xFF)
            return -1;
        uint8_t m = j[p + 1];
        size_t seg = (size_t)(j[p + 2] << 8 | j[p + 3]);
        if (seg < 2 || p + 2 + seg > len)
            return -1;
        if ((m == 0xC0 || m == 0xC1) && seg >= 8)
            *sof_off = (uint16_t)(p + 5);
        if (m == 0xDA)
            return *sof_off ? (long)(p + 2 + seg) : -1;
        p += 2 + seg;
    }
    return -1;
}

static int encode_full(mc_tile_encoder *enc, const uint8_t *bgrx, int pitch, int w, int h,
                       unsigned long *jsize)
{
    unsigned char *buf = enc->jbuf;
    *jsize = enc->jcap;
    if (tjCompress2(enc->tj, bgrx, w, pitch, h, TJPF_BGRX, &buf, jsize, enc->tjsamp,
                    enc->quality, TJFLAG_NOREALLOC) != 0 || buf != enc->jbuf)
        return MC_EJPEG;
    return 0;
}

int mc_tile_encoder_create(int quality, int subsamp, int tile, mc_tile_encoder **out)
{
    *out = NULL;
    if (quality < 1 || quality > 100 || tile < MC_MIN_TILE || tile > MC_MAX_TILE ||
        (subsamp != MC_SUBSAMP_420 && subsamp != MC_SUBSAMP_444))
        return MC_EINVAL;
    mc_tile_encoder *enc = calloc(1, sizeof(*enc));
    if (!enc)
        return MC_ENOMEM;
    enc->quality = quality;
    enc->tjsamp = tj_subsamp(subsamp);
    enc->tile = tile;
    enc->jcap = tjBufSize(tile, tile, enc->tjsamp);
    enc->jbuf = tjAlloc((int)enc->jcap);
    enc->tj = tjInitCompress();
    int err = MC_ENOMEM;
    if (!enc->jbuf || !enc->tj)
        goto cleanup;
    /* Any picture gives the template; only SOF's size differs per tile. */
    uint8_t grey[16 * 16 * 4];
    memset(grey, 0x80, sizeof(grey));
    unsigned long jsize;
    err = encode_full(enc, grey, 16 * 4, 16, 16, &jsize);
    if (err)
        goto cleanup;
    long hl = jpeg_header_len(enc->jbuf, jsize, &enc->sof_off);
    err = MC_EJPEG;
    if (hl < 0 || hl > MC_MAX_JPEG_HDR)
        goto cleanup;
    memcpy(enc->tmpl, enc->jbuf, (size_t)hl);
    enc->tmpl_len = (size_t)hl;
    *out = enc;
    return 0;
cleanup:
    mc_tile_encoder_destroy(enc);
    return err;
}

void mc_tile_encoder_destroy(mc_tile_encoder *enc)
{
    if (!enc)
        return;
    if (enc->tj)
        tjDestroy(enc->tj);
    tjFree(enc->jbuf);
    free(enc);
}

const uint8_t *mc_tile_encoder_template(const mc_tile_encoder *enc, size_t *len,
                                        uint16_t *sof_off)
{
    *len = enc->tmpl_len;
    *sof_off = enc->sof_off;
    return enc->tmpl;
}

int mc_tile_encode(mc_tile_encoder *enc, const uint8_t *bgrx, int pitch, int w, int h,
                   uint8_t *out, size_t cap)
{
    if (w < 1 || h < 1 || w > enc->tile || h > enc->tile)
        return MC_EINVAL;
    unsigned long jsize;
    int err = encode_full(enc, bgrx, pitch, w, h, &jsize);
    if (err)
        return err;
    /* The header must be the template but for the size: that is the
     * invariant the whole "tables once per session" scheme rests on. */
    size_t tl = enc->tmpl_len, so = enc->sof_off;
    if (jsize < tl + 2 || memcmp(enc->jbuf, enc->tmpl, so) != 0 ||
        memcmp(enc->jbuf + so + 4, enc->tmpl + so + 4, tl - so - 4) != 0 ||
        enc->jbuf[jsize - 2] != 0xFF || enc->jbuf[jsize - 1] != 0xD9)
        return MC_EJPEG;
    size_t n = jsize - tl - 2;
    if (n > cap)
        return MC_ETOOBIG;
    memcpy(out, enc->jbuf + tl, n);
    return (int)n;
}

int mc_tile_decoder_create(mc_tile_decoder **out)
{
    *out = NULL;
    mc_tile_decoder *dec = calloc(1, sizeof(*dec));
    if (!dec)
        return MC_ENOMEM;
    dec->tj = tjInitDecompress();
    if (!dec->tj) {
        free(dec);
        return MC_ENOMEM;
    }
    *out = dec;
    return 0;
}

void mc_tile_decoder_destroy(mc_tile_decoder *dec)
{
    if (!dec)
        return;
    tjDestroy(dec->tj);
    free(dec);
}

int mc_tile_decode(mc_tile_decoder *dec, const uint8_t *tmpl, size_t tmpl_len,
                   uint16_t sof_off, uint8_t *entropy, size_t len, int w, int h,
                   uint8_t *dst, int pitch)
{
    if (tmpl_len > MC_TILE_HEADROOM || (size_t)sof_off + 4 > tmpl_len || w < 1 || h < 1 ||
        w > 0xFFFF || h > 0xFFFF)
        return MC_EINVAL;
    uint8_t *j = entropy - tmpl_len;
    memcpy(j, tmpl, tmpl_len);
    j[sof_off] = (uint8_t)(h >> 8);
    j[sof_off + 1] = (uint8_t)h;
    j[sof_off + 2] = (uint8_t)(w >> 8);
    j[sof_off + 3] = (uint8_t)w;
    entropy[len] = 0xFF;
    entropy[len + 1] = 0xD9;
    int iw, ih, sub, cs;
    if (tjDecompressHeader3(dec->tj, j, tmpl_len + len + 2, &iw, &ih, &sub, &cs) == 0 &&
        iw == w && ih == h &&
        tjDecompress2(dec->tj, j, tmpl_len + len + 2, dst, w, pitch, h, TJPF_BGRX,
                      TJFLAG_STOPONWARNING) == 0)
        return 0;
    /* After an error libjpeg's decompressor can be left in a state where
     * the next, valid JPEG fails too ("Bogus Huffman table definition" was
     * seen after garbage input). A fresh handle costs microseconds, and
     * errors only come from corrupt or forged data. */
    tjhandle fresh = tjInitDecompress();
    if (fresh) {
        tjDestroy(dec->tj);
        dec->tj = fresh;
    }
    return MC_EJPEG;
}
