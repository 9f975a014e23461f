/*
 * start_no_guest.c: kvmrun_vm_start() on a VM with no guest set up to
 * start (nothing loaded, or an image loaded but no kvmrun_boot()) is
 * refused with -EINVAL and a message saying what is missing, nothing
 * started; it used to run the vCPU at the reset vector of empty RAM into
 * "KVM internal error". Once booted, the same VM starts and runs.
 */
#include <poll.h>

#include "kvmtest.h"

/* Starting vm is refused, and it did not start (no outcome). */
static void refused(struct kvmrun_vm *vm, const char *what)
{
    struct pollfd pfd = {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN};
    int r = kvmrun_vm_start(vm);

    if (r != -EINVAL)
        FAILF("%s: kvmrun_vm_start returned %d (%s), not -EINVAL", what, r,
              r < 0 ? kvmrun_last_error() : "started");
    if (!strstr(kvmrun_last_error(), "no guest to run") ||
        !strstr(kvmrun_last_error(), "kvmrun_boot()"))
        FAILF("%s: the error '%s' does not say what is missing", what,
              kvmrun_last_error());
    if (poll(&pfd, 1, 100) != 0)
        FAILF("%s: the VM ended: it was started", what);
    printf("%s: refused: %s\n", what, kvmrun_last_error());
}

int main(void)
{
    struct kvmrun_config cfg;
    struct kvmrun_outcome out;
    struct kvmrun_vm *vm;

    kvmrun_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.serial_fd = -1;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    refused(vm, "nothing loaded");
    kvmrun_vm_destroy(vm);

    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_raw_file(vm, test_guest("hello"), 0x1000));
    refused(vm, "loaded, not booted");
    CHECK(kvmrun_boot_real(vm, 0x1000, 0x1000));
    CHECK(kvmrun_vm_start(vm));
    CHECK(kvmrun_vm_wait(vm, &out));
    if (out.end != KVMRUN_END_POWEROFF)
        FAILF("booted: the guest ended with '%s', not a power-off",
              out.message);
    printf("booted: started, %s\n", out.message);
    kvmrun_vm_destroy(vm);
    return 0;
}
