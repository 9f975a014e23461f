/* vm.h: the VM and vCPU objects shared by vm.c, vcpu.c and kick.c. */
#ifndef KVMRUN_VM_H
#define KVMRUN_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "kvmrun.h"
#include "bus.h"
#include "mem.h"
#include "dev/debug_exit.h"
#include "dev/poweroff.h"
#include "dev/serial.h"

enum vcpu_state {
    VCPU_CREATED, /* no thread yet */
    VCPU_RUNNING, /* its thread runs the KVM_RUN loop */
    VCPU_EXITED,  /* its thread left the loop (acknowledged the stop) */
};

struct kvmrun_vcpu {
    struct kvmrun_vm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run; /* shared with KVM; immediate_exit lives here */
    size_t run_size;
    pthread_t thread;
    unsigned requests;   /* KICK_REQ_* bits, atomic (see kick.c) */
    pthread_mutex_t thread_lock; /* leaf lock: guards thread_live */
    bool thread_live;    /* thread exists and is not yet joined */
    enum vcpu_state state; /* under vm->lock */
};

struct kvmrun_vm {
    struct kvmrun_config cfg;
    int kvm_fd;
    int vm_fd;
    int event_fd; /* readable once outcome is set */
    struct guest_mem mem;
    struct kvmrun_vcpu *vcpus;
    unsigned ncpus;
    struct bus pio;
    struct bus mmio;
    struct serial serial;
    struct debug_exit debug_exit;
    struct poweroff poweroff;
    /*
     * Lock order: a device lock may not be held when vm->lock is taken
     * (devices call vm_end() unlocked); vm->lock is never held while
     * calling into a device or KVM. Under vm->lock only a vCPU's
     * thread_lock (a leaf) may be taken, to kick it.
     */
    pthread_mutex_t lock;
    pthread_cond_t vcpu_exited; /* broadcast when a vCPU thread exits */
    struct kvmrun_outcome outcome; /* under lock; set once */
    bool started;
    bool joined;
};

/*
 * Ends the VM once: the first caller's reason wins, later calls are
 * ignored. Then every vCPU gets a stop request and a kick. Safe from any
 * thread, including vCPU threads and device handlers.
 */
void vm_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why,
            uint64_t code, const char *message, const char *detail);

/* Reports a line through the configured log function. */
void vm_log(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
            const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The vCPU thread body (vcpu.c). */
void *vcpu_thread(void *arg);

/* Marks the calling vCPU's thread exited and wakes waiters (vm.c). */
void vm_vcpu_exited(struct kvmrun_vcpu *vcpu);

#endif
