/* rawvm.c: a VM on bare KVM ioctls, set up as kvmrun sets up its own. */
#include "rawvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* The addresses kvmrun gives KVM (src/arch/x86/arch.h): same VM setup. */
#define RAWVM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define RAWVM_TSS_ADDR 0xfeffd000ULL

static int rawvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
    int r = ioctl(fd, req, arg);

    if (r < 0)
        bench_fail("%s: %s", what, strerror(errno));
    return r;
}

static void rawvm_memory(struct rawvm *vm, const void *image, size_t len)
{
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = BENCH_MEM,
    };

    if (len > BENCH_MEM - BENCH_ENTRY)
        bench_fail("guest image of %zu bytes does not fit", len);
    vm->mem = mmap(NULL, BENCH_MEM, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (vm->mem == MAP_FAILED)
        bench_fail("mmap of guest memory: %s", strerror(errno));
    memcpy(vm->mem + BENCH_ENTRY, image, len);
    region.userspace_addr = (uintptr_t)vm->mem;
    rawvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
                "KVM_SET_USER_MEMORY_REGION");
}

static void rawvm_arch(struct rawvm *vm)
{
    uint64_t ident = RAWVM_IDENTITY_MAP_ADDR;

    rawvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident,
                "KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)RAWVM_TSS_ADDR) < 0)
        bench_fail("KVM_SET_TSS_ADDR: %s", strerror(errno));
    rawvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
}

static void rawvm_segment(struct kvm_segment *seg)
{
    seg->selector = 0;
    seg->base = 0;
    seg->limit = 0xffff;
}

void rawvm_reset(struct rawvm *vm, unsigned i)
{
    struct rawvcpu *v = &vm->vcpu[i];
    struct kvm_mp_state mp = {KVM_MP_STATE_RUNNABLE};
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    rawvm_ioctl(v->fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    rawvm_segment(&sregs.cs);
    rawvm_segment(&sregs.ds);
    rawvm_segment(&sregs.es);
    rawvm_segment(&sregs.fs);
    rawvm_segment(&sregs.gs);
    rawvm_segment(&sregs.ss);
    rawvm_ioctl(v->fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    memset(&regs, 0, sizeof(regs));
    regs.rip = BENCH_ENTRY;
    regs.rsp = BENCH_ENTRY;
    regs.rflags = 0x2;
    rawvm_ioctl(v->fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
    rawvm_ioctl(v->fd, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
}

/* KVM's supported CPUID, as kvmrun gives its vCPUs (src/arch/x86/cpuid.c;
 * it also adjusts topology bits, which exits never look at): what KVM
 * does on each entry and exit may depend on it (PMU, XSAVE state), so the
 * floor's vCPU must have the same. */
static struct kvm_cpuid2 *rawvm_cpuid(struct rawvm *vm)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

        if (!c)
            bench_fail("out of memory");
        c->nent = n;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        free(c);
        if (errno != E2BIG)
            break;
    }
    bench_fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
}

static void rawvm_vcpus(struct rawvm *vm, unsigned ncpus)
{
    struct kvm_cpuid2 *cpuid = rawvm_cpuid(vm);
    int size = rawvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL,
                           "KVM_GET_VCPU_MMAP_SIZE");

    vm->run_size = (size_t)size;
    vm->vcpu = calloc(ncpus, sizeof(*vm->vcpu));
    if (!vm->vcpu)
        bench_fail("out of memory");
    for (unsigned i = 0; i < ncpus; i++) {
        struct rawvcpu *v = &vm->vcpu[i];

        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
        if (v->fd < 0)
            bench_fail("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                      v->fd, 0);
        if (v->run == MAP_FAILED)
            bench_fail("mmap of kvm_run: %s", strerror(errno));
        vm->ncpus = i + 1;
        rawvm_ioctl(v->fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
        rawvm_reset(vm, i);
    }
    free(cpuid);
}

void rawvm_create(struct rawvm *vm, unsigned ncpus, const void *image,
                  size_t len)
{
    memset(vm, 0, sizeof(*vm));
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0)
        bench_fail("cannot open /dev/kvm: %s", strerror(errno));
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        bench_fail("/dev/kvm: unexpected KVM_GET_API_VERSION");
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
        bench_fail("/dev/kvm lacks KVM_CAP_IMMEDIATE_EXIT");
    vm->vm_fd = rawvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL, "KVM_CREATE_VM");
    rawvm_memory(vm, image, len);
    rawvm_arch(vm);
    rawvm_vcpus(vm, ncpus);
}

void rawvm_destroy(struct rawvm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++) {
        munmap(vm->vcpu[i].run, vm->run_size);
        close(vm->vcpu[i].fd);
    }
    free(vm->vcpu);
    munmap(vm->mem, BENCH_MEM);
    close(vm->vm_fd);
    close(vm->kvm_fd);
    memset(vm, 0, sizeof(*vm));
}

int rawvm_run(struct rawvcpu *v)
{
    return ioctl(v->fd, KVM_RUN, 0) < 0 ? -errno : 0;
}
