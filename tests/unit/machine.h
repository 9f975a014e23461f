/* machine.h: a recording stand-in for the machine devices talk to. */
#ifndef KVMRUN_TEST_MACHINE_H
#define KVMRUN_TEST_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dev/dev.h"

/* What a device asked of the machine; lock is the device's, if it has one,
 * and lock_held records a callback made while it was held. */
struct machine {
    pthread_mutex_t *lock;
    unsigned nends, nreports;
    bool lock_held;
    unsigned vcpu;
    enum kvmrun_end why;
    uint64_t code;
    char message[256];
    char report[256];
};

static inline void check_unlocked(struct machine *m)
{
    if (!m->lock)
        return;
    if (pthread_mutex_trylock(m->lock) == 0)
        pthread_mutex_unlock(m->lock);
    else
        m->lock_held = true;
}

static inline void record_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                              uint64_t code, const char *message)
{
    struct machine *m = machine;

    check_unlocked(m);
    m->nends++;
    m->vcpu = vcpu;
    m->why = why;
    m->code = code;
    snprintf(m->message, sizeof(m->message), "%s", message);
}

static inline void record_report(void *machine, const char *line)
{
    struct machine *m = machine;

    check_unlocked(m);
    m->nreports++;
    snprintf(m->report, sizeof(m->report), "%s", line);
}

static inline struct dev_env env_of(struct machine *m)
{
    return (struct dev_env){
        .end = record_end, .report = record_report, .machine = m};
}

#endif
