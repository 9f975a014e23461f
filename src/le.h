/* le.h: little-endian values in byte buffers (guest memory, registers,
 * tables), whatever their alignment. */
#ifndef KVMRUN_LE_H
#define KVMRUN_LE_H

#include <stdint.h>

/* The value of the size bytes at p (size <= 8). */
static inline uint64_t le_get(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = size; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Stores the low size bytes of v at p (size <= 8). */
static inline void le_put(uint8_t *p, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

#endif
