/* vcpu.c: one thread per vCPU: the KVM_RUN loop and the exit dispatch. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "arch/x86/arch.h"
#include "confine.h"
#include "error.h"
#include "kick.h"
#include "kvm_ioctl.h"
#include "vm.h"

enum vcpu_next { VCPU_CONTINUE, VCPU_STOP };

static const char *const exit_names[] = {
    [KVM_EXIT_UNKNOWN] = "UNKNOWN",
    [KVM_EXIT_EXCEPTION] = "EXCEPTION",
    [KVM_EXIT_IO] = "IO",
    [KVM_EXIT_HYPERCALL] = "HYPERCALL",
    [KVM_EXIT_DEBUG] = "DEBUG",
    [KVM_EXIT_HLT] = "HLT",
    [KVM_EXIT_MMIO] = "MMIO",
    [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
    [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
    [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
    [KVM_EXIT_INTR] = "INTR",
    [KVM_EXIT_SET_TPR] = "SET_TPR",
    [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
    [KVM_EXIT_NMI] = "NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
    [KVM_EXIT_OSI] = "OSI",
    [KVM_EXIT_WATCHDOG] = "WATCHDOG",
    [KVM_EXIT_EPR] = "EPR",
    [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
    [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
    [KVM_EXIT_HYPERV] = "HYPERV",
    [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
    [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
    [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
    [KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
};

const char *kvmrun_exit_name(uint32_t reason)
{
    if (reason < sizeof(exit_names) / sizeof(*exit_names) && exit_names[reason])
        return exit_names[reason];
    return "UNKNOWN";
}

static const char *vcpu_suberror_name(uint32_t suberror)
{
    switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "event delivery failed";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "unexpected hardware exit reason";
    default:
        return "unknown suberror";
    }
}

/* Ends the VM for a guest fault, with the registers as detail. */
static enum vcpu_next vcpu_fault(struct kvmrun_vcpu *v, enum kvmrun_end why,
                                 uint64_t code, const char *what,
                                 const char *extra)
{
    char msg[256], detail[2048];
    uint64_t pc = 0;
    int n;

    if (arch_vcpu_pc(v->fd, &pc) == 0 && pc != ARCH_RESET_VECTOR)
        snprintf(msg, sizeof(msg), "vcpu%u: %s at %#" PRIx64, v->index, what,
                 pc);
    else
        snprintf(msg, sizeof(msg), "vcpu%u: %s", v->index, what);
    n = snprintf(detail, sizeof(detail), "%s", extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(detail))
        n = 0;
    arch_vcpu_dump(v->fd, detail + n, sizeof(detail) - (size_t)n);
    vm_end(v->vm, (int)v->index, why, code, msg, detail);
    return VCPU_STOP;
}

static enum vcpu_next vcpu_exit_io(struct kvmrun_vcpu *v)
{
    struct kvm_run *run = v->run;
    uint64_t bytes = (uint64_t)run->io.size * run->io.count;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if (run->io.data_offset > v->run_size ||
        bytes > v->run_size - run->io.data_offset) {
        vm_end(v->vm, (int)v->index, KVMRUN_END_VMM_ERROR, 0,
               "KVM_EXIT_IO: data outside the kvm_run area", "");
        return VCPU_STOP;
    }
    /* rep ins/outs: the port stays fixed, the data pointer moves. */
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
        bus_dispatch(&v->vm->pio, run->io.port, data, run->io.size,
                     run->io.direction == KVM_EXIT_IO_OUT, v->index);
    return VCPU_CONTINUE;
}

static enum vcpu_next vcpu_exit_mmio(struct kvmrun_vcpu *v)
{
    struct kvm_run *run = v->run;
    unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;

    bus_dispatch(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
                 run->mmio.is_write, v->index);
    return VCPU_CONTINUE;
}

/* Without the in-kernel irqchip HLT comes here; re-enter, as the note
 * does (the guest's next instruction runs; nothing can wake it anyway). */
static enum vcpu_next vcpu_exit_hlt(struct kvmrun_vcpu *v)
{
    (void)v;
    return VCPU_CONTINUE;
}

static enum vcpu_next vcpu_exit_shutdown(struct kvmrun_vcpu *v)
{
    uint64_t pc = 0;

    /* On AMD, KVM re-initialises the vCPU after a shutdown intercept: the
     * registers are then the reset state, not where the fault was. */
    if (arch_vcpu_pc(v->fd, &pc) == 0 && pc == ARCH_RESET_VECTOR)
        return vcpu_fault(v, KVMRUN_END_TRIPLE_FAULT, 0,
                          "triple fault (KVM_EXIT_SHUTDOWN); the faulting "
                          "address is lost: KVM reset the vCPU",
                          NULL);
    return vcpu_fault(v, KVMRUN_END_TRIPLE_FAULT, 0,
                      "triple fault (KVM_EXIT_SHUTDOWN)", NULL);
}

static enum vcpu_next vcpu_exit_fail_entry(struct kvmrun_vcpu *v)
{
    char what[160];
    uint64_t hw = v->run->fail_entry.hardware_entry_failure_reason;

    snprintf(what, sizeof(what),
             "KVM_EXIT_FAIL_ENTRY, hardware entry "
             "failure reason %#" PRIx64 " on host cpu %u",
             hw, v->run->fail_entry.cpu);
    return vcpu_fault(v, KVMRUN_END_FAIL_ENTRY, hw, what, NULL);
}

static enum vcpu_next vcpu_exit_internal_error(struct kvmrun_vcpu *v)
{
    struct kvm_run *run = v->run;
    char what[160], extra[512];
    uint32_t ndata = run->internal.ndata;
    int n;

    snprintf(what, sizeof(what), "KVM internal error, suberror %u (%s)",
             run->internal.suberror,
             vcpu_suberror_name(run->internal.suberror));
    if (ndata > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
        ndata = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
    n = snprintf(extra, sizeof(extra), "  data:");
    for (uint32_t i = 0; i < ndata && n > 0 && (size_t)n < sizeof(extra); i++)
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, " %#llx",
                      (unsigned long long)run->internal.data[i]);
    if (n > 0 && (size_t)n < sizeof(extra) - 1)
        snprintf(extra + n, sizeof(extra) - (size_t)n, "\n");
    return vcpu_fault(v, KVMRUN_END_INTERNAL_ERROR, run->internal.suberror,
                      what, ndata ? extra : NULL);
}

static enum vcpu_next vcpu_exit_unhandled(struct kvmrun_vcpu *v)
{
    char what[96];

    snprintf(what, sizeof(what), "unhandled exit reason %u (%s)",
             v->run->exit_reason, kvmrun_exit_name(v->run->exit_reason));
    return vcpu_fault(v, KVMRUN_END_UNHANDLED_EXIT, v->run->exit_reason, what,
                      NULL);
}

typedef enum vcpu_next (*vcpu_exit_fn)(struct kvmrun_vcpu *v);

static const vcpu_exit_fn exit_handlers[] = {
    [KVM_EXIT_IO] = vcpu_exit_io,
    [KVM_EXIT_MMIO] = vcpu_exit_mmio,
    [KVM_EXIT_HLT] = vcpu_exit_hlt,
    [KVM_EXIT_SHUTDOWN] = vcpu_exit_shutdown,
    [KVM_EXIT_FAIL_ENTRY] = vcpu_exit_fail_entry,
    [KVM_EXIT_INTERNAL_ERROR] = vcpu_exit_internal_error,
};

static enum vcpu_next vcpu_dispatch(struct kvmrun_vcpu *v)
{
    uint32_t reason = v->run->exit_reason;

    if (reason < sizeof(exit_handlers) / sizeof(*exit_handlers) &&
        exit_handlers[reason])
        return exit_handlers[reason](v);
    return vcpu_exit_unhandled(v);
}

int kvmrun_vcpu_run_once(struct kvmrun_vcpu *v, uint32_t *exit_reason)
{
    /* Raw: EINTR is the kick protocol's, not an error. */
    if (KVM_IOCTL_RAW(v->fd, KVM_RUN, 0) < 0) {
        int err = errno;

        if (exit_reason)
            *exit_reason = v->run->exit_reason;
        if (err == EINTR || err == EAGAIN)
            return -err;
        return err_errno(err, "KVM_RUN");
    }
    if (exit_reason)
        *exit_reason = v->run->exit_reason;
    return 0;
}

void kvmrun_vcpu_set_immediate_exit(struct kvmrun_vcpu *v, int value)
{
    __atomic_store_n(&v->run->immediate_exit, value ? 1 : 0, __ATOMIC_SEQ_CST);
}

int kvmrun_vcpu_get_rip(struct kvmrun_vcpu *v, uint64_t *rip)
{
    return arch_vcpu_rip(v->fd, rip);
}

static void vcpu_count(uint64_t *counter)
{
    /* One writer (this thread): a relaxed load and store is enough for
     * readers elsewhere to see whole values. */
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
}

static void vcpu_count_exit(struct kvmrun_vcpu *v, uint32_t reason)
{
    vcpu_count(reason < KVMRUN_STATS_EXITS ? &v->stats.exits[reason]
                                           : &v->stats.exits_other);
}

/*
 * After KVM_RUN returned -EINTR: acts on the requests; false: stop.
 * Requests are only ever taken here, after a KVM_RUN call, and KVM
 * finishes a pending port or MMIO access before it checks immediate_exit
 * and signals (api.rst, KVM_EXIT_IO note): so a vCPU that pauses or stops
 * has no half-done I/O, which is what a snapshot needs (DESIGN rule 3).
 */
static bool vcpu_handle_kick(struct kvmrun_vcpu *v)
{
    unsigned req = kick_drain(v);

    vcpu_count(&v->stats.eintr);
    if (req & KICK_REQ_STOP)
        return false;
    if (req & KICK_REQ_PAUSE)
        vm_vcpu_pause(v);
    return true;
}

static void vcpu_run_failed(struct kvmrun_vcpu *v, int r)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "vcpu%u: %s", v->index, kvmrun_last_error());
    vm_end(v->vm, (int)v->index, KVMRUN_END_VMM_ERROR, (uint64_t)-r, msg, "");
}

static void vcpu_loop(struct kvmrun_vcpu *v)
{
    for (;;) {
        int r = kvmrun_vcpu_run_once(v, NULL);

        if (r == -EINTR) {
            if (!vcpu_handle_kick(v))
                return;
            continue;
        }
        if (r == -EAGAIN)
            continue; /* an AP left wait-for-SIPI: KVM wants KVM_RUN again */
        if (r < 0) {
            vcpu_run_failed(v, r);
            return;
        }
        vcpu_count_exit(v, v->run->exit_reason);
        if (vcpu_dispatch(v) == VCPU_STOP)
            return;
    }
}

void *vcpu_thread(void *arg)
{
    struct kvmrun_vcpu *v = arg;
    char name[16];

    /* Named by itself (a prctl): naming another thread means opening
     * /proc/self/task/TID/comm. */
    snprintf(name, sizeof(name), "vcpu%u", v->index);
    pthread_setname_np(pthread_self(), name);
    kick_thread_init(v);
    if (confine_vcpu_enter(v) < 0)
        vcpu_run_failed(v, -EPERM);
    else
        vcpu_loop(v);
    vm_vcpu_set_state(v, VCPU_EXITED, false);
    kick_ack_all(v);
    return NULL;
}
