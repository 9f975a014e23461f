/*
 * immediate_exit.c: the note's first demo, on libkvmrun's public API.
 *
 * A guest that spins forever (jmp $) is set up in real mode at 0x1000.
 * With immediate_exit = 1 stored before KVM_RUN, KVM_RUN returns -EINTR at
 * once, before running a single guest instruction. Then the guest runs on
 * its own vCPU thread until kvmrun_vm_stop() kicks it out of KVM_RUN.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvmrun.h"

static const unsigned char guest[] = {0xeb, 0xfe}; /* 1: jmp 1b */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int die(const char *what)
{
    fprintf(stderr, "immediate_exit: %s: %s\n", what, kvmrun_last_error());
    return 1;
}

/* Part 1: KVM_RUN with immediate_exit already set never enters the guest. */
static int run_with_immediate_exit(struct kvmrun_vcpu *vcpu)
{
    uint64_t rip;
    uint32_t reason = 0;
    int r;

    kvmrun_vcpu_set_immediate_exit(vcpu, 1);
    r = kvmrun_vcpu_run_once(vcpu, &reason);
    kvmrun_vcpu_set_immediate_exit(vcpu, 0);
    if (r != -EINTR) {
        fprintf(stderr, "immediate_exit: KVM_RUN returned %d, not -EINTR\n",
                r);
        return 1;
    }
    if (kvmrun_vcpu_get_rip(vcpu, &rip) < 0)
        return die("reading rip");
    printf("KVM_RUN with immediate_exit=1 returned -EINTR at once "
           "(exit reason %s); rip is still %#" PRIx64 "\n",
           kvmrun_exit_name(reason), rip);
    return rip == 0x1000 ? 0 : 1;
}

/* Part 2: the spinning guest is kicked out of KVM_RUN from another thread. */
static int run_and_kick(struct kvmrun_vm *vm)
{
    struct timespec spin = {0, 50 * 1000 * 1000};
    struct kvmrun_outcome out;
    double t0;

    if (kvmrun_vm_start(vm) < 0)
        return die("starting the vCPU");
    nanosleep(&spin, NULL);
    t0 = now_ms();
    if (kvmrun_vm_stop(vm, 0, 5000) < 0)
        return die("stopping the vCPU");
    printf("the guest spun for 50 ms; the kick (immediate_exit + signal) "
           "took it out of KVM_RUN in %.3f ms\n", now_ms() - t0);
    kvmrun_vm_wait(vm, &out);
    return out.end == KVMRUN_END_STOPPED ? 0 : 1;
}

int main(void)
{
    struct kvmrun_config cfg;
    struct kvmrun_vm *vm;
    int r;

    kvmrun_config_init(&cfg);
    cfg.mem_size = 1 << 20;
    if (kvmrun_vm_create(&cfg, &vm) < 0)
        return die("creating the VM");
    if (kvmrun_load_raw(vm, guest, sizeof(guest), 0x1000) < 0 ||
        kvmrun_boot_real(vm, 0x1000, 0x1000) < 0) {
        kvmrun_vm_destroy(vm);
        return die("loading the guest");
    }
    r = run_with_immediate_exit(kvmrun_vm_vcpu(vm, 0));
    if (r == 0)
        r = run_and_kick(vm);
    kvmrun_vm_destroy(vm);
    printf("immediate_exit: %s\n", r == 0 ? "ok" : "FAILED");
    return r;
}
