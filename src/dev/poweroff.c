/* poweroff.c: PM1a control register: SLP_EN with sleep type 0 powers off. */
#include "dev/poweroff.h"

#include <stdio.h>
#include <string.h>

#define SLP_EN 0x2000
#define SLP_TYP(v) (((v) >> 10) & 7)

void poweroff_init(struct poweroff *p, const struct dev_env *env)
{
    pthread_mutex_init(&p->lock, NULL);
    p->cnt = 0;
    p->env = *env;
}

void poweroff_reset(struct poweroff *p)
{
    pthread_mutex_lock(&p->lock);
    p->cnt = 0;
    pthread_mutex_unlock(&p->lock);
}

void poweroff_fini(struct poweroff *p)
{
    pthread_mutex_destroy(&p->lock);
}

void poweroff_io(void *dev, const struct bus_access *a)
{
    struct poweroff *p = dev;
    uint16_t cnt;
    char line[96];

    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < a->size; i++) {
        unsigned shift = 8 * (unsigned)(a->offset + i);

        if (shift >= 16) {
            if (!a->write)
                a->data[i] = 0xff;
        } else if (a->write) {
            p->cnt =
                (uint16_t)((p->cnt & ~(0xff << shift)) | a->data[i] << shift);
        } else {
            a->data[i] = (uint8_t)(p->cnt >> shift);
        }
    }
    cnt = p->cnt;
    p->cnt &= ~SLP_EN; /* SLP_EN is write-only: it triggers, reads as 0 */
    pthread_mutex_unlock(&p->lock);
    if (!a->write || !(cnt & SLP_EN))
        return;
    if (SLP_TYP(cnt) == 0) {
        p->env.end(p->env.machine, a->vcpu, KVMRUN_END_POWEROFF, 0,
                   "guest powered off");
        return;
    }
    snprintf(line, sizeof(line),
             "power management: sleep type %u is not "
             "supported; ignored",
             SLP_TYP(cnt));
    p->env.report(p->env.machine, line);
}

void poweroff_save(struct poweroff *p, struct poweroff_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&p->lock);
    st->cnt = p->cnt;
    pthread_mutex_unlock(&p->lock);
}

void poweroff_load(struct poweroff *p, const struct poweroff_state *st)
{
    pthread_mutex_lock(&p->lock);
    p->cnt = st->cnt;
    pthread_mutex_unlock(&p->lock);
}

static int poweroff_dev_init(void *dev, const struct dev_ctx *ctx)
{
    poweroff_init(dev, ctx->env);
    return 0;
}

static void poweroff_dev_reset(void *dev)
{
    poweroff_reset(dev);
}

static void poweroff_dev_fini(void *dev)
{
    poweroff_fini(dev);
}

static void poweroff_dev_save(void *dev, void *state)
{
    poweroff_save(dev, state);
}

static void poweroff_dev_load(void *dev, const void *state)
{
    poweroff_load(dev, state);
}

static const struct dev_io poweroff_dev_pio[] = {
    {0, POWEROFF_NPORTS, poweroff_io},
    {0, 0, NULL},
};

const struct dev_desc poweroff_dev = {
    .name = "poweroff",
    .size = sizeof(struct poweroff),
    .pio = poweroff_dev_pio,
    .init = poweroff_dev_init,
    .reset = poweroff_dev_reset,
    .fini = poweroff_dev_fini,
    .snap_version = 1,
    .snap_size = sizeof(struct poweroff_state),
    .save = poweroff_dev_save,
    .load = poweroff_dev_load,
};
