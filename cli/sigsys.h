/* sigsys.h: kvmrun's seccomp confinement and its report of a blocked call. */
#ifndef KVMRUN_CLI_SIGSYS_H
#define KVMRUN_CLI_SIGSYS_H

#include "kvmrun.h"

/*
 * Installs the SIGSYS handler, then confines the process
 * (kvmrun_vm_confine() with KVMRUN_SECCOMP_TRAP). A system call outside
 * the filters then writes "kvmrun: seccomp: blocked system call NAME (NR)"
 * to stderr, puts the terminal back and ends the process with
 * STATUS_SECCOMP. Returns 0, or -1 after printing why it could not.
 */
int sigsys_confine(struct kvmrun_vm *vm);

#endif
