/* snapfile.c: the snapshot file format: a checked reader and a writer. */
#include "snapfile.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "kvmrun.h"
#include "mem.h"

_Static_assert(sizeof(struct snap_header) == 56, "snap_header layout");
_Static_assert(sizeof(struct snap_section_hdr) == 16, "section layout");
_Static_assert(sizeof(struct snap_dev_hdr) == 40, "device header layout");

#define SNAP_END_LEN (sizeof(struct snap_section_hdr) + 4)

static const char *const type_names[] = {
    [SNAP_END] = "end",
    [SNAP_VCPU_REGS] = "regs",
    [SNAP_VCPU_SREGS] = "sregs",
    [SNAP_VCPU_XSAVE] = "xsave",
    [SNAP_VCPU_FPU] = "fpu",
    [SNAP_VCPU_XCRS] = "xcrs",
    [SNAP_VCPU_MSRS] = "msrs",
    [SNAP_VCPU_LAPIC] = "lapic",
    [SNAP_VCPU_EVENTS] = "vcpu events",
    [SNAP_VCPU_MP_STATE] = "mp_state",
    [SNAP_VCPU_DEBUGREGS] = "debugregs",
    [SNAP_VM_IRQCHIP] = "irqchip",
    [SNAP_VM_PIT2] = "pit2",
    [SNAP_VM_CLOCK] = "clock",
    [SNAP_DEV] = "device",
    [SNAP_MEM] = "memory",
};

static const uint64_t type_sizes[] = {
    [SNAP_END] = 4,
    [SNAP_VCPU_REGS] = sizeof(struct kvm_regs),
    [SNAP_VCPU_SREGS] = sizeof(struct kvm_sregs),
    [SNAP_VCPU_FPU] = sizeof(struct kvm_fpu),
    [SNAP_VCPU_XCRS] = sizeof(struct kvm_xcrs),
    [SNAP_VCPU_LAPIC] = sizeof(struct kvm_lapic_state),
    [SNAP_VCPU_EVENTS] = sizeof(struct kvm_vcpu_events),
    [SNAP_VCPU_MP_STATE] = sizeof(struct kvm_mp_state),
    [SNAP_VCPU_DEBUGREGS] = sizeof(struct kvm_debugregs),
    [SNAP_VM_IRQCHIP] = sizeof(struct kvm_irqchip),
    [SNAP_VM_PIT2] = sizeof(struct kvm_pit_state2),
    [SNAP_VM_CLOCK] = sizeof(struct kvm_clock_data),
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *snapfile_type_name(uint32_t type)
{
    if (type < ARRAY_LEN(type_names) && type_names[type])
        return type_names[type];
    return "unknown";
}

uint64_t snapfile_type_size(uint32_t type)
{
    return type < ARRAY_LEN(type_sizes) ? type_sizes[type] : 0;
}

/* CRC-32 of any length (zlib takes at most UINT_MAX at a time). */
static uint32_t snap_crc(uint32_t crc, const uint8_t *p, uint64_t len)
{
    while (len) {
        unsigned n = len > (1u << 30) ? 1u << 30 : (unsigned)len;

        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

/* ---- reader ---- */

static int snap_bad(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int snap_bad(const char *name, const char *fmt, ...)
{
    char why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return err_set(EINVAL, "%s: %s", name, why);
}

/* Reads exactly len bytes at off into dst: 0, -EIO if the file ended
 * (it shrank since it was opened), -errno. */
static int snap_pread(const struct snap_src *src, const char *name,
                      uint64_t off, void *dst, uint64_t len)
{
    uint8_t *p = dst;

    if (src->buf) {
        memcpy(dst, src->buf + off, (size_t)len);
        return 0;
    }
    while (len) {
        ssize_t n = pread(src->fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno(errno, "%s: read", name);
        if (n == 0)
            return err_set(EIO,
                           "%s: the file shrank while it was read (at "
                           "offset %" PRIu64 " of %" PRIu64 " bytes)",
                           name, off, src->len);
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

/*
 * The metadata reader: sections are read in file order through a window
 * (one pread per 64 KiB, not one per section header), each byte once,
 * and the CRC of the bytes read since the last memory pages kept.
 */
#define SNAP_WINDOW (1u << 16)

struct snap_reader {
    const struct snap_src *src;
    const char *name;
    uint64_t win_off, win_len;
    uint64_t gap_len;
    uint32_t gap_crc;
    uint8_t win[SNAP_WINDOW];
};

/* len bytes at off (off + len <= the file's size) into dst. */
static int snap_rd(struct snap_reader *rd, uint64_t off, void *dst,
                   uint64_t len)
{
    int r;

    if (rd->src->buf || len > SNAP_WINDOW)
        return snap_pread(rd->src, rd->name, off, dst, len);
    if (off < rd->win_off || off + len > rd->win_off + rd->win_len) {
        uint64_t n = rd->src->len - off;

        n = n < SNAP_WINDOW ? n : SNAP_WINDOW;
        rd->win_len = 0;
        if ((r = snap_pread(rd->src, rd->name, off, rd->win, n)) < 0)
            return r;
        rd->win_off = off;
        rd->win_len = n;
    }
    memcpy(dst, rd->win + (off - rd->win_off), (size_t)len);
    return 0;
}

/* The same, counted in the running CRC: bytes the walk reads in order. */
static int snap_take_bytes(struct snap_reader *rd, uint64_t off, void *dst,
                           uint64_t len)
{
    int r = snap_rd(rd, off, dst, len);

    if (r == 0) {
        rd->gap_crc = snap_crc(rd->gap_crc, dst, len);
        rd->gap_len += len;
    }
    return r;
}

static int snap_check_header(const uint8_t *buf, uint64_t len, const char *name,
                             struct snap_header *h)
{
    if (len < sizeof(h->magic) ||
        memcmp(buf, SNAP_MAGIC, sizeof(h->magic)) != 0)
        return snap_bad(name, "not a kvmrun snapshot (no KVMRSNAP magic)");
    if (len < sizeof(*h))
        return snap_bad(name,
                        "truncated: %" PRIu64 " bytes, the header alone "
                        "is %zu",
                        len, sizeof(*h));
    memcpy(h, buf, sizeof(*h));
    if (h->version != SNAP_VERSION)
        return snap_bad(name,
                        "snapshot format version %" PRIu32
                        " (kvmrun %.16s); this kvmrun (%s) reads version %d",
                        h->version, h->kvmrun_version, KVMRUN_VERSION,
                        SNAP_VERSION);
    if (h->header_size != sizeof(*h) || h->page_size != SNAP_PAGE)
        return snap_bad(name, "bad header (size %" PRIu32 ", page %" PRIu32 ")",
                        h->header_size, h->page_size);
    return 0;
}

/* The header, then the end marker that must close the file. */
static int snap_read_ends(struct snap_reader *rd, struct snap_image *img)
{
    uint8_t head[sizeof(struct snap_header)];
    uint64_t len = img->len, n = len < sizeof(head) ? len : sizeof(head);
    struct snap_section_hdr end;
    int r;

    if ((r = snap_take_bytes(rd, 0, head, n)) < 0 ||
        (r = snap_check_header(head, len, rd->name, &img->hdr)) < 0)
        return r;
    if (len < sizeof(struct snap_header) + SNAP_END_LEN)
        return snap_bad(rd->name, "truncated: %" PRIu64 " bytes, no end marker",
                        len);
    if ((r = snap_rd(rd, len - SNAP_END_LEN, &end, sizeof(end))) < 0 ||
        (r = snap_rd(rd, len - 4, &img->crc, 4)) < 0)
        return r;
    if (end.type != SNAP_END || end.index != 0 || end.len != 4)
        return snap_bad(rd->name,
                        "truncated or corrupted: no end marker at the "
                        "end of its %" PRIu64 " bytes",
                        len);
    return 0;
}

static int snap_check_sizes(const struct snap_header *h, const char *name)
{
    if (h->ncpus == 0 || h->ncpus > SNAP_MAX_CPUS)
        return snap_bad(name, "%" PRIu32 " vCPUs (1 to %u allowed)", h->ncpus,
                        SNAP_MAX_CPUS);
    if (h->mem_size < (1ULL << 20) || h->mem_size % SNAP_PAGE ||
        h->mem_size > KVMRUN_MAX_MEM)
        return snap_bad(name, "bad memory size %" PRIu64, h->mem_size);
    if (h->flags & ~SNAP_FLAG_IRQCHIP)
        return snap_bad(name, "unknown flags %#" PRIx32, h->flags);
    return 0;
}

/* Room for one more extent: the array grows by doubling. */
static int snap_grow_extents(struct snap_image *img, uint64_t *cap)
{
    struct snap_extent *e;
    uint64_t n = *cap ? *cap * 2 : 64;

    if (img->mem_extents < *cap)
        return 0;
    if (!(e = realloc(img->ext, n * sizeof(*e))))
        return err_set(ENOMEM, "out of memory for %" PRIu64 " memory extents",
                       n);
    img->ext = e;
    *cap = n;
    return 0;
}

/* A memory section of len bytes at pos: its RAM offset (read), whole
 * pages, in RAM, after the previous one. The pages are not read. */
static int snap_take_extent(struct snap_reader *rd, struct snap_image *img,
                            uint64_t pos, uint64_t len, uint64_t *next,
                            uint64_t *cap)
{
    const char *name = rd->name;
    uint64_t off, n;
    int r;

    if (len < 8 + SNAP_PAGE || (len - 8) % SNAP_PAGE)
        return snap_bad(name, "memory section of %" PRIu64 " bytes", len);
    if ((r = snap_take_bytes(rd, pos, &off, 8)) < 0)
        return r;
    n = len - 8;
    if (off % SNAP_PAGE || off < *next || off > img->hdr.mem_size ||
        n > img->hdr.mem_size - off)
        return snap_bad(name,
                        "memory section at RAM offset %#" PRIx64 ", %" PRIu64
                        " bytes: outside RAM or out of order",
                        off, n);
    if (off < MEM_LOW_END && off + n > MEM_LOW_END)
        return snap_bad(name,
                        "memory section at RAM offset %#" PRIx64 ", %" PRIu64
                        " bytes: crosses the end of low RAM",
                        off, n);
    if ((r = snap_grow_extents(img, cap)) < 0)
        return r;
    img->ext[img->mem_extents++] =
        (struct snap_extent){off, pos + 8, n, rd->gap_len, rd->gap_crc};
    rd->gap_crc = (uint32_t)crc32(0, NULL, 0);
    rd->gap_len = 0;
    *next = off + n;
    img->mem_bytes += n;
    return 0;
}

/* Where a section of this type and index goes; NULL: refused. */
static struct snap_blob *snap_slot(struct snap_image *img,
                                   const struct snap_section_hdr *s)
{
    bool irqchip = img->hdr.flags & SNAP_FLAG_IRQCHIP;

    if (s->type == SNAP_VM_CLOCK)
        return s->index == 0 ? &img->clock : NULL;
    if (s->type >= SNAP_VCPU_REGS && s->type < SNAP_VCPU_NTYPES) {
        if (s->index >= img->hdr.ncpus ||
            (s->type == SNAP_VCPU_LAPIC && !irqchip))
            return NULL;
        return &img->vcpu[s->index][s->type];
    }
    if (!irqchip)
        return NULL;
    if (s->type == SNAP_VM_IRQCHIP)
        return s->index < SNAP_NIRQCHIPS ? &img->irqchip[s->index] : NULL;
    if (s->type == SNAP_VM_PIT2 && s->index == 0)
        return &img->pit;
    return NULL;
}

static int snap_check_size(const struct snap_section_hdr *s, const char *name,
                           uint64_t at)
{
    uint64_t want = snapfile_type_size(s->type);

    if (s->type == SNAP_VCPU_XSAVE) {
        if (s->len >= sizeof(struct kvm_xsave) && s->len <= SNAP_MAX_XSAVE &&
            s->len % 4 == 0)
            return 0;
    } else if (s->type == SNAP_VCPU_MSRS) {
        if (s->len % sizeof(struct kvm_msr_entry) == 0 &&
            s->len / sizeof(struct kvm_msr_entry) <= SNAP_MAX_MSRS)
            return 0;
    } else if (s->len == want) {
        return 0;
    }
    return snap_bad(name, "%s section at offset %" PRIu64 ": %" PRIu64 " bytes",
                    snapfile_type_name(s->type), at, s->len);
}

/* Files one state section (header at at, payload at at + 16, bounds
 * checked by the caller): slot, size, then a private copy. */
static int snap_take(struct snap_reader *rd, struct snap_image *img,
                     const struct snap_section_hdr *s, uint64_t at)
{
    struct snap_blob *slot = snap_slot(img, s);
    uint8_t *copy;
    int r;

    if (!slot)
        return snap_bad(rd->name,
                        "unexpected section type %" PRIu32
                        " (%s), index %" PRIu32 " at offset %" PRIu64,
                        s->type, snapfile_type_name(s->type), s->index, at);
    if (slot->data)
        return snap_bad(rd->name,
                        "%s section (index %" PRIu32 ") appears twice",
                        snapfile_type_name(s->type), s->index);
    if ((r = snap_check_size(s, rd->name, at)) < 0)
        return r;
    if (!(copy = malloc(s->len ? (size_t)s->len : 1)))
        return err_set(ENOMEM, "%s: out of memory", rd->name);
    if ((r = snap_take_bytes(rd, at + sizeof(*s), copy, s->len)) < 0) {
        free(copy);
        return r;
    }
    slot->data = copy;
    slot->len = s->len;
    return 0;
}

const struct snap_dev *snapfile_device(const struct snap_image *img,
                                       const char *name)
{
    for (unsigned i = 0; i < img->ndevs; i++)
        if (strcmp(img->devs[i].name, name) == 0)
            return &img->devs[i];
    return NULL;
}

/* A device's name: NUL-terminated in its field, printable, not empty. */
static int snap_check_dev_name(const char *file, const struct snap_dev_hdr *h,
                               uint64_t at)
{
    size_t n = strnlen(h->name, sizeof(h->name));
    bool ok = n > 0 && n < sizeof(h->name);

    for (size_t i = 0; ok && i < n; i++)
        ok = h->name[i] > ' ' && h->name[i] < 0x7f;
    if (!ok)
        return snap_bad(file,
                        "device section at offset %" PRIu64 ": its name is "
                        "not a printable string of 1 to %zu bytes",
                        at, sizeof(h->name) - 1);
    return 0;
}

/* Room for one more device section, whose header h is checked. */
static int snap_add_dev(struct snap_reader *rd, struct snap_image *img,
                        const struct snap_dev_hdr *h, uint64_t at)
{
    struct snap_dev *d;

    if (snapfile_device(img, h->name))
        return snap_bad(rd->name, "device %s section appears twice", h->name);
    if (img->ndevs == SNAP_MAX_DEVS)
        return snap_bad(rd->name,
                        "device section at offset %" PRIu64 ": more than "
                        "%u devices",
                        at, SNAP_MAX_DEVS);
    if (!(d = realloc(img->devs, (img->ndevs + 1) * sizeof(*d))))
        return err_set(ENOMEM, "%s: out of memory", rd->name);
    img->devs = d;
    d += img->ndevs;
    memset(d, 0, sizeof(*d));
    memcpy(d->name, h->name, sizeof(d->name));
    d->version = h->version;
    return 0;
}

/* A device section (header at at): its name and version, then a private
 * copy of its state, which only the device can check. */
static int snap_take_dev(struct snap_reader *rd, struct snap_image *img,
                         const struct snap_section_hdr *s, uint64_t at)
{
    struct snap_dev_hdr h;
    uint64_t len = s->len - sizeof(h);
    uint8_t *copy;
    int r;

    if (s->index || s->len < sizeof(h) || len > SNAP_MAX_DEV_STATE)
        return snap_bad(rd->name,
                        "device section at offset %" PRIu64 ": %" PRIu64
                        " bytes, index %" PRIu32,
                        at, s->len, s->index);
    if ((r = snap_take_bytes(rd, at + sizeof(*s), &h, sizeof(h))) < 0 ||
        (r = snap_check_dev_name(rd->name, &h, at)) < 0 ||
        (r = snap_add_dev(rd, img, &h, at)) < 0)
        return r;
    if (!(copy = malloc(len ? (size_t)len : 1)))
        return err_set(ENOMEM, "%s: out of memory", rd->name);
    img->devs[img->ndevs].state = (struct snap_blob){copy, len};
    img->ndevs++; /* freed with img from now on */
    return snap_take_bytes(rd, at + sizeof(*s) + sizeof(h), copy, len);
}

/* One section of any type but the end marker. */
static int snap_take_any(struct snap_reader *rd, struct snap_image *img,
                         const struct snap_section_hdr *s, uint64_t pos,
                         uint64_t *next, uint64_t *cap)
{
    if (s->type == SNAP_MEM && s->index)
        return snap_bad(rd->name, "memory section with index %" PRIu32,
                        s->index);
    if (s->type == SNAP_MEM)
        return snap_take_extent(rd, img, pos + sizeof(*s), s->len, next, cap);
    if (s->type == SNAP_DEV)
        return snap_take_dev(rd, img, s, pos);
    return snap_take(rd, img, s, pos);
}

static int snap_walk(struct snap_reader *rd, struct snap_image *img)
{
    uint64_t pos = sizeof(struct snap_header), stop = img->len - SNAP_END_LEN;
    uint64_t next = 0, cap = 0;
    int r;

    while (pos < stop) {
        struct snap_section_hdr s;

        if (stop - pos < sizeof(s))
            return snap_bad(rd->name,
                            "section header cut short at offset %" PRIu64, pos);
        if ((r = snap_take_bytes(rd, pos, &s, sizeof(s))) < 0)
            return r;
        if (s.len > stop - pos - sizeof(s))
            return snap_bad(rd->name,
                            "%s section at offset %" PRIu64 ": %" PRIu64
                            " bytes, past the end marker",
                            snapfile_type_name(s.type), pos, s.len);
        if (s.type == SNAP_END)
            return snap_bad(rd->name,
                            "end marker at offset %" PRIu64 ", before the end",
                            pos);
        if ((r = snap_take_any(rd, img, &s, pos, &next, &cap)) < 0)
            return r;
        pos += sizeof(s) + s.len;
    }
    /* The end marker's header is in the checksum too; its CRC is not. */
    {
        struct snap_section_hdr end;

        if ((r = snap_take_bytes(rd, stop, &end, sizeof(end))) < 0)
            return r;
    }
    img->tail_crc = rd->gap_crc;
    img->tail_len = rd->gap_len;
    return 0;
}

static int snap_check_vcpu(const struct snap_image *img, unsigned i,
                           const char *name)
{
    static const uint32_t needed[] = {SNAP_VCPU_REGS, SNAP_VCPU_SREGS,
                                      SNAP_VCPU_MSRS, SNAP_VCPU_EVENTS,
                                      SNAP_VCPU_MP_STATE};
    const struct snap_blob *v = img->vcpu[i];

    for (size_t k = 0; k < ARRAY_LEN(needed); k++)
        if (!v[needed[k]].data)
            return snap_bad(name, "vcpu%u has no %s section", i,
                            snapfile_type_name(needed[k]));
    if (!v[SNAP_VCPU_XSAVE].data == !v[SNAP_VCPU_FPU].data)
        return snap_bad(name, "vcpu%u needs one xsave or fpu section", i);
    if ((img->hdr.flags & SNAP_FLAG_IRQCHIP) && !v[SNAP_VCPU_LAPIC].data)
        return snap_bad(name, "vcpu%u has no lapic section", i);
    return 0;
}

static int snap_check_complete(const struct snap_image *img, const char *name)
{
    int r;

    for (unsigned i = 0; i < img->hdr.ncpus; i++)
        if ((r = snap_check_vcpu(img, i, name)) < 0)
            return r;
    if (!img->clock.data)
        return snap_bad(name, "no clock section");
    if (!(img->hdr.flags & SNAP_FLAG_IRQCHIP))
        return 0;
    for (unsigned c = 0; c < SNAP_NIRQCHIPS; c++)
        if (!img->irqchip[c].data)
            return snap_bad(name, "no irqchip %u section", c);
    if (!img->pit.data)
        return snap_bad(name, "no pit2 section");
    return 0;
}

static int snap_read_all(struct snap_reader *rd, struct snap_image *img)
{
    int r;

    if ((r = snap_read_ends(rd, img)) < 0 ||
        (r = snap_check_sizes(&img->hdr, rd->name)) < 0)
        return r;
    img->vcpu = calloc(img->hdr.ncpus, sizeof(*img->vcpu));
    if (!img->vcpu)
        return err_set(ENOMEM, "%s: out of memory", rd->name);
    if ((r = snap_walk(rd, img)) < 0)
        return r;
    return snap_check_complete(img, rd->name);
}

int snapfile_read(const struct snap_src *src, const char *name,
                  struct snap_image *img)
{
    struct snap_reader *rd = malloc(sizeof(*rd));
    int r;

    memset(img, 0, sizeof(*img));
    img->len = src->len;
    if (!rd)
        return err_set(ENOMEM, "%s: out of memory", name);
    *rd = (struct snap_reader){.src = src, .name = name};
    rd->gap_crc = (uint32_t)crc32(0, NULL, 0);
    r = snap_read_all(rd, img);
    free(rd);
    if (r < 0)
        snapfile_free(img);
    return r;
}

static void snap_free_blobs(struct snap_blob *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *)(uintptr_t)b[i].data);
        b[i].data = NULL;
    }
}

void snapfile_free(struct snap_image *img)
{
    for (unsigned i = 0; img->vcpu && i < img->hdr.ncpus; i++)
        snap_free_blobs(img->vcpu[i], SNAP_VCPU_NTYPES);
    snap_free_blobs(img->irqchip, SNAP_NIRQCHIPS);
    snap_free_blobs(&img->pit, 1);
    snap_free_blobs(&img->clock, 1);
    for (unsigned i = 0; img->devs && i < img->ndevs; i++)
        snap_free_blobs(&img->devs[i].state, 1);
    free(img->devs);
    free(img->vcpu);
    free(img->ext);
    img->vcpu = NULL;
    img->devs = NULL;
    img->ndevs = 0;
    img->ext = NULL;
}

/* Pages are read and checksummed in chunks that stay in the CPU's cache
 * between the copy and the CRC. */
#define SNAP_CHUNK (2u << 20)

/* One extent's pages into dst (or, with dst NULL, from the buffer
 * itself): the CRC goes on over them. */
static int snap_load_extent(const struct snap_extent *e,
                            const struct snap_src *src, const char *name,
                            uint8_t *dst, uint32_t *crc)
{
    for (uint64_t done = 0; done < e->len;) {
        uint64_t n = e->len - done < SNAP_CHUNK ? e->len - done : SNAP_CHUNK;
        const uint8_t *p = dst ? dst + done : src->buf + e->file_off + done;
        int r;

        if (dst &&
            (r = snap_pread(src, name, e->file_off + done, dst + done, n)) < 0)
            return r;
        *crc = snap_crc(*crc, p, n);
        done += n;
    }
    return 0;
}

int snapfile_load_memory(const struct snap_image *img,
                         const struct snap_src *src, const char *name,
                         snap_ram_fn ram, void *opaque)
{
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    int r;

    if (!ram && !src->buf)
        return err_set(EINVAL, "%s: nowhere to load the memory to", name);
    for (uint64_t i = 0; i < img->mem_extents; i++) {
        const struct snap_extent *e = &img->ext[i];
        uint8_t *dst = ram ? ram(opaque, e->offset, e->len) : NULL;

        if (ram && !dst)
            return err_set(EINVAL,
                           "%s: memory at RAM offset %#" PRIx64
                           " is not guest memory",
                           name, e->offset);
        crc = (uint32_t)crc32_combine(crc, e->gap_crc, (z_off_t)e->gap_len);
        if ((r = snap_load_extent(e, src, name, dst, &crc)) < 0)
            return r;
    }
    crc = (uint32_t)crc32_combine(crc, img->tail_crc, (z_off_t)img->tail_len);
    if (crc != img->crc)
        return snap_bad(name,
                        "checksum mismatch (stored %08" PRIx32
                        ", computed %08" PRIx32 "): the file is corrupted",
                        img->crc, crc);
    return 0;
}

int snapfile_parse(const uint8_t *buf, size_t len, const char *name,
                   struct snap_image *img)
{
    struct snap_src src = {buf, -1, len};
    int r = snapfile_read(&src, name, img);

    if (r == 0 && (r = snapfile_load_memory(img, &src, name, NULL, NULL)) < 0)
        snapfile_free(img);
    return r;
}

/* ---- writer ---- */

void snapw_init(struct snap_writer *w, int fd, const char *path)
{
    w->fd = fd;
    w->path = path;
    w->crc = (uint32_t)crc32(0, NULL, 0);
    w->written = 0;
    w->err = 0;
    w->used = 0;
}

static int snapw_out(struct snap_writer *w, const uint8_t *p, size_t len)
{
    while (len && !w->err) {
        ssize_t n = write(w->fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->err = err_errno(n < 0 ? errno : EIO, "write");
            break;
        }
        p += n;
        len -= (size_t)n;
        w->written += (uint64_t)n;
    }
    return w->err;
}

static int snapw_flush(struct snap_writer *w)
{
    int r = snapw_out(w, w->buf, w->used);

    w->used = 0;
    return r;
}

/* Adds bytes to the file (and the CRC): small ones through the buffer. */
static int snapw_put(struct snap_writer *w, const void *data, uint64_t len)
{
    const uint8_t *p = data;

    if (w->err)
        return w->err;
    w->crc = snap_crc(w->crc, p, len);
    if (len <= sizeof(w->buf) - w->used) {
        memcpy(w->buf + w->used, p, (size_t)len);
        w->used += (size_t)len;
        return 0;
    }
    if (snapw_flush(w) < 0)
        return w->err;
    if (len <= sizeof(w->buf) / 2) {
        memcpy(w->buf, p, (size_t)len);
        w->used = (size_t)len;
        return 0;
    }
    return snapw_out(w, p, (size_t)len);
}

int snapw_header(struct snap_writer *w, const struct snap_header *h)
{
    return snapw_put(w, h, sizeof(*h));
}

int snapw_section(struct snap_writer *w, uint32_t type, uint32_t index,
                  const void *data, uint64_t len)
{
    struct snap_section_hdr s = {type, index, len};

    snapw_put(w, &s, sizeof(s));
    return snapw_put(w, data, len);
}

int snapw_device(struct snap_writer *w, const char *name, uint32_t version,
                 const void *state, uint64_t len)
{
    struct snap_dev_hdr h;
    struct snap_section_hdr s = {SNAP_DEV, 0, sizeof(h) + len};

    memset(&h, 0, sizeof(h));
    snprintf(h.name, sizeof(h.name), "%s", name);
    h.version = version;
    snapw_put(w, &s, sizeof(s));
    snapw_put(w, &h, sizeof(h));
    return snapw_put(w, state, len);
}

int snapw_extent(struct snap_writer *w, uint64_t offset, const void *pages,
                 uint64_t len)
{
    struct snap_section_hdr s = {SNAP_MEM, 0, 8 + len};

    snapw_put(w, &s, sizeof(s));
    snapw_put(w, &offset, 8);
    return snapw_put(w, pages, len);
}

int snapw_finish(struct snap_writer *w)
{
    struct snap_section_hdr s = {SNAP_END, 0, 4};
    uint32_t crc;

    snapw_put(w, &s, sizeof(s));
    crc = w->crc;
    snapw_put(w, &crc, 4);
    return snapw_flush(w);
}
