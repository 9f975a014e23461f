/*
 * seccomp_violation.c: a confined VM's process cannot make a system call
 * outside its filters. Each case runs in a child (confinement cannot be
 * undone) that builds a VM running the note's hlt loop, confines itself,
 * starts the vCPUs, checks that what kvmrun needs still works (a control
 * socket, a snapshot file, pause, a paused vCPU's registers), then makes
 * a forbidden call:
 *   report: as kvmrun does (cli/sigsys.c, linked in): one line on stderr,
 *           "kvmrun: seccomp: blocked system call socket (41)", status 159;
 *   kill:   KVMRUN_SECCOMP_KILL: execve kills the process with SIGSYS;
 *   eperm:  KVMRUN_SECCOMP_EPERM: socket(AF_INET) and KVM_CREATE_VM (a
 *           second VM) fail with EPERM; the VM still stops cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cli/sigsys.h"
#include "kvmtest.h"

static char dir[64]; /* a temporary directory for sockets and files */

#define NEED(call)                                                             \
    do {                                                                       \
        if ((call) < 0)                                                        \
            FAILF("%s failed once confined: %s", #call, strerror(errno));      \
    } while (0)

/* What the control socket does: a listening Unix socket, a client's
 * credentials (SO_PEERCRED against getuid), a request and a reply. */
static void control_socket_works(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), sv[2];
    char buf[8];

    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/api.sock", dir);
    NEED(fd);
    NEED(bind(fd, (struct sockaddr *)&addr, sizeof(addr)));
    NEED(listen(fd, 4));
    NEED(fchmod(fd, 0600));
    NEED(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    NEED(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len));
    if (cred.uid != getuid())
        FAILF("SO_PEERCRED gave uid %u, not %u", cred.uid, getuid());
    NEED(send(sv[1], "status\n", 7, MSG_NOSIGNAL));
    NEED(recv(sv[0], buf, sizeof(buf), 0));
    NEED(close(sv[0]) | close(sv[1]) | close(fd));
    NEED(unlink(addr.sun_path));
}

/* What a snapshot does: a new file written, synced, renamed into place. */
static void snapshot_file_works(void)
{
    char tmp[96], path[96];
    struct stat st;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s/vm.snap.tmp", dir);
    snprintf(path, sizeof(path), "%s/vm.snap", dir);
    NEED(fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    NEED(pwrite(fd, "KVMRUN", 6, 4096));
    NEED(ftruncate(fd, 8192));
    NEED(lseek(fd, 0, SEEK_END));
    NEED(fstat(fd, &st));
    NEED(fsync(fd));
    NEED(close(fd));
    NEED(rename(tmp, path));
    NEED(unlink(path));
}

static struct kvmrun_vm *running_vm(enum kvmrun_seccomp_action action,
                                    bool report)
{
    struct kvmrun_vm *vm = test_vm("hlt_loop", 2, 10);
    char regs[2048];

    if (report) {
        if (sigsys_confine(vm) < 0)
            exit(1);
    } else {
        CHECK(kvmrun_vm_confine(vm, action));
    }
    if (kvmrun_vm_confine(vm, action) != -EBUSY)
        FAILF("confining twice was not refused with EBUSY");
    CHECK(kvmrun_vm_start(vm));
    control_socket_works();
    snapshot_file_works();
    CHECK(kvmrun_vm_pause(vm, 5000));
    kvmrun_vcpu_dump_regs(kvmrun_vm_vcpu(vm, 1), regs, sizeof(regs));
    if (!strstr(regs, "rip="))
        FAILF("no registers from a paused vCPU once confined: %s", regs);
    CHECK(kvmrun_vm_resume(vm, 5000));
    return vm;
}

static void child_report(int unused)
{
    (void)unused;
    running_vm(KVMRUN_SECCOMP_TRAP, true);
    socket(AF_INET, SOCK_STREAM, 0);
    FAILF("socket(AF_INET) returned under the report filter");
}

static void child_kill(int unused)
{
    (void)unused;
    char *argv[] = {"/bin/true", NULL};

    running_vm(KVMRUN_SECCOMP_KILL, false);
    execve(argv[0], argv, NULL);
    FAILF("execve returned under the kill filter: %s", strerror(errno));
}

static void child_eperm(int unused)
{
    (void)unused;
    struct kvmrun_vm *vm = running_vm(KVMRUN_SECCOMP_EPERM, false);
    struct kvmrun_outcome out;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
        FAILF("socket(AF_INET) was not refused with EPERM");
    if (kvm < 0)
        FAILF("open /dev/kvm: %s", strerror(errno));
    if (ioctl(kvm, KVM_CREATE_VM, 0) >= 0 || errno != EPERM)
        FAILF("KVM_CREATE_VM was not refused with EPERM");
    close(kvm);
    CHECK(kvmrun_vm_stop(vm, 0, 5000));
    CHECK(kvmrun_vm_wait(vm, &out));
    kvmrun_vm_destroy(vm);
    exit(0);
}

int main(void)
{
    char err[4096], want[128];
    int status;

    snprintf(dir, sizeof(dir), "/tmp/kvmrun-seccomp.XXXXXX");
    if (!mkdtemp(dir))
        FAILF("mkdtemp: %s", strerror(errno));

    status = test_run_child(child_report, 0, err, sizeof(err));
    snprintf(want, sizeof(want),
             "kvmrun: seccomp: blocked system call socket (%d)\n", SYS_socket);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 159 ||
        strcmp(err, want) != 0)
        FAILF("report: status %#x, stderr '%s', not 159 and '%s'", status, err,
              want);

    status = test_run_child(child_kill, 0, err, sizeof(err));
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
        FAILF("kill: status %#x (stderr '%s'), not killed by SIGSYS", status,
              err);

    status = test_run_child(child_eperm, 0, err, sizeof(err));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAILF("eperm: status %#x, stderr '%s'", status, err);
    rmdir(dir);
    return 0;
}
