/* disk.c: --disk options, and disk images opened, checked and locked. */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "kvmrun.h"

#define DISK_SECTOR 512u
#define DISK_KNOWN "ro, serial=ID, cache=none|writeback, engine=io_uring|sync"

enum { SEEN_RO = 1, SEEN_SERIAL = 2, SEEN_CACHE = 4, SEEN_ENGINE = 8 };

const char *kvmrun_disk_cache_name(enum kvmrun_disk_cache cache)
{
    return cache == KVMRUN_DISK_NONE ? "none" : "writeback";
}

const char *kvmrun_disk_engine_name(enum kvmrun_disk_engine engine)
{
    switch (engine) {
    case KVMRUN_DISK_IO_URING:
        return "io_uring";
    case KVMRUN_DISK_SYNC:
        return "sync";
    default:
        return "auto";
    }
}

/* The path: up to the first single comma; ",," is a comma. Returns the
 * rest (at a comma or the end), or NULL with the message set. */
static const char *disk_parse_path(const char *text, struct kvmrun_disk *d)
{
    const char *p = text;
    size_t n = 0;

    while (*p && !(p[0] == ',' && p[1] != ',')) {
        if (n == sizeof(d->path) - 1) {
            err_set(EINVAL, "the path is longer than %zu bytes",
                    sizeof(d->path) - 1);
            return NULL;
        }
        d->path[n++] = *p;
        p += *p == ',' ? 2 : 1;
    }
    d->path[n] = '\0';
    if (!n) {
        err_set(EINVAL, "'%s': no path before the options", text);
        return NULL;
    }
    return p;
}

static int disk_parse_serial(const char *v, size_t len, struct kvmrun_disk *d)
{
    if (len > KVMRUN_DISK_SERIAL_MAX)
        return err_set(EINVAL, "serial '%.*s' is %zu bytes, more than %u",
                       (int)len, v, len, KVMRUN_DISK_SERIAL_MAX);
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x20 || v[i] > 0x7e)
            return err_set(EINVAL,
                           "serial: byte %zu (%#x) is not printable "
                           "ASCII",
                           i, (unsigned char)v[i]);
    memcpy(d->serial, v, len);
    d->serial[len] = '\0';
    return 0;
}

static bool disk_is(const char *v, size_t len, const char *word)
{
    return len == strlen(word) && !memcmp(v, word, len);
}

/* One KEY[=VALUE] of len bytes at opt. */
static int disk_parse_option(const char *opt, size_t len, struct kvmrun_disk *d,
                             unsigned *seen)
{
    const char *eq = memchr(opt, '=', len), *v = eq ? eq + 1 : NULL;
    size_t klen = eq ? (size_t)(eq - opt) : len, vlen = eq ? len - klen - 1 : 0;
    unsigned bit;

    if (disk_is(opt, klen, "ro"))
        bit = SEEN_RO;
    else if (disk_is(opt, klen, "serial"))
        bit = SEEN_SERIAL;
    else if (disk_is(opt, klen, "cache"))
        bit = SEEN_CACHE;
    else if (disk_is(opt, klen, "engine"))
        bit = SEEN_ENGINE;
    else
        return err_set(EINVAL, "unknown option '%.*s' (known: %s)", (int)len,
                       opt, DISK_KNOWN);
    if (*seen & bit)
        return err_set(EINVAL, "%.*s given twice", (int)klen, opt);
    *seen |= bit;
    if (bit == SEEN_RO) {
        if (eq)
            return err_set(EINVAL, "ro takes no value ('%.*s')", (int)len, opt);
        d->ro = 1;
        return 0;
    }
    if (!eq || !vlen)
        return err_set(EINVAL, "%.*s needs a value (%s)", (int)klen, opt,
                       bit == SEEN_SERIAL  ? "serial=ID"
                       : bit == SEEN_CACHE ? "cache=none|writeback"
                                           : "engine=io_uring|sync");
    if (bit == SEEN_SERIAL)
        return disk_parse_serial(v, vlen, d);
    if (bit == SEEN_CACHE) {
        if (disk_is(v, vlen, "none"))
            d->cache = KVMRUN_DISK_NONE;
        else if (disk_is(v, vlen, "writeback"))
            d->cache = KVMRUN_DISK_WRITEBACK;
        else
            return err_set(EINVAL, "cache '%.*s': not none or writeback",
                           (int)vlen, v);
        return 0;
    }
    if (disk_is(v, vlen, "io_uring"))
        d->engine = KVMRUN_DISK_IO_URING;
    else if (disk_is(v, vlen, "sync"))
        d->engine = KVMRUN_DISK_SYNC;
    else
        return err_set(EINVAL, "engine '%.*s': not io_uring or sync", (int)vlen,
                       v);
    return 0;
}

int kvmrun_disk_parse(const char *text, struct kvmrun_disk *d)
{
    const char *p, *end;
    unsigned seen = 0;
    int r;

    memset(d, 0, sizeof(*d));
    if (!text || !*text)
        return err_set(EINVAL, "empty: a path is needed");
    p = disk_parse_path(text, d);
    if (!p)
        return -EINVAL;
    while (*p == ',') {
        p++;
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (end == p)
            return err_set(EINVAL, "'%s': an empty option", text);
        r = disk_parse_option(p, (size_t)(end - p), d, &seen);
        if (r)
            return r;
        p = end;
    }
    return 0;
}

/* --- opening ------------------------------------------------------------ */

static int disk_refuse_type(const char *path, mode_t mode)
{
    return err_set(S_ISDIR(mode) ? EISDIR : EINVAL,
                   "%s: is %s; a disk is a regular file or a block device",
                   path, kvmrun_file_type(mode));
}

/* Why open() failed, told as a user can act on it. */
static int disk_open_error(const struct kvmrun_disk *o, int flags, int err)
{
    int fd;

    if (err == EINVAL && flags & O_DIRECT) {
        /* Whether O_DIRECT is the reason: the same open without it. */
        fd = open(o->path, (flags & ~O_DIRECT) | O_NONBLOCK);
        if (fd >= 0) {
            close(fd);
            return err_set(EINVAL,
                           "%s: cache=none: the filesystem refuses O_DIRECT "
                           "(tmpfs did before Linux 6.6): use "
                           "cache=writeback",
                           o->path);
        }
    }
    if (!o->ro && (err == EACCES || err == EROFS || err == EPERM))
        return err_set(err, "%s: %s (add ,ro to open it read-only)", o->path,
                       strerror(err));
    return err_errno(err, "%s", o->path);
}

static int disk_lock(const struct disk *d)
{
    struct flock fl = {
        .l_type = d->opt.ro ? F_RDLCK : F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = 0,
        .l_len = 0, /* the whole file, however it grows */
    };

    if (fcntl(d->fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES)
        return err_set(EBUSY, "%s: in use by another process (locked)",
                       d->opt.path);
    return err_errno(errno, "%s: cannot be locked (F_OFD_SETLK)", d->opt.path);
}

/* cache=none: the alignment O_DIRECT wants of offsets and lengths. */
static unsigned disk_dio_align(const struct disk *d)
{
    unsigned v = DISK_SECTOR;
    int ssz;

    if (d->block) {
        /* A block device's request, not KVM's: not through kvm_ioctl.h. */
        if (ioctl(d->fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
            v = (unsigned)ssz;
    } else {
#ifdef STATX_DIOALIGN
        struct statx stx;

        if (statx(d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
            stx.stx_mask & STATX_DIOALIGN && stx.stx_dio_offset_align)
            v = stx.stx_dio_offset_align;
#endif
    }
    /* Sane values only: a power of two from a sector to a page. */
    if (v < DISK_SECTOR || v > 4096 || (v & (v - 1)))
        v = DISK_SECTOR;
    return v;
}

static int disk_size(struct disk *d, const struct stat *st)
{
    uint64_t size = (uint64_t)st->st_size;

    /* A block device's request, not KVM's: not through kvm_ioctl.h. */
    if (d->block && ioctl(d->fd, BLKGETSIZE64, &size) < 0)
        return err_errno(errno, "%s: BLKGETSIZE64", d->opt.path);
    if (!size)
        return err_set(EINVAL, "%s: is empty (0 bytes)", d->opt.path);
    if (size % DISK_SECTOR)
        return err_set(EINVAL,
                       "%s: size %llu bytes is not a multiple of %u (a "
                       "sector)",
                       d->opt.path, (unsigned long long)size, DISK_SECTOR);
    d->size = size;
    return 0;
}

static int disk_check(struct disk *d)
{
    struct stat st;
    int flags;

    if (fstat(d->fd, &st) < 0)
        return err_errno(errno, "%s: fstat", d->opt.path);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return disk_refuse_type(d->opt.path, st.st_mode);
    d->block = S_ISBLK(st.st_mode);
    /* O_NONBLOCK only kept the open from waiting; io_uring would answer
     * EAGAIN on a descriptor that has it. */
    flags = fcntl(d->fd, F_GETFL);
    if (flags < 0 || fcntl(d->fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        return err_errno(errno, "%s: fcntl", d->opt.path);
    return 0;
}

int disk_open(struct disk *d, const struct kvmrun_disk *opt)
{
    int flags = (opt->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY;
    struct stat st;
    int r;

    memset(d, 0, sizeof(*d));
    d->opt = *opt;
    d->fd = -1;
    if (opt->cache == KVMRUN_DISK_NONE)
        flags |= O_DIRECT;
    /* The type first: opening a FIFO waits for a writer, and opening a
     * character device can act. Should another file take the path's
     * place meanwhile, the non-blocking open returns and fstat tells. */
    if (stat(opt->path, &st) < 0)
        return err_errno(errno, "%s", opt->path);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return disk_refuse_type(opt->path, st.st_mode);
    d->fd = open(opt->path, flags | O_NONBLOCK);
    if (d->fd < 0)
        return disk_open_error(opt, flags, errno);
    r = disk_check(d);
    if (!r)
        r = disk_lock(d);
    if (!r && fstat(d->fd, &st) < 0)
        r = err_errno(errno, "%s: fstat", opt->path);
    if (!r)
        r = disk_size(d, &st);
    if (r) {
        disk_close(d);
        return r;
    }
    d->dio_align =
        opt->cache == KVMRUN_DISK_NONE ? disk_dio_align(d) : DISK_SECTOR;
    return 0;
}

void disk_close(struct disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}
