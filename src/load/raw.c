/* raw.c: raw images: bytes copied to a guest-physical address. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* The file goes from its descriptor straight into guest memory: the VMM
 * never holds a copy (a 2 GiB image costs 2 GiB, not 4). */
int kvmrun_load_raw_file(struct kvmrun_vm *vm, const char *path,
                         uint64_t load_addr)
{
    uint64_t size;
    void *dst;
    int r, fd = load_open_max(path, vm->mem.size, &size);

    if (fd < 0)
        return fd;
    dst = mem_ptr(&vm->mem, load_addr, size);
    if (size == 0)
        r = err_set(EINVAL, "%s: empty image", path);
    else if (!dst)
        r = err_set(ERANGE,
                    "%s: %" PRIu64 " bytes at %#" PRIx64 " do not fit in "
                    "guest memory (%" PRIu64 " MiB)",
                    path, size, load_addr, vm->mem.size >> 20);
    else
        r = load_read_at(fd, path, 0, dst, size);
    close(fd);
    if (r == 0)
        vm_note_image(vm, load_addr, load_addr + size, path);
    return r;
}
