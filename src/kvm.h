/* kvm.h: the KVM device: opening it, its API version, its capabilities. */
#ifndef KVMRUN_KVM_H
#define KVMRUN_KVM_H

/*
 * Opens the KVM device at path and checks that it speaks the API kvmrun
 * needs: *fd, or -errno with a message naming path and, when it cannot
 * be opened, what to do about it (load the module, join the kvm group).
 */
int kvm_open(const char *path, int *fd);

/* 0 when KVM (fd, opened from path) has every capability a VM relies on,
 * and the in-kernel irqchip's too when irqchip; else -ENOTSUP naming the
 * first one missing and the Linux version that brought it. */
int kvm_check_caps(int fd, const char *path, int irqchip);

/* 0 when KVM allows ncpus vCPUs per VM, else -EINVAL saying its limit. */
int kvm_check_ncpus(int fd, unsigned ncpus);

#endif
