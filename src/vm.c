/* vm.c: creating and destroying a VM: its fd, memory, vCPUs and machine. */
#include "vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "confine.h"
#include "error.h"
#include "kstats.h"
#include "kvm.h"
#include "kvm_ioctl.h"
#include "log.h"
#include "machine.h"
#include "runstate.h"

void kvmrun_config_init(struct kvmrun_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kvm_device = KVMRUN_DEFAULT_DEVICE;
    cfg->mem_size = KVMRUN_DEFAULT_MEM;
    cfg->ncpus = 1;
    cfg->irqchip = 1;
    cfg->serial_fd = STDOUT_FILENO;
    cfg->console = KVMRUN_CONSOLE_SERIAL;
    cfg->console_fd = STDOUT_FILENO;
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

/* The KVM device, checked for what this configuration needs. */
static int vm_open_kvm(struct kvmrun_vm *vm)
{
    int r = kvm_open(vm->cfg.kvm_device, &vm->kvm_fd);

    if (r == 0 && ((r = kvm_check_caps(vm->kvm_fd, vm->cfg.kvm_device,
                                       vm->cfg.irqchip)) < 0 ||
                   (r = kvm_check_ncpus(vm->kvm_fd, vm->cfg.ncpus)) < 0))
        close(vm->kvm_fd);
    return r;
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

static void vm_destroy_vcpus(struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_destroy(&vm->vcpus[i]);
    free(vm->vcpus);
    vm->vcpus = NULL;
    vm->ncpus = 0;
}

static int vm_create_vcpus(struct kvmrun_vm *vm)
{
    int run_size = KVM_IOCTL(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    int r = 0;

    if (run_size < 0)
        return run_size;
    if (run_size < (int)sizeof(struct kvm_run))
        return err_set(EPROTO, "KVM_GET_VCPU_MMAP_SIZE: %d bytes", run_size);
    vm->vcpus = calloc(vm->cfg.ncpus, sizeof(*vm->vcpus));
    if (!vm->vcpus)
        return err_set(ENOMEM, "out of memory for %u vCPUs", vm->cfg.ncpus);
    for (vm->ncpus = 0; vm->ncpus < vm->cfg.ncpus; vm->ncpus++) {
        r = vcpu_create(vm, &vm->vcpus[vm->ncpus], vm->ncpus, (size_t)run_size);
        if (r < 0)
            break;
    }
    if (r < 0)
        vm_destroy_vcpus(vm);
    return r;
}

/* The parts that cannot fail, and the defaults of the configuration. */
static struct kvmrun_vm *vm_alloc(const struct kvmrun_config *cfg)
{
    struct kvmrun_vm *vm = calloc(1, sizeof(*vm));

    if (!vm)
        return NULL;
    vm->cfg = *cfg;
    if (!vm->cfg.kvm_device)
        vm->cfg.kvm_device = KVMRUN_DEFAULT_DEVICE;
    if (!vm->cfg.log)
        vm->cfg.log = log_stderr;
    if (!vm->cfg.rekick_ms)
        vm->cfg.rekick_ms = 10;
    log_guest_init(vm);
    return vm;
}

int kvmrun_vm_create(const struct kvmrun_config *cfg, struct kvmrun_vm **vmp)
{
    struct kvmrun_vm *vm;
    int r;

    *vmp = NULL;
    if ((r = vm_check_config(cfg)) < 0)
        return r;
    if (!(vm = vm_alloc(cfg)))
        return err_set(ENOMEM, "out of memory");
    if ((r = runstate_init(vm)) < 0)
        goto err_free;
    if ((r = vm_open_kvm(vm)) < 0)
        goto err_runstate;
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
    if ((r = machine_create(vm)) < 0)
        goto err_vcpus;
    vm->stats_fd = kstats_open(vm->vm_fd, vm->vm_fd);
    *vmp = vm;
    return 0;

err_vcpus:
    free(vm->cpuid);
    vm_destroy_vcpus(vm);
err_memory:
    mem_fini(&vm->mem);
err_close_vm:
    close(vm->vm_fd);
err_close_kvm:
    close(vm->kvm_fd);
err_runstate:
    runstate_fini(vm);
err_free:
    log_guest_fini(vm);
    free(vm);
    return r;
}

void kvmrun_vm_destroy(struct kvmrun_vm *vm)
{
    struct kvmrun_outcome ignored;

    if (!vm)
        return;
    if (vm->started && !vm->joined) {
        if (kvmrun_vm_stop(vm, 0, 5000) < 0)
            log_line(vm, KVMRUN_LOG_ERROR, "%s", kvmrun_last_error());
        kvmrun_vm_wait(vm, &ignored);
    }
    machine_destroy(vm);
    if (vm->stats_fd >= 0)
        close(vm->stats_fd);
    log_guest_fini(vm);
    free(vm->cpuid);
    vm_destroy_vcpus(vm);
    mem_fini(&vm->mem);
    close(vm->vm_fd);
    close(vm->kvm_fd);
    confine_free(vm);
    runstate_fini(vm);
    free(vm);
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

unsigned kvmrun_vm_ncpus(const struct kvmrun_vm *vm)
{
    return vm->ncpus;
}

uint64_t kvmrun_vm_mem_size(const struct kvmrun_vm *vm)
{
    return vm->mem.size;
}

void *kvmrun_vm_mem(struct kvmrun_vm *vm, uint64_t gpa, uint64_t len)
{
    return mem_ptr(&vm->mem, gpa, len);
}

int kvmrun_vm_event_fd(const struct kvmrun_vm *vm)
{
    return vm->event_fd;
}
