/* Big-endian byte helpers: the one place that turns fields into bytes and
 * back (wire.c, auth.c, ctrl.c). Internal. */
#ifndef MC_BYTES_H
#define MC_BYTES_H

#include <stdint.h>

static inline void mc__put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void mc__put32(uint8_t *p, uint32_t v)
{
    mc__put16(p, (uint16_t)(v >> 16));
    mc__put16(p + 2, (uint16_t)v);
}
static inline void mc__put64(uint8_t *p, uint64_t v)
{
    mc__put32(p, (uint32_t)(v >> 32));
    mc__put32(p + 4, (uint32_t)v);
}
static inline uint16_t mc__get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t mc__get32(const uint8_t *p)
{
    return (uint32_t)mc__get16(p) << 16 | mc__get16(p + 2);
}
static inline uint64_t mc__get64(const uint8_t *p)
{
    return (uint64_t)mc__get32(p) << 32 | mc__get32(p + 4);
}
/* Little-endian, for file formats (WAV) rather than the wire. */
static inline uint16_t mc__get16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t mc__get32le(const uint8_t *p)
{
    return (uint32_t)mc__get16le(p) | (uint32_t)mc__get16le(p + 2) << 16;
}

#endif
