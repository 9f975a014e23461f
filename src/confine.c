/*
 * confine.c: installs the seccomp filters a built VM confines kvmrun's
 * threads to.
 *
 * Two filters, like Firecracker's per-thread ones. kvmrun_vm_confine()
 * loads the process filter into every thread at once (TSYNC); threads
 * created later inherit it. It allows what the main thread, the control
 * socket's thread and snapshots need, and what the vCPU threads need.
 * Each vCPU thread then stacks the narrower vCPU filter on it
 * (confine_vcpu_enter()): a call passes only if every filter of the
 * thread allows it. Anything else gets the caller's action: SIGSYS, the
 * process killed, or EPERM. The rules are in src/confine_rules.c.
 *
 * The filters are compiled at build time, as Firecracker's seccompiler
 * does: tools/seccomp-gen.c runs the rules through libseccomp and writes
 * the BPF programs ($(BUILD)/gen/confine_bpf.c, see confine_bpf.h). Here
 * a program is only copied, the action and kvmrun's pid (tgkill's tgid)
 * written at the patch sites the generator found, and installed. So
 * neither libkvmrun nor kvmrun links libseccomp: no filter is built at
 * start, and none of libseccomp's code, tables or heap is resident
 * (docs/seccomp.md has the figures).
 */
#include "confine.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine_bpf.h"
#include "error.h"
#include "vm.h"

const char *kvmrun_syscall_name(long nr)
{
    if (nr < 0 || (unsigned long)nr >= confine_syscall_count ||
        confine_syscall_name_at[nr] == CONFINE_NO_NAME)
        return NULL;
    return confine_syscall_names + confine_syscall_name_at[nr];
}

/* A copy of bpf's program for seccomp(2), with ret and this process's pid
 * written in: NULL (error set) if out of memory. free() it. */
static struct sock_fprog *confine_program(const struct confine_bpf *bpf,
                                          uint32_t ret)
{
    struct sock_fprog *prog =
        malloc(sizeof(*prog) + bpf->len * sizeof(struct sock_filter));

    if (!prog) {
        err_set(ENOMEM, "out of memory");
        return NULL;
    }
    prog->len = bpf->len;
    prog->filter = (struct sock_filter *)(prog + 1);
    confine_bpf_patch(bpf, prog->filter, ret, (uint64_t)getpid());
    return prog;
}

/*
 * The process filter, into every thread that exists now (TSYNC), and so
 * into every later one. No new privileges first: seccomp(2) requires it
 * of an unprivileged process (TSYNC gives it to every thread). Without
 * SECCOMP_FILTER_FLAG_TSYNC_ESRCH, a failed synchronization returns the
 * id of the thread that could not take the filter, which is worth
 * reporting.
 */
static int confine_load_process(uint32_t ret)
{
    struct sock_fprog *prog = confine_program(&confine_bpf_process, ret);
    long r;

    if (!prog)
        return -ENOMEM;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        r = err_errno(errno, "seccomp: prctl(PR_SET_NO_NEW_PRIVS)");
    } else {
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_TSYNC, prog);
        if (r < 0)
            r = err_errno(errno, "seccomp: loading the process filter");
        else if (r > 0)
            r = err_set(ESRCH,
                        "seccomp: loading the process filter: thread %ld "
                        "cannot take it (TSYNC): its filters differ",
                        r);
    }
    free(prog);
    return (int)r;
}

int kvmrun_vm_confine(struct kvmrun_vm *vm, enum kvmrun_seccomp_action action)
{
    uint32_t ret;
    int r;

    if (vm->started)
        return err_set(EBUSY, "seccomp: the VM must be confined before "
                              "its vCPUs start");
    if (vm->vcpu_filter)
        return err_set(EBUSY, "seccomp: the VM is confined already");
    if (confine_bpf_action(action, &ret) < 0)
        return err_set(EINVAL, "seccomp: unknown action %d", (int)action);
    vm->vcpu_filter = confine_program(&confine_bpf_vcpu, ret);
    if (!vm->vcpu_filter)
        return -ENOMEM;
    if ((r = confine_load_process(ret)) < 0)
        confine_free(vm);
    return r;
}

int confine_vcpu_enter(struct kvmrun_vcpu *v)
{
    if (!v->vm->vcpu_filter)
        return 0;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, v->vm->vcpu_filter) <
        0)
        return err_errno(errno, "seccomp: loading the vCPU filter");
    return 0;
}

void confine_free(struct kvmrun_vm *vm)
{
    free(vm->vcpu_filter);
    vm->vcpu_filter = NULL;
}
