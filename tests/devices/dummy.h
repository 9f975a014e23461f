/* dummy.h: a test-only device, added to the machine by its table line
 * alone (src/arch/x86/pc.c under -DKVMRUN_TEST_DUMMY_DEVICE), and what
 * it tells the test that links it (tests/kvm/dummy_device.c). */
#ifndef KVMRUN_TEST_DUMMY_H
#define KVMRUN_TEST_DUMMY_H

#include <stdint.h>

/* What happened to the dummy devices of this process, counted by their
 * hooks (one VM at a time). */
struct dummy_probe {
    unsigned inits, finis, starts, quiesces, resumes, saves, loads;
    int quiesced;       /* between a quiesce and a resume */
    int saved_quiesced; /* the last save found it quiesced */
    int bound;          /* its irqfd and ioeventfd are bound */
    uint64_t base;      /* its MMIO slot */
    unsigned irq;       /* its GSI */
    uint32_t value;     /* of the live device */
    uint32_t loaded;    /* the value the last load gave it */
};

extern struct dummy_probe dummy_probe;

/* Sets the live device's value, which its snapshot section carries. */
void dummy_set_value(uint32_t value);

#endif
