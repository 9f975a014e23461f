/* poweroff.h: PM1a control register: SLP_EN with sleep type 0 powers off. */
#ifndef KVMRUN_POWEROFF_H
#define KVMRUN_POWEROFF_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "dev/dev.h"

#define POWEROFF_NPORTS 2

struct poweroff {
    pthread_mutex_t lock; /* leaf lock */
    uint16_t cnt;         /* PM1a_CNT as last written, minus SLP_EN */
    struct dev_env env;
};

void poweroff_init(struct poweroff *p, const struct dev_env *env);
void poweroff_fini(struct poweroff *p);
/* PM1a_CNT back to 0. */
void poweroff_reset(struct poweroff *p);
void poweroff_io(void *dev, const struct bus_access *access);

/* The guest-visible state, for snapshots: PM1a_CNT. */
struct poweroff_state {
    uint16_t cnt, pad;
};

void poweroff_save(struct poweroff *p, struct poweroff_state *st);
void poweroff_load(struct poweroff *p, const struct poweroff_state *st);

/* The device. */
extern const struct dev_desc poweroff_dev;

#endif
