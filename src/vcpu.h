/* vcpu.h: a vCPU: its KVM fd and kvm_run, its run loop, its kick state. */
#ifndef KVMRUN_VCPU_H
#define KVMRUN_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmrun.h"

enum vcpu_state {
    VCPU_CREATED, /* no thread yet */
    VCPU_RUNNING, /* its thread runs the KVM_RUN loop */
    VCPU_PAUSED,  /* its thread waits for resume, out of KVM_RUN */
    VCPU_EXITED,  /* its thread left the loop (acknowledged the stop) */
};

struct kvmrun_vcpu {
    struct kvmrun_vm *vm;
    unsigned index;
    int fd;
    int stats_fd;        /* KVM_GET_STATS_FD (kstats.c), or -1 */
    struct kvm_run *run; /* shared with KVM; immediate_exit lives here */
    size_t run_size;
    pthread_t thread;
    /* The kick protocol (kick.c): atomics, see the proof there. */
    unsigned requests;        /* KICK_REQ_* bits */
    uint64_t kick_seq;        /* kicks published */
    uint64_t kick_ack;        /* kicks acknowledged; written by the vCPU only */
    pthread_mutex_t ack_lock; /* with ack_cond: waiters for kick_ack */
    pthread_cond_t ack_cond;
    pthread_mutex_t thread_lock; /* leaf lock: guards thread_live */
    bool thread_live;            /* thread exists and is not yet joined */
    /* Written under vm->lock with atomic stores; read anywhere. */
    enum vcpu_state state;
    /* Written by the vCPU thread only (relaxed atomics); rekicks by any. */
    struct kvmrun_vcpu_stats stats;
};

/* Creates vCPU index of vm (KVM_CREATE_VCPU, its kvm_run mapping of
 * run_size bytes, its stats file and locks) into *v: 0 or -errno. */
int vcpu_create(struct kvmrun_vm *vm, struct kvmrun_vcpu *v, unsigned index,
                size_t run_size);
void vcpu_destroy(struct kvmrun_vcpu *v);

/* Why vcpu_run() returned. */
enum vcpu_run {
    VCPU_KICKED, /* KVM_RUN returned -EINTR: act on the requests, go on */
    VCPU_ENDED,  /* the vCPU must stop: *end says how the VM ends */
};

/*
 * In the vCPU's thread: KVM_RUN, each exit handed to its handler (port
 * and MMIO accesses to the buses), until a kick or an exit that ends the
 * VM (a guest fault, a KVM failure). end->vcpu is this vCPU's index.
 */
enum vcpu_run vcpu_run(struct kvmrun_vcpu *v, struct kvmrun_outcome *end);

/* *end for a failed library call r in the vCPU's thread ("vcpuN: <the
 * last error>", KVMRUN_END_VMM_ERROR with code -r). */
void vcpu_failed(struct kvmrun_vcpu *v, int r, struct kvmrun_outcome *end);

#endif
