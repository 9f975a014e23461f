/* kstats.h: opening the kernel's binary stats files (KVM_GET_STATS_FD). */
#ifndef KVMRUN_KSTATS_H
#define KVMRUN_KSTATS_H

/*
 * The stats file of the VM or vCPU behind fd, or -1 when the kernel has
 * none (no KVM_CAP_BINARY_STATS_FD, asked of vm_fd). Opened when the vCPU
 * is created: on a vCPU in KVM_RUN, the ioctl would wait for its exit.
 */
int kstats_open(int vm_fd, int fd);

#endif
