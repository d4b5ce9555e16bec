/* Tile codec: TurboJPEG with the JPEG tables sent once per session.
 *
 * Every tile of a session is encoded with the same quality, subsampling and
 * the standard Huffman tables, so every tile's JPEG header is identical but
 * for the picture size in SOF0. The sender sends the header once (the
 * "template", in the announce) and only the entropy-coded data per tile; the
 * receiver rebuilds a complete JPEG by writing the template with the tile's
 * size in front of the data (as RTP/JPEG, RFC 2435, does with its tables).
 * No libjpeg type appears here: the handles are opaque.
 */
#ifndef MC_JPEG_H
#define MC_JPEG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mc_tile_encoder mc_tile_encoder;
typedef struct mc_tile_decoder mc_tile_decoder;

/* Worst-case entropy-coded bytes of one tile of edge `tile`. */
size_t mc_tile_max_bytes(int tile, int subsamp);

/* Creates an encoder for tiles up to tile x tile pixels. */
int mc_tile_encoder_create(int quality, int subsamp, int tile, mc_tile_encoder **out);
void mc_tile_encoder_destroy(mc_tile_encoder *enc);

/* The session's JPEG template (SOI up to and including the SOS header).
 * Valid until the encoder is destroyed. *sof_off is the offset of SOF0's
 * height field (height, then width, 16-bit big-endian). */
const uint8_t *mc_tile_encoder_template(const mc_tile_encoder *enc, size_t *len,
                                        uint16_t *sof_off);

/* Encodes a w x h BGRX block and copies its entropy-coded data (without
 * header and EOI) to out. Returns the byte count or a negative MC_E* code. */
int mc_tile_encode(mc_tile_encoder *enc, const uint8_t *bgrx, int pitch, int w, int h,
                   uint8_t *out, size_t cap);

int mc_tile_decoder_create(mc_tile_decoder **out);
void mc_tile_decoder_destroy(mc_tile_decoder *dec);

/* Decodes one tile. `entropy` must have at least tmpl_len writable bytes in
 * front of it and 2 behind it (the receiver's buffers reserve that room), so
 * the JPEG is rebuilt in place without a copy. Writes w x h BGRX pixels to
 * dst. Returns 0 or a negative MC_E* code (corrupt data). */
int mc_tile_decode(mc_tile_decoder *dec, const uint8_t *tmpl, size_t tmpl_len,
                   uint16_t sof_off, uint8_t *entropy, size_t len, int w, int h,
                   uint8_t *dst, int pitch);

/* Room that mc_tile_decode needs around the entropy data. */
#define MC_TILE_HEADROOM 1024
#define MC_TILE_TAILROOM 16

#endif
