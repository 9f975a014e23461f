/* dummy.c: a test-only device with a state, an MMIO slot, an irqfd and
 * an ioeventfd, and every hook, each of which it counts. */
#include "dummy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/dev.h"
#include "error.h"

#define DUMMY_MAGIC 0x796d6d64u /* "dmmy" */
#define DUMMY_NOTIFY 0x100      /* the window's offset its ioeventfd takes */

struct dummy {
    struct dev_env env;
    uint64_t base;
    unsigned irq;
    int irq_fd, kick_fd;
    uint32_t value;
};

struct dummy_state {
    uint32_t magic, value, quiesced, pad;
};

struct dummy_probe dummy_probe;
static struct dummy *dummy_live;

void dummy_set_value(uint32_t value)
{
    dummy_live->value = value;
    dummy_probe.value = value;
}

/* Reads give the value; a write sets it. */
static void dummy_io(void *dev, const struct bus_access *a)
{
    struct dummy *d = dev;

    if (a->write)
        memcpy(&d->value, a->data, a->size < 4 ? a->size : 4);
    else
        memcpy(a->data, &d->value, a->size < 4 ? a->size : 4);
}

/* Binds (on) or unbinds its eventfds: the environment's KVM wiring. */
static int dummy_bind(struct dummy *d, bool on)
{
    const struct dev_env *e = &d->env;
    int r = e->irqfd(e->machine, d->irq_fd, d->irq, on);

    if (r == 0 && (r = e->ioeventfd(e->machine, d->kick_fd,
                                    d->base + DUMMY_NOTIFY, 4, true, 0, on)))
        e->irqfd(e->machine, d->irq_fd, d->irq, false);
    dummy_probe.bound = r == 0 && on;
    return r;
}

static int dummy_init(void *dev, const struct dev_ctx *ctx)
{
    struct dummy *d = dev;
    int r;

    d->env = *ctx->env;
    d->base = ctx->base;
    d->irq = ctx->irq;
    d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    d->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->irq_fd < 0 || d->kick_fd < 0)
        r = err_errno(errno, "eventfd");
    else
        r = ctx->cfg->irqchip ? dummy_bind(d, true) : 0;
    if (r < 0) {
        close(d->irq_fd);
        close(d->kick_fd);
        return r;
    }
    dummy_probe = (struct dummy_probe){.inits = dummy_probe.inits + 1,
                                       .finis = dummy_probe.finis,
                                       .bound = dummy_probe.bound,
                                       .base = d->base,
                                       .irq = d->irq};
    dummy_live = d;
    return 0;
}

static void dummy_fini(void *dev)
{
    struct dummy *d = dev;

    if (dummy_probe.bound)
        dummy_bind(d, false);
    close(d->irq_fd);
    close(d->kick_fd);
    dummy_probe.finis++;
    dummy_live = NULL;
}

static void dummy_start(void *dev)
{
    (void)dev;
    dummy_probe.starts++;
}

static void dummy_quiesce(void *dev)
{
    (void)dev;
    dummy_probe.quiesces++;
    dummy_probe.quiesced = 1;
}

static void dummy_resume(void *dev)
{
    (void)dev;
    dummy_probe.resumes++;
    dummy_probe.quiesced = 0;
}

static void dummy_save(void *dev, void *state)
{
    struct dummy *d = dev;
    struct dummy_state st = {DUMMY_MAGIC, d->value,
                             (uint32_t)dummy_probe.quiesced, 0};

    memcpy(state, &st, sizeof(st));
    dummy_probe.saves++;
    dummy_probe.saved_quiesced = dummy_probe.quiesced;
}

static int dummy_check(const void *state, char *why, size_t len)
{
    const struct dummy_state *st = state;

    if (st->magic == DUMMY_MAGIC)
        return 0;
    snprintf(why, len, "magic %#x, not %#x", st->magic, DUMMY_MAGIC);
    return -EINVAL;
}

static void dummy_load(void *dev, const void *state)
{
    const struct dummy_state *st = state;
    struct dummy *d = dev;

    d->value = st->value;
    dummy_probe.value = st->value;
    dummy_probe.loaded = st->value;
    dummy_probe.loads++;
}

static const struct dev_io dummy_mmio[] = {
    {0, 0x1000, dummy_io},
    {0, 0, NULL},
};

const struct dev_desc dummy_dev = {
    .name = "dummy",
    .size = sizeof(struct dummy),
    .mmio = dummy_mmio,
    .mmio_slot = true,
    .init = dummy_init,
    .fini = dummy_fini,
    .start = dummy_start,
    .quiesce = dummy_quiesce,
    .resume = dummy_resume,
    .snap_version = 1,
    .snap_size = sizeof(struct dummy_state),
    .save = dummy_save,
    .check = dummy_check,
    .load = dummy_load,
};
