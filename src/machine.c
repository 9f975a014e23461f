/*
 * machine.c: a VM's devices, made from the machine table; the environment
 * they reach the VM through.
 *
 * Every step of a device's life is a loop over the table's instances:
 * creating (init, then its ranges on the buses), starting, quiescing and
 * resuming, saving and loading its snapshot section (by name and
 * version), checking a snapshot's device set, tearing down. No other
 * file names a device: adding one is its own file and one table line.
 */
#include "machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kick.h"
#include "kvm_ioctl.h"
#include "log.h"
#include "runstate.h"
#include "snapfile.h"
#include "vm.h"

/* ---- The environment: the only way devices reach the VM ---- */

static void machine_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                        uint64_t code, const char *message)
{
    runstate_end(machine, (int)vcpu, why, code, message, "");
}

static void machine_report(void *machine, const char *line)
{
    log_guest(machine, line);
}

static void machine_log(void *machine, const char *line)
{
    log_line(machine, KVMRUN_LOG_WARN, "%s", line);
}

/* A device's interrupt line, into the in-kernel PIC and IOAPIC. */
static void machine_irq(void *machine, unsigned line, int level)
{
    struct kvmrun_vm *vm = machine;
    struct kvm_irq_level irq = {.irq = line, .level = (uint32_t)level};
    char msg[64];

    /* Raw: reported as what the guest caused, keeping the caller's error. */
    if (vm->cfg.irqchip && KVM_IOCTL_RAW(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
        snprintf(msg, sizeof(msg), "KVM_IRQ_LINE %u: %s", line,
                 strerror(errno));
        log_guest(vm, msg);
    }
}

static int machine_irqfd(void *machine, int fd, unsigned gsi, bool on)
{
    struct kvmrun_vm *vm = machine;
    struct kvm_irqfd irqfd = {
        .fd = (uint32_t)fd,
        .gsi = gsi,
        .flags = on ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    int r = KVM_IOCTL(vm->vm_fd, KVM_IRQFD, &irqfd);

    return r < 0 ? err_prefix(r, "GSI %u", gsi) : 0;
}

static int machine_ioeventfd(void *machine, int fd, uint64_t addr, unsigned len,
                             bool match, uint64_t datamatch, bool on)
{
    struct kvmrun_vm *vm = machine;
    struct kvm_ioeventfd io = {
        .datamatch = datamatch,
        .addr = addr,
        .len = len,
        .fd = fd,
        .flags = (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                 (on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    int r = KVM_IOCTL(vm->vm_fd, KVM_IOEVENTFD, &io);

    return r < 0 ? err_prefix(r, "MMIO %#" PRIx64, addr) : 0;
}

/* ---- The instances the table gives a configuration ---- */

static unsigned machine_count(const struct machine_line *l,
                              const struct kvmrun_config *cfg)
{
    return l->desc->count ? l->desc->count(cfg) : 1;
}

/* Fills d for instance i of line l, taking an MMIO slot if it needs one. */
static int machine_place(const struct machine_line *l, unsigned i,
                         unsigned *slot, struct machine_dev *d)
{
    const char *name = l->name ? l->name : l->desc->name;

    d->desc = l->desc;
    d->instance = i;
    if (l->desc->count)
        snprintf(d->name, sizeof(d->name), "%s.%u", name, i);
    else
        snprintf(d->name, sizeof(d->name), "%s", name);
    d->base = l->base;
    d->irq = l->irq;
    if (!l->desc->mmio_slot)
        return 0;
    if (*slot == machine_slots.count)
        return err_set(ENOSPC,
                       "%s: no MMIO slot left (the machine has %u for its "
                       "MMIO devices)",
                       d->name, machine_slots.count);
    d->base = machine_slots.base + *slot * machine_slots.size;
    d->irq = machine_slots.first_gsi + *slot;
    (*slot)++;
    return 0;
}

/* Names, places and interrupt lines of every instance, no state yet. */
static int machine_plan(const struct kvmrun_config *cfg,
                        struct machine_dev **out, unsigned *n)
{
    unsigned total = 0, slot = 0, k = 0;
    struct machine_dev *d;
    int r = 0;

    for (unsigned l = 0; l < machine_table_len; l++)
        total += machine_count(&machine_table[l], cfg);
    if (!(d = calloc(total ? total : 1, sizeof(*d))))
        return err_set(ENOMEM, "out of memory for %u devices", total);
    for (unsigned l = 0; r == 0 && l < machine_table_len; l++) {
        unsigned count = machine_count(&machine_table[l], cfg);

        for (unsigned i = 0; r == 0 && i < count; i++)
            r = machine_place(&machine_table[l], i, &slot, &d[k++]);
    }
    if (r < 0) {
        free(d);
        return r;
    }
    *out = d;
    *n = total;
    return 0;
}

/* ---- Creating and destroying ---- */

static int machine_register(struct bus *bus, const struct machine_dev *d,
                            const struct dev_io *io)
{
    int r = 0;

    for (; r == 0 && io && io->len; io++)
        r = bus_register(bus, d->base + io->offset, io->len, d->name, io->fn,
                         d->state);
    return r;
}

static void machine_destroy_dev(struct machine_dev *d)
{
    if (d->desc->fini)
        d->desc->fini(d->state);
    free(d->state);
    d->state = NULL;
}

/* Creates instance d: its state, init, its ranges on the buses. On a
 * failure nothing of it is left but ranges, which no access reaches
 * before the buses go. */
static int machine_create_dev(struct kvmrun_vm *vm, struct machine_dev *d,
                              int thread_signal)
{
    const struct dev_desc *desc = d->desc;
    const struct dev_ctx ctx = {&vm->machine.env, &vm->cfg, d->name,
                                d->instance,      d->base,  d->irq,
                                thread_signal,    &vm->mem};
    int r;

    if (desc->size && !(d->state = calloc(1, desc->size)))
        return err_set(ENOMEM, "%s: out of memory", d->name);
    if (desc->init && (r = desc->init(d->state, &ctx)) < 0) {
        free(d->state);
        d->state = NULL;
        return err_prefix(r, "%s", d->name);
    }
    if ((r = machine_register(&vm->pio, d, desc->pio)) < 0 ||
        (r = machine_register(&vm->mmio, d, desc->mmio)) < 0)
        machine_destroy_dev(d);
    return r;
}

/* Finishes the first n devices, last first, then the buses. */
static void machine_teardown(struct kvmrun_vm *vm, unsigned n)
{
    struct machine *m = &vm->machine;

    while (n-- > 0)
        machine_destroy_dev(&m->devs[n]);
    bus_fini(&vm->mmio);
    bus_fini(&vm->pio);
    free(m->devs);
    m->devs = NULL;
    m->ndevs = 0;
    pthread_mutex_destroy(&m->lock);
}

static void machine_init_env(struct kvmrun_vm *vm)
{
    vm->machine.env = (struct dev_env){
        .end = machine_end,
        .report = machine_report,
        .log = machine_log,
        .irq = machine_irq,
        .irqfd = machine_irqfd,
        .ioeventfd = machine_ioeventfd,
        .machine = vm,
    };
}

int machine_create(struct kvmrun_vm *vm)
{
    struct machine *m = &vm->machine;
    /* Interrupts a device thread's blocked write() at teardown: the kick
     * signal's handler does nothing outside vCPU threads. */
    int signal = kick_setup() == 0 ? kick_signal() : 0;
    unsigned i;
    int r;

    if ((r = machine_plan(&vm->cfg, &m->devs, &m->ndevs)) < 0)
        return r;
    machine_init_env(vm);
    pthread_mutex_init(&m->lock, NULL);
    bus_init(&vm->pio, "port", machine_report, vm);
    bus_init(&vm->mmio, "MMIO", machine_report, vm);
    for (i = 0; i < m->ndevs; i++)
        if ((r = machine_create_dev(vm, &m->devs[i], signal)) < 0) {
            machine_teardown(vm, i);
            return r;
        }
    return 0;
}

void machine_destroy(struct kvmrun_vm *vm)
{
    machine_teardown(vm, vm->machine.ndevs);
}

/* ---- Running ---- */

void machine_start(struct kvmrun_vm *vm)
{
    struct machine *m = &vm->machine;

    pthread_mutex_lock(&m->lock);
    m->started = true;
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].desc->start)
            m->devs[i].desc->start(m->devs[i].state);
    pthread_mutex_unlock(&m->lock);
    machine_sync(vm);
}

/* Quiesces the devices last first, resumes them first first. */
static void machine_quiesce(struct machine *m, bool quiesce)
{
    for (unsigned k = 0; k < m->ndevs; k++) {
        struct machine_dev *d = &m->devs[quiesce ? m->ndevs - 1 - k : k];
        void (*hook)(void *) = quiesce ? d->desc->quiesce : d->desc->resume;

        if (hook)
            hook(d->state);
    }
    m->quiesced = quiesce;
}

/*
 * Each caller reads the holds after it changed them, under m->lock: the
 * last one to get the lock sees the last change, so the devices end in
 * the state the holds ask for, however the calls interleave.
 */
void machine_sync(struct kvmrun_vm *vm)
{
    struct machine *m = &vm->machine;
    bool quiet;

    pthread_mutex_lock(&m->lock);
    pthread_mutex_lock(&vm->lock);
    quiet = m->started && vm->holds != 0;
    pthread_mutex_unlock(&vm->lock);
    if (quiet != m->quiesced)
        machine_quiesce(m, quiet);
    pthread_mutex_unlock(&m->lock);
}

/* ---- Snapshots ---- */

static int machine_save_dev(struct machine_dev *d, struct snap_writer *w)
{
    const struct dev_desc *desc = d->desc;
    void *state = calloc(1, desc->snap_size);
    int r;

    if (!state)
        return err_set(ENOMEM, "%s: out of memory", d->name);
    desc->save(d->state, state);
    r = snapw_device(w, d->name, desc->snap_version, state, desc->snap_size);
    free(state);
    return r;
}

int machine_save(struct kvmrun_vm *vm, struct snap_writer *w)
{
    struct machine *m = &vm->machine;
    int r = 0;

    for (unsigned i = 0; r == 0 && i < m->ndevs; i++)
        if (m->devs[i].desc->snap_size)
            r = machine_save_dev(&m->devs[i], w);
    return r;
}

/* The section of device d: there, of its version and size, and checked. */
static int machine_check_dev(const struct machine_dev *d,
                             const struct snap_image *img, const char *name)
{
    const struct dev_desc *desc = d->desc;
    const struct snap_dev *s = snapfile_device(img, d->name);
    char why[160];

    if (!s)
        return err_set(EINVAL,
                       "%s: no section for device %s: the snapshot's "
                       "machine has no such device (restore with the "
                       "device options the VM was started with)",
                       name, d->name);
    if (s->version != desc->snap_version)
        return err_set(EINVAL,
                       "%s: %s section version %" PRIu32 "; this kvmrun "
                       "reads version %" PRIu32,
                       name, d->name, s->version, desc->snap_version);
    if (s->state.len != desc->snap_size)
        return err_set(EINVAL, "%s: %s section: %" PRIu64 " bytes, not %u",
                       name, d->name, s->state.len, desc->snap_size);
    if (desc->check && desc->check(s->state.data, why, sizeof(why)) < 0)
        return err_set(EINVAL, "%s: %s section: %s", name, d->name, why);
    return 0;
}

/* Whether the machine has a device with a section named like s. */
static bool machine_has_section(const struct machine_dev *devs, unsigned n,
                                const struct snap_dev *s)
{
    for (unsigned i = 0; i < n; i++)
        if (devs[i].desc->snap_size && strcmp(devs[i].name, s->name) == 0)
            return true;
    return false;
}

int machine_check_snapshot(const struct kvmrun_config *cfg,
                           const struct snap_image *img, const char *name)
{
    struct machine_dev *devs = NULL;
    unsigned n = 0;
    int r = machine_plan(cfg, &devs, &n);

    for (unsigned i = 0; r == 0 && i < n; i++)
        if (devs[i].desc->snap_size)
            r = machine_check_dev(&devs[i], img, name);
    for (unsigned i = 0; r == 0 && i < img->ndevs; i++)
        if (!machine_has_section(devs, n, &img->devs[i]))
            r = err_set(EINVAL,
                        "%s: a section for device %s, which this machine "
                        "does not have (restore with the device options "
                        "the VM was started with)",
                        name, img->devs[i].name);
    free(devs);
    return r;
}

void machine_load(struct kvmrun_vm *vm, const struct snap_image *img)
{
    struct machine *m = &vm->machine;

    for (unsigned i = 0; i < m->ndevs; i++) {
        struct machine_dev *d = &m->devs[i];
        const struct snap_dev *s = snapfile_device(img, d->name);

        if (d->desc->snap_size && s)
            d->desc->load(d->state, s->state.data);
    }
}

/* ---- The console: the last device that offers one ---- */

/* The UART, always there, comes first in the table; a virtio console,
 * made only when the user chose it (--console virtio), after it. The
 * user's console is the last: it takes what is typed. */
static struct machine_dev *machine_console(struct kvmrun_vm *vm)
{
    for (unsigned i = vm->machine.ndevs; i-- > 0;)
        if (vm->machine.devs[i].desc->console)
            return &vm->machine.devs[i];
    return NULL;
}

size_t kvmrun_serial_input(struct kvmrun_vm *vm, const void *buf, size_t len)
{
    struct machine_dev *d = machine_console(vm);

    return d ? d->desc->console->input(d->state, buf, len) : 0;
}

/* Every console's output: the UART's still shows with a virtio console.
 * The first failure is the one told. */
int kvmrun_vm_flush_output(struct kvmrun_vm *vm)
{
    char why[256] = "";
    int r = 0, rd;

    for (unsigned i = 0; i < vm->machine.ndevs; i++) {
        struct machine_dev *d = &vm->machine.devs[i];

        if (!d->desc->console || (rd = d->desc->console->flush(d->state)) == 0)
            continue;
        if (r == 0)
            snprintf(why, sizeof(why), "%s", kvmrun_last_error());
        r = r ? r : rd;
    }
    return r ? err_set(-r, "%s", why) : 0;
}

int kvmrun_vm_describe_serial(struct kvmrun_vm *vm, char *buf, size_t len)
{
    size_t n = 0;

    for (unsigned i = 0; i < vm->machine.ndevs; i++) {
        struct machine_dev *d = &vm->machine.devs[i];
        int k;

        if (!d->desc->console)
            continue;
        if (n && n < len)
            n += (size_t)snprintf(buf + n, len - n, "; ");
        k = d->desc->console->describe(d->state, n < len ? buf + n : NULL,
                                       n < len ? len - n : 0);
        n += k > 0 ? (size_t)k : 0;
    }
    if (n == 0)
        return snprintf(buf, len, "no console device");
    return (int)n;
}
