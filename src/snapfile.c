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

#include "dev/acpi_sleep.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/poweroff.h"
#include "dev/rtc.h"
#include "dev/serial.h"
#include "error.h"
#include "kvmrun.h"
#include "mem.h"

_Static_assert(sizeof(struct snap_header) == 56, "snap_header layout");
_Static_assert(sizeof(struct snap_section_hdr) == 16, "section layout");

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
    [SNAP_DEV_SERIAL] = "serial",
    [SNAP_DEV_RTC] = "rtc",
    [SNAP_DEV_I8042] = "i8042",
    [SNAP_DEV_FW_CFG] = "fw_cfg",
    [SNAP_DEV_ACPI_SLEEP] = "acpi_sleep",
    [SNAP_DEV_POWEROFF] = "poweroff",
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
    [SNAP_DEV_SERIAL] = sizeof(struct serial_state),
    [SNAP_DEV_RTC] = sizeof(struct rtc_state),
    [SNAP_DEV_I8042] = sizeof(struct i8042_state),
    [SNAP_DEV_FW_CFG] = sizeof(struct fw_cfg_state),
    [SNAP_DEV_ACPI_SLEEP] = sizeof(struct acpi_sleep_state),
    [SNAP_DEV_POWEROFF] = sizeof(struct poweroff_state),
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

static int snap_check_header(const uint8_t *buf, size_t len, const char *name,
                             struct snap_header *h)
{
    if (len < sizeof(h->magic) ||
        memcmp(buf, SNAP_MAGIC, sizeof(h->magic)) != 0)
        return snap_bad(name, "not a kvmrun snapshot (no KVMRSNAP magic)");
    if (len < sizeof(*h))
        return snap_bad(name, "truncated: %zu bytes, the header alone is %zu",
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

/* The end marker must close the file, and the CRC must match. */
static int snap_check_crc(const uint8_t *buf, size_t len, const char *name)
{
    struct snap_section_hdr end;
    uint32_t stored, crc;

    if (len < sizeof(struct snap_header) + SNAP_END_LEN)
        return snap_bad(name, "truncated: %zu bytes, no end marker", len);
    memcpy(&end, buf + len - SNAP_END_LEN, sizeof(end));
    if (end.type != SNAP_END || end.index != 0 || end.len != 4)
        return snap_bad(name,
                        "truncated or corrupted: no end marker at the "
                        "end of its %zu bytes",
                        len);
    memcpy(&stored, buf + len - 4, 4);
    crc = snap_crc((uint32_t)crc32(0, NULL, 0), buf, len - 4);
    if (crc != stored)
        return snap_bad(name,
                        "checksum mismatch (stored %08" PRIx32
                        ", computed %08" PRIx32 "): the file is corrupted",
                        stored, crc);
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

/* A memory section: offset, whole pages, in RAM, after the previous. */
static int snap_check_extent(struct snap_image *img, const uint8_t *p,
                             uint64_t len, uint64_t *next, const char *name)
{
    uint64_t off, n;

    if (len < 8 + SNAP_PAGE || (len - 8) % SNAP_PAGE)
        return snap_bad(name, "memory section of %" PRIu64 " bytes", len);
    memcpy(&off, p, 8);
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
    *next = off + n;
    img->mem_extents++;
    img->mem_bytes += n;
    return 0;
}

/* Where a section of this type and index goes; NULL: refused. */
static struct snap_blob *snap_slot(struct snap_image *img,
                                   const struct snap_section_hdr *s)
{
    bool irqchip = img->hdr.flags & SNAP_FLAG_IRQCHIP;

    if (s->type >= SNAP_VCPU_REGS && s->type < SNAP_VCPU_NTYPES) {
        if (s->index >= img->hdr.ncpus ||
            (s->type == SNAP_VCPU_LAPIC && !irqchip))
            return NULL;
        return &img->vcpu[s->index][s->type];
    }
    if (s->type >= SNAP_DEV_SERIAL && s->type < SNAP_DEV_END)
        return s->index == 0 ? &img->dev[s->type - SNAP_DEV_SERIAL] : NULL;
    if (!irqchip)
        return NULL;
    if (s->type == SNAP_VM_IRQCHIP)
        return s->index < SNAP_NIRQCHIPS ? &img->irqchip[s->index] : NULL;
    if (s->type == SNAP_VM_PIT2 && s->index == 0)
        return &img->pit;
    return NULL;
}

static int snap_check_size(const struct snap_section_hdr *s, const char *name,
                           size_t at)
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
    return snap_bad(name, "%s section at offset %zu: %" PRIu64 " bytes",
                    snapfile_type_name(s->type), at, s->len);
}

/* Files one section; the bounds were checked by the caller. */
static int snap_take(struct snap_image *img, const struct snap_section_hdr *s,
                     const uint8_t *p, size_t at, uint64_t *next,
                     const char *name)
{
    struct snap_blob *slot;
    int r;

    if (s->type == SNAP_MEM)
        return s->index ? snap_bad(name, "memory section with index %" PRIu32,
                                   s->index)
                        : snap_check_extent(img, p, s->len, next, name);
    if (s->type == SNAP_VM_CLOCK && s->index == 0)
        slot = &img->clock;
    else
        slot = snap_slot(img, s);
    if (!slot)
        return snap_bad(name,
                        "unexpected section type %" PRIu32
                        " (%s), index %" PRIu32 " at offset %zu",
                        s->type, snapfile_type_name(s->type), s->index, at);
    if (slot->data)
        return snap_bad(name, "%s section (index %" PRIu32 ") appears twice",
                        snapfile_type_name(s->type), s->index);
    if ((r = snap_check_size(s, name, at)) < 0)
        return r;
    slot->data = p;
    slot->len = s->len;
    return 0;
}

static int snap_walk(struct snap_image *img, const char *name)
{
    size_t pos = sizeof(struct snap_header), stop = img->len - SNAP_END_LEN;
    uint64_t next = 0;
    int r;

    while (pos < stop) {
        struct snap_section_hdr s;

        if (stop - pos < sizeof(s))
            return snap_bad(name, "section header cut short at offset %zu",
                            pos);
        memcpy(&s, img->buf + pos, sizeof(s));
        if (s.len > stop - pos - sizeof(s))
            return snap_bad(name,
                            "%s section at offset %zu: %" PRIu64
                            " bytes, past the end marker",
                            snapfile_type_name(s.type), pos, s.len);
        if (s.type == SNAP_END)
            return snap_bad(name, "end marker at offset %zu, before the end",
                            pos);
        r = snap_take(img, &s, img->buf + pos + sizeof(s), pos, &next, name);
        if (r < 0)
            return r;
        pos += sizeof(s) + (size_t)s.len;
    }
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
    for (unsigned d = 0; d < SNAP_NDEVS; d++)
        if (!img->dev[d].data)
            return snap_bad(name, "no %s section",
                            snapfile_type_name(SNAP_DEV_SERIAL + d));
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

/* Device states whose values the device cannot take as they are: the
 * RTC's clock offset and frozen time (the other devices' loads clamp
 * every byte). Refused here, before anything is created. */
static int snap_check_devices(const struct snap_image *img, const char *name)
{
    struct rtc_state rtc;
    char why[160];

    memcpy(&rtc, img->dev[SNAP_DEV_RTC - SNAP_DEV_SERIAL].data, sizeof(rtc));
    if (rtc_state_check(&rtc, why, sizeof(why)) < 0)
        return snap_bad(name, "rtc section: %s", why);
    return 0;
}

int snapfile_parse(const uint8_t *buf, size_t len, const char *name,
                   struct snap_image *img)
{
    int r;

    memset(img, 0, sizeof(*img));
    img->buf = buf;
    img->len = len;
    if ((r = snap_check_header(buf, len, name, &img->hdr)) < 0 ||
        (r = snap_check_crc(buf, len, name)) < 0 ||
        (r = snap_check_sizes(&img->hdr, name)) < 0)
        return r;
    img->vcpu = calloc(img->hdr.ncpus, sizeof(*img->vcpu));
    if (!img->vcpu)
        return err_set(ENOMEM, "%s: out of memory", name);
    if ((r = snap_walk(img, name)) < 0 ||
        (r = snap_check_complete(img, name)) < 0 ||
        (r = snap_check_devices(img, name)) < 0) {
        snapfile_free(img);
        return r;
    }
    return 0;
}

void snapfile_free(struct snap_image *img)
{
    free(img->vcpu);
    img->vcpu = NULL;
}

int snapfile_next_extent(const struct snap_image *img, size_t *pos,
                         struct snap_extent *ext)
{
    size_t stop = img->len - SNAP_END_LEN;

    if (*pos < sizeof(struct snap_header))
        *pos = sizeof(struct snap_header);
    while (*pos < stop) {
        struct snap_section_hdr s;
        const uint8_t *p = img->buf + *pos + sizeof(s);

        memcpy(&s, img->buf + *pos, sizeof(s));
        *pos += sizeof(s) + (size_t)s.len;
        if (s.type != SNAP_MEM)
            continue;
        memcpy(&ext->offset, p, 8);
        ext->data = p + 8;
        ext->len = s.len - 8;
        return 1;
    }
    return 0;
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
