/* linux.c: bzImages for the Linux x86 64-bit boot protocol. */
#include <asm/bootparam.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "le.h"
#include "load/load.h"

/*
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst) and the
 * zero page (Documentation/arch/x86/zero-page.rst), as the kernel's uapi
 * lays them out (struct boot_params, struct setup_header). Offsets in the
 * bzImage file are those of struct boot_params: the setup header lies at
 * 0x1f1 in both. Everything is little-endian.
 */
#define LX_HDR(field) offsetof(struct boot_params, hdr.field)
#define LX_ZP(field) offsetof(struct boot_params, field)
/* Where a setup header field ends. */
#define LX_HDR_AFTER(field)                                                    \
    (LX_HDR(field) + sizeof(((struct setup_header *)0)->field))
/* The jump at 0x200 skips the header: its second byte is where it ends,
 * from 0x202. */
#define LX_JUMP_LEN (LX_HDR(jump) + 1)
/* The zero page's room for the setup header ends here (0x290). */
#define LX_HDR_LIMIT LX_ZP(edd_mbr_sig_buffer)
#define ZP_SIZE sizeof(struct boot_params)

_Static_assert(LX_HDR(setup_sects) == 0x1f1 && LX_HDR(header) == 0x202 &&
                   LX_HDR_LIMIT == 0x290 && ZP_SIZE == 4096,
               "the boot protocol's layout");

#define LX_BOOT_FLAG_MAGIC 0xaa55
#define LX_MIN_VERSION 0x0206
#define LX_LOADER_UNDEFINED 0xff
#define LX_HEAP_END 0xfe00
#define LX_OLD_CMDLINE_MAX 255 /* before protocol 2.06 */

#define LX_LOAD 0x100000ULL /* the protected-mode kernel goes at 1 MiB */
#define LX_ENTRY_64 0x200   /* startup_64, from the kernel's start */
#define LX_SECTOR 512
#define LX_PAGE 4096ULL
#define LX_BASE_END 0x9fc00ULL /* 639 KiB: the EBDA and ROMs follow */

/* e820 types (the uapi headers no longer have them). */
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
    return len >= LX_HDR_AFTER(header) &&
           memcmp(image + LX_HDR(header), "HdrS", 4) == 0;
}

/* boot_flag, "HdrS", setup_sects: the file holds a header and a kernel. */
static int check_magic(const struct load_ctx *ctx, const uint8_t *image,
                       size_t avail, uint64_t len, struct lx_hdr *h)
{
    uint16_t flag;

    if (avail < LX_HDR_AFTER(header) || (avail < len && avail < LX_HDR_LIMIT))
        return hdr_err(ctx,
                       "file is %" PRIu64 " bytes, too short for a "
                       "setup header (\"HdrS\" at 0x202)",
                       len);
    flag = le_get(image + LX_HDR(boot_flag), 2);
    if (flag != LX_BOOT_FLAG_MAGIC)
        return hdr_err(ctx, "boot_flag 0x%04x at 0x1fe is not 0xaa55", flag);
    if (memcmp(image + LX_HDR(header), "HdrS", 4) != 0)
        return hdr_err(ctx, "header at 0x202 is not \"HdrS\": not a "
                            "bzImage");
    h->setup_sects =
        image[LX_HDR(setup_sects)] ? image[LX_HDR(setup_sects)] : 4;
    h->kernel_off = (h->setup_sects + 1) * (size_t)LX_SECTOR;
    if (h->kernel_off >= len)
        return hdr_err(ctx,
                       "setup_sects %u: the protected-mode kernel "
                       "would start at file offset 0x%zx, the file is "
                       "0x%" PRIx64 " bytes",
                       image[LX_HDR(setup_sects)], h->kernel_off, len);
    h->kernel_len = (size_t)(len - h->kernel_off);
    /* kernel_off >= 0x400: the whole header is in the file. */
    h->hdr_end = LX_HDR(header) + (size_t)image[LX_JUMP_LEN];
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
    size_t need = h->version >= 0x020a ? LX_HDR_AFTER(init_size)
                                       : LX_HDR_AFTER(cmdline_size);

    if (LX_HDR(header) + (size_t)image[LX_JUMP_LEN] >= need)
        return 0;
    return hdr_err(ctx,
                   "jump offset 0x%02x at 0x201: the header ends at "
                   "0x%zx, protocol %u.%02u's fields end at 0x%zx",
                   image[LX_JUMP_LEN],
                   LX_HDR(header) + (size_t)image[LX_JUMP_LEN], h->version >> 8,
                   h->version & 0xff, need);
}

/* Version, 64-bit entry, bzImage; the fields of later protocols. */
static int check_fields(const struct load_ctx *ctx, const uint8_t *image,
                        struct lx_hdr *h)
{
    int r;

    h->version = le_get(image + LX_HDR(version), 2);
    if (h->version < LX_MIN_VERSION)
        return hdr_err(ctx,
                       "version 0x%04x: boot protocol %u.%02u is older "
                       "than 2.06, which kvmrun needs",
                       h->version, h->version >> 8, h->version & 0xff);
    h->xloadflags =
        h->version >= 0x020c ? le_get(image + LX_HDR(xloadflags), 2) : 0;
    if (h->version >= 0x020c && !(h->xloadflags & XLF_KERNEL_64))
        return hdr_err(ctx,
                       "xloadflags 0x%04x: XLF_KERNEL_64 (bit 0) is "
                       "clear: not a 64-bit kernel",
                       h->xloadflags);
    r = check_hdr_end(ctx, image, h);
    if (r < 0)
        return r;
    h->loadflags = image[LX_HDR(loadflags)];
    if (!(h->loadflags & LOADED_HIGH))
        return hdr_err(ctx,
                       "loadflags 0x%02x: LOADED_HIGH (bit 0) is "
                       "clear: a zImage, not a bzImage",
                       h->loadflags);
    h->initrd_addr_max = le_get(image + LX_HDR(initrd_addr_max), 4);
    h->kernel_alignment = le_get(image + LX_HDR(kernel_alignment), 4);
    h->relocatable = image[LX_HDR(relocatable_kernel)];
    h->cmdline_max = h->version >= 0x0206
                         ? le_get(image + LX_HDR(cmdline_size), 4)
                         : LX_OLD_CMDLINE_MAX;
    if (h->version >= 0x020a) {
        h->pref_address = le_get(image + LX_HDR(pref_address), 8);
        h->init_size = le_get(image + LX_HDR(init_size), 4);
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

static unsigned e820_add(struct boot_e820_entry *e, unsigned n, uint64_t base,
                         uint64_t end, uint32_t type)
{
    if (end <= base)
        return n;
    e[n] = (struct boot_e820_entry){base, end - base, type};
    return n + 1;
}

/* The map of ctx->mem: base memory, the legacy hole below 1 MiB (the
 * BIOS area with the ACPI and MP tables), the rest of the low slot and
 * the slots above 4 GiB. */
static unsigned e820_build(const struct guest_mem *mem,
                           struct boot_e820_entry *e)
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
    struct boot_e820_entry e820[LX_E820_MAX];
    unsigned n = e820_build(mem, e820);

    _Static_assert(LX_E820_MAX <= E820_MAX_ENTRIES_ZEROPAGE, "e820 table size");
    memcpy(zp + LX_HDR(setup_sects), image + LX_HDR(setup_sects),
           p->h.hdr_end - LX_HDR(setup_sects));
    zp[LX_HDR(type_of_loader)] = LX_LOADER_UNDEFINED;
    zp[LX_HDR(loadflags)] = p->h.loadflags | CAN_USE_HEAP;
    le_put(zp + LX_HDR(heap_end_ptr), 2, LX_HEAP_END);
    le_put(zp + LX_HDR(code32_start), 4, (uint32_t)LX_LOAD);
    le_put(zp + LX_HDR(cmd_line_ptr), 4, (uint32_t)args->cmdline_addr);
    le_put(zp + LX_ZP(ext_cmd_line_ptr), 4,
           (uint32_t)(args->cmdline_addr >> 32));
    le_put(zp + LX_HDR(ramdisk_image), 4, (uint32_t)p->initrd_start);
    le_put(zp + LX_ZP(ext_ramdisk_image), 4, (uint32_t)(p->initrd_start >> 32));
    le_put(zp + LX_HDR(ramdisk_size), 4, (uint32_t)p->initrd_len);
    le_put(zp + LX_ZP(ext_ramdisk_size), 4, (uint32_t)(p->initrd_len >> 32));
    le_put(zp + LX_ZP(acpi_rsdp_addr), 8, args->acpi_rsdp_addr);
    zp[LX_ZP(e820_entries)] = (uint8_t)n;
    memcpy(zp + LX_ZP(e820_table), e820, n * sizeof(e820[0]));
}

static void write_all(const struct load_ctx *ctx, const uint8_t *image,
                      const struct load_linux_args *args,
                      const struct lx_plan *p)
{
    uint8_t zp[ZP_SIZE] = {0};

    zero_page_fill(ctx->mem, image, args, p, zp);
    load_copy(ctx->mem, args->boot_params_addr, zp, sizeof(zp));
    load_copy(ctx->mem, args->cmdline_addr, args->cmdline, p->cmdline_len + 1);
    if (args->file_len)
        return; /* the caller copies the kernel and the initrd */
    load_copy(ctx->mem, LX_LOAD, image + p->h.kernel_off, p->h.kernel_len);
    load_copy(ctx->mem, p->initrd_start, args->initrd, p->initrd_len);
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

static bool cmdline_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Where the kernel's parameters end in cmdline: at a "--" word (init's
 * arguments follow) or at its end. Words are split at blanks outside
 * double quotes (as the kernel's parser does). *found: one of them is
 * word (whole), or starts with it (!whole).
 */
static size_t cmdline_params(const char *cmdline, const char *word, bool whole,
                             bool *found)
{
    const char *p = cmdline, *w;
    size_t len = strlen(word);
    bool quoted = false;

    *found = false;
    for (;;) {
        while (cmdline_blank(*p))
            p++;
        if (!*p || strncmp(p, "-- ", 3) == 0 || strcmp(p, "--") == 0)
            return (size_t)(p - cmdline);
        for (w = p; *p && (quoted || !cmdline_blank(*p)); p++)
            if (*p == '"')
                quoted = !quoted;
        if (strncmp(w, word, len) == 0 && (!whole || (size_t)(p - w) == len))
            *found = true;
    }
}

bool load_linux_cmdline_has(const char *cmdline, const char *word)
{
    bool found;

    cmdline_params(cmdline ? cmdline : "", word, true, &found);
    return found;
}

char *load_linux_cmdline(const char *append, const char *default_console,
                         const char *extra)
{
    const char *a = append ? append : "";
    const char *head = default_console;
    size_t k, len;
    bool console;
    char *s;

    k = cmdline_params(a, "console=", false, &console);
    if (console)
        head = "";
    if (!extra || !extra[0]) {
        len = strlen(head) + 1 + strlen(a) + 1;
        if ((s = malloc(len)))
            snprintf(s, len, "%s%s%s", head, head[0] && a[0] ? " " : "", a);
        return s;
    }
    /* extra goes after the kernel's own parameters, before a "--". */
    while (k > 0 && cmdline_blank(a[k - 1]))
        k--;
    len = strlen(head) + strlen(a) + strlen(extra) + 4;
    if ((s = malloc(len)))
        snprintf(s, len, "%s%s%.*s%s%s%s%s", head, head[0] && k ? " " : "",
                 (int)k, a, head[0] || k ? " " : "", extra,
                 a[k] && !cmdline_blank(a[k]) ? " " : "", a + k);
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
    hdr[LX_HDR(setup_sects)] = 1;
    le_put(hdr + LX_HDR(boot_flag), 2, LX_BOOT_FLAG_MAGIC);
    hdr[LX_JUMP_LEN] = LX_HDR_AFTER(init_size) - LX_HDR(header);
    memcpy(hdr + LX_HDR(header), "HdrS", 4);
    le_put(hdr + LX_HDR(version), 2, 0x020f);
    hdr[LX_HDR(loadflags)] = LOADED_HIGH;
    le_put(hdr + LX_HDR(initrd_addr_max), 4, 0x7fffffff);
    le_put(hdr + LX_HDR(kernel_alignment), 4, 0x200000);
    le_put(hdr + LX_HDR(xloadflags), 2, XLF_KERNEL_64);
    le_put(hdr + LX_HDR(cmdline_size), 4,
           2047); /* x86's COMMAND_LINE_SIZE - 1 */
    le_put(hdr + LX_HDR(init_size), 4, (uint32_t)(kernel_end - LX_LOAD));
    /* One byte of "kernel" after the header: the caller loads the real
     * one from the ELF file and ignores out->entry. */
    a.file_len = sizeof(hdr) + 1;
    return load_linux(ctx, hdr, sizeof(hdr), &a, out);
}
