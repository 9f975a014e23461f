/* runstate.h: a VM's run state: start, pause and resume (holds), stop,
 * the end of the VM and waiting for it. */
#ifndef KVMRUN_RUNSTATE_H
#define KVMRUN_RUNSTATE_H

#include <stdint.h>

#include "kvmrun.h"

/* The VM's lock, condition variables and end eventfd: 0 or -errno. */
int runstate_init(struct kvmrun_vm *vm);
void runstate_fini(struct kvmrun_vm *vm);

/*
 * Ends the VM once: the first caller's reason wins, later calls are
 * ignored. Then every vCPU gets a stop request and a kick. Safe from any
 * thread, including vCPU threads and device handlers (holding no lock).
 */
void runstate_end(struct kvmrun_vm *vm, int vcpu, enum kvmrun_end why,
                  uint64_t code, const char *message, const char *detail);

/*
 * Holds (KVMRUN_HOLD_* bits, one per owner: the user, a snapshot, a
 * debugger): the vCPUs run only while none is set.
 * Only a hold's owner sets and clears it, so owners never undo each
 * other's pause. Safe from any thread but a vCPU's.
 *
 * runstate_hold() sets hold, publishes a pause request to every running
 * vCPU and kicks it; runstate_release() clears hold and, once none is
 * left, wakes the paused vCPUs. Neither waits. Both are idempotent.
 */
void runstate_hold(struct kvmrun_vm *vm, unsigned hold);
void runstate_release(struct kvmrun_vm *vm, unsigned hold);

/* runstate_hold() from a vCPU thread (a debug exit): the devices are
 * quiesced later, when the hold's owner calls runstate_hold() itself. */
void runstate_hold_vcpu(struct kvmrun_vm *vm, unsigned hold);

/* How a wait for the vCPUs ended. */
enum runstate_wait {
    RUNSTATE_REACHED,    /* every vCPU got to the target (or exited) */
    RUNSTATE_SUPERSEDED, /* the target changed: nothing left to wait for */
    RUNSTATE_TIMED_OUT,  /* still the target, *laggard did not get there */
};

/*
 * Waits up to timeout_ms for the vCPUs to reach a target. hold != 0: the
 * target is "paused while hold is set" (superseded once it is cleared);
 * re-kicks running vCPUs every rekick_ms. hold == 0: "running while no
 * hold is set" (superseded once any is set). *laggard: a vCPU not there
 * at the timeout; *holds (if not NULL): the holds when the wait ended.
 */
enum runstate_wait runstate_wait_target(struct kvmrun_vm *vm, unsigned hold,
                                        unsigned timeout_ms, int *laggard,
                                        unsigned *holds);

#endif
