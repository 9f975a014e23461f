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

/*
 * Sanitizer builds only (make SANITIZE=1), for tests/kvm/sanitizer_report.sh:
 * with KVMRUN_TEST_SANITIZER=ubsan (a signed overflow) or =asan (a heap
 * read past a buffer) in the environment, the first log line about an
 * unclaimed port, which a vCPU thread writes, commits that error on
 * purpose, so that the test sees the sanitizer's report get through the
 * seccomp filters. Ordinary builds have no such hook.
 */
#ifdef __SANITIZE_ADDRESS__
void sigsys_sanitizer_test(const char *line);
#else
#define sigsys_sanitizer_test(line) ((void)(line))
#endif

#endif
