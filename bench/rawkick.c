/* rawkick.c: kick strategies on bare KVM ioctls, to measure kvmrun by. */
#include "rawkick.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "bench.h"

#define RAWKICK_REKICK_MS 10 /* as kvmrun's default rekick_ms */

/* The kvm_run of an IMMEDIATE_EXIT vCPU thread, for the handler; NULL in
 * every other thread. initial-exec keeps it async-signal-safe. */
static __thread struct kvm_run *rawkick_run
    __attribute__((tls_model("initial-exec")));

static uint64_t stray_handler_runs;

int rawkick_signal(void)
{
    return SIGRTMIN + 1;
}

/*
 * A real handler, never SIG_IGN or SIG_DFL: an ignored signal would be
 * dropped when sent, and SIG_DFL of a real-time signal kills the process.
 * In a SIGNAL_MASK thread it never runs: the signal is blocked whenever
 * the thread is outside KVM_RUN, and KVM_RUN puts the thread's own mask
 * back before it returns -EINTR, so the signal is still pending then, and
 * blocked, until rawkick_eat() takes it.
 */
static void rawkick_handler(int sig)
{
    (void)sig;
    if (rawkick_run)
        __atomic_store_n(&rawkick_run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_add(&stray_handler_runs, 1, __ATOMIC_RELAXED);
}

uint64_t rawkick_stray_handler_runs(void)
{
    return __atomic_load_n(&stray_handler_runs, __ATOMIC_RELAXED);
}

void rawkick_setup(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rawkick_handler;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: KVM_RUN must come back with -EINTR. */
    if (sigaction(rawkick_signal(), &sa, NULL) < 0)
        bench_fail("sigaction(SIGRTMIN+1): %s", strerror(errno));
}

void rawkick_set_kvm_mask(struct rawvcpu *v)
{
    /* The kernel's sigset_t is 8 bytes on x86-64: glibc's first 8. */
    union {
        struct kvm_signal_mask m;
        uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
    } u;
    sigset_t mask;

    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    sigdelset(&mask, rawkick_signal());
    u.m.len = 8;
    memcpy(u.m.sigset, &mask, 8);
    if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &u.m) < 0)
        bench_fail("KVM_SET_SIGNAL_MASK: %s", strerror(errno));
}

void rawkick_eat(void)
{
    static const struct timespec zero;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, rawkick_signal());
    /* EAGAIN when none is pending: an earlier call took it already. */
    sigtimedwait(&set, NULL, &zero);
}

/* As kvmrun's kick_ack(): wake the waiters only when something is new. */
static void rawkick_ack(struct rawkick_vcpu *v, uint64_t seen)
{
    if (seen == __atomic_load_n(&v->ack, __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&v->lock);
    __atomic_store_n(&v->ack, seen, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
}

/*
 * After -EINTR, what made KVM_RUN return must be undone FIRST, then the
 * kick sequence read. SIGNAL_MASK: take the pending signal; a kick whose
 * signal comes later stays pending and makes the next KVM_RUN return at
 * once (taking the signal after reading the sequence would lose a kick
 * published in between until the kicker re-kicks). IMMEDIATE_EXIT: clear
 * immediate_exit, with the same argument (src/kick.c has the proof).
 */
static void rawkick_rearm(struct rawkick_vcpu *v)
{
    if (v->mode == RAWKICK_SIGNAL_MASK)
        rawkick_eat();
    else
        __atomic_store_n(&v->raw->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

static void rawkick_loop(struct rawkick_vcpu *v)
{
    for (;;) {
        int r = rawvm_run(v->raw);

        if (r == -EINTR) {
            rawkick_rearm(v);
            if (__atomic_load_n(&v->stop, __ATOMIC_SEQ_CST))
                return;
            rawkick_ack(v, __atomic_load_n(&v->seq, __ATOMIC_SEQ_CST));
            continue;
        }
        if (r < 0)
            snprintf(v->error, sizeof(v->error), "vcpu%u: KVM_RUN: %s",
                     v->index, strerror(-r));
        else
            snprintf(v->error, sizeof(v->error),
                     "vcpu%u: unexpected exit "
                     "reason %u from a guest that never exits",
                     v->index, v->raw->run->exit_reason);
        return;
    }
}

static void *rawkick_thread(void *arg)
{
    struct rawkick_vcpu *v = arg;

    if (v->mode == RAWKICK_IMMEDIATE_EXIT) {
        sigset_t mask;

        /* As kvmrun's vCPU threads: only the kick signal gets through. */
        rawkick_run = v->raw->run;
        sigfillset(&mask);
        sigdelset(&mask, rawkick_signal());
        pthread_sigmask(SIG_SETMASK, &mask, NULL);
    }
    rawkick_loop(v);
    pthread_mutex_lock(&v->lock);
    v->exited = 1;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

static void rawkick_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

void rawkick_start(struct rawkick *rk, enum rawkick_mode mode, unsigned ncpus,
                   const void *image, size_t len)
{
    sigset_t all, saved;
    int r;

    rawvm_create(&rk->vm, ncpus, image, len);
    rk->vcpu = calloc(ncpus, sizeof(*rk->vcpu));
    if (!rk->vcpu)
        bench_fail("out of memory");
    /* The threads start with everything blocked, the kick signal too;
     * for SIGNAL_MASK, KVM_RUN's mask opens the kick signal only. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    for (unsigned i = 0; i < ncpus; i++) {
        struct rawkick_vcpu *v = &rk->vcpu[i];

        v->raw = &rk->vm.vcpu[i];
        v->mode = mode;
        v->index = i;
        pthread_mutex_init(&v->lock, NULL);
        rawkick_cond_init(&v->cond);
        if (mode == RAWKICK_SIGNAL_MASK)
            rawkick_set_kvm_mask(v->raw);
        if ((r = pthread_create(&v->thread, NULL, rawkick_thread, v)))
            bench_fail("pthread_create: %s", strerror(r));
        rk->ncpus = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

static void rawkick_deadline(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Rule 1 of the kick protocol for IMMEDIATE_EXIT; just the signal for
 * SIGNAL_MASK. */
static void rawkick_signal_thread(struct rawkick_vcpu *v)
{
    if (v->mode == RAWKICK_IMMEDIATE_EXIT)
        __atomic_store_n(&v->raw->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(v->thread, rawkick_signal());
}

/* The wait of kvmrun's kick_wait(), re-kick included. */
static int rawkick_wait(struct rawkick_vcpu *v, uint64_t seq,
                        unsigned timeout_ms)
{
    struct timespec tick;
    unsigned waited = 0;
    int r = 0;

    pthread_mutex_lock(&v->lock);
    while (__atomic_load_n(&v->ack, __ATOMIC_ACQUIRE) < seq && !v->exited) {
        if (waited >= timeout_ms) {
            r = -ETIMEDOUT;
            break;
        }
        rawkick_deadline(&tick, RAWKICK_REKICK_MS);
        if (pthread_cond_timedwait(&v->cond, &v->lock, &tick) == ETIMEDOUT &&
            __atomic_load_n(&v->ack, __ATOMIC_ACQUIRE) < seq) {
            waited += RAWKICK_REKICK_MS;
            v->rekicks++;
            rawkick_signal_thread(v);
        }
    }
    if (v->exited)
        r = -EIO;
    pthread_mutex_unlock(&v->lock);
    return r;
}

int rawkick_kick(struct rawkick *rk, unsigned i, unsigned timeout_ms)
{
    struct rawkick_vcpu *v = &rk->vcpu[i];
    uint64_t seq = __atomic_add_fetch(&v->seq, 1, __ATOMIC_SEQ_CST);

    rawkick_signal_thread(v);
    return rawkick_wait(v, seq, timeout_ms);
}

static void rawkick_join(struct rawkick_vcpu *v, unsigned timeout_ms)
{
    struct timespec deadline;
    int r;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000 + 1;
    if ((r = pthread_timedjoin_np(v->thread, NULL, &deadline)))
        bench_fail("bare kick: vcpu%u did not stop: %s", v->index, strerror(r));
    if (v->error[0])
        bench_fail("bare kick: %s", v->error);
}

void rawkick_stop(struct rawkick *rk, unsigned timeout_ms)
{
    for (unsigned i = 0; i < rk->ncpus; i++) {
        __atomic_store_n(&rk->vcpu[i].stop, 1, __ATOMIC_SEQ_CST);
        rawkick_signal_thread(&rk->vcpu[i]);
    }
    for (unsigned i = 0; i < rk->ncpus; i++) {
        rawkick_join(&rk->vcpu[i], timeout_ms);
        pthread_cond_destroy(&rk->vcpu[i].cond);
        pthread_mutex_destroy(&rk->vcpu[i].lock);
    }
    free(rk->vcpu);
    rawvm_destroy(&rk->vm);
    rk->vcpu = NULL;
    rk->ncpus = 0;
}
