/* elf.c: x86 ELF32/ELF64 executables loaded at their physical addresses. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "load/load.h"

/* Headers are copied into glibc's structures as they are: that reads
 * ELFDATA2LSB fields right only on a little-endian host, which an x86 VMM
 * always is. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "elf.c reads little-endian ELF fields in host order");

/* The Ehdr fields both classes share, widened to 64 bits. */
struct elf_hdr {
    unsigned bits; /* 32 or 64, from EI_CLASS */
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
};

/* A PT_LOAD program header, widened (load.h). */
#define elf_seg load_elf_seg

/* The ELF header is read into a buffer of this size: ELF64's, the larger. */
#define EHDR_MAX sizeof(Elf64_Ehdr)

int load_elf_probe(const uint8_t *image, size_t len)
{
    return len >= SELFMAG && memcmp(image, ELFMAG, SELFMAG) == 0;
}

/* 1 when [off, off + size) lies inside a file of len bytes; written so
 * that no sum can overflow. */
static int in_file(uint64_t off, uint64_t size, uint64_t len)
{
    return off <= len && size <= len - off;
}

struct elf_name {
    unsigned value;
    const char *name;
};

static const struct elf_name machines[] = {
    {EM_NONE, "none"},   {EM_386, "i386"},         {EM_X86_64, "x86-64"},
    {EM_ARM, "ARM"},     {EM_AARCH64, "AArch64"},  {EM_RISCV, "RISC-V"},
    {EM_PPC, "PowerPC"}, {EM_PPC64, "PowerPC64"},  {EM_MIPS, "MIPS"},
    {EM_S390, "S/390"},  {EM_SPARCV9, "SPARC V9"},
};

static const struct elf_name types[] = {
    {ET_NONE, "none"},
    {ET_REL, "relocatable object"},
    {ET_DYN, "shared object or PIE"},
    {ET_CORE, "core dump"},
};

/* Names a value in messages, so that "e_machine 40" says "(ARM)". */
static const char *name_of(const struct elf_name *names, size_t n,
                           unsigned value)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].value == value)
            return names[i].name;
    return "unknown";
}

#define NAME_OF(table, value)                                                  \
    name_of(table, sizeof(table) / sizeof(table[0]), value)

/* e_ident: magic, class, byte order, version. */
static int check_ident(const struct load_ctx *ctx, const uint8_t *image,
                       uint64_t len)
{
    if (!load_elf_probe(image, len < EHDR_MAX ? (size_t)len : EHDR_MAX))
        return err_set(EINVAL, "%s: e_ident: no ELF magic (\\x7fELF)",
                       ctx->name);
    if (len < EI_NIDENT)
        return err_set(EINVAL,
                       "%s: e_ident: file is %" PRIu64 " bytes, e_ident "
                       "alone needs %d",
                       ctx->name, len, EI_NIDENT);
    if (image[EI_CLASS] != ELFCLASS32 && image[EI_CLASS] != ELFCLASS64)
        return err_set(EINVAL,
                       "%s: EI_CLASS %u is neither ELFCLASS32 (1) "
                       "nor ELFCLASS64 (2)",
                       ctx->name, image[EI_CLASS]);
    if (image[EI_DATA] != ELFDATA2LSB)
        return err_set(EINVAL,
                       "%s: EI_DATA %u is not ELFDATA2LSB (1): x86 "
                       "is little-endian",
                       ctx->name, image[EI_DATA]);
    if (image[EI_VERSION] != EV_CURRENT)
        return err_set(EINVAL, "%s: EI_VERSION %u is not EV_CURRENT (1)",
                       ctx->name, image[EI_VERSION]);
    return 0;
}

static void widen_ehdr32(const Elf32_Ehdr *e, struct elf_hdr *h)
{
    *h = (struct elf_hdr){32,           e->e_type,      e->e_machine,
                          e->e_version, e->e_entry,     e->e_phoff,
                          e->e_ehsize,  e->e_phentsize, e->e_phnum};
}

static void widen_ehdr64(const Elf64_Ehdr *e, struct elf_hdr *h)
{
    *h = (struct elf_hdr){64,           e->e_type,      e->e_machine,
                          e->e_version, e->e_entry,     e->e_phoff,
                          e->e_ehsize,  e->e_phentsize, e->e_phnum};
}

/* Copies the Ehdr out of the image: memcpy, since the image need not be
 * aligned for the structure. */
static int read_ehdr(const struct load_ctx *ctx, const uint8_t *image,
                     uint64_t len, struct elf_hdr *h)
{
    int is64 = image[EI_CLASS] == ELFCLASS64;
    size_t need = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    Elf32_Ehdr e32;
    Elf64_Ehdr e64;

    if (len < need)
        return err_set(EINVAL,
                       "%s: ELF header: file is %" PRIu64 " bytes, an "
                       "ELF%d header needs %zu",
                       ctx->name, len, is64 ? 64 : 32, need);
    if (is64) {
        memcpy(&e64, image, sizeof(e64));
        widen_ehdr64(&e64, h);
    } else {
        memcpy(&e32, image, sizeof(e32));
        widen_ehdr32(&e32, h);
    }
    return 0;
}

/* e_type, e_machine, e_version: is this an x86 executable at all? */
static int check_ehdr_kind(const struct load_ctx *ctx, const struct elf_hdr *h)
{
    unsigned want = h->bits == 64 ? EM_X86_64 : EM_386;

    if (h->type != ET_EXEC)
        return err_set(EINVAL,
                       "%s: e_type %u (%s) is not ET_EXEC (2): "
                       "only executables linked at fixed addresses load",
                       ctx->name, h->type, NAME_OF(types, h->type));
    if (h->machine != want)
        return err_set(EINVAL,
                       "%s: e_machine %u (%s) is wrong for "
                       "ELF%u: ELF32 needs EM_386 (3), ELF64 EM_X86_64 "
                       "(62)",
                       ctx->name, h->machine, NAME_OF(machines, h->machine),
                       h->bits);
    if (h->version != EV_CURRENT)
        return err_set(EINVAL,
                       "%s: e_version %" PRIu32 " is not "
                       "EV_CURRENT (1)",
                       ctx->name, h->version);
    return 0;
}

/* e_ehsize and the program header table's shape and place in the file. */
static int check_ehdr_table(const struct load_ctx *ctx, const struct elf_hdr *h,
                            uint64_t len)
{
    size_t ehsize = h->bits == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t phsize = h->bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    /* At most 0xffff * 0xffff: cannot overflow 64 bits. */
    uint64_t table = (uint64_t)h->phnum * h->phentsize;

    if (h->ehsize != ehsize)
        return err_set(EINVAL,
                       "%s: e_ehsize %u is not %zu, the ELF%u "
                       "header size",
                       ctx->name, h->ehsize, ehsize, h->bits);
    if (h->phentsize != phsize)
        return err_set(EINVAL,
                       "%s: e_phentsize %u is not %zu, the ELF%u "
                       "program header size",
                       ctx->name, h->phentsize, phsize, h->bits);
    if (h->phnum == 0)
        return err_set(EINVAL,
                       "%s: e_phnum is 0: no program headers, "
                       "so no PT_LOAD segment",
                       ctx->name);
    /* The real count would be in section header 0; no kernel needs it. */
    if (h->phnum == PN_XNUM)
        return err_set(EINVAL,
                       "%s: e_phnum 0x%x (PN_XNUM, extended "
                       "numbering) is not supported",
                       ctx->name, h->phnum);
    if (!in_file(h->phoff, table, len))
        return err_set(EINVAL,
                       "%s: program header table (e_phoff 0x%" PRIx64
                       ", e_phnum %u * e_phentsize %u) runs past the "
                       "end of the file (%" PRIu64 " bytes)",
                       ctx->name, h->phoff, h->phnum, h->phentsize, len);
    return 0;
}

/* Program header i of the table (read from the file), widened; returns
 * its p_type. */
static uint32_t read_phdr(const uint8_t *table, const struct elf_hdr *h,
                          unsigned i, struct elf_seg *s)
{
    const uint8_t *p = table + (uint64_t)i * h->phentsize;
    Elf32_Phdr p32;
    Elf64_Phdr p64;

    if (h->bits == 64) {
        memcpy(&p64, p, sizeof(p64));
        *s = (struct elf_seg){i, p64.p_offset, p64.p_paddr, p64.p_filesz,
                              p64.p_memsz};
        return p64.p_type;
    }
    memcpy(&p32, p, sizeof(p32));
    *s = (struct elf_seg){i, p32.p_offset, p32.p_paddr, p32.p_filesz,
                          p32.p_memsz};
    return p32.p_type;
}

/* The segment's own fields, then its guest-physical range. */
static int check_seg(const struct load_ctx *ctx, const struct elf_hdr *h,
                     const struct elf_seg *s, uint64_t len)
{
    /* An ELF32 address space ends at 4 GiB: a segment past it wraps. */
    uint64_t top = h->bits == 64 ? UINT64_MAX : UINT32_MAX;
    char what[32];

    if (s->filesz > s->memsz)
        return err_set(EINVAL,
                       "%s: PT_LOAD segment %u: p_filesz 0x%" PRIx64
                       " is larger than p_memsz 0x%" PRIx64,
                       ctx->name, s->index, s->filesz, s->memsz);
    if (!in_file(s->offset, s->filesz, len))
        return err_set(EINVAL,
                       "%s: PT_LOAD segment %u: p_offset 0x%" PRIx64
                       " + p_filesz 0x%" PRIx64 " runs past the end of the "
                       "file (%" PRIu64 " bytes)",
                       ctx->name, s->index, s->offset, s->filesz, len);
    if (s->memsz && s->memsz - 1 > top - s->paddr)
        return err_set(EINVAL,
                       "%s: PT_LOAD segment %u: p_paddr 0x%" PRIx64
                       " + p_memsz 0x%" PRIx64 " wraps around the %u-bit "
                       "address space",
                       ctx->name, s->index, s->paddr, s->memsz, h->bits);
    snprintf(what, sizeof(what), "PT_LOAD segment %u", s->index);
    return load_check_range(ctx, what, s->paddr, s->memsz);
}

/*
 * Pass 1, part 1: checks every PT_LOAD program header and collects those
 * that occupy memory into a new array (free() it). Other types, PT_NOTE,
 * PT_GNU_STACK and the like, mean nothing to a bare-metal load.
 */
static int collect_segs(const struct load_ctx *ctx, const uint8_t *table,
                        uint64_t len, const struct elf_hdr *h,
                        struct elf_seg **segs, unsigned *n)
{
    struct elf_seg *v = calloc(h->phnum, sizeof(*v));
    unsigned count = 0;

    if (!v)
        return err_set(ENOMEM, "%s: out of memory for %u program headers",
                       ctx->name, h->phnum);
    for (unsigned i = 0; i < h->phnum; i++) {
        int r;

        if (read_phdr(table, h, i, &v[count]) != PT_LOAD)
            continue;
        r = check_seg(ctx, h, &v[count], len);
        if (r < 0) {
            free(v);
            return r;
        }
        if (v[count].memsz) /* else checked, but nothing to load */
            count++;
    }
    *segs = v;
    *n = count;
    return 0;
}

static int cmp_paddr(const void *a, const void *b)
{
    const struct elf_seg *x = a, *y = b;

    return (x->paddr > y->paddr) - (x->paddr < y->paddr);
}

/* Names the pair in program header order, whatever their addresses. */
static int overlap_error(const struct load_ctx *ctx, const struct elf_seg *a,
                         const struct elf_seg *b)
{
    if (a->index > b->index)
        return overlap_error(ctx, b, a);
    return err_set(EINVAL,
                   "%s: PT_LOAD segments %u and %u overlap: 0x%" PRIx64
                   "-0x%" PRIx64 " and 0x%" PRIx64 "-0x%" PRIx64,
                   ctx->name, a->index, b->index, a->paddr, a->paddr + a->memsz,
                   b->paddr, b->paddr + b->memsz);
}

/*
 * Sorts the segments by address and refuses any two that share a byte:
 * the later copy would silently win. Once sorted, if any pair overlaps
 * then some neighbouring pair does, so one pass over neighbours suffices
 * (and n log n stays fast with 65534 program headers).
 */
static int check_overlaps(const struct load_ctx *ctx, struct elf_seg *segs,
                          unsigned n)
{
    qsort(segs, n, sizeof(*segs), cmp_paddr);
    for (unsigned i = 1; i < n; i++) {
        const struct elf_seg *a = &segs[i - 1], *b = &segs[i];

        /* b->paddr >= a->paddr: the difference cannot wrap. */
        if (b->paddr - a->paddr < a->memsz)
            return overlap_error(ctx, a, b);
    }
    return 0;
}

/* The guest starts at e_entry: it must be code the load puts there. */
static int check_entry(const struct load_ctx *ctx, const struct elf_hdr *h,
                       const struct elf_seg *segs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (h->entry >= segs[i].paddr &&
            h->entry - segs[i].paddr < segs[i].memsz)
            return 0;
    return err_set(EINVAL,
                   "%s: e_entry 0x%" PRIx64 " is not inside any "
                   "PT_LOAD segment",
                   ctx->name, h->entry);
}

/* Pass 2: every range was checked, so mem_ptr cannot fail here; the test
 * stays so that a broken check shows up as an error, not a crash. The
 * bytes go from src straight to guest memory. */
int load_elf_copy(const struct load_ctx *ctx, const struct load_src *src,
                  const struct load_elf_plan *plan)
{
    for (unsigned i = 0; i < plan->nsegs; i++) {
        const struct elf_seg *s = &plan->segs[i];
        void *data = mem_ptr(ctx->mem, s->paddr, s->filesz);
        void *bss =
            mem_ptr(ctx->mem, s->paddr + s->filesz, s->memsz - s->filesz);
        int r;

        if (!data || !bss)
            return err_set(EFAULT,
                           "%s: PT_LOAD segment %u: 0x%" PRIx64
                           " vanished from guest RAM",
                           ctx->name, s->index, s->paddr);
        if ((r = load_src_read(src, s->offset, data, s->filesz)) < 0)
            return r;
        memset(bss, 0, s->memsz - s->filesz);
    }
    return 0;
}

/* The ELF header: what the file starts with, up to EHDR_MAX bytes. */
static int read_head(const struct load_ctx *ctx, const struct load_src *src,
                     struct elf_hdr *h)
{
    uint8_t head[EHDR_MAX];
    uint64_t n = src->len < sizeof(head) ? src->len : sizeof(head);
    int r = load_src_read(src, 0, head, n);

    if (!r)
        r = check_ident(ctx, head, src->len);
    if (!r)
        r = read_ehdr(ctx, head, src->len, h);
    if (!r)
        r = check_ehdr_kind(ctx, h);
    if (!r)
        r = check_ehdr_table(ctx, h, src->len);
    return r;
}

/* The program header table (at most 0xffff entries of 56 bytes, checked
 * to lie inside the file), read into a new buffer (free() it). */
static int read_table(const struct load_ctx *ctx, const struct load_src *src,
                      const struct elf_hdr *h, uint8_t **table)
{
    uint64_t len = (uint64_t)h->phnum * h->phentsize;
    int r;

    if (!(*table = malloc((size_t)len)))
        return err_set(ENOMEM, "%s: out of memory for %u program headers",
                       ctx->name, h->phnum);
    if ((r = load_src_read(src, h->phoff, *table, len)) < 0) {
        free(*table);
        *table = NULL;
    }
    return r;
}

/* Pass 1: every header field, segment and range, before any write. */
static int check_image(const struct load_ctx *ctx, const struct load_src *src,
                       struct elf_hdr *h, struct elf_seg **segs, unsigned *n)
{
    uint8_t *table = NULL;
    int r = read_head(ctx, src, h);

    if (!r)
        r = read_table(ctx, src, h, &table);
    if (!r)
        r = collect_segs(ctx, table, src->len, h, segs, n);
    free(table);
    if (r)
        return r;
    if (*n == 0)
        r = err_set(EINVAL, "%s: no PT_LOAD segment with p_memsz > 0",
                    ctx->name);
    if (!r)
        r = check_overlaps(ctx, *segs, *n);
    if (!r)
        r = check_entry(ctx, h, *segs, *n);
    if (r)
        free(*segs);
    return r;
}

int load_elf_plan(const struct load_ctx *ctx, const struct load_src *src,
                  struct load_elf_plan *plan)
{
    /* Initialised only because the compiler cannot see that err_set()
     * never returns 0. */
    struct elf_hdr h = {0};
    struct elf_seg *segs = NULL;
    unsigned n = 0;
    int r = check_image(ctx, src, &h, &segs, &n);

    if (r)
        return r;
    /* Sorted and disjoint: the last segment ends highest. */
    *plan = (struct load_elf_plan){
        {h.entry, h.bits, segs[0].paddr, segs[n - 1].paddr + segs[n - 1].memsz},
        segs,
        n};
    return 0;
}

void load_elf_plan_free(struct load_elf_plan *plan)
{
    free(plan->segs);
    plan->segs = NULL;
    plan->nsegs = 0;
}

int load_elf_src(const struct load_ctx *ctx, const struct load_src *src,
                 struct load_elf_info *out)
{
    struct load_elf_plan plan;
    int r = load_elf_plan(ctx, src, &plan);

    if (r)
        return r;
    r = load_elf_copy(ctx, src, &plan);
    if (!r)
        *out = plan.info;
    load_elf_plan_free(&plan);
    return r;
}

int load_elf(const struct load_ctx *ctx, const uint8_t *image, size_t len,
             struct load_elf_info *out)
{
    struct load_src src = {image, -1, len, ctx->name};

    return load_elf_src(ctx, &src, out);
}
