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
#include "mem.h"
#include "outbuf.h"
#include "ratelimit.h"
#include "vcpu.h"
#include "dev/absent.h"
#include "dev/acpi_sleep.h"
#include "dev/debug_exit.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/poweroff.h"
#include "dev/rtc.h"
#include "dev/serial.h"

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
    /* The machine (machine.c): buses and devices. */
    struct bus pio;
    struct bus mmio;
    struct serial serial;
    struct outbuf serial_out; /* the UART's output, its own thread */
    struct debug_exit debug_exit;
    struct poweroff poweroff;
    struct fw_cfg fw_cfg;
    struct acpi_sleep acpi_sleep;
    struct rtc rtc;
    struct i8042 i8042;
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
    uint64_t start_ns;              /* clock_now_ns() at kvmrun_vm_start() */
    struct sock_fprog *vcpu_filter; /* confine.c: NULL unless confined */
};

/* Records that [start, end) holds the image name (loaders call this). */
void vm_note_image(struct kvmrun_vm *vm, uint64_t start, uint64_t end,
                   const char *name);

#endif
