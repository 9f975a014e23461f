/* blkio_uring.c: the io_uring block I/O engine (liburing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <liburing.h>

#include "blkio.h"
#include "error.h"

/* Completions taken off the ring at once. */
#define URING_BATCH 32

struct uring {
    struct io_uring ring;
    unsigned kin; /* requests in the kernel: at most e->depth */
};

/*
 * The ring may run only what the engine submits: READV, WRITEV, FSYNC
 * and FALLOCATE, without SQE flags (no links, no fixed files, no
 * buffer selection), and, once enabled, no io_uring_register() call at
 * all. A process that takes the ring over (a bug in kvmrun, or code
 * injected into it) cannot open, connect or send through it, which the
 * seccomp filters would not see.
 */
static const struct io_uring_restriction uring_rules[] = {
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV},
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV},
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC},
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FALLOCATE},
    {.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0},
};

/*
 * io_uring_register(2) itself: Debian 12's liburing.so.2.3 does not
 * export io_uring_register_restrictions() nor io_uring_enable_rings()
 * (only its static library has them), and kvmrun links the shared one
 * like its other libraries. 0 or -errno, as liburing's calls return.
 */
static int uring_register(struct io_uring *ring, unsigned op, const void *arg,
                          unsigned n)
{
    long r = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n);

    return r < 0 ? -errno : (int)r;
}

/*
 * The ring starts disabled (IORING_SETUP_R_DISABLED, Linux 5.10) so that
 * its restrictions can be registered before anything runs; then its
 * eventfd, then it is enabled. Where any step fails, io_uring is not to
 * be had as kvmrun wants it: the caller falls back to the pool.
 */
static int uring_open(struct blkio *e)
{
    struct io_uring_params p;
    struct uring *u = calloc(1, sizeof(*u));
    const char *step;
    int r;

    if (!u)
        return err_set(ENOMEM, "out of memory for the ring");
    memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_R_DISABLED;
    r = io_uring_queue_init_params(e->depth, &u->ring, &p);
    if (r < 0) {
        free(u);
        return err_set(-r, "io_uring_setup: %s", strerror(-r));
    }
    step = "IORING_REGISTER_RESTRICTIONS";
    r = uring_register(&u->ring, IORING_REGISTER_RESTRICTIONS, uring_rules,
                       sizeof(uring_rules) / sizeof(uring_rules[0]));
    if (r == 0) {
        step = "IORING_REGISTER_EVENTFD";
        r = io_uring_register_eventfd(&u->ring, e->event_fd);
    }
    if (r == 0) {
        step = "IORING_REGISTER_ENABLE_RINGS";
        r = uring_register(&u->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    }
    if (r < 0) {
        io_uring_queue_exit(&u->ring);
        free(u);
        return err_set(-r, "%s: %s", step, strerror(-r));
    }
    e->priv = u;
    return 0;
}

static void uring_prep(struct blkio *e, struct io_uring_sqe *sqe,
                       struct blkio_req *r)
{
    switch (r->op) {
    case BLKIO_READ:
        io_uring_prep_readv(sqe, e->fd, r->iov, r->niov, (off_t)r->offset);
        break;
    case BLKIO_WRITE:
        io_uring_prep_writev(sqe, e->fd, r->iov, r->niov, (off_t)r->offset);
        break;
    case BLKIO_FLUSH:
        io_uring_prep_fsync(sqe, e->fd, IORING_FSYNC_DATASYNC);
        break;
    default: /* DISCARD, WRITE_ZEROES */
        io_uring_prep_fallocate(sqe, e->fd, r->mode, (off_t)r->offset,
                                (off_t)r->len);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
}

static void uring_kick(struct blkio *e)
{
    struct uring *u = e->priv;
    struct io_uring_sqe *sqe;
    struct blkio_req *r;
    int n;

    while (e->queue && u->kin < e->depth) {
        sqe = io_uring_get_sqe(&u->ring);
        if (!sqe) {
            io_uring_submit(&u->ring); /* room in the SQ ring */
            sqe = io_uring_get_sqe(&u->ring);
            if (!sqe)
                break;
        }
        r = e->queue;
        e->queue = r->next;
        if (!e->queue)
            e->queue_tail = &e->queue;
        uring_prep(e, sqe, r);
        u->kin++;
    }
    /* EAGAIN, EBUSY (no room for completions yet), EINTR: the entries
     * stay in the SQ ring and go with the next submit; the eventfd makes
     * sure a reap (and its kick) comes. */
    n = io_uring_submit(&u->ring);
    if (n < 0) {
        uint64_t one = 1;

        if (write(e->event_fd, &one, sizeof(one)) < 0)
            return;
    }
}

static void uring_reap(struct blkio *e)
{
    struct uring *u = e->priv;
    struct io_uring_cqe *cqes[URING_BATCH];
    struct blkio_req *reqs[URING_BATCH];
    int res[URING_BATCH];
    unsigned n;

    /* Copied out and the ring advanced before any callback runs: a
     * callback may submit (and the kernel post) more. */
    while ((n = io_uring_peek_batch_cqe(&u->ring, cqes, URING_BATCH)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            reqs[i] = io_uring_cqe_get_data(cqes[i]);
            res[i] = cqes[i]->res;
        }
        io_uring_cq_advance(&u->ring, n);
        u->kin -= n;
        for (unsigned i = 0; i < n; i++)
            blkio_finished(e, reqs[i], res[i]);
    }
}

/* io_uring_queue_exit() waits for, or cancels, what the kernel runs. */
static void uring_close(struct blkio *e)
{
    struct uring *u = e->priv;

    io_uring_queue_exit(&u->ring);
    free(u);
}

const struct blkio_engine blkio_uring_engine = {
    "io_uring", uring_open, uring_kick, uring_reap, uring_close,
};
