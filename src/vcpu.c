/* vcpu.c: a vCPU: its creation, the KVM_RUN loop and the exit dispatch. */
#include "vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "clock.h"
#include "error.h"
#include "gdbstub.h"
#include "kstats.h"
#include "kvm_ioctl.h"
#include "vm.h"

enum vcpu_next { VCPU_CONTINUE, VCPU_STOP };

int vcpu_create(struct kvmrun_vm *vm, struct kvmrun_vcpu *v, unsigned index,
                size_t run_size)
{
    v->vm = vm;
    v->index = index;
    v->run_size = run_size;
    v->fd = KVM_VCPU_IOCTL(vm->vm_fd, index, KVM_CREATE_VCPU, index);
    if (v->fd < 0)
        return v->fd;
    v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        int r = err_errno(errno, "mmap of vcpu%u's kvm_run", index);

        close(v->fd);
        return r;
    }
    v->stats_fd = kstats_open(vm->vm_fd, v->fd);
    pthread_mutex_init(&v->thread_lock, NULL);
    pthread_mutex_init(&v->ack_lock, NULL);
    clock_cond_init(&v->ack_cond);
    return 0;
}

void vcpu_destroy(struct kvmrun_vcpu *v)
{
    pthread_cond_destroy(&v->ack_cond);
    pthread_mutex_destroy(&v->ack_lock);
    pthread_mutex_destroy(&v->thread_lock);
    munmap(v->run, v->run_size);
    if (v->stats_fd >= 0)
        close(v->stats_fd);
    close(v->fd);
}

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

/* Sets *end for a guest fault, with the registers as detail. */
static enum vcpu_next vcpu_fault(struct kvmrun_vcpu *v,
                                 struct kvmrun_outcome *end,
                                 enum kvmrun_end why, uint64_t code,
                                 const char *what, const char *extra)
{
    char *detail = end->detail;
    size_t room = sizeof(end->detail);
    uint64_t pc = 0;
    int n;

    end->end = why;
    end->code = code;
    if (arch_vcpu_pc(v->fd, &pc) == 0 && pc != ARCH_RESET_VECTOR)
        snprintf(end->message, sizeof(end->message), "vcpu%u: %s at %#" PRIx64,
                 v->index, what, pc);
    else
        snprintf(end->message, sizeof(end->message), "vcpu%u: %s", v->index,
                 what);
    n = snprintf(detail, room, "%s", extra ? extra : "");
    if (n < 0 || (size_t)n >= room)
        n = 0;
    arch_vcpu_dump(v->fd, detail + n, room - (size_t)n);
    return VCPU_STOP;
}

static enum vcpu_next vcpu_exit_io(struct kvmrun_vcpu *v,
                                   struct kvmrun_outcome *end)
{
    struct kvm_run *run = v->run;
    uint64_t bytes = (uint64_t)run->io.size * run->io.count;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if (run->io.data_offset > v->run_size ||
        bytes > v->run_size - run->io.data_offset) {
        end->end = KVMRUN_END_VMM_ERROR;
        snprintf(end->message, sizeof(end->message),
                 "KVM_EXIT_IO: data outside the kvm_run area");
        return VCPU_STOP;
    }
    /* rep ins/outs: the port stays fixed, the data pointer moves. */
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
        bus_dispatch(&v->vm->pio, run->io.port, data, run->io.size,
                     run->io.direction == KVM_EXIT_IO_OUT, v->index);
    return VCPU_CONTINUE;
}

static enum vcpu_next vcpu_exit_mmio(struct kvmrun_vcpu *v,
                                     struct kvmrun_outcome *end)
{
    struct kvm_run *run = v->run;
    unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;

    (void)end;
    bus_dispatch(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
                 run->mmio.is_write, v->index);
    return VCPU_CONTINUE;
}

/* Without the in-kernel irqchip HLT comes here; re-enter, as the note
 * does (the guest's next instruction runs; nothing can wake it anyway). */
static enum vcpu_next vcpu_exit_hlt(struct kvmrun_vcpu *v,
                                    struct kvmrun_outcome *end)
{
    (void)v;
    (void)end;
    return VCPU_CONTINUE;
}

static enum vcpu_next vcpu_exit_shutdown(struct kvmrun_vcpu *v,
                                         struct kvmrun_outcome *end)
{
    uint64_t pc = 0;

    /* On AMD, KVM re-initialises the vCPU after a shutdown intercept: the
     * registers are then the reset state, not where the fault was. */
    if (arch_vcpu_pc(v->fd, &pc) == 0 && pc == ARCH_RESET_VECTOR)
        return vcpu_fault(v, end, KVMRUN_END_TRIPLE_FAULT, 0,
                          "triple fault (KVM_EXIT_SHUTDOWN); the faulting "
                          "address is lost: KVM reset the vCPU",
                          NULL);
    return vcpu_fault(v, end, KVMRUN_END_TRIPLE_FAULT, 0,
                      "triple fault (KVM_EXIT_SHUTDOWN)", NULL);
}

static enum vcpu_next vcpu_exit_fail_entry(struct kvmrun_vcpu *v,
                                           struct kvmrun_outcome *end)
{
    char what[160];
    uint64_t hw = v->run->fail_entry.hardware_entry_failure_reason;

    snprintf(what, sizeof(what),
             "KVM_EXIT_FAIL_ENTRY, hardware entry "
             "failure reason %#" PRIx64 " on host cpu %u",
             hw, v->run->fail_entry.cpu);
    return vcpu_fault(v, end, KVMRUN_END_FAIL_ENTRY, hw, what, NULL);
}

static enum vcpu_next vcpu_exit_internal_error(struct kvmrun_vcpu *v,
                                               struct kvmrun_outcome *end)
{
    struct kvm_run *run = v->run;
    char what[160], extra[512];
    uint32_t ndata = run->internal.ndata;
    int n;

    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
        gdbstub_emulation_failure(v) == 0)
        return VCPU_CONTINUE; /* gdb's int3 on a KVM that cannot trap it */
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
    return vcpu_fault(v, end, KVMRUN_END_INTERNAL_ERROR, run->internal.suberror,
                      what, ndata ? extra : NULL);
}

static enum vcpu_next vcpu_exit_unhandled(struct kvmrun_vcpu *v,
                                          struct kvmrun_outcome *end)
{
    char what[96];

    snprintf(what, sizeof(what), "unhandled exit reason %u (%s)",
             v->run->exit_reason, kvmrun_exit_name(v->run->exit_reason));
    return vcpu_fault(v, end, KVMRUN_END_UNHANDLED_EXIT, v->run->exit_reason,
                      what, NULL);
}

/* A breakpoint, watchpoint or step: the gdb stub stops the guest. */
static enum vcpu_next vcpu_exit_debug(struct kvmrun_vcpu *v,
                                      struct kvmrun_outcome *end)
{
    if (gdbstub_debug_exit(v) < 0)
        return vcpu_exit_unhandled(v, end);
    return VCPU_CONTINUE;
}

typedef enum vcpu_next (*vcpu_exit_fn)(struct kvmrun_vcpu *v,
                                       struct kvmrun_outcome *end);

static const vcpu_exit_fn exit_handlers[] = {
    [KVM_EXIT_IO] = vcpu_exit_io,
    [KVM_EXIT_MMIO] = vcpu_exit_mmio,
    [KVM_EXIT_HLT] = vcpu_exit_hlt,
    [KVM_EXIT_DEBUG] = vcpu_exit_debug,
    [KVM_EXIT_SHUTDOWN] = vcpu_exit_shutdown,
    [KVM_EXIT_FAIL_ENTRY] = vcpu_exit_fail_entry,
    [KVM_EXIT_INTERNAL_ERROR] = vcpu_exit_internal_error,
};

static enum vcpu_next vcpu_dispatch(struct kvmrun_vcpu *v,
                                    struct kvmrun_outcome *end)
{
    uint32_t reason = v->run->exit_reason;

    if (reason < sizeof(exit_handlers) / sizeof(*exit_handlers) &&
        exit_handlers[reason])
        return exit_handlers[reason](v, end);
    return vcpu_exit_unhandled(v, end);
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

void vcpu_failed(struct kvmrun_vcpu *v, int r, struct kvmrun_outcome *end)
{
    end->end = KVMRUN_END_VMM_ERROR;
    end->vcpu = (int)v->index;
    end->code = (uint64_t)-r;
    snprintf(end->message, sizeof(end->message), "vcpu%u: %s", v->index,
             kvmrun_last_error());
    end->detail[0] = 0;
}

enum vcpu_run vcpu_run(struct kvmrun_vcpu *v, struct kvmrun_outcome *end)
{
    memset(end, 0, sizeof(*end));
    end->vcpu = (int)v->index;
    for (;;) {
        int r = kvmrun_vcpu_run_once(v, NULL);

        if (r == -EINTR) {
            vcpu_count(&v->stats.eintr);
            return VCPU_KICKED;
        }
        if (r == -EAGAIN)
            continue; /* an AP left wait-for-SIPI: KVM wants KVM_RUN again */
        if (r < 0) {
            vcpu_failed(v, r, end);
            return VCPU_ENDED;
        }
        vcpu_count_exit(v, v->run->exit_reason);
        if (vcpu_dispatch(v, end) == VCPU_STOP)
            return VCPU_ENDED;
    }
}

static uint64_t vcpu_load(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void kvmrun_vcpu_get_stats(struct kvmrun_vcpu *v, struct kvmrun_vcpu_stats *out)
{
    const struct kvmrun_vcpu_stats *s = &v->stats;

    for (unsigned i = 0; i < KVMRUN_STATS_EXITS; i++)
        out->exits[i] = vcpu_load(&s->exits[i]);
    out->exits_other = vcpu_load(&s->exits_other);
    out->eintr = vcpu_load(&s->eintr);
    out->kicks_sent = vcpu_load(&v->kick_seq);
    out->kicks_acked = vcpu_load(&v->kick_ack);
    out->rekicks = vcpu_load(&s->rekicks);
    out->pauses = vcpu_load(&s->pauses);
    out->paused_ns = vcpu_load(&s->paused_ns);
}

const char *kvmrun_gpr_name(unsigned i)
{
    static const char *const names[KVMRUN_NGPRS] = {
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

    return i < KVMRUN_NGPRS ? names[i] : NULL;
}

int kvmrun_vcpu_get_regs(struct kvmrun_vcpu *v, struct kvmrun_regs *regs)
{
    int r = arch_vcpu_get_regs(v->fd, regs);

    return r < 0 ? err_prefix(r, "vcpu%u", v->index) : 0;
}

void kvmrun_vcpu_dump_regs(struct kvmrun_vcpu *v, char *buf, size_t len)
{
    arch_vcpu_dump(v->fd, buf, len);
}
