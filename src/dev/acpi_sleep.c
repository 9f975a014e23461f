/* acpi_sleep.c: hardware-reduced ACPI sleep registers: S5 powers off. */
#include "dev/acpi_sleep.h"

#include <stdio.h>
#include <string.h>

/* ACPI 6.3 section 4.8.3.7: sleep control and sleep status registers. */
#define SLP_EN 0x20
#define SLP_TYP(v) (((v) >> 2) & 7)

void acpi_sleep_init(struct acpi_sleep *s, const struct dev_env *env)
{
    pthread_mutex_init(&s->lock, NULL);
    s->reported = 0;
    s->env = *env;
}

void acpi_sleep_fini(struct acpi_sleep *s)
{
    pthread_mutex_destroy(&s->lock);
}

/* 1 the first time sleep type typ is asked for, so it is reported once. */
static int acpi_sleep_first_time(struct acpi_sleep *s, unsigned typ)
{
    int first;

    pthread_mutex_lock(&s->lock);
    first = !(s->reported & 1u << typ);
    s->reported |= (uint8_t)(1u << typ);
    pthread_mutex_unlock(&s->lock);
    return first;
}

static void acpi_sleep_control(struct acpi_sleep *s, unsigned vcpu, uint8_t v)
{
    char line[96];

    if (!(v & SLP_EN))
        return;
    if (SLP_TYP(v) == ACPI_SLEEP_TYP_S5) {
        s->env.end(s->env.machine, vcpu, KVMRUN_END_POWEROFF, 0,
                   "guest powered off (ACPI S5)");
        return;
    }
    if (!acpi_sleep_first_time(s, SLP_TYP(v)))
        return;
    snprintf(line, sizeof(line),
             "ACPI sleep type %u is not supported; "
             "ignored",
             SLP_TYP(v));
    s->env.report(s->env.machine, line);
}

/*
 * Reads return 0: SLP_EN is write-only, SLP_TYP need not read back, and
 * WAK_STS (status bit 7) stays clear because the guest never wakes. Status
 * writes (the guest clearing WAK_STS before sleeping) do nothing. Bytes
 * past the two registers (a wide access) read 0xff like unclaimed ports.
 */
void acpi_sleep_io(void *dev, const struct bus_access *a)
{
    struct acpi_sleep *s = dev;

    for (unsigned i = 0; i < a->size; i++) {
        uint64_t reg = a->offset + i;

        if (!a->write)
            a->data[i] = reg < ACPI_SLEEP_NPORTS ? 0 : 0xff;
        else if (reg == 0)
            acpi_sleep_control(s, a->vcpu, a->data[i]);
    }
}

void acpi_sleep_save(struct acpi_sleep *s, struct acpi_sleep_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&s->lock);
    st->reported = s->reported;
    pthread_mutex_unlock(&s->lock);
}

void acpi_sleep_load(struct acpi_sleep *s, const struct acpi_sleep_state *st)
{
    pthread_mutex_lock(&s->lock);
    s->reported = st->reported;
    pthread_mutex_unlock(&s->lock);
}

static int acpi_sleep_dev_init(void *dev, const struct dev_ctx *ctx)
{
    acpi_sleep_init(dev, ctx->env);
    return 0;
}

static void acpi_sleep_dev_fini(void *dev)
{
    acpi_sleep_fini(dev);
}

static void acpi_sleep_dev_save(void *dev, void *state)
{
    acpi_sleep_save(dev, state);
}

static void acpi_sleep_dev_load(void *dev, const void *state)
{
    acpi_sleep_load(dev, state);
}

static const struct dev_io acpi_sleep_dev_pio[] = {
    {0, ACPI_SLEEP_NPORTS, acpi_sleep_io},
    {0, 0, NULL},
};

/* No reset: what was reported stays reported. */
const struct dev_desc acpi_sleep_dev = {
    .name = "acpi-sleep",
    .size = sizeof(struct acpi_sleep),
    .pio = acpi_sleep_dev_pio,
    .init = acpi_sleep_dev_init,
    .fini = acpi_sleep_dev_fini,
    .snap_version = 1,
    .snap_size = sizeof(struct acpi_sleep_state),
    .save = acpi_sleep_dev_save,
    .load = acpi_sleep_dev_load,
};
