/* acpi_sleep.h: hardware-reduced ACPI sleep control and status registers. */
#ifndef KVMRUN_ACPI_SLEEP_H
#define KVMRUN_ACPI_SLEEP_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "dev/dev.h"

/*
 * The FADT's SLEEP_CONTROL_REG and SLEEP_STATUS_REG (the next port), both
 * 8-bit SystemIO registers. The DSDT's \_S5 package gives
 * ACPI_SLEEP_TYP_S5, so SLP_EN with that type powers off.
 */
#define ACPI_SLEEP_NPORTS 2
#define ACPI_SLEEP_TYP_S5 5

struct acpi_sleep {
    pthread_mutex_t lock; /* leaf lock */
    uint8_t reported;     /* bit n: sleep type n was already reported */
    struct dev_env env;
};

void acpi_sleep_init(struct acpi_sleep *s, const struct dev_env *env);
void acpi_sleep_fini(struct acpi_sleep *s);
void acpi_sleep_io(void *dev, const struct bus_access *access);

/* The state, for snapshots: which sleep types were reported already. */
struct acpi_sleep_state {
    uint8_t reported, pad[3];
};

void acpi_sleep_save(struct acpi_sleep *s, struct acpi_sleep_state *st);
void acpi_sleep_load(struct acpi_sleep *s, const struct acpi_sleep_state *st);

/* The device. */
extern const struct dev_desc acpi_sleep_dev;

#endif
