/* ratelimit.c: at most a burst of reports per interval, then a count. */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, unsigned interval_ms, unsigned burst)
{
    pthread_mutex_init(&rl->lock, NULL);
    rl->interval_ns = interval_ms * 1000000ULL;
    rl->burst = burst;
    rl->started = false;
    rl->begin_ns = 0;
    rl->passed = 0;
    rl->missed = 0;
}

void ratelimit_fini(struct ratelimit *rl)
{
    pthread_mutex_destroy(&rl->lock);
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ns, uint64_t *missed)
{
    bool ok;

    *missed = 0;
    pthread_mutex_lock(&rl->lock);
    /* now_ns read by another thread just before the interval began may
     * be older than begin_ns: that one is still in the interval. */
    if (!rl->started ||
        (now_ns > rl->begin_ns && now_ns - rl->begin_ns >= rl->interval_ns)) {
        *missed = rl->missed;
        rl->missed = 0;
        rl->started = true;
        rl->begin_ns = now_ns;
        rl->passed = 0;
    }
    ok = rl->passed < rl->burst;
    if (ok)
        rl->passed++;
    else
        rl->missed++;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

uint64_t ratelimit_take_missed(struct ratelimit *rl)
{
    uint64_t n;

    pthread_mutex_lock(&rl->lock);
    n = rl->missed;
    rl->missed = 0;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
