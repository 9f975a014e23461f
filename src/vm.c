/* vm.c: /dev/kvm, capabilities, the VM fd, memory, vCPUs and lifecycle. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "confine.h"
#include "error.h"
#include "kick.h"
#include "kstats.h"
#include "kvm_ioctl.h"

#define KVM_API_VERSION_NEEDED 12

struct vm_cap {
    int cap;
    const char *name;
    const char *since;
};

/* Capabilities every VM relies on. */
static const struct vm_cap vm_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "2.6.29"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "4.11"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "2.6.24"},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", "2.6.32"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "2.6.27"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "2.6.28"},
};

static const struct vm_cap vm_cap_irqchip[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "2.6.20"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2", "2.6.31"},
};

void kvmrun_config_init(struct kvmrun_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kvm_device = KVMRUN_DEFAULT_DEVICE;
    cfg->mem_size = KVMRUN_DEFAULT_MEM;
    cfg->ncpus = 1;
    cfg->irqchip = 1;
    cfg->serial_fd = STDOUT_FILENO;
}

static void vm_log_stderr(void *opaque, enum kvmrun_log_level level,
                          const char *line)
{
    char buf[1024];
    int n;

    (void)opaque;
    (void)level;
    n = snprintf(buf, sizeof(buf), "kvmrun: %s\n", line);
    if (n > (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 1;
    if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
        return; /* nowhere left to report to */
}

void vm_log(const struct kvmrun_vm *vm, enum kvmrun_log_level level,
            const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    vm->cfg.log(vm->cfg.log_opaque, level, line);
}

/* What to tell a user whose KVM device cannot be opened. */
static const char *vm_open_hint(int err)
{
    switch (err) {
    case ENOENT:
        return "KVM is not available: load the kvm-intel or kvm-amd module "
               "and enable virtualization (VT-x/AMD-V) in the firmware or "
               "hypervisor";
    case EACCES:
    case EPERM:
        return "add your user to the 'kvm' group or run as root";
    case ENXIO:
    case ENODEV:
        return "the kvm module is not loaded: modprobe kvm-intel or "
               "kvm-amd";
    default:
        return "is KVM working on this host?";
    }
}

static int vm_open_kvm(struct kvmrun_vm *vm)
{
    const char *path = vm->cfg.kvm_device;
    int version;

    vm->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        int err = errno;

        return err_set(err, "cannot open %s: %s: %s", path, strerror(err),
                       vm_open_hint(err));
    }
    /* Raw: its failure says the file is not KVM (kvm_device.sh). */
    version = KVM_IOCTL_RAW(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        int err = errno;

        close(vm->kvm_fd);
        return err_set(ENODEV,
                       "%s is not a KVM device "
                       "(KVM_GET_API_VERSION: %s)",
                       path, strerror(err));
    }
    if (version != KVM_API_VERSION_NEEDED) {
        close(vm->kvm_fd);
        return err_set(ENOTSUP,
                       "%s speaks KVM API version %d; kvmrun "
                       "needs version %d",
                       path, version, KVM_API_VERSION_NEEDED);
    }
    return 0;
}

static int vm_check_cap(const struct kvmrun_vm *vm, const struct vm_cap *c)
{
    if (kvm_cap(vm->kvm_fd, c->cap) > 0)
        return 0;
    return err_set(ENOTSUP,
                   "%s lacks %s: kvmrun needs a host kernel with "
                   "it (Linux %s or later)",
                   vm->cfg.kvm_device, c->name, c->since);
}

static int vm_check_caps(const struct kvmrun_vm *vm)
{
    int r;

    for (size_t i = 0; i < sizeof(vm_caps) / sizeof(*vm_caps); i++)
        if ((r = vm_check_cap(vm, &vm_caps[i])) < 0)
            return r;
    for (size_t i = 0; vm->cfg.irqchip && i < 2; i++)
        if ((r = vm_check_cap(vm, &vm_cap_irqchip[i])) < 0)
            return r;
    return 0;
}

static int vm_check_ncpus(const struct kvmrun_vm *vm)
{
    int max = kvm_cap(vm->kvm_fd, KVM_CAP_MAX_VCPUS);

    if (max <= 0)
        max = kvm_cap(vm->kvm_fd, KVM_CAP_NR_VCPUS);
    if (max <= 0)
        max = 4; /* what KVM_CAP_NR_VCPUS's absence means (api.rst) */
    if (vm->cfg.ncpus <= (unsigned)max)
        return 0;
    return err_set(EINVAL,
                   "%u vCPUs requested: this host's KVM allows at "
                   "most %d per VM (KVM_CAP_MAX_VCPUS)",
                   vm->cfg.ncpus, max);
}

static int vm_create_fd(struct kvmrun_vm *vm)
{
    vm->vm_fd = KVM_IOCTL(vm->kvm_fd, KVM_CREATE_VM, 0);
    return vm->vm_fd < 0 ? vm->vm_fd : 0;
}

static int vm_setup_memory(struct kvmrun_vm *vm)
{
    int r = mem_init(&vm->mem, vm->cfg.mem_size);

    if (r < 0)
        return r;
    for (unsigned i = 0; i < vm->mem.nslots; i++) {
        const struct mem_slot *s = &vm->mem.slot[i];
        struct kvm_userspace_memory_region region = {
            .slot = i,
            .guest_phys_addr = s->gpa,
            .memory_size = s->size,
            .userspace_addr = (uintptr_t)s->host,
        };

        if ((r = KVM_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) <
            0) {
            err_prefix(r, "memory slot %u (%" PRIu64 " MiB at %#" PRIx64 ")", i,
                       s->size >> 20, s->gpa);
            mem_fini(&vm->mem);
            return r;
        }
    }
    return 0;
}

/* Condition variables here time out on CLOCK_MONOTONIC. */
static void vm_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

uint64_t vm_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int vm_create_vcpu(struct kvmrun_vm *vm, struct kvmrun_vcpu *v,
                          unsigned index, size_t run_size)
{
    v->vm = vm;
    v->index = index;
    v->run_size = run_size;
    v->fd = KVM_IOCTL(vm->vm_fd, KVM_CREATE_VCPU, index);
    if (v->fd < 0)
        return err_prefix(v->fd, "vcpu%u", index);
    v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        int r = err_errno(errno, "mmap of vcpu%u's kvm_run", index);

        close(v->fd);
        return r;
    }
    v->stats_fd = kstats_open(vm->vm_fd, v->fd);
    pthread_mutex_init(&v->thread_lock, NULL);
    pthread_mutex_init(&v->ack_lock, NULL);
    vm_cond_init(&v->ack_cond);
    return 0;
}

static void vm_destroy_vcpu(struct kvmrun_vcpu *v)
{
    pthread_cond_destroy(&v->ack_cond);
    pthread_mutex_destroy(&v->ack_lock);
    pthread_mutex_destroy(&v->thread_lock);
    munmap(v->run, v->run_size);
    if (v->stats_fd >= 0)
        close(v->stats_fd);
    close(v->fd);
}

/* Every vCPU gets KVM's supported CPUID with its own APIC ID. */
static int vm_set_cpuid(struct kvmrun_vm *vm)
{
    int deadline = kvm_cap(vm->kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    int r = arch_cpuid_supported(vm->kvm_fd, &vm->cpuid);

    for (unsigned i = 0; r == 0 && i < vm->ncpus; i++)
        r = arch_vcpu_set_cpuid(vm->vcpus[i].fd, vm->cpuid, i, vm->ncpus,
                                deadline);
    return r;
}

static int vm_create_vcpus(struct kvmrun_vm *vm)
{
    int run_size = KVM_IOCTL(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    unsigned i;
    int r = 0;

    if (run_size < 0)
        return run_size;
    if (run_size < (int)sizeof(struct kvm_run))
        return err_set(EPROTO, "KVM_GET_VCPU_MMAP_SIZE: %d bytes", run_size);
    vm->vcpus = calloc(vm->cfg.ncpus, sizeof(*vm->vcpus));
    if (!vm->vcpus)
        return err_set(ENOMEM, "out of memory for %u vCPUs", vm->cfg.ncpus);
    for (i = 0; i < vm->cfg.ncpus; i++)
        if ((r = vm_create_vcpu(vm, &vm->vcpus[i], i, (size_t)run_size)) < 0)
            break;
    if (r == 0) {
        vm->ncpus = vm->cfg.ncpus;
        return 0;
    }
    while (i-- > 0)
        vm_destroy_vcpu(&vm->vcpus[i]);
    free(vm->vcpus);
    vm->vcpus = NULL;
    return r;
}

static void vm_destroy_vcpus(struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        vm_destroy_vcpu(&vm->vcpus[i]);
    free(vm->vcpus);
    vm->vcpus = NULL;
    vm->ncpus = 0;
}

/* Device callbacks: the only way devices reach the machine. */
static void vm_dev_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                       uint64_t code, const char *message)
{
    vm_end(machine, (int)vcpu, why, code, message, "");
}

/*
 * What a guest can make kvmrun say (device reports, unclaimed accesses,
 * interrupt line errors, dropped output) shares one budget per VM, as the
 * kernel's printk_ratelimit: at most VM_REPORT_BURST lines every
 * VM_REPORT_INTERVAL_MS, then one line counting those suppressed (when
 * the next interval starts, or when the VM is destroyed). A guest cannot
 * flood stderr.
 */
#define VM_REPORT_BURST 10
#define VM_REPORT_INTERVAL_MS 5000

static void vm_report_missed(struct kvmrun_vm *vm, uint64_t missed)
{
    vm_log(vm, KVMRUN_LOG_WARN,
           "%" PRIu64 " more report%s caused by the guest suppressed (at "
           "most %u every %u s)",
           missed, missed == 1 ? "" : "s", VM_REPORT_BURST,
           VM_REPORT_INTERVAL_MS / 1000);
}

static void vm_guest_report(struct kvmrun_vm *vm, const char *line)
{
    uint64_t missed;
    bool ok = ratelimit_allow(&vm->reports, vm_now_ns(), &missed);

    if (missed)
        vm_report_missed(vm, missed);
    if (ok)
        vm_log(vm, KVMRUN_LOG_WARN, "%s", line);
}

static void vm_dev_report(void *machine, const char *line)
{
    vm_guest_report(machine, line);
}

/* A device's interrupt line, into the in-kernel PIC and IOAPIC. */
static void vm_dev_irq(void *machine, unsigned line, int level)
{
    struct kvmrun_vm *vm = machine;
    struct kvm_irq_level irq = {.irq = line, .level = (uint32_t)level};
    char msg[64];

    /* Raw: reported as what the guest caused, keeping the caller's error. */
    if (vm->cfg.irqchip && KVM_IOCTL_RAW(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
        snprintf(msg, sizeof(msg), "KVM_IRQ_LINE %u: %s", line,
                 strerror(errno));
        vm_guest_report(vm, msg);
    }
}

static void vm_bus_report(void *machine, const char *line)
{
    vm_guest_report(machine, line);
}

/*
 * The UART's output buffer and its thread: the vCPU threads never write
 * to serial_fd themselves. The kick signal (its handler is a no-op
 * outside vCPU threads, without SA_RESTART) interrupts a write() that
 * blocks at teardown.
 */
static int vm_create_serial_out(struct kvmrun_vm *vm)
{
    const struct outbuf_client client = {serial_tx_room, &vm->serial,
                                         vm_dev_report, vm};
    int intr = kick_setup() == 0 ? kick_signal() : 0;

    return outbuf_init(&vm->serial_out, "serial", vm->cfg.serial_fd,
                       OUTBUF_SIZE, SERIAL_FIFO, intr, &client);
}

static int vm_start_serial_out(struct kvmrun_vm *vm)
{
    int r;

    if (vm->cfg.serial_fd < 0)
        return 0; /* discarded: nothing to write */
    r = vm_thread_create(&vm->serial_out.thread, outbuf_thread,
                         &vm->serial_out);
    if (r != 0)
        return err_set(r, "cannot start the serial output thread: %s",
                       strerror(r));
    vm->serial_out.thread_live = true;
    return 0;
}

/* Ends the output thread; what it still held is dropped, and said so
 * (not rate-limited: one line, at the end). */
static void vm_destroy_serial_out(struct kvmrun_vm *vm)
{
    uint64_t dropped = outbuf_fini(&vm->serial_out);

    if (dropped)
        vm_log(vm, KVMRUN_LOG_WARN,
               "serial: %" PRIu64 " byte%s of the guest's output dropped "
               "at exit: the reader %s",
               dropped, dropped == 1 ? "" : "s", outbuf_why(&vm->serial_out));
}

static void vm_destroy_devices(struct kvmrun_vm *vm)
{
    vm_destroy_serial_out(vm); /* its thread calls into the UART */
    i8042_fini(&vm->i8042);
    rtc_fini(&vm->rtc);
    acpi_sleep_fini(&vm->acpi_sleep);
    fw_cfg_fini(&vm->fw_cfg);
    poweroff_fini(&vm->poweroff);
    serial_fini(&vm->serial);
    bus_fini(&vm->mmio);
    bus_fini(&vm->pio);
}

static int vm_create_devices(struct kvmrun_vm *vm)
{
    const struct dev_env env = {.end = vm_dev_end,
                                .report = vm_dev_report,
                                .irq = vm_dev_irq,
                                .machine = vm};
    int r = 0;

    if ((r = vm_create_serial_out(vm)) < 0)
        return r;
    bus_init(&vm->pio, "port", vm_bus_report, vm);
    bus_init(&vm->mmio, "MMIO", vm_bus_report, vm);
    serial_init(&vm->serial, &vm->serial_out, KVMRUN_SERIAL_IRQ, &env);
    debug_exit_init(&vm->debug_exit, &env);
    poweroff_init(&vm->poweroff, &env);
    fw_cfg_init(&vm->fw_cfg, vm->cfg.mem_size, (uint16_t)vm->cfg.ncpus,
                (uint16_t)vm->cfg.ncpus);
    acpi_sleep_init(&vm->acpi_sleep, &env);
    rtc_init(&vm->rtc, &env);
    i8042_init(&vm->i8042, &env);
    const struct {
        uint64_t port, len;
        const char *name;
        bus_fn fn;
        void *dev;
    } pio[] = {
        {KVMRUN_SERIAL_PORT, SERIAL_NPORTS, "serial", serial_io, &vm->serial},
        {KVMRUN_DEBUG_EXIT_PORT, DEBUG_EXIT_NPORTS, "debug-exit", debug_exit_io,
         &vm->debug_exit},
        {KVMRUN_POWEROFF_PORT, POWEROFF_NPORTS, "poweroff", poweroff_io,
         &vm->poweroff},
        {FW_CFG_PORT, FW_CFG_NPORTS, "fw_cfg", fw_cfg_io, &vm->fw_cfg},
        {ACPI_SLEEP_PORT, ACPI_SLEEP_NPORTS, "acpi-sleep", acpi_sleep_io,
         &vm->acpi_sleep},
        {RTC_PORT, RTC_NPORTS, "rtc", rtc_io, &vm->rtc},
        {I8042_DATA_PORT, I8042_NPORTS, "i8042", i8042_data_io, &vm->i8042},
        {I8042_CMD_PORT, I8042_NPORTS, "i8042", i8042_cmd_io, &vm->i8042},
        {ABSENT_PCI_PORT, ABSENT_PCI_NPORTS, "no PCI", absent_io, NULL},
        {ABSENT_COM2_PORT, ABSENT_COM_NPORTS, "no COM2", absent_io, NULL},
        {ABSENT_COM3_PORT, ABSENT_COM_NPORTS, "no COM3", absent_io, NULL},
        {ABSENT_COM4_PORT, ABSENT_COM_NPORTS, "no COM4", absent_io, NULL},
    };

    for (size_t i = 0; i < sizeof(pio) / sizeof(pio[0]); i++) {
        r = bus_register(&vm->pio, pio[i].port, pio[i].len, pio[i].name,
                         pio[i].fn, pio[i].dev);
        if (r < 0)
            break;
    }
    if (r < 0 || (r = vm_start_serial_out(vm)) < 0) {
        vm_destroy_devices(vm);
        return r;
    }
    return 0;
}

static int vm_check_config(const struct kvmrun_config *cfg)
{
    if (cfg->ncpus == 0)
        return err_set(EINVAL, "the number of vCPUs must be at least 1");
    if (cfg->mem_size < (1ULL << 20))
        return err_set(EINVAL, "guest memory must be at least 1 MiB");
    if (cfg->mem_size > KVMRUN_MAX_MEM)
        return err_set(EINVAL,
                       "guest memory of %" PRIu64 " MiB is more than the "
                       "limit of %llu MiB (1 TiB; what a snapshot can hold)",
                       cfg->mem_size >> 20, KVMRUN_MAX_MEM >> 20);
    return 0;
}

int kvmrun_vm_create(const struct kvmrun_config *cfg, struct kvmrun_vm **vmp)
{
    struct kvmrun_vm *vm;
    int r;

    *vmp = NULL;
    if ((r = vm_check_config(cfg)) < 0)
        return r;
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        return err_set(ENOMEM, "out of memory");
    vm->cfg = *cfg;
    if (!vm->cfg.kvm_device)
        vm->cfg.kvm_device = KVMRUN_DEFAULT_DEVICE;
    if (!vm->cfg.log)
        vm->cfg.log = vm_log_stderr;
    pthread_mutex_init(&vm->lock, NULL);
    vm_cond_init(&vm->state_changed);
    vm_cond_init(&vm->resume);
    ratelimit_init(&vm->reports, VM_REPORT_INTERVAL_MS, VM_REPORT_BURST);
    if (!vm->cfg.rekick_ms)
        vm->cfg.rekick_ms = 10;

    if ((r = vm_open_kvm(vm)) < 0)
        goto err_free;
    if ((r = vm_check_caps(vm)) < 0 || (r = vm_check_ncpus(vm)) < 0)
        goto err_close_kvm;
    if ((r = vm_create_fd(vm)) < 0)
        goto err_close_kvm;
    if ((r = vm_setup_memory(vm)) < 0)
        goto err_close_vm;
    if ((r = arch_vm_init(vm->vm_fd, vm->cfg.irqchip)) < 0)
        goto err_memory;
    if ((r = vm_create_vcpus(vm)) < 0)
        goto err_memory;
    if ((r = vm_set_cpuid(vm)) < 0)
        goto err_vcpus;
    if ((r = vm_create_devices(vm)) < 0)
        goto err_vcpus;
    vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->event_fd < 0) {
        r = err_errno(errno, "eventfd");
        goto err_devices;
    }
    vm->stats_fd = kstats_open(vm->vm_fd, vm->vm_fd);
    *vmp = vm;
    return 0;

err_devices:
    vm_destroy_devices(vm);
err_vcpus:
    free(vm->cpuid);
    vm_destroy_vcpus(vm);
err_memory:
    mem_fini(&vm->mem);
err_close_vm:
    close(vm->vm_fd);
err_close_kvm:
    close(vm->kvm_fd);
err_free:
    ratelimit_fini(&vm->reports);
    pthread_cond_destroy(&vm->resume);
    pthread_cond_destroy(&vm->state_changed);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
    return r;
}

void vm_note_image(struct kvmrun_vm *vm, uint64_t start, uint64_t end,
                   const char *name)
{
    struct vm_image *im;

    if (vm->nimages == VM_MAX_IMAGES)
        return; /* only overlap checks lose: they see the first ones */
    im = &vm->images[vm->nimages++];
    im->start = start;
    im->end = end;
    snprintf(im->name, sizeof(im->name), "%s", name);
}

struct kvmrun_vcpu *kvmrun_vm_vcpu(struct kvmrun_vm *vm, unsigned index)
{
    return index < vm->ncpus ? &vm->vcpus[index] : NULL;
}

size_t kvmrun_serial_input(struct kvmrun_vm *vm, const void *buf, size_t len)
{
    return serial_receive(&vm->serial, buf, len);
}

int kvmrun_vm_event_fd(const struct kvmrun_vm *vm)
{
    return vm->event_fd;
}

void vm_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why, uint64_t code,
            const char *message, const char *detail)
{
    struct kvmrun_outcome *o = &vm->outcome;
    bool first;
    uint64_t one = 1;

    pthread_mutex_lock(&vm->lock);
    first = o->end == KVMRUN_END_NONE;
    if (first) {
        o->end = why;
        o->vcpu = vcpu;
        o->code = code;
        snprintf(o->message, sizeof(o->message), "%s", message);
        snprintf(o->detail, sizeof(o->detail), "%s", detail ? detail : "");
    }
    pthread_mutex_unlock(&vm->lock);
    if (!first)
        return;
    for (unsigned i = 0; i < vm->ncpus; i++)
        kick_request(&vm->vcpus[i], KICK_REQ_STOP);
    pthread_mutex_lock(&vm->lock);
    pthread_cond_broadcast(&vm->resume); /* paused vCPUs must stop too */
    pthread_mutex_unlock(&vm->lock);
    if (write(vm->event_fd, &one, sizeof(one)) < 0)
        return; /* the counter cannot overflow with one write */
}

void vm_vcpu_set_state(struct kvmrun_vcpu *v, enum vcpu_state state,
                       bool locked)
{
    if (!locked)
        pthread_mutex_lock(&v->vm->lock);
    __atomic_store_n(&v->state, state, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&v->vm->state_changed);
    if (!locked)
        pthread_mutex_unlock(&v->vm->lock);
    /* Kick waiters stop waiting for a vCPU that paused or exited. */
    pthread_mutex_lock(&v->ack_lock);
    pthread_cond_broadcast(&v->ack_cond);
    pthread_mutex_unlock(&v->ack_lock);
}

static bool vm_stop_pending(struct kvmrun_vcpu *v)
{
    return __atomic_load_n(&v->requests, __ATOMIC_SEQ_CST) & KICK_REQ_STOP;
}

void vm_vcpu_pause(struct kvmrun_vcpu *v)
{
    struct kvmrun_vm *vm = v->vm;
    uint64_t start = vm_now_ns();
    uint64_t *ns = &v->stats.paused_ns, *n = &v->stats.pauses;

    arch_vcpu_paused(v->fd);
    pthread_mutex_lock(&vm->lock);
    if (!vm->holds || vm_stop_pending(v)) {
        pthread_mutex_unlock(&vm->lock);
        return; /* released or stopped before we got here */
    }
    vm_vcpu_set_state(v, VCPU_PAUSED, true);
    kick_ack_all(v);
    /* Whoever holds it, the vCPU waits for the last hold to go. */
    while (vm->holds && !vm_stop_pending(v))
        pthread_cond_wait(&vm->resume, &vm->lock);
    vm_vcpu_set_state(v, VCPU_RUNNING, true);
    pthread_mutex_unlock(&vm->lock);
    __atomic_store_n(ns, *ns + (vm_now_ns() - start), __ATOMIC_RELAXED);
    __atomic_store_n(n, *n + 1, __ATOMIC_RELAXED);
}

/*
 * Under vm->lock. The pause requests are published under the lock too: a
 * vCPU that looks at the holds after this (vm_vcpu_pause) finds hold set;
 * one that looked before left the wait in the same critical section in
 * which it became RUNNING, so it is seen RUNNING here and gets a request.
 * A vCPU already PAUSED stays so: the holds are not empty.
 */
static void vm_hold_locked(struct kvmrun_vm *vm, unsigned hold)
{
    vm->holds |= hold;
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].state == VCPU_RUNNING)
            kick_request(&vm->vcpus[i], KICK_REQ_PAUSE);
    pthread_cond_broadcast(&vm->state_changed); /* wakes superseded waiters */
}

static void vm_release_locked(struct kvmrun_vm *vm, unsigned hold)
{
    vm->holds &= ~hold;
    if (!vm->holds)
        pthread_cond_broadcast(&vm->resume);
    pthread_cond_broadcast(&vm->state_changed);
}

void vm_hold(struct kvmrun_vm *vm, unsigned hold)
{
    pthread_mutex_lock(&vm->lock);
    vm_hold_locked(vm, hold);
    pthread_mutex_unlock(&vm->lock);
}

void vm_release(struct kvmrun_vm *vm, unsigned hold)
{
    pthread_mutex_lock(&vm->lock);
    vm_release_locked(vm, hold);
    pthread_mutex_unlock(&vm->lock);
}

int vm_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all, saved;
    pthread_attr_t attr;
    int r = pthread_attr_init(&attr);

    if (r != 0)
        return r;
    /* The thread inherits this mask: everything blocked but SIGSYS (a
     * seccomp trap must reach its handler). */
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    r = pthread_attr_setstacksize(&attr, VM_THREAD_STACK);
    if (r == 0)
        r = pthread_create(thread, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    return r;
}

int kvmrun_vm_start(struct kvmrun_vm *vm)
{
    unsigned i;
    int r;

    if (vm->started)
        return err_set(EBUSY, "the VM was already started");
    if ((r = kick_setup()) < 0)
        return r;
    /* vm_thread_create starts each with every signal blocked (SIGSYS
     * aside); each vCPU thread then opens only its kick signal. */
    vm->started = true;
    vm->start_ns = vm_now_ns();
    serial_start(&vm->serial); /* after a restore: an interrupt it owes */
    for (i = 0; i < vm->ncpus; i++) {
        struct kvmrun_vcpu *v = &vm->vcpus[i];

        vm_vcpu_set_state(v, VCPU_RUNNING, false);
        pthread_mutex_lock(&v->thread_lock);
        r = vm_thread_create(&v->thread, vcpu_thread, v);
        v->thread_live = r == 0;
        pthread_mutex_unlock(&v->thread_lock);
        if (r != 0) {
            vm_vcpu_set_state(v, VCPU_EXITED, false);
            break;
        }
    }
    for (; i < vm->ncpus; i++)
        vm_vcpu_set_state(&vm->vcpus[i], VCPU_EXITED, false);
    if (r != 0) {
        char msg[128];

        snprintf(msg, sizeof(msg), "cannot start a vCPU thread: %s",
                 strerror(r));
        vm_end(vm, -1, KVMRUN_END_VMM_ERROR, (uint64_t)r, msg, "");
        return err_set(r, "%s", msg);
    }
    return 0;
}

void vm_deadline(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

#define VM_STATE_BIT(s) (1u << (s))

/* The first vCPU whose state is in the mask, or -1. Under vm->lock. */
static int vm_first_in(const struct kvmrun_vm *vm, unsigned states)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (states & VM_STATE_BIT(vm->vcpus[i].state))
            return (int)i;
    return -1;
}

/* Kicks again every vCPU still RUNNING (its request may not have been
 * acted on yet). Under vm->lock. */
static void vm_rekick_running(struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].state == VCPU_RUNNING)
            kick_again(&vm->vcpus[i]);
}

/*
 * Waits until no vCPU is in one of the states of the mask, re-kicking
 * those in RUNNING every rekick_ms if RUNNING is in it. Returns a
 * laggard's index at the deadline, or -1.
 */
static int vm_wait_leave(struct kvmrun_vm *vm, unsigned states,
                         unsigned timeout_ms)
{
    uint64_t deadline = vm_now_ns() + timeout_ms * 1000000ULL;
    struct timespec tick;
    int laggard;

    pthread_mutex_lock(&vm->lock);
    while ((laggard = vm_first_in(vm, states)) >= 0 && vm_now_ns() < deadline) {
        vm_deadline(&tick, vm->cfg.rekick_ms);
        if (pthread_cond_timedwait(&vm->state_changed, &vm->lock, &tick) ==
                ETIMEDOUT &&
            (states & VM_STATE_BIT(VCPU_RUNNING)))
            vm_rekick_running(vm);
    }
    pthread_mutex_unlock(&vm->lock);
    return laggard;
}

/* Under vm->lock: is the target of vm_wait_target() still in force? */
static bool vm_target_wanted(const struct kvmrun_vm *vm, unsigned hold)
{
    return hold ? (vm->holds & hold) != 0 : vm->holds == 0;
}

enum vm_wait vm_wait_target(struct kvmrun_vm *vm, unsigned hold,
                            unsigned timeout_ms, int *laggard, unsigned *holds)
{
    uint64_t deadline = vm_now_ns() + timeout_ms * 1000000ULL;
    unsigned away = VM_STATE_BIT(hold ? VCPU_RUNNING : VCPU_PAUSED);
    struct timespec tick;
    enum vm_wait r;

    pthread_mutex_lock(&vm->lock);
    for (;;) {
        /* Superseded first: "reached" is then only ever said of a target
         * still wanted when the vCPUs were seen there. */
        if (!vm_target_wanted(vm, hold)) {
            r = VM_SUPERSEDED;
            break;
        }
        if ((*laggard = vm_first_in(vm, away)) < 0) {
            r = VM_REACHED;
            break;
        }
        if (vm_now_ns() >= deadline) {
            r = VM_TIMED_OUT;
            break;
        }
        vm_deadline(&tick, vm->cfg.rekick_ms);
        if (pthread_cond_timedwait(&vm->state_changed, &vm->lock, &tick) ==
                ETIMEDOUT &&
            hold)
            vm_rekick_running(vm);
    }
    if (holds)
        *holds = vm->holds;
    pthread_mutex_unlock(&vm->lock);
    return r;
}

int kvmrun_vm_stop(struct kvmrun_vm *vm, uint64_t code, unsigned timeout_ms)
{
    int laggard;

    vm_end(vm, -1, KVMRUN_END_STOPPED, code, "stopped by the host", "");
    laggard = vm_wait_leave(
        vm, VM_STATE_BIT(VCPU_RUNNING) | VM_STATE_BIT(VCPU_PAUSED), timeout_ms);
    if (laggard >= 0)
        return err_set(ETIMEDOUT,
                       "stop: vcpu%d did not leave KVM_RUN "
                       "within %u ms",
                       laggard, timeout_ms);
    return 0;
}

/* Under vm->lock: sets or clears the user's hold for op; its target. */
static bool vm_user_request(struct kvmrun_vm *vm, enum kvmrun_pause_op op)
{
    bool pause = op == KVMRUN_PAUSE ||
                 (op == KVMRUN_PAUSE_TOGGLE && !(vm->holds & KVMRUN_HOLD_USER));

    if (pause)
        vm_hold_locked(vm, KVMRUN_HOLD_USER);
    else
        vm_release_locked(vm, KVMRUN_HOLD_USER);
    return pause;
}

int kvmrun_vm_set_pause(struct kvmrun_vm *vm, enum kvmrun_pause_op op,
                        unsigned timeout_ms, struct kvmrun_pause_result *result)
{
    struct kvmrun_pause_result res = {0, 0, 0};
    const char *name = op == KVMRUN_RESUME ? "resume" : "pause";
    enum vm_wait w;
    int laggard = -1;

    if (op != KVMRUN_PAUSE && op != KVMRUN_RESUME && op != KVMRUN_PAUSE_TOGGLE)
        return err_set(EINVAL, "pause: unknown request %d", (int)op);
    /* Checked and set in one critical section: the last request to take
     * the lock sets the target, whatever thread it comes from. */
    pthread_mutex_lock(&vm->lock);
    if (!vm->started || vm->outcome.end != KVMRUN_END_NONE) {
        pthread_mutex_unlock(&vm->lock);
        return err_set(EINVAL, "%s: the VM is not running", name);
    }
    res.paused = vm_user_request(vm, op);
    pthread_mutex_unlock(&vm->lock);
    name = res.paused ? "pause" : "resume";
    w = vm_wait_target(vm, res.paused ? KVMRUN_HOLD_USER : 0, timeout_ms,
                       &laggard, &res.holds);
    res.reached = w == VM_REACHED;
    if (result)
        *result = res;
    if (w == VM_TIMED_OUT)
        return err_set(ETIMEDOUT,
                       "%s: vcpu%d did not %s within %u ms (busy outside "
                       "KVM_RUN?); the %s stays requested and takes effect "
                       "when it can",
                       name, laggard, name, timeout_ms, name);
    return 0;
}

int kvmrun_vm_pause(struct kvmrun_vm *vm, unsigned timeout_ms)
{
    return kvmrun_vm_set_pause(vm, KVMRUN_PAUSE, timeout_ms, NULL);
}

int kvmrun_vm_resume(struct kvmrun_vm *vm, unsigned timeout_ms)
{
    return kvmrun_vm_set_pause(vm, KVMRUN_RESUME, timeout_ms, NULL);
}

unsigned kvmrun_vm_holds(struct kvmrun_vm *vm)
{
    unsigned holds;

    pthread_mutex_lock(&vm->lock);
    holds = vm->holds;
    pthread_mutex_unlock(&vm->lock);
    return holds;
}

int kvmrun_vm_paused(struct kvmrun_vm *vm)
{
    return kvmrun_vm_holds(vm) != 0;
}

const char *kvmrun_hold_name(unsigned hold)
{
    switch (hold) {
    case KVMRUN_HOLD_USER:
        return "user";
    case KVMRUN_HOLD_SNAPSHOT:
        return "snapshot";
    default:
        return "?";
    }
}

int kvmrun_vcpu_kick(struct kvmrun_vcpu *v, unsigned timeout_ms)
{
    uint64_t seq;

    if (!v->vm->started ||
        __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_EXITED)
        return err_set(EINVAL, "kick: vcpu%u is not running", v->index);
    seq = kick_request(v, 0);
    if (kick_wait(v, seq, timeout_ms, v->vm->cfg.rekick_ms) < 0)
        return err_set(ETIMEDOUT,
                       "kick: vcpu%u did not acknowledge within "
                       "%u ms",
                       v->index, timeout_ms);
    return 0;
}

unsigned kvmrun_vm_ncpus(const struct kvmrun_vm *vm)
{
    return vm->ncpus;
}

void *kvmrun_vm_mem(struct kvmrun_vm *vm, uint64_t gpa, uint64_t len)
{
    return mem_ptr(&vm->mem, gpa, len);
}

static uint64_t vm_load(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void kvmrun_vcpu_get_stats(struct kvmrun_vcpu *v, struct kvmrun_vcpu_stats *out)
{
    const struct kvmrun_vcpu_stats *s = &v->stats;

    for (unsigned i = 0; i < KVMRUN_STATS_EXITS; i++)
        out->exits[i] = vm_load(&s->exits[i]);
    out->exits_other = vm_load(&s->exits_other);
    out->eintr = vm_load(&s->eintr);
    out->kicks_sent = vm_load(&v->kick_seq);
    out->kicks_acked = vm_load(&v->kick_ack);
    out->rekicks = vm_load(&s->rekicks);
    out->pauses = vm_load(&s->pauses);
    out->paused_ns = vm_load(&s->paused_ns);
}

void kvmrun_vcpu_dump_regs(struct kvmrun_vcpu *v, char *buf, size_t len)
{
    arch_vcpu_dump(v->fd, buf, len);
}

const char *kvmrun_vcpu_state(struct kvmrun_vcpu *v)
{
    static const char *const names[] = {"created", "running", "paused",
                                        "exited"};

    return names[__atomic_load_n(&v->state, __ATOMIC_ACQUIRE)];
}

int kvmrun_vm_wait(struct kvmrun_vm *vm, struct kvmrun_outcome *out)
{
    if (!vm->started)
        return err_set(EINVAL, "the VM was never started");
    if (!vm->joined) {
        pthread_mutex_lock(&vm->lock);
        while (vm_first_in(vm, VM_STATE_BIT(VCPU_RUNNING) |
                                   VM_STATE_BIT(VCPU_PAUSED)) >= 0)
            pthread_cond_wait(&vm->state_changed, &vm->lock);
        pthread_mutex_unlock(&vm->lock);
        for (unsigned i = 0; i < vm->ncpus; i++) {
            struct kvmrun_vcpu *v = &vm->vcpus[i];
            bool live;

            pthread_mutex_lock(&v->thread_lock);
            live = v->thread_live;
            v->thread_live = false;
            pthread_mutex_unlock(&v->thread_lock);
            if (live)
                pthread_join(v->thread, NULL);
        }
        vm->joined = true;
    }
    pthread_mutex_lock(&vm->lock);
    *out = vm->outcome;
    pthread_mutex_unlock(&vm->lock);
    return 0;
}

int kvmrun_vm_flush_output(struct kvmrun_vm *vm)
{
    uint64_t held;

    if (outbuf_flush(&vm->serial_out, OUTBUF_FLUSH_STALL_MS,
                     OUTBUF_FLUSH_MAX_MS, &held) == 0)
        return 0;
    return err_set(ETIMEDOUT,
                   "serial: %" PRIu64 " byte%s of the guest's output not "
                   "written: the reader %s",
                   held, held == 1 ? "" : "s", outbuf_why(&vm->serial_out));
}

void kvmrun_vm_destroy(struct kvmrun_vm *vm)
{
    struct kvmrun_outcome ignored;
    uint64_t missed;

    if (!vm)
        return;
    if (vm->started && !vm->joined) {
        if (kvmrun_vm_stop(vm, 0, 5000) < 0)
            vm_log(vm, KVMRUN_LOG_ERROR, "%s", kvmrun_last_error());
        kvmrun_vm_wait(vm, &ignored);
    }
    /* Bounded; what is left is dropped. Not again if a flush (the CLI's,
     * before its last words) gave up and the reader took nothing since. */
    if (!outbuf_stalled(&vm->serial_out))
        kvmrun_vm_flush_output(vm);
    close(vm->event_fd);
    if (vm->stats_fd >= 0)
        close(vm->stats_fd);
    vm_destroy_devices(vm);
    if ((missed = ratelimit_take_missed(&vm->reports)) > 0)
        vm_report_missed(vm, missed);
    ratelimit_fini(&vm->reports);
    free(vm->cpuid);
    vm_destroy_vcpus(vm);
    mem_fini(&vm->mem);
    close(vm->vm_fd);
    close(vm->kvm_fd);
    confine_free(vm);
    pthread_cond_destroy(&vm->resume);
    pthread_cond_destroy(&vm->state_changed);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}

int kvmrun_vm_describe_serial(struct kvmrun_vm *vm, char *buf, size_t len)
{
    return serial_describe(&vm->serial, buf, len);
}
