/* test_blkio.c: unit tests of the block I/O engines (src/blkio*.c) on real
 * files: io_uring, the sync pool, and the fallback from one to the other. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>

#include <cmocka.h>

#include "blkio.h"
#include "kvmrun.h"

#define WAIT_MS 30000
#define FILE_SIZE (4u << 20)
#define ALIGN 4096u

/* xorshift64*: reproducible, seeded per test (printed on failure). */
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* A temporary file of size bytes of random data in dir; *shadow (if
 * asked) holds the same. The name is unlinked at once. */
static int temp_file(const char *dir, size_t size, uint8_t **shadow,
                     int extra_flags)
{
    char path[PATH_MAX];
    uint8_t *data = malloc(size);
    int fd;

    assert_non_null(data);
    snprintf(path, sizeof(path), "%s/test_blkio.XXXXXX", dir);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fill_random(data, size);
    assert_int_equal(pwrite(fd, data, size, 0), (ssize_t)size);
    assert_int_equal(fsync(fd), 0);
    if (extra_flags) {
        char proc[64];
        int fd2;

        /* Reopened through /proc for O_DIRECT (mkstemp takes no flags
         * that matter here; fcntl cannot set O_DIRECT on every kernel). */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        fd2 = open(proc, O_RDWR | O_CLOEXEC | extra_flags);
        assert_true(fd2 >= 0);
        close(fd);
        fd = fd2;
    }
    if (shadow)
        *shadow = data;
    else
        free(data);
    return fd;
}

static struct blkio *open_engine(int fd, enum blkio_kind kind, unsigned depth)
{
    struct blkio_params p = {"vdt", fd, kind, depth, NULL, NULL};
    struct blkio *e;

    if (blkio_open(&e, &p))
        fail_msg("blkio_open: %s", kvmrun_last_error());
    assert_int_equal(e->kind, kind == BLKIO_AUTO ? BLKIO_URING : kind);
    assert_string_equal(blkio_note(e), "");
    return e;
}

/* --- one request at a time ---------------------------------------------- */

struct one {
    struct blkio_req req;
    int res;
    bool done;
};

static void one_done(struct blkio_req *req, int res)
{
    struct one *o = req->opaque;

    o->res = res;
    o->done = true;
}

/* Submits one request and waits for it; its result. */
static int run_one(struct blkio *e, enum blkio_op op, unsigned flags,
                   uint64_t offset, uint64_t len, struct iovec *iov,
                   unsigned niov)
{
    struct one o = {{.op = op,
                     .flags = flags,
                     .offset = offset,
                     .len = len,
                     .iov = iov,
                     .niov = niov,
                     .done = one_done},
                    0,
                    false};

    o.req.opaque = &o;
    blkio_submit(e, &o.req);
    blkio_kick(e);
    assert_int_equal(blkio_drain(e, WAIT_MS), 0);
    assert_true(o.done);
    return o.res;
}

static int rw_one(struct blkio *e, enum blkio_op op, uint64_t offset, void *buf,
                  size_t len)
{
    struct iovec iov = {buf, len};

    return run_one(e, op, 0, offset, 0, &iov, 1);
}

/* --- many at once, against a shadow copy -------------------------------- */

#define MAX_REQS 48
#define MAX_SEGS 8

struct mreq {
    struct blkio_req req;
    struct iovec iov[MAX_SEGS];
    uint8_t *buf; /* ALIGN-aligned */
    uint64_t off, len;
    int res;
    bool done;
};

static void mreq_done(struct blkio_req *req, int res)
{
    struct mreq *m = req->opaque;

    m->res = res;
    m->done = true;
}

static bool overlaps(const struct mreq *m, unsigned n, uint64_t off,
                     uint64_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (off < m[i].off + m[i].len && m[i].off < off + len)
            return true;
    return false;
}

/* Splits [buf, buf + len) into 1..MAX_SEGS segments of unit multiples. */
static unsigned split(struct iovec *iov, uint8_t *buf, uint64_t len,
                      unsigned unit)
{
    unsigned units = (unsigned)(len / unit), n = 0;

    while (units) {
        unsigned take = n == MAX_SEGS - 1 ? units : 1 + rnd_below(units);

        iov[n++] = (struct iovec){buf, (size_t)take * unit};
        buf += (size_t)take * unit;
        units -= take;
    }
    return n;
}

/*
 * Rounds of up to MAX_REQS concurrent requests of random kinds, sizes,
 * offsets and segments, never overlapping within a round (their order is
 * the kernel's); reads are checked against the shadow copy as they
 * complete, and the whole file at the end. unit: the alignment of
 * offsets, lengths and segments (ALIGN for O_DIRECT).
 */
static void integrity(struct blkio *e, int fd, uint8_t *shadow, unsigned unit,
                      unsigned rounds)
{
    struct mreq *m = calloc(MAX_REQS, sizeof(*m));
    uint8_t *check;
    uint64_t reads = 0, writes = 0, zeroes = 0;

    assert_non_null(m);
    assert_int_equal(posix_memalign((void **)&check, ALIGN, FILE_SIZE), 0);
    for (unsigned i = 0; i < MAX_REQS; i++)
        assert_int_equal(posix_memalign((void **)&m[i].buf, ALIGN, 64 << 10),
                         0);
    for (unsigned round = 0; round < rounds; round++) {
        unsigned n = 0, want = 1 + rnd_below(MAX_REQS);

        for (unsigned tries = 0; n < want && tries < 200; tries++) {
            struct mreq *q = &m[n];
            uint64_t len = (uint64_t)(1 + rnd_below((64 << 10) / unit)) * unit;
            uint64_t off = (uint64_t)rnd_below(FILE_SIZE / unit) * unit;
            unsigned kind = rnd_below(10);

            if (off + len > FILE_SIZE)
                off = FILE_SIZE - len;
            if (overlaps(m, n, off, len))
                continue;
            memset(&q->req, 0, sizeof(q->req));
            q->off = off;
            q->len = len;
            q->done = false;
            q->req.offset = off;
            q->req.done = mreq_done;
            q->req.opaque = q;
            if (kind < 5) {
                q->req.op = BLKIO_READ;
                memset(q->buf, 0xa5, len);
                reads++;
            } else if (kind < 9) {
                q->req.op = BLKIO_WRITE;
                fill_random(q->buf, len);
                memcpy(shadow + off, q->buf, len);
                writes++;
            } else {
                q->req.op = BLKIO_WRITE_ZEROES;
                q->req.len = len;
                q->req.flags = rnd_below(2) ? BLKIO_UNMAP : 0;
                memset(shadow + off, 0, len);
                zeroes++;
            }
            q->req.iov = q->iov;
            q->req.niov = q->req.op == BLKIO_WRITE_ZEROES
                              ? 0
                              : split(q->iov, q->buf, len, unit);
            blkio_submit(e, &q->req);
            n++;
            if (rnd_below(4) == 0)
                blkio_kick(e); /* batches of varied sizes */
        }
        blkio_kick(e);
        assert_int_equal(blkio_drain(e, WAIT_MS), 0);
        for (unsigned i = 0; i < n; i++) {
            if (!m[i].done || m[i].res)
                fail_msg("round %u request %u (op %d at %llu, %llu bytes): "
                         "done %d res %d",
                         round, i, m[i].req.op, (unsigned long long)m[i].off,
                         (unsigned long long)m[i].len, m[i].done, m[i].res);
            if (m[i].req.op == BLKIO_READ &&
                memcmp(m[i].buf, shadow + m[i].off, m[i].len))
                fail_msg("round %u: read at %llu (%llu bytes) differs from "
                         "the shadow copy",
                         round, (unsigned long long)m[i].off,
                         (unsigned long long)m[i].len);
        }
    }
    assert_true(reads && writes && zeroes);
    assert_int_equal(run_one(e, BLKIO_FLUSH, 0, 0, 0, NULL, 0), 0);
    assert_int_equal(pread(fd, check, FILE_SIZE, 0), FILE_SIZE);
    assert_memory_equal(check, shadow, FILE_SIZE);
    for (unsigned i = 0; i < MAX_REQS; i++)
        free(m[i].buf);
    free(m);
    free(check);
}

static void integrity_test(enum blkio_kind kind, int oflags, unsigned unit)
{
    uint8_t *shadow;
    int fd;
    struct blkio *e;

    rng_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)kind ^ (uint64_t)oflags;
    fd = temp_file("/tmp", FILE_SIZE, &shadow, oflags);
    e = open_engine(fd, kind, 32);
    integrity(e, fd, shadow, unit, 60);
    assert_true(e->submitted >= 60);
    assert_int_equal(e->submitted, e->completed);
    blkio_close(e);
    close(fd);
    free(shadow);
}

static void test_integrity_uring(void **state)
{
    (void)state;
    integrity_test(BLKIO_URING, 0, 512);
}

static void test_integrity_sync(void **state)
{
    (void)state;
    integrity_test(BLKIO_SYNC, 0, 512);
}

/* cache=none: O_DIRECT (on /tmp, which takes it), aligned buffers. */
static void test_integrity_uring_direct(void **state)
{
    (void)state;
    integrity_test(BLKIO_URING, O_DIRECT, ALIGN);
}

static void test_integrity_sync_direct(void **state)
{
    (void)state;
    integrity_test(BLKIO_SYNC, O_DIRECT, ALIGN);
}

/* --- discard and write zeroes ------------------------------------------- */

static uint64_t blocks(int fd)
{
    struct stat st;

    assert_int_equal(fstat(fd, &st), 0);
    return (uint64_t)st.st_blocks;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* DISCARD punches a hole (reads give zeros, blocks are freed, the size
 * stays); WRITE_ZEROES gives zeros with the blocks kept, or freed with
 * UNMAP; the data around each range is untouched. */
static void zero_test(enum blkio_kind kind, const char *dir)
{
    uint8_t *shadow, *buf = malloc(FILE_SIZE);
    int fd = temp_file(dir, FILE_SIZE, &shadow, 0);
    struct blkio *e = open_engine(fd, kind, 8);
    uint64_t before;
    struct stat st;

    before = blocks(fd);
    assert_int_equal(run_one(e, BLKIO_DISCARD, 0, 1 << 20, 1 << 20, NULL, 0),
                     0);
    memset(shadow + (1 << 20), 0, 1 << 20);
    assert_true(blocks(fd) < before); /* freed */
    before = blocks(fd);
    assert_int_equal(
        run_one(e, BLKIO_WRITE_ZEROES, 0, 2 << 20, 4096 + 512, NULL, 0), 0);
    memset(shadow + (2 << 20), 0, 4096 + 512);
    assert_true(blocks(fd) >= before); /* not deallocated */
    assert_int_equal(run_one(e, BLKIO_WRITE_ZEROES, BLKIO_UNMAP, 3 << 20,
                             256 << 10, NULL, 0),
                     0);
    memset(shadow + (3 << 20), 0, 256 << 10);
    assert_int_equal(rw_one(e, BLKIO_READ, 0, buf, FILE_SIZE), 0);
    assert_memory_equal(buf, shadow, FILE_SIZE);
    assert_true(all_zero(buf + (1 << 20), 1 << 20));
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, FILE_SIZE);
    blkio_close(e);
    close(fd);
    free(shadow);
    free(buf);
}

static void test_zeroes_uring(void **state)
{
    (void)state;
    rng_state = 1;
    zero_test(BLKIO_URING, "/tmp");
}

static void test_zeroes_sync(void **state)
{
    (void)state;
    rng_state = 2;
    zero_test(BLKIO_SYNC, "/tmp");
}

/* tmpfs has no ZERO_RANGE: WRITE_ZEROES punches a hole and allocates the
 * range again, and remembers not to try ZERO_RANGE any more. */
static void test_zeroes_tmpfs(void **state)
{
    struct statfs sfs;
    uint8_t *shadow, buf[8192];
    int fd;
    struct blkio *e;

    (void)state;
    if (statfs("/dev/shm", &sfs) || sfs.f_type != TMPFS_MAGIC)
        skip();
    rng_state = 3;
    fd = temp_file("/dev/shm", 1 << 20, &shadow, 0);
    e = open_engine(fd, BLKIO_URING, 8);
    assert_int_equal(run_one(e, BLKIO_WRITE_ZEROES, 0, 8192, 8192, NULL, 0), 0);
    assert_true(e->no_zero_range);
    assert_int_equal(pread(fd, buf, sizeof(buf), 8192), sizeof(buf));
    assert_true(all_zero(buf, sizeof(buf)));
    assert_int_equal(pread(fd, buf, 8192, 0), 8192);
    assert_memory_equal(buf, shadow, 8192);
    /* the next one goes straight to the hole */
    assert_int_equal(
        run_one(e, BLKIO_WRITE_ZEROES, BLKIO_UNMAP, 0, 4096, NULL, 0), 0);
    assert_int_equal(pread(fd, buf, 4096, 0), 4096);
    assert_true(all_zero(buf, 4096));
    blkio_close(e);
    close(fd);
    free(shadow);
}

static void test_discard_zeroes_tmpfs_sync(void **state)
{
    struct statfs sfs;

    (void)state;
    if (statfs("/dev/shm", &sfs) || sfs.f_type != TMPFS_MAGIC)
        skip();
    rng_state = 4;
    zero_test(BLKIO_SYNC, "/dev/shm");
}

/* --- errors ------------------------------------------------------------- */

/* A read past the end of the file (which shrank under the guest) fails
 * with -EIO, after the short part was read; the file's errors come back
 * as they are. */
static void errors_test(enum blkio_kind kind)
{
    uint8_t *shadow, buf[4096];
    int fd = temp_file("/tmp", 8192, &shadow, 0), ro;
    struct blkio *e = open_engine(fd, kind, 4);
    char proc[64];

    memset(buf, 0, sizeof(buf));
    assert_int_equal(rw_one(e, BLKIO_READ, 6144, buf, 4096), -EIO);
    assert_memory_equal(buf, shadow + 6144, 2048); /* the part there was */
    blkio_close(e);
    /* a read-only descriptor: writes fail with EBADF, flush works */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    ro = open(proc, O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    e = open_engine(ro, kind, 4);
    assert_int_equal(rw_one(e, BLKIO_WRITE, 0, buf, 512), -EBADF);
    assert_int_equal(run_one(e, BLKIO_FLUSH, 0, 0, 0, NULL, 0), 0);
    assert_int_equal(rw_one(e, BLKIO_READ, 0, buf, 512), 0);
    assert_memory_equal(buf, shadow, 512);
    assert_int_equal(run_one(e, BLKIO_WRITE_ZEROES, 0, 0, 512, NULL, 0),
                     -EBADF);
    blkio_close(e);
    close(ro);
    close(fd);
    free(shadow);
}

static void test_errors_uring(void **state)
{
    (void)state;
    rng_state = 5;
    errors_test(BLKIO_URING);
}

static void test_errors_sync(void **state)
{
    (void)state;
    rng_state = 6;
    errors_test(BLKIO_SYNC);
}

/* More requests than the ring's depth: the rest wait in the engine's
 * queue and start as earlier ones complete; all complete. */
static void test_depth_queue(void **state)
{
    static struct mreq m[100];
    uint8_t *shadow;
    int fd;
    struct blkio *e;

    (void)state;
    rng_state = 7;
    fd = temp_file("/tmp", FILE_SIZE, &shadow, 0);
    e = open_engine(fd, BLKIO_URING, 16);
    for (unsigned i = 0; i < 100; i++) {
        m[i].buf = malloc(4096);
        m[i].iov[0] = (struct iovec){m[i].buf, 4096};
        m[i].req = (struct blkio_req){.op = BLKIO_READ,
                                      .offset = i * 8192ULL,
                                      .iov = m[i].iov,
                                      .niov = 1,
                                      .done = mreq_done,
                                      .opaque = &m[i]};
        blkio_submit(e, &m[i].req);
    }
    blkio_kick(e);
    assert_non_null(e->queue); /* 16 in the kernel, the rest queued */
    assert_int_equal(blkio_inflight(e), 100);
    assert_int_equal(blkio_drain(e, WAIT_MS), 0);
    for (unsigned i = 0; i < 100; i++) {
        assert_true(m[i].done);
        assert_int_equal(m[i].res, 0);
        assert_memory_equal(m[i].buf, shadow + i * 8192ULL, 4096);
        free(m[i].buf);
    }
    blkio_close(e);
    close(fd);
    free(shadow);
}

/* The ring runs only the four opcodes the engine uses, without flags,
 * and takes no io_uring_register() call once enabled. */
static void test_ring_restricted(void **state)
{
    int fd = temp_file("/tmp", 8192, NULL, 0);
    struct blkio *e = open_engine(fd, BLKIO_URING, 4);
    /* blkio_uring.c's private state starts with its struct io_uring */
    struct io_uring *ring = e->priv;
    struct io_uring_sqe *sqe;
    struct io_uring_cqe *cqe;
    uint8_t buf[512];
    struct iovec iov = {buf, sizeof(buf)};

    (void)state;
    sqe = io_uring_get_sqe(ring);
    io_uring_prep_nop(sqe);
    assert_int_equal(io_uring_submit(ring), 1);
    assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
    assert_int_equal(cqe->res, -EACCES);
    io_uring_cqe_seen(ring, cqe);
    sqe = io_uring_get_sqe(ring);
    io_uring_prep_readv(sqe, fd, &iov, 1, 0);
    sqe->flags |= IOSQE_IO_DRAIN; /* a flag: refused too */
    assert_int_equal(io_uring_submit(ring), 1);
    assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
    assert_int_equal(cqe->res, -EACCES);
    io_uring_cqe_seen(ring, cqe);
    assert_int_equal(io_uring_register_eventfd(ring, e->event_fd), -EACCES);
    assert_int_equal(io_uring_unregister_eventfd(ring), -EACCES);
    /* and the engine still works */
    blkio_reap(e); /* the eventfd was written for those */
    assert_int_equal(rw_one(e, BLKIO_READ, 0, buf, 512), 0);
    blkio_close(e);
    close(fd);
}

/* --- short transfers, EINTR and EAGAIN, on a real file ------------------ */

/*
 * An engine that makes the real calls, synchronously in kick, but cuts
 * each transfer short at a random point, and answers every third call
 * with -EINTR or -EAGAIN first: the common layer must resubmit until
 * every byte is there.
 */
static unsigned flaky_calls;

static int flaky_open(struct blkio *e)
{
    e->priv = calloc(1, sizeof(struct blkio_req *));
    return e->priv ? 0 : -ENOMEM;
}

static int flaky_call(struct blkio *e, struct blkio_req *r)
{
    struct iovec iov[MAX_SEGS];
    unsigned n = r->niov < MAX_SEGS ? r->niov : MAX_SEGS;
    ssize_t res;

    if (++flaky_calls % 3 == 0)
        return rnd_below(2) ? -EINTR : -EAGAIN;
    if (r->op == BLKIO_FLUSH)
        return fdatasync(e->fd) ? -errno : 0;
    if (r->op != BLKIO_READ && r->op != BLKIO_WRITE)
        return fallocate(e->fd, r->mode, (off_t)r->offset, (off_t)r->len)
                   ? -errno
                   : 0;
    memcpy(iov, r->iov, n * sizeof(*iov));
    if (iov[n - 1].iov_len > 1 && rnd_below(2))
        iov[n - 1].iov_len = 1 + rnd_below((unsigned)iov[n - 1].iov_len - 1);
    if (n > 1 && rnd_below(2))
        n = 1 + rnd_below(n - 1);
    if (r->op == BLKIO_READ)
        res = preadv(e->fd, iov, (int)n, (off_t)r->offset);
    else
        res = pwritev(e->fd, iov, (int)n, (off_t)r->offset);
    return res < 0 ? -errno : (int)res;
}

static void flaky_kick(struct blkio *e)
{
    struct blkio_req **done = e->priv, *r;

    while ((r = e->queue)) {
        e->queue = r->next;
        r->res = flaky_call(e, r);
        r->next = *done;
        *done = r;
    }
    e->queue_tail = &e->queue;
    assert_int_equal(write(e->event_fd, &(uint64_t){1}, 8), 8);
}

static void flaky_reap(struct blkio *e)
{
    struct blkio_req **done = e->priv, *r;

    while ((r = *done)) {
        *done = r->next;
        blkio_finished(e, r, r->res);
    }
}

static void flaky_close(struct blkio *e)
{
    free(e->priv);
}

static const struct blkio_engine flaky = {"flaky", flaky_open, flaky_kick,
                                          flaky_reap, flaky_close};

static void test_short_transfers(void **state)
{
    uint8_t *shadow, *buf = malloc(FILE_SIZE);
    int fd = temp_file("/tmp", FILE_SIZE, &shadow, 0);
    struct blkio_params p = {"vdt", fd, BLKIO_AUTO, 8, NULL, &flaky};
    struct blkio *e;

    (void)state;
    rng_state = 8;
    assert_int_equal(blkio_open(&e, &p), 0);
    integrity(e, fd, shadow, 512, 20);
    assert_true(e->resubmitted > 100);
    /* one big read through many short ones */
    assert_int_equal(rw_one(e, BLKIO_READ, 0, buf, FILE_SIZE), 0);
    assert_memory_equal(buf, shadow, FILE_SIZE);
    blkio_close(e);
    close(fd);
    free(shadow);
    free(buf);
}

/* --- the fallback to sync where io_uring cannot be had ------------------ */

/* In the child: io_uring_setup (or io_uring_register) fails with err, as
 * a container's seccomp profile or kernel.io_uring_disabled make it. */
static void deny(int nr, int err)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
        _exit(90);
}

#define CHILD_CHECK(c, code)                                                   \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "child: %s: %s\n", #c, kvmrun_last_error());       \
            _exit(code);                                                       \
        }                                                                      \
    } while (0)

static void fallback_child(int nr, int err, const char *why)
{
    uint8_t *shadow, buf[4096];
    int fd = temp_file("/tmp", 1 << 20, &shadow, 0);
    struct blkio_params p = {"vdt", fd, BLKIO_AUTO, 8, NULL, NULL};
    struct blkio *e;
    char want[200];

    deny(nr, err);
    CHILD_CHECK(blkio_open(&e, &p) == 0, 10);
    CHILD_CHECK(e->kind == BLKIO_SYNC, 11);
    snprintf(want, sizeof(want),
             "vdt: io_uring unavailable (%s): using the sync engine", why);
    if (strcmp(blkio_note(e), want)) {
        fprintf(stderr, "child: note '%s', not '%s'\n", blkio_note(e), want);
        _exit(12);
    }
    CHILD_CHECK(rw_one(e, BLKIO_READ, 4096, buf, 4096) == 0, 13);
    CHILD_CHECK(memcmp(buf, shadow + 4096, 4096) == 0, 14);
    blkio_close(e);
    /* asked for by name: an error, no fallback */
    p.kind = BLKIO_URING;
    CHILD_CHECK(blkio_open(&e, &p) == -err, 15);
    snprintf(want, sizeof(want), "vdt: engine io_uring: %s", why);
    if (strcmp(kvmrun_last_error(), want)) {
        fprintf(stderr, "child: error '%s', not '%s'\n", kvmrun_last_error(),
                want);
        _exit(16);
    }
    _exit(0);
}

static void fallback_test(int nr, int err, const char *why)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0)
        fallback_child(nr, err, why);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_fallback_enosys(void **state)
{
    (void)state;
    rng_state = 9;
    fallback_test(__NR_io_uring_setup, ENOSYS,
                  "io_uring_setup: Function not implemented");
}

/* kernel.io_uring_disabled=2 answers EPERM. */
static void test_fallback_eperm(void **state)
{
    (void)state;
    rng_state = 10;
    fallback_test(__NR_io_uring_setup, EPERM,
                  "io_uring_setup: Operation not permitted");
}

/* A ring that cannot be restricted is not used. */
static void test_fallback_unrestricted(void **state)
{
    (void)state;
    rng_state = 11;
    fallback_test(__NR_io_uring_register, EINVAL,
                  "IORING_REGISTER_RESTRICTIONS: Invalid argument");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integrity_uring),
        cmocka_unit_test(test_integrity_sync),
        cmocka_unit_test(test_integrity_uring_direct),
        cmocka_unit_test(test_integrity_sync_direct),
        cmocka_unit_test(test_zeroes_uring),
        cmocka_unit_test(test_zeroes_sync),
        cmocka_unit_test(test_zeroes_tmpfs),
        cmocka_unit_test(test_discard_zeroes_tmpfs_sync),
        cmocka_unit_test(test_errors_uring),
        cmocka_unit_test(test_errors_sync),
        cmocka_unit_test(test_depth_queue),
        cmocka_unit_test(test_ring_restricted),
        cmocka_unit_test(test_short_transfers),
        cmocka_unit_test(test_fallback_enosys),
        cmocka_unit_test(test_fallback_eperm),
        cmocka_unit_test(test_fallback_unrestricted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
