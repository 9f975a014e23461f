/* dev.h: what a device may ask of the machine it sits in (never KVM). */
#ifndef KVMRUN_DEV_H
#define KVMRUN_DEV_H

#include <stdint.h>

#include "kvmrun.h"

/*
 * A device's only way out: end the VM (power-off, debug exit) or report a
 * line. Devices call these without holding their own lock.
 */
struct dev_env {
    void (*end)(void *machine, unsigned vcpu, enum kvmrun_end why,
                uint64_t code, const char *message);
    void (*report)(void *machine, const char *line);
    void *machine;
};

/* Little-endian value of size bytes at data (size <= 8). */
static inline uint64_t dev_get_le(const uint8_t *data, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = size; i-- > 0;)
        v = v << 8 | data[i];
    return v;
}

static inline void dev_put_le(uint8_t *data, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++, v >>= 8)
        data[i] = (uint8_t)v;
}

#endif
