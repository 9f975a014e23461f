/* vm.h: the VM and vCPU objects shared by vm.c, vcpu.c and kick.c. */
#ifndef KVMRUN_VM_H
#define KVMRUN_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kvmrun.h"
#include "bus.h"
#include "mem.h"
#include "outbuf.h"
#include "ratelimit.h"
#include "dev/absent.h"
#include "dev/acpi_sleep.h"
#include "dev/debug_exit.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/poweroff.h"
#include "dev/rtc.h"
#include "dev/serial.h"

struct sock_fprog;

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
    int event_fd; /* readable once outcome is set */
    int stats_fd; /* KVM_GET_STATS_FD (kstats.c), or -1 */
    struct guest_mem mem;
    struct kvmrun_vcpu *vcpus;
    unsigned ncpus;
    struct bus pio;
    struct bus mmio;
    struct serial serial;
    struct outbuf serial_out; /* the UART's output, its own thread */
    struct ratelimit reports; /* what the guest can make kvmrun say */
    struct debug_exit debug_exit;
    struct poweroff poweroff;
    struct fw_cfg fw_cfg;
    struct acpi_sleep acpi_sleep;
    struct rtc rtc;
    struct i8042 i8042;
    /*
     * Lock order: a device lock may not be held when vm->lock is taken
     * (devices call vm_end() unlocked); vm->lock is never held while
     * calling into a device or KVM. Under vm->lock only a vCPU's
     * thread_lock (a leaf) may be taken, to kick it.
     */
    pthread_mutex_t lock;
    pthread_cond_t state_changed;  /* a vCPU changed state, or holds */
    pthread_cond_t resume;         /* holds went to 0, or stop */
    unsigned holds;                /* under lock: KVMRUN_HOLD_* in force */
    struct kvmrun_outcome outcome; /* under lock; set once */
    bool started;
    bool joined;
    bool booted;       /* kvmrun_boot() or a restore set the vCPUs up to start:
                          without it kvmrun_vm_start() refuses (a vCPU at the
                          reset vector of empty RAM ends in an internal error) */
    uint64_t start_ns; /* vm_now_ns() at kvmrun_vm_start() */
    struct sock_fprog *vcpu_filter; /* confine.c: NULL unless confined */
};

/*
 * Ends the VM once: the first caller's reason wins, later calls are
 * ignored. Then every vCPU gets a stop request and a kick. Safe from any
 * thread, including vCPU threads and device handlers.
 */
void vm_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why, uint64_t code,
            const char *message, const char *detail);

/* Records that [start, end) holds the image name (loaders call this). */
void vm_note_image(struct kvmrun_vm *vm, uint64_t start, uint64_t end,
                   const char *name);

/* Reports a line through the configured log function. */
void vm_log(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
            const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Starts one of the library's threads (vCPUs, control socket, serial
 * output) with every signal blocked but SIGSYS (signals are for the vCPU
 * threads' kick and the CLI's signalfd), on a small stack: 512 KiB
 * instead of glibc's 8 MiB, which under transparent huge pages ("always")
 * costs a resident 2 MiB page per thread. pthread_create's result (0 or
 * an errno value).
 */
#define VM_THREAD_STACK (512u << 10)
int vm_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* The vCPU thread body (vcpu.c). */
void *vcpu_thread(void *arg);

/* Sets a vCPU's state and wakes everyone waiting on it. Takes vm->lock
 * unless locked is true (the caller holds it). */
void vm_vcpu_set_state(struct kvmrun_vcpu *vcpu, enum vcpu_state state,
                       bool locked);

/* In the vCPU thread, after a pause request: reports PAUSED and waits
 * until no hold is left, or stopped (vm.c). */
void vm_vcpu_pause(struct kvmrun_vcpu *vcpu);

/*
 * Holds (KVMRUN_HOLD_* bits, one per owner: the user, a snapshot; a
 * debugger would add its own): the vCPUs run only while none is set.
 * Only a hold's owner sets and clears it, so owners never undo each
 * other's pause. Safe from any thread but a vCPU's.
 *
 * vm_hold() sets hold, publishes a pause request to every running vCPU
 * and kicks it; vm_release() clears hold and, once none is left, wakes
 * the paused vCPUs. Neither waits. Both are idempotent.
 */
void vm_hold(struct kvmrun_vm *vm, unsigned hold);
void vm_release(struct kvmrun_vm *vm, unsigned hold);

/* How a wait for the vCPUs ended. */
enum vm_wait {
    VM_REACHED,    /* every vCPU got to the target (or exited) */
    VM_SUPERSEDED, /* the target changed: nothing left to wait for */
    VM_TIMED_OUT,  /* still the target, *laggard did not get there */
};

/*
 * Waits up to timeout_ms for the vCPUs to reach a target. hold != 0: the
 * target is "paused while hold is set" (superseded once it is cleared);
 * re-kicks running vCPUs every rekick_ms. hold == 0: "running while no
 * hold is set" (superseded once any is set). *laggard: a vCPU not there
 * at the timeout; *holds (if not NULL): the holds when the wait ended.
 */
enum vm_wait vm_wait_target(struct kvmrun_vm *vm, unsigned hold,
                            unsigned timeout_ms, int *laggard, unsigned *holds);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t vm_now_ns(void);

/* *ts = ms from now on CLOCK_MONOTONIC, for pthread_cond_timedwait(). */
void vm_deadline(struct timespec *ts, unsigned ms);

#endif
