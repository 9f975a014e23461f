/*
 * signal_kick.c: the note's second demo, on libkvmrun's public API.
 *
 * The guest loops on hlt; jmp $-3 until `kill -USR1 <pid>`. SIGUSR1 is
 * blocked in every thread and read here through a signalfd; it becomes a
 * stop request, which the library delivers with its kick: immediate_exit = 1
 * plus a real-time signal whose handler sets immediate_exit = 1 again, so the
 * vCPU leaves KVM_RUN with -EINTR wherever it was.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kvmrun.h"

static const unsigned char guest[] = {0xf4, 0xeb, 0xfd}; /* hlt; jmp $-3 */

static int die(const char *what)
{
    fprintf(stderr, "signal_kick: %s: %s\n", what, kvmrun_last_error());
    return 1;
}

/* Waits for SIGUSR1 (then stops the VM) or for the VM to end by itself. */
static int wait_for_signal(struct kvmrun_vm *vm, int sfd)
{
    struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN},
                            {.fd = kvmrun_vm_event_fd(vm), .events = POLLIN}};
    struct signalfd_siginfo si;

    while (poll(fds, 2, -1) < 0)
        ;
    if (!fds[0].revents || read(sfd, &si, sizeof(si)) != sizeof(si))
        return 1; /* the guest ended on its own: not this demo */
    if (kvmrun_vm_stop(vm, si.ssi_signo, 5000) < 0)
        return die("stopping the VM");
    return 0;
}

int main(int argc, char **argv)
{
    struct kvmrun_config cfg;
    struct kvmrun_outcome out;
    struct kvmrun_vm *vm;
    sigset_t set;
    int sfd, r;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, 0);
    kvmrun_config_init(&cfg);
    cfg.mem_size = 1 << 20;
    cfg.irqchip = !(argc > 1 && strcmp(argv[1], "--no-irqchip") == 0);
    if (sfd < 0 || kvmrun_vm_create(&cfg, &vm) < 0)
        return die("creating the VM");
    if (kvmrun_load_raw(vm, guest, sizeof(guest), 0x1000) < 0 ||
        kvmrun_boot_real(vm, 0x1000, 0x1000) < 0 || kvmrun_vm_start(vm) < 0) {
        kvmrun_vm_destroy(vm);
        return die("starting the guest");
    }
    printf("signal_kick: guest running (hlt; jmp $-3), pid %ld: "
           "kill -USR1 %ld to stop it\n", (long)getpid(), (long)getpid());
    fflush(stdout);
    r = wait_for_signal(vm, sfd);
    kvmrun_vm_wait(vm, &out);
    if (r == 0 && out.end == KVMRUN_END_STOPPED && out.code == SIGUSR1)
        printf("signal_kick: SIGUSR1 received; the vCPU left KVM_RUN "
               "through immediate_exit and acknowledged the stop\n");
    else
        r = 1;
    kvmrun_vm_destroy(vm);
    close(sfd);
    return r;
}
