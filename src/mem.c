/* mem.c: guest RAM, its memory slots and the one checked accessor. */
#include "mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"

#define PAGE_SIZE 4096ULL

#define HUGE_SIZE (2ULL << 20)

/* An anonymous mapping of size bytes starting on a 2 MiB boundary, so that
 * transparent huge pages can back it from its first byte; NULL on error. */
static void *mem_map_aligned(uint64_t size)
{
    uint64_t len = size + HUGE_SIZE;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uint64_t head, tail;

    if (p == MAP_FAILED)
        return NULL;
    head = (HUGE_SIZE - (uintptr_t)p % HUGE_SIZE) % HUGE_SIZE;
    tail = len - head - size;
    if (head)
        munmap(p, head);
    if (tail)
        munmap(p + head + size, tail);
    return p + head;
}

int mem_init(struct guest_mem *mem, uint64_t size)
{
    uint64_t low = size < MEM_LOW_END ? size : MEM_LOW_END;

    memset(mem, 0, sizeof(*mem));
    if (size == 0 || size % PAGE_SIZE)
        return err_set(EINVAL,
                       "guest memory size %#llx: not a non-zero "
                       "multiple of 4 KiB",
                       (unsigned long long)size);
    if (size > SIZE_MAX)
        return err_set(ERANGE, "guest memory size too large");
    mem->map = mem_map_aligned(size);
    if (!mem->map)
        return err_errno(errno, "cannot map %llu MiB of guest memory",
                         (unsigned long long)(size >> 20));
    /* Huge pages: KVM then maps guest RAM 2 MiB at a time, and a guest
     * touching fresh memory faults 512 times less (under nested KVM each
     * fault costs milliseconds). Only a hint: no error if refused. */
    madvise(mem->map, size, MADV_HUGEPAGE);
    mem->size = size;
    mem->slot[0] = (struct mem_slot){0, low, mem->map};
    mem->nslots = 1;
    if (size > low) {
        mem->slot[1] = (struct mem_slot){MEM_HIGH_START, size - low,
                                         (uint8_t *)mem->map + low};
        mem->nslots = 2;
    }
    return 0;
}

void mem_fini(struct guest_mem *mem)
{
    if (mem->map)
        munmap(mem->map, mem->size);
    memset(mem, 0, sizeof(*mem));
}

void *mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < mem->nslots; i++) {
        const struct mem_slot *s = &mem->slot[i];

        if (gpa < s->gpa || gpa - s->gpa > s->size)
            continue;
        if (len > s->size - (gpa - s->gpa))
            return NULL;
        return s->host + (gpa - s->gpa);
    }
    return NULL;
}

uint64_t mem_low_size(const struct guest_mem *mem)
{
    return mem->nslots ? mem->slot[0].size : 0;
}
