/*
 * kick.c: the kick protocol that takes a vCPU out of KVM_RUN.
 *
 * A kicker publishes its request in vcpu->requests (seq_cst RMW), then
 * stores run->immediate_exit = 1 and sends the kick signal to the vCPU
 * thread. The handler stores immediate_exit = 1 too, so a signal landing
 * just before the thread enters KVM_RUN still makes KVM_RUN return -EINTR
 * at once. The vCPU thread, on -EINTR, clears immediate_exit and only then
 * takes the requests. In the single total order of seq_cst operations,
 * either the drain's exchange comes after the kicker's publish (the drain
 * sees the request) or before it, and then the kicker's immediate_exit = 1
 * comes after the drain's clear, so the next KVM_RUN returns at once and
 * the following drain sees it. No kick is lost.
 */
#include "kick.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "error.h"
#include "vm.h"

/* The kvm_run of the vCPU this thread runs, for the signal handler. The
 * initial-exec model keeps the access async-signal-safe. */
static __thread struct kvm_run *kick_run
    __attribute__((tls_model("initial-exec")));

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static int kick_setup_error;

int kick_signal(void)
{
    return SIGRTMIN;
}

static void kick_handler(int sig)
{
    (void)sig;
    if (kick_run)
        __atomic_store_n(&kick_run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void kick_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: KVM_RUN must come back with -EINTR. */
    if (sigaction(kick_signal(), &sa, NULL) < 0)
        kick_setup_error = errno;
}

int kick_setup(void)
{
    pthread_once(&kick_once, kick_install);
    if (kick_setup_error)
        return err_errno(kick_setup_error, "sigaction(SIGRTMIN)");
    return 0;
}

void kick_thread_init(struct kvmrun_vcpu *vcpu)
{
    static const int synchronous[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL,
                                      SIGTRAP, SIGABRT, SIGSYS};
    sigset_t mask;

    kick_run = vcpu->run;
    sigfillset(&mask);
    sigdelset(&mask, kick_signal());
    for (size_t i = 0; i < sizeof(synchronous) / sizeof(*synchronous); i++)
        sigdelset(&mask, synchronous[i]);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

void kick_vcpu(struct kvmrun_vcpu *vcpu)
{
    __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    /* Held across pthread_kill so the thread cannot be joined under us. */
    pthread_mutex_lock(&vcpu->thread_lock);
    if (vcpu->thread_live)
        pthread_kill(vcpu->thread, kick_signal());
    pthread_mutex_unlock(&vcpu->thread_lock);
}

void kick_request(struct kvmrun_vcpu *vcpu, unsigned req)
{
    __atomic_fetch_or(&vcpu->requests, req, __ATOMIC_SEQ_CST);
    kick_vcpu(vcpu);
}

unsigned kick_drain(struct kvmrun_vcpu *vcpu)
{
    __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    return __atomic_exchange_n(&vcpu->requests, 0, __ATOMIC_SEQ_CST);
}
