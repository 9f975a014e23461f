/*
 * runstate.c: a VM's run state: start, pause and resume (holds), stop,
 * the end of the VM and waiting for it; the vCPU threads' lives.
 *
 * Lock order: a device lock may not be held when vm->lock is taken
 * (devices end the VM unlocked); vm->lock is never held while calling
 * into a device or KVM. Under vm->lock only a vCPU's thread_lock (a
 * leaf) may be taken, to kick it.
 */
#include "runstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/arch.h"
#include "clock.h"
#include "confine.h"
#include "error.h"
#include "kick.h"
#include "machine.h"
#include "vm.h"

int runstate_init(struct kvmrun_vm *vm)
{
    vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->event_fd < 0)
        return err_errno(errno, "eventfd");
    pthread_mutex_init(&vm->lock, NULL);
    clock_cond_init(&vm->state_changed);
    clock_cond_init(&vm->resume);
    return 0;
}

void runstate_fini(struct kvmrun_vm *vm)
{
    pthread_cond_destroy(&vm->resume);
    pthread_cond_destroy(&vm->state_changed);
    pthread_mutex_destroy(&vm->lock);
    close(vm->event_fd);
}

void runstate_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why,
                  uint64_t code, const char *message, const char *detail)
{
    struct kvmrun_outcome *o = &vm->outcome;
    bool first;
    uint64_t one = 1;

    pthread_mutex_lock(&vm->lock);
    first = o->end == KVMRUN_END_NONE;
    if (first) {
        o->end = why;
        o->vcpu = vcpu;
        o->code = code;
        snprintf(o->message, sizeof(o->message), "%s", message);
        snprintf(o->detail, sizeof(o->detail), "%s", detail ? detail : "");
    }
    pthread_mutex_unlock(&vm->lock);
    if (!first)
        return;
    for (unsigned i = 0; i < vm->ncpus; i++)
        kick_request(&vm->vcpus[i], KICK_REQ_STOP);
    pthread_mutex_lock(&vm->lock);
    pthread_cond_broadcast(&vm->resume); /* paused vCPUs must stop too */
    pthread_mutex_unlock(&vm->lock);
    if (write(vm->event_fd, &one, sizeof(one)) < 0)
        return; /* the counter cannot overflow with one write */
}

/* Sets a vCPU's state and wakes everyone waiting on it. Takes vm->lock
 * unless locked is true (the caller holds it). */
static void runstate_set_vcpu(struct kvmrun_vcpu *v, enum vcpu_state state,
                              bool locked)
{
    if (!locked)
        pthread_mutex_lock(&v->vm->lock);
    __atomic_store_n(&v->state, state, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&v->vm->state_changed);
    if (!locked)
        pthread_mutex_unlock(&v->vm->lock);
    /* Kick waiters stop waiting for a vCPU that paused or exited. */
    pthread_mutex_lock(&v->ack_lock);
    pthread_cond_broadcast(&v->ack_cond);
    pthread_mutex_unlock(&v->ack_lock);
}

static bool runstate_stop_pending(struct kvmrun_vcpu *v)
{
    return __atomic_load_n(&v->requests, __ATOMIC_SEQ_CST) & KICK_REQ_STOP;
}

/* In the vCPU thread, after a pause request: reports PAUSED and waits
 * until no hold is left, or a stop. */
static void runstate_vcpu_pause(struct kvmrun_vcpu *v)
{
    struct kvmrun_vm *vm = v->vm;
    uint64_t start = clock_now_ns();
    uint64_t *ns = &v->stats.paused_ns, *n = &v->stats.pauses;

    arch_vcpu_paused(v->fd);
    pthread_mutex_lock(&vm->lock);
    if (!vm->holds || runstate_stop_pending(v)) {
        pthread_mutex_unlock(&vm->lock);
        return; /* released or stopped before we got here */
    }
    runstate_set_vcpu(v, VCPU_PAUSED, true);
    kick_ack_all(v);
    /* Whoever holds it, the vCPU waits for the last hold to go. */
    while (vm->holds && !runstate_stop_pending(v))
        pthread_cond_wait(&vm->resume, &vm->lock);
    runstate_set_vcpu(v, VCPU_RUNNING, true);
    pthread_mutex_unlock(&vm->lock);
    __atomic_store_n(ns, *ns + (clock_now_ns() - start), __ATOMIC_RELAXED);
    __atomic_store_n(n, *n + 1, __ATOMIC_RELAXED);
}

/*
 * Under vm->lock. The pause requests are published under the lock too: a
 * vCPU that looks at the holds after this (runstate_vcpu_pause) finds hold set;
 * one that looked before left the wait in the same critical section in
 * which it became RUNNING, so it is seen RUNNING here and gets a request.
 * A vCPU already PAUSED stays so: the holds are not empty.
 */
static void runstate_hold_locked(struct kvmrun_vm *vm, unsigned hold)
{
    vm->holds |= hold;
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].state == VCPU_RUNNING)
            kick_request(&vm->vcpus[i], KICK_REQ_PAUSE);
    pthread_cond_broadcast(&vm->state_changed); /* wakes superseded waiters */
}

static void runstate_release_locked(struct kvmrun_vm *vm, unsigned hold)
{
    vm->holds &= ~hold;
    if (!vm->holds)
        pthread_cond_broadcast(&vm->resume);
    pthread_cond_broadcast(&vm->state_changed);
}

void runstate_hold(struct kvmrun_vm *vm, unsigned hold)
{
    pthread_mutex_lock(&vm->lock);
    runstate_hold_locked(vm, hold);
    pthread_mutex_unlock(&vm->lock);
    machine_sync(vm);
}

void runstate_hold_vcpu(struct kvmrun_vm *vm, unsigned hold)
{
    pthread_mutex_lock(&vm->lock);
    runstate_hold_locked(vm, hold);
    pthread_mutex_unlock(&vm->lock);
}

void runstate_release(struct kvmrun_vm *vm, unsigned hold)
{
    pthread_mutex_lock(&vm->lock);
    runstate_release_locked(vm, hold);
    pthread_mutex_unlock(&vm->lock);
    machine_sync(vm);
}

/*
 * After KVM_RUN returned -EINTR: acts on the requests; false: stop.
 * Requests are only ever taken here, after a KVM_RUN call, and KVM
 * finishes a pending port or MMIO access before it checks immediate_exit
 * and signals (api.rst, KVM_EXIT_IO note): so a vCPU that pauses or stops
 * has no half-done I/O, which is what a snapshot needs (DESIGN rule 3).
 */
static bool runstate_take_requests(struct kvmrun_vcpu *v)
{
    unsigned req = kick_drain(v);

    if (req & KICK_REQ_STOP)
        return false;
    if (req & KICK_REQ_PAUSE)
        runstate_vcpu_pause(v);
    return true;
}

/* Runs the vCPU until it must stop; ends the VM when the vCPU is why. */
static void runstate_vcpu_loop(struct kvmrun_vcpu *v,
                               struct kvmrun_outcome *end)
{
    while (vcpu_run(v, end) == VCPU_KICKED)
        if (!runstate_take_requests(v))
            return; /* a stop: the VM has ended already */
    runstate_end(v->vm, end->vcpu, end->end, end->code, end->message,
                 end->detail);
}

static void *runstate_vcpu_thread(void *arg)
{
    struct kvmrun_vcpu *v = arg;
    struct kvmrun_outcome end;
    char name[16];

    /* Named by itself (a prctl): naming another thread means opening
     * /proc/self/task/TID/comm. */
    snprintf(name, sizeof(name), "vcpu%u", v->index);
    pthread_setname_np(pthread_self(), name);
    kick_thread_init(v);
    if (confine_vcpu_enter(v) < 0) {
        vcpu_failed(v, -EPERM, &end);
        runstate_end(v->vm, end.vcpu, end.end, end.code, end.message, "");
    } else {
        runstate_vcpu_loop(v, &end);
    }
    runstate_set_vcpu(v, VCPU_EXITED, false);
    kick_ack_all(v);
    return NULL;
}

/* Starts v's thread, with every signal blocked (SIGSYS aside): it opens
 * only its kick signal. 0 or pthread_create's error. */
static int runstate_start_vcpu(struct kvmrun_vcpu *v)
{
    int r;

    pthread_mutex_lock(&v->vm->lock);
    runstate_set_vcpu(v, VCPU_RUNNING, true);
    /* A hold set before the start (--gdb-wait): the first KVM_RUN
     * returns at once (immediate_exit) and the vCPU pauses. */
    if (v->vm->holds)
        kick_request(v, KICK_REQ_PAUSE);
    pthread_mutex_unlock(&v->vm->lock);
    pthread_mutex_lock(&v->thread_lock);
    r = kvmrun_thread_create(&v->thread, runstate_vcpu_thread, v);
    v->thread_live = r == 0;
    pthread_mutex_unlock(&v->thread_lock);
    return r;
}

/* vCPU i's thread could not start (r): no vCPU from i on runs, and the
 * VM ends. */
static int runstate_start_failed(struct kvmrun_vm *vm, unsigned i, int r)
{
    char msg[128];

    for (; i < vm->ncpus; i++)
        runstate_set_vcpu(&vm->vcpus[i], VCPU_EXITED, false);
    snprintf(msg, sizeof(msg), "cannot start a vCPU thread: %s", strerror(r));
    runstate_end(vm, -1, KVMRUN_END_VMM_ERROR, (uint64_t)r, msg, "");
    return err_set(r, "%s", msg);
}

int kvmrun_vm_start(struct kvmrun_vm *vm)
{
    int r;

    if (vm->started)
        return err_set(EBUSY, "the VM was already started");
    if (!vm->booted)
        return err_set(EINVAL, "kvmrun_vm_start: no guest to run: load one "
                               "and call kvmrun_boot() (or create the VM "
                               "with kvmrun_vm_restore()) first");
    if ((r = kick_setup()) < 0)
        return r;
    vm->started = true;
    vm->start_ns = clock_now_ns();
    machine_start(vm);
    for (unsigned i = 0; i < vm->ncpus; i++)
        if ((r = runstate_start_vcpu(&vm->vcpus[i])) != 0)
            return runstate_start_failed(vm, i, r);
    return 0;
}

#define RUNSTATE_BIT(s) (1u << (s))

/* The first vCPU whose state is in the mask, or -1. Under vm->lock. */
static int runstate_first_in(const struct kvmrun_vm *vm, unsigned states)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (states & RUNSTATE_BIT(vm->vcpus[i].state))
            return (int)i;
    return -1;
}

/* Kicks again every vCPU still RUNNING (its request may not have been
 * acted on yet). Under vm->lock. */
static void runstate_rekick_running(struct kvmrun_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].state == VCPU_RUNNING)
            kick_again(&vm->vcpus[i]);
}

/*
 * Waits until no vCPU is in one of the states of the mask, re-kicking
 * those in RUNNING every rekick_ms if RUNNING is in it. Returns a
 * laggard's index at the deadline, or -1.
 */
static int runstate_wait_leave(struct kvmrun_vm *vm, unsigned states,
                               unsigned timeout_ms)
{
    uint64_t deadline = clock_now_ns() + timeout_ms * 1000000ULL;
    struct timespec tick;
    int laggard;

    pthread_mutex_lock(&vm->lock);
    while ((laggard = runstate_first_in(vm, states)) >= 0 &&
           clock_now_ns() < deadline) {
        clock_deadline(&tick, vm->cfg.rekick_ms);
        if (pthread_cond_timedwait(&vm->state_changed, &vm->lock, &tick) ==
                ETIMEDOUT &&
            (states & RUNSTATE_BIT(VCPU_RUNNING)))
            runstate_rekick_running(vm);
    }
    pthread_mutex_unlock(&vm->lock);
    return laggard;
}

/* Under vm->lock: is the target of runstate_wait_target() still in force? */
static bool runstate_target_wanted(const struct kvmrun_vm *vm, unsigned hold)
{
    return hold ? (vm->holds & hold) != 0 : vm->holds == 0;
}

enum runstate_wait runstate_wait_target(struct kvmrun_vm *vm, unsigned hold,
                                        unsigned timeout_ms, int *laggard,
                                        unsigned *holds)
{
    uint64_t deadline = clock_now_ns() + timeout_ms * 1000000ULL;
    unsigned away = RUNSTATE_BIT(hold ? VCPU_RUNNING : VCPU_PAUSED);
    struct timespec tick;
    enum runstate_wait r;

    pthread_mutex_lock(&vm->lock);
    for (;;) {
        /* Superseded first: "reached" is then only ever said of a target
         * still wanted when the vCPUs were seen there. */
        if (!runstate_target_wanted(vm, hold)) {
            r = RUNSTATE_SUPERSEDED;
            break;
        }
        if ((*laggard = runstate_first_in(vm, away)) < 0) {
            r = RUNSTATE_REACHED;
            break;
        }
        if (clock_now_ns() >= deadline) {
            r = RUNSTATE_TIMED_OUT;
            break;
        }
        clock_deadline(&tick, vm->cfg.rekick_ms);
        if (pthread_cond_timedwait(&vm->state_changed, &vm->lock, &tick) ==
                ETIMEDOUT &&
            hold)
            runstate_rekick_running(vm);
    }
    if (holds)
        *holds = vm->holds;
    pthread_mutex_unlock(&vm->lock);
    return r;
}

int kvmrun_vm_stop(struct kvmrun_vm *vm, uint64_t code, unsigned timeout_ms)
{
    int laggard;

    runstate_end(vm, -1, KVMRUN_END_STOPPED, code, "stopped by the host", "");
    laggard = runstate_wait_leave(
        vm, RUNSTATE_BIT(VCPU_RUNNING) | RUNSTATE_BIT(VCPU_PAUSED), timeout_ms);
    if (laggard >= 0)
        return err_set(ETIMEDOUT,
                       "stop: vcpu%d did not leave KVM_RUN "
                       "within %u ms",
                       laggard, timeout_ms);
    return 0;
}

/* Under vm->lock: sets or clears the user's hold for op; its target. */
static bool runstate_user_request(struct kvmrun_vm *vm, enum kvmrun_pause_op op)
{
    bool pause = op == KVMRUN_PAUSE ||
                 (op == KVMRUN_PAUSE_TOGGLE && !(vm->holds & KVMRUN_HOLD_USER));

    if (pause)
        runstate_hold_locked(vm, KVMRUN_HOLD_USER);
    else
        runstate_release_locked(vm, KVMRUN_HOLD_USER);
    return pause;
}

int kvmrun_vm_set_pause(struct kvmrun_vm *vm, enum kvmrun_pause_op op,
                        unsigned timeout_ms, struct kvmrun_pause_result *result)
{
    struct kvmrun_pause_result res = {0, 0, 0};
    const char *name = op == KVMRUN_RESUME ? "resume" : "pause";
    enum runstate_wait w;
    int laggard = -1;

    if (op != KVMRUN_PAUSE && op != KVMRUN_RESUME && op != KVMRUN_PAUSE_TOGGLE)
        return err_set(EINVAL, "pause: unknown request %d", (int)op);
    /* Checked and set in one critical section: the last request to take
     * the lock sets the target, whatever thread it comes from. */
    pthread_mutex_lock(&vm->lock);
    if (!vm->started || vm->outcome.end != KVMRUN_END_NONE) {
        pthread_mutex_unlock(&vm->lock);
        return err_set(EINVAL, "%s: the VM is not running", name);
    }
    if ((vm->holds & KVMRUN_HOLD_GDB) &&
        (op == KVMRUN_RESUME ||
         (op == KVMRUN_PAUSE_TOGGLE && (vm->holds & KVMRUN_HOLD_USER)))) {
        pthread_mutex_unlock(&vm->lock);
        return err_set(EBUSY, "resume: gdb has stopped the VM: continue or "
                              "detach in gdb to resume it");
    }
    res.paused = runstate_user_request(vm, op);
    pthread_mutex_unlock(&vm->lock);
    machine_sync(vm);
    name = res.paused ? "pause" : "resume";
    w = runstate_wait_target(vm, res.paused ? KVMRUN_HOLD_USER : 0, timeout_ms,
                             &laggard, &res.holds);
    res.reached = w == RUNSTATE_REACHED;
    if (result)
        *result = res;
    if (w == RUNSTATE_TIMED_OUT)
        return err_set(ETIMEDOUT,
                       "%s: vcpu%d did not %s within %u ms (busy outside "
                       "KVM_RUN?); the %s stays requested and takes effect "
                       "when it can",
                       name, laggard, name, timeout_ms, name);
    return 0;
}

int kvmrun_vm_pause(struct kvmrun_vm *vm, unsigned timeout_ms)
{
    return kvmrun_vm_set_pause(vm, KVMRUN_PAUSE, timeout_ms, NULL);
}

int kvmrun_vm_resume(struct kvmrun_vm *vm, unsigned timeout_ms)
{
    return kvmrun_vm_set_pause(vm, KVMRUN_RESUME, timeout_ms, NULL);
}

unsigned kvmrun_vm_holds(struct kvmrun_vm *vm)
{
    unsigned holds;

    pthread_mutex_lock(&vm->lock);
    holds = vm->holds;
    pthread_mutex_unlock(&vm->lock);
    return holds;
}

int kvmrun_vm_paused(struct kvmrun_vm *vm)
{
    return kvmrun_vm_holds(vm) != 0;
}

const char *kvmrun_hold_name(unsigned hold)
{
    switch (hold) {
    case KVMRUN_HOLD_USER:
        return "user";
    case KVMRUN_HOLD_SNAPSHOT:
        return "snapshot";
    case KVMRUN_HOLD_GDB:
        return "gdb";
    default:
        return "?";
    }
}

int kvmrun_vcpu_kick(struct kvmrun_vcpu *v, unsigned timeout_ms)
{
    uint64_t seq;

    if (!v->vm->started ||
        __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_EXITED)
        return err_set(EINVAL, "kick: vcpu%u is not running", v->index);
    seq = kick_request(v, 0);
    if (kick_wait(v, seq, timeout_ms, v->vm->cfg.rekick_ms) < 0)
        return err_set(ETIMEDOUT,
                       "kick: vcpu%u did not acknowledge within "
                       "%u ms",
                       v->index, timeout_ms);
    return 0;
}

enum kvmrun_vm_state kvmrun_vm_state(struct kvmrun_vm *vm)
{
    enum kvmrun_end end;
    unsigned holds;

    pthread_mutex_lock(&vm->lock);
    end = vm->outcome.end;
    holds = vm->holds;
    pthread_mutex_unlock(&vm->lock);
    if (end != KVMRUN_END_NONE)
        return KVMRUN_VM_ENDED;
    if (!vm->started)
        return KVMRUN_VM_CREATED;
    return holds ? KVMRUN_VM_PAUSED : KVMRUN_VM_RUNNING;
}

const char *kvmrun_vm_state_name(enum kvmrun_vm_state state)
{
    static const char *const names[] = {"created", "running", "paused",
                                        "ended"};

    return (unsigned)state < 4 ? names[state] : "?";
}

uint64_t kvmrun_vm_uptime_ns(const struct kvmrun_vm *vm)
{
    return vm->started ? clock_now_ns() - vm->start_ns : 0;
}

const char *kvmrun_vcpu_state(struct kvmrun_vcpu *v)
{
    static const char *const names[] = {"created", "running", "paused",
                                        "exited"};

    return names[__atomic_load_n(&v->state, __ATOMIC_ACQUIRE)];
}

int kvmrun_vm_wait(struct kvmrun_vm *vm, struct kvmrun_outcome *out)
{
    if (!vm->started)
        return err_set(EINVAL, "the VM was never started");
    if (!vm->joined) {
        pthread_mutex_lock(&vm->lock);
        while (runstate_first_in(vm, RUNSTATE_BIT(VCPU_RUNNING) |
                                         RUNSTATE_BIT(VCPU_PAUSED)) >= 0)
            pthread_cond_wait(&vm->state_changed, &vm->lock);
        pthread_mutex_unlock(&vm->lock);
        for (unsigned i = 0; i < vm->ncpus; i++) {
            struct kvmrun_vcpu *v = &vm->vcpus[i];
            bool live;

            pthread_mutex_lock(&v->thread_lock);
            live = v->thread_live;
            v->thread_live = false;
            pthread_mutex_unlock(&v->thread_lock);
            if (live)
                pthread_join(v->thread, NULL);
        }
        vm->joined = true;
    }
    pthread_mutex_lock(&vm->lock);
    *out = vm->outcome;
    pthread_mutex_unlock(&vm->lock);
    return 0;
}
