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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "kick.h"

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
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR",
     "2.6.32"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "2.6.27"},
};

static const struct vm_cap vm_cap_irqchip = {KVM_CAP_IRQCHIP,
                                             "KVM_CAP_IRQCHIP", "2.6.20"};

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
    version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        int err = errno;

        close(vm->kvm_fd);
        return err_set(ENODEV, "%s is not a KVM device "
                       "(KVM_GET_API_VERSION: %s)", path, strerror(err));
    }
    if (version != KVM_API_VERSION_NEEDED) {
        close(vm->kvm_fd);
        return err_set(ENOTSUP, "%s speaks KVM API version %d; kvmrun "
                       "needs version %d", path, version,
                       KVM_API_VERSION_NEEDED);
    }
    return 0;
}

static int vm_check_cap(const struct kvmrun_vm *vm, const struct vm_cap *c)
{
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, c->cap) > 0)
        return 0;
    return err_set(ENOTSUP, "%s lacks %s: kvmrun needs a host kernel with "
                   "it (Linux %s or later)", vm->cfg.kvm_device, c->name,
                   c->since);
}

static int vm_check_caps(const struct kvmrun_vm *vm)
{
    int r;

    for (size_t i = 0; i < sizeof(vm_caps) / sizeof(*vm_caps); i++)
        if ((r = vm_check_cap(vm, &vm_caps[i])) < 0)
            return r;
    if (vm->cfg.irqchip)
        return vm_check_cap(vm, &vm_cap_irqchip);
    return 0;
}

static int vm_create_fd(struct kvmrun_vm *vm)
{
    do
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    while (vm->vm_fd < 0 && errno == EINTR);
    if (vm->vm_fd < 0)
        return err_errno(errno, "KVM_CREATE_VM");
    return 0;
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

        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
            r = err_errno(errno, "KVM_SET_USER_MEMORY_REGION (slot %u, "
                          "%" PRIu64 " MiB at %#" PRIx64 ")", i,
                          s->size >> 20, s->gpa);
            mem_fini(&vm->mem);
            return r;
        }
    }
    return 0;
}

static int vm_create_vcpu(struct kvmrun_vm *vm, struct kvmrun_vcpu *v,
                          unsigned index, size_t run_size)
{
    v->vm = vm;
    v->index = index;
    v->run_size = run_size;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0)
        return err_errno(errno, "KVM_CREATE_VCPU %u", index);
    v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
                  0);
    if (v->run == MAP_FAILED) {
        int r = err_errno(errno, "mmap of vcpu%u's kvm_run", index);

        close(v->fd);
        return r;
    }
    pthread_mutex_init(&v->thread_lock, NULL);
    return 0;
}

static void vm_destroy_vcpu(struct kvmrun_vcpu *v)
{
    pthread_mutex_destroy(&v->thread_lock);
    munmap(v->run, v->run_size);
    close(v->fd);
}

static int vm_create_vcpus(struct kvmrun_vm *vm)
{
    int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    unsigned i;
    int r = 0;

    if (run_size < (int)sizeof(struct kvm_run))
        return err_errno(errno, "KVM_GET_VCPU_MMAP_SIZE");
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

static void vm_dev_report(void *machine, const char *line)
{
    vm_log(machine, KVMRUN_LOG_WARN, "%s", line);
}

static void vm_bus_report(void *machine, const char *line)
{
    vm_log(machine, KVMRUN_LOG_WARN, "%s", line);
}

static int vm_create_devices(struct kvmrun_vm *vm)
{
    const struct dev_env env = {vm_dev_end, vm_dev_report, vm};
    int r;

    bus_init(&vm->pio, "port", vm_bus_report, vm);
    bus_init(&vm->mmio, "MMIO", vm_bus_report, vm);
    serial_init(&vm->serial, vm->cfg.serial_fd, &env);
    debug_exit_init(&vm->debug_exit, &env);
    poweroff_init(&vm->poweroff, &env);
    if ((r = bus_register(&vm->pio, KVMRUN_SERIAL_PORT, SERIAL_NPORTS,
                          "serial", serial_io, &vm->serial)) < 0 ||
        (r = bus_register(&vm->pio, KVMRUN_DEBUG_EXIT_PORT,
                          DEBUG_EXIT_NPORTS, "debug-exit", debug_exit_io,
                          &vm->debug_exit)) < 0 ||
        (r = bus_register(&vm->pio, KVMRUN_POWEROFF_PORT, POWEROFF_NPORTS,
                          "poweroff", poweroff_io, &vm->poweroff)) < 0) {
        poweroff_fini(&vm->poweroff);
        serial_fini(&vm->serial);
        bus_fini(&vm->mmio);
        bus_fini(&vm->pio);
        return r;
    }
    return 0;
}

static void vm_destroy_devices(struct kvmrun_vm *vm)
{
    poweroff_fini(&vm->poweroff);
    serial_fini(&vm->serial);
    bus_fini(&vm->mmio);
    bus_fini(&vm->pio);
}

static int vm_check_config(const struct kvmrun_config *cfg)
{
    if (cfg->ncpus == 0)
        return err_set(EINVAL, "the number of vCPUs must be at least 1");
    if (cfg->mem_size < (1ULL << 20))
        return err_set(EINVAL, "guest memory must be at least 1 MiB");
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
    pthread_condattr_t cattr;

    pthread_mutex_init(&vm->lock, NULL);
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->vcpu_exited, &cattr);
    pthread_condattr_destroy(&cattr);

    if ((r = vm_open_kvm(vm)) < 0)
        goto err_free;
    if ((r = vm_check_caps(vm)) < 0)
        goto err_close_kvm;
    if ((r = vm_create_fd(vm)) < 0)
        goto err_close_kvm;
    if ((r = vm_setup_memory(vm)) < 0)
        goto err_close_vm;
    if ((r = arch_vm_init(vm->vm_fd, vm->cfg.irqchip)) < 0)
        goto err_memory;
    if ((r = vm_create_vcpus(vm)) < 0)
        goto err_memory;
    if ((r = vm_create_devices(vm)) < 0)
        goto err_vcpus;
    vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->event_fd < 0) {
        r = err_errno(errno, "eventfd");
        goto err_devices;
    }
    *vmp = vm;
    return 0;

err_devices:
    vm_destroy_devices(vm);
err_vcpus:
    vm_destroy_vcpus(vm);
err_memory:
    mem_fini(&vm->mem);
err_close_vm:
    close(vm->vm_fd);
err_close_kvm:
    close(vm->kvm_fd);
err_free:
    pthread_cond_destroy(&vm->vcpu_exited);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
    return r;
}

struct kvmrun_vcpu *kvmrun_vm_vcpu(struct kvmrun_vm *vm, unsigned index)
{
    return index < vm->ncpus ? &vm->vcpus[index] : NULL;
}

int kvmrun_vm_event_fd(const struct kvmrun_vm *vm)
{
    return vm->event_fd;
}

void vm_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why,
            uint64_t code, const char *message, const char *detail)
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
    if (write(vm->event_fd, &one, sizeof(one)) < 0)
        return; /* the counter cannot overflow with one write */
}

void vm_vcpu_exited(struct kvmrun_vcpu *v)
{
    pthread_mutex_lock(&v->vm->lock);
    v->state = VCPU_EXITED;
    pthread_cond_broadcast(&v->vm->vcpu_exited);
    pthread_mutex_unlock(&v->vm->lock);
}

int kvmrun_vm_start(struct kvmrun_vm *vm)
{
    sigset_t all, saved;
    unsigned i;
    int r;

    if (vm->started)
        return err_set(EBUSY, "the VM was already started");
    if ((r = kick_setup()) < 0)
        return r;
    /* New threads start with every signal blocked; each vCPU thread then
     * opens only its kick signal. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    vm->started = true;
    for (i = 0; i < vm->ncpus; i++) {
        struct kvmrun_vcpu *v = &vm->vcpus[i];
        char name[16];

        v->state = VCPU_RUNNING;
        pthread_mutex_lock(&v->thread_lock);
        r = pthread_create(&v->thread, NULL, vcpu_thread, v);
        v->thread_live = r == 0;
        pthread_mutex_unlock(&v->thread_lock);
        if (r != 0) {
            v->state = VCPU_EXITED;
            break;
        }
        snprintf(name, sizeof(name), "vcpu%u", i);
        pthread_setname_np(v->thread, name);
    }
    for (; i < vm->ncpus; i++)
        vm->vcpus[i].state = VCPU_EXITED;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (r != 0) {
        char msg[128];

        snprintf(msg, sizeof(msg), "cannot start a vCPU thread: %s",
                 strerror(r));
        vm_end(vm, -1, KVMRUN_END_VMM_ERROR, (uint64_t)r, msg, "");
        return err_set(r, "%s", msg);
    }
    return 0;
}

static void vm_deadline(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool vm_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The first vCPU still running, or -1. Under vm->lock. */
static int vm_first_running(const struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].state == VCPU_RUNNING)
            return (int)i;
    return -1;
}

/* Waits until every vCPU thread left its loop, re-kicking the laggards
 * every 10 ms. Returns the index of one still running at the deadline,
 * or -1 when all acknowledged. */
static int vm_wait_acks(struct kvmrun_vm *vm, unsigned timeout_ms)
{
    struct timespec deadline, now, tick;
    int running;

    vm_deadline(&deadline, timeout_ms);
    pthread_mutex_lock(&vm->lock);
    while ((running = vm_first_running(vm)) >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!vm_before(&now, &deadline))
            break;
        vm_deadline(&tick, 10);
        pthread_cond_timedwait(&vm->vcpu_exited, &vm->lock, &tick);
        for (unsigned i = 0; i < vm->ncpus; i++)
            if (vm->vcpus[i].state == VCPU_RUNNING)
                kick_vcpu(&vm->vcpus[i]);
    }
    pthread_mutex_unlock(&vm->lock);
    return running;
}

int kvmrun_vm_stop(struct kvmrun_vm *vm, uint64_t code, unsigned timeout_ms)
{
    int laggard;

    vm_end(vm, -1, KVMRUN_END_STOPPED, code, "stopped by the host", "");
    laggard = vm_wait_acks(vm, timeout_ms);
    if (laggard >= 0)
        return err_set(ETIMEDOUT, "stop: vcpu%d did not leave KVM_RUN "
                       "within %u ms", laggard, timeout_ms);
    return 0;
}

int kvmrun_vm_wait(struct kvmrun_vm *vm, struct kvmrun_outcome *out)
{
    if (!vm->started)
        return err_set(EINVAL, "the VM was never started");
    if (!vm->joined) {
        pthread_mutex_lock(&vm->lock);
        while (vm_first_running(vm) >= 0)
            pthread_cond_wait(&vm->vcpu_exited, &vm->lock);
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

void kvmrun_vm_destroy(struct kvmrun_vm *vm)
{
    struct kvmrun_outcome ignored;

    if (!vm)
        return;
    if (vm->started && !vm->joined) {
        if (kvmrun_vm_stop(vm, 0, 5000) < 0)
            vm_log(vm, KVMRUN_LOG_ERROR, "%s", kvmrun_last_error());
        kvmrun_vm_wait(vm, &ignored);
    }
    close(vm->event_fd);
    vm_destroy_devices(vm);
    vm_destroy_vcpus(vm);
    mem_fini(&vm->mem);
    close(vm->vm_fd);
    close(vm->kvm_fd);
    pthread_cond_destroy(&vm->vcpu_exited);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}
