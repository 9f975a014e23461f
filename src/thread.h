/* thread.h: how the library starts its threads. */
#ifndef KVMRUN_THREAD_H
#define KVMRUN_THREAD_H

#include <pthread.h>

/*
 * Starts one of the library's threads (vCPUs, a device's output or I/O,
 * the control socket) with every signal blocked but SIGSYS: signals are
 * for the vCPU threads' kick and the CLI's signalfd, and a seccomp trap
 * must reach its handler. On a small stack: 512 KiB instead of glibc's
 * 8 MiB, which under transparent huge pages ("always") costs a resident
 * 2 MiB page per thread. pthread_create's result (0 or an errno value).
 */
#define THREAD_STACK (512u << 10)
int thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
