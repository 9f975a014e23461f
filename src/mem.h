/* mem.h: guest RAM, its memory slots and the one checked accessor. */
#ifndef KVMRUN_MEM_H
#define KVMRUN_MEM_H

#include <stdint.h>
#include <stddef.h>

/* RAM below 4 GiB stops here; the rest of RAM starts at 4 GiB. */
#define MEM_LOW_END 0xc0000000ULL
#define MEM_HIGH_START 0x100000000ULL
#define MEM_MAX_SLOTS 2

struct mem_slot {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
};

struct guest_mem {
    struct mem_slot slot[MEM_MAX_SLOTS];
    unsigned nslots;
    uint64_t size; /* total RAM */
    void *map;     /* one host mapping holding every slot */
};

/* Maps size bytes of anonymous memory and lays out the slots. 0 or -errno. */
int mem_init(struct guest_mem *mem, uint64_t size);
void mem_fini(struct guest_mem *mem);

/*
 * Host pointer to guest-physical [gpa, gpa + len), or NULL when any byte
 * of it is not RAM of a single slot, or gpa + len overflows. Every access
 * to guest memory goes through here.
 */
void *mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* End of RAM that starts at gpa 0 (the low slot). */
uint64_t mem_low_size(const struct guest_mem *mem);

#endif
