/* kvm_ioctl.c: the one way into KVM: ioctls that name themselves in errors. */
#include "kvm_ioctl.h"

#include <errno.h>
#include <sys/ioctl.h>

#include "error.h"

int kvm_ioctl_raw(int fd, unsigned long req, unsigned long arg)
{
    return ioctl(fd, req, arg);
}

int kvm_ioctl(int fd, unsigned long req, unsigned long arg, const char *name)
{
    int r;

    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? err_errno(errno, "%s", name) : r;
}

int kvm_vcpu_ioctl(int fd, unsigned index, unsigned long req, unsigned long arg,
                   const char *name)
{
    int r = kvm_ioctl(fd, req, arg, name);

    return r < 0 ? err_prefix(r, "vcpu%u", index) : r;
}

int kvm_cap(int fd, long cap)
{
    int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

    return r > 0 ? r : 0;
}
