/* linux.c: bzImages for the Linux x86 64-bit boot protocol. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "dev/dev.h"
#include "load/load.h"

/*
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst) and the
 * zero page (Documentation/arch/x86/zero-page.rst). Offsets are those of
 * the bzImage file, which are also those of struct boot_params: the setup
 * header lies at 0x1f1 in both. Everything is little-endian.
 */
#define LX_SETUP_SECTS 0x1f1      /* u8: 512-byte setup sectors, 0 means 4 */
#define LX_BOOT_FLAG 0x1fe        /* u16: 0xaa55 */
#define LX_JUMP_LEN 0x201         /* u8: the header ends at 0x202 + this */
#define LX_HEADER 0x202           /* "HdrS" */
#define LX_VERSION 0x206          /* u16: protocol, e.g. 0x020f */
#define LX_TYPE_OF_LOADER 0x210   /* u8 */
#define LX_LOADFLAGS 0x211        /* u8 */
#define LX_CODE32_START 0x214     /* u32 */
#define LX_RAMDISK_IMAGE 0x218    /* u32 */
#define LX_RAMDISK_SIZE 0x21c     /* u32 */
#define LX_HEAP_END_PTR 0x224     /* u16 */
#define LX_CMD_LINE_PTR 0x228     /* u32 */
#define LX_INITRD_ADDR_MAX 0x22c  /* u32: highest byte the initrd may use */
#define LX_KERNEL_ALIGNMENT 0x230 /* u32 */
#define LX_RELOCATABLE 0x234      /* u8 */
#define LX_XLOADFLAGS 0x236       /* u16, protocol 2.12 */
#define LX_CMDLINE_SIZE 0x238     /* u32, 2.06: maximum length without NUL */
#define LX_PREF_ADDRESS 0x258     /* u64, 2.10 */
#define LX_INIT_SIZE 0x260        /* u32, 2.10 */
#define LX_HDR_LIMIT 0x290        /* the zero page's setup header ends here */

/* Zero page fields outside the setup header. */
#define ZP_SIZE 4096
#define ZP_ACPI_RSDP 0x070 /* u64 */
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8 /* u8 */
#define ZP_E820_TABLE 0x2d0   /* 20-byte entries */
#define ZP_E820_MAX 128

#define LX_BOOT_FLAG_MAGIC 0xaa55
#define LX_MIN_VERSION 0x0206
#define LX_LOADED_HIGH 0x01 /* loadflags: bzImage, loaded at 1 MiB */
#define LX_CAN_USE_HEAP 0x80
#define LX_XLF_KERNEL_64 0x01 /* xloadflags: has the 64-bit entry */
#define LX_LOADER_UNDEFINED 0xff
#define LX_HEAP_END 0xfe00
#define LX_OLD_CMDLINE_MAX 255 /* before protocol 2.06 */

#define LX_LOAD 0x100000ULL /* the protected-mode kernel goes at 1 MiB */
#define LX_ENTRY_64 0x200   /* startup_64, from the kernel's start */
#define LX_SECTOR 512
#define LX_PAGE 4096ULL
#define LX_BASE_END 0x9fc00ULL /* 639 KiB: the EBDA and ROMs follow */

#define E820_RAM 1
#define E820_RESERVED 2
#define LX_E820_MAX (3 + MEM_MAX_SLOTS)

/* The setup header fields the loader uses, read from the image. */
struct lx_hdr {
    unsigned setup_sects;
    uint16_t version;
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t initrd_addr_max;
    uint32_t kernel_alignment;
    uint8_t relocatable;
    uint64_t cmdline_max; /* without the NUL */
    uint64_t pref_address;
    uint64_t init_size; /* 0 before protocol 2.10 */
    size_t kernel_off;  /* file offset of the protected-mode kernel */
    size_t kernel_len;
    size_t hdr_end; /* copy [0x1f1, hdr_end) into the zero page */
};

/* Where everything goes, decided before anything is written. */
struct lx_plan {
    struct lx_hdr h;
    size_t cmdline_len;
    uint64_t kernel_end; /* with the room it decompresses into */
    uint64_t initrd_start;
    uint64_t initrd_len;
};

struct lx_e820 {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct lx_e820) == 20, "e820 entry layout");

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* a + b, or UINT64_MAX when that overflows. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A one-line error about the image's setup header. */
#define hdr_err(ctx, ...) load_err(ctx, "Linux setup header", __VA_ARGS__)

int load_linux_probe(const uint8_t *image, size_t len)
{
    return len >= LX_HEADER + 4 && memcmp(image + LX_HEADER, "HdrS", 4) == 0;
}

/* boot_flag, "HdrS", setup_sects: the file holds a header and a kernel. */
static int check_magic(const struct load_ctx *ctx, const uint8_t *image,
                       size_t avail, uint64_t len, struct lx_hdr *h)
{
    uint16_t flag;

    if (avail < LX_HEADER + 4 || (avail < len && avail < LX_HDR_LIMIT))
        return hdr_err(ctx,
                       "file is %" PRIu64 " bytes, too short for a "
                       "setup header (\"HdrS\" at 0x202)",
                       len);
    flag = dev_get_le(image + LX_BOOT_FLAG, 2);
    if (flag != LX_BOOT_FLAG_MAGIC)
        return hdr_err(ctx, "boot_flag 0x%04x at 0x1fe is not 0xaa55", flag);
    if (memcmp(image + LX_HEADER, "HdrS", 4) != 0)
        return hdr_err(ctx, "header at 0x202 is not \"HdrS\": not a "
                            "bzImage");
    h->setup_sects = image[LX_SETUP_SECTS] ? image[LX_SETUP_SECTS] : 4;
    h->kernel_off = (h->setup_sects + 1) * (size_t)LX_SECTOR;
    if (h->kernel_off >= len)
        return hdr_err(ctx,
                       "setup_sects %u: the protected-mode kernel "
                       "would start at file offset 0x%zx, the file is "
                       "0x%" PRIx64 " bytes",
                       image[LX_SETUP_SECTS], h->kernel_off, len);
    h->kernel_len = (size_t)(len - h->kernel_off);
    /* kernel_off >= 0x400: the whole header is in the file. */
    h->hdr_end = LX_HEADER + (size_t)image[LX_JUMP_LEN];
    if (h->hdr_end > LX_HDR_LIMIT)
        h->hdr_end = LX_HDR_LIMIT;
    return 0;
}

/* The header's own length (the jump at 0x200 skips it) must cover the
 * fields of its protocol version: the kernel reads them from the zero
 * page, which gets only that much of the header. */
static int check_hdr_end(const struct load_ctx *ctx, const uint8_t *image,
                         const struct lx_hdr *h)
{
    size_t need = h->version >= 0x020a ? LX_INIT_SIZE + 4 : LX_CMDLINE_SIZE + 4;

    if (LX_HEADER + (size_t)image[LX_JUMP_LEN] >= need)
        return 0;
    return hdr_err(ctx,
                   "jump offset 0x%02x at 0x201: the header ends at "
                   "0x%zx, protocol %u.%02u's fields end at 0x%zx",
                   image[LX_JUMP_LEN], LX_HEADER + (size_t)image[LX_JUMP_LEN],
                   h->version >> 8, h->version & 0xff, need);
}

/* Version, 64-bit entry, bzImage; the fields of later protocols. */
static int check_fields(const struct load_ctx *ctx, const uint8_t *image,
                        struct lx_hdr *h)
{
    int r;

    h->version = dev_get_le(image + LX_VERSION, 2);
    if (h->version < LX_MIN_VERSION)
        return hdr_err(ctx,
                       "version 0x%04x: boot protocol %u.%02u is older "
                       "than 2.06, which kvmrun needs",
                       h->version, h->version >> 8, h->version & 0xff);
    h->xloadflags =
        h->version >= 0x020c ? dev_get_le(image + LX_XLOADFLAGS, 2) : 0;
    if (h->version >= 0x020c && !(h->xloadflags & LX_XLF_KERNEL_64))
        return hdr_err(ctx,
                       "xloadflags 0x%04x: XLF_KERNEL_64 (bit 0) is "
                       "clear: not a 64-bit kernel",
                       h->xloadflags);
    r = check_hdr_end(ctx, image, h);
    if (r < 0)
        return r;
    h->loadflags = image[LX_LOADFLAGS];
    if (!(h->loadflags & LX_LOADED_HIGH))
        return hdr_err(ctx,
                       "loadflags 0x%02x: LOADED_HIGH (bit 0) is "
                       "clear: a zImage, not a bzImage",
                       h->loadflags);
    h->initrd_addr_max = dev_get_le(image + LX_INITRD_ADDR_MAX, 4);
    h->kernel_alignment = dev_get_le(image + LX_KERNEL_ALIGNMENT, 4);
    h->relocatable = image[LX_RELOCATABLE];
    h->cmdline_max = h->version >= 0x0206
                         ? dev_get_le(image + LX_CMDLINE_SIZE, 4)
                         : LX_OLD_CMDLINE_MAX;
    if (h->version >= 0x020a) {
        h->pref_address = dev_get_le(image + LX_PREF_ADDRESS, 8);
        h->init_size = dev_get_le(image + LX_INIT_SIZE, 4);
    }
    return 0;
}

/*
 * Where the decompressor works: at the kernel rounded up to
 * kernel_alignment when relocatable, never below pref_address (the
 * kernel's LOAD_PHYSICAL_ADDR), init_size bytes. 0 when unknown (< 2.10).
 */
static uint64_t decompress_start(const struct lx_hdr *h)
{
    uint64_t start = LX_LOAD, a = h->kernel_alignment;

    if (h->version < 0x020a)
        return 0;
    if (h->relocatable && a && !(a & (a - 1)) && a <= (1ULL << 30))
        start = (LX_LOAD + a - 1) & ~(a - 1);
    return max64(start, h->pref_address);
}

static int plan_kernel(const struct load_ctx *guard, struct lx_plan *p)
{
    const struct lx_hdr *h = &p->h;
    uint64_t room = max64(h->kernel_len, h->init_size);
    uint64_t dstart = decompress_start(h);
    int r =
        load_check_range(guard, "kernel (with init_size room)", LX_LOAD, room);

    if (r < 0)
        return r;
    p->kernel_end = LX_LOAD + room;
    if (dstart <= LX_LOAD || !h->init_size)
        return 0;
    r = load_check_range(guard,
                         "kernel decompression buffer (pref_address "
                         "or kernel_alignment, init_size)",
                         dstart, h->init_size);
    if (r < 0)
        return r;
    p->kernel_end = max64(p->kernel_end, dstart + h->init_size);
    return 0;
}

/* The reserved range [start, start + len) overlaps, or NULL. */
static const struct load_region *overlap(const struct load_ctx *c,
                                         uint64_t start, uint64_t len)
{
    for (unsigned i = 0; i < c->nreserved; i++)
        if (start < c->reserved[i].end && c->reserved[i].start < start + len)
            return &c->reserved[i];
    return NULL;
}

/* As high as RAM and initrd_addr_max allow, on a page, above the kernel;
 * below any reserved range in the way. */
static int plan_initrd(const struct load_ctx *guard,
                       const struct load_linux_args *args, struct lx_plan *p)
{
    uint64_t limit =
        min64(p->h.initrd_addr_max + 1ULL, mem_low_size(guard->mem));
    uint64_t top = limit, len = args->initrd_len, start = 0;

    p->initrd_len = args->initrd || args->file_len ? args->initrd_len : 0;
    if (!p->initrd_len)
        return 0;
    for (unsigned i = 0; i <= guard->nreserved; i++) {
        const struct load_region *r;

        if (len > top || ((top - len) & ~(LX_PAGE - 1)) < p->kernel_end)
            return err_set(ERANGE,
                           "%s: initrd: %" PRIu64 " bytes do not "
                           "fit between the kernel's end 0x%" PRIx64 " and "
                           "0x%" PRIx64 " (initrd_addr_max 0x%" PRIx32
                           ", end of low RAM 0x%" PRIx64 ")",
                           guard->name, len, p->kernel_end, top,
                           p->h.initrd_addr_max, mem_low_size(guard->mem));
        start = (top - len) & ~(LX_PAGE - 1);
        r = overlap(guard, start, len);
        if (!r)
            break;
        top = r->start;
    }
    p->initrd_start = start;
    return load_check_range(guard, "initrd", start, len);
}

/* 1 if [r->start, r->end) is covered by [a, a + alen) and [b, b + blen):
 * a reserved range the caller set aside for the zero page and command
 * line, which they may use. */
static int covered(const struct load_region *r, uint64_t a, uint64_t alen,
                   uint64_t b, uint64_t blen)
{
    uint64_t cur = r->start, aend = sat_add(a, alen), bend = sat_add(b, blen);

    for (int i = 0; i < 3 && cur < r->end; i++) {
        if (cur >= a && cur < aend)
            cur = aend;
        else if (cur >= b && cur < bend)
            cur = bend;
        else
            return 0;
    }
    return cur >= r->end;
}

/*
 * Two views of ctx->reserved in one array: the first *nboot regions are
 * those the zero page and command line must avoid (all but the ones
 * inside their areas); with both written ranges appended, those the
 * kernel and initrd must avoid.
 */
static int split_reserved(const struct load_ctx *ctx,
                          const struct load_linux_args *args,
                          size_t cmdline_bytes, struct load_region **regions,
                          unsigned *nboot)
{
    struct load_region *r = calloc(ctx->nreserved + 2ULL, sizeof(*r));
    unsigned n = 0;

    if (!r)
        return err_set(ENOMEM, "%s: out of memory", ctx->name);
    for (unsigned i = 0; i < ctx->nreserved; i++)
        if (!covered(&ctx->reserved[i], args->boot_params_addr, ZP_SIZE,
                     args->cmdline_addr, args->cmdline_room))
            r[n++] = ctx->reserved[i];
    r[n] = (struct load_region){args->boot_params_addr,
                                sat_add(args->boot_params_addr, ZP_SIZE),
                                "the zero page"};
    r[n + 1] = (struct load_region){args->cmdline_addr,
                                    sat_add(args->cmdline_addr, cmdline_bytes),
                                    "the command line"};
    *regions = r;
    *nboot = n;
    return 0;
}

/* The command line's length against both limits; the boot data's place. */
static int plan_boot_data(const struct load_ctx *boot,
                          const struct load_linux_args *args, struct lx_plan *p)
{
    uint64_t zp = args->boot_params_addr, cl = args->cmdline_addr;
    uint64_t bytes = p->cmdline_len + 1ULL;
    int r;

    if (p->cmdline_len > p->h.cmdline_max)
        return err_set(EINVAL,
                       "%s: command line: %zu bytes, the kernel's "
                       "cmdline_size allows %" PRIu64,
                       boot->name, p->cmdline_len, p->h.cmdline_max);
    if (bytes > args->cmdline_room)
        return err_set(ERANGE,
                       "%s: command line: %zu bytes and a NUL do "
                       "not fit the %" PRIu64 " bytes at 0x%" PRIx64,
                       boot->name, p->cmdline_len, args->cmdline_room, cl);
    r = load_check_range(boot, "zero page (boot_params)", zp, ZP_SIZE);
    if (r == 0)
        r = load_check_range(boot, "command line", cl, bytes);
    if (r == 0 && cl < zp + ZP_SIZE && zp < cl + bytes)
        r = err_set(EINVAL,
                    "%s: command line 0x%" PRIx64 "-0x%" PRIx64
                    " overlaps the zero page at 0x%" PRIx64,
                    boot->name, cl, cl + bytes, zp);
    return r;
}

static unsigned e820_add(struct lx_e820 *e, unsigned n, uint64_t base,
                         uint64_t end, uint32_t type)
{
    if (end <= base)
        return n;
    e[n] = (struct lx_e820){base, end - base, type};
    return n + 1;
}

/* The map of ctx->mem: base memory, the legacy hole below 1 MiB (the
 * BIOS area with the ACPI and MP tables), the rest of the low slot and
 * the slots above 4 GiB. */
static unsigned e820_build(const struct guest_mem *mem, struct lx_e820 *e)
{
    uint64_t low = mem_low_size(mem);
    unsigned n;

    n = e820_add(e, 0, 0, min64(low, LX_BASE_END), E820_RAM);
    n = e820_add(e, n, LX_BASE_END, LX_LOAD, E820_RESERVED);
    n = e820_add(e, n, LX_LOAD, low, E820_RAM);
    for (unsigned i = 1; i < mem->nslots; i++)
        n = e820_add(e, n, mem->slot[i].gpa,
                     mem->slot[i].gpa + mem->slot[i].size, E820_RAM);
    return n;
}

/* The zero page as the kernel will see it. */
static void zero_page_fill(const struct guest_mem *mem, const uint8_t *image,
                           const struct load_linux_args *args,
                           const struct lx_plan *p, uint8_t *zp)
{
    struct lx_e820 e820[LX_E820_MAX];
    unsigned n = e820_build(mem, e820);

    _Static_assert(LX_E820_MAX <= ZP_E820_MAX, "e820 table size");
    memcpy(zp + LX_SETUP_SECTS, image + LX_SETUP_SECTS,
           p->h.hdr_end - LX_SETUP_SECTS);
    zp[LX_TYPE_OF_LOADER] = LX_LOADER_UNDEFINED;
    zp[LX_LOADFLAGS] = p->h.loadflags | LX_CAN_USE_HEAP;
    dev_put_le(zp + LX_HEAP_END_PTR, 2, LX_HEAP_END);
    dev_put_le(zp + LX_CODE32_START, 4, (uint32_t)LX_LOAD);
    dev_put_le(zp + LX_CMD_LINE_PTR, 4, (uint32_t)args->cmdline_addr);
    dev_put_le(zp + ZP_EXT_CMD_LINE_PTR, 4,
               (uint32_t)(args->cmdline_addr >> 32));
    dev_put_le(zp + LX_RAMDISK_IMAGE, 4, (uint32_t)p->initrd_start);
    dev_put_le(zp + ZP_EXT_RAMDISK_IMAGE, 4, (uint32_t)(p->initrd_start >> 32));
    dev_put_le(zp + LX_RAMDISK_SIZE, 4, (uint32_t)p->initrd_len);
    dev_put_le(zp + ZP_EXT_RAMDISK_SIZE, 4, (uint32_t)(p->initrd_len >> 32));
    dev_put_le(zp + ZP_ACPI_RSDP, 8, args->acpi_rsdp_addr);
    zp[ZP_E820_ENTRIES] = (uint8_t)n;
    memcpy(zp + ZP_E820_TABLE, e820, n * sizeof(e820[0]));
}

/* Callers have checked the range with load_check_range. */
static void copy_to_guest(const struct guest_mem *mem, uint64_t gpa,
                          const void *src, uint64_t len)
{
    void *dst = len ? mem_ptr(mem, gpa, len) : NULL;

    if (dst)
        memcpy(dst, src, len);
}

static void write_all(const struct load_ctx *ctx, const uint8_t *image,
                      const struct load_linux_args *args,
                      const struct lx_plan *p)
{
    uint8_t zp[ZP_SIZE] = {0};

    zero_page_fill(ctx->mem, image, args, p, zp);
    copy_to_guest(ctx->mem, args->boot_params_addr, zp, sizeof(zp));
    copy_to_guest(ctx->mem, args->cmdline_addr, args->cmdline,
                  p->cmdline_len + 1);
    if (args->file_len)
        return; /* the caller copies the kernel and the initrd */
    copy_to_guest(ctx->mem, LX_LOAD, image + p->h.kernel_off, p->h.kernel_len);
    copy_to_guest(ctx->mem, p->initrd_start, args->initrd, p->initrd_len);
}

/* Every check, in the order a user would fix them: image, boot data,
 * kernel, initrd. */
static int plan(const struct load_ctx *ctx, const uint8_t *image, size_t len,
                const struct load_linux_args *args, struct lx_plan *p,
                struct load_region **regions)
{
    struct load_ctx boot = *ctx, guard = *ctx;
    unsigned nboot = 0;
    int r = check_magic(ctx, image, len, args->file_len ? args->file_len : len,
                        &p->h);

    if (r == 0)
        r = check_fields(ctx, image, &p->h);
    if (r < 0)
        return r;
    p->cmdline_len = strlen(args->cmdline);
    r = split_reserved(ctx, args, p->cmdline_len + 1, regions, &nboot);
    if (r < 0)
        return r;
    boot.reserved = *regions;
    boot.nreserved = nboot;
    guard.reserved = *regions;
    guard.nreserved = nboot + 2;
    r = plan_boot_data(&boot, args, p);
    if (r == 0)
        r = plan_kernel(&guard, p);
    if (r == 0)
        r = plan_initrd(&guard, args, p);
    return r;
}

/* 1 if one of the kernel's parameters in cmdline is console=: words are
 * split at blanks outside double quotes (as the kernel's parser does),
 * and those after a "--" are init's. */
static int cmdline_has_console(const char *cmdline)
{
    const char *p = cmdline;
    bool quoted = false;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p || strncmp(p, "-- ", 3) == 0 || strcmp(p, "--") == 0)
            return 0;
        if (strncmp(p, "console=", 8) == 0)
            return 1;
        for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++)
            if (*p == '"')
                quoted = !quoted;
    }
}

char *load_linux_cmdline(const char *append)
{
    const char *a = append ? append : "";
    size_t len = strlen(LOAD_LINUX_CONSOLE) + 1 + strlen(a) + 1;
    char *s;

    if (cmdline_has_console(a))
        return strdup(a);
    if ((s = malloc(len)))
        snprintf(s, len, "%s%s%s", LOAD_LINUX_CONSOLE, a[0] ? " " : "", a);
    return s;
}

int load_linux(const struct load_ctx *ctx, const uint8_t *image, size_t len,
               const struct load_linux_args *args, struct load_linux_info *out)
{
    struct lx_plan p = {0};
    struct load_region *regions = NULL;
    int r = plan(ctx, image, len, args, &p, &regions);

    free(regions);
    if (r < 0)
        return r;
    write_all(ctx, image, args, &p);
    *out = (struct load_linux_info){
        .entry = LX_LOAD + LX_ENTRY_64,
        .boot_params = args->boot_params_addr,
        .kernel_start = LX_LOAD,
        .kernel_end = p.kernel_end,
        .kernel_file_off = p.h.kernel_off,
        .kernel_len = p.h.kernel_len,
        .initrd_start = p.initrd_len ? p.initrd_start : 0,
        .initrd_end = p.initrd_len ? p.initrd_start + p.initrd_len : 0,
    };
    return 0;
}

/*
 * An uncompressed vmlinux has no setup header: the one a bzImage of this
 * protocol would carry, made up, with the kernel's extent as the room it
 * needs from 1 MiB (init_size), so that the initrd goes above it.
 */
int load_vmlinux_boot(const struct load_ctx *ctx, uint64_t kernel_end,
                      const struct load_linux_args *args,
                      struct load_linux_info *out)
{
    uint8_t hdr[2 * LX_SECTOR] = {0};
    struct load_linux_args a = *args;

    if (kernel_end <= LX_LOAD || kernel_end - LX_LOAD > UINT32_MAX)
        return err_set(ERANGE,
                       "%s: the kernel's end 0x%" PRIx64 " is not "
                       "between 1 MiB and 4 GiB",
                       ctx->name, kernel_end);
    hdr[LX_SETUP_SECTS] = 1;
    dev_put_le(hdr + LX_BOOT_FLAG, 2, LX_BOOT_FLAG_MAGIC);
    hdr[LX_JUMP_LEN] = LX_INIT_SIZE + 4 - LX_HEADER;
    memcpy(hdr + LX_HEADER, "HdrS", 4);
    dev_put_le(hdr + LX_VERSION, 2, 0x020f);
    hdr[LX_LOADFLAGS] = LX_LOADED_HIGH;
    dev_put_le(hdr + LX_INITRD_ADDR_MAX, 4, 0x7fffffff);
    dev_put_le(hdr + LX_KERNEL_ALIGNMENT, 4, 0x200000);
    dev_put_le(hdr + LX_XLOADFLAGS, 2, LX_XLF_KERNEL_64);
    dev_put_le(hdr + LX_CMDLINE_SIZE, 4,
               2047); /* x86's COMMAND_LINE_SIZE - 1 */
    dev_put_le(hdr + LX_INIT_SIZE, 4, (uint32_t)(kernel_end - LX_LOAD));
    /* One byte of "kernel" after the header: the caller loads the real
     * one from the ELF file and ignores out->entry. */
    a.file_len = sizeof(hdr) + 1;
    return load_linux(ctx, hdr, sizeof(hdr), &a, out);
}
