/*
 * kick.c: the kick protocol that takes a vCPU out of KVM_RUN.
 *
 * A kicker publishes its request (bits in vcpu->requests, then a new
 * sequence number in vcpu->kick_seq, both seq_cst read-modify-writes),
 * then stores run->immediate_exit = 1 and sends the kick signal to the
 * vCPU thread. The handler stores immediate_exit = 1 too, so a signal that
 * lands just before the thread enters KVM_RUN still makes KVM_RUN return
 * -EINTR at once.
 *
 * The vCPU thread, on -EINTR, clears immediate_exit, then reads kick_seq,
 * then takes the request bits. In the single total order of seq_cst
 * operations, either its read of kick_seq comes after a kicker's increment
 * (so the kicker's bits, published before the increment, are taken by the
 * exchange that follows) or before it; then the kicker's immediate_exit = 1
 * comes after the vCPU's clear, the next KVM_RUN returns at once, and the
 * next drain sees the kick. Either way, no kick is lost.
 *
 * Building with -DKICK_TEST_CLEAR_AFTER_DRAIN breaks rule 2 on purpose
 * (immediate_exit cleared after the drain): tests/kvm/kick_storm must then
 * catch lost kicks. That build also sleeps 50 us between the drain and the
 * clear: a kick lands in the gap on any host, however late its signal is
 * delivered (in a nested, emulated test VM the gap alone is rarely hit).
 */
#include "kick.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "vcpu.h"

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
    static const int synchronous[] = {SIGSEGV, SIGBUS,  SIGFPE, SIGILL,
                                      SIGTRAP, SIGABRT, SIGSYS};
    sigset_t mask;

    kick_run = vcpu->run;
    sigfillset(&mask);
    sigdelset(&mask, kick_signal());
    for (size_t i = 0; i < sizeof(synchronous) / sizeof(*synchronous); i++)
        sigdelset(&mask, synchronous[i]);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

static void kick_signal_thread(struct kvmrun_vcpu *vcpu)
{
    __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    /* Held across pthread_kill so the thread cannot be joined under us. */
    pthread_mutex_lock(&vcpu->thread_lock);
    if (vcpu->thread_live)
        pthread_kill(vcpu->thread, kick_signal());
    pthread_mutex_unlock(&vcpu->thread_lock);
}

uint64_t kick_request(struct kvmrun_vcpu *vcpu, unsigned req)
{
    uint64_t seq;

    if (req)
        __atomic_fetch_or(&vcpu->requests, req, __ATOMIC_SEQ_CST);
    seq = __atomic_add_fetch(&vcpu->kick_seq, 1, __ATOMIC_SEQ_CST);
    kick_signal_thread(vcpu);
    return seq;
}

void kick_again(struct kvmrun_vcpu *vcpu)
{
    __atomic_fetch_add(&vcpu->stats.rekicks, 1, __ATOMIC_RELAXED);
    kick_signal_thread(vcpu);
}

uint64_t kick_acked(struct kvmrun_vcpu *vcpu)
{
    return __atomic_load_n(&vcpu->kick_ack, __ATOMIC_ACQUIRE);
}

static void kick_ack(struct kvmrun_vcpu *vcpu, uint64_t seen)
{
    if (seen == __atomic_load_n(&vcpu->kick_ack, __ATOMIC_RELAXED))
        return; /* nothing new: no waiter to wake */
    pthread_mutex_lock(&vcpu->ack_lock);
    __atomic_store_n(&vcpu->kick_ack, seen, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&vcpu->ack_cond);
    pthread_mutex_unlock(&vcpu->ack_lock);
}

void kick_ack_all(struct kvmrun_vcpu *vcpu)
{
    kick_ack(vcpu, __atomic_load_n(&vcpu->kick_seq, __ATOMIC_SEQ_CST));
}

unsigned kick_drain(struct kvmrun_vcpu *vcpu)
{
    uint64_t seen;
    unsigned req;

#ifndef KICK_TEST_CLEAR_AFTER_DRAIN
    __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
#endif
    seen = __atomic_load_n(&vcpu->kick_seq, __ATOMIC_SEQ_CST);
    req = __atomic_exchange_n(&vcpu->requests, 0, __ATOMIC_SEQ_CST);
    kick_ack(vcpu, seen);
#ifdef KICK_TEST_CLEAR_AFTER_DRAIN
    nanosleep(&(struct timespec){0, 50000}, NULL);
    __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
#endif
    return req;
}

static int kick_done(struct kvmrun_vcpu *vcpu, uint64_t seq)
{
    enum vcpu_state state = __atomic_load_n(&vcpu->state, __ATOMIC_ACQUIRE);

    return kick_acked(vcpu) >= seq || state == VCPU_PAUSED ||
           state == VCPU_EXITED;
}

int kick_wait(struct kvmrun_vcpu *vcpu, uint64_t seq, unsigned timeout_ms,
              unsigned rekick_ms)
{
    struct timespec tick;
    unsigned waited = 0;
    int r = 0;

    pthread_mutex_lock(&vcpu->ack_lock);
    while (!kick_done(vcpu, seq)) {
        if (waited >= timeout_ms) {
            r = -ETIMEDOUT;
            break;
        }
        clock_deadline(&tick, rekick_ms);
        if (pthread_cond_timedwait(&vcpu->ack_cond, &vcpu->ack_lock, &tick) ==
                ETIMEDOUT &&
            !kick_done(vcpu, seq)) {
            waited += rekick_ms;
            kick_again(vcpu);
        }
    }
    pthread_mutex_unlock(&vcpu->ack_lock);
    return r;
}
