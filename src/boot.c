/* boot.c: how the vCPUs start: CPU mode, entry, registers, who runs. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "error.h"
#include "kvm_ioctl.h"
#include "vm.h"

static const char *const mode_names[] = {"real", "protected", "long"};

const char *kvmrun_mode_name(enum kvmrun_mode mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "?";
}

int kvmrun_parse_mode(const char *text, enum kvmrun_mode *mode)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(text, mode_names[i]) == 0) {
            *mode = (enum kvmrun_mode)i;
            return 0;
        }
    return err_set(EINVAL, "'%s' is not a CPU mode (real, protected or long)",
                   text);
}

/* Refuses images loaded where protected/long mode puts the VMM's tables. */
static int boot_check_vmm_area(const struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->nimages; i++) {
        const struct vm_image *im = &vm->images[i];

        if (im->start < ARCH_VMM_AREA_END && ARCH_VMM_AREA_START < im->end)
            return err_set(ERANGE,
                           "%s: 0x%" PRIx64 "-0x%" PRIx64 " overlaps "
                           "the VMM's GDT, TSS and page tables at 0x%llx-"
                           "0x%llx (protected and long mode)",
                           im->name, im->start, im->end, ARCH_VMM_AREA_START,
                           ARCH_VMM_AREA_END);
    }
    return 0;
}

static int boot_write_tables(struct kvmrun_vm *vm, enum kvmrun_mode mode)
{
    int r = boot_check_vmm_area(vm);

    if (r == 0)
        r = arch_write_gdt(&vm->mem);
    if (r == 0 && mode == KVMRUN_MODE_LONG)
        r = arch_write_page_tables(&vm->mem, arch_cpuid_gib_pages(vm->cpuid));
    return r;
}

static int boot_vcpu(struct kvmrun_vm *vm, const struct kvmrun_boot *b,
                     unsigned i)
{
    struct arch_boot_regs regs = {b->entry, b->sp, 0, 0, 0, 0};
    int fd = vm->vcpus[i].fd;

    if (b->all_vcpus) {
        regs.rdi = i;
        regs.rsi = vm->ncpus;
    } else {
        regs.rax = b->rax;
        regs.rbx = b->rbx;
        regs.rsi = b->rsi ? b->rsi : vm->ncpus; /* else: the vCPU count */
    }
    if (b->mode == KVMRUN_MODE_REAL)
        return arch_vcpu_real_mode(fd, b->entry, b->sp, regs.rdi, regs.rsi);
    return arch_vcpu_flat_mode(fd, b->mode == KVMRUN_MODE_LONG, &regs);
}

/* Raw images: every vCPU starts at the entry; an AP that would wait for
 * INIT/SIPI under the in-kernel LAPIC is made runnable. */
static int boot_make_runnable(struct kvmrun_vm *vm, unsigned i)
{
    struct kvm_mp_state mp = {KVM_MP_STATE_RUNNABLE};
    int r;

    if (i == 0 || !vm->cfg.irqchip)
        return 0;
    r = KVM_VCPU_IOCTL(vm->vcpus[i].fd, i, KVM_SET_MP_STATE, &mp);
    return r < 0 ? r : 0;
}

static int boot_check(const struct kvmrun_vm *vm, const struct kvmrun_boot *b)
{
    if ((unsigned)b->mode > KVMRUN_MODE_LONG)
        return err_set(EINVAL, "unknown CPU mode %d", (int)b->mode);
    if (!mem_ptr(&vm->mem, b->entry, 1))
        return err_set(ERANGE,
                       "entry point 0x%" PRIx64 " is outside guest "
                       "memory (%" PRIu64 " MiB)",
                       b->entry, vm->mem.size >> 20);
    if (b->mode == KVMRUN_MODE_PROTECTED && b->entry > UINT32_MAX)
        return err_set(EINVAL,
                       "protected-mode entry 0x%" PRIx64 " is not "
                       "below 4 GiB",
                       b->entry);
    if (!b->all_vcpus && vm->ncpus > 1 && !vm->cfg.irqchip)
        return err_set(EINVAL,
                       "%u vCPUs without the in-kernel irqchip: the "
                       "guest could not wake its APs (INIT/SIPI)",
                       vm->ncpus);
    return 0;
}

int kvmrun_boot(struct kvmrun_vm *vm, const struct kvmrun_boot *b)
{
    int r = boot_check(vm, b);

    if (r == 0 && b->mode != KVMRUN_MODE_REAL)
        r = boot_write_tables(vm, b->mode);
    for (unsigned i = 0; r == 0 && i < vm->ncpus; i++) {
        if (!b->all_vcpus && i > 0)
            break; /* APs keep KVM's wait-for-SIPI state */
        r = boot_vcpu(vm, b, i);
        if (r == 0 && b->all_vcpus)
            r = boot_make_runnable(vm, i);
    }
    if (r == 0)
        vm->booted = true;
    return r;
}

int kvmrun_boot_real(struct kvmrun_vm *vm, uint64_t entry, uint64_t sp)
{
    struct kvmrun_boot b = {KVMRUN_MODE_REAL, entry, sp, 1, 0, 0, 0};

    return kvmrun_boot(vm, &b);
}
