/* confine.h: the filters a built VM confines kvmrun's threads to. */
#ifndef KVMRUN_CONFINE_H
#define KVMRUN_CONFINE_H

struct kvmrun_vm;
struct kvmrun_vcpu;

/*
 * In a new vCPU thread of a confined VM: stacks the vCPU threads' narrower
 * filter (built by kvmrun_vm_confine()) on the process filter this thread
 * inherited. Does nothing for a VM that is not confined. 0, or -errno with
 * the error set.
 */
int confine_vcpu_enter(struct kvmrun_vcpu *vcpu);

/* Frees what kvmrun_vm_confine() kept in vm (the vCPU filter). */
void confine_free(struct kvmrun_vm *vm);

#endif
