/* thread.c: how the library starts its threads (kvmrun_thread_create). */
#include <signal.h>

#include "kvmrun.h"

/* 512 KiB: see kvmrun_thread_create() in kvmrun.h. */
#define THREAD_STACK (512u << 10)

int kvmrun_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all, saved;
    pthread_attr_t attr;
    int r = pthread_attr_init(&attr);

    if (r != 0)
        return r;
    /* The thread inherits this mask. */
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    r = pthread_attr_setstacksize(&attr, THREAD_STACK);
    if (r == 0)
        r = pthread_create(thread, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    return r;
}
