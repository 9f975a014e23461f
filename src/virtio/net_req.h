/* net_req.h: virtio-net packets: a transmit chain checked and turned
 * into the tap's iovec, a received packet spread over receive chains. */
#ifndef KVMRUN_VIRTIO_NET_REQ_H
#define KVMRUN_VIRTIO_NET_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "virtio/virtqueue.h"

/*
 * Pure functions, no thread, no file: fuzzed by
 * tests/fuzz/fuzz_virtio_net.c. Everything in a chain is the guest's:
 * the header is copied out once and the copy is what is checked and
 * what the tap gets.
 *
 * VERSION_1 means one header layout both ways: struct
 * virtio_net_hdr_v1 (12 bytes, num_buffers last), the first bytes of a
 * chain however split; the tap is told the same size
 * (TUNSETVNETHDRSZ), so a frame passes between guest buffers and the
 * tap without a copy.
 */

#define VNET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))
/* The longest frame either way: an IP packet of 64 KiB (a GSO packet's
 * limit) with its Ethernet and VLAN headers. */
#define VNET_MAX_FRAME (65536u + 14u + 4u)

/* The negotiated features that decide what a transmitted header may ask. */
struct vnet_tx_caps {
    bool csum;       /* VIRTIO_NET_F_CSUM: NEEDS_CSUM allowed */
    bool tso4, tso6; /* VIRTIO_NET_F_HOST_TSO4/6 */
};

/* A transmit chain that passed: out[0] is hdr (the checked copy), then
 * the frame's readable segments; nout entries. */
struct vnet_tx {
    struct virtio_net_hdr_v1 hdr;
    uint32_t frame_len;
    unsigned nout;
    const char *why; /* refused: a short reason */
};

/*
 * Checks transmit chain c (its readable bytes: header, then frame) under
 * caps and fills out[0, cap) (cap >= c->nread + 1) and *tx. 0, or
 * -EINVAL with tx->why set: a chain shorter than the header, a frame
 * shorter than an Ethernet header or longer than VNET_MAX_FRAME, unknown
 * flags, NEEDS_CSUM without CSUM or with its field past the frame, a GSO
 * type not offered (UDP, ECN, unknown) or without NEEDS_CSUM or a
 * gso_size, hdr_len past the frame. The packet is then to be dropped.
 */
int vnet_tx_parse(const struct vq_chain *c, const struct vnet_tx_caps *caps,
                  struct iovec *out, unsigned cap, struct vnet_tx *tx);

/*
 * Spreads len bytes over receive chains whose writable capacities are
 * room[0, n): lens[i] is what chain i gets, in order. Returns the number
 * of chains used (>= 1), or 0 if they hold less than len or len is 0.
 */
unsigned vnet_rx_split(uint64_t len, const uint64_t *room, unsigned n,
                       uint32_t *lens);

/*
 * Writes num_buffers (little-endian) into the header at the start of
 * iov[0, n), however the header is split; false if the segments hold
 * fewer than VNET_HDR_LEN bytes.
 */
bool vnet_rx_set_num_buffers(const struct iovec *iov, unsigned n, uint16_t num);

#endif
