/*
 * dummy_device.c: a machine with one more device, added by its table line
 * alone (tests/devices/dummy.c, linked with src/arch/x86/pc.c built with
 * -DKVMRUN_TEST_DUMMY_DEVICE): creating the VM gives it its MMIO slot,
 * GSI, irqfd and ioeventfd; start, pause and a snapshot run its start,
 * quiesce and resume hooks (the snapshot saves it quiesced); teardown
 * runs its fini; a restore loads the value it saved. A snapshot of the
 * machine without it is refused, naming it, before anything is created.
 *
 * usage: dummy_device DIR OTHER   (DIR/dummy.snap is written; OTHER is
 *                                  a snapshot of the usual machine)
 */
#include <stdio.h>
#include <string.h>

#include "../devices/dummy.h"
#include "kvmtest.h"

#define VALUE 0xc0ffee42u

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            FAILF(__VA_ARGS__);                                                \
    } while (0)

static void stop(struct kvmrun_vm *vm)
{
    struct kvmrun_outcome out;

    CHECK(kvmrun_vm_stop(vm, 0, 5000));
    CHECK(kvmrun_vm_wait(vm, &out));
    kvmrun_vm_destroy(vm);
}

/* Created with the rest: its slot below the IOAPIC, its GSI, its KVM
 * wiring; a guest access reaches it through the MMIO bus. */
static struct kvmrun_vm *create(void)
{
    struct kvmrun_vm *vm = test_vm("hlt_loop", 1, 0);

    EXPECT(dummy_probe.inits == 1, "no init: %u", dummy_probe.inits);
    EXPECT(dummy_probe.base == 0xfeb00000 && dummy_probe.irq == 16,
           "slot %#llx, GSI %u: not the first slot",
           (unsigned long long)dummy_probe.base, dummy_probe.irq);
    EXPECT(dummy_probe.bound, "its irqfd and ioeventfd are not bound");
    return vm;
}

static void save(const char *dir, char *path, size_t len)
{
    struct kvmrun_vm *vm = create();

    dummy_set_value(VALUE);
    CHECK(kvmrun_vm_start(vm));
    EXPECT(dummy_probe.starts == 1, "no start hook");
    snprintf(path, len, "%s/dummy.snap", dir);
    CHECK(kvmrun_vm_snapshot(vm, path));
    EXPECT(dummy_probe.saves == 1 && dummy_probe.saved_quiesced,
           "the snapshot did not save it (%u), or not quiesced (%d)",
           dummy_probe.saves, dummy_probe.saved_quiesced);
    EXPECT(dummy_probe.quiesces == 1 && dummy_probe.resumes == 1 &&
               !dummy_probe.quiesced,
           "after the snapshot: %u quiesces, %u resumes", dummy_probe.quiesces,
           dummy_probe.resumes);
    CHECK(kvmrun_vm_pause(vm, 5000));
    EXPECT(dummy_probe.quiesced, "a pause did not quiesce it");
    CHECK(kvmrun_vm_resume(vm, 5000));
    EXPECT(!dummy_probe.quiesced, "a resume did not resume it");
    stop(vm);
    EXPECT(dummy_probe.finis == 1 && !dummy_probe.bound,
           "teardown: %u finis, bound %d", dummy_probe.finis,
           dummy_probe.bound);
}

static void restore(const char *path)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    CHECK(kvmrun_vm_restore(&cfg, path, &vm));
    EXPECT(dummy_probe.inits == 2 && dummy_probe.loads == 1,
           "restore: %u inits, %u loads", dummy_probe.inits, dummy_probe.loads);
    EXPECT(dummy_probe.loaded == VALUE, "restored value %#x, saved %#x",
           dummy_probe.loaded, VALUE);
    CHECK(kvmrun_vm_start(vm));
    stop(vm);
    EXPECT(dummy_probe.finis == 2, "restored VM: no fini");
}

/* The usual machine's snapshot lacks the dummy's section. */
static void refuse(const char *other)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    char want[4200];
    int r;

    kvmrun_config_init(&cfg);
    r = kvmrun_vm_restore(&cfg, other, &vm);
    snprintf(want, sizeof(want),
             "%s: no section for device dummy: the snapshot's machine has "
             "no such device (restore with the device options the VM was "
             "started with)",
             other);
    EXPECT(r == -EINVAL && strcmp(kvmrun_last_error(), want) == 0,
           "restore of %s: %d, '%s'", other, r, kvmrun_last_error());
    EXPECT(!vm && dummy_probe.inits == 2, "a refused restore created it");
}

int main(int argc, char **argv)
{
    char path[4200];

    if (argc != 3)
        FAILF("usage: dummy_device DIR OTHER");
    save(argv[1], path, sizeof(path));
    restore(path);
    refuse(argv[2]);
    printf("dummy_device: made, started, quiesced, saved, torn down and "
           "restored with the rest; refused where missing\n");
    return 0;
}
