/* clock.h: CLOCK_MONOTONIC, as the library's timed waits use it. */
#ifndef KVMRUN_CLOCK_H
#define KVMRUN_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t clock_now_ns(void);

/* *ts = ms from now on CLOCK_MONOTONIC, for pthread_cond_timedwait(). */
void clock_deadline(struct timespec *ts, unsigned ms);

/* Initializes a condition variable whose timed waits use
 * CLOCK_MONOTONIC (a change of the wall clock does not move them). */
void clock_cond_init(pthread_cond_t *cond);

#endif
