/*
 * hold_thread.c: holds one thread of a process stopped while a file
 * exists (at most 30 s), then lets it go on: a vCPU thread that cannot
 * acknowledge a kick, for tests of what waits for one
 * (tests/kvm/snapshot_usr2.sh). ptrace: PTRACE_SEIZE and
 * PTRACE_INTERRUPT stop that thread alone; PTRACE_DETACH resumes it with
 * the signal it was stopped for, if any, so no kick is lost.
 *
 *   hold_thread TID FILE     prints "held" once the thread is stopped;
 *                            status 77 if ptrace is not allowed here
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec tick = {0, 10000000};
    pid_t tid;
    int status, sig = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: hold_thread TID FILE\n");
        return 2;
    }
    tid = (pid_t)atoi(argv[1]);
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
        fprintf(stderr, "hold_thread: PTRACE_SEIZE %d: %s\n", tid,
                strerror(errno));
        return errno == EPERM ? 77 : 1;
    }
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 ||
        waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status)) {
        fprintf(stderr, "hold_thread: cannot stop %d: %s\n", tid,
                strerror(errno));
        return 1;
    }
    /* A signal-delivery stop (not PTRACE_EVENT_STOP): hand it back. */
    if (status >> 16 == 0)
        sig = WSTOPSIG(status);
    printf("held\n");
    fflush(stdout);
    for (int i = 0; i < 3000 && access(argv[2], F_OK) == 0; i++)
        nanosleep(&tick, NULL);
    if (ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig) < 0) {
        fprintf(stderr, "hold_thread: PTRACE_DETACH %d: %s\n", tid,
                strerror(errno));
        return 1;
    }
    return 0;
}
