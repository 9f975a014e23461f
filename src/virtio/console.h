/* console.h: the virtio console (port 0 only): the guest's hvc0 on the
 * host's terminal, served on an I/O thread. */
#ifndef KVMRUN_VIRTIO_CONSOLE_H
#define KVMRUN_VIRTIO_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_console.h>

#include "dev/dev.h"
#include "iothread.h"
#include "outbuf.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

/* Queues: port 0's receiveq (host to guest) and transmitq. No MULTIPORT,
 * so no control queues. 128 descriptors each, as QEMU's and kvmtool's. */
#define VCON_RXQ 0
#define VCON_TXQ 1
#define VCON_NQUEUES 2
#define VCON_QUEUE_SIZE 128
/* Segments a chain may have: a queue's worth (Linux uses one). */
#define VCON_SEG_MAX VCON_QUEUE_SIZE
/* Typed bytes held for the guest until it posts receive buffers: more
 * than anyone types ahead; the rest waits in the caller (never dropped). */
#define VCON_INPUT_SIZE 1024u
/* Free bytes of the output buffer that make the transmitter go on: one
 * write's worth, so that a full buffer is not refilled a byte at a time. */
#define VCON_OUT_LOW OUTBUF_CHUNK

/* What the machine gives the console. */
struct vcon_params {
    const char *name;    /* "virtio-console": messages, the output thread */
    struct iothread *io; /* the I/O thread serving the queues (started) */
    int out_fd;          /* where the guest's output goes; -1: nowhere */
    int intr_signal;     /* interrupts the output thread's blocked write */
    iothread_spawn_fn *spawn; /* starts the output thread */
    uint16_t cols, rows;      /* the terminal's size; 0: not offered */
    void (*report)(void *machine, const char *line); /* a guest's doing */
    void (*log)(void *machine, const char *line);    /* the host's side */
    void *machine;
};

/*
 * The device. The queues belong to the I/O thread once active (activate
 * and reset, on vCPU threads, pause it first); the input ring is shared
 * with the thread that types (vcon_input) under in_lock, a leaf lock.
 */
struct vcon {
    const char *name;
    struct iothread *io;
    struct vmmio *t; /* vcon_attach() */
    struct outbuf out;
    struct virtio_console_config config; /* little-endian, as read */
    struct virtio_dev dev;
    void (*log)(void *machine, const char *line);
    void *machine;
    int kick_fd[VCON_NQUEUES];   /* KVM_IOEVENTFD's targets, and notify()'s */
    int wake_fd;                 /* input typed, or output room: look again */
    struct vq *vq[VCON_NQUEUES]; /* the transport's, while active */
    struct iovec iov[VCON_SEG_MAX];
    bool broken;     /* needs a reset: serve nothing until it comes */
    bool tx_blocked; /* the output buffer is full: wait for its room call */
    /* Bytes of the transmitq's next chain already in the output buffer
     * (it was given back, not pushed, for want of room). */
    uint32_t tx_skip;
    /* A loaded state's tx_skip, for the activation that the transport's
     * restore makes after resetting the device. */
    uint32_t loaded_skip;
    pthread_mutex_t in_lock;
    uint8_t in[VCON_INPUT_SIZE];
    unsigned in_head, in_count;
    unsigned handlers; /* handlers added to io */
    bool ready;        /* vcon_init() succeeded, vcon_fini() not yet */
    /* The I/O thread's counters. */
    uint64_t tx_bytes, rx_bytes, tx_waits;
};

/* The console's own snapshot state (the transport's is vmmio_state):
 * fixed size, host byte order. */
struct vcon_state {
    uint32_t tx_skip;
    uint32_t in_count;
    uint16_t cols, rows;
    uint8_t pad[4];
    uint8_t in[VCON_INPUT_SIZE]; /* in_count bytes, oldest first */
};

/* The machine's device (src/virtio/device.c's glue): one instance with
 * --console virtio (cfg.console), none otherwise; the user's console. */
extern const struct dev_desc vcon_desc;

/*
 * Makes the console: its output buffer (out_fd; its thread started
 * through p->spawn), the kick eventfds, the config space and features
 * (SIZE when cols and rows are known; INDIRECT_DESC, EVENT_IDX), and its
 * handlers on p->io (IOTHREAD_WORK: the kicks and the wake eventfd), so
 * that activate and reset, on vCPU threads, only pause it and write
 * eventfds. 0 or -errno, message set, nothing left.
 */
int vcon_init(struct vcon *c, const struct vcon_params *p);

/* What vmmio_init() takes. */
const struct virtio_dev *vcon_dev(const struct vcon *c);

/* After vmmio_init(t, vcon_dev(c), ...): the transport it signals. */
void vcon_attach(struct vcon *c, struct vmmio *t);

/* Queue q's kick eventfd: the machine binds KVM_IOEVENTFD to it. */
int vcon_kick_fd(const struct vcon *c, unsigned q);

/*
 * Takes bytes the user typed, as many as the input ring holds now (the
 * rest is the caller's to offer again: nothing is dropped); the I/O
 * thread hands them to the guest's receive buffers as it posts them.
 * Any thread but the I/O thread.
 */
size_t vcon_input(struct vcon *c, const uint8_t *buf, size_t len);

/* Waits, bounded as the UART's (OUTBUF_FLUSH_*), until the output taken
 * so far is written: 0, or -ETIMEDOUT with the message set. */
int vcon_flush(struct vcon *c);

/* One line on the console's state: snprintf's count. */
int vcon_describe(struct vcon *c, char *buf, size_t len);

/* The new size of the terminal: config changed (SIZE offered only). */
void vcon_resize(struct vcon *c, uint16_t cols, uint16_t rows);

/* The state, with the I/O thread paused (a snapshot). */
void vcon_save(struct vcon *c, struct vcon_state *st);

/* Refuses a saved state the console could not have had: 0 or -EINVAL
 * with why written. */
int vcon_check(const struct vcon_state *st, char *why, size_t len);

/* Loads a checked state, before the transport's is restored (which
 * re-activates the device). */
void vcon_load(struct vcon *c, const struct vcon_state *st);

/* Unregisters from the I/O thread (still running), then writes what
 * the output buffer holds, bounded, and says what was dropped; ends the
 * output thread. After vmmio_fini(); safe after a failed init. */
void vcon_fini(struct vcon *c);

#endif
