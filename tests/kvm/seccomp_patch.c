/*
 * seccomp_patch.c: the seccomp filters are compiled at build time with
 * placeholders for the action and kvmrun's pid (tools/seccomp-gen.c), and
 * kvmrun_vm_confine() writes the real ones in. This checks both values in
 * both filters: each case runs in a child (confinement cannot be undone)
 * that confines a VM running tests/guests/unclaimed.S and probes from its
 * main thread (the process filter) and from its vCPU thread (the vCPU
 * filter stacked on it: the guest's unclaimed port read is reported there,
 * through the log callback):
 *   - tgkill to one of its own threads works; to its own pid with a thread
 *     that is not its own reaches the kernel (ESRCH), so the pid was
 *     written where the filter compares tgkill's tgid;
 *   - tgkill to another process (the test's own, which it may signal
 *     before confining) and a call outside the filters (socket(AF_INET)
 *     in the main thread, fsync in the vCPU thread, which only the vCPU
 *     filter refuses, in sanitizer builds too) get the action:
 *       eperm: they fail with EPERM (not with another errno);
 *       trap:  SIGSYS names them (si_syscall) in the thread that made them;
 *       kill:  the vCPU thread's fsync kills the process with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvmtest.h"

#define KILL_MARK "vcpu: fsync next\n"
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS (not in glibc 2.36) */
#endif

static enum kvmrun_seccomp_action mode; /* the child's */
static pid_t self, parent, main_tid;

/* The last SIGSYS (trap mode): the call it named, and how many. */
static volatile long trapped_nr;
static volatile int traps;

/* What the vCPU thread found: set there, read once the VM has ended. */
static volatile bool vcpu_probed;
static char vcpu_failure[256];

/* Records the call and makes it fail with ECANCELED, which neither the
 * filters nor the kernel give for these calls. */
static void on_sigsys(int sig, siginfo_t *si, void *context)
{
    ucontext_t *uc = context;

    (void)sig;
    if (si->si_code == SYS_SECCOMP)
        trapped_nr = si->si_syscall;
    traps++;
    uc->uc_mcontext.gregs[REG_RAX] = -ECANCELED;
}

/* tgkill with signal 0: the checks only. */
static long tgkill0(pid_t tgid, pid_t tid)
{
    return syscall(SYS_tgkill, tgid, tid, 0);
}

/* Checks one probe: returns NULL, or what went wrong in buf. */
static const char *judge(char *buf, size_t len, const char *what, long r,
                         int err, int want_err, long trap_nr)
{
    if (trap_nr >= 0 && mode == KVMRUN_SECCOMP_TRAP) {
        if (traps != 1 || trapped_nr != trap_nr || r != -1 ||
            err != ECANCELED) {
            snprintf(buf, len,
                     "%s: %d SIGSYS naming call %ld, returned %ld (%s); "
                     "wanted one SIGSYS naming %ld",
                     what, traps, trapped_nr, r, strerror(err), trap_nr);
            return buf;
        }
        traps = 0;
        trapped_nr = -1;
        return NULL;
    }
    if (traps) {
        snprintf(buf, len, "%s: SIGSYS naming call %ld", what, trapped_nr);
        return buf;
    }
    if (want_err ? r != -1 || err != want_err : r < 0) {
        snprintf(buf, len, "%s: returned %ld (%s), wanted %s", what, r,
                 r < 0 ? strerror(err) : "no error",
                 want_err ? strerror(want_err) : "success");
        return buf;
    }
    return NULL;
}

/* The tgkill probes both threads make (not the refused one in kill mode):
 * NULL, or the first failure in buf. */
static const char *probe_tgkill(char *buf, size_t len)
{
    const char *why;
    long r;

    errno = 0;
    r = tgkill0(self, (pid_t)syscall(SYS_gettid));
    if ((why = judge(buf, len, "tgkill(own pid, own thread)", r, errno, 0, -1)))
        return why;
    errno = 0;
    r = tgkill0(self, parent);
    if ((why = judge(buf, len, "tgkill(own pid, another's thread)", r, errno,
                     ESRCH, -1)))
        return why;
    if (mode == KVMRUN_SECCOMP_KILL)
        return NULL;
    errno = 0;
    r = tgkill0(parent, parent);
    return judge(buf, len, "tgkill(another process)", r, errno, EPERM,
                 SYS_tgkill);
}

/* The log callback: the guest's unclaimed port read, in its vCPU thread. */
static void on_log(void *opaque, enum kvmrun_log_level level, const char *line)
{
    const char *why;
    long r;

    (void)opaque;
    (void)level;
    (void)line;
    if (vcpu_probed || syscall(SYS_gettid) == main_tid)
        return;
    vcpu_probed = true;
    why = probe_tgkill(vcpu_failure, sizeof(vcpu_failure));
    if (!why && mode == KVMRUN_SECCOMP_KILL) {
        if (write(STDERR_FILENO, KILL_MARK, strlen(KILL_MARK)) < 0)
            _exit(1);
    } else if (why) {
        return;
    }
    errno = 0;
    r = syscall(SYS_fsync, -1); /* allowed: EBADF */
    judge(vcpu_failure, sizeof(vcpu_failure), "fsync in the vCPU thread", r,
          errno, EPERM, SYS_fsync);
}

static void child(int action_arg)
{
    enum kvmrun_seccomp_action action = (enum kvmrun_seccomp_action)action_arg;
    struct kvmrun_config cfg;
    struct kvmrun_outcome out;
    struct kvmrun_vm *vm;
    struct sigaction sa;
    char buf[256];
    const char *why;
    long r;
    int fd;

    mode = action;
    self = getpid();
    parent = getppid();
    main_tid = (pid_t)syscall(SYS_gettid);
    trapped_nr = -1;
    if (tgkill0(parent, parent) < 0)
        FAILF("tgkill(parent) before confining: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        FAILF("sigaction: %s", strerror(errno));

    kvmrun_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.serial_fd = -1;
    cfg.log = on_log;
    CHECK(kvmrun_vm_create(&cfg, &vm));
    CHECK(kvmrun_load_raw_file(vm, test_guest("unclaimed"), 0x1000));
    CHECK(kvmrun_boot_real(vm, 0x1000, 0x1000));
    CHECK(kvmrun_vm_confine(vm, action));

    if ((why = probe_tgkill(buf, sizeof(buf))))
        FAILF("main thread: %s", why);
    if (action != KVMRUN_SECCOMP_KILL) { /* that one ends in the vCPU */
        errno = 0;
        r = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if ((why = judge(buf, sizeof(buf), "socket(AF_INET)", r, errno, EPERM,
                         SYS_socket)))
            FAILF("main thread: %s", why);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        FAILF("main thread: socket(AF_UNIX): %s", strerror(errno));
    close(fd);

    CHECK(kvmrun_vm_start(vm));
    CHECK(kvmrun_vm_wait(vm, &out));
    if (action == KVMRUN_SECCOMP_KILL)
        FAILF("the vCPU thread was not killed%s%s", vcpu_failure[0] ? ": " : "",
              vcpu_failure);
    if (!vcpu_probed)
        FAILF("the vCPU thread made no report: nothing probed there");
    if (vcpu_failure[0])
        FAILF("vCPU thread: %s", vcpu_failure);
    if (out.end != KVMRUN_END_POWEROFF)
        FAILF("the guest did not power off: %s", out.message);
    kvmrun_vm_destroy(vm);
    exit(0);
}

int main(void)
{
    static const struct {
        const char *name;
        enum kvmrun_seccomp_action action;
    } ok_cases[] = {
        {"eperm", KVMRUN_SECCOMP_EPERM},
        {"trap", KVMRUN_SECCOMP_TRAP},
    };
    char err[4096];
    int status;

    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(*ok_cases); i++) {
        status =
            test_run_child(child, (int)ok_cases[i].action, err, sizeof(err));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            FAILF("%s: status %#x, stderr '%s'", ok_cases[i].name, status, err);
    }
    status = test_run_child(child, (int)KVMRUN_SECCOMP_KILL, err, sizeof(err));
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS ||
        strcmp(err, KILL_MARK) != 0)
        FAILF("kill: status %#x, stderr '%s', not killed by SIGSYS after "
              "'%s'",
              status, err, KILL_MARK);
    return 0;
}
