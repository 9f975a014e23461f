/* iothread.h: an I/O thread: an epoll loop over eventfds, and its quiesce. */
#ifndef KVMRUN_IOTHREAD_H
#define KVMRUN_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Device work runs here, never on a vCPU thread (docs/virtio.md): the
 * thread waits in epoll_wait() on descriptors that handlers are registered
 * for (a queue's kick eventfd, which KVM_IOEVENTFD writes; an engine's
 * completion eventfd) and on a control eventfd of its own, and runs one
 * handler at a time. Everything a handler touches is therefore touched by
 * this thread only; other threads reach that state only while the thread
 * is parked (iothread_pause(), or the short barrier that iothread_add(),
 * iothread_del() and iothread_client_*() take).
 *
 * Quiesce (pause, snapshot, device reset, stop): a paused VM has no
 * request in flight in kvmrun. iothread_pause() asks the thread to drain:
 * it stops running the handlers flagged IOTHREAD_WORK (sources of new
 * requests: kicks), which stay registered and pending, calls each
 * client's quiesce(), keeps running the other handlers (completions)
 * until every client's inflight() is 0, then parks between two handlers
 * and tells the pauser. iothread_resume() lets it run again: it calls
 * each client's resume() and re-arms the IOTHREAD_WORK handlers, whose
 * pending kicks then run (level-triggered: no kick is lost).
 */

#define IOTHREAD_MAX_HANDLERS 64
#define IOTHREAD_MAX_CLIENTS 16

/* Handler flags. */
#define IOTHREAD_WORK 0x1u /* brings new requests: not run while draining */
#define IOTHREAD_OUT 0x2u  /* run when fd is writable, not readable */

/* Called on the I/O thread when fd is readable (or, with IOTHREAD_OUT,
 * writable). It reads the fd itself. */
typedef void iothread_fn(void *opaque);

/*
 * A backend (a device and its engine) that can have requests in flight.
 * Every callback runs on the I/O thread, one at a time, with no lock of
 * the thread's held, so it may call iothread_draining() and run
 * completions. quiesce and resume may be NULL.
 *   quiesce: draining starts: take no new request (those already taken
 *            are to complete; submit any the backend holds back).
 *   inflight: requests taken and not yet completed; the thread parks
 *            once every client says 0.
 *   resume:  the pause is over: look for work again.
 */
struct iothread_client {
    const char *name; /* for the report of a pause that timed out */
    void (*quiesce)(void *opaque);
    unsigned (*inflight)(void *opaque);
    void (*resume)(void *opaque);
    void *opaque;
};

/* Where the thread is; the pauser waits for IOTHREAD_PARKED. */
enum iothread_state {
    IOTHREAD_RUNNING,
    IOTHREAD_DRAINING, /* IOTHREAD_WORK handlers masked, waiting for 0 */
    IOTHREAD_PARKED,   /* between two handlers, waiting for the go */
    IOTHREAD_ENDED,
};

struct iothread_handler {
    int fd; /* -1: free slot */
    unsigned flags;
    iothread_fn *fn;
    void *opaque;
    uint32_t gen; /* bumped when the slot changes: stale events skip */
};

/* Starts a thread: kvmrun_thread_create()'s signature and contract (every
 * signal blocked but SIGSYS); pthread_create's result. */
typedef int iothread_spawn_fn(pthread_t *thread, void *(*fn)(void *),
                              void *arg);

struct iothread {
    const char *name; /* the thread's name (15 bytes at most) */
    int epfd;
    int ctl_fd; /* eventfd: a request for the thread (park, stop) */
    pthread_t thread;
    bool started; /* the thread runs (or ran) and is to be joined */
    /* lock guards what follows and the handler and client tables'
     * changes (taken by the thread between handlers, never across one).
     * A leaf lock: taken under a device's or transport's lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* state changed, or a request for the thread */
    enum iothread_state state;
    unsigned pauses;   /* iothread_pause() holds */
    unsigned barriers; /* short parks asked for by the table changes */
    bool stop;
    bool drained; /* parked for a pause with nothing in flight */
    bool want;    /* any request above: the thread looks under the lock */
    pthread_t self;
    /* The client that held the drain up at the last look, and by how
     * many requests: the report of a pause that times out. */
    char busy_name[48];
    unsigned busy_count;
    struct iothread_handler h[IOTHREAD_MAX_HANDLERS];
    struct iothread_client c[IOTHREAD_MAX_CLIENTS];
    unsigned nclients;
    /* Counters, for tests and statistics (the thread's own). */
    uint64_t dispatched, parks;
};

/*
 * Prepares io (epoll and control eventfd); name must outlive it. Starts
 * nothing. 0 or -errno with the message set.
 */
int iothread_init(struct iothread *io, const char *name);

/*
 * Starts the thread through spawn (the machine passes kvmrun_thread_create;
 * NULL: plain pthread_create with every signal but SIGSYS blocked).
 * Handlers and clients may be added before or after. 0 or -errno.
 */
int iothread_start(struct iothread *io, iothread_spawn_fn *spawn);

/*
 * Drains (for at most drain_ms, 0: no limit) as iothread_pause() does,
 * then ends and joins the thread, and frees the rest. A drain that timed
 * out is reported in the return value (-ETIMEDOUT, message set; the
 * thread is stopped all the same: the clients' own teardown must cancel
 * or wait for what is still in flight). 0 if all was quiet. Safe on an
 * io that was only initialised, or never started.
 */
int iothread_fini(struct iothread *io, unsigned drain_ms);

/*
 * Calls fn(opaque) on the I/O thread whenever fd is readable (level
 * triggered: fn must read it, or it runs again). flags: IOTHREAD_WORK or
 * 0. From any thread: a foreign thread waits for the I/O thread to be
 * between handlers. 0, -EEXIST (fd already there), -ENOSPC (table full)
 * or -errno of epoll_ctl, with the message set.
 */
int iothread_add(struct iothread *io, int fd, unsigned flags, iothread_fn *fn,
                 void *opaque);

/* Removes fd's handler: once this returns, it does not run again and is
 * not running. From any thread. No-op for an fd not registered. */
void iothread_del(struct iothread *io, int fd);

/* Registers (copies) a client, or removes the one with that opaque, from
 * any thread. add: 0 or -ENOSPC. */
int iothread_client_add(struct iothread *io, const struct iothread_client *c);
void iothread_client_del(struct iothread *io, void *opaque);

/*
 * Quiesces the thread: returns 0 once it is parked with no handler
 * running and every client reporting no request in flight. Pauses nest
 * (each successful one needs its iothread_resume()); one made while
 * parked returns at once. From any thread but the I/O thread (-EDEADLK).
 * timeout_ms 0: no limit. On -ETIMEDOUT the pause is withdrawn (the
 * thread goes back to running if no other pause holds it) and the
 * message names the client still busy and its count.
 */
int iothread_pause(struct iothread *io, unsigned timeout_ms);

/* Releases one pause; the last lets the thread run again. */
void iothread_resume(struct iothread *io);

/* On the I/O thread (a handler or a client's callback): true while a
 * pause drains or holds it, when a backend must take no new request. */
bool iothread_draining(const struct iothread *io);

/* True on the I/O thread itself. */
bool iothread_self(const struct iothread *io);

#endif
