/* outbuf.h: a device's output, held in a ring and written out by a thread. */
#ifndef KVMRUN_OUTBUF_H
#define KVMRUN_OUTBUF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A vCPU thread must never wait for host I/O: a device's transmitter
 * (the UART today, a virtio console later) puts its bytes into this ring
 * under its own lock and goes on; a thread of the ring's own writes them
 * to the descriptor, waiting for it with poll() (POLLOUT, and an eventfd
 * that wakes it). When the ring is nearly full the device reports its
 * transmitter busy, as hardware does while its FIFO drains, and the
 * thread calls the device back once there is room again.
 *
 * 64 KiB: as much as a pipe holds, some 800 lines of a Linux boot log; it
 * fills in about 0.1 s of a guest streaming as fast as it can exit, so a
 * reader that stalls longer than that holds the guest's transmitter busy.
 * Pages are touched only as output passes through them.
 */
#define OUTBUF_SIZE (64u << 10)

/* At most this much in one write(): a pipe write of up to PIPE_BUF bytes
 * is all or nothing, so once poll() said POLLOUT it does not block. */
#define OUTBUF_CHUNK 4096u

/* At exit (kvmrun_vm_destroy) what is held is written while the reader
 * takes some of it at least every STALL_MS, up to MAX_MS in all; the rest
 * is dropped, and said so. */
#define OUTBUF_FLUSH_STALL_MS 1000u
#define OUTBUF_FLUSH_MAX_MS 2000u

struct outbuf_client {
    /* Called by the output thread, with no lock of the ring held, once
     * there is room again after outbuf_room() said there was none. */
    void (*room)(void *dev);
    void *dev;
    /* One line for a human (an output error, bytes dropped). */
    void (*report)(void *machine, const char *line);
    void *machine;
};

struct outbuf {
    /* Leaf lock: taken under the device's lock (outbuf_put), never held
     * while calling the client, writing or polling. */
    pthread_mutex_t lock;
    pthread_cond_t progress; /* bytes were written, or the thread ended */
    const char *name;        /* "serial": messages, and "serial-out" */
    int fd;                  /* -1: output discarded */
    int wake_fd;             /* eventfd: data after idle, or stop */
    int intr_signal;         /* interrupts a blocked write() at stop; 0 */
    uint8_t *buf;
    size_t size;         /* a power of two */
    size_t low;          /* room the device needs to call itself ready */
    uint64_t head, tail; /* bytes ever put / written: held = head - tail */
    uint64_t dropped;    /* refused while full, not yet reported */
    bool idle;           /* the thread sleeps until wake_fd: wake it */
    bool armed;          /* call client.room once there is room */
    bool failed;         /* a write error was reported: discard */
    bool stop;           /* outbuf_fini: the thread must end */
    bool ended;          /* the thread has ended */
    bool gave_up;        /* a flush gave up with tail at gave_up_at */
    uint64_t gave_up_at;
    char why[48];     /* how the last flush gave up */
    bool ready;       /* outbuf_init() succeeded, outbuf_fini() not yet */
    bool thread_live; /* thread was started and is not yet joined */
    pthread_t thread; /* started by the owner: outbuf_thread(ob) */
    struct outbuf_client client;
};

/*
 * Prepares ob for fd (-1: discard everything; no thread is needed then):
 * a ring of size bytes (a power of two) of which the device wants low
 * free to call itself ready (a FIFO's worth). intr_signal, if not 0, has
 * a handler without SA_RESTART; the thread unblocks it so that
 * outbuf_fini() can interrupt a write() that blocks (a terminal under
 * XOFF). name must outlive ob. Returns 0 or -errno.
 */
int outbuf_init(struct outbuf *ob, const char *name, int fd, size_t size,
                size_t low, int intr_signal,
                const struct outbuf_client *client);

/* The output thread's body (the owner starts it, sets thread_live). */
void *outbuf_thread(void *ob);

/*
 * Queues one byte; never blocks. Returns false when the ring is full and
 * the byte was dropped (counted, reported once room comes back); true
 * when it was queued, or discarded because there is no output.
 */
bool outbuf_put(struct outbuf *ob, uint8_t byte);

/*
 * Queues as many of the len bytes at data as fit; never blocks and never
 * drops: returns how many were taken (len when output is discarded), the
 * rest being the caller's to offer again once outbuf_room() said so.
 */
size_t outbuf_put_some(struct outbuf *ob, const uint8_t *data, size_t len);

/* True while at least `low` bytes are free (or output is discarded);
 * false arms client.room, called once when there is room again. */
bool outbuf_room(struct outbuf *ob);

/* Bytes held, not yet written. */
uint64_t outbuf_held(struct outbuf *ob);

/*
 * Waits until the bytes put before the call are written: as long as the
 * reader takes some at least every stall_ms, up to max_ms in all. Returns
 * 0, or -ETIMEDOUT with *held the bytes still held (they stay, and are
 * written if the reader comes back).
 */
int outbuf_flush(struct outbuf *ob, unsigned stall_ms, unsigned max_ms,
                 uint64_t *held);

/* How the last flush gave up: "took none for 1000 ms", ... */
const char *outbuf_why(const struct outbuf *ob);

/* True if the last flush gave up and nothing was written since: another
 * wait at exit would only wait as long again. */
bool outbuf_stalled(struct outbuf *ob);

/*
 * Ends the thread (re-sending intr_signal until a blocked write gives up)
 * and frees the ring. Returns how many bytes held were dropped. Bytes
 * dropped while full and not yet reported are reported now.
 */
uint64_t outbuf_fini(struct outbuf *ob);

#endif
