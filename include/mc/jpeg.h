/* The JPEG tile codec (MC_CODEC_JPEG), for photo-like tiles.
 *
 * Every tile of a session is a baseline JPEG with the same quantization
 * tables, the same subsampling and the standard Huffman tables of ITU T.81
 * Annex K.3, so every tile's header is the same but for the picture size.
 * The sender sends only each tile's entropy-coded data; its session
 * parameters (in the announce) are the subsampling, the quality and the two
 * quantization tables. The receiver builds the header itself (SOI, DQT,
 * SOF0 with the tile's size, DHT, SOS), puts it in front of the data and an
 * EOI behind, and hands that to any baseline decoder, as RTP/JPEG (RFC
 * 2435) does. No libjpeg type appears here.
 */
#ifndef MC_JPEG_H
#define MC_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "mc/codec.h"

/* Session parameters: subsamp u8, quality u8, luma and chroma quantization
 * tables (64 bytes each, zig-zag order as in a DQT segment, 1..255). */
#define MC_JPEG_PARAMS_BYTES 130

typedef struct mc_jpeg_enc mc_jpeg_enc;
typedef struct mc_jpeg_dec mc_jpeg_dec;

size_t mc_jpeg_max_bytes(const mc_codec_config *c);

/* Checks once that TurboJPEG writes the standard tables this format
 * assumes (a tile decoded through a rebuilt header must equal the same tile
 * decoded from TurboJPEG's own file): MC_EJPEG otherwise. */
int mc_jpeg_enc_create(const mc_codec_config *c, mc_jpeg_enc **out);
void mc_jpeg_enc_destroy(mc_jpeg_enc *e);
/* The session parameters (MC_JPEG_PARAMS_BYTES). */
int mc_jpeg_enc_params(mc_jpeg_enc *e, uint8_t *out, size_t cap);
/* Encodes a w x h BGRX block; writes its entropy-coded data (no header, no
 * EOI). Returns the byte count or a negative MC_E* code. */
int mc_jpeg_encode(mc_jpeg_enc *e, const uint8_t *bgrx, int pitch, int w, int h, uint8_t *out,
                   size_t cap);

int mc_jpeg_dec_create(mc_jpeg_dec **out);
void mc_jpeg_dec_destroy(mc_jpeg_dec *d);
/* 0, or MC_EFIELD for parameters that are not MC_JPEG_PARAMS_BYTES long, a
 * subsampling other than 4:2:0/4:4:4, or a zero quantizer. */
int mc_jpeg_dec_params(mc_jpeg_dec *d, const uint8_t *params, size_t len);
/* Decodes entropy data (MC_CODEC_HEADROOM writable bytes before it and 2
 * after) into w x h BGRX. 0, or MC_EJPEG / MC_EFIELD. */
int mc_jpeg_decode(mc_jpeg_dec *d, uint8_t *data, size_t len, int w, int h, uint8_t *dst,
                   int pitch);

/* Writes the JPEG header for parameters p and a w x h picture into out
 * (cap >= MC_JPEG_MAX_HEADER); returns its length or MC_EFIELD. Exposed for
 * tests and tools that write whole JPEG files. */
#define MC_JPEG_MAX_HEADER 640
int mc_jpeg_header(const uint8_t *params, size_t len, int w, int h, uint8_t *out, size_t cap);

#endif
