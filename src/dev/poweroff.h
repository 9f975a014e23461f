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
void poweroff_io(void *dev, const struct bus_access *access);

#endif
