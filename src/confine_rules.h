/* confine_rules.h: the rules of kvmrun's seccomp filters, for the build-time
 * generator (tools/seccomp-gen.c) only: they need libseccomp. */
#ifndef KVMRUN_CONFINE_RULES_H
#define KVMRUN_CONFINE_RULES_H

#include <seccomp.h>
#include <stdint.h>

#define CONFINE_PROCESS 0x1u /* the process filter: every thread */
#define CONFINE_VCPU 0x2u    /* the vCPU threads' own filter */

/*
 * A new libseccomp filter holding the rules of filter (CONFINE_PROCESS or
 * CONFINE_VCPU): calls it does not list, and calls of other ABIs, get
 * action; tgkill is allowed only with tgid == pid. NULL after saying why
 * on stderr. seccomp_release() it.
 */
scmp_filter_ctx confine_rules_build(unsigned filter, uint32_t action,
                                    scmp_datum_t pid);

#endif
