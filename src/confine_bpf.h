/*
 * confine_bpf.h: kvmrun's seccomp filters as BPF programs compiled at build
 * time. tools/seccomp-gen.c runs the rules (src/confine_rules.c) through
 * libseccomp and writes $(BUILD)/gen/confine_bpf.c, which defines what is
 * declared here; src/confine.c patches and installs the programs.
 */
#ifndef KVMRUN_CONFINE_BPF_H
#define KVMRUN_CONFINE_BPF_H

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>

#include "kvmrun.h"

/* What goes into the k field of an instruction at run time. */
enum confine_patch_kind {
    CONFINE_PATCH_ACTION = 1, /* the action (SECCOMP_RET_*) */
    CONFINE_PATCH_PID_LO,     /* the low 32 bits of kvmrun's pid */
    CONFINE_PATCH_PID_HI,     /* the high 32 bits (of the 64-bit argument) */
};

struct confine_patch {
    uint16_t insn; /* index of the instruction */
    uint16_t kind; /* enum confine_patch_kind */
};

/* A filter: its program as built with placeholders, and where they are. */
struct confine_bpf {
    const struct sock_filter *insns;
    const struct confine_patch *patches;
    uint16_t len;
    uint16_t npatches;
};

extern const struct confine_bpf confine_bpf_process; /* every thread's */
extern const struct confine_bpf confine_bpf_vcpu;    /* stacked by vCPUs */

/* x86_64 system call names: number nr's is confine_syscall_names +
 * confine_syscall_name_at[nr], unless that is CONFINE_NO_NAME. */
#define CONFINE_NO_NAME 0xffffu
extern const char confine_syscall_names[];
extern const uint16_t confine_syscall_name_at[];
extern const unsigned confine_syscall_count;

/* The filter's return value for action: 0, or -EINVAL for an unknown one. */
static inline int confine_bpf_action(enum kvmrun_seccomp_action action,
                                     uint32_t *ret)
{
    switch (action) {
    case KVMRUN_SECCOMP_TRAP:
        *ret = SECCOMP_RET_TRAP;
        return 0;
    case KVMRUN_SECCOMP_KILL:
        *ret = SECCOMP_RET_KILL_PROCESS;
        return 0;
    case KVMRUN_SECCOMP_EPERM:
        *ret = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
        return 0;
    }
    return -EINVAL;
}

/*
 * Copies bpf's program (bpf->len instructions) to out with ret (from
 * confine_bpf_action()) and pid written at the patch sites: the program
 * libseccomp would have built for them. The generator checks that.
 */
static inline void confine_bpf_patch(const struct confine_bpf *bpf,
                                     struct sock_filter *out, uint32_t ret,
                                     uint64_t pid)
{
    memcpy(out, bpf->insns, bpf->len * sizeof(*out));
    for (unsigned i = 0; i < bpf->npatches; i++) {
        struct sock_filter *insn = &out[bpf->patches[i].insn];

        switch ((enum confine_patch_kind)bpf->patches[i].kind) {
        case CONFINE_PATCH_ACTION:
            insn->k = ret;
            break;
        case CONFINE_PATCH_PID_LO:
            insn->k = (uint32_t)pid;
            break;
        case CONFINE_PATCH_PID_HI:
            insn->k = (uint32_t)(pid >> 32);
            break;
        }
    }
}

#endif
