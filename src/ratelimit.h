/* ratelimit.h: at most a burst of reports per interval, then a count. */
#ifndef KVMRUN_RATELIMIT_H
#define KVMRUN_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The kernel's printk_ratelimit policy: an interval starts with the first
 * report; up to `burst` reports in it pass, the rest are counted; the
 * first report after the interval starts a new one and, if some were
 * suppressed, the caller says how many first.
 */
struct ratelimit {
    pthread_mutex_t lock; /* leaf lock: nothing is called under it */
    uint64_t interval_ns;
    unsigned burst;
    bool started; /* an interval began at begin_ns */
    uint64_t begin_ns;
    unsigned passed; /* reports let through in this interval */
    uint64_t missed; /* reports suppressed, not yet told */
};

void ratelimit_init(struct ratelimit *rl, unsigned interval_ms, unsigned burst);
void ratelimit_fini(struct ratelimit *rl);

/*
 * Whether a report at now_ns may go out. *missed is the number of reports
 * suppressed in the interval that just ended (to say before this one), or
 * 0. Safe from any thread.
 */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ns, uint64_t *missed);

/* Reports suppressed and not yet told, now counted as told (at the end). */
uint64_t ratelimit_take_missed(struct ratelimit *rl);

#endif
