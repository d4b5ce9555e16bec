/* Tile codecs: one table of operations per codec, so the sender, the
 * receiver and the wire format never name an implementation.
 *
 * Every tile on the wire carries a codec id (mc_video.codec); every codec a
 * session uses puts its session parameters in the announce (the JPEG
 * codec's quantization tables, for example), never in a tile. A codec
 * validates its own bytes: wire.c only checks lengths.
 *
 *   MC_CODEC_JPEG      photo-like tiles: baseline JPEG entropy data, the
 *                      header rebuilt by the receiver from the session's
 *                      tables (codec_jpeg.c);
 *   MC_CODEC_LOSSLESS  screen content: a palette with packed indices, or a
 *                      predictor for many-coloured synthetic tiles, then
 *                      zstd; bit-exact (codec_lossless.c).
 *
 * mc_tile_coder picks the codec per tile (--codec auto|jpeg|lossless).
 */
#ifndef MC_CODEC_H
#define MC_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum mc_codec_id {
    MC_CODEC_JPEG = 1,
    MC_CODEC_LOSSLESS = 2,
};
#define MC_CODEC_COUNT 2          /* ids 1..MC_CODEC_COUNT */
#define MC_CODEC_MAX_PARAMS 255   /* session parameter bytes of one codec, at most */

/* Room a decoder may use around the tile data it is given: the receiver's
 * buffers reserve it, so JPEG can rebuild its header in place. */
#define MC_CODEC_HEADROOM 1024
#define MC_CODEC_TAILROOM 16

/* How the sender codes: the JPEG side's quality and subsampling, and the
 * largest tile edge. */
typedef struct {
    int quality; /* 1..100 */
    int subsamp; /* MC_SUBSAMP_420 or MC_SUBSAMP_444 */
    int tile;    /* MC_MIN_TILE..MC_MAX_TILE */
} mc_codec_config;

typedef struct {
    uint8_t id;
    const char *name;
    /* Largest encoded tile of edge `tile` (the receiver sizes its buffers
     * from the announce's max_tile_bytes, not from this). */
    size_t (*max_bytes)(const mc_codec_config *c);
    int (*enc_create)(const mc_codec_config *c, void **enc);
    void (*enc_destroy)(void *enc);
    /* The session parameters for the announce: returns their length (0..
     * MC_CODEC_MAX_PARAMS) or a negative MC_E* code. */
    int (*enc_params)(void *enc, uint8_t *out, size_t cap);
    /* Encodes a w x h BGRX block: returns the byte count or a negative code. */
    int (*encode)(void *enc, const uint8_t *bgrx, int pitch, int w, int h, uint8_t *out,
                  size_t cap);
    int (*dec_create)(void **dec);
    void (*dec_destroy)(void *dec);
    /* Takes the announce's parameters: 0, or MC_EFIELD when they are not
     * valid for this codec (then decode refuses until good ones come). */
    int (*dec_params)(void *dec, const uint8_t *params, size_t len);
    /* Decodes one tile into w x h BGRX pixels. `data` has MC_CODEC_HEADROOM
     * writable bytes before it and MC_CODEC_TAILROOM after; the decoder may
     * scribble there. Returns 0 or a negative code (corrupt data). */
    int (*decode)(void *dec, uint8_t *data, size_t len, int w, int h, uint8_t *dst, int pitch);
} mc_codec;

extern const mc_codec mc_jpeg_codec;
extern const mc_codec mc_lossless_codec;

/* The lossless codec's two halves, for the choice per tile (enc is its
 * encoder): the palette (0 when the tile has more than 256 colours), and
 * the predictor. Byte counts or negative codes, as mc_codec.encode. */
int mc_lossless_encode_palette(void *enc, const uint8_t *bgrx, int pitch, int w, int h,
                               uint8_t *out, size_t cap);
int mc_lossless_encode_predicted(void *enc, const uint8_t *bgrx, int pitch, int w, int h,
                                 uint8_t *out, size_t cap);

/* The codec with this id, or NULL. */
const mc_codec *mc_codec_find(unsigned id);

/* ---- the sender's choice per tile ---------------------------------------- */

enum mc_codec_mode {
    MC_CODEC_AUTO = 0,     /* lossless where it is exact and not much larger, else JPEG */
    MC_CODEC_ONLY_JPEG = 1,
    MC_CODEC_ONLY_LOSSLESS = 2,
};

/* "auto", "jpeg" or "lossless": 0 and *mode, or MC_EINVAL. */
int mc_codec_mode_parse(const char *text, int *mode);

typedef struct mc_tile_coder mc_tile_coder;

/* One per encoder thread: holds an encoder of each codec the mode uses. */
int mc_tile_coder_create(int mode, const mc_codec_config *c, mc_tile_coder **out);
void mc_tile_coder_destroy(mc_tile_coder *tc);

/* Largest tile any codec of this mode writes. */
size_t mc_tile_coder_max_bytes(int mode, const mc_codec_config *c);

/* Codes one tile with the codec that fits it. Returns the byte count and
 * *codec (an mc_codec_id), or a negative code. *exact = 1 when the viewer
 * will decode exactly these pixels (lossless). */
int mc_tile_coder_encode(mc_tile_coder *tc, const uint8_t *bgrx, int pitch, int w, int h,
                         uint8_t *out, size_t cap, uint8_t *codec, int *exact);

/* The session parameters of every codec the mode may use, for the
 * announce: fills ids[i], params[i] (pointers valid while tc lives) and
 * lens[i]; returns how many (<= MC_CODEC_COUNT). */
int mc_tile_coder_params(mc_tile_coder *tc, uint8_t ids[MC_CODEC_COUNT],
                         const uint8_t *params[MC_CODEC_COUNT], size_t lens[MC_CODEC_COUNT]);

/* ---- the receiver's decoders ----------------------------------------------- */

typedef struct mc_tile_decoders mc_tile_decoders;

int mc_tile_decoders_create(mc_tile_decoders **out);
void mc_tile_decoders_destroy(mc_tile_decoders *d);
/* Sets a codec's session parameters from the announce; 0 or a negative
 * code (unknown codec, or parameters it refuses). */
int mc_tile_decoders_params(mc_tile_decoders *d, unsigned codec, const uint8_t *params,
                            size_t len);
/* Forgets every codec's parameters (a new session). */
void mc_tile_decoders_reset(mc_tile_decoders *d);
/* Decodes a tile of codec `codec` (see mc_codec.decode for the room around
 * data). MC_EFIELD for a codec without parameters yet or unknown. */
int mc_tile_decoders_decode(mc_tile_decoders *d, unsigned codec, uint8_t *data, size_t len,
                            int w, int h, uint8_t *dst, int pitch);

#endif
