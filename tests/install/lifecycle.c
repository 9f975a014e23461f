/*
 * lifecycle.c: a program outside the tree that uses libkvmrun as an
 * installed library (kvmrun.h and pkg-config only): creates a VM, runs
 * the note's guest (hlt; jmp $-3) on two vCPUs, pauses, resumes and stops
 * it. tests/install/check builds it as C (this file) and as C++
 * (lifecycle.cc includes it), linked against libkvmrun.so and statically.
 *
 * Exit status: 0 done, 1 a call failed, 77 no usable /dev/kvm here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kvmrun.h>

static int check(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "lifecycle: %s: %s\n", what, kvmrun_last_error());
        return 1;
    }
    printf("lifecycle: %s: ok\n", what);
    return 0;
}

int main(void)
{
    static const unsigned char guest[] = {0xf4, 0xeb, 0xfd}; /* hlt; jmp */
    struct kvmrun_config cfg;
    struct kvmrun_outcome out;
    struct kvmrun_vm *vm = NULL;
    int r;

    kvmrun_config_init(&cfg);
    cfg.mem_size = 16ULL << 20;
    cfg.ncpus = 2;
    cfg.serial_fd = -1;
    r = kvmrun_vm_create(&cfg, &vm);
    if (r == -ENOENT || r == -EACCES || r == -ENXIO || r == -ENODEV) {
        printf("lifecycle: no usable KVM here: %s\n", kvmrun_last_error());
        return 77;
    }
    if (check(r, "kvmrun_vm_create") ||
        check(kvmrun_vm_start(vm) == -EINVAL ? 0 : -1,
              "kvmrun_vm_start refused before a guest is loaded") ||
        check(kvmrun_load_raw(vm, guest, sizeof(guest), 0x1000),
              "kvmrun_load_raw") ||
        check(kvmrun_boot_real(vm, 0x1000, 0x1000), "kvmrun_boot_real") ||
        check(kvmrun_vm_start(vm), "kvmrun_vm_start") ||
        check(kvmrun_vm_pause(vm, 5000), "kvmrun_vm_pause") ||
        check(kvmrun_vm_paused(vm) == 1 ? 0 : -1, "paused") ||
        check(kvmrun_vm_resume(vm, 5000), "kvmrun_vm_resume") ||
        check(kvmrun_vm_stop(vm, 7, 5000), "kvmrun_vm_stop") ||
        check(kvmrun_vm_wait(vm, &out), "kvmrun_vm_wait"))
        return 1;
    if (out.end != KVMRUN_END_STOPPED || out.code != 7) {
        fprintf(stderr, "lifecycle: the VM ended with '%s', not stopped\n",
                out.message);
        return 1;
    }
    kvmrun_vm_destroy(vm);
    printf("lifecycle: created, started, paused, resumed, stopped (%s)\n",
           KVMRUN_VERSION);
    return 0;
}
