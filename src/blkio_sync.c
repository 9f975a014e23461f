/* blkio_sync.c: the sync block I/O engine: a pool of threads making the
 * system calls, for hosts without io_uring. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blkio.h"
#include "error.h"

/* Workers at most: each runs one call at a time, so this many requests
 * are in the kernel at once (the queue depth the host sees). */
#define SYNC_MAX_WORKERS 16

struct sync_pool {
    struct blkio *e;
    /* lock guards the lists, idle, stop and nthreads (a leaf lock). */
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct blkio_req *todo, **todo_tail; /* FIFO */
    struct blkio_req *done, **done_tail; /* FIFO */
    unsigned todo_count, idle, nthreads, max;
    bool stop;
    pthread_t threads[SYNC_MAX_WORKERS];
};

static void sync_push(struct blkio_req ***tail, struct blkio_req *r)
{
    r->next = NULL;
    **tail = r;
    *tail = &r->next;
}

/* One system call; its result as io_uring would give it. */
static int sync_call(const struct blkio *e, const struct blkio_req *r)
{
    ssize_t n;

    switch (r->op) {
    case BLKIO_READ:
        n = preadv(e->fd, r->iov, (int)r->niov, (off_t)r->offset);
        break;
    case BLKIO_WRITE:
        n = pwritev(e->fd, r->iov, (int)r->niov, (off_t)r->offset);
        break;
    case BLKIO_FLUSH:
        n = fdatasync(e->fd);
        break;
    default: /* DISCARD, WRITE_ZEROES */
        n = fallocate(e->fd, r->mode, (off_t)r->offset, (off_t)r->len);
        break;
    }
    /* A transfer is at most MAX_RW_COUNT (INT_MAX & PAGE_MASK) bytes. */
    return n < 0 ? -errno : (int)n;
}

static void *sync_worker(void *arg)
{
    struct sync_pool *p = arg;
    struct blkio_req *r;
    uint64_t one = 1;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        p->idle++;
        while (!p->stop && !p->todo)
            pthread_cond_wait(&p->work, &p->lock);
        p->idle--;
        if (p->stop)
            break;
        r = p->todo;
        p->todo = r->next;
        if (!p->todo)
            p->todo_tail = &p->todo;
        p->todo_count--;
        pthread_mutex_unlock(&p->lock);
        r->res = sync_call(p->e, r);
        pthread_mutex_lock(&p->lock);
        sync_push(&p->done_tail, r);
        if (write(p->e->event_fd, &one, sizeof(one)) < 0) {
            /* only at a counter of 2^64 - 2: readable anyway */
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int sync_spawn_plain(pthread_t *thread, void *(*fn)(void *), void *arg)
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

static int sync_open(struct blkio *e)
{
    struct sync_pool *p = calloc(1, sizeof(*p));
    int r;

    if (!p)
        return err_set(ENOMEM, "out of memory for the I/O pool");
    p->e = e;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->todo_tail = &p->todo;
    p->done_tail = &p->done;
    p->max = e->depth < SYNC_MAX_WORKERS ? e->depth : SYNC_MAX_WORKERS;
    /* One worker from the start: the pool can never be without one. */
    r = (e->spawn ? e->spawn : sync_spawn_plain)(&p->threads[0], sync_worker,
                                                 p);
    if (r) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return err_set(r, "starting an I/O worker: %s", strerror(r));
    }
    p->nthreads = 1;
    e->priv = p;
    return 0;
}

/* Workers start as the queue needs them (an idle disk has none), up to
 * max: one per request waiting beyond the idle ones. One that cannot be
 * started leaves the work to the others (none at all: the request waits
 * for the next kick, and the first failure is the open's). Lock held. */
static void sync_grow(struct blkio *e, struct sync_pool *p)
{
    iothread_spawn_fn *spawn = e->spawn ? e->spawn : sync_spawn_plain;
    unsigned want = p->todo_count > p->idle ? p->todo_count - p->idle : 0;

    while (want-- && p->nthreads < p->max) {
        if (spawn(&p->threads[p->nthreads], sync_worker, p) != 0)
            break;
        p->nthreads++;
    }
}

static void sync_kick(struct blkio *e)
{
    struct sync_pool *p = e->priv;
    struct blkio_req *r;
    unsigned n = 0;

    pthread_mutex_lock(&p->lock);
    while ((r = e->queue)) {
        e->queue = r->next;
        sync_push(&p->todo_tail, r);
        n++;
    }
    e->queue_tail = &e->queue;
    p->todo_count += n;
    sync_grow(e, p);
    if (n == 1)
        pthread_cond_signal(&p->work);
    else
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

static void sync_reap(struct blkio *e)
{
    struct sync_pool *p = e->priv;
    struct blkio_req *list, *r;

    pthread_mutex_lock(&p->lock);
    list = p->done;
    p->done = NULL;
    p->done_tail = &p->done;
    pthread_mutex_unlock(&p->lock);
    while ((r = list)) {
        list = r->next;
        blkio_finished(e, r, r->res);
    }
}

static void sync_close(struct blkio *e)
{
    struct sync_pool *p = e->priv;

    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const struct blkio_engine blkio_sync_engine = {
    "sync", sync_open, sync_kick, sync_reap, sync_close,
};
