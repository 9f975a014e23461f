/* vm.h: the VM object every part of the library shares. */
#ifndef KVMRUN_VM_H
#define KVMRUN_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmrun.h"
#include "bus.h"
#include "machine.h"
#include "mem.h"
#include "ratelimit.h"
#include "vcpu.h"

struct sock_fprog;

/* Something a loader put in guest memory, for overlap checks. */
struct vm_image {
    uint64_t start, end;
    char name[64];
};

#define VM_MAX_IMAGES 8

struct kvmrun_vm {
    struct kvmrun_config cfg;
    struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
    struct vm_image images[VM_MAX_IMAGES];
    unsigned nimages;
    int kvm_fd;
    int vm_fd;
    int stats_fd; /* KVM_GET_STATS_FD (kstats.c), or -1 */
    struct guest_mem mem;
    struct kvmrun_vcpu *vcpus;
    unsigned ncpus;
    struct bus pio;
    struct bus mmio;
    struct machine machine;   /* the devices on the buses (machine.c) */
    struct ratelimit reports; /* what the guest can make kvmrun say (log.c) */
    /* The run state (runstate.c, which gives the lock order). */
    pthread_mutex_t lock;
    pthread_cond_t state_changed;  /* a vCPU changed state, or holds */
    pthread_cond_t resume;         /* holds went to 0, or stop */
    unsigned holds;                /* under lock: KVMRUN_HOLD_* in force */
    struct kvmrun_outcome outcome; /* under lock; set once */
    int event_fd;                  /* readable once outcome is set */
    bool started;
    bool joined;
    bool booted;       /* kvmrun_boot() or a restore set the vCPUs up to start:
                          without it kvmrun_vm_start() refuses (a vCPU at the
                          reset vector of empty RAM ends in an internal error) */
    uint64_t start_ns; /* clock_now_ns() at kvmrun_vm_start() */
    struct sock_fprog *vcpu_filter; /* confine.c: NULL unless confined */
    struct kvmrun_gdb *gdb;         /* gdbstub.c: NULL without --gdb */
};

/* Records that [start, end) holds the image name (loaders call this). */
void vm_note_image(struct kvmrun_vm *vm, uint64_t start, uint64_t end,
                   const char *name);

#endif
