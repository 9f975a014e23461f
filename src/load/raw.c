/* raw.c: raw images: bytes copied to a guest-physical address. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "load/load.h"
#include "vm.h"

int load_open(const char *path, uint64_t *size)
{
    return file_open_regular(path, size);
}

int load_open_max(const char *path, uint64_t max_len, uint64_t *size)
{
    int fd = load_open(path, size);

    if (fd < 0 || *size <= max_len)
        return fd;
    close(fd);
    return err_set(EFBIG,
                   "%s: %" PRIu64 " bytes do not fit in guest "
                   "memory (%" PRIu64 " MiB)",
                   path, *size, max_len >> 20);
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

int load_read_file(const char *path, uint64_t max_len, uint8_t **data,
                   size_t *len)
{
    uint64_t size;
    uint8_t *buf;
    int r, fd = load_open_max(path, max_len, &size);

    if (fd < 0)
        return fd;
    buf = malloc(size ? (size_t)size : 1);
    r = buf ? load_read_at(fd, path, 0, buf, size)
            : err_set(ENOMEM, "%s: out of memory", path);
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    *data = buf;
    *len = (size_t)size;
    return 0;
}

static int load_raw_named(struct kvmrun_vm *vm, const void *image, size_t len,
                          uint64_t load_addr, const char *name)
{
    void *dst = mem_ptr(&vm->mem, load_addr, len);

    if (len == 0)
        return err_set(EINVAL, "empty image");
    if (!dst)
        return err_set(ERANGE,
                       "%zu bytes at %#" PRIx64 " do not fit in "
                       "guest memory (%" PRIu64 " MiB)",
                       len, load_addr, vm->mem.size >> 20);
    memcpy(dst, image, len);
    vm_note_image(vm, load_addr, load_addr + len, name);
    return 0;
}

int kvmrun_load_raw(struct kvmrun_vm *vm, const void *image, size_t len,
                    uint64_t load_addr)
{
    return load_raw_named(vm, image, len, load_addr, "the image");
}

int kvmrun_load_raw_file(struct kvmrun_vm *vm, const char *path,
                         uint64_t load_addr)
{
    uint8_t *data;
    size_t len;
    int r = load_read_file(path, vm->mem.size, &data, &len);

    if (r < 0)
        return r;
    r = load_raw_named(vm, data, len, load_addr, path);
    if (r < 0) {
        char why[256];

        snprintf(why, sizeof(why), "%s", kvmrun_last_error());
        err_set(-r, "%s: %s", path, why);
    }
    free(data);
    return r;
}
