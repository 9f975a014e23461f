/*
 * fuzz_virtio_net.c: libFuzzer target for virtio-net's header and chain
 * handling: random rings (src/virtio/virtqueue.c) popped as transmit
 * chains into vnet_tx_parse() and as receive windows spread over by
 * vnet_rx_split() and vnet_rx_set_num_buffers() (src/virtio/net_req.c),
 * as src/virtio/net.c does, chains given back with vq_unpop(). Each input
 * is the queue's registers, the negotiated offloads and the guest's RAM.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvmrun.h"
#include "mem.h"
#include "virtio/net_req.h"
#include "virtio/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64 * 1024)
#define HEADER 16
#define MAX_POPS 512
#define SEGS 16
#define WINDOW 8

#include "fuzz_ring.h"

/*
 * Input: 16 bytes of header, then guest RAM from address 0.
 *   0     queue size: 1 << (b & 15), or byte 1 itself if bit 7 is set
 *   2     bit 0 INDIRECT_DESC, 1 EVENT_IDX, 2 CSUM, 3 HOST_TSO4,
 *         4 HOST_TSO6, 5 receive (else transmit), 6 MRG_RXBUF
 *   4-9   descriptor table, available ring, used ring: 16-bit addresses
 *   10-11 the indices to start from (through vq_restore)
 *   12-13 receive: the frames' length seed
 */
static struct guest_mem mem;

/* A transmit chain: what passes has a consistent header and frame. */
static void tx_one(const struct vq_chain *c, const struct vnet_tx_caps *caps)
{
    struct iovec out[SEGS + 1];
    struct vnet_tx tx;
    uint64_t sum = 0;

    if (vnet_tx_parse(c, caps, out, SEGS + 1, &tx) < 0) {
        if (!tx.why || !*tx.why)
            abort();
        return;
    }
    if (out[0].iov_base != &tx.hdr || out[0].iov_len != VNET_HDR_LEN ||
        tx.nout < 1 || tx.nout > c->nread + 1)
        abort();
    for (unsigned i = 1; i < tx.nout; i++) {
        if (!in_ram(&mem, out[i].iov_base, out[i].iov_len) || !out[i].iov_len)
            abort();
        sum += out[i].iov_len;
    }
    if (sum != tx.frame_len || tx.frame_len > VNET_MAX_FRAME ||
        tx.frame_len < 14 || tx.frame_len + VNET_HDR_LEN != c->read_len)
        abort();
    if (le16toh(tx.hdr.hdr_len) > tx.frame_len || tx.hdr.num_buffers)
        abort();
    if (tx.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
        (!caps->csum ||
         le16toh(tx.hdr.csum_start) + le16toh(tx.hdr.csum_offset) + 2u >
             tx.frame_len))
        abort();
    if (tx.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
        !(tx.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && caps->tso4) &&
        !(tx.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && caps->tso6))
        abort();
}

static void run_tx(struct vq *vq, const struct vnet_tx_caps *caps)
{
    struct iovec iov[SEGS];
    struct vq_chain c = {.iov = iov, .cap = SEGS};

    for (unsigned k = 0; k < MAX_POPS; k++) {
        int rc = vq_pop(vq, &c);

        if (rc < 0)
            return; /* fuzz_virtqueue checks refusals */
        if (rc == 0 && !vq_enable_notify(vq))
            return;
        if (rc == 0)
            continue;
        for (unsigned i = 0; i < c.nread + c.nwrite; i++)
            if (!in_ram(&mem, iov[i].iov_base, iov[i].iov_len))
                abort();
        tx_one(&c, caps);
        if (vq_push(vq, c.head, 0))
            abort();
        vq_need_notify(vq);
    }
}

/* A window of receive chains (one without MRG_RXBUF), a frame of len
 * bytes spread over them, the rest given back. False: nothing popped. */
static bool rx_one(struct vq *vq, bool mrg, uint32_t len)
{
    static struct iovec iov[WINDOW][SEGS];
    static uint16_t head[WINDOW];
    static unsigned nw[WINDOW];
    uint64_t room[WINDOW];
    uint32_t lens[WINDOW];
    unsigned n = 0, used;

    while (n < (mrg ? WINDOW : 1u)) {
        struct vq_chain c = {.iov = iov[n], .cap = SEGS};
        int rc = vq_pop(vq, &c);

        if (rc <= 0)
            break;
        if (!c.nwrite) {
            if (vq_push(vq, c.head, 0))
                abort();
            continue;
        }
        memmove(iov[n], iov[n] + c.nread, c.nwrite * sizeof(iov[n][0]));
        head[n] = c.head;
        nw[n] = c.nwrite;
        room[n] = c.write_len;
        n++;
    }
    if (!n)
        return false;
    used = vnet_rx_split(len, room, n, lens);
    if (used) {
        uint64_t sum = 0;

        if (used > n)
            abort();
        for (unsigned i = 0; i < used; i++) {
            if (lens[i] > room[i])
                abort();
            sum += lens[i];
        }
        if (sum != len)
            abort();
        /* The frame's bytes as a readv would write them: the header's
         * num_buffers set after. */
        if (len >= VNET_HDR_LEN &&
            !vnet_rx_set_num_buffers(iov[0], nw[0], (uint16_t)used) &&
            room[0] >= VNET_HDR_LEN)
            abort();
        for (unsigned i = 0; i < used; i++)
            if (vq_push(vq, head[i], lens[i]))
                abort();
    }
    if (vq_unpop(vq, n - used))
        abort();
    return true;
}

static void run_rx(struct vq *vq, bool mrg, uint16_t seed)
{
    for (unsigned k = 0; k < MAX_POPS / WINDOW; k++) {
        uint32_t len = (uint32_t)(seed * (k + 1)) % (VNET_MAX_FRAME + 13);

        if (!rx_one(vq, mrg, len))
            return;
        vq_need_notify(vq);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vnet_tx_caps caps;
    struct vq *vq;

    if (!mem.map && mem_init(&mem, RAM))
        abort();
    if (size < HEADER)
        return 0;
    fuzz_ring_ram(&mem, data, size, HEADER);
    caps = (struct vnet_tx_caps){data[2] & 4, data[2] & 8, data[2] & 16};
    vq = fuzz_ring_start(data, &mem);
    if (!vq)
        return 0;
    if (data[2] & 32)
        run_rx(vq, data[2] & 64, get16(data + 12));
    else
        run_tx(vq, &caps);
    return 0;
}
