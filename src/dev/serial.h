/* serial.h: a 16550A UART whose transmitter feeds an output buffer. */
#ifndef KVMRUN_SERIAL_H
#define KVMRUN_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "dev/dev.h"
#include "outbuf.h"

#define SERIAL_NPORTS 8
#define SERIAL_FIFO 16

struct serial {
    /* Taken by bus accesses, serial_receive() and serial_tx_room(); the
     * output buffer's lock nests inside it. */
    pthread_mutex_t lock;
    struct outbuf *out; /* where THR's bytes go; NULL: discarded */
    struct dev_env env;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    int thr_irq_pending; /* THR-empty interrupt waiting for IIR read */
    uint8_t rx[SERIAL_FIFO];
    unsigned rx_head, rx_count;
    bool overrun;  /* a received byte was lost: LSR OE until read */
    unsigned irq;  /* the interrupt line (4 for COM1) */
    int irq_level; /* the level last given to env.irq */
};

/* out (NULL: output discarded) is the owner's, started before the guest
 * runs, with serial_tx_room(s) as its client's room call. */
void serial_init(struct serial *s, struct outbuf *out, unsigned irq,
                 const struct dev_env *env);
void serial_fini(struct serial *s);

/* The power-on state: registers, an empty receive FIFO, the line low. */
void serial_reset(struct serial *s);

/* The output buffer has room again: THR is empty, THRE back in LSR, and
 * the THR-empty interrupt raised if enabled (the buffer's thread). */
void serial_tx_room(void *s);

/* The VM starts: the interrupt line is set from the state, so that a
 * restored UART raises an interrupt due when it was saved (after the
 * irqchip was restored, which would have overwritten it). */
void serial_start(struct serial *s);

/* Bus handler for the 8 registers starting at the UART's base port. */
void serial_io(void *dev, const struct bus_access *access);

/* Puts received bytes in the receive FIFO, as many as fit (the rest is
 * for the caller to offer again later: nothing is dropped here). Returns
 * how many were taken. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* One line describing the UART's registers, FIFO and interrupt line. */
int serial_describe(struct serial *s, char *buf, size_t len);
/* The guest-visible state, for snapshots: fixed-size fields, no locks or
 * pointers (the output fd and the IRQ line belong to the machine). */
struct serial_state {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr, overrun;
    uint8_t thr_irq_pending, irq_level, rx_head, rx_count;
    uint8_t rx[SERIAL_FIFO];
};

/* Copies the state out (under the device lock). */
void serial_save(struct serial *s, struct serial_state *st);

/* Loads a saved state; out-of-range values are clamped, so any bytes are
 * safe. Raises the IRQ line again if it was raised when saved. */
void serial_load(struct serial *s, const struct serial_state *st);

/* The device: the UART with its output buffer and the buffer's thread;
 * the machine's console. */
extern const struct dev_desc serial_dev;

#endif
