/* net_req.c: virtio-net headers and chains, checked without trust. */
#include "virtio/net_req.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/if_ether.h>

/* Copies the first len bytes of iov[0, n) to dst; false if fewer. */
static bool vnet_copy_out(const struct iovec *iov, unsigned n, void *dst,
                          size_t len)
{
    uint8_t *d = dst;

    for (unsigned i = 0; i < n && len; i++) {
        size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;

        memcpy(d, iov[i].iov_base, k);
        /* The copy is what is checked: keep the compiler from reading
         * the guest's bytes again. */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        d += k;
        len -= k;
    }
    return len == 0;
}

static int vnet_refuse(struct vnet_tx *tx, const char *why)
{
    tx->why = why;
    return -EINVAL;
}

/* The header's own fields against the frame and the offers. */
static int vnet_tx_check_hdr(struct vnet_tx *tx,
                             const struct vnet_tx_caps *caps)
{
    const struct virtio_net_hdr_v1 *h = &tx->hdr;
    uint8_t gso = h->gso_type;
    uint32_t start = le16toh(h->csum_start);
    uint32_t off = le16toh(h->csum_offset);

    if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return vnet_refuse(tx, "unknown header flags");
    if (gso != VIRTIO_NET_HDR_GSO_NONE) {
        if (gso & VIRTIO_NET_HDR_GSO_ECN)
            return vnet_refuse(tx, "GSO with ECN, not offered");
        if (!(gso == VIRTIO_NET_HDR_GSO_TCPV4 && caps->tso4) &&
            !(gso == VIRTIO_NET_HDR_GSO_TCPV6 && caps->tso6))
            return vnet_refuse(tx, "GSO type not offered");
        if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
            return vnet_refuse(tx, "GSO without NEEDS_CSUM");
        if (!le16toh(h->gso_size))
            return vnet_refuse(tx, "GSO with gso_size 0");
    }
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!caps->csum)
            return vnet_refuse(tx, "NEEDS_CSUM without CSUM negotiated");
        if (start + off + 2 > tx->frame_len)
            return vnet_refuse(tx, "checksum field past the frame");
    }
    if (le16toh(h->hdr_len) > tx->frame_len)
        return vnet_refuse(tx, "hdr_len past the frame");
    return 0;
}

/* out[1...]: the readable segments past the header. */
static unsigned vnet_tx_frame_iov(const struct vq_chain *c, struct iovec *out)
{
    uint32_t skip = VNET_HDR_LEN;
    unsigned n = 1;

    for (unsigned i = 0; i < c->nread; i++) {
        size_t len = c->iov[i].iov_len;
        uint8_t *base = c->iov[i].iov_base;

        if (skip >= len) {
            skip -= (uint32_t)len;
            continue;
        }
        out[n].iov_base = base + skip;
        out[n].iov_len = len - skip;
        skip = 0;
        n++;
    }
    return n;
}

int vnet_tx_parse(const struct vq_chain *c, const struct vnet_tx_caps *caps,
                  struct iovec *out, unsigned cap, struct vnet_tx *tx)
{
    int r;

    memset(tx, 0, sizeof(*tx));
    if (cap < c->nread + 1)
        return vnet_refuse(tx, "too many segments");
    if (c->read_len < VNET_HDR_LEN ||
        !vnet_copy_out(c->iov, c->nread, &tx->hdr, VNET_HDR_LEN))
        return vnet_refuse(tx, "shorter than the virtio-net header");
    if (c->read_len - VNET_HDR_LEN < ETH_HLEN)
        return vnet_refuse(tx, "shorter than an Ethernet header");
    if (c->read_len - VNET_HDR_LEN > VNET_MAX_FRAME)
        return vnet_refuse(tx, "longer than 64 KiB");
    tx->frame_len = (uint32_t)(c->read_len - VNET_HDR_LEN);
    if ((r = vnet_tx_check_hdr(tx, caps)) < 0)
        return r;
    /* The device ignores num_buffers on transmit; the tap is given 0. */
    tx->hdr.num_buffers = 0;
    out[0].iov_base = &tx->hdr;
    out[0].iov_len = VNET_HDR_LEN;
    tx->nout = vnet_tx_frame_iov(c, out);
    return 0;
}

unsigned vnet_rx_split(uint64_t len, const uint64_t *room, unsigned n,
                       uint32_t *lens)
{
    unsigned i;

    if (!len)
        return 0;
    for (i = 0; i < n && len; i++) {
        uint64_t k = room[i] < len ? room[i] : len;

        lens[i] = (uint32_t)k;
        len -= k;
    }
    return len ? 0 : i;
}

bool vnet_rx_set_num_buffers(const struct iovec *iov, unsigned n, uint16_t num)
{
    uint8_t b[2] = {(uint8_t)num, (uint8_t)(num >> 8)};
    size_t at = offsetof(struct virtio_net_hdr_v1, num_buffers);
    unsigned done = 0;

    for (unsigned i = 0; i < n && done < 2; i++) {
        uint8_t *base = iov[i].iov_base;
        size_t len = iov[i].iov_len;

        if (at >= len) {
            at -= len;
            continue;
        }
        while (at < len && done < 2)
            base[at++] = b[done++];
        at = 0;
    }
    return done == 2;
}
