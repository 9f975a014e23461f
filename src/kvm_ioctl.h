/* kvm_ioctl.h: the one way into KVM: ioctls that name themselves in errors. */
#ifndef KVMRUN_KVM_IOCTL_H
#define KVMRUN_KVM_IOCTL_H

#include <linux/kvm.h>

/*
 * KVM_IOCTL(fd, REQ, arg): the request's result (>= 0), or -errno with
 * the error "REQ: <strerror>", REQ being the request's own macro name
 * (stringified here, so a message cannot name another request). A call
 * interrupted by a signal is made again. arg is what REQ takes: a
 * pointer, an integer or 0.
 *
 * KVM_IOCTL_RAW(fd, REQ, arg): ioctl(2)'s own result with errno as it
 * left it, no error set, no retry: for the callers that need exactly
 * that (KVM_RUN, whose EINTR is the kick protocol; KVM_CHECK_EXTENSION,
 * whose value is the answer; calls whose failure is not an error).
 *
 * KVM_VCPU_IOCTL(fd, index, REQ, arg): KVM_IOCTL on vCPU index's fd, its
 * error "vcpu<index>: REQ: <strerror>".
 *
 * Callers that add other context to a failure (a memory slot) use
 * err_prefix() on the result.
 */
#define KVM_IOCTL(fd, req, arg)                                                \
    kvm_ioctl((fd), (req), (unsigned long)(arg), #req)
#define KVM_VCPU_IOCTL(fd, index, req, arg)                                    \
    kvm_vcpu_ioctl((fd), (index), (req), (unsigned long)(arg), #req)
#define KVM_IOCTL_RAW(fd, req, arg)                                            \
    kvm_ioctl_raw((fd), (req), (unsigned long)(arg))

int kvm_ioctl(int fd, unsigned long req, unsigned long arg, const char *name);
int kvm_ioctl_raw(int fd, unsigned long req, unsigned long arg);
int kvm_vcpu_ioctl(int fd, unsigned index, unsigned long req, unsigned long arg,
                   const char *name);

/* KVM_CHECK_EXTENSION on fd (the KVM device, or a VM for per-VM answers):
 * the capability's value, 0 when absent or on error. */
int kvm_cap(int fd, long cap);

#endif
