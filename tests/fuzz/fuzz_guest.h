/* fuzz_guest.h: the guest RAM the loader fuzz targets load into. Define
 * GUEST_RAM (bytes) before including it. */
#ifndef KVMRUN_FUZZ_GUEST_H
#define KVMRUN_FUZZ_GUEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"
#include "mem.h"

/* Mapped once per process: a fresh mapping per input would dominate the
 * run time. */
static struct guest_mem *guest(void)
{
    static struct guest_mem mem;

    if (!mem.map && mem_init(&mem, GUEST_RAM) < 0) {
        fprintf(stderr, "mem_init: %s\n", kvmrun_last_error());
        abort();
    }
    return &mem;
}

static inline void fill(struct guest_mem *mem, uint64_t start, uint64_t end,
                        uint8_t byte)
{
    memset(mem_ptr(mem, start, end - start), byte, end - start);
}

/* 1 if every byte of [start, end) is still byte. memcmp against itself
 * shifted by one: a per-byte loop would be instrumented and slow. */
static inline int intact(struct guest_mem *mem, uint64_t start, uint64_t end,
                         uint8_t byte)
{
    const uint8_t *p = mem_ptr(mem, start, end - start);

    return p[0] == byte && memcmp(p, p + 1, end - start - 1) == 0;
}

#endif
