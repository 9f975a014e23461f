/* kvm.c: the KVM device: opening it, its API version, its capabilities. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "kvm_ioctl.h"

#define KVM_API_VERSION_NEEDED 12

struct kvm_cap_need {
    int cap;
    const char *name;
    const char *since;
};

/* Capabilities every VM relies on. */
static const struct kvm_cap_need kvm_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "2.6.29"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "4.11"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "2.6.24"},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", "2.6.32"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "2.6.27"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "2.6.28"},
};

/* And those of the in-kernel irqchip. */
static const struct kvm_cap_need kvm_caps_irqchip[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "2.6.20"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2", "2.6.31"},
};

#define KVM_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What to tell a user whose KVM device cannot be opened. */
static const char *kvm_open_hint(int err)
{
    switch (err) {
    case ENOENT:
        return "KVM is not available: load the kvm-intel or kvm-amd module "
               "and enable virtualization (VT-x/AMD-V) in the firmware or "
               "hypervisor";
    case EACCES:
    case EPERM:
        return "add your user to the 'kvm' group or run as root";
    case ENXIO:
    case ENODEV:
        return "the kvm module is not loaded: modprobe kvm-intel or "
               "kvm-amd";
    default:
        return "is KVM working on this host?";
    }
}

/* The API version, checked: its failure means the file is not KVM. */
static int kvm_check_version(int fd, const char *path)
{
    int version = KVM_IOCTL_RAW(fd, KVM_GET_API_VERSION, 0);

    if (version < 0)
        return err_set(ENODEV,
                       "%s is not a KVM device "
                       "(KVM_GET_API_VERSION: %s)",
                       path, strerror(errno));
    if (version != KVM_API_VERSION_NEEDED)
        return err_set(ENOTSUP,
                       "%s speaks KVM API version %d; kvmrun "
                       "needs version %d",
                       path, version, KVM_API_VERSION_NEEDED);
    return 0;
}

int kvm_open(const char *path, int *fd)
{
    int r;

    *fd = open(path, O_RDWR | O_CLOEXEC);
    if (*fd < 0) {
        int err = errno;

        return err_set(err, "cannot open %s: %s: %s", path, strerror(err),
                       kvm_open_hint(err));
    }
    if ((r = kvm_check_version(*fd, path)) < 0) {
        close(*fd);
        *fd = -1;
    }
    return r;
}

static int kvm_check_list(int fd, const char *path,
                          const struct kvm_cap_need *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kvm_cap(fd, c[i].cap) <= 0)
            return err_set(ENOTSUP,
                           "%s lacks %s: kvmrun needs a host kernel with "
                           "it (Linux %s or later)",
                           path, c[i].name, c[i].since);
    return 0;
}

int kvm_check_caps(int fd, const char *path, int irqchip)
{
    int r = kvm_check_list(fd, path, kvm_caps, KVM_COUNT(kvm_caps));

    if (r == 0 && irqchip)
        r = kvm_check_list(fd, path, kvm_caps_irqchip,
                           KVM_COUNT(kvm_caps_irqchip));
    return r;
}

int kvm_check_ncpus(int fd, unsigned ncpus)
{
    int max = kvm_cap(fd, KVM_CAP_MAX_VCPUS);

    if (max <= 0)
        max = kvm_cap(fd, KVM_CAP_NR_VCPUS);
    if (max <= 0)
        max = 4; /* what KVM_CAP_NR_VCPUS's absence means (api.rst) */
    if (ncpus <= (unsigned)max)
        return 0;
    return err_set(EINVAL,
                   "%u vCPUs requested: this host's KVM allows at "
                   "most %d per VM (KVM_CAP_MAX_VCPUS)",
                   ncpus, max);
}
