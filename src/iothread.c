/* iothread.c: an I/O thread: an epoll loop over eventfds, and its quiesce. */
#include "iothread.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* epoll data of the control eventfd; handlers' is gen << 32 | slot. */
#define IOTHREAD_CTL UINT64_MAX
#define IOTHREAD_EVENTS 32

static void iothread_signal(struct iothread *io)
{
    uint64_t one = 1;

    /* Cannot fail but for a counter at 2^64 - 2, which reads reset. */
    if (write(io->ctl_fd, &one, sizeof(one)) < 0)
        return;
}

/* Under io->lock: there is something for the thread to look at. */
static void iothread_want(struct iothread *io)
{
    __atomic_store_n(&io->want, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&io->cond);
    iothread_signal(io);
}

int iothread_init(struct iothread *io, const char *name)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = IOTHREAD_CTL};
    pthread_condattr_t attr;
    int r;

    memset(io, 0, sizeof(*io));
    io->name = name;
    io->ctl_fd = -1;
    for (unsigned i = 0; i < IOTHREAD_MAX_HANDLERS; i++)
        io->h[i].fd = -1;
    io->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (io->epfd < 0)
        return err_errno(errno, "%s: epoll_create1", name);
    io->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (io->ctl_fd < 0) {
        r = err_errno(errno, "%s: eventfd", name);
        close(io->epfd);
        return r;
    }
    if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->ctl_fd, &ev) < 0) {
        r = err_errno(errno, "%s: epoll_ctl", name);
        close(io->ctl_fd);
        close(io->epfd);
        return r;
    }
    pthread_mutex_init(&io->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&io->cond, &attr);
    pthread_condattr_destroy(&attr);
    io->state = IOTHREAD_RUNNING;
    return 0;
}

bool iothread_self(const struct iothread *io)
{
    return io->started && pthread_equal(io->self, pthread_self());
}

bool iothread_draining(const struct iothread *io)
{
    return io->state != IOTHREAD_RUNNING;
}

/* What a handler waits for: readable, or writable (IOTHREAD_OUT). */
static uint32_t iothread_events(unsigned flags)
{
    return flags & IOTHREAD_OUT ? EPOLLOUT : EPOLLIN;
}

/* Arms (its events) or masks (none) the IOTHREAD_WORK handlers. The
 * thread's own, or under a barrier. */
static void iothread_arm_work(struct iothread *io, bool on)
{
    for (unsigned i = 0; i < IOTHREAD_MAX_HANDLERS; i++) {
        struct iothread_handler *h = &io->h[i];
        struct epoll_event ev = {on ? iothread_events(h->flags) : 0,
                                 {.u64 = (uint64_t)h->gen << 32 | i}};

        if (h->fd >= 0 && h->flags & IOTHREAD_WORK)
            epoll_ctl(io->epfd, EPOLL_CTL_MOD, h->fd, &ev);
    }
}

/* Draining starts (the thread, lock not held). */
static void iothread_quiesce(struct iothread *io)
{
    pthread_mutex_lock(&io->lock);
    io->state = IOTHREAD_DRAINING;
    pthread_mutex_unlock(&io->lock);
    iothread_arm_work(io, false);
    for (unsigned i = 0; i < io->nclients; i++)
        if (io->c[i].quiesce)
            io->c[i].quiesce(io->c[i].opaque);
}

/* The last pause went (the thread, lock not held). */
static void iothread_unquiesce(struct iothread *io)
{
    iothread_arm_work(io, true);
    pthread_mutex_lock(&io->lock);
    io->state = IOTHREAD_RUNNING;
    pthread_mutex_unlock(&io->lock);
    for (unsigned i = 0; i < io->nclients; i++)
        if (io->c[i].resume)
            io->c[i].resume(io->c[i].opaque);
}

/* Asks every client (the thread, lock not held); records the first busy
 * one for a timed-out pause's report. True when none is. */
static bool iothread_idle(struct iothread *io)
{
    unsigned n = 0, i;

    for (i = 0; i < io->nclients; i++) {
        n = io->c[i].inflight(io->c[i].opaque);
        if (n)
            break;
    }
    pthread_mutex_lock(&io->lock);
    io->busy_count = n;
    if (n)
        snprintf(io->busy_name, sizeof(io->busy_name), "%s", io->c[i].name);
    pthread_mutex_unlock(&io->lock);
    return n == 0;
}

/* Under the lock: parks until nothing asks for it any more (or stop).
 * drained: parked for a pause, with nothing in flight. */
static void iothread_park(struct iothread *io, bool drained)
{
    enum iothread_state back = io->state;

    io->state = IOTHREAD_PARKED;
    io->drained = drained;
    io->parks++;
    pthread_cond_broadcast(&io->cond);
    while (!io->stop && (io->barriers || (drained && io->pauses)))
        pthread_cond_wait(&io->cond, &io->lock);
    io->drained = false;
    io->state = back;
}

/*
 * Between two handlers: acts on requests (pause, barrier, stop). Returns
 * true when the thread must end. The fast path takes no lock: the flag
 * is set before the control eventfd is written, and while draining the
 * thread looks after every handler anyway.
 */
static bool iothread_look(struct iothread *io)
{
    bool idle;

    if (!__atomic_load_n(&io->want, __ATOMIC_ACQUIRE) &&
        io->state == IOTHREAD_RUNNING)
        return false;
    pthread_mutex_lock(&io->lock);
    for (;;) {
        __atomic_store_n(&io->want, false, __ATOMIC_RELAXED);
        if (io->stop)
            break;
        if (io->pauses && io->state == IOTHREAD_RUNNING) {
            pthread_mutex_unlock(&io->lock);
            iothread_quiesce(io);
            pthread_mutex_lock(&io->lock);
            continue;
        }
        if (!io->pauses && io->state == IOTHREAD_DRAINING) {
            pthread_mutex_unlock(&io->lock);
            iothread_unquiesce(io);
            pthread_mutex_lock(&io->lock);
            continue;
        }
        idle = false;
        if (io->state == IOTHREAD_DRAINING) {
            pthread_mutex_unlock(&io->lock);
            idle = iothread_idle(io);
            pthread_mutex_lock(&io->lock);
            if (!io->pauses || io->stop)
                continue; /* withdrawn meanwhile: look again */
        }
        if (!io->barriers && !idle)
            break; /* back to epoll: running, or waiting for completions */
        iothread_park(io, idle);
        if (!io->pauses && !io->barriers && io->state == IOTHREAD_RUNNING)
            break;
    }
    pthread_mutex_unlock(&io->lock);
    return io->stop;
}

static void iothread_dispatch(struct iothread *io, uint64_t data)
{
    uint32_t slot = (uint32_t)data, gen = (uint32_t)(data >> 32);
    struct iothread_handler *h;
    uint64_t v;

    if (data == IOTHREAD_CTL) {
        if (read(io->ctl_fd, &v, sizeof(v)) < 0)
            return; /* EAGAIN: read by an earlier event of the batch */
        return;
    }
    if (slot >= IOTHREAD_MAX_HANDLERS)
        return;
    h = &io->h[slot];
    /* Removed or replaced after epoll_wait() returned it; or masked
     * after it did (draining). */
    if (h->fd < 0 || h->gen != gen)
        return;
    if (h->flags & IOTHREAD_WORK && io->state != IOTHREAD_RUNNING)
        return;
    h->fn(h->opaque);
    io->dispatched++;
}

static void *iothread_main(void *arg)
{
    struct iothread *io = arg;
    struct epoll_event ev[IOTHREAD_EVENTS];
    bool stop = false;
    int n;

    pthread_setname_np(pthread_self(), io->name);
    while (!stop && !(stop = iothread_look(io))) {
        n = epoll_wait(io->epfd, ev, IOTHREAD_EVENTS, -1);
        if (n < 0 && errno != EINTR)
            break; /* EBADF/EINVAL: a bug; end rather than spin */
        for (int i = 0; i < n && !stop; i++) {
            iothread_dispatch(io, ev[i].data.u64);
            stop = iothread_look(io);
        }
    }
    pthread_mutex_lock(&io->lock);
    io->state = IOTHREAD_ENDED;
    pthread_cond_broadcast(&io->cond);
    pthread_mutex_unlock(&io->lock);
    return NULL;
}

/* The default spawn: kvmrun_thread_create()'s signal mask, default stack. */
static int iothread_spawn_plain(pthread_t *thread, void *(*fn)(void *),
                                void *arg)
{
    sigset_t all, saved;
    int r;

    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    r = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return r;
}

int iothread_start(struct iothread *io, iothread_spawn_fn *spawn)
{
    int r;

    if (io->started)
        return err_set(EBUSY, "%s: already started", io->name);
    /* started and self are set before the thread runs: it reads them.
     * want: a pause made before the start is acted on at once. */
    pthread_mutex_lock(&io->lock);
    io->want = true;
    r = (spawn ? spawn : iothread_spawn_plain)(&io->thread, iothread_main, io);
    if (r == 0) {
        io->self = io->thread;
        io->started = true;
    }
    pthread_mutex_unlock(&io->lock);
    if (r)
        return err_set(r, "%s: creating the thread: %s", io->name, strerror(r));
    return 0;
}

/* Under the lock: waits until the thread is between handlers, unless it
 * does not run or this is the thread. False: nothing to wait for. */
static bool iothread_barrier_begin(struct iothread *io)
{
    if (!io->started || io->state == IOTHREAD_ENDED || iothread_self(io))
        return false;
    io->barriers++;
    iothread_want(io);
    while (io->state != IOTHREAD_PARKED && io->state != IOTHREAD_ENDED)
        pthread_cond_wait(&io->cond, &io->lock);
    return true;
}

static void iothread_barrier_end(struct iothread *io, bool began)
{
    if (!began)
        return;
    io->barriers--;
    pthread_cond_broadcast(&io->cond);
}

static int iothread_find(const struct iothread *io, int fd)
{
    for (int i = 0; i < IOTHREAD_MAX_HANDLERS; i++)
        if (io->h[i].fd == fd)
            return i;
    return -1;
}

static int iothread_add_locked(struct iothread *io, int fd, unsigned flags,
                               iothread_fn *fn, void *opaque)
{
    struct epoll_event ev = {iothread_events(flags), {0}};
    int slot = iothread_find(io, fd);
    struct iothread_handler *h;

    if (fd < 0 || slot >= 0)
        return err_set(fd < 0 ? EBADF : EEXIST, "%s: descriptor %d: %s",
                       io->name, fd,
                       fd < 0 ? "not open" : "already has a handler");
    slot = iothread_find(io, -1);
    if (slot < 0)
        return err_set(ENOSPC, "%s: more than %u descriptors", io->name,
                       IOTHREAD_MAX_HANDLERS);
    h = &io->h[slot];
    /* A source of work added while draining stays masked until resume. */
    if (flags & IOTHREAD_WORK && io->state != IOTHREAD_RUNNING &&
        io->state != IOTHREAD_ENDED)
        ev.events = 0;
    ev.data.u64 = (uint64_t)(h->gen + 1) << 32 | (uint32_t)slot;
    if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return err_errno(errno, "%s: epoll_ctl(ADD, %d)", io->name, fd);
    h->gen++;
    h->fd = fd;
    h->flags = flags;
    h->fn = fn;
    h->opaque = opaque;
    return 0;
}

int iothread_add(struct iothread *io, int fd, unsigned flags, iothread_fn *fn,
                 void *opaque)
{
    bool began;
    int r;

    pthread_mutex_lock(&io->lock);
    began = iothread_barrier_begin(io);
    r = iothread_add_locked(io, fd, flags, fn, opaque);
    iothread_barrier_end(io, began);
    pthread_mutex_unlock(&io->lock);
    return r;
}

void iothread_del(struct iothread *io, int fd)
{
    bool began;
    int slot;

    pthread_mutex_lock(&io->lock);
    began = iothread_barrier_begin(io);
    slot = fd < 0 ? -1 : iothread_find(io, fd);
    if (slot >= 0) {
        epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
        io->h[slot].fd = -1;
        io->h[slot].gen++; /* events already returned for it are skipped */
    }
    iothread_barrier_end(io, began);
    pthread_mutex_unlock(&io->lock);
}

int iothread_client_add(struct iothread *io, const struct iothread_client *c)
{
    bool began;
    int r = 0;

    pthread_mutex_lock(&io->lock);
    began = iothread_barrier_begin(io);
    if (io->nclients == IOTHREAD_MAX_CLIENTS)
        r = err_set(ENOSPC, "%s: more than %u clients", io->name,
                    IOTHREAD_MAX_CLIENTS);
    else
        io->c[io->nclients++] = *c;
    iothread_barrier_end(io, began);
    pthread_mutex_unlock(&io->lock);
    return r;
}

void iothread_client_del(struct iothread *io, void *opaque)
{
    bool began;

    pthread_mutex_lock(&io->lock);
    began = iothread_barrier_begin(io);
    for (unsigned i = 0; i < io->nclients; i++) {
        if (io->c[i].opaque != opaque)
            continue;
        memmove(&io->c[i], &io->c[i + 1],
                (io->nclients - i - 1) * sizeof(io->c[0]));
        io->nclients--;
        break;
    }
    iothread_barrier_end(io, began);
    pthread_mutex_unlock(&io->lock);
}

static struct timespec iothread_deadline(unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Under the lock: parked for a pause with nothing in flight, or gone. */
static bool iothread_quiet(const struct iothread *io)
{
    return io->state == IOTHREAD_ENDED ||
           (io->state == IOTHREAD_PARKED && io->drained);
}

int iothread_pause(struct iothread *io, unsigned timeout_ms)
{
    struct timespec deadline = iothread_deadline(timeout_ms);
    int r = 0;

    if (iothread_self(io))
        return err_set(EDEADLK, "%s: pause from the I/O thread itself",
                       io->name);
    pthread_mutex_lock(&io->lock);
    io->pauses++;
    if (!io->started) {
        pthread_mutex_unlock(&io->lock);
        return 0; /* nothing runs: it drains first thing at its start */
    }
    iothread_want(io);
    while (!iothread_quiet(io) && r == 0) {
        if (timeout_ms)
            r = pthread_cond_timedwait(&io->cond, &io->lock, &deadline);
        else
            pthread_cond_wait(&io->cond, &io->lock);
    }
    if (!iothread_quiet(io)) {
        io->pauses--;
        iothread_want(io);
        if (io->busy_count)
            r = err_set(ETIMEDOUT,
                        "%s: not quiet after %u ms: %s has %u request%s "
                        "in flight",
                        io->name, timeout_ms, io->busy_name, io->busy_count,
                        io->busy_count == 1 ? "" : "s");
        else
            r = err_set(ETIMEDOUT,
                        "%s: not quiet after %u ms: a handler is still "
                        "running",
                        io->name, timeout_ms);
    } else {
        r = 0;
    }
    pthread_mutex_unlock(&io->lock);
    return r;
}

void iothread_resume(struct iothread *io)
{
    pthread_mutex_lock(&io->lock);
    if (io->pauses) {
        io->pauses--;
        if (!io->pauses && io->started)
            iothread_want(io);
    }
    pthread_mutex_unlock(&io->lock);
}

int iothread_fini(struct iothread *io, unsigned drain_ms)
{
    int r = 0;

    if (io->ctl_fd < 0)
        return 0; /* never initialised, or finished */
    if (io->started) {
        r = iothread_pause(io, drain_ms);
        pthread_mutex_lock(&io->lock);
        io->stop = true;
        iothread_want(io);
        pthread_mutex_unlock(&io->lock);
        pthread_join(io->thread, NULL);
        io->started = false;
    }
    close(io->ctl_fd);
    close(io->epfd);
    io->ctl_fd = io->epfd = -1;
    pthread_cond_destroy(&io->cond);
    pthread_mutex_destroy(&io->lock);
    return r;
}
