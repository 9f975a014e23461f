/* blkio.h: block I/O engines over a disk's descriptor: io_uring or a pool. */
#ifndef KVMRUN_BLKIO_H
#define KVMRUN_BLKIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "iothread.h"

/*
 * A request is submitted, runs in the kernel (io_uring) or on a worker
 * thread (sync), and completes through the engine's eventfd: the thread
 * that calls blkio_reap() when it is readable (the device's I/O thread)
 * runs the request's done callback. So a device sees its requests start
 * and end on its own thread, and as many run at once as the guest
 * submitted (up to the engine's depth; the rest wait in a queue): the
 * guest's queue depth reaches the host.
 *
 * What an engine does for each operation:
 *   READ, WRITE    preadv / pwritev of iov at offset; a short transfer
 *                  is resubmitted for the rest, EINTR and EAGAIN are
 *                  retried; all bytes or an error
 *   FLUSH          fdatasync
 *   DISCARD        fallocate(PUNCH_HOLE | KEEP_SIZE); a filesystem that
 *                  cannot punch holes makes it a successful no-op (a
 *                  discard is a hint)
 *   WRITE_ZEROES   fallocate(ZERO_RANGE | KEEP_SIZE), or PUNCH_HOLE first
 *                  with BLKIO_UNMAP; where ZERO_RANGE is refused
 *                  (EOPNOTSUPP: tmpfs, some block devices), PUNCH_HOLE
 *                  then a plain fallocate to allocate the range again
 *                  (unless BLKIO_UNMAP); reads of the range give zeros
 *                  afterwards, or the request fails (-EOPNOTSUPP)
 */
enum blkio_op {
    BLKIO_READ,
    BLKIO_WRITE,
    BLKIO_FLUSH,
    BLKIO_DISCARD,
    BLKIO_WRITE_ZEROES,
};

/* Request flags. */
#define BLKIO_UNMAP 0x1u /* WRITE_ZEROES may deallocate the range */

/* Which engine: AUTO is io_uring where it can be had, else sync. */
enum blkio_kind {
    BLKIO_AUTO,
    BLKIO_URING,
    BLKIO_SYNC,
};

struct blkio_req;

/* res: 0 (every byte transferred, or the operation done) or -errno. */
typedef void blkio_done_fn(struct blkio_req *req, int res);

struct blkio_req {
    /* The caller's, set before blkio_submit(). The engine may change iov,
     * niov and offset (it advances them past a short transfer) until the
     * request completes. */
    enum blkio_op op;
    unsigned flags;
    uint64_t offset;
    uint64_t len; /* DISCARD, WRITE_ZEROES: bytes */
    struct iovec *iov;
    unsigned niov; /* at most IOV_MAX */
    blkio_done_fn *done;
    void *opaque;
    /* The engine's. */
    struct blkio_req *next;
    uint64_t left;    /* READ/WRITE: bytes still to transfer */
    unsigned retries; /* EINTR/EAGAIN in a row */
    unsigned stage;   /* WRITE_ZEROES: which fallocate is next */
    int mode;         /* fallocate mode of the next call */
    int res;          /* the last call's result */
};

struct blkio;

/* What an engine implements (blkio_uring.c, blkio_sync.c). */
struct blkio_engine {
    const char *name; /* "io_uring", "sync" */
    /* Sets e->priv up. 0 or -errno with the message set. */
    int (*open)(struct blkio *e);
    /* Starts what blkio_submit() queued (e->queue, FIFO), as much as the
     * engine's depth allows: takes them off the queue. */
    void (*kick)(struct blkio *e);
    /* Calls blkio_finished() for every finished call; the eventfd was
     * read already. */
    void (*reap)(struct blkio *e);
    /* Waits for the calls still running (their results are dropped) and
     * frees e->priv. */
    void (*close)(struct blkio *e);
};

struct blkio_params {
    const char *name;     /* the disk, for messages: "vda" */
    int fd;               /* the disk's descriptor (the caller's) */
    enum blkio_kind kind; /* AUTO: io_uring, or sync with a note */
    unsigned depth; /* requests in the kernel (or workers) at once; 0: 64 */
    iothread_spawn_fn *spawn; /* sync's workers; NULL: pthread_create with
                                 signals blocked */
    const struct blkio_engine *engine; /* tests: this engine, not kind's */
};

struct blkio {
    const char *name;
    int fd;
    enum blkio_kind kind; /* URING or SYNC: what runs */
    unsigned depth;
    iothread_spawn_fn *spawn;
    int event_fd; /* readable: call blkio_reap() */
    const struct blkio_engine *engine;
    void *priv;
    /* The submitting thread's. */
    struct blkio_req *queue, **queue_tail; /* submitted, not yet started */
    struct blkio_req *early;               /* failed before it started */
    unsigned inflight;                     /* submitted, not yet done */
    bool no_zero_range;                    /* ZERO_RANGE was refused */
    char note[200]; /* why AUTO fell back to sync, or "" */
    uint64_t submitted, completed, resubmitted;
};

/*
 * Opens an engine over p->fd: io_uring (a ring restricted to the four
 * opcodes used: READV, WRITEV, FSYNC, FALLOCATE; completions signalled on
 * an eventfd) or the sync pool. With BLKIO_AUTO, an io_uring that cannot
 * be had (io_uring_setup fails: ENOSYS, EPERM as with
 * kernel.io_uring_disabled=2 or a container's seccomp profile; or the ring
 * cannot be restricted) gives the sync engine and a one-line note in
 * blkio_note(). 0 or -errno with the message set.
 */
int blkio_open(struct blkio **ep, const struct blkio_params *p);

/* Completes what is in flight first (callbacks run, as blkio_drain()
 * for up to 30 s), then frees the engine; a request still running then
 * is waited for by the engine's own teardown, its callback not called.
 * NULL ok. */
void blkio_close(struct blkio *e);

/* Queues req; it starts at the next blkio_kick() (and when earlier ones
 * complete). The submitting thread is the reaping thread. */
void blkio_submit(struct blkio *e, struct blkio_req *req);

/* Starts what was submitted since the last kick: one system call for a
 * batch (io_uring_enter), or a wake-up of the workers. */
void blkio_kick(struct blkio *e);

/* The eventfd is readable: runs the callbacks of completed requests (on
 * this thread), resubmits short transfers, starts queued requests. */
void blkio_reap(struct blkio *e);

/* For engines: a call finished with res (bytes, or -errno). */
void blkio_finished(struct blkio *e, struct blkio_req *req, int res);

/* Requests submitted and not yet completed. */
unsigned blkio_inflight(const struct blkio *e);

/* Reaps (poll() on the eventfd) until nothing is in flight, for at most
 * timeout_ms. 0 or -ETIMEDOUT. Teardown and tests; a device drains
 * through its I/O thread instead. */
int blkio_drain(struct blkio *e, unsigned timeout_ms);

int blkio_event_fd(const struct blkio *e);

/* "io_uring" or "sync". */
const char *blkio_kind_name(enum blkio_kind kind);

/* Why BLKIO_AUTO fell back to sync ("vda: io_uring unavailable
 * (io_uring_setup: ...): using the sync engine"), or "". */
const char *blkio_note(const struct blkio *e);

extern const struct blkio_engine blkio_uring_engine, blkio_sync_engine;

#endif
