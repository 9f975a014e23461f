/* guest_tables.h: what the firmware-table tests (test_acpi.c,
 * test_mptable.c) share: a 2 MiB guest RAM fixture, and little-endian
 * fields and byte checksums read back as a guest OS would. */
#ifndef KVMRUN_TEST_GUEST_TABLES_H
#define KVMRUN_TEST_GUEST_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

#define MIB (1ULL << 20)

/* The size-byte little-endian field at p. */
static inline uint64_t le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    while (size--)
        v = v << 8 | p[size];
    return v;
}

/* The sum of len bytes, mod 256: 0 for a table with a valid checksum. */
static inline uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* cmocka group fixtures: *state is 2 MiB of guest RAM. */
static inline int setup(void **state)
{
    static struct guest_mem mem;

    if (mem_init(&mem, 2 * MIB))
        return -1;
    *state = &mem;
    return 0;
}

static inline int teardown(void **state)
{
    mem_fini(*state);
    return 0;
}

#endif
