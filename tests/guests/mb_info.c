/* mb_info.c: a multiboot guest that prints what it was given: magic,
 * memory sizes, command line, modules, the memory map, and fw_cfg's view. */
#include "guestlib.h"

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_module {
    uint32_t start, end, string, reserved;
};

struct mb_mmap {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

int mb_main(uint32_t magic, const struct mb_info *mb);

static void print_modules(const struct mb_info *mb)
{
    const struct mb_module *m =
        (const struct mb_module *)(uintptr_t)mb->mods_addr;

    g_printf("mods: %u\n", mb->mods_count);
    for (uint32_t i = 0; i < mb->mods_count; i++) {
        const char *data = (const char *)(uintptr_t)m[i].start;
        char first[17] = {0};

        for (unsigned k = 0; k < 16 && m[i].start + k < m[i].end; k++)
            first[k] = data[k] >= ' ' && data[k] < 127 ? data[k] : '.';
        g_printf("mod %u: %s, %u bytes%s, starts \"%s\"\n", i,
                 (const char *)(uintptr_t)m[i].string, m[i].end - m[i].start,
                 m[i].start % 4096 ? ", NOT page-aligned" : "", first);
    }
}

static void print_mmap(const struct mb_info *mb)
{
    uint32_t off = 0;

    while (off < mb->mmap_length) {
        const struct mb_mmap *e =
            (const struct mb_mmap *)(uintptr_t)(mb->mmap_addr + off);

        g_printf("mmap: 0x%llx +0x%llx type %u\n", e->base, e->len, e->type);
        off += e->size + 4;
    }
}

int mb_main(uint32_t magic, const struct mb_info *mb)
{
    uint64_t ram = 0;
    uint16_t cpus = 0;

    fw_cfg_read(0x03, &ram, 8);
    fw_cfg_read(0x05, &cpus, 2);
    g_printf("multiboot: eax %x, flags %x, mem_lower %u KiB, mem_upper %u "
             "KiB\n",
             magic, mb->flags, mb->mem_lower, mb->mem_upper);
    g_printf("cmdline: %s\n", (const char *)(uintptr_t)mb->cmdline);
    print_modules(mb);
    print_mmap(mb);
    g_printf("fw_cfg: %u cpus, %llu MiB\n", cpus,
             (unsigned long long)(ram >> 20));
    return magic == 0x2badb002 ? 0 : 1;
}
