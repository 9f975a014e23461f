/* test_iothread.c: unit tests of the I/O thread and its quiesce protocol
 * (src/iothread.c), with real eventfds and threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iothread.h"
#include "kvmrun.h"

/* Every wait is bounded by this; the loaded 2-CPU machine is slow, not
 * this slow. */
#define WAIT_MS 20000

/*
 * A fake backend: a kick (an IOTHREAD_WORK eventfd) starts per_kick
 * requests, which a completer thread finishes after a short while by
 * writing the completion eventfd; its handler counts them done.
 */
struct fake {
    struct iothread io;
    int kick, done;
    unsigned per_kick;
    /* The I/O thread's (read by the test only while it is parked, or
     * through atomics) */
    unsigned inflight, started, completed, kicks;
    unsigned quiesces, resumes;
    int running;         /* a handler is running now */
    bool work_while_dry; /* a kick handler ran while draining */
    int pause_rc;        /* a handler's own iothread_pause() */
    bool try_pause;
    sigset_t mask; /* the thread's signal mask, seen by a handler */
    /* The completer: pending requests, held back while stuck. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned pending;
    bool stuck, stop;
    pthread_t completer;
};

static unsigned ld(const unsigned *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void add(unsigned *p, unsigned n)
{
    __atomic_fetch_add(p, n, __ATOMIC_SEQ_CST);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Polls *p until it reaches at least want, for WAIT_MS at most. */
static bool wait_for(const unsigned *p, unsigned want)
{
    for (unsigned i = 0; i < WAIT_MS; i++) {
        if (ld(p) >= want)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void poke(int fd, uint64_t n)
{
    assert_int_equal(write(fd, &n, sizeof(n)), sizeof(n));
}

static uint64_t drain_fd(int fd)
{
    uint64_t v = 0;

    if (read(fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

static void *completer(void *arg)
{
    struct fake *f = arg;
    unsigned n;

    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && (f->stuck || !f->pending))
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stop)
            break;
        n = f->pending;
        f->pending = 0;
        pthread_mutex_unlock(&f->lock);
        sleep_ms(1 + (unsigned)(rand() % 3)); /* the "device" works */
        poke(f->done, n);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void enter(struct fake *f)
{
    if (__atomic_fetch_add(&f->running, 1, __ATOMIC_SEQ_CST))
        abort(); /* two handlers at once */
}

static void leave(struct fake *f)
{
    __atomic_fetch_sub(&f->running, 1, __ATOMIC_SEQ_CST);
}

static void on_kick(void *opaque)
{
    struct fake *f = opaque;

    enter(f);
    drain_fd(f->kick);
    if (iothread_draining(&f->io))
        f->work_while_dry = true;
    pthread_sigmask(SIG_BLOCK, NULL, &f->mask);
    if (f->try_pause)
        f->pause_rc = iothread_pause(&f->io, 10);
    add(&f->inflight, f->per_kick);
    add(&f->started, f->per_kick);
    pthread_mutex_lock(&f->lock);
    f->pending += f->per_kick;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    add(&f->kicks, 1);
    leave(f);
}

static void on_done(void *opaque)
{
    struct fake *f = opaque;
    unsigned n;

    enter(f);
    n = (unsigned)drain_fd(f->done);
    __atomic_fetch_sub(&f->inflight, n, __ATOMIC_SEQ_CST);
    add(&f->completed, n);
    leave(f);
}

static void on_quiesce(void *opaque)
{
    add(&((struct fake *)opaque)->quiesces, 1);
}

static unsigned on_inflight(void *opaque)
{
    return ld(&((struct fake *)opaque)->inflight);
}

static void on_resume(void *opaque)
{
    add(&((struct fake *)opaque)->resumes, 1);
}

static struct fake *fake_new(unsigned per_kick, bool start)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct iothread_client c = {"fake-blk", on_quiesce, on_inflight, on_resume,
                                f};

    assert_non_null(f);
    f->per_kick = per_kick;
    f->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->done = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(f->kick >= 0 && f->done >= 0);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    assert_int_equal(pthread_create(&f->completer, NULL, completer, f), 0);
    assert_int_equal(iothread_init(&f->io, "test-io"), 0);
    assert_int_equal(iothread_client_add(&f->io, &c), 0);
    assert_int_equal(iothread_add(&f->io, f->kick, IOTHREAD_WORK, on_kick, f),
                     0);
    assert_int_equal(iothread_add(&f->io, f->done, 0, on_done, f), 0);
    if (start)
        assert_int_equal(iothread_start(&f->io, NULL), 0);
    return f;
}

static void fake_free(struct fake *f)
{
    assert_int_equal(iothread_fini(&f->io, WAIT_MS), 0);
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->completer, NULL);
    close(f->kick);
    close(f->done);
    free(f);
}

/* Parked and drained: nothing in flight, no handler running. */
static void assert_quiet(struct fake *f)
{
    assert_int_equal(ld(&f->inflight), 0);
    assert_int_equal(ld(&f->started), ld(&f->completed));
    assert_int_equal(__atomic_load_n(&f->running, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(f->io.state, IOTHREAD_PARKED);
}

/* A handler runs on its fd, on the thread, with every signal but SIGSYS
 * blocked; requests complete through the other handler. */
static void test_handlers_run(void **state)
{
    struct fake *f = fake_new(3, true);

    (void)state;
    poke(f->kick, 1);
    assert_true(wait_for(&f->completed, 3));
    assert_int_equal(ld(&f->kicks), 1);
    assert_true(sigismember(&f->mask, SIGINT));
    assert_true(sigismember(&f->mask, SIGRTMIN));
    assert_false(sigismember(&f->mask, SIGSYS));
    fake_free(f);
}

/* A pause with requests in flight returns only once they completed and
 * the thread is parked; kicks wait, pending, and run after resume. */
static void test_pause_drains(void **state)
{
    struct fake *f = fake_new(8, true);
    unsigned kicks;

    (void)state;
    pthread_mutex_lock(&f->lock);
    f->stuck = true; /* hold the requests until the pause has begun */
    pthread_mutex_unlock(&f->lock);
    poke(f->kick, 1);
    assert_true(wait_for(&f->started, 8));
    pthread_mutex_lock(&f->lock);
    f->stuck = false;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(iothread_pause(&f->io, WAIT_MS), 0);
    assert_quiet(f);
    assert_int_equal(ld(&f->quiesces), 1);
    assert_int_equal(ld(&f->resumes), 0);
    kicks = ld(&f->kicks);
    poke(f->kick, 1); /* a kick while paused: held */
    sleep_ms(50);
    assert_int_equal(ld(&f->kicks), kicks);
    assert_int_equal(ld(&f->started), 8);
    iothread_resume(&f->io);
    assert_true(wait_for(&f->kicks, kicks + 1));
    assert_true(wait_for(&f->completed, 16));
    assert_int_equal(ld(&f->resumes), 1);
    assert_false(f->work_while_dry);
    fake_free(f);
}

/* Pauses nest: the thread runs again only after the last resume. A pause
 * of a parked thread returns at once. */
static void test_nested_pauses(void **state)
{
    struct fake *f = fake_new(1, true);

    (void)state;
    assert_int_equal(iothread_pause(&f->io, WAIT_MS), 0);
    assert_int_equal(iothread_pause(&f->io, 1), 0);
    poke(f->kick, 1);
    iothread_resume(&f->io);
    sleep_ms(50);
    assert_int_equal(ld(&f->kicks), 0);
    assert_quiet(f);
    iothread_resume(&f->io);
    assert_true(wait_for(&f->completed, 1));
    assert_int_equal(ld(&f->quiesces), 1);
    assert_true(wait_for(&f->resumes, 1));
    iothread_resume(&f->io); /* one too many: ignored */
    fake_free(f);
}

/* A request that does not complete: the pause times out naming the
 * client, is withdrawn, and the thread serves kicks again. */
static void test_pause_timeout(void **state)
{
    struct fake *f = fake_new(1, true);

    (void)state;
    pthread_mutex_lock(&f->lock);
    f->stuck = true;
    pthread_mutex_unlock(&f->lock);
    poke(f->kick, 1);
    assert_true(wait_for(&f->started, 1));
    assert_int_equal(iothread_pause(&f->io, 200), -ETIMEDOUT);
    assert_non_null(strstr(kvmrun_last_error(), "fake-blk has 1 request "));
    assert_non_null(strstr(kvmrun_last_error(), "test-io: not quiet after"));
    assert_true(wait_for(&f->resumes, 1)); /* withdrawn */
    poke(f->kick, 1);
    assert_true(wait_for(&f->kicks, 2));
    pthread_mutex_lock(&f->lock);
    f->stuck = false;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(iothread_pause(&f->io, WAIT_MS), 0);
    assert_quiet(f);
    assert_int_equal(ld(&f->completed), 2);
    iothread_resume(&f->io);
    fake_free(f);
}

/* The thread cannot wait for itself. */
static void test_pause_from_thread(void **state)
{
    struct fake *f = fake_new(1, true);

    (void)state;
    f->try_pause = true;
    poke(f->kick, 1);
    assert_true(wait_for(&f->completed, 1));
    assert_int_equal(f->pause_rc, -EDEADLK);
    fake_free(f);
}

/* A pause taken before the thread starts holds it from its first look. */
static void test_pause_before_start(void **state)
{
    struct fake *f = fake_new(1, false);

    (void)state;
    assert_int_equal(iothread_pause(&f->io, 1), 0);
    poke(f->kick, 1);
    assert_int_equal(iothread_start(&f->io, NULL), 0);
    assert_int_equal(iothread_start(&f->io, NULL), -EBUSY);
    sleep_ms(50);
    assert_int_equal(ld(&f->kicks), 0);
    assert_int_equal(iothread_pause(&f->io, WAIT_MS), 0); /* parked now */
    assert_quiet(f);
    iothread_resume(&f->io);
    iothread_resume(&f->io);
    assert_true(wait_for(&f->completed, 1));
    fake_free(f);
}

/* iothread_del() returns only once the handler is not running, and it
 * never runs again. */
struct slow {
    struct iothread *io;
    int fd;
    unsigned calls, entered;
    int release; /* eventfd the handler waits on */
    bool del_returned;
};

static void on_slow(void *opaque)
{
    struct slow *s = opaque;
    struct timespec until;
    uint64_t v;

    drain_fd(s->fd);
    add(&s->entered, 1);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += WAIT_MS / 1000;
    for (;;) { /* wait for the test, boundedly */
        if (read(s->release, &v, sizeof(v)) == sizeof(v))
            break;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec)
            break;
        sleep_ms(1);
    }
    add(&s->calls, 1);
}

static void *deleter(void *arg)
{
    struct slow *s = arg;

    iothread_del(s->io, s->fd);
    __atomic_store_n(&s->del_returned, true, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_del_waits_for_handler(void **state)
{
    struct iothread io;
    struct slow s = {&io, eventfd(0, EFD_NONBLOCK), 0,
                     0,   eventfd(0, EFD_NONBLOCK), false};
    pthread_t t;

    (void)state;
    assert_int_equal(iothread_init(&io, "test-io"), 0);
    assert_int_equal(iothread_start(&io, NULL), 0);
    assert_int_equal(iothread_add(&io, s.fd, 0, on_slow, &s), 0);
    assert_int_equal(iothread_add(&io, s.fd, 0, on_slow, &s), -EEXIST);
    poke(s.fd, 1);
    assert_true(wait_for(&s.entered, 1));
    assert_int_equal(pthread_create(&t, NULL, deleter, &s), 0);
    sleep_ms(50);
    assert_false(__atomic_load_n(&s.del_returned, __ATOMIC_SEQ_CST));
    poke(s.release, 1);
    pthread_join(t, NULL);
    assert_int_equal(ld(&s.calls), 1);
    poke(s.fd, 1); /* no handler any more */
    sleep_ms(50);
    assert_int_equal(ld(&s.entered), 1);
    /* the slot is free again */
    assert_int_equal(iothread_add(&io, s.fd, 0, on_slow, &s), 0);
    iothread_del(&io, s.fd);
    iothread_del(&io, s.fd); /* twice: no-op */
    assert_int_equal(iothread_fini(&io, WAIT_MS), 0);
    close(s.fd);
    close(s.release);
}

/* The table is bounded; a bad descriptor is refused. */
static void test_table_limits(void **state)
{
    struct iothread io;
    int fds[IOTHREAD_MAX_HANDLERS + 1];

    (void)state;
    assert_int_equal(iothread_init(&io, "test-io"), 0);
    assert_int_equal(iothread_add(&io, -1, 0, on_kick, NULL), -EBADF);
    for (unsigned i = 0; i <= IOTHREAD_MAX_HANDLERS; i++) {
        fds[i] = eventfd(0, EFD_NONBLOCK);
        assert_true(fds[i] >= 0);
    }
    for (unsigned i = 0; i < IOTHREAD_MAX_HANDLERS; i++)
        assert_int_equal(iothread_add(&io, fds[i], 0, on_kick, NULL), 0);
    assert_int_equal(
        iothread_add(&io, fds[IOTHREAD_MAX_HANDLERS], 0, on_kick, NULL),
        -ENOSPC);
    for (unsigned i = 0; i <= IOTHREAD_MAX_HANDLERS; i++) {
        iothread_del(&io, fds[i]);
        close(fds[i]);
    }
    assert_int_equal(iothread_fini(&io, 0), 0); /* never started */
}

/* Kicks from one thread and pause/resume cycles from two others: every
 * pause finds the backend quiet, no kick is lost, handlers never overlap
 * (enter() aborts if they do). */
struct storm {
    struct fake *f;
    unsigned cycles;
    bool stop;
    const char *err;
};

static void *kicker(void *arg)
{
    struct storm *s = arg;

    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
        poke(s->f->kick, 1);
        sched_yield();
    }
    return NULL;
}

static void *pauser(void *arg)
{
    struct storm *s = arg;

    for (unsigned i = 0; i < s->cycles && !s->err; i++) {
        if (iothread_pause(&s->f->io, WAIT_MS)) {
            s->err = "pause timed out";
            break;
        }
        if (ld(&s->f->inflight) || ld(&s->f->started) != ld(&s->f->completed))
            s->err = "requests in flight while paused";
        if (__atomic_load_n(&s->f->running, __ATOMIC_SEQ_CST))
            s->err = "a handler runs while paused";
        iothread_resume(&s->f->io);
        if (i % 8 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void test_pause_storm(void **state)
{
    struct fake *f = fake_new(2, true);
    struct storm s = {f, 300, false, NULL}, s2 = {f, 300, false, NULL};
    pthread_t k, p1, p2;
    unsigned kicks;

    (void)state;
    assert_int_equal(pthread_create(&k, NULL, kicker, &s), 0);
    assert_int_equal(pthread_create(&p1, NULL, pauser, &s), 0);
    assert_int_equal(pthread_create(&p2, NULL, pauser, &s2), 0);
    pthread_join(p1, NULL);
    pthread_join(p2, NULL);
    __atomic_store_n(&s.stop, true, __ATOMIC_SEQ_CST);
    pthread_join(k, NULL);
    if (s.err || s2.err)
        fail_msg("%s", s.err ? s.err : s2.err);
    assert_false(f->work_while_dry);
    /* the last kick is served: none was lost to a pause */
    kicks = ld(&f->kicks);
    poke(f->kick, 1);
    assert_true(wait_for(&f->kicks, kicks + 1));
    assert_int_equal(iothread_pause(&f->io, WAIT_MS), 0);
    assert_quiet(f);
    assert_int_equal(ld(&f->quiesces), ld(&f->resumes) + 1);
    iothread_resume(&f->io);
    fake_free(f);
}

/* fini drains what is in flight before it ends the thread. */
static void test_fini_drains(void **state)
{
    struct fake *f = fake_new(16, true);

    (void)state;
    poke(f->kick, 1);
    assert_true(wait_for(&f->started, 16));
    assert_int_equal(iothread_fini(&f->io, WAIT_MS), 0);
    assert_int_equal(f->completed, 16);
    assert_int_equal(f->inflight, 0);
    /* fake_free's fini is then a no-op */
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handlers_run),
        cmocka_unit_test(test_pause_drains),
        cmocka_unit_test(test_nested_pauses),
        cmocka_unit_test(test_pause_timeout),
        cmocka_unit_test(test_pause_from_thread),
        cmocka_unit_test(test_pause_before_start),
        cmocka_unit_test(test_del_waits_for_handler),
        cmocka_unit_test(test_table_limits),
        cmocka_unit_test(test_pause_storm),
        cmocka_unit_test(test_fini_drains),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
