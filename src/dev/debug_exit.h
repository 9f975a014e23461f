/* debug_exit.h: QEMU isa-debug-exit: a write of v ends the VM, (v<<1)|1. */
#ifndef KVMRUN_DEBUG_EXIT_H
#define KVMRUN_DEBUG_EXIT_H

#include "bus.h"
#include "dev/dev.h"

#define DEBUG_EXIT_NPORTS 4

struct debug_exit {
    struct dev_env env;
};

void debug_exit_init(struct debug_exit *d, const struct dev_env *env);
void debug_exit_io(void *dev, const struct bus_access *access);

/* The device: no state to save. */
extern const struct dev_desc debug_exit_dev;

#endif
