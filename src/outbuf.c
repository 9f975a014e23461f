/* outbuf.c: a device's output, held in a ring and written out by a thread. */
#include "outbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* Re-sent this often to a thread that does not end at outbuf_fini(). */
#define OUTBUF_INTR_MS 10

static uint64_t outbuf_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct timespec outbuf_timespec(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ULL),
                          (long)(ns % 1000000000ULL)};

    return ts;
}

int outbuf_init(struct outbuf *ob, const char *name, int fd, size_t size,
                size_t low, int intr_signal, const struct outbuf_client *client)
{
    pthread_condattr_t attr;

    memset(ob, 0, sizeof(*ob));
    ob->name = name;
    ob->fd = fd;
    ob->wake_fd = -1;
    ob->intr_signal = intr_signal;
    ob->size = size;
    ob->low = low;
    ob->client = *client;
    snprintf(ob->why, sizeof(ob->why), "was not waited for");
    if (size == 0 || (size & (size - 1)) || low > size)
        return err_set(EINVAL,
                       "%s: output buffer of %zu bytes (%zu free "
                       "for ready)",
                       name, size, low);
    if (fd >= 0) {
        ob->buf = malloc(size); /* pages touched only as output passes */
        if (!ob->buf)
            return err_set(ENOMEM,
                           "%s: out of memory for the output "
                           "buffer",
                           name);
        ob->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (ob->wake_fd < 0) {
            int r = err_errno(errno, "%s: eventfd", name);

            free(ob->buf);
            return r;
        }
    }
    pthread_mutex_init(&ob->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ob->progress, &attr);
    pthread_condattr_destroy(&attr);
    ob->ready = true;
    return 0;
}

/* Output goes nowhere: no descriptor, or a write error said so. */
static bool outbuf_discarding(const struct outbuf *ob)
{
    return ob->fd < 0 || ob->failed;
}

static size_t outbuf_free(const struct outbuf *ob)
{
    return ob->size - (size_t)(ob->head - ob->tail);
}

static void outbuf_wake(struct outbuf *ob)
{
    uint64_t one = 1;

    if (write(ob->wake_fd, &one, sizeof(one)) < 0)
        return; /* EAGAIN only at a counter of 2^64 - 2: never */
}

bool outbuf_put(struct outbuf *ob, uint8_t byte)
{
    bool queued = true, wake = false;

    pthread_mutex_lock(&ob->lock);
    if (outbuf_discarding(ob)) {
        pthread_mutex_unlock(&ob->lock);
        return true;
    }
    if (outbuf_free(ob) == 0) {
        ob->dropped++; /* as a real FIFO overwritten: the byte is gone */
        queued = false;
    } else {
        ob->buf[ob->head & (ob->size - 1)] = byte;
        ob->head++;
        wake = ob->idle; /* else the thread comes back for more itself */
        ob->idle = false;
    }
    pthread_mutex_unlock(&ob->lock);
    if (wake)
        outbuf_wake(ob);
    return queued;
}

size_t outbuf_put_some(struct outbuf *ob, const uint8_t *data, size_t len)
{
    size_t n, off, first;
    bool wake;

    pthread_mutex_lock(&ob->lock);
    if (outbuf_discarding(ob)) {
        pthread_mutex_unlock(&ob->lock);
        return len;
    }
    n = outbuf_free(ob) < len ? outbuf_free(ob) : len;
    off = (size_t)(ob->head & (ob->size - 1));
    first = ob->size - off < n ? ob->size - off : n;
    memcpy(ob->buf + off, data, first);
    memcpy(ob->buf, data + first, n - first);
    ob->head += n;
    wake = n && ob->idle;
    if (wake)
        ob->idle = false;
    pthread_mutex_unlock(&ob->lock);
    if (wake)
        outbuf_wake(ob);
    return n;
}

bool outbuf_room(struct outbuf *ob)
{
    bool room;

    pthread_mutex_lock(&ob->lock);
    room = outbuf_discarding(ob) || outbuf_free(ob) >= ob->low;
    if (!room)
        ob->armed = true;
    pthread_mutex_unlock(&ob->lock);
    return room;
}

uint64_t outbuf_held(struct outbuf *ob)
{
    uint64_t held;

    pthread_mutex_lock(&ob->lock);
    held = ob->head - ob->tail;
    pthread_mutex_unlock(&ob->lock);
    return held;
}

static bool outbuf_stopping(struct outbuf *ob)
{
    bool stop;

    pthread_mutex_lock(&ob->lock);
    stop = ob->stop;
    pthread_mutex_unlock(&ob->lock);
    return stop;
}

/* Takes what wakes were written; none left is fine (EAGAIN). */
static void outbuf_take_wake(struct outbuf *ob)
{
    uint64_t n;

    if (read(ob->wake_fd, &n, sizeof(n)) < 0)
        return;
}

/* Waits for bytes to write: the next piece, contiguous in the ring, at
 * most OUTBUF_CHUNK. False once the thread must end. */
static bool outbuf_next(struct outbuf *ob, size_t *off, size_t *len)
{
    struct pollfd pfd = {.fd = ob->wake_fd, .events = POLLIN};
    bool go;

    pthread_mutex_lock(&ob->lock);
    while (!ob->stop && (ob->failed || ob->head == ob->tail)) {
        ob->idle = true; /* the next outbuf_put() wakes us */
        pthread_mutex_unlock(&ob->lock);
        if (poll(&pfd, 1, -1) > 0)
            outbuf_take_wake(ob);
        pthread_mutex_lock(&ob->lock);
    }
    ob->idle = false;
    go = !ob->stop;
    if (go) {
        size_t held = (size_t)(ob->head - ob->tail);

        *off = (size_t)(ob->tail & (ob->size - 1));
        *len = ob->size - *off;
        if (*len > held)
            *len = held;
        if (*len > OUTBUF_CHUNK)
            *len = OUTBUF_CHUNK;
    }
    pthread_mutex_unlock(&ob->lock);
    return go;
}

/* Waits until the descriptor takes bytes (or has an error for write() to
 * report). False once the thread must end. */
static bool outbuf_wait_fd(struct outbuf *ob)
{
    struct pollfd pfd[2] = {{.fd = ob->fd, .events = POLLOUT},
                            {.fd = ob->wake_fd, .events = POLLIN}};

    for (;;) {
        if (outbuf_stopping(ob))
            return false;
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return true; /* let write() say what is wrong */
        }
        if (pfd[1].revents)
            outbuf_take_wake(ob);
        if (pfd[0].revents)
            return true;
    }
}

static void outbuf_report_dropped(struct outbuf *ob, uint64_t n)
{
    char line[200];

    snprintf(line, sizeof(line),
             "%s: %" PRIu64 " byte%s of output dropped: the guest sent "
             "them while its transmitter was busy, with the %zu-byte output "
             "buffer full (the reader is slow)",
             ob->name, n, n == 1 ? "" : "s", ob->size);
    ob->client.report(ob->client.machine, line);
}

static void outbuf_written(struct outbuf *ob, size_t n)
{
    bool room = false;
    uint64_t dropped = 0;

    pthread_mutex_lock(&ob->lock);
    ob->tail += n;
    if (ob->armed && outbuf_free(ob) >= ob->low) {
        ob->armed = false;
        room = true;
    }
    /* Bytes dropped while full are told once the ring has emptied: one
     * line per episode, however long the guest went on writing. */
    if (ob->dropped && ob->head == ob->tail) {
        dropped = ob->dropped;
        ob->dropped = 0;
    }
    pthread_cond_broadcast(&ob->progress);
    pthread_mutex_unlock(&ob->lock);
    if (room)
        ob->client.room(ob->client.dev);
    if (dropped)
        outbuf_report_dropped(ob, dropped);
}

/* A write error (EPIPE, EIO, ...): said once; output discarded from now
 * on, and a device waiting for room is ready again. */
static void outbuf_failed(struct outbuf *ob, int err)
{
    char line[160];
    bool room;

    snprintf(line, sizeof(line),
             "%s: cannot write output: %s; discarding further output", ob->name,
             err ? strerror(err) : "EOF");
    pthread_mutex_lock(&ob->lock);
    ob->failed = true;
    ob->tail = ob->head;
    ob->dropped = 0;
    room = ob->armed;
    ob->armed = false;
    pthread_cond_broadcast(&ob->progress);
    pthread_mutex_unlock(&ob->lock);
    if (room)
        ob->client.room(ob->client.dev);
    ob->client.report(ob->client.machine, line);
}

static void outbuf_unblock_intr(const struct outbuf *ob)
{
    sigset_t set;

    if (!ob->intr_signal)
        return;
    sigemptyset(&set);
    sigaddset(&set, ob->intr_signal);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void *outbuf_thread(void *arg)
{
    struct outbuf *ob = arg;
    char name[16];
    size_t off, len;

    /* Named by itself (a prctl), as the vCPU threads. */
    snprintf(name, sizeof(name), "%s-out", ob->name);
    pthread_setname_np(pthread_self(), name);
    outbuf_unblock_intr(ob);
    while (outbuf_next(ob, &off, &len) && outbuf_wait_fd(ob)) {
        ssize_t n = write(ob->fd, ob->buf + off, len);

        if (n > 0)
            outbuf_written(ob, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            outbuf_failed(ob, n < 0 ? errno : 0);
        /* EAGAIN (a non-blocking descriptor): poll again; EINTR: stop? */
    }
    pthread_mutex_lock(&ob->lock);
    ob->ended = true;
    pthread_cond_broadcast(&ob->progress);
    pthread_mutex_unlock(&ob->lock);
    return NULL;
}

/* Under ob->lock: gives up a flush, remembering where. */
static int outbuf_give_up(struct outbuf *ob, uint64_t *held)
{
    ob->gave_up = true;
    ob->gave_up_at = ob->tail;
    *held = ob->head - ob->tail;
    pthread_mutex_unlock(&ob->lock);
    return -ETIMEDOUT;
}

int outbuf_flush(struct outbuf *ob, unsigned stall_ms, unsigned max_ms,
                 uint64_t *held)
{
    uint64_t start = outbuf_now_ns(), last = start, target, seen;
    uint64_t stall = stall_ms * 1000000ULL, max = max_ms * 1000000ULL;

    *held = 0;
    if (ob->fd < 0)
        return 0;
    pthread_mutex_lock(&ob->lock);
    target = ob->head;
    seen = ob->tail;
    while (ob->tail < target && !ob->failed && !ob->ended) {
        uint64_t now = outbuf_now_ns(), until;
        struct timespec ts;

        if (ob->tail != seen) {
            seen = ob->tail;
            last = now;
        }
        if (now - last >= stall) {
            snprintf(ob->why, sizeof(ob->why), "took none for %u ms", stall_ms);
            return outbuf_give_up(ob, held);
        }
        if (now - start >= max) {
            snprintf(ob->why, sizeof(ob->why),
                     "did not take it all within %u ms", max_ms);
            return outbuf_give_up(ob, held);
        }
        until = last + stall < start + max ? last + stall : start + max;
        ts = outbuf_timespec(until);
        pthread_cond_timedwait(&ob->progress, &ob->lock, &ts);
    }
    if (ob->tail < target && !ob->failed)
        return outbuf_give_up(ob, held); /* the thread has ended */
    pthread_mutex_unlock(&ob->lock);
    return 0;
}

const char *outbuf_why(const struct outbuf *ob)
{
    return ob->why;
}

bool outbuf_stalled(struct outbuf *ob)
{
    bool stalled;

    if (!ob->ready)
        return false;
    pthread_mutex_lock(&ob->lock);
    stalled = ob->gave_up && ob->gave_up_at == ob->tail &&
              ob->head != ob->tail && !ob->failed;
    pthread_mutex_unlock(&ob->lock);
    return stalled;
}

/* Ends the thread: the eventfd wakes it from poll(); intr_signal, re-sent
 * until it ends, from a write() that blocks. */
static void outbuf_stop_thread(struct outbuf *ob)
{
    pthread_mutex_lock(&ob->lock);
    ob->stop = true;
    pthread_mutex_unlock(&ob->lock);
    outbuf_wake(ob);
    pthread_mutex_lock(&ob->lock);
    while (!ob->ended) {
        struct timespec ts =
            outbuf_timespec(outbuf_now_ns() + OUTBUF_INTR_MS * 1000000ULL);

        if (pthread_cond_timedwait(&ob->progress, &ob->lock, &ts) !=
                ETIMEDOUT ||
            !ob->intr_signal)
            continue;
        pthread_kill(ob->thread, ob->intr_signal);
    }
    pthread_mutex_unlock(&ob->lock);
    pthread_join(ob->thread, NULL);
    ob->thread_live = false;
}

uint64_t outbuf_fini(struct outbuf *ob)
{
    uint64_t dropped;

    if (!ob->ready)
        return 0; /* never made, or done already */
    if (ob->thread_live)
        outbuf_stop_thread(ob);
    dropped = ob->failed ? 0 : ob->head - ob->tail;
    if (ob->dropped)
        outbuf_report_dropped(ob, ob->dropped);
    free(ob->buf);
    ob->buf = NULL;
    if (ob->wake_fd >= 0)
        close(ob->wake_fd);
    ob->wake_fd = -1;
    pthread_cond_destroy(&ob->progress);
    pthread_mutex_destroy(&ob->lock);
    ob->ready = false;
    return dropped;
}
