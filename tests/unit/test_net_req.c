/* test_net_req.c: unit tests of virtio-net's header and chain checks
 * (src/virtio/net_req.c) and of --net's parser (src/virtio/net_opt.c):
 * chains as vq_pop() gives them, built by hand. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvmrun.h"
#include "kvmrun.h"
#include "virtio/net_req.h"

#define CAP 8

struct fx {
    struct iovec iov[CAP], out[CAP + 1];
    struct vq_chain c;
    struct vnet_tx tx;
    struct vnet_tx_caps caps;
    struct virtio_net_hdr_v1 hdr;
    uint8_t frame[70000];
};

static struct fx fx;

static void reset(void)
{
    memset(&fx, 0, sizeof(fx));
    fx.c.iov = fx.iov;
    fx.c.cap = CAP;
    fx.caps = (struct vnet_tx_caps){true, true, true};
}

static void seg(void *p, size_t len)
{
    fx.iov[fx.c.nread++] = (struct iovec){p, len};
    fx.c.read_len += len;
}

/* The usual chain: header, then a frame of len bytes. */
static int tx(uint32_t len)
{
    seg(&fx.hdr, sizeof(fx.hdr));
    seg(fx.frame, len);
    return vnet_tx_parse(&fx.c, &fx.caps, fx.out, CAP + 1, &fx.tx);
}

static void refused(uint32_t len, const char *why)
{
    fx.c.nread = 0;
    fx.c.read_len = 0;
    assert_int_equal(tx(len), -EINVAL);
    assert_string_equal(fx.tx.why, why);
}

static void test_plain_frame(void **state)
{
    (void)state;
    reset();
    fx.hdr.num_buffers = htole16(7); /* ignored on transmit */
    fx.frame[0] = 0xaa;
    assert_int_equal(tx(60), 0);
    assert_int_equal(fx.tx.frame_len, 60);
    assert_int_equal(fx.tx.nout, 2);
    /* The tap gets the checked copy, not the guest's header. */
    assert_ptr_equal(fx.out[0].iov_base, &fx.tx.hdr);
    assert_int_equal(fx.out[0].iov_len, VNET_HDR_LEN);
    assert_int_equal(fx.tx.hdr.num_buffers, 0);
    assert_ptr_equal(fx.out[1].iov_base, fx.frame);
    assert_int_equal(fx.out[1].iov_len, 60);
}

/* The header split anywhere, and sharing a segment with the frame. */
static void test_any_layout(void **state)
{
    uint8_t buf[100];
    struct virtio_net_hdr_v1 h = {0};

    (void)state;
    reset();
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = htole16(34);
    h.csum_offset = htole16(16);
    memcpy(buf, &h, sizeof(h));
    seg(buf, 5);
    seg(buf + 5, 95);
    assert_int_equal(vnet_tx_parse(&fx.c, &fx.caps, fx.out, CAP + 1, &fx.tx),
                     0);
    assert_int_equal(fx.tx.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(le16toh(fx.tx.hdr.csum_start), 34);
    assert_int_equal(fx.tx.frame_len, 88);
    assert_int_equal(fx.tx.nout, 2);
    assert_ptr_equal(fx.out[1].iov_base, buf + 12);
    assert_int_equal(fx.out[1].iov_len, 88);
}

static void test_lengths(void **state)
{
    (void)state;
    reset();
    refused(13, "shorter than an Ethernet header");
    fx.c.nread = 0;
    fx.c.read_len = 0;
    seg(&fx.hdr, 11);
    assert_int_equal(vnet_tx_parse(&fx.c, &fx.caps, fx.out, CAP + 1, &fx.tx),
                     -EINVAL);
    assert_string_equal(fx.tx.why, "shorter than the virtio-net header");
    fx.c.nread = 0;
    fx.c.read_len = 0;
    assert_int_equal(tx(VNET_MAX_FRAME), 0);
    refused(VNET_MAX_FRAME + 1, "longer than 64 KiB");
    /* More segments than the caller's array. */
    fx.c.nread = 0;
    fx.c.read_len = 0;
    for (int i = 0; i < CAP; i++)
        seg(fx.frame + i * 10, 10);
    assert_int_equal(vnet_tx_parse(&fx.c, &fx.caps, fx.out, CAP, &fx.tx),
                     -EINVAL);
}

static void test_hdr_len_and_csum(void **state)
{
    (void)state;
    reset();
    fx.hdr.hdr_len = htole16(61);
    refused(60, "hdr_len past the frame");
    fx.hdr.hdr_len = htole16(60);
    fx.c.nread = 0;
    fx.c.read_len = 0;
    assert_int_equal(tx(60), 0);
    fx.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    fx.hdr.csum_start = htole16(50);
    fx.hdr.csum_offset = htole16(9);
    refused(60, "checksum field past the frame");
    fx.hdr.csum_offset = htole16(8);
    fx.c.nread = 0;
    fx.c.read_len = 0;
    assert_int_equal(tx(60), 0);
    fx.caps.csum = false;
    refused(60, "NEEDS_CSUM without CSUM negotiated");
    fx.hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID; /* a receive flag */
    refused(60, "unknown header flags");
}

static void test_gso(void **state)
{
    (void)state;
    reset();
    fx.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    fx.hdr.csum_start = htole16(34);
    fx.hdr.csum_offset = htole16(16);
    fx.hdr.hdr_len = htole16(54);
    fx.hdr.gso_size = htole16(1448);
    fx.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    assert_int_equal(tx(65000), 0);
    fx.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    fx.c.nread = 0;
    fx.c.read_len = 0;
    assert_int_equal(tx(65000), 0);
    fx.caps.tso6 = false;
    refused(65000, "GSO type not offered");
    fx.hdr.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    refused(65000, "GSO type not offered");
    fx.hdr.gso_type = 5 /* UDP_L4, newer headers */;
    refused(65000, "GSO type not offered");
    fx.hdr.gso_type = 0x42;
    refused(65000, "GSO type not offered");
    fx.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
    refused(65000, "GSO with ECN, not offered");
    fx.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    fx.hdr.gso_size = 0;
    refused(65000, "GSO with gso_size 0");
    fx.hdr.gso_size = htole16(1448);
    fx.hdr.flags = 0;
    refused(65000, "GSO without NEEDS_CSUM");
    fx.caps.tso4 = false;
    fx.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    refused(65000, "GSO type not offered");
}

static void test_rx_split(void **state)
{
    const uint64_t room[4] = {100, 50, 0, 30};
    uint32_t lens[4];

    (void)state;
    assert_int_equal(vnet_rx_split(80, room, 4, lens), 1);
    assert_int_equal(lens[0], 80);
    assert_int_equal(vnet_rx_split(150, room, 4, lens), 2);
    assert_int_equal(lens[1], 50);
    assert_int_equal(vnet_rx_split(170, room, 4, lens), 4);
    assert_int_equal(lens[2], 0);
    assert_int_equal(lens[3], 20);
    assert_int_equal(vnet_rx_split(181, room, 4, lens), 0);
    assert_int_equal(vnet_rx_split(0, room, 4, lens), 0);
}

static void test_num_buffers(void **state)
{
    uint8_t a[11], b[1], c[8];
    struct iovec iov[3] = {{a, 11}, {b, 1}, {c, 8}};

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    /* Bytes 10 and 11 of the header: the last of a, then b. */
    assert_true(vnet_rx_set_num_buffers(iov, 3, 0x0203));
    assert_int_equal(a[10], 0x03);
    assert_int_equal(b[0], 0x02);
    assert_false(vnet_rx_set_num_buffers(iov, 1, 1));
}

static void parse_ok(const char *text, struct kvmrun_net *n)
{
    assert_int_equal(kvmrun_net_parse(text, n), 0);
}

static void parse_bad(const char *text, const char *why)
{
    struct kvmrun_net n;

    assert_int_equal(kvmrun_net_parse(text, &n), -EINVAL);
    assert_string_equal(kvmrun_last_error(), why);
}

static void test_parse(void **state)
{
    struct kvmrun_net n;
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0xab, 0xcd, 0xef};

    (void)state;
    parse_ok("tap=tap0", &n);
    assert_string_equal(n.tap, "tap0");
    assert_false(n.has_mac);
    assert_false(n.vhost);
    parse_ok("mac=52:54:00:AB:cd:ef,vhost=on,tap=kvmrunt0", &n);
    assert_true(n.has_mac);
    assert_memory_equal(n.mac, mac, 6);
    assert_true(n.vhost);
    assert_string_equal(n.tap, "kvmrunt0");
    parse_bad("", "empty: tap=IFNAME is needed");
    parse_bad("tap=", "tap needs a value (tap=IFNAME)");
    parse_bad("tap=a,tap=b", "tap given twice");
    parse_bad("tap=a,,mac=x", "'tap=a,,mac=x': an empty option");
    parse_bad("tap=a/b", "tap 'a/b': not an interface name");
    parse_bad("tap=a,mac=52:54:00:ab:cd:eg",
              "mac '52:54:00:ab:cd:eg': not six hex bytes like "
              "52:54:00:12:34:56");
    parse_bad("tap=a,mac=52-54-00-ab-cd-ef",
              "mac '52-54-00-ab-cd-ef': not six hex bytes like "
              "52:54:00:12:34:56");
    parse_bad("tap=a,vhost", "vhost needs a value (vhost=on|off)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_frame),
        cmocka_unit_test(test_any_layout),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_hdr_len_and_csum),
        cmocka_unit_test(test_gso),
        cmocka_unit_test(test_rx_split),
        cmocka_unit_test(test_num_buffers),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
