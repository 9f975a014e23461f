/* dev.h: what a device may ask of the machine it sits in (never KVM). */
#ifndef KVMRUN_DEV_H
#define KVMRUN_DEV_H

#include <stdint.h>

#include "kvmrun.h"

/*
 * A device's only way out: end the VM (power-off, debug exit), report a
 * line, or set an interrupt line's level. Devices call end and report
 * without holding their own lock; irq may be called with it held (it only
 * sets a level in the in-kernel irqchip and takes no lock of ours), so
 * that levels reach the irqchip in the order the device changed them.
 */
struct dev_env {
    void (*end)(void *machine, unsigned vcpu, enum kvmrun_end why,
                uint64_t code, const char *message);
    void (*report)(void *machine, const char *line);
    void (*irq)(void *machine, unsigned line, int level);
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
