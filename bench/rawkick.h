/* rawkick.h: kick strategies on bare KVM ioctls, to measure kvmrun by. */
#ifndef KVMRUN_BENCH_RAWKICK_H
#define KVMRUN_BENCH_RAWKICK_H

#include <pthread.h>
#include <stdint.h>

#include "rawvm.h"

/*
 * SIGNAL_MASK, the strategy kvmrun does not use, kept to measure it
 * against (DESIGN.md, kick protocol rule 6): the kick signal is blocked in
 * the vCPU thread at all times, and KVM_SET_SIGNAL_MASK gives KVM_RUN a
 * mask without it, so the signal interrupts the thread only inside
 * KVM_RUN; one sent at any other time stays pending and makes the next
 * KVM_RUN return -EINTR at once. No immediate_exit, and no signal handler
 * runs: the vCPU takes the pending signal with sigtimedwait().
 *
 * IMMEDIATE_EXIT, kvmrun's protocol without the library around it: the
 * signal is unblocked in the vCPU thread, its handler and the kicker set
 * run->immediate_exit = 1, and the vCPU clears it before reading the kick
 * sequence. It tells how much of kvmrun's kick latency is the library's.
 */
enum rawkick_mode { RAWKICK_SIGNAL_MASK, RAWKICK_IMMEDIATE_EXIT };

struct rawkick_vcpu {
    struct rawvcpu *raw;
    enum rawkick_mode mode;
    unsigned index;
    pthread_t thread;
    uint64_t seq;         /* kicks published (atomic) */
    uint64_t ack;         /* kicks acknowledged; written by the vCPU thread */
    int stop;             /* atomic: leave the loop at the next kick */
    int exited;           /* under lock: the thread left its loop */
    pthread_mutex_t lock; /* with cond: waiters for ack */
    pthread_cond_t cond;
    uint64_t rekicks; /* signals re-sent to a vCPU slow to acknowledge */
    char error[160];  /* why the thread stopped early; "" if it did not */
};

struct rawkick {
    struct rawvm vm;
    struct rawkick_vcpu *vcpu;
    unsigned ncpus;
};

/* The kick signal, SIGRTMIN + 1 (kvmrun's own is SIGRTMIN). */
int rawkick_signal(void);

/* Installs the kick signal's handler. Call once, before the rest. */
void rawkick_setup(void);

/* A raw VM of ncpus vCPUs running image, one thread each, kicked the
 * mode's way. Fails the benchmark on any error. */
void rawkick_start(struct rawkick *rk, enum rawkick_mode mode, unsigned ncpus,
                   const void *image, size_t len);

/* Kicks vCPU i and waits until it acknowledged, re-kicking every 10 ms:
 * the contract of kvmrun_vcpu_kick(). 0, -ETIMEDOUT, or -EIO if the vCPU
 * thread stopped. */
int rawkick_kick(struct rawkick *rk, unsigned i, unsigned timeout_ms);

/* Stops and joins every vCPU thread, frees everything; fails the
 * benchmark if a thread does not stop within timeout_ms or failed. */
void rawkick_stop(struct rawkick *rk, unsigned timeout_ms);

/* Sets KVM_RUN's signal mask of v: the calling thread's own mask without
 * the kick signal. */
void rawkick_set_kvm_mask(struct rawvcpu *v);

/* Takes one pending kick signal off the calling thread's queue, if any. */
void rawkick_eat(void);

/* Times the kick signal's handler ran in a SIGNAL_MASK thread (it never
 * should: there the signal is blocked whenever it is outside KVM_RUN). */
uint64_t rawkick_stray_handler_runs(void);

#endif
