/* debug_exit.c: QEMU isa-debug-exit: a write of v ends the VM, (v<<1)|1. */
#include "dev/debug_exit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "le.h"

void debug_exit_init(struct debug_exit *d, const struct dev_env *env)
{
    d->env = *env;
}

void debug_exit_io(void *dev, const struct bus_access *a)
{
    struct debug_exit *d = dev;
    char msg[96];

    if (!a->write) {
        memset(a->data, 0, a->size); /* QEMU's model reads as 0 too */
        return;
    }
    uint64_t v = le_get(a->data, a->size);
    snprintf(msg, sizeof(msg),
             "guest wrote %#" PRIx64 " to the debug-exit "
             "port",
             v);
    d->env.end(d->env.machine, a->vcpu, KVMRUN_END_DEBUG_EXIT, v, msg);
}

static int debug_exit_dev_init(void *dev, const struct dev_ctx *ctx)
{
    debug_exit_init(dev, ctx->env);
    return 0;
}

static const struct dev_io debug_exit_dev_pio[] = {
    {0, DEBUG_EXIT_NPORTS, debug_exit_io},
    {0, 0, NULL},
};

const struct dev_desc debug_exit_dev = {
    .name = "debug-exit",
    .size = sizeof(struct debug_exit),
    .pio = debug_exit_dev_pio,
    .init = debug_exit_dev_init,
};
