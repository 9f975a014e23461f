/* region.c: what every loader shares: reading the image, the range check
 * before writing, writing guest memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "load/load.h"

int load_check_range(const struct load_ctx *ctx, const char *what,
                     uint64_t start, uint64_t len)
{
    uint64_t end = start + len;

    if (end < start)
        return err_set(EINVAL,
                       "%s: %s: 0x%" PRIx64 "+0x%" PRIx64
                       " wraps around the address space",
                       ctx->name, what, start, len);
    if (len && !mem_ptr(ctx->mem, start, len))
        return err_set(ERANGE,
                       "%s: %s: 0x%" PRIx64 "-0x%" PRIx64
                       " is not in guest RAM (%" PRIu64 " MiB)",
                       ctx->name, what, start, end, ctx->mem->size >> 20);
    for (unsigned i = 0; i < ctx->nreserved && len; i++) {
        const struct load_region *r = &ctx->reserved[i];

        if (start < r->end && r->start < end)
            return err_set(ERANGE,
                           "%s: %s: 0x%" PRIx64 "-0x%" PRIx64
                           " overlaps %s at 0x%" PRIx64 "-0x%" PRIx64,
                           ctx->name, what, start, end, r->what, r->start,
                           r->end);
    }
    return 0;
}

void load_copy(const struct guest_mem *mem, uint64_t gpa, const void *src,
               uint64_t len)
{
    void *dst = len ? mem_ptr(mem, gpa, len) : NULL;

    if (dst)
        memcpy(dst, src, len);
}

void load_zero(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
    void *dst = len ? mem_ptr(mem, gpa, len) : NULL;

    if (dst)
        memset(dst, 0, len);
}

int load_read(const struct guest_mem *mem, uint64_t gpa,
              const struct load_src *src, uint64_t off, uint64_t len)
{
    void *dst = len ? mem_ptr(mem, gpa, len) : NULL;

    return dst ? load_src_read(src, off, dst, len) : 0;
}

int load_err(const struct load_ctx *ctx, const char *what, const char *fmt, ...)
{
    char why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return err_set(EINVAL, "%s: %s: %s", ctx->name, what, why);
}

int load_read_at(int fd, const char *path, uint64_t off, void *dst,
                 uint64_t len)
{
    uint8_t *p = dst;

    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno(errno, "%s: read", path);
        if (n == 0)
            return err_set(EIO, "%s: file shrank while reading", path);
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

int load_src_read(const struct load_src *src, uint64_t off, void *dst,
                  uint64_t len)
{
    if (off > src->len || len > src->len - off)
        return err_set(EIO,
                       "%s: %" PRIu64 " bytes at offset %" PRIu64
                       " are past its end (%" PRIu64 " bytes)",
                       src->name, len, off, src->len);
    if (!src->buf)
        return load_read_at(src->fd, src->name, off, dst, len);
    if (len)
        memcpy(dst, src->buf + off, (size_t)len);
    return 0;
}
