/* kstats.c: the kernel's own counters of a VM or vCPU (KVM_GET_STATS_FD). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "kstats.h"
#include "kvm_ioctl.h"
#include "vm.h"

/* Bounds on what a stats file may claim before kvmrun allocates for it. */
#define KSTATS_MAX_NAME 1024
#define KSTATS_MAX_DESC 4096

/* Reads exactly len bytes at off: 0 or -errno (-EIO for a short file). */
static int kstats_pread(int fd, void *buf, size_t len, uint64_t off,
                        const char *what)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n =
            pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno(errno, "%s: reading the stats file", what);
        if (n == 0)
            return err_set(EIO, "%s: the stats file ends early", what);
        done += (size_t)n;
    }
    return 0;
}

/* raw: one descriptor as the file has it (the name follows, unaligned). */
static int kstats_one(int sfd, const struct kvm_stats_header *h,
                      const char *raw, const char *what, kvmrun_kstat_fn fn,
                      void *opaque)
{
    char name[KSTATS_MAX_NAME + 1];
    struct kvm_stats_desc d;
    uint64_t *values;
    int r;

    memcpy(&d, raw, sizeof(d));
    if (d.size == 0)
        return 0;
    memcpy(name, raw + sizeof(d), h->name_size);
    name[h->name_size] = 0;
    if (!(values = calloc(d.size, sizeof(*values))))
        return err_set(ENOMEM, "%s: no memory for stats", what);
    r = kstats_pread(sfd, values, d.size * sizeof(*values),
                     (uint64_t)h->data_offset + d.offset, what);
    if (r == 0)
        fn(opaque, name, d.flags, values, d.size);
    free(values);
    return r;
}

static int kstats_walk(int sfd, const char *what, kvmrun_kstat_fn fn,
                       void *opaque)
{
    struct kvm_stats_header h;
    size_t step;
    char *descs;
    int r;

    if ((r = kstats_pread(sfd, &h, sizeof(h), 0, what)) < 0)
        return r;
    if (h.name_size == 0 || h.name_size > KSTATS_MAX_NAME ||
        h.num_desc > KSTATS_MAX_DESC)
        return err_set(EPROTO,
                       "%s: stats header out of bounds (name_size %u, "
                       "num_desc %u)",
                       what, h.name_size, h.num_desc);
    step = sizeof(struct kvm_stats_desc) + h.name_size;
    if (!(descs = malloc(step * h.num_desc + 1)))
        return err_set(ENOMEM, "%s: no memory for stats", what);
    r = kstats_pread(sfd, descs, step * h.num_desc, h.desc_offset, what);
    for (unsigned i = 0; r == 0 && i < h.num_desc; i++)
        r = kstats_one(sfd, &h, descs + step * i, what, fn, opaque);
    free(descs);
    return r;
}

int kstats_open(int vm_fd, int fd)
{
    if (!kvm_cap(vm_fd, KVM_CAP_BINARY_STATS_FD))
        return -1;
    /* Raw: without a stats file, the stats say why when asked. */
    return KVM_IOCTL_RAW(fd, KVM_GET_STATS_FD, 0);
}

/* sfd: a file from kstats_open(), or -1. */
static int kstats_read(int sfd, const char *what, kvmrun_kstat_fn fn,
                       void *opaque)
{
    if (sfd < 0)
        return err_set(ENOTSUP,
                       "%s: this kernel has no KVM_CAP_BINARY_STATS_FD", what);
    return kstats_walk(sfd, what, fn, opaque);
}

int kvmrun_vm_kstats(struct kvmrun_vm *vm, kvmrun_kstat_fn fn, void *opaque)
{
    return kstats_read(vm->stats_fd, "VM stats", fn, opaque);
}

int kvmrun_vcpu_kstats(struct kvmrun_vcpu *vcpu, kvmrun_kstat_fn fn,
                       void *opaque)
{
    char what[32];

    snprintf(what, sizeof(what), "vcpu%u stats", vcpu->index);
    return kstats_read(vcpu->stats_fd, what, fn, opaque);
}
