/* machine.h: the devices of a VM and the environment they reach it through. */
#ifndef KVMRUN_MACHINE_H
#define KVMRUN_MACHINE_H

struct kvmrun_vm;

/* Creates the buses and every device on them, with the threads devices
 * own: 0 or -errno, nothing left. */
int machine_create(struct kvmrun_vm *vm);

/* The VM starts: devices raise what they owe (a restored interrupt). */
void machine_start(struct kvmrun_vm *vm);

/* Writes what the devices still hold for the host (the guest's output,
 * bounded), ends their threads and frees them and the buses. */
void machine_destroy(struct kvmrun_vm *vm);

#endif
