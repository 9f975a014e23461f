/* gdbstub.h: the gdb stub's side in the vCPU threads. */
#ifndef KVMRUN_GDBSTUB_H
#define KVMRUN_GDBSTUB_H

#include "vcpu.h"

/*
 * In a vCPU thread, on KVM_EXIT_DEBUG: records the stop for the stub,
 * sets the gdb hold (the vCPU pauses before its next instruction, the
 * others are kicked) and wakes the stub. 0, or -ENODEV when no debugger
 * asked for debug exits (the caller reports an unhandled exit).
 */
int gdbstub_debug_exit(struct kvmrun_vcpu *v);

/*
 * In a vCPU thread, on an emulation failure: some KVMs (the
 * paravirtualized kvm_pvm) do not intercept an int3 under
 * KVM_GUESTDBG_USE_SW_BP but fail to emulate it. At one of gdb's
 * software breakpoints that is the breakpoint: 0, the stop recorded as
 * gdbstub_debug_exit() does; else -ENODEV (the VM ends as before).
 */
int gdbstub_emulation_failure(struct kvmrun_vcpu *v);

#endif
