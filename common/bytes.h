/*
 * common/bytes: big-endian (network order) reads and writes of packet
 * fields at any alignment. Every codec uses these rather than casting
 * packet bytes to wider types, which would be unaligned access.
 */
#ifndef E6_COMMON_BYTES_H
#define E6_COMMON_BYTES_H

#include <stdint.h>

static inline uint16_t e6_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t e6_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void e6_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void e6_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
