/* machine.h: a VM's devices, made from the machine table; the environment
 * they reach the VM through. */
#ifndef KVMRUN_MACHINE_H
#define KVMRUN_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"

struct kvmrun_vm;
struct snap_image;
struct snap_writer;

/*
 * The machine table (src/arch/x86/pc.c): one line per device, or per
 * group of instances of a repeated one (desc->count). Adding a device is
 * its own file and one line here (docs/devices.md).
 */
struct machine_line {
    const struct dev_desc *desc;
    uint64_t base;    /* where its pio/mmio ranges start (not for a slot) */
    unsigned irq;     /* its interrupt line, or 0 */
    const char *name; /* NULL: desc->name (a desc on several lines) */
};

extern const struct machine_line machine_table[];
extern const unsigned machine_table_len;

/* The MMIO slots devices with desc->mmio_slot take, in table order:
 * count windows of size bytes from base, slot i with GSI first_gsi + i. */
struct machine_slots {
    uint64_t base, size;
    unsigned count, first_gsi;
};

extern const struct machine_slots machine_slots;

#define MACHINE_NAME_MAX 32

/* One device instance of a VM. */
struct machine_dev {
    const struct dev_desc *desc;
    void *state; /* desc->size bytes, or NULL */
    char name[MACHINE_NAME_MAX];
    unsigned instance; /* of its table line */
    uint64_t base;
    unsigned irq;
};

struct machine {
    struct machine_dev *devs; /* in table order */
    unsigned ndevs;
    struct dev_env env;
    /* Taken before vm->lock, never under it; serializes quiesce/resume. */
    pthread_mutex_t lock;
    bool started;  /* machine_start() ran */
    bool quiesced; /* the devices' quiesce hooks ran, not yet resume */
};

/* Creates the buses and every device of the table on them, with the
 * threads devices own: 0 or -errno naming the device, nothing left. */
int machine_create(struct kvmrun_vm *vm);

/* The VM starts: each device's start hook (what a load left owed). */
void machine_start(struct kvmrun_vm *vm);

/*
 * Brings the devices in line with the VM's holds: quiesced while any is
 * set (after machine_start()), running while none is. Called after each
 * change of the holds, by the thread that made it, outside vm->lock.
 */
void machine_sync(struct kvmrun_vm *vm);

/* Each device's fini hook, in reverse table order (what a device still
 * holds for the host is written, bounded); the buses. */
void machine_destroy(struct kvmrun_vm *vm);

/* Each device's snapshot section, by name and version, into w. */
int machine_save(struct kvmrun_vm *vm, struct snap_writer *w);

/*
 * Checks img's device sections against the devices cfg gives this
 * machine, before anything is created: one section for each device with
 * a state, none for any other, each of the device's version and size
 * and passing its check. 0, or -EINVAL with "name: ..." naming the
 * device.
 */
int machine_check_snapshot(const struct kvmrun_config *cfg,
                           const struct snap_image *img, const char *name);

/* Each device's state from img (checked by machine_check_snapshot()). */
void machine_load(struct kvmrun_vm *vm, const struct snap_image *img);

#endif
