/*
 * confine_rules.c: the rules of the seccomp filters a built VM confines
 * kvmrun's threads to. Build time only: tools/seccomp-gen.c runs them
 * through libseccomp and writes the BPF programs into
 * $(BUILD)/gen/confine_bpf.c, which src/confine.c installs at run time.
 * Neither this file nor libseccomp is part of libkvmrun or kvmrun.
 *
 * Two filters, like Firecracker's per-thread ones: the process filter,
 * which every thread takes, allows what the main thread, the control
 * socket's thread and snapshots need, and what the vCPU threads need;
 * each vCPU thread stacks the narrower vCPU filter on it. A call passes
 * only if every filter of the thread allows it. Anything else gets the
 * action kvmrun_vm_confine() was given: SIGSYS, the process killed, or
 * EPERM.
 *
 * The rules are grouped by purpose below: CONFINE_PROCESS groups go into
 * the process filter, CONFINE_VCPU groups into the vCPU filter,
 * CONFINE_BOTH into both. Arguments are checked where they decide what a
 * call can do: ioctl by request number, mmap/mprotect never executable,
 * clone only for threads, socket only AF_UNIX, tgkill only within
 * kvmrun, seccomp only to add a filter. The process filter already allows
 * what the control socket (socket, bind, listen, accept4, poll, recv/send,
 * getsockopt SO_PEERCRED, unlink) and snapshots (open, pwrite, fsync,
 * rename, ftruncate, fstat, lseek, mincore, the KVM_GET/SET_* state
 * ioctls) need; the vCPU filter has no file or socket calls.
 *
 * Two values are not known until run time: the action and kvmrun's pid
 * (tgkill's tgid). They are parameters here; the generator builds each
 * filter with two sets of them and finds where they land.
 */
#include "confine_rules.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#ifndef CONFINE_SANITIZER
#error "CONFINE_SANITIZER: 1 for the sanitizer builds' rules, else 0"
#endif

#define CONFINE_BOTH (CONFINE_PROCESS | CONFINE_VCPU)

#define CONFINE_COUNT(a) (sizeof(a) / sizeof(*(a)))

/* System calls allowed with any arguments. */
struct confine_group {
    const char *purpose;
    unsigned filters;
    const int *calls;
    size_t ncalls;
};

/* malloc and thread stacks (mmap and mprotect: see confine_add_memory). */
static const int confine_memory[] = {
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
};

/* Locks, condition variables, thread exit, the process's exit. */
static const int confine_threads[] = {
    SCMP_SYS(futex),       SCMP_SYS(gettid), SCMP_SYS(getpid),
    SCMP_SYS(sched_yield), SCMP_SYS(exit),   SCMP_SYS(exit_group),
};

/* A new thread's start in glibc (the vCPU threads, the control socket's). */
static const int confine_thread_start[] = {
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
};

/* Kick handlers, thread signal masks, SIGSYS reports, restarted sleeps. */
static const int confine_signals[] = {
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(restart_syscall),
};

/* Changing a handler (SIGPIPE ignored, a thread's own setup). */
static const int confine_signal_setup[] = {
    SCMP_SYS(rt_sigaction),
};

/* Clocks and sleeps: timeouts, paused time, the RTC. */
static const int confine_time[] = {
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),          SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
};

/* The console (cli/console.c): is kvmrun the terminal's foreground? */
static const int confine_console[] = {
    SCMP_SYS(getpgrp),
};

/* Serial output, log lines, the SIGSYS report. */
static const int confine_output[] = {
    SCMP_SYS(write),
};

/* I/O on kvmrun's own descriptors: stdin, the signalfd, the event fd,
 * KVM's statistics fds, the control socket's clients. */
static const int confine_fd_io[] = {
    SCMP_SYS(read),          SCMP_SYS(readv),     SCMP_SYS(pread64),
    SCMP_SYS(writev),        SCMP_SYS(pwrite64),  SCMP_SYS(lseek),
    SCMP_SYS(close),         SCMP_SYS(fstat),     SCMP_SYS(newfstatat),
    SCMP_SYS(fcntl),         SCMP_SYS(poll),      SCMP_SYS(ppoll),
    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),   SCMP_SYS(eventfd2),  SCMP_SYS(pipe2),
    SCMP_SYS(preadv),        SCMP_SYS(pwritev),
};

/* Snapshot files (written under a temporary name, synced, renamed into
 * place), the pidfile, mkstemp's random names. */
static const int confine_files[] = {
    SCMP_SYS(open),      SCMP_SYS(openat),    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
    SCMP_SYS(rename),    SCMP_SYS(renameat),  SCMP_SYS(renameat2),
    SCMP_SYS(unlink),    SCMP_SYS(unlinkat),  SCMP_SYS(mincore),
    SCMP_SYS(getrandom),
};

/*
 * The disks' data path (src/blkio_uring.c): submitting to and reaping
 * from io_uring rings made before confinement. Not io_uring_setup nor
 * io_uring_register: a ring made afterwards would run any opcode it is
 * given (open, connect, send...), past these filters, since io_uring's
 * requests are not system calls; the engine's rings are restricted to
 * READV, WRITEV, FSYNC and FALLOCATE before they are enabled. The I/O
 * thread's epoll and eventfds, the sync engine's preadv, pwritev,
 * fdatasync and fallocate, and its workers' start are in the groups
 * above.
 */
static const int confine_block_io[] = {
    SCMP_SYS(io_uring_enter),
};

/* The control socket (socket and socketpair: AF_UNIX only, see
 * confine_add_socket): serving clients, checking their uid against
 * kvmrun's own (SO_PEERCRED, getuid), the socket file's mode. */
static const int confine_control_socket[] = {
    SCMP_SYS(bind),        SCMP_SYS(listen),      SCMP_SYS(accept),
    SCMP_SYS(accept4),     SCMP_SYS(getsockopt),  SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),      SCMP_SYS(recvmsg),     SCMP_SYS(sendmsg),
    SCMP_SYS(shutdown),    SCMP_SYS(umask),       SCMP_SYS(fchmod),
    SCMP_SYS(chmod),       SCMP_SYS(fchmodat),    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),     SCMP_SYS(getgid),      SCMP_SYS(getegid),
};

/*
 * What the sanitizer runtimes (ASan, UBSan, LeakSanitizer) call on their
 * own once the filter is on: each new thread's alternate signal stack and
 * its affinity (pthread_getattr_np), and LeakSanitizer's check at exit,
 * which stops every thread from a helper task (clone without
 * CLONE_THREAD, prctl PR_SET_PTRACER and PR_SET_PDEATHSIG, ptrace, wait4)
 * that lists /proc/self/task. Only in sanitizer builds (make SANITIZE=1
 * generates their filters with CONFINE_SANITIZER=1): the one place where
 * the filters are wider than kvmrun itself needs.
 */
#if CONFINE_SANITIZER
static const int confine_sanitizer[] = {
    SCMP_SYS(sigaltstack), SCMP_SYS(getdents64), SCMP_SYS(getdents),
    SCMP_SYS(ptrace),      SCMP_SYS(wait4),      SCMP_SYS(prctl),
    SCMP_SYS(getppid),     SCMP_SYS(clone),      SCMP_SYS(sched_getaffinity),
    SCMP_SYS(readlink),
};

/*
 * And a report, from any thread: the runtime names the program
 * (readlink of /proc/self/exe), reads /proc/self/maps, /proc/self/cmdline
 * and environ, and symbolizes the stack from the binary's and libraries'
 * debug information (libbacktrace: open, read, fstat, mmap without
 * PROT_EXEC); it asks whether stderr is a terminal (TCGETS) to colour it.
 * The process filter has these file calls already; vCPU threads, where
 * device models run, get them here, so that a report gets out instead of
 * a SIGSYS line that hides it.
 */
static const int confine_sanitizer_report[] = {
    SCMP_SYS(open),  SCMP_SYS(openat),     SCMP_SYS(read),
    SCMP_SYS(close), SCMP_SYS(fcntl),      SCMP_SYS(fstat),
    SCMP_SYS(lseek), SCMP_SYS(newfstatat), SCMP_SYS(pread64),
};
#endif

#define CONFINE_GROUP(purpose, filters, calls)                                 \
    {                                                                          \
        purpose, filters, calls, CONFINE_COUNT(calls)                          \
    }

static const struct confine_group confine_groups[] = {
    CONFINE_GROUP("memory", CONFINE_BOTH, confine_memory),
    CONFINE_GROUP("threads", CONFINE_BOTH, confine_threads),
    CONFINE_GROUP("thread start", CONFINE_PROCESS, confine_thread_start),
    CONFINE_GROUP("signals", CONFINE_BOTH, confine_signals),
    CONFINE_GROUP("signal setup", CONFINE_PROCESS, confine_signal_setup),
    CONFINE_GROUP("time", CONFINE_BOTH, confine_time),
    CONFINE_GROUP("output", CONFINE_BOTH, confine_output),
    CONFINE_GROUP("console", CONFINE_PROCESS, confine_console),
    CONFINE_GROUP("fd I/O", CONFINE_PROCESS, confine_fd_io),
    CONFINE_GROUP("files", CONFINE_PROCESS, confine_files),
    CONFINE_GROUP("block I/O", CONFINE_PROCESS, confine_block_io),
    CONFINE_GROUP("control socket", CONFINE_PROCESS, confine_control_socket),
#if CONFINE_SANITIZER
    CONFINE_GROUP("sanitizer", CONFINE_BOTH, confine_sanitizer),
    CONFINE_GROUP("sanitizer report", CONFINE_VCPU, confine_sanitizer_report),
#endif
};

/* ioctl requests allowed, by purpose. */
struct confine_ioctls {
    const char *purpose;
    unsigned filters;
    const unsigned long *requests;
    size_t nrequests;
};

/* A vCPU's own fd: running it, and its state (faults' register dumps,
 * snapshots save it, restore sets it, pause tells kvmclock). */
static const unsigned long confine_kvm_vcpu[] = {
    KVM_RUN,           KVM_GET_REGS,        KVM_SET_REGS,
    KVM_GET_SREGS,     KVM_SET_SREGS,       KVM_GET_FPU,
    KVM_SET_FPU,       KVM_GET_XSAVE,       KVM_GET_XSAVE2,
    KVM_SET_XSAVE,     KVM_GET_XCRS,        KVM_SET_XCRS,
    KVM_GET_MSRS,      KVM_SET_MSRS,        KVM_GET_LAPIC,
    KVM_SET_LAPIC,     KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
    KVM_GET_MP_STATE,  KVM_SET_MP_STATE,    KVM_GET_DEBUGREGS,
    KVM_SET_DEBUGREGS, KVM_GET_CPUID2,      KVM_GET_TSC_KHZ,
    KVM_KVMCLOCK_CTRL, KVM_GET_STATS_FD, /* the VM's fd too: same number */
};

/* The gdb stub's thread (--gdb): guest-virtual addresses, breakpoints. */
static const unsigned long confine_kvm_debug[] = {
    KVM_TRANSLATE,
    KVM_SET_GUEST_DEBUG,
};

/* Interrupt lines: device models raise them from vCPU threads, serial
 * input from the main thread. */
static const unsigned long confine_kvm_irq[] = {
    KVM_IRQ_LINE,
    KVM_IRQ_LINE_STATUS,
};

/* virtio-mmio (src/virtio/device.c): a queue's kick eventfd bound at
 * the driver's DRIVER_OK and unbound at its reset, on the vCPU thread
 * that wrote Status (and by a restore or teardown on the main thread);
 * a device's interrupt eventfd unbound at teardown (bound before). */
static const unsigned long confine_kvm_virtio_vcpu[] = {
    KVM_IOEVENTFD,
};

static const unsigned long confine_kvm_virtio_process[] = {
    KVM_IRQFD,
};

/* virtio-net (src/virtio/net.c): the tap's offloads follow the guest's
 * features, set on the device's I/O thread at DRIVER_OK (and by a
 * restore on the main thread). The tap itself is opened and attached
 * before confinement; its frames are readv and writev. */
static const unsigned long confine_tap[] = {
    TUNSETOFFLOAD,
};

/* vhost=on (src/virtio/net.c) and --vsock (src/virtio/vsock.c): the I/O
 * thread hands the queues to vhost-net or vhost-vsock at the end of each pause
 * (activate's, a restore's) and takes them back at each start of one. Owner,
 * features offered and memory table are set before confinement. */
static const unsigned long confine_vhost[] = {
    VHOST_SET_FEATURES,   VHOST_SET_VRING_NUM,   VHOST_SET_VRING_ADDR,
    VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE,  VHOST_SET_VRING_KICK,
    VHOST_SET_VRING_CALL, VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING,
};

/* The VM's and KVM's fds: platform state for snapshots, capabilities,
 * the MSR list a snapshot saves. */
static const unsigned long confine_kvm_vm[] = {
    KVM_GET_IRQCHIP,
    KVM_SET_IRQCHIP,
    KVM_GET_PIT2,
    KVM_SET_PIT2,
    KVM_GET_CLOCK,
    KVM_SET_CLOCK,
    KVM_CHECK_EXTENSION,
    KVM_GET_MSR_INDEX_LIST,
    KVM_GET_MSR_FEATURE_INDEX_LIST,
    KVM_GET_SUPPORTED_CPUID,
};

/* The console (cli/console.c): raw mode and back, the foreground check;
 * non-blocking sockets. */
static const unsigned long confine_terminal[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGPGRP, TIOCGWINSZ, FIONBIO, FIONREAD,
};

/* Putting the terminal back from a SIGSYS handler in any thread. */
static const unsigned long confine_terminal_restore[] = {
    TCSETS,
    TCSETSW,
    TCSETSF,
};

#if CONFINE_SANITIZER
/* A sanitizer report from a vCPU thread: is stderr a terminal? */
static const unsigned long confine_sanitizer_ioctls[] = {
    TCGETS,
};
#endif

#define CONFINE_IOCTLS(purpose, filters, requests)                             \
    {                                                                          \
        purpose, filters, requests, CONFINE_COUNT(requests)                    \
    }

static const struct confine_ioctls confine_ioctl_groups[] = {
    CONFINE_IOCTLS("KVM vCPU", CONFINE_BOTH, confine_kvm_vcpu),
    CONFINE_IOCTLS("KVM interrupt lines", CONFINE_BOTH, confine_kvm_irq),
    CONFINE_IOCTLS("KVM virtio kicks", CONFINE_BOTH, confine_kvm_virtio_vcpu),
    CONFINE_IOCTLS("KVM virtio interrupts", CONFINE_PROCESS,
                   confine_kvm_virtio_process),
    CONFINE_IOCTLS("KVM VM and system", CONFINE_PROCESS, confine_kvm_vm),
    CONFINE_IOCTLS("KVM debugging", CONFINE_PROCESS, confine_kvm_debug),
    CONFINE_IOCTLS("tap offloads", CONFINE_PROCESS, confine_tap),
    CONFINE_IOCTLS("vhost-net", CONFINE_PROCESS, confine_vhost),
    CONFINE_IOCTLS("terminal", CONFINE_PROCESS, confine_terminal),
    CONFINE_IOCTLS("terminal restore", CONFINE_VCPU, confine_terminal_restore),
#if CONFINE_SANITIZER
    CONFINE_IOCTLS("sanitizer report", CONFINE_VCPU, confine_sanitizer_ioctls),
#endif
};

static int confine_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
                        unsigned nargs, const struct scmp_arg_cmp *args)
{
    int r = seccomp_rule_add_array(ctx, action, nr, nargs, args);

    if (r < 0) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

        fprintf(stderr, "seccomp-gen: a rule for %s: %s\n", name ? name : "?",
                strerror(-r));
        free(name);
    }
    return r;
}

static int confine_allow(scmp_filter_ctx ctx, int nr)
{
    return confine_rule(ctx, SCMP_ACT_ALLOW, nr, 0, NULL);
}

/* One unconditional rule per call of each group the filter takes. */
static int confine_add_groups(scmp_filter_ctx ctx, unsigned filter)
{
    for (size_t g = 0; g < CONFINE_COUNT(confine_groups); g++) {
        const struct confine_group *grp = &confine_groups[g];

        if (!(grp->filters & filter))
            continue;
        for (size_t i = 0; i < grp->ncalls; i++) {
            int r = confine_allow(ctx, grp->calls[i]);

            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int confine_add_ioctls(scmp_filter_ctx ctx, unsigned filter)
{
    for (size_t g = 0; g < CONFINE_COUNT(confine_ioctl_groups); g++) {
        const struct confine_ioctls *grp = &confine_ioctl_groups[g];

        if (!(grp->filters & filter))
            continue;
        for (size_t i = 0; i < grp->nrequests; i++) {
            struct scmp_arg_cmp req = {1, SCMP_CMP_EQ, grp->requests[i], 0};
            int r = confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &req);

            if (r < 0)
                return r;
        }
    }
    /* KVM_RUN is the hot path: test ioctl first. */
    seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
    return 0;
}

/* mmap and mprotect, never executable: kvmrun loads no code once built. */
static int confine_add_memory(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp no_exec = {2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0};
    int r;

    if ((r = confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &no_exec)) <
        0)
        return r;
    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, &no_exec);
}

/* Signals only to kvmrun's own threads (kicks, pthread_kill, raise):
 * tgid == pid, kvmrun's pid (a placeholder at build time). */
static int confine_add_tgkill(scmp_filter_ctx ctx, scmp_datum_t pid)
{
    struct scmp_arg_cmp self = {0, SCMP_CMP_EQ, pid, 0};

    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, &self);
}

/*
 * Threads only: clone with CLONE_THREAD. clone3 passes its flags in
 * memory a filter cannot read, so it fails with ENOSYS and glibc falls
 * back to clone.
 */
static int confine_add_clone(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp thread = {0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
                                  CLONE_THREAD};
    int r =
        confine_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);

    if (r < 0 || CONFINE_SANITIZER)
        return r; /* sanitizer builds: clone in confine_sanitizer */
    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thread);
}

/* The control socket's own: Unix sockets only, no network. */
static int confine_add_socket(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp unix_only = {0, SCMP_CMP_EQ, AF_UNIX, 0};
    int r = confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &unix_only);

    if (r < 0)
        return r;
    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                        &unix_only);
}

/* Naming a thread (pthread_setname_np on itself). */
static int confine_add_prctl(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp set = {0, SCMP_CMP_EQ, PR_SET_NAME, 0};
    struct scmp_arg_cmp get = {0, SCMP_CMP_EQ, PR_GET_NAME, 0};
    int r;

    if (CONFINE_SANITIZER)
        return 0; /* in confine_sanitizer, unconditionally */
    if ((r = confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &set)) < 0)
        return r;
    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &get);
}

/* vCPU threads stack their filter: adding one, without flags. */
static int confine_add_seccomp(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp args[2] = {
        {0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0},
        {1, SCMP_CMP_EQ, 0, 0},
    };

    return confine_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 2, args);
}

static int confine_add_process(scmp_filter_ctx ctx, scmp_datum_t pid)
{
    int r;

    if ((r = confine_add_groups(ctx, CONFINE_PROCESS)) < 0 ||
        (r = confine_add_ioctls(ctx, CONFINE_PROCESS)) < 0 ||
        (r = confine_add_memory(ctx)) < 0 ||
        (r = confine_add_tgkill(ctx, pid)) < 0 ||
        (r = confine_add_clone(ctx)) < 0 || (r = confine_add_socket(ctx)) < 0 ||
        (r = confine_add_prctl(ctx)) < 0 || (r = confine_add_seccomp(ctx)) < 0)
        return r;
    return 0;
}

static int confine_add_vcpu(scmp_filter_ctx ctx, scmp_datum_t pid)
{
    int r;

    if ((r = confine_add_groups(ctx, CONFINE_VCPU)) < 0 ||
        (r = confine_add_ioctls(ctx, CONFINE_VCPU)) < 0 ||
        (r = confine_add_memory(ctx)) < 0 ||
        (r = confine_add_tgkill(ctx, pid)) < 0)
        return r;
    return 0;
}

scmp_filter_ctx confine_rules_build(unsigned filter, uint32_t action,
                                    scmp_datum_t pid)
{
    scmp_filter_ctx ctx = seccomp_init(action);
    int r;

    if (!ctx) {
        fprintf(stderr, "seccomp-gen: seccomp_init(%#x) failed\n", action);
        return NULL;
    }
    /* Kernel errors as they are (not -ECANCELED); other ABIs (i386
     * int $0x80, x32) get the same action as unlisted calls. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0 ||
        (r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, action)) < 0) {
        fprintf(stderr, "seccomp-gen: the filter's attributes: %s\n",
                strerror(-r));
        goto fail;
    }
    if (filter == CONFINE_PROCESS)
        r = confine_add_process(ctx, pid);
    else if (filter == CONFINE_VCPU)
        r = confine_add_vcpu(ctx, pid);
    else
        r = -EINVAL;
    if (r == 0)
        return ctx;
fail:
    seccomp_release(ctx);
    return NULL;
}
