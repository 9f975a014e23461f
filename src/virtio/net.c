/*
 * net.c: virtio-net on an existing tap device (--net tap=IFNAME): two
 * queues (receive 0, transmit 1) served on the device's I/O thread,
 * frames passed between guest buffers and the tap with readv/writev and
 * the tap's virtio-net header (IFF_VNET_HDR), no copy of the payload.
 *
 * Transmit: a kick pops chains, checks each header (net_req.c: a bad one
 * is dropped and counted) and writes the frame to the tap. EAGAIN gives
 * the chain back (vq_unpop) and waits for the tap to be writable.
 * Receive: the tap is polled only while the guest has receive buffers; a
 * readv goes straight into a window of popped chains (one without
 * MRG_RXBUF, several with it), the chains the frame filled are pushed
 * with num_buffers set and the others given back when the handler ends.
 * So between two handlers no chain is held: a pause or a snapshot finds
 * the queues exact, with nothing in flight.
 */
#include "virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "error.h"
#include "kvmrun.h"
#include "virtio/device.h"
#include "virtio/net_req.h"
#include "virtio/vhost.h"

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_QUEUE_SIZE 256
/* Segments of one chain: Linux sends at most MAX_SKB_FRAGS + 2. */
#define VNET_SEGS 64
/* The receive window: chains popped ahead of a frame, and their
 * segments (readv takes at most IOV_MAX, 1024). */
#define VNET_RX_CHAINS 64
#define VNET_RX_IOV 1024
/* Frames per handler call, so that one busy queue cannot starve the
 * other or a pause. */
#define VNET_BUDGET 256
/* Config space: mac, then status. */
#define VNET_CONFIG_SIZE 8

#define VNET_FEATURES                                                          \
    ((1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |              \
     (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |         \
     (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |     \
     (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |   \
     (1ULL << VIRTIO_NET_F_MRG_RXBUF) |                                        \
     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |                                   \
     (1ULL << VIRTIO_RING_F_EVENT_IDX))

struct vnet_rxchain {
    uint16_t head;
    unsigned nwrite;
    uint64_t room;
    struct iovec iov[VNET_SEGS];
};

struct vnet {
    struct vdev v; /* first: the glue's hooks get this pointer */
    char tap[KVMRUN_NET_IFNAME_MAX + 1];
    uint8_t mac[6];
    int tap_fd;
    int out_fd; /* a dup of tap_fd, polled for writable */
    int kick_fd[2];
    bool kick_registered[2], client_registered;
    /* Set under the I/O thread's pause by activate and reset. */
    struct vq *rxq, *txq;
    uint64_t features;
    bool offload_owed; /* TUNSETOFFLOAD for the new features */
    /* The I/O thread's. */
    bool broken;
    bool rx_polling, tx_blocked;
    struct vnet_rxchain rx[VNET_RX_CHAINS];
    unsigned rx_first, rx_count;
    struct iovec rx_iov[VNET_RX_IOV];
    struct iovec tx_iov[VNET_SEGS];
    struct iovec tx_out[VNET_SEGS + 1];
    uint64_t tx_packets, tx_dropped, rx_packets, rx_dropped;
    /* vhost=on: the kernel's vhost-net serves both queues; the I/O thread
     * starts it after each pause (activate's too) and stops it at each. */
    int vhost_fd;
    uint64_t vhost_features; /* what /dev/vhost-net offers */
    bool vhost_running;
};

/* The section: the tap it was on, the address the guest knows, counts. */
struct vnet_state {
    char tap[KVMRUN_NET_IFNAME_MAX + 1];
    uint8_t mac[6];
    uint8_t pad[2];
    uint64_t tx_packets, tx_dropped, rx_packets, rx_dropped;
};

static unsigned vnet_count(const struct kvmrun_config *cfg)
{
    return cfg->nnets;
}

static void vnet_poke(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0)
        return; /* only at a counter of 2^64 - 2: readable anyway */
}

static void vnet_drain_fd(int fd)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) < 0)
        return; /* EAGAIN: nothing pending */
}

static bool vnet_has(const struct vnet *n, unsigned bit)
{
    return n->features & (1ULL << bit);
}

static void vnet_fail(struct vnet *n)
{
    n->broken = true;
    vmmio_needs_reset(&n->v.t, kvmrun_last_error());
}

/* A dropped frame: counted, and a line (the machine rate-limits them). */
static void vnet_drop(struct vnet *n, const char *dir, uint64_t *count,
                      const char *why)
{
    char line[160];

    (*count)++;
    snprintf(line, sizeof(line),
             "%s: %s: frame dropped (%" PRIu64 " so far): %s", n->v.name, dir,
             *count, why);
    n->v.env->report(n->v.env->machine, line);
}

/* The offloads the guest takes: what the tap may hand us (TUN_F_*). TSO
 * needs the checksum offload too (the tap refuses it alone). */
static void vnet_sync_offload(struct vnet *n)
{
    unsigned off = 0;

    if (!n->offload_owed)
        return;
    n->offload_owed = false;
    if (vnet_has(n, VIRTIO_NET_F_GUEST_CSUM)) {
        off |= TUN_F_CSUM;
        if (vnet_has(n, VIRTIO_NET_F_GUEST_TSO4))
            off |= TUN_F_TSO4;
        if (vnet_has(n, VIRTIO_NET_F_GUEST_TSO6))
            off |= TUN_F_TSO6;
    }
    if (ioctl(n->tap_fd, TUNSETOFFLOAD, off) < 0) {
        err_errno(errno, "%s: TUNSETOFFLOAD 0x%x", n->tap, off);
        vnet_fail(n);
    }
}

/* ---- Transmit ---- */

static void vnet_on_writable(void *opaque);

/* EAGAIN: the chain goes back and the tap's writability resumes us. */
static void vnet_tx_block(struct vnet *n)
{
    if (vq_unpop(n->txq, 1) < 0 ||
        iothread_add(&n->v.io, n->out_fd, IOTHREAD_WORK | IOTHREAD_OUT,
                     vnet_on_writable, n) < 0) {
        vnet_fail(n);
        return;
    }
    n->tx_blocked = true;
}

/* One chain: 1 sent or dropped, 0 blocked (given back), -1 broken. */
static int vnet_tx_one(struct vnet *n, const struct vq_chain *c)
{
    const struct vnet_tx_caps caps = {vnet_has(n, VIRTIO_NET_F_CSUM),
                                      vnet_has(n, VIRTIO_NET_F_HOST_TSO4),
                                      vnet_has(n, VIRTIO_NET_F_HOST_TSO6)};
    struct vnet_tx tx;
    ssize_t w;

    if (vnet_tx_parse(c, &caps, n->tx_out, VNET_SEGS + 1, &tx) < 0) {
        vnet_drop(n, "tx", &n->tx_dropped, tx.why);
    } else {
        w = writev(n->tap_fd, n->tx_out, (int)tx.nout);
        if (w < 0 && errno == EAGAIN) {
            vnet_tx_block(n);
            return n->broken ? -1 : 0;
        }
        if (w < 0)
            vnet_drop(n, "tx", &n->tx_dropped, strerror(errno));
        else
            n->tx_packets++;
    }
    if (vq_push(n->txq, c->head, 0) < 0) {
        vnet_fail(n);
        return -1;
    }
    return 1;
}

static void vnet_tx(struct vnet *n)
{
    struct vq_chain c = {.iov = n->tx_iov, .cap = VNET_SEGS};
    unsigned budget = VNET_BUDGET;
    bool pushed = false;
    int rc = 1;

    while (n->txq && !n->broken && !n->tx_blocked) {
        vq_disable_notify(n->txq);
        while (budget && (rc = vq_pop(n->txq, &c)) > 0) {
            budget--;
            if ((rc = vnet_tx_one(n, &c)) <= 0)
                break;
            pushed = true;
        }
        if (rc < 0 && !n->broken)
            vnet_fail(n);
        if (pushed)
            vmmio_signal_used(&n->v.t, n->txq);
        pushed = false;
        if (n->broken || n->tx_blocked)
            break;
        if (!budget) { /* more later: let the other handlers run */
            vnet_poke(n->kick_fd[VNET_TXQ]);
            break;
        }
        if (!vq_enable_notify(n->txq))
            break;
    }
}

static void vnet_on_writable(void *opaque)
{
    struct vnet *n = opaque;

    iothread_del(&n->v.io, n->out_fd);
    n->tx_blocked = false;
    vnet_tx(n);
}

static void vnet_on_tx_kick(void *opaque)
{
    struct vnet *n = opaque;

    vnet_drain_fd(n->kick_fd[VNET_TXQ]);
    vnet_sync_offload(n);
    vnet_tx(n);
}

/* ---- Receive ---- */

static void vnet_on_tap(void *opaque);

static void vnet_rx_poll(struct vnet *n, bool on)
{
    if (on == n->rx_polling)
        return;
    if (on &&
        iothread_add(&n->v.io, n->tap_fd, IOTHREAD_WORK, vnet_on_tap, n) < 0) {
        vnet_fail(n);
        return;
    }
    if (!on)
        iothread_del(&n->v.io, n->tap_fd);
    n->rx_polling = on;
}

static struct vnet_rxchain *vnet_rx_at(struct vnet *n, unsigned i)
{
    return &n->rx[(n->rx_first + i) % VNET_RX_CHAINS];
}

/* Pops chains into the window until it holds a largest frame (one chain
 * without MRG_RXBUF). A chain with nothing writable goes back used,
 * empty. -1: the ring is broken. */
static int vnet_rx_fill(struct vnet *n, bool *pushed)
{
    bool mrg = vnet_has(n, VIRTIO_NET_F_MRG_RXBUF);
    uint64_t room = 0;
    unsigned segs = 0;
    int rc;

    for (unsigned i = 0; i < n->rx_count; i++) {
        room += vnet_rx_at(n, i)->room;
        segs += vnet_rx_at(n, i)->nwrite;
    }
    while (n->rx_count < (mrg ? VNET_RX_CHAINS : 1) &&
           room < VNET_HDR_LEN + VNET_MAX_FRAME &&
           segs + VNET_SEGS <= VNET_RX_IOV) {
        struct vnet_rxchain *ch = vnet_rx_at(n, n->rx_count);
        struct vq_chain c = {.iov = ch->iov, .cap = VNET_SEGS};

        if ((rc = vq_pop(n->rxq, &c)) <= 0)
            return rc;
        if (!c.nwrite) {
            vnet_drop(n, "rx", &n->rx_dropped,
                      "a receive buffer with "
                      "nothing writable");
            if (vq_push(n->rxq, c.head, 0) < 0)
                return -1;
            *pushed = true;
            continue;
        }
        /* Receive buffers are writable; readable parts are skipped. */
        memmove(ch->iov, ch->iov + c.nread, c.nwrite * sizeof(ch->iov[0]));
        ch->head = c.head;
        ch->nwrite = c.nwrite;
        ch->room = c.write_len;
        room += ch->room;
        segs += ch->nwrite;
        n->rx_count++;
    }
    return 0;
}

/* The window's segments, in order, for readv. */
static unsigned vnet_rx_iov(struct vnet *n, uint64_t *room)
{
    unsigned k = 0;

    *room = 0;
    for (unsigned i = 0; i < n->rx_count; i++) {
        struct vnet_rxchain *ch = vnet_rx_at(n, i);

        memcpy(&n->rx_iov[k], ch->iov, ch->nwrite * sizeof(ch->iov[0]));
        k += ch->nwrite;
        *room += ch->room;
    }
    return k;
}

/* A frame of len bytes is in the window's first chains: push them. */
static int vnet_rx_deliver(struct vnet *n, uint64_t len)
{
    uint64_t room[VNET_RX_CHAINS];
    uint32_t lens[VNET_RX_CHAINS];
    unsigned used;

    for (unsigned i = 0; i < n->rx_count; i++)
        room[i] = vnet_rx_at(n, i)->room;
    used = vnet_rx_split(len, room, n->rx_count, lens);
    if (!used)
        return 0; /* cannot be: readv wrote no more than the room */
    vnet_rx_set_num_buffers(vnet_rx_at(n, 0)->iov, vnet_rx_at(n, 0)->nwrite,
                            (uint16_t)used);
    for (unsigned i = 0; i < used; i++)
        if (vq_push(n->rxq, vnet_rx_at(n, i)->head, lens[i]) < 0)
            return -1;
    n->rx_first = (n->rx_first + used) % VNET_RX_CHAINS;
    n->rx_count -= used;
    n->rx_packets++;
    return 1;
}

/* One frame from the tap: 1 delivered or dropped, 0 nothing to do (no
 * frame, or no buffer: then polling stops), -1 broken. */
static int vnet_rx_one(struct vnet *n, bool *pushed)
{
    uint64_t room;
    unsigned niov;
    ssize_t r;

    if (vnet_rx_fill(n, pushed) < 0)
        return -1;
    if (!n->rx_count) {
        /* No buffer: wait for the guest's kick, with a last look. */
        if (vq_enable_notify(n->rxq))
            return 1;
        vnet_rx_poll(n, false);
        return 0;
    }
    niov = vnet_rx_iov(n, &room);
    r = readv(n->tap_fd, n->rx_iov, (int)niov);
    if (r < 0 && errno == EINVAL) {
        /* Less room than the header: the tap dropped the frame. */
        vnet_drop(n, "rx", &n->rx_dropped,
                  "the guest's receive buffers are smaller than the header");
        return 1;
    }
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if ((uint64_t)r > room || (uint64_t)r < VNET_HDR_LEN) {
        /* The tap cut it to our buffers: it is lost. */
        vnet_drop(n, "rx", &n->rx_dropped,
                  "the guest's receive buffers are too small for the frame");
        return 1;
    }
    if (vnet_rx_deliver(n, (uint64_t)r) < 0)
        return -1;
    *pushed = true;
    return 1;
}

static void vnet_rx(struct vnet *n)
{
    bool pushed = false;
    unsigned budget = VNET_BUDGET;
    int rc = 0;

    if (!n->rxq || n->broken) {
        vnet_rx_poll(n, false);
        return;
    }
    vq_disable_notify(n->rxq);
    while (budget-- && (rc = vnet_rx_one(n, &pushed)) > 0)
        ;
    if (rc < 0) {
        if (!n->broken)
            err_errno(errno, "%s: receiving", n->tap);
        vnet_fail(n);
        vnet_rx_poll(n, false);
    }
    /* The chains not filled go back: none is held between handlers. */
    if (n->rx_count && vq_unpop(n->rxq, n->rx_count) < 0 && !n->broken)
        vnet_fail(n);
    n->rx_count = n->rx_first = 0;
    if (pushed)
        vmmio_signal_used(&n->v.t, n->rxq);
}

static void vnet_on_tap(void *opaque)
{
    vnet_rx(opaque);
}

/* The guest posted receive buffers (or the device was activated). */
static void vnet_on_rx_kick(void *opaque)
{
    struct vnet *n = opaque;

    vnet_drain_fd(n->kick_fd[VNET_RXQ]);
    vnet_sync_offload(n);
    if (!n->rxq || n->broken)
        return;
    vnet_rx_poll(n, true);
    vnet_rx(n);
}

/* Never a chain held between two handlers. */
static unsigned vnet_inflight(void *opaque)
{
    (void)opaque;
    return 0;
}

/* ---- vhost=on: the kernel's vhost-net ---- */

static int vnet_vhost_ring(struct vnet *n, unsigned q, struct vq *vq)
{
    struct vhost_vring_file backend = {q, n->tap_fd};

    if (vhost_ring_start(n->vhost_fd, n->tap, q, vq, n->kick_fd[q],
                         n->v.irq_fd) < 0)
        return -1;
    if (ioctl(n->vhost_fd, VHOST_NET_SET_BACKEND, &backend) < 0) {
        err_errno(errno, "%s: vhost: VHOST_NET_SET_BACKEND", n->tap);
        return -1;
    }
    return 0;
}

/* The queues go to vhost as they stand (the kicks pending in the kick
 * eventfds included: vhost looks at them at once). */
static void vnet_vhost_start(struct vnet *n)
{
    if (n->vhost_running || !n->rxq || !n->txq || n->broken)
        return;
    vnet_sync_offload(n);
    if (n->broken)
        return;
    n->vhost_running = true;
    if (vhost_set_features(n->vhost_fd, n->tap,
                           n->features & n->vhost_features) < 0 ||
        vnet_vhost_ring(n, VNET_RXQ, n->rxq) < 0 ||
        vnet_vhost_ring(n, VNET_TXQ, n->txq) < 0)
        vnet_fail(n);
}

/* Stops vhost and takes the queues' state back, exact: a snapshot or a
 * reset sees what vhost did. */
static void vnet_vhost_stop(struct vnet *n)
{
    struct vq *vqs[2] = {n->rxq, n->txq};

    if (!n->vhost_running)
        return;
    n->vhost_running = false;
    for (unsigned q = 0; q < 2; q++) {
        struct vhost_vring_file none = {q, -1};

        if (ioctl(n->vhost_fd, VHOST_NET_SET_BACKEND, &none) < 0) {
            err_errno(errno, "%s: vhost: VHOST_NET_SET_BACKEND", n->tap);
            vnet_fail(n);
        }
        if (vhost_ring_stop(n->vhost_fd, n->tap, q, vqs[q]) < 0)
            vnet_fail(n);
    }
}

/* The I/O thread's client callbacks: every pause stops vhost (a paused
 * VM has nothing in flight), its end starts it again. */
static void vnet_quiesce(void *opaque)
{
    struct vnet *n = opaque;

    if (n->vhost_fd >= 0)
        vnet_vhost_stop(n);
}

static void vnet_resume(void *opaque)
{
    struct vnet *n = opaque;

    if (n->vhost_fd >= 0)
        vnet_vhost_start(n);
}

/* ---- The transport's callbacks (a vCPU thread, the transport's lock) ---- */

static int vnet_activate(void *dev, uint64_t features, struct vq *const *vqs,
                         unsigned nq)
{
    struct vnet *n = dev;

    iothread_pause(&n->v.io, 0);
    n->rxq = nq > VNET_RXQ ? vqs[VNET_RXQ] : NULL;
    n->txq = nq > VNET_TXQ ? vqs[VNET_TXQ] : NULL;
    n->features = features;
    n->offload_owed = true;
    n->broken = false;
    iothread_resume(&n->v.io);
    vnet_poke(n->kick_fd[VNET_RXQ]);
    vnet_poke(n->kick_fd[VNET_TXQ]);
    return 0;
}

/* The tap stays polled until its handler finds no queue: the I/O
 * thread's epoll set is its own to change. */
static void vnet_reset(void *dev)
{
    struct vnet *n = dev;

    iothread_pause(&n->v.io, 0);
    n->rxq = n->txq = NULL;
    n->features = 0;
    n->broken = false;
    iothread_resume(&n->v.io);
}

static void vnet_notify(void *dev, unsigned q)
{
    struct vnet *n = dev;

    if (q <= VNET_TXQ)
        vnet_poke(n->kick_fd[q]);
}

static void vnet_config_read(void *dev, uint32_t offset, uint8_t *data,
                             unsigned size)
{
    struct vnet *n = dev;
    uint8_t cfg[VNET_CONFIG_SIZE] = {0};

    memcpy(cfg, n->mac, 6);
    cfg[6] = VIRTIO_NET_S_LINK_UP; /* status, little-endian */
    if (offset < sizeof(cfg) && size <= sizeof(cfg) - offset)
        memcpy(data, cfg + offset, size);
    else
        memset(data, 0, size);
}

static const struct virtio_dev_ops vnet_ops = {
    .config_read = vnet_config_read,
    .activate = vnet_activate,
    .reset = vnet_reset,
    .notify = vnet_notify,
};

/* ---- Creating and tearing down ---- */

/* Why TUNSETIFF refused the tap, as a user can act on it. */
static int vnet_tap_error(const char *tap, int err)
{
    if (err == EBUSY)
        return err_set(
            EBUSY, "tap %s: in use by another process or another --net", tap);
    if (err == EPERM || err == EACCES)
        return err_set(err,
                       "tap %s: not permitted (the tap's owner or group, "
                       "or CAP_NET_ADMIN, may attach it)",
                       tap);
    if (err == EINVAL)
        return err_set(EINVAL, "tap %s: not a tap device", tap);
    return err_errno(err, "tap %s: TUNSETIFF", tap);
}

/* Attaches to the existing tap (TUNSETIFF would make a missing one, with
 * CAP_NET_ADMIN: it is looked up first). */
static int vnet_open_tap(struct vnet *n)
{
    struct ifreq ifr = {0};
    int hdr = (int)VNET_HDR_LEN;

    if (!if_nametoindex(n->tap))
        return err_set(ENODEV,
                       "tap %s: no such network interface (make it with "
                       "ip tuntap add dev %s mode tap)",
                       n->tap, n->tap);
    n->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (n->tap_fd < 0)
        return err_errno(errno, "tap %s: /dev/net/tun", n->tap);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->tap);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(n->tap_fd, TUNSETIFF, &ifr) < 0)
        return vnet_tap_error(n->tap, errno);
    if (ioctl(n->tap_fd, TUNSETVNETHDRSZ, &hdr) < 0)
        return err_errno(errno, "tap %s: TUNSETVNETHDRSZ", n->tap);
    if (ioctl(n->tap_fd, TUNSETOFFLOAD, 0) < 0)
        return err_errno(errno, "tap %s: TUNSETOFFLOAD", n->tap);
    n->out_fd = fcntl(n->tap_fd, F_DUPFD_CLOEXEC, 0);
    if (n->out_fd < 0)
        return err_errno(errno, "tap %s: dup", n->tap);
    return 0;
}

static void vnet_fini(struct vdev *v)
{
    struct vnet *n = (struct vnet *)v;

    iothread_del(&v->io, n->tap_fd);
    iothread_del(&v->io, n->out_fd);
    for (unsigned q = 0; q < 2; q++) {
        if (n->kick_registered[q])
            iothread_del(&v->io, n->kick_fd[q]);
        n->kick_registered[q] = false;
        if (n->kick_fd[q] >= 0)
            close(n->kick_fd[q]);
        n->kick_fd[q] = -1;
    }
    if (n->client_registered)
        iothread_client_del(&v->io, n);
    n->client_registered = false;
    if (n->vhost_fd >= 0)
        close(n->vhost_fd); /* vhost lets go of the tap and the rings */
    n->vhost_fd = -1;
    n->vhost_running = false;
    if (n->out_fd >= 0)
        close(n->out_fd);
    if (n->tap_fd >= 0)
        close(n->tap_fd);
    n->tap_fd = n->out_fd = -1;
}

static int vnet_register(struct vnet *n)
{
    static iothread_fn *const fn[2] = {vnet_on_rx_kick, vnet_on_tx_kick};
    struct iothread_client c = {n->v.name, vnet_quiesce, vnet_inflight,
                                vnet_resume, n};
    int rc;

    for (unsigned q = 0; q < 2; q++) {
        n->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (n->kick_fd[q] < 0)
            return err_errno(errno, "eventfd");
        if (n->vhost_fd >= 0)
            continue; /* vhost polls the kicks */
        rc = iothread_add(&n->v.io, n->kick_fd[q], IOTHREAD_WORK, fn[q], n);
        if (rc < 0)
            return rc;
        n->kick_registered[q] = true;
    }
    if ((rc = iothread_client_add(&n->v.io, &c)) < 0)
        return rc;
    n->client_registered = true;
    return 0;
}

/* A locally administered unicast address when none is given. */
static void vnet_pick_mac(struct vnet *n, const struct kvmrun_net *o)
{
    if (o->has_mac) {
        memcpy(n->mac, o->mac, 6);
        return;
    }
    if (getrandom(n->mac, 6, GRND_NONBLOCK) != 6)
        memcpy(n->mac, "\x52\x54\x00\x12\x34\x56", 6);
    n->mac[0] = (uint8_t)((n->mac[0] & 0xfe) | 0x02);
}

/* The tap's name in vhost's messages: "tap0: /dev/vhost-net: ...". */
static int vnet_vhost_open(struct vnet *n, const struct guest_mem *mem)
{
    char name[64];

    snprintf(name, sizeof(name), "tap %s: vhost=on", n->tap);
    return vhost_open("/dev/vhost-net", name, "vhost_net, or use vhost=off",
                      mem, &n->vhost_features);
}

static int vnet_init(struct vdev *v, const struct dev_ctx *ctx)
{
    struct vnet *n = (struct vnet *)v;
    const struct kvmrun_net *o = &ctx->cfg->nets[ctx->instance];
    int rc;

    n->tap_fd = n->out_fd = n->kick_fd[0] = n->kick_fd[1] = -1;
    n->vhost_fd = -1;
    snprintf(n->tap, sizeof(n->tap), "%s", o->tap);
    vnet_pick_mac(n, o);
    if ((rc = vnet_open_tap(n)) < 0 ||
        (o->vhost && (rc = n->vhost_fd = vnet_vhost_open(n, ctx->mem)) < 0) ||
        (rc = vnet_register(n)) < 0) {
        vnet_fini(v);
        return rc;
    }
    v->dev = (struct virtio_dev){
        .name = v->name,
        .device_id = VIRTIO_ID_NET,
        .features = VNET_FEATURES,
        .config_size = VNET_CONFIG_SIZE,
        .nqueues = 2,
        .queue_max = {VNET_QUEUE_SIZE, VNET_QUEUE_SIZE},
        .ops = &vnet_ops,
        .opaque = n,
        .irq_direct = n->vhost_fd >= 0,
    };
    return 0;
}

static int vnet_kick_fd(struct vdev *v, unsigned q)
{
    return q <= VNET_TXQ ? ((struct vnet *)v)->kick_fd[q] : -1;
}

/* ---- Snapshots ---- */

static void vnet_save(struct vdev *v, void *state)
{
    struct vnet *n = (struct vnet *)v;
    struct vnet_state s = {0};

    snprintf(s.tap, sizeof(s.tap), "%s", n->tap);
    memcpy(s.mac, n->mac, 6);
    s.tx_packets = n->tx_packets;
    s.tx_dropped = n->tx_dropped;
    s.rx_packets = n->rx_packets;
    s.rx_dropped = n->rx_dropped;
    memcpy(state, &s, sizeof(s));
}

static int vnet_check(const void *state, char *why, size_t len)
{
    struct vnet_state s;

    memcpy(&s, state, sizeof(s));
    if (!memchr(s.tap, 0, sizeof(s.tap)) || !s.tap[0]) {
        snprintf(why, len, "no tap name");
        return -EINVAL;
    }
    if (s.mac[0] & 1) {
        snprintf(why, len, "a multicast MAC address");
        return -EINVAL;
    }
    return 0;
}

/* The guest knows its address: the snapshot's wins over --net's. The tap
 * is the one --net names now (opened by name at init). */
static void vnet_load(struct vdev *v, const void *state)
{
    struct vnet *n = (struct vnet *)v;
    struct vnet_state s;
    char line[160];

    memcpy(&s, state, sizeof(s));
    s.tap[sizeof(s.tap) - 1] = 0;
    memcpy(n->mac, s.mac, 6);
    n->tx_packets = s.tx_packets;
    n->tx_dropped = s.tx_dropped;
    n->rx_packets = s.rx_packets;
    n->rx_dropped = s.rx_dropped;
    if (strcmp(s.tap, n->tap) != 0) {
        snprintf(line, sizeof(line), "%s: on tap %s now, on %s when saved",
                 v->name, n->tap, s.tap);
        vdev_log(v, line);
    }
}

static const struct vdev_type vnet_type = {
    .init = vnet_init,
    .kick_fd = vnet_kick_fd,
    .fini = vnet_fini,
    .state_size = sizeof(struct vnet_state),
    .save = vnet_save,
    .check = vnet_check,
    .load = vnet_load,
};

static int vnet_dev_init(void *dev, const struct dev_ctx *ctx)
{
    return vdev_init(dev, ctx, &vnet_type);
}

static int vnet_dev_check(const void *state, char *why, size_t len)
{
    return vdev_check(&vnet_type, state, why, len);
}

const struct dev_desc virtio_net_dev =
    VDEV_DESC("virtio-net", struct vnet, vnet_count, vnet_dev_init,
              vnet_dev_check, 1, sizeof(struct vnet_state));
