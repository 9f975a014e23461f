/* rawvm.h: a VM on bare KVM ioctls, set up as kvmrun sets up its own. */
#ifndef KVMRUN_BENCH_RAWVM_H
#define KVMRUN_BENCH_RAWVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

struct rawvcpu {
    int fd;
    struct kvm_run *run;
};

/*
 * What kvmrun_vm_create() + kvmrun_boot_real() make, without the library:
 * BENCH_MEM of RAM at 0, the identity-map and TSS addresses, the in-kernel
 * irqchip, ncpus vCPUs with KVM's supported CPUID, in real mode at
 * BENCH_ENTRY and runnable (an AP would otherwise wait for a SIPI). No
 * threads, no devices, no dispatch.
 */
struct rawvm {
    int kvm_fd;
    int vm_fd;
    uint8_t *mem;
    size_t run_size;
    unsigned ncpus;
    struct rawvcpu *vcpu;
};

/* Creates it with image at BENCH_ENTRY, or fails the benchmark. */
void rawvm_create(struct rawvm *vm, unsigned ncpus, const void *image,
                  size_t len);

/* Puts vCPU i back at BENCH_ENTRY in real mode (to rerun the guest). */
void rawvm_reset(struct rawvm *vm, unsigned i);

void rawvm_destroy(struct rawvm *vm);

/* One KVM_RUN: 0, or -errno. */
int rawvm_run(struct rawvcpu *v);

#endif
