/* console.c: the virtio console (port 0 only): the guest's hvc0 on the
 * host's terminal, served on an I/O thread. */
#include "virtio/console.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "error.h"
#include "kvmrun.h"
#include "virtio/device.h"

#define BIT64(n) (1ULL << (n))

static void vcon_poke(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: readable anyway */
}

static void vcon_unpoke(int fd)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) < 0)
        return; /* EAGAIN: nothing pending */
}

/* --- the I/O thread's side ---------------------------------------------- */

static void vcon_broken(struct vcon *c, const char *why)
{
    c->broken = true;
    if (c->t)
        vmmio_needs_reset(c->t, why);
}

/* Pops the next chain of queue q into c->iov: 1, 0 (none), or -1 (the
 * device broke). */
static int vcon_pop(struct vcon *c, unsigned q, struct vq_chain *ch)
{
    int rc;

    ch->iov = c->iov;
    ch->cap = VCON_SEG_MAX;
    rc = vq_pop(c->vq[q], ch);
    if (rc < 0) {
        vcon_broken(c, kvmrun_last_error());
        return -1;
    }
    return rc;
}

static bool vcon_push(struct vcon *c, unsigned q, uint16_t head, uint32_t len)
{
    if (vq_push(c->vq[q], head, len) == 0)
        return true;
    vcon_broken(c, kvmrun_last_error()); /* a bug of ours */
    return false;
}

/*
 * Copies the readable bytes of ch past tx_skip into the output buffer.
 * True when all went; else what went is counted in tx_skip, for the
 * chain to be walked again once there is room.
 */
static bool vcon_tx_copy(struct vcon *c, const struct vq_chain *ch)
{
    uint64_t skip = c->tx_skip;

    for (unsigned i = 0; i < ch->nread; i++) {
        const uint8_t *p = ch->iov[i].iov_base;
        size_t len = ch->iov[i].iov_len, n;

        if (skip >= len) {
            skip -= len;
            continue;
        }
        p += skip;
        len -= skip;
        skip = 0;
        n = outbuf_put_some(&c->out, p, len);
        c->tx_skip += (uint32_t)n;
        c->tx_bytes += n;
        if (n < len)
            return false;
    }
    return true;
}

/*
 * One chain of the transmitq to the output buffer. With too little room
 * it stays on the queue (given back, its sent part in tx_skip) and the
 * transmitter waits for the buffer's room call: a slow reader holds the
 * guest's output back, as a busy UART does, never a thread of ours.
 * False: nothing more to do now.
 */
static bool vcon_tx_one(struct vcon *c)
{
    struct vq_chain ch;

    if (vcon_pop(c, VCON_TXQ, &ch) <= 0)
        return false;
    while (!vcon_tx_copy(c, &ch)) {
        if (outbuf_room(&c->out))
            continue; /* drained meanwhile: no room call will come */
        if (vq_unpop(c->vq[VCON_TXQ], 1) < 0)
            vcon_broken(c, kvmrun_last_error());
        c->tx_blocked = true;
        c->tx_waits++;
        return false;
    }
    c->tx_skip = 0;
    return vcon_push(c, VCON_TXQ, ch.head, 0);
}

/* Takes up to len input bytes into dst: how many. in_lock held. */
static size_t vcon_in_take(struct vcon *c, uint8_t *dst, size_t len)
{
    size_t n = 0;

    while (n < len && c->in_count) {
        size_t run = VCON_INPUT_SIZE - c->in_head;

        if (run > c->in_count)
            run = c->in_count;
        if (run > len - n)
            run = len - n;
        memcpy(dst + n, c->in + c->in_head, run);
        c->in_head = (c->in_head + (unsigned)run) % VCON_INPUT_SIZE;
        c->in_count -= (unsigned)run;
        n += run;
    }
    return n;
}

/* Fills one receive buffer with typed bytes. False: no input, no
 * buffer, or the device broke. */
static bool vcon_rx_one(struct vcon *c)
{
    struct vq_chain ch;
    uint32_t n = 0;
    int rc;

    pthread_mutex_lock(&c->in_lock);
    rc = c->in_count ? vcon_pop(c, VCON_RXQ, &ch) : 0;
    if (rc > 0 && ch.nwrite == 0) {
        pthread_mutex_unlock(&c->in_lock);
        vcon_broken(c, "queue 0: a receive buffer with no device-writable "
                       "byte");
        return false;
    }
    for (unsigned i = ch.nread; rc > 0 && i < ch.nread + ch.nwrite; i++)
        n += (uint32_t)vcon_in_take(c, ch.iov[i].iov_base, ch.iov[i].iov_len);
    pthread_mutex_unlock(&c->in_lock);
    if (rc <= 0)
        return false;
    c->rx_bytes += n;
    return vcon_push(c, VCON_RXQ, ch.head, n);
}

static bool vcon_input_pending(struct vcon *c)
{
    bool pending;

    pthread_mutex_lock(&c->in_lock);
    pending = c->in_count != 0;
    pthread_mutex_unlock(&c->in_lock);
    return pending;
}

/* Whether queue q has nothing to do until something else happens: the
 * device broke, the output buffer is full, or nothing was typed (the
 * guest keeps receive buffers posted all the time; input pokes wake_fd,
 * which serves the receive queue again). */
static bool vcon_idle(struct vcon *c, unsigned q)
{
    if (c->broken)
        return true;
    if (q == VCON_TXQ)
        return c->tx_blocked;
    return !vcon_input_pending(c);
}

/*
 * Serves queue q until nothing more can be done, with kicks off
 * meanwhile; ends by asking for a kick and looking once more
 * (vq_enable_notify), so that a chain made available meanwhile is not
 * left waiting for a kick that will not come. The receive queue wants
 * kicks only while typed bytes wait for a buffer.
 */
static void vcon_process(struct vcon *c, unsigned q)
{
    struct vq *vq = c->vq[q];
    bool (*one)(struct vcon *) = q == VCON_TXQ ? vcon_tx_one : vcon_rx_one;
    bool more;

    if (!vq || vcon_idle(c, q))
        return;
    do {
        uint16_t used = vq->used_idx;

        vq_disable_notify(vq);
        while (!c->broken && one(c))
            ;
        if (vq->used_idx != used && c->t)
            vmmio_signal_used(c->t, vq);
        more = !vcon_idle(c, q) && vq_enable_notify(vq);
    } while (more);
}

static void vcon_on_kick(struct vcon *c, unsigned q)
{
    /* A kick of a queue not (or no longer) active is dropped here, on
     * the I/O thread (a vCPU thread's filter has no read). */
    vcon_unpoke(c->kick_fd[q]);
    vcon_process(c, q);
}

static void vcon_on_rx_kick(void *opaque)
{
    vcon_on_kick(opaque, VCON_RXQ);
}

static void vcon_on_tx_kick(void *opaque)
{
    vcon_on_kick(opaque, VCON_TXQ);
}

/* Typed input, or room in the output buffer: both queues look again. */
static void vcon_on_wake(void *opaque)
{
    struct vcon *c = opaque;

    vcon_unpoke(c->wake_fd);
    c->tx_blocked = false;
    vcon_process(c, VCON_TXQ);
    vcon_process(c, VCON_RXQ);
}

/* The output buffer's thread: room again after a full buffer. */
static void vcon_room(void *opaque)
{
    struct vcon *c = opaque;

    vcon_poke(c->wake_fd);
}

/* --- the transport's side (vCPU threads, transport lock held) ----------- */

static void vcon_config_read(void *dev, uint32_t offset, uint8_t *data,
                             unsigned size)
{
    struct vcon *c = dev;

    memcpy(data, (const uint8_t *)&c->config + offset, size);
}

/* Forgets the queues: the I/O thread is paused. The chain given back
 * goes with the queue, so does what of it was sent. */
static void vcon_stop_queues(struct vcon *c)
{
    for (unsigned i = 0; i < VCON_NQUEUES; i++)
        c->vq[i] = NULL;
    c->broken = c->tx_blocked = false;
    c->tx_skip = 0;
}

/* DRIVER_OK: the queues go to the I/O thread while it is parked; only
 * futex and eventfd writes here (the vCPU threads' seccomp filter). */
static int vcon_activate(void *dev, uint64_t features, struct vq *const *vqs,
                         unsigned nq)
{
    struct vcon *c = dev;

    (void)features;
    iothread_pause(c->io, 0);
    vcon_stop_queues(c);
    c->tx_skip = c->loaded_skip; /* 0 but for a restore's activation */
    c->loaded_skip = 0;
    for (unsigned i = 0; i < VCON_NQUEUES && i < nq; i++) {
        c->vq[i] = vqs[i];
        /* Buffers made available before DRIVER_OK get no kick: look. */
        if (vqs[i])
            vcon_poke(c->kick_fd[i]);
    }
    iothread_resume(c->io);
    return 0;
}

static void vcon_reset(void *dev)
{
    struct vcon *c = dev;

    iothread_pause(c->io, 0);
    vcon_stop_queues(c);
    iothread_resume(c->io);
}

static void vcon_notify(void *dev, unsigned q)
{
    struct vcon *c = dev;

    if (q < VCON_NQUEUES)
        vcon_poke(c->kick_fd[q]);
}

static const struct virtio_dev_ops vcon_ops = {
    .config_read = vcon_config_read,
    .config_write = NULL,
    .activate = vcon_activate,
    .reset = vcon_reset,
    .notify = vcon_notify,
};

/* --- setup -------------------------------------------------------------- */

static void vcon_make_dev(struct vcon *c, uint16_t cols, uint16_t rows)
{
    uint64_t f =
        BIT64(VIRTIO_RING_F_INDIRECT_DESC) | BIT64(VIRTIO_RING_F_EVENT_IDX);

    memset(&c->config, 0, sizeof(c->config));
    if (cols && rows) {
        f |= BIT64(VIRTIO_CONSOLE_F_SIZE);
        c->config.cols = htole16(cols);
        c->config.rows = htole16(rows);
    }
    c->config.max_nr_ports = htole32(1);
    c->dev = (struct virtio_dev){
        .name = c->name,
        .device_id = VIRTIO_ID_CONSOLE,
        .features = f,
        .config_size = sizeof(c->config),
        .nqueues = VCON_NQUEUES,
        .ops = &vcon_ops,
        .opaque = c,
    };
    for (unsigned i = 0; i < VCON_NQUEUES; i++)
        c->dev.queue_max[i] = VCON_QUEUE_SIZE;
}

static int vcon_make_fds(struct vcon *c)
{
    for (unsigned i = 0; i < VCON_NQUEUES; i++)
        if ((c->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
            return err_errno(errno, "%s: eventfd", c->name);
    if ((c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return err_errno(errno, "%s: eventfd", c->name);
    return 0;
}

static int vcon_register(struct vcon *c)
{
    struct {
        int fd;
        iothread_fn *fn;
    } h[] = {{c->kick_fd[VCON_RXQ], vcon_on_rx_kick},
             {c->kick_fd[VCON_TXQ], vcon_on_tx_kick},
             {c->wake_fd, vcon_on_wake}};
    int r;

    for (unsigned i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        r = iothread_add(c->io, h[i].fd, IOTHREAD_WORK, h[i].fn, c);
        if (r)
            return r;
        c->handlers = i + 1;
    }
    return 0;
}

static int vcon_start_output(struct vcon *c, const struct vcon_params *p)
{
    const struct outbuf_client client = {vcon_room, c, p->report, p->machine};
    int r = outbuf_init(&c->out, c->name, p->out_fd, OUTBUF_SIZE, VCON_OUT_LOW,
                        p->intr_signal, &client);

    if (r < 0 || p->out_fd < 0)
        return r;
    r = p->spawn(&c->out.thread, outbuf_thread, &c->out);
    if (r != 0)
        return err_set(r, "%s: cannot start the output thread: %s", c->name,
                       strerror(r));
    c->out.thread_live = true;
    return 0;
}

int vcon_init(struct vcon *c, const struct vcon_params *p)
{
    int r;

    memset(c, 0, sizeof(*c));
    c->kick_fd[0] = c->kick_fd[1] = c->wake_fd = -1;
    c->name = p->name;
    c->io = p->io;
    c->log = p->log;
    c->machine = p->machine;
    pthread_mutex_init(&c->in_lock, NULL);
    c->ready = true;
    vcon_make_dev(c, p->cols, p->rows);
    r = vcon_make_fds(c);
    if (!r)
        r = vcon_start_output(c, p);
    if (!r)
        r = vcon_register(c);
    if (r) {
        char why[512];

        snprintf(why, sizeof(why), "%s", kvmrun_last_error());
        vcon_fini(c);
        return err_set(-r, "%s", why);
    }
    return 0;
}

const struct virtio_dev *vcon_dev(const struct vcon *c)
{
    return &c->dev;
}

void vcon_attach(struct vcon *c, struct vmmio *t)
{
    c->t = t;
}

int vcon_kick_fd(const struct vcon *c, unsigned q)
{
    return q < VCON_NQUEUES ? c->kick_fd[q] : -1;
}

size_t vcon_input(struct vcon *c, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    pthread_mutex_lock(&c->in_lock);
    while (n < len && c->in_count < VCON_INPUT_SIZE) {
        c->in[(c->in_head + c->in_count) % VCON_INPUT_SIZE] = buf[n++];
        c->in_count++;
    }
    pthread_mutex_unlock(&c->in_lock);
    if (n)
        vcon_poke(c->wake_fd);
    return n;
}

int vcon_flush(struct vcon *c)
{
    uint64_t held;

    if (outbuf_flush(&c->out, OUTBUF_FLUSH_STALL_MS, OUTBUF_FLUSH_MAX_MS,
                     &held) == 0)
        return 0;
    return err_set(ETIMEDOUT,
                   "%s: %" PRIu64 " byte%s of the guest's output not "
                   "written: the reader %s",
                   c->name, held, held == 1 ? "" : "s", outbuf_why(&c->out));
}

int vcon_describe(struct vcon *c, char *buf, size_t len)
{
    unsigned long long held = outbuf_held(&c->out);
    unsigned in;

    pthread_mutex_lock(&c->in_lock);
    in = c->in_count;
    pthread_mutex_unlock(&c->in_lock);
    /* The I/O thread's fields, read racily: a snapshot for a human. */
    return snprintf(buf, len,
                    "%s: %u bytes typed and not yet taken by the guest, "
                    "%llu bytes of output not yet written, transmitter %s",
                    c->name, in, held,
                    __atomic_load_n(&c->tx_blocked, __ATOMIC_RELAXED)
                        ? "waiting for the reader"
                        : "ready");
}

void vcon_resize(struct vcon *c, uint16_t cols, uint16_t rows)
{
    if (!(c->dev.features & BIT64(VIRTIO_CONSOLE_F_SIZE)) || !c->t)
        return;
    pthread_mutex_lock(&c->t->lock); /* config reads take it */
    c->config.cols = htole16(cols);
    c->config.rows = htole16(rows);
    pthread_mutex_unlock(&c->t->lock);
    vmmio_config_changed(c->t);
}

void vcon_save(struct vcon *c, struct vcon_state *st)
{
    memset(st, 0, sizeof(*st));
    st->tx_skip = c->tx_skip;
    st->cols = le16toh(c->config.cols);
    st->rows = le16toh(c->config.rows);
    pthread_mutex_lock(&c->in_lock);
    st->in_count = c->in_count;
    for (unsigned i = 0; i < c->in_count; i++)
        st->in[i] = c->in[(c->in_head + i) % VCON_INPUT_SIZE];
    pthread_mutex_unlock(&c->in_lock);
}

int vcon_check(const struct vcon_state *st, char *why, size_t len)
{
    if (st->in_count > VCON_INPUT_SIZE) {
        snprintf(why, len, "%" PRIu32 " bytes of input held, more than %u",
                 st->in_count, VCON_INPUT_SIZE);
        return -EINVAL;
    }
    return 0;
}

/* The terminal's size is this host's, not the snapshot's. */
void vcon_load(struct vcon *c, const struct vcon_state *st)
{
    iothread_pause(c->io, 0);
    c->loaded_skip = st->tx_skip;
    pthread_mutex_lock(&c->in_lock);
    c->in_head = 0;
    c->in_count = st->in_count <= VCON_INPUT_SIZE ? st->in_count : 0;
    memcpy(c->in, st->in, c->in_count);
    pthread_mutex_unlock(&c->in_lock);
    iothread_resume(c->io);
}

static void vcon_unregister(struct vcon *c)
{
    int fds[] = {c->kick_fd[VCON_RXQ], c->kick_fd[VCON_TXQ], c->wake_fd};

    if (!c->handlers)
        return;
    iothread_pause(c->io, 0);
    vcon_stop_queues(c);
    for (unsigned i = 0; i < c->handlers; i++)
        iothread_del(c->io, fds[i]);
    c->handlers = 0;
    iothread_resume(c->io);
}

/* What the guest wrote is written first, bounded, unless a flush gave up
 * and the reader took nothing since; the rest is dropped, said once. */
static void vcon_end_output(struct vcon *c)
{
    uint64_t dropped;
    char line[200];

    if (!c->out.ready)
        return;
    if (!outbuf_stalled(&c->out))
        vcon_flush(c);
    dropped = outbuf_fini(&c->out);
    if (dropped && c->log) {
        snprintf(line, sizeof(line),
                 "%s: %" PRIu64 " byte%s of the guest's output dropped at "
                 "exit: the reader %s",
                 c->name, dropped, dropped == 1 ? "" : "s",
                 outbuf_why(&c->out));
        c->log(c->machine, line);
    }
}

void vcon_fini(struct vcon *c)
{
    if (!c->ready)
        return;
    vcon_unregister(c);
    vcon_end_output(c);
    for (unsigned i = 0; i < VCON_NQUEUES; i++)
        if (c->kick_fd[i] >= 0)
            close(c->kick_fd[i]);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    c->kick_fd[0] = c->kick_fd[1] = c->wake_fd = -1;
    pthread_mutex_destroy(&c->in_lock);
    c->ready = false;
}

/* ---- The machine's device: the console behind the virtio glue ---- */

struct vcon_dev {
    struct vdev v; /* first: the glue's hooks take this pointer */
    struct vcon c;
};

static unsigned vcon_count(const struct kvmrun_config *cfg)
{
    return cfg->console == KVMRUN_CONSOLE_VIRTIO;
}

/* The terminal's size, if the output is one; else SIZE is not offered
 * and the guest keeps its own idea (80x25 for hvc). */
static void vcon_winsize(int fd, uint16_t *cols, uint16_t *rows)
{
    struct winsize ws;

    *cols = *rows = 0;
    if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

static int vcon_type_init(struct vdev *v, const struct dev_ctx *ctx)
{
    struct vcon_dev *d = (struct vcon_dev *)v;
    struct vcon_params p = {
        .name = v->name,
        .io = &v->io,
        .out_fd = ctx->cfg->console_fd,
        .intr_signal = ctx->thread_signal,
        .spawn = kvmrun_thread_create,
        .report = ctx->env->report,
        .log = ctx->env->log,
        .machine = ctx->env->machine,
    };
    int r;

    vcon_winsize(p.out_fd, &p.cols, &p.rows);
    r = vcon_init(&d->c, &p);
    if (r == 0)
        v->dev = *vcon_dev(&d->c);
    return r;
}

static void vcon_type_attach(struct vdev *v)
{
    vcon_attach(&((struct vcon_dev *)v)->c, &v->t);
}

static int vcon_type_kick_fd(struct vdev *v, unsigned q)
{
    return vcon_kick_fd(&((struct vcon_dev *)v)->c, q);
}

static void vcon_type_fini(struct vdev *v)
{
    vcon_fini(&((struct vcon_dev *)v)->c);
}

static void vcon_type_save(struct vdev *v, void *state)
{
    vcon_save(&((struct vcon_dev *)v)->c, state);
}

static int vcon_type_check(const void *state, char *why, size_t len)
{
    struct vcon_state st;

    memcpy(&st, state, sizeof(st)); /* the section may be unaligned */
    return vcon_check(&st, why, len);
}

static void vcon_type_load(struct vdev *v, const void *state)
{
    struct vcon_state st;

    memcpy(&st, state, sizeof(st));
    vcon_load(&((struct vcon_dev *)v)->c, &st);
}

static const struct vdev_type vcon_type = {
    .init = vcon_type_init,
    .attach = vcon_type_attach,
    .kick_fd = vcon_type_kick_fd,
    .fini = vcon_type_fini,
    .state_size = sizeof(struct vcon_state),
    .save = vcon_type_save,
    .check = vcon_type_check,
    .load = vcon_type_load,
};

static int vcon_desc_init(void *dev, const struct dev_ctx *ctx)
{
    return vdev_init(dev, ctx, &vcon_type);
}

static int vcon_desc_check(const void *state, char *why, size_t len)
{
    return vdev_check(&vcon_type, state, why, len);
}

static size_t vcon_desc_input(void *dev, const uint8_t *buf, size_t len)
{
    return vcon_input(&((struct vcon_dev *)dev)->c, buf, len);
}

static int vcon_desc_flush(void *dev)
{
    return vcon_flush(&((struct vcon_dev *)dev)->c);
}

static int vcon_desc_describe(void *dev, char *buf, size_t len)
{
    return vcon_describe(&((struct vcon_dev *)dev)->c, buf, len);
}

static const struct dev_console vcon_desc_console = {
    vcon_desc_input,
    vcon_desc_flush,
    vcon_desc_describe,
};

/* VDEV_DESC's, plus the console hooks. */
const struct dev_desc vcon_desc = {
    VDEV_DESC_FIELDS("virtio-console", struct vcon_dev, vcon_count,
                     vcon_desc_init, vcon_desc_check, 1,
                     sizeof(struct vcon_state)),
    .console = &vcon_desc_console,
};
