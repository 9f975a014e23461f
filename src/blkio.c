/* blkio.c: block I/O engines: what io_uring and the pool have in common. */
#include "blkio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "kvmrun.h"

/* EINTR or EAGAIN this many times in a row: the request fails (-EIO)
 * rather than spin. */
#define BLKIO_MAX_RETRIES 1000
#define BLKIO_DEFAULT_DEPTH 64
/* blkio_close() waits this long for what is in flight. */
#define BLKIO_CLOSE_MS 30000

/* WRITE_ZEROES stages, in order (see blkio.h). */
enum {
    BLKIO_Z_UNMAP, /* PUNCH_HOLE, with BLKIO_UNMAP */
    BLKIO_Z_ZERO,  /* ZERO_RANGE */
    BLKIO_Z_PUNCH, /* PUNCH_HOLE where ZERO_RANGE is refused ... */
    BLKIO_Z_ALLOC, /* ... then allocate the range again */
};

static const int blkio_z_mode[] = {
    [BLKIO_Z_UNMAP] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
    [BLKIO_Z_ZERO] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
    [BLKIO_Z_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
    [BLKIO_Z_ALLOC] = FALLOC_FL_KEEP_SIZE,
};

const char *blkio_kind_name(enum blkio_kind kind)
{
    switch (kind) {
    case BLKIO_URING:
        return "io_uring";
    case BLKIO_SYNC:
        return "sync";
    default:
        return "auto";
    }
}

static void blkio_wake(struct blkio *e)
{
    uint64_t one = 1;

    if (write(e->event_fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: it is readable anyway */
}

static void blkio_enqueue(struct blkio *e, struct blkio_req *r)
{
    r->next = NULL;
    *e->queue_tail = r;
    e->queue_tail = &r->next;
}

/* Fails r before it starts; its callback runs at the next reap. */
static void blkio_fail_early(struct blkio *e, struct blkio_req *r, int res)
{
    r->res = res;
    r->next = e->early;
    e->early = r;
    blkio_wake(e);
}

static void blkio_z_stage(struct blkio *e, struct blkio_req *r, unsigned stage)
{
    if (stage == BLKIO_Z_ZERO && e->no_zero_range)
        stage = BLKIO_Z_PUNCH;
    r->stage = stage;
    r->mode = blkio_z_mode[stage];
}

void blkio_submit(struct blkio *e, struct blkio_req *r)
{
    r->retries = 0;
    r->res = 0;
    e->inflight++;
    e->submitted++;
    switch (r->op) {
    case BLKIO_READ:
    case BLKIO_WRITE:
        if (r->niov > IOV_MAX) {
            blkio_fail_early(e, r, -EINVAL);
            return;
        }
        r->left = 0;
        for (unsigned i = 0; i < r->niov; i++)
            r->left += r->iov[i].iov_len;
        break;
    case BLKIO_FLUSH:
        break;
    case BLKIO_DISCARD:
        r->mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        break;
    case BLKIO_WRITE_ZEROES:
        blkio_z_stage(e, r,
                      r->flags & BLKIO_UNMAP ? BLKIO_Z_UNMAP : BLKIO_Z_ZERO);
        break;
    default:
        blkio_fail_early(e, r, -EINVAL);
        return;
    }
    blkio_enqueue(e, r);
}

void blkio_kick(struct blkio *e)
{
    if (e->queue)
        e->engine->kick(e);
}

static void blkio_complete(struct blkio *e, struct blkio_req *r, int res)
{
    e->inflight--;
    e->completed++;
    r->done(r, res);
}

/* Moves iov past n bytes transferred. */
static void blkio_advance(struct blkio_req *r, uint64_t n)
{
    r->left -= n;
    r->offset += n;
    while (n && r->niov) {
        if (n < r->iov->iov_len) {
            r->iov->iov_base = (uint8_t *)r->iov->iov_base + n;
            r->iov->iov_len -= n;
            return;
        }
        n -= r->iov->iov_len;
        r->iov++;
        r->niov--;
    }
    /* Whole segments of 0 bytes left at the front are harmless. */
}

static void blkio_rw_finished(struct blkio *e, struct blkio_req *r, int res)
{
    if (res < 0) {
        blkio_complete(e, r, res);
    } else if ((uint64_t)res > r->left || (res == 0 && r->left)) {
        /* 0 before the end: the file shrank under us */
        blkio_complete(e, r, -EIO);
    } else {
        blkio_advance(r, (uint64_t)res);
        if (!r->left) {
            blkio_complete(e, r, 0);
            return;
        }
        e->resubmitted++;
        blkio_enqueue(e, r);
    }
}

/* The next step of a WRITE_ZEROES whose last fallocate returned res. */
static void blkio_z_finished(struct blkio *e, struct blkio_req *r, int res)
{
    bool unmap = r->flags & BLKIO_UNMAP;

    if (res == -EOPNOTSUPP) {
        switch (r->stage) {
        case BLKIO_Z_UNMAP:
            blkio_z_stage(e, r, BLKIO_Z_ZERO);
            break;
        case BLKIO_Z_ZERO:
            e->no_zero_range = true;
            blkio_z_stage(e, r, BLKIO_Z_PUNCH);
            break;
        case BLKIO_Z_ALLOC:
            blkio_complete(e, r, 0); /* zeros are there: holes */
            return;
        default:
            blkio_complete(e, r, res);
            return;
        }
        blkio_enqueue(e, r);
        return;
    }
    if (res == 0 && r->stage == BLKIO_Z_PUNCH && !unmap) {
        blkio_z_stage(e, r, BLKIO_Z_ALLOC);
        blkio_enqueue(e, r);
        return;
    }
    blkio_complete(e, r, res);
}

void blkio_finished(struct blkio *e, struct blkio_req *r, int res)
{
    r->res = res;
    if (res == -EINTR || res == -EAGAIN) {
        if (++r->retries <= BLKIO_MAX_RETRIES) {
            e->resubmitted++;
            blkio_enqueue(e, r);
            return;
        }
        res = -EIO;
    } else {
        r->retries = 0;
    }
    switch (r->op) {
    case BLKIO_READ:
    case BLKIO_WRITE:
        blkio_rw_finished(e, r, res);
        break;
    case BLKIO_DISCARD:
        /* A hint: where holes cannot be punched, nothing is done. */
        blkio_complete(e, r, res == -EOPNOTSUPP ? 0 : res);
        break;
    case BLKIO_WRITE_ZEROES:
        blkio_z_finished(e, r, res);
        break;
    default:
        blkio_complete(e, r, res);
    }
}

void blkio_reap(struct blkio *e)
{
    struct blkio_req *early = NULL, *r;
    uint64_t v;

    if (read(e->event_fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing signalled; look anyway */
    }
    /* Failed before they started, in submission order. */
    while ((r = e->early)) {
        e->early = r->next;
        r->next = early;
        early = r;
    }
    while ((r = early)) {
        early = r->next;
        blkio_complete(e, r, r->res);
    }
    e->engine->reap(e);
    blkio_kick(e); /* resubmissions, and what waited for room */
}

unsigned blkio_inflight(const struct blkio *e)
{
    return e->inflight;
}

int blkio_event_fd(const struct blkio *e)
{
    return e->event_fd;
}

const char *blkio_note(const struct blkio *e)
{
    return e->note;
}

static uint64_t blkio_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int blkio_drain(struct blkio *e, unsigned timeout_ms)
{
    uint64_t end = blkio_now_ms() + timeout_ms, now;
    struct pollfd p = {e->event_fd, POLLIN, 0};

    blkio_kick(e);
    while (e->inflight) {
        now = blkio_now_ms();
        if (now >= end)
            return err_set(
                ETIMEDOUT, "%s: %u request%s still in flight after %u ms",
                e->name, e->inflight, e->inflight == 1 ? "" : "s", timeout_ms);
        if (poll(&p, 1, (int)(end - now)) > 0)
            blkio_reap(e);
    }
    return 0;
}

static int blkio_open_engine(struct blkio *e, const struct blkio_engine *eng)
{
    e->engine = eng;
    e->kind = eng == &blkio_uring_engine ? BLKIO_URING : BLKIO_SYNC;
    return eng->open(e);
}

int blkio_open(struct blkio **ep, const struct blkio_params *p)
{
    struct blkio *e = calloc(1, sizeof(*e));
    int r;

    *ep = NULL;
    if (!e)
        return err_set(ENOMEM, "%s: out of memory for the I/O engine", p->name);
    e->name = p->name;
    e->fd = p->fd;
    e->depth = p->depth ? p->depth : BLKIO_DEFAULT_DEPTH;
    e->spawn = p->spawn;
    e->queue_tail = &e->queue;
    e->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e->event_fd < 0) {
        r = err_errno(errno, "%s: eventfd", p->name);
        free(e);
        return r;
    }
    if (p->engine) {
        r = blkio_open_engine(e, p->engine);
    } else if (p->kind == BLKIO_SYNC) {
        r = blkio_open_engine(e, &blkio_sync_engine);
    } else {
        r = blkio_open_engine(e, &blkio_uring_engine);
        if (r < 0 && p->kind == BLKIO_AUTO) {
            snprintf(e->note, sizeof(e->note),
                     "%s: io_uring unavailable (%s): using the sync engine",
                     p->name, kvmrun_last_error());
            r = blkio_open_engine(e, &blkio_sync_engine);
        } else if (r < 0) {
            char why[256];

            snprintf(why, sizeof(why), "%s", kvmrun_last_error());
            r = err_set(-r, "%s: engine io_uring: %s", p->name, why);
        }
    }
    if (r < 0) {
        close(e->event_fd);
        free(e);
        return r;
    }
    *ep = e;
    return 0;
}

void blkio_close(struct blkio *e)
{
    if (!e)
        return;
    blkio_drain(e, BLKIO_CLOSE_MS);
    e->engine->close(e);
    close(e->event_fd);
    free(e);
}
