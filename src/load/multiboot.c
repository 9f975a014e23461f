/* multiboot.c: multiboot v1 kernels, their module and information block. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "le.h"
#include "load/load.h"

/*
 * Multiboot Specification 0.6.96. The structures are x86 little-endian
 * layouts; kvmrun only runs x86 guests on x86 hosts, so they are copied
 * to guest memory as they are.
 */
#define MB_MAGIC 0x1BADB002u
#define MB_SEARCH 8192 /* the header lies in the first 8 KiB */
#define MB_HDR_MIN 12  /* magic, flags, checksum */
#define MB_HDR_AOUT 32 /* and the five a.out-kludge address fields */

#define MB_PAGE_ALIGN (1u << 0)  /* modules on 4 KiB boundaries */
#define MB_MEMORY_INFO (1u << 1) /* mem_* fields wanted */
#define MB_VIDEO_MODE (1u << 2)  /* video mode wanted: we have no video */
#define MB_AOUT_KLUDGE (1u << 16)
#define MB_REQUIRED 0xffffu /* bits a loader must understand */
#define MB_UNDERSTOOD (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)

#define MB_RAM 1
#define MB_RESERVED 2

#define KIB 1024ULL
#define MB_PAGE 4096ULL
#define MB_BASE_END 0x9fc00ULL       /* 639 KiB: the EBDA and ROMs follow */
#define MB_UPPER_START 0x100000ULL   /* 1 MiB */
#define MB_ADDR_LIMIT 0x100000000ULL /* every address handed over is u32 */
#define MB_MMAP_MAX (3 + MEM_MAX_SLOTS)

struct mb_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
    uint32_t entry_addr;
};

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
    uint32_t apm_table, vbe_control_info, vbe_mode_info;
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off;
    uint16_t vbe_interface_len;
};

struct mb_module {
    uint32_t mod_start, mod_end, string, reserved;
};

/* size counts the bytes after itself: mmap_addr points at size, and a
 * kernel steps from entry to entry by size + 4. */
struct mb_mmap_entry {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct mb_info) == 88, "multiboot info layout");
_Static_assert(sizeof(struct mb_module) == 16, "multiboot module layout");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap layout");

/* Where the kernel went (or goes): what the module and entry depend on. */
struct mb_kernel {
    uint64_t entry;
    uint64_t end;       /* one past the highest byte, bss included */
    uint64_t load_addr; /* a.out kludge: copy load_len bytes from file_off */
    uint64_t file_off, load_len, bss_len;
    struct load_elf_plan elf; /* an ELF kernel's segments (nsegs > 0) */
};

/* The information area, laid out before anything is written. */
struct mb_layout {
    struct mb_mmap_entry mmap[MB_MMAP_MAX];
    unsigned nmmap;
    uint64_t mods, mmap_off, cmdline, modstr, size; /* offsets, total */
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)le_get(p, 4);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* A one-line error about the image's multiboot header. */
#define hdr_err(ctx, ...) load_err(ctx, "multiboot header", __VA_ARGS__)

long load_multiboot_probe(const uint8_t *image, size_t len)
{
    size_t limit = len < MB_SEARCH ? len : MB_SEARCH;

    for (size_t off = 0; limit >= MB_HDR_MIN && off <= limit - MB_HDR_MIN;
         off += 4) {
        uint32_t magic = get32(image + off);

        if (magic == MB_MAGIC && (uint32_t)(magic + get32(image + off + 4) +
                                            get32(image + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

/* The header at off in head, the file's first head_len bytes: those
 * hold 32 bytes from any offset the probe can find unless the file ends
 * first. */
static int read_header(const struct load_ctx *ctx, const uint8_t *head,
                       size_t head_len, size_t off, struct mb_header *h)
{
    const uint8_t *p = head + off;

    memset(h, 0, sizeof(*h));
    h->magic = get32(p);
    h->flags = get32(p + 4);
    h->checksum = get32(p + 8);
    if (!(h->flags & MB_AOUT_KLUDGE))
        return 0;
    if (head_len - off < MB_HDR_AOUT)
        return hdr_err(ctx,
                       "at file offset 0x%zx: flag 16 (a.out kludge) "
                       "needs 32 header bytes, the file has %zu",
                       off, head_len - off);
    h->header_addr = get32(p + 12);
    h->load_addr = get32(p + 16);
    h->load_end_addr = get32(p + 20);
    h->bss_end_addr = get32(p + 24);
    h->entry_addr = get32(p + 28);
    return 0;
}

/* The spec: a loader that does not understand a required bit must fail. */
static int check_flags(const struct load_ctx *ctx, uint32_t flags)
{
    uint32_t unknown = flags & MB_REQUIRED & ~MB_UNDERSTOOD;

    if (!unknown)
        return 0;
    return hdr_err(ctx,
                   "flags 0x%08" PRIx32 ": required feature bit %d "
                   "is not supported",
                   flags, __builtin_ctz(unknown));
}

/* header_addr and load_addr: where in the file loading starts. */
static int aout_start(const struct load_ctx *ctx, size_t off,
                      const struct mb_header *h, struct mb_kernel *k)
{
    uint64_t back = (uint64_t)h->header_addr - h->load_addr;

    if (h->load_addr > h->header_addr)
        return hdr_err(ctx,
                       "load_addr 0x%" PRIx32 " is above header_addr "
                       "0x%" PRIx32,
                       h->load_addr, h->header_addr);
    if (back > off)
        return hdr_err(ctx,
                       "header_addr - load_addr = 0x%" PRIx64 " is "
                       "more than the header's file offset 0x%zx",
                       back, off);
    k->load_addr = h->load_addr;
    k->file_off = off - back;
    return 0;
}

/* load_end_addr: how much of the file to load; 0 means all the rest. */
static int aout_load_len(const struct load_ctx *ctx, uint64_t len,
                         const struct mb_header *h, struct mb_kernel *k)
{
    uint64_t in_file = len - k->file_off;

    k->load_len = in_file;
    if (!h->load_end_addr)
        return 0;
    if (h->load_end_addr < h->load_addr)
        return hdr_err(ctx,
                       "load_end_addr 0x%" PRIx32 " is below "
                       "load_addr 0x%" PRIx32,
                       h->load_end_addr, h->load_addr);
    k->load_len = h->load_end_addr - h->load_addr;
    if (k->load_len > in_file)
        return hdr_err(ctx,
                       "load_end_addr 0x%" PRIx32 ": 0x%" PRIx64
                       " bytes from file offset 0x%" PRIx64 " but the file "
                       "has 0x%" PRIx64,
                       h->load_end_addr, k->load_len, k->file_off, len);
    return 0;
}

/* bss_end_addr: zeroed after the loaded data; 0 means no bss. */
static int aout_bss(const struct load_ctx *ctx, const struct mb_header *h,
                    struct mb_kernel *k)
{
    uint64_t load_end = k->load_addr + k->load_len;

    if (h->bss_end_addr && h->bss_end_addr < load_end)
        return hdr_err(ctx,
                       "bss_end_addr 0x%" PRIx32 " is below the end "
                       "of the loaded data 0x%" PRIx64,
                       h->bss_end_addr, load_end);
    k->end = h->bss_end_addr ? h->bss_end_addr : load_end;
    k->bss_len = k->end - load_end;
    k->entry = h->entry_addr;
    return 0;
}

static int aout_plan(const struct load_ctx *ctx, uint64_t len, size_t off,
                     const struct mb_header *h, struct mb_kernel *k)
{
    uint64_t load_end;
    int r = aout_start(ctx, off, h, k);

    if (r == 0)
        r = aout_load_len(ctx, len, h, k);
    if (r == 0)
        r = aout_bss(ctx, h, k);
    if (r < 0)
        return r;
    if (k->entry < k->load_addr || k->entry >= k->end)
        return hdr_err(ctx,
                       "entry_addr 0x%" PRIx64 " is outside the "
                       "image 0x%" PRIx64 "-0x%" PRIx64,
                       k->entry, k->load_addr, k->end);
    load_end = k->load_addr + k->load_len;
    r = load_check_range(ctx, "kernel (load_addr-load_end_addr)", k->load_addr,
                         k->load_len);
    if (r < 0)
        return r;
    return load_check_range(ctx, "kernel bss (load_end_addr-bss_end_addr)",
                            load_end, k->bss_len);
}

static int aout_write(const struct load_ctx *ctx, const struct load_src *src,
                      const struct mb_kernel *k)
{
    load_zero(ctx->mem, k->load_addr + k->load_len, k->bss_len);
    return load_read(ctx->mem, k->load_addr, src, k->file_off, k->load_len);
}

/* Multiboot kernels start in 32-bit protected mode: no ELF64. Checks
 * only: the segments are copied once the module has been placed too. */
static int elf_plan(const struct load_ctx *ctx, const struct load_src *src,
                    const uint8_t *head, size_t head_len, struct mb_kernel *k)
{
    int r;

    if (!load_elf_probe(head, head_len))
        return hdr_err(ctx, "flag 16 (a.out kludge) is clear and the image "
                            "is not ELF");
    if (head_len > EI_CLASS && head[EI_CLASS] == ELFCLASS64)
        return err_set(EINVAL,
                       "%s: ELF64 multiboot kernel: multiboot "
                       "kernels are 32-bit",
                       ctx->name);
    r = load_elf_plan(ctx, src, &k->elf);
    if (r < 0)
        return r;
    if (k->elf.info.bits != 32) {
        load_elf_plan_free(&k->elf);
        return err_set(EINVAL,
                       "%s: ELF%u multiboot kernel: multiboot "
                       "kernels are 32-bit",
                       ctx->name, k->elf.info.bits);
    }
    /* load_elf_plan() checked that e_entry lies in a PT_LOAD segment. */
    k->entry = k->elf.info.entry;
    k->end = k->elf.info.high;
    return 0;
}

static unsigned mmap_add(struct mb_mmap_entry *e, unsigned n, uint64_t base,
                         uint64_t end, uint32_t type)
{
    if (end <= base)
        return n;
    e[n] = (struct mb_mmap_entry){sizeof(e[n]) - 4, base, end - base, type};
    return n + 1;
}

/* The e820-style map of ctx->mem: base memory, the legacy hole below
 * 1 MiB, the rest of the low slot and the slots above 4 GiB. */
static unsigned mmap_build(const struct guest_mem *mem, struct mb_mmap_entry *e)
{
    uint64_t low = mem_low_size(mem);
    unsigned n;

    n = mmap_add(e, 0, 0, low < MB_BASE_END ? low : MB_BASE_END, MB_RAM);
    n = mmap_add(e, n, MB_BASE_END, MB_UPPER_START, MB_RESERVED);
    n = mmap_add(e, n, MB_UPPER_START, low, MB_RAM);
    for (unsigned i = 1; i < mem->nslots; i++)
        n = mmap_add(e, n, mem->slot[i].gpa,
                     mem->slot[i].gpa + mem->slot[i].size, MB_RAM);
    return n;
}

static const char *module_string(const struct load_multiboot_args *args)
{
    return args->module_string ? args->module_string : "";
}

/*
 * Info struct, one module entry (kept, zeroed, when there is no module so
 * that mods_addr is valid), memory map, command line, module string.
 */
static int layout(const struct load_ctx *ctx,
                  const struct load_multiboot_args *args, struct mb_layout *l)
{
    l->nmmap = mmap_build(ctx->mem, l->mmap);
    l->mods = sizeof(struct mb_info);
    l->mmap_off = l->mods + sizeof(struct mb_module);
    l->cmdline = l->mmap_off + l->nmmap * sizeof(struct mb_mmap_entry);
    l->modstr = l->cmdline + strlen(args->cmdline ? args->cmdline : "") + 1;
    l->size = l->modstr;
    if (args->module_src)
        l->size += strlen(module_string(args)) + 1;
    if (l->size > args->info_size)
        return err_set(ERANGE,
                       "%s: multiboot information block: needs %" PRIu64
                       " bytes, the area at 0x%" PRIx64 " has %" PRIu64
                       " (command line too long?)",
                       ctx->name, l->size, args->info_addr, args->info_size);
    if (args->info_addr > MB_ADDR_LIMIT - l->size)
        return err_set(ERANGE,
                       "%s: multiboot information block at 0x%" PRIx64
                       " is not below 4 GiB",
                       ctx->name, args->info_addr);
    return load_check_range(ctx, "multiboot information block", args->info_addr,
                            l->size);
}

/* 1 if r lies inside the information area: the caller reserved it for
 * the block we write, so the block may go there. */
static int in_info_area(const struct load_region *r,
                        const struct load_multiboot_args *args)
{
    return r->start >= args->info_addr &&
           r->end - args->info_addr <= args->info_size;
}

/*
 * Two views of ctx->reserved in one array: the first *ninfo regions are
 * those the information block must avoid (all but the ones inside the
 * information area); with the whole area appended, they are those the
 * kernel and module must avoid.
 */
static int split_reserved(const struct load_ctx *ctx,
                          const struct load_multiboot_args *args,
                          struct load_region **regions, unsigned *ninfo)
{
    struct load_region *r = calloc(ctx->nreserved + 1ULL, sizeof(*r));
    unsigned n = 0;

    if (!r)
        return err_set(ENOMEM, "%s: out of memory", ctx->name);
    for (unsigned i = 0; i < ctx->nreserved; i++)
        if (!in_info_area(&ctx->reserved[i], args))
            r[n++] = ctx->reserved[i];
    /* layout() checks info_addr + the bytes used; the rest may wrap. */
    r[n] = (struct load_region){args->info_addr,
                                args->info_size > UINT64_MAX - args->info_addr
                                    ? UINT64_MAX
                                    : args->info_addr + args->info_size,
                                "the multiboot information area"};
    *regions = r;
    *ninfo = n;
    return 0;
}

/* Module 0 goes on the first page boundary after the kernel. */
static int module_plan(const struct load_ctx *guard,
                       const struct load_multiboot_args *args,
                       const struct mb_kernel *k, uint64_t *start)
{
    uint64_t len = args->module_src ? args->module_src->len : 0;

    *start = align_up(k->end, MB_PAGE);
    if (!args->module_src)
        return 0;
    if (*start > MB_ADDR_LIMIT || len > MB_ADDR_LIMIT - *start)
        return err_set(ERANGE,
                       "%s: module 0: 0x%" PRIx64 "+0x%" PRIx64 " does not "
                       "end below 4 GiB",
                       guard->name, *start, len);
    return load_check_range(guard, "module 0", *start, len);
}

/* The fixed part: memory sizes, and where the rest of the area is. */
static struct mb_info info_struct(const struct guest_mem *mem,
                                  const struct load_multiboot_args *args,
                                  const struct mb_layout *l)
{
    uint32_t base = (uint32_t)args->info_addr;
    uint64_t low = mem_low_size(mem);

    return (struct mb_info){
        .flags = MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP,
        .mem_lower = (uint32_t)((low < MB_BASE_END ? low : MB_BASE_END) / KIB),
        .mem_upper =
            (uint32_t)(low > MB_UPPER_START ? (low - MB_UPPER_START) / KIB : 0),
        .cmdline = base + (uint32_t)l->cmdline,
        .mods_count = args->module_src ? 1 : 0,
        .mods_addr = base + (uint32_t)l->mods,
        .mmap_length = l->nmmap * (uint32_t)sizeof(struct mb_mmap_entry),
        .mmap_addr = base + (uint32_t)l->mmap_off,
    };
}

/* The whole area as the guest will see it, in buf (l->size bytes, zeroed). */
static void info_fill(const struct guest_mem *mem,
                      const struct load_multiboot_args *args,
                      const struct mb_layout *l, uint64_t mod_start,
                      uint8_t *buf)
{
    struct mb_info info = info_struct(mem, args, l);
    const char *cmdline = args->cmdline ? args->cmdline : "";
    const char *string = module_string(args);

    memcpy(buf, &info, sizeof(info));
    memcpy(buf + l->mmap_off, l->mmap, info.mmap_length);
    memcpy(buf + l->cmdline, cmdline, strlen(cmdline) + 1);
    if (args->module_src) {
        struct mb_module mod = {(uint32_t)mod_start,
                                (uint32_t)(mod_start + args->module_src->len),
                                (uint32_t)(args->info_addr + l->modstr), 0};

        memcpy(buf + l->mods, &mod, sizeof(mod));
        memcpy(buf + l->modstr, string, strlen(string) + 1);
    }
}

/* The kernel and module 0: every check, before anything is written. */
static int kernel_plan(const struct load_ctx *guard, const struct load_src *src,
                       const uint8_t *head, size_t head_len, size_t off,
                       const struct load_multiboot_args *args,
                       struct mb_kernel *k, uint64_t *mod_start)
{
    struct mb_header h;
    int r = read_header(guard, head, head_len, off, &h);

    if (r == 0)
        r = check_flags(guard, h.flags);
    if (r < 0)
        return r;
    if (!(h.flags & MB_AOUT_KLUDGE))
        r = elf_plan(guard, src, head, head_len, k);
    else
        r = aout_plan(guard, src->len, off, &h, k);
    if (r == 0)
        r = module_plan(guard, args, k, mod_start);
    return r;
}

/* Everything that can fail without touching guest memory comes first. */
static int prepare(const struct load_ctx *ctx,
                   const struct load_multiboot_args *args, struct mb_layout *l,
                   uint8_t **buf, struct load_ctx *guard,
                   struct load_region **regions)
{
    struct load_ctx info_ctx = *ctx;
    unsigned ninfo = 0;
    int r = split_reserved(ctx, args, regions, &ninfo);

    if (r < 0)
        return r;
    info_ctx.reserved = *regions;
    info_ctx.nreserved = ninfo;
    *guard = info_ctx;
    guard->nreserved = ninfo + 1;
    r = layout(&info_ctx, args, l);
    if (r < 0)
        return r;
    *buf = calloc(1, l->size);
    if (!*buf)
        return err_set(ENOMEM, "%s: out of memory", ctx->name);
    return 0;
}

/* Past every check: the kernel, module 0 and the block. */
static int finish(const struct load_ctx *ctx, const struct load_src *src,
                  const struct load_multiboot_args *args,
                  const struct mb_layout *l, const struct mb_kernel *k,
                  uint64_t mod_start, uint8_t *buf)
{
    int r = k->elf.nsegs ? load_elf_copy(ctx, src, &k->elf)
                         : aout_write(ctx, src, k);

    if (r == 0 && args->module_src)
        r = load_read(ctx->mem, mod_start, args->module_src, 0,
                      args->module_src->len);
    if (r < 0)
        return r;
    info_fill(ctx->mem, args, l, mod_start, buf);
    load_copy(ctx->mem, args->info_addr, buf, l->size);
    return 0;
}

/* The first bytes of the kernel: the multiboot header's search window,
 * and a header found at its very end. */
#define MB_HEAD (MB_SEARCH + MB_HDR_AOUT)

int load_multiboot_src(const struct load_ctx *ctx, const struct load_src *src,
                       const struct load_multiboot_args *args_in,
                       struct load_multiboot_info *out)
{
    struct load_multiboot_args a = *args_in;
    struct load_src module = {args_in->module, -1, args_in->module_len,
                              ctx->name};
    uint8_t head[MB_HEAD];
    size_t head_len = src->len < MB_HEAD ? (size_t)src->len : MB_HEAD;
    long off;
    struct mb_layout l;
    struct mb_kernel k = {0};
    struct load_ctx guard;
    struct load_region *regions = NULL;
    uint8_t *buf = NULL;
    uint64_t mod_start = 0;
    int r = load_src_read(src, 0, head, head_len);

    if (r < 0)
        return r;
    if (!a.module_src && a.module)
        a.module_src = &module;
    off = load_multiboot_probe(head, head_len);
    if (off < 0)
        return err_set(EINVAL,
                       "%s: no multiboot header (magic 0x%08x and "
                       "checksum) in the first 8 KiB",
                       ctx->name, MB_MAGIC);
    r = prepare(ctx, &a, &l, &buf, &guard, &regions);
    if (r == 0)
        r = kernel_plan(&guard, src, head, head_len, (size_t)off, &a, &k,
                        &mod_start);
    if (r == 0)
        r = finish(&guard, src, &a, &l, &k, mod_start, buf);
    if (r == 0) {
        out->entry = k.entry;
        out->ebx = (uint32_t)a.info_addr;
    }
    load_elf_plan_free(&k.elf);
    free(regions);
    free(buf);
    return r;
}

int load_multiboot(const struct load_ctx *ctx, const uint8_t *image, size_t len,
                   const struct load_multiboot_args *args,
                   struct load_multiboot_info *out)
{
    struct load_src src = {image, -1, len, ctx->name};

    return load_multiboot_src(ctx, &src, args, out);
}
