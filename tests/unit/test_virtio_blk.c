/* test_virtio_blk.c: unit tests of the virtio-blk device (src/virtio/blk.c)
 * behind the real virtio-mmio transport, on a real I/O thread and engine
 * over a temporary image, driven as a guest driver would drive it. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "bus.h"
#include "dev/dev.h"
#include "disk.h"
#include "iothread.h"
#include "kvmrun.h"
#include "le.h"
#include "mem.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "vmmio_driver.h"
#include "vring_driver.h"

#define RAM (32ULL << 20)
#define DISK_SIZE (8u << 20)
#define WAIT_MS 20000
#define BIT64(n) (1ULL << (n))
#define NUM 256
/* Queue q's rings; request slot i's header, data and status. */
#define RINGS(q) (0x10000ULL + (q)*0x10000ULL)
#define SLOT(i) (0x200000ULL + (i)*0x10000ULL)
#define HDR(i) SLOT(i)
#define DATA(i) (SLOT(i) + 0x1000)
#define STATUS(i) (SLOT(i) + 0xff00)
#define MAX_DATA 0xe000
#define NSLOTS 80 /* three descriptors each: 240 of the queue's 256 */

struct fx {
    struct guest_mem mem;
    struct iothread io;
    struct disk disk;
    struct vblk b;
    struct vmmio t;
    int irq;
    unsigned nreports;
    char report[512];
    struct vdrv drv[2];
    uint16_t last_used[2];
    uint8_t *shadow;
    char path[PATH_MAX];
    uint64_t features;
};

static struct fx *F;

/* --- the machine: interrupts and reports -------------------------------- */

static void m_irq(void *machine)
{
    struct fx *fx = machine;
    uint64_t one = 1;

    assert_int_equal(write(fx->irq, &one, 8), 8);
}

static void m_report(void *machine, const char *line)
{
    struct fx *fx = machine;

    /* The text first: the test reads it once it sees the count. */
    snprintf(fx->report, sizeof(fx->report), "%s", line);
    __atomic_fetch_add(&fx->nreports, 1, __ATOMIC_SEQ_CST);
}

/* --- the driver's registers --------------------------------------------- */

static void wr(struct fx *fx, uint64_t off, uint32_t v)
{
    vmdrv_wr(&fx->t, off, v);
}

static uint32_t rd(struct fx *fx, uint64_t off, unsigned size)
{
    return vmdrv_rd(&fx->t, off, size);
}

static uint64_t cfg64(struct fx *fx, size_t off)
{
    return rd(fx, VIRTIO_MMIO_CONFIG + off, 4) |
           (uint64_t)rd(fx, VIRTIO_MMIO_CONFIG + off + 4, 4) << 32;
}

static uint32_t cfg32(struct fx *fx, size_t off)
{
    return rd(fx, VIRTIO_MMIO_CONFIG + off, 4);
}

static uint64_t offered(struct fx *fx)
{
    return vmdrv_offered(&fx->t);
}

/* Feature negotiation and nq queues, ready; DRIVER_OK unless told. */
static void driver_setup(struct fx *fx, uint64_t want, unsigned nq,
                         bool driver_ok)
{
    fx->features = offered(fx) & want;
    vmdrv_negotiate(&fx->t, fx->features);
    for (unsigned q = 0; q < nq; q++) {
        vmdrv_queue(&fx->t, &fx->mem, &fx->drv[q], q, RINGS(q), NUM);
        fx->last_used[q] = 0;
    }
    if (driver_ok)
        wr(fx, VIRTIO_MMIO_STATUS,
           VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void driver_ok(struct fx *fx)
{
    wr(fx, VIRTIO_MMIO_STATUS,
       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
           VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* --- requests ----------------------------------------------------------- */

static uint8_t *at(struct fx *fx, uint64_t gpa, uint64_t len)
{
    uint8_t *p = mem_ptr(&fx->mem, gpa, len);

    assert_non_null(p);
    return p;
}

/* Request slot i on queue q: header, data (len bytes, device-writable
 * for IN and GET_ID), status; made available. */
static void post(struct fx *fx, unsigned q, unsigned i, uint32_t type,
                 uint64_t sector, uint32_t len)
{
    struct virtio_blk_outhdr h = {htole32(type), 0, htole64(sector)};
    struct vdrv *d = &fx->drv[q];
    uint16_t head = (uint16_t)(i * 3);
    bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

    memcpy(at(fx, HDR(i), 16), &h, 16);
    *at(fx, STATUS(i), 1) = 0xee;
    vdrv_desc(d, head, HDR(i), 16, VRING_DESC_F_NEXT, head + 1);
    if (len) {
        vdrv_desc(d, head + 1, DATA(i), len,
                  VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0), head + 2);
        vdrv_desc(d, head + 2, STATUS(i), 1, VRING_DESC_F_WRITE, 0);
    } else {
        vdrv_desc(d, head, HDR(i), 16, VRING_DESC_F_NEXT, head + 2);
        vdrv_desc(d, head + 2, STATUS(i), 1, VRING_DESC_F_WRITE, 0);
    }
    vdrv_post(d, head);
}

static void kick(struct fx *fx, unsigned q)
{
    vmdrv_kick(vblk_kick_fd(&fx->b, q));
}

/* Waits (interrupts, boundedly) until queue q's used index reaches
 * want; the driver asks for an interrupt at every completion. */
static void wait_used(struct fx *fx, unsigned q, uint16_t want)
{
    vmdrv_expect_used(&fx->t, &fx->drv[q], fx->irq, q, want, WAIT_MS);
}

/* Runs one request in slot 0 and returns its status; *used its length. */
static uint8_t run1(struct fx *fx, uint32_t type, uint64_t sector, uint32_t len,
                    uint32_t *used)
{
    uint32_t id, l;

    post(fx, 0, 0, type, sector, len);
    kick(fx, 0);
    wait_used(fx, 0, ++fx->last_used[0]);
    vdrv_used_elem(&fx->drv[0], (uint16_t)(fx->last_used[0] - 1), &id, &l);
    assert_int_equal(id, 0);
    if (used)
        *used = l;
    return *at(fx, STATUS(0), 1);
}

/* --- fixture ------------------------------------------------------------ */

static void fx_open(struct fx *fx, const char *opts, unsigned nq)
{
    struct vblk_params p = {"vdt", &fx->disk, &fx->io, nq, NULL};
    struct vmmio_env env = {m_irq, NULL, m_report, fx};
    struct kvmrun_disk o;
    char text[PATH_MAX + 64];
    int fd;

    memset(fx, 0, sizeof(*fx));
    assert_int_equal(mem_init(&fx->mem, RAM), 0);
    snprintf(fx->path, sizeof(fx->path), "/tmp/test_virtio_blk.XXXXXX");
    fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    fx->shadow = malloc(DISK_SIZE);
    for (unsigned i = 0; i < DISK_SIZE; i++)
        fx->shadow[i] = (uint8_t)(i * 7 + (i >> 9));
    assert_int_equal(pwrite(fd, fx->shadow, DISK_SIZE, 0), DISK_SIZE);
    close(fd);
    snprintf(text, sizeof(text), "%s%s", fx->path, opts);
    assert_int_equal(kvmrun_disk_parse(text, &o), 0);
    assert_int_equal(disk_open(&fx->disk, &o), 0);
    fx->irq = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_int_equal(iothread_init(&fx->io, "test-blk-io"), 0);
    assert_int_equal(iothread_start(&fx->io, NULL), 0);
    if (vblk_init(&fx->b, &p))
        fail_msg("vblk_init: %s", kvmrun_last_error());
    assert_int_equal(vmmio_init(&fx->t, vblk_dev(&fx->b), &env, &fx->mem), 0);
    vblk_attach(&fx->b, &fx->t);
    F = fx;
}

static void fx_close(struct fx *fx)
{
    /* Bounded first: a request the device never answers fails here
     * instead of hanging vblk_fini(). */
    assert_int_equal(iothread_pause(&fx->io, WAIT_MS), 0);
    iothread_resume(&fx->io);
    vmmio_fini(&fx->t);
    vblk_fini(&fx->b);
    assert_int_equal(iothread_fini(&fx->io, WAIT_MS), 0);
    disk_close(&fx->disk);
    unlink(fx->path);
    close(fx->irq);
    free(fx->shadow);
    mem_fini(&fx->mem);
    F = NULL;
}

/* The file as it is now. */
static void assert_file_is_shadow(struct fx *fx)
{
    uint8_t *buf = malloc(DISK_SIZE);
    int fd = open(fx->path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, DISK_SIZE, 0), DISK_SIZE);
    assert_memory_equal(buf, fx->shadow, DISK_SIZE);
    close(fd);
    free(buf);
}

#define ALL_FEATURES (~0ULL)

/* --- tests -------------------------------------------------------------- */

static void test_config_features(void **state)
{
    struct fx fx;
    uint64_t f;

    (void)state;
    fx_open(&fx, ",serial=abc", 1);
    assert_int_equal(rd(&fx, VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_BLOCK);
    f = offered(&fx);
    assert_true(f & BIT64(VIRTIO_F_VERSION_1));
    assert_true(f & BIT64(VIRTIO_RING_F_EVENT_IDX));
    assert_true(f & BIT64(VIRTIO_RING_F_INDIRECT_DESC));
    assert_true(f & BIT64(VIRTIO_BLK_F_FLUSH));
    assert_true(f & BIT64(VIRTIO_BLK_F_SEG_MAX));
    assert_true(f & BIT64(VIRTIO_BLK_F_SIZE_MAX));
    assert_true(f & BIT64(VIRTIO_BLK_F_BLK_SIZE));
    assert_true(f & BIT64(VIRTIO_BLK_F_DISCARD));
    assert_true(f & BIT64(VIRTIO_BLK_F_WRITE_ZEROES));
    assert_false(f & BIT64(VIRTIO_BLK_F_RO));
    assert_false(f & BIT64(VIRTIO_BLK_F_MQ));
    assert_int_equal(cfg64(&fx, offsetof(struct virtio_blk_config, capacity)),
                     DISK_SIZE / 512);
    assert_int_equal(cfg32(&fx, offsetof(struct virtio_blk_config, seg_max)),
                     VBLK_SEG_MAX);
    assert_int_equal(cfg32(&fx, offsetof(struct virtio_blk_config, size_max)),
                     VBLK_SIZE_MAX);
    assert_int_equal(cfg32(&fx, offsetof(struct virtio_blk_config, blk_size)),
                     512);
    assert_int_equal(
        cfg32(&fx, offsetof(struct virtio_blk_config, max_discard_seg)), 1);
    assert_int_equal(cfg32(&fx, offsetof(struct virtio_blk_config,
                                         discard_sector_alignment)),
                     1);
    assert_int_equal(cfg32(&fx, offsetof(struct virtio_blk_config,
                                         max_write_zeroes_sectors)),
                     VBLK_MAX_ZERO_SECTORS);
    assert_int_equal(rd(&fx,
                        VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config,
                                                      write_zeroes_may_unmap),
                        1),
                     1);
    assert_string_equal(vblk_note(&fx.b), ""); /* io_uring here */
    assert_int_equal(fx.b.engine->kind, BLKIO_URING);
    fx_close(&fx);
    /* read-only, two queues, the sync engine */
    fx_open(&fx, ",ro,engine=sync", 2);
    f = offered(&fx);
    assert_true(f & BIT64(VIRTIO_BLK_F_RO));
    assert_true(f & BIT64(VIRTIO_BLK_F_MQ));
    assert_false(f & BIT64(VIRTIO_BLK_F_DISCARD));
    assert_false(f & BIT64(VIRTIO_BLK_F_WRITE_ZEROES));
    assert_int_equal(
        rd(&fx,
           VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, num_queues),
           2),
        2);
    assert_int_equal(fx.b.engine->kind, BLKIO_SYNC);
    fx_close(&fx);
}

/*
 * Rounds of up to NSLOTS concurrent reads and writes of random sectors
 * and sizes (never overlapping in a round), kicked in batches; reads
 * checked against the shadow copy, the file at the end.
 */
static void rw_test(const char *opts, uint64_t features)
{
    struct fx fx;
    uint64_t seed = 0x1234567;
    struct {
        uint64_t sector;
        uint32_t len;
        bool write;
    } r[NSLOTS];

    uint32_t unit, per;

    fx_open(&fx, opts, 1);
    driver_setup(&fx, features, 1, true);
    unit = fx.b.lim.blk_size; /* 512, or O_DIRECT's alignment */
    per = unit / 512;
    for (unsigned round = 0; round < 40; round++) {
        unsigned n = 1 + (unsigned)(seed % NSLOTS);

        for (unsigned i = 0; i < n; i++) {
            bool clash;

            do {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                r[i].len =
                    (uint32_t)(1 + (seed >> 33) % (MAX_DATA / unit)) * unit;
                r[i].sector =
                    (seed >> 20) % (DISK_SIZE / unit - r[i].len / unit) * per;
                r[i].write = (seed >> 13) & 1;
                clash = false;
                for (unsigned k = 0; k < i; k++)
                    if (r[i].sector < r[k].sector + r[k].len / 512 &&
                        r[k].sector < r[i].sector + r[i].len / 512)
                        clash = true;
            } while (clash);
            if (r[i].write) {
                uint8_t *d = at(&fx, DATA(i), r[i].len);

                for (uint32_t k = 0; k < r[i].len; k++)
                    d[k] = (uint8_t)(seed >> (k % 56)) ^ (uint8_t)k;
                memcpy(fx.shadow + r[i].sector * 512, d, r[i].len);
            }
            post(&fx, 0, i, r[i].write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
                 r[i].sector, r[i].len);
            if (i % 7 == 6)
                kick(&fx, 0);
        }
        kick(&fx, 0);
        fx.last_used[0] = (uint16_t)(fx.last_used[0] + n);
        wait_used(&fx, 0, fx.last_used[0]);
        for (unsigned i = 0; i < n; i++) {
            assert_int_equal(*at(&fx, STATUS(i), 1), VIRTIO_BLK_S_OK);
            if (!r[i].write && memcmp(at(&fx, DATA(i), r[i].len),
                                      fx.shadow + r[i].sector * 512, r[i].len))
                fail_msg("round %u: read of %u bytes at sector %llu differs",
                         round, r[i].len, (unsigned long long)r[i].sector);
        }
    }
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_FLUSH, 0, 0, NULL),
                     VIRTIO_BLK_S_OK);
    assert_file_is_shadow(&fx);
    assert_int_equal(fx.b.errors, 0);
    fx_close(&fx);
}

static void test_rw_uring(void **state)
{
    (void)state;
    rw_test("", ALL_FEATURES);
}

static void test_rw_sync(void **state)
{
    (void)state;
    rw_test(",engine=sync", ALL_FEATURES);
}

/* Without EVENT_IDX (flags for notification suppression), O_DIRECT. */
static void test_rw_no_event_idx_direct(void **state)
{
    (void)state;
    rw_test(",cache=none", ALL_FEATURES & ~BIT64(VIRTIO_RING_F_EVENT_IDX));
}

/* Used lengths, GET_ID, errors, discard and write zeroes. */
static void test_requests(void **state)
{
    struct fx fx;
    uint32_t used;
    uint8_t zero[4096] = {0};
    struct virtio_blk_discard_write_zeroes dz = {htole64(16), htole32(8), 0};

    (void)state;
    fx_open(&fx, ",serial=SN-42", 1);
    driver_setup(&fx, ALL_FEATURES, 1, true);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, 2, 1024, &used),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1025);
    assert_memory_equal(at(&fx, DATA(0), 1024), fx.shadow + 1024, 1024);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_FLUSH, 0, 0, &used),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
    memset(at(&fx, DATA(0), 32), 0xff, 32);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_GET_ID, 0, 20, &used),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(used, 21);
    assert_memory_equal(at(&fx, DATA(0), 20),
                        "SN-42\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
    assert_int_equal(run1(&fx, 77, 0, 0, NULL), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512, NULL),
                     VIRTIO_BLK_S_IOERR);
    /* discard, then write zeroes with UNMAP: zeros read back */
    memcpy(at(&fx, DATA(0), 16), &dz, 16);
    post(&fx, 0, 0, VIRTIO_BLK_T_DISCARD, 0, 16);
    /* the segment is device-readable */
    vdrv_desc(&fx.drv[0], 1, DATA(0), 16, VRING_DESC_F_NEXT, 2);
    kick(&fx, 0);
    wait_used(&fx, 0, ++fx.last_used[0]);
    assert_int_equal(*at(&fx, STATUS(0), 1), VIRTIO_BLK_S_OK);
    memset(fx.shadow + 16 * 512, 0, 8 * 512);
    dz = (struct virtio_blk_discard_write_zeroes){
        htole64(64), htole32(8), htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)};
    memcpy(at(&fx, DATA(0), 16), &dz, 16);
    post(&fx, 0, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16);
    vdrv_desc(&fx.drv[0], 1, DATA(0), 16, VRING_DESC_F_NEXT, 2);
    kick(&fx, 0);
    wait_used(&fx, 0, ++fx.last_used[0]);
    assert_int_equal(*at(&fx, STATUS(0), 1), VIRTIO_BLK_S_OK);
    memset(fx.shadow + 64 * 512, 0, 8 * 512);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, 64, 4096, NULL),
                     VIRTIO_BLK_S_OK);
    assert_memory_equal(at(&fx, DATA(0), 4096), zero, 4096);
    assert_file_is_shadow(&fx);
    assert_int_equal(fx.nreports, 0);
    fx_close(&fx);
}

/* A read-only disk: writes fail with IOERR and the image is untouched. */
static void test_read_only(void **state)
{
    struct fx fx;

    (void)state;
    fx_open(&fx, ",ro", 1);
    driver_setup(&fx, ALL_FEATURES, 1, true);
    assert_true(fx.features & BIT64(VIRTIO_BLK_F_RO));
    memset(at(&fx, DATA(0), 512), 0x55, 512);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_OUT, 0, 512, NULL),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, 0, 512, NULL), VIRTIO_BLK_S_OK);
    assert_file_is_shadow(&fx);
    fx_close(&fx);
}

/* Chains made available before DRIVER_OK are served without a kick. */
static void test_before_driver_ok(void **state)
{
    struct fx fx;

    (void)state;
    fx_open(&fx, "", 1);
    driver_setup(&fx, ALL_FEATURES, 1, false);
    post(&fx, 0, 0, VIRTIO_BLK_T_IN, 0, 512);
    post(&fx, 0, 1, VIRTIO_BLK_T_IN, 1, 512);
    driver_ok(&fx);
    wait_used(&fx, 0, 2);
    assert_memory_equal(at(&fx, DATA(1), 512), fx.shadow + 512, 512);
    fx_close(&fx);
}

/* Queue 1 of two (MQ) is served; so is a kick through QueueNotify when
 * no ioeventfd is bound. */
static void test_two_queues(void **state)
{
    struct fx fx;

    (void)state;
    fx_open(&fx, "", 2);
    driver_setup(&fx, ALL_FEATURES, 2, true);
    assert_true(fx.features & BIT64(VIRTIO_BLK_F_MQ));
    post(&fx, 1, 5, VIRTIO_BLK_T_IN, 3, 512);
    wr(&fx, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wait_used(&fx, 1, 1);
    assert_memory_equal(at(&fx, DATA(5), 512), fx.shadow + 3 * 512, 512);
    post(&fx, 0, 6, VIRTIO_BLK_T_IN, 4, 512);
    wr(&fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    wait_used(&fx, 0, 1);
    fx_close(&fx);
}

/*
 * A pause of the I/O thread with requests in flight returns once every
 * request popped is answered; kicks made while paused are served after
 * the resume.
 */
static void test_pause_quiesces(void **state)
{
    struct fx fx;
    uint64_t before, popped;
    unsigned partial = 0;

    (void)state;
    fx_open(&fx, "", 1);
    driver_setup(&fx, ALL_FEATURES, 1, true);
    for (int round = 0; round < 20; round++) {
        before = fx.b.requests; /* the queue is empty: the thread idle */
        for (unsigned i = 0; i < 64; i++)
            post(&fx, 0, i, i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, i * 64,
                 MAX_DATA);
        kick(&fx, 0);
        if (round % 2)
            usleep(500);
        assert_int_equal(iothread_pause(&fx.io, WAIT_MS), 0);
        /* every chain popped is answered: nothing in flight */
        popped = fx.b.requests - before;
        assert_int_equal(fx.b.q[0].inflight, 0);
        assert_int_equal(blkio_inflight(fx.b.engine), 0);
        assert_int_equal(
            (uint16_t)(vdrv_used_idx(&fx.drv[0]) - fx.last_used[0]), popped);
        partial += popped < 64;
        iothread_resume(&fx.io);
        fx.last_used[0] = (uint16_t)(fx.last_used[0] + 64);
        wait_used(&fx, 0, fx.last_used[0]);
    }
    print_message("pauses that found chains not yet popped: %u of 20\n",
                  partial);
    /* a kick while paused waits for the resume */
    assert_int_equal(iothread_pause(&fx.io, WAIT_MS), 0);
    before = fx.b.requests;
    post(&fx, 0, 0, VIRTIO_BLK_T_IN, 0, 512);
    kick(&fx, 0);
    usleep(50000);
    assert_int_equal(fx.b.requests, before);
    iothread_resume(&fx.io);
    wait_used(&fx, 0, ++fx.last_used[0]);
    fx_close(&fx);
}

/* A reset with requests in flight returns with none left and the queue
 * forgotten; the device works after it is set up again. */
static void test_reset_drains(void **state)
{
    struct fx fx;
    uint8_t used_copy[8 + 8 * NUM];

    (void)state;
    fx_open(&fx, "", 1);
    for (int round = 0; round < 10; round++) {
        driver_setup(&fx, ALL_FEATURES, 1, true);
        for (unsigned i = 0; i < NSLOTS; i++)
            post(&fx, 0, i, VIRTIO_BLK_T_OUT, i * 64, MAX_DATA);
        kick(&fx, 0);
        if (round % 2)
            usleep(1000);
        wr(&fx, VIRTIO_MMIO_STATUS, 0);
        assert_int_equal(fx.b.q[0].inflight, 0);
        assert_int_equal(blkio_inflight(fx.b.engine), 0);
        assert_null(fx.b.q[0].vq);
        memcpy(used_copy, at(&fx, RINGS(0) + 0x2000, sizeof(used_copy)),
               sizeof(used_copy));
        kick(&fx, 0);
        usleep(20000);
        assert_memory_equal(used_copy,
                            at(&fx, RINGS(0) + 0x2000, sizeof(used_copy)),
                            sizeof(used_copy));
    }
    driver_setup(&fx, ALL_FEATURES, 1, true);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, 0, 512, NULL), VIRTIO_BLK_S_OK);
    fx_close(&fx);
}

/* A malformed ring, or a request with nowhere for its status: the device
 * needs a reset (one report), kvmrun goes on, a reset recovers it. */
static void test_malformed(void **state)
{
    struct fx fx;

    (void)state;
    fx_open(&fx, "", 1);
    driver_setup(&fx, ALL_FEATURES, 1, true);
    /* descriptors 0 -> 1 -> 2 -> 1: a loop */
    vdrv_desc(&fx.drv[0], 0, HDR(0), 16, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&fx.drv[0], 1, STATUS(0), 1,
              VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    vdrv_desc(&fx.drv[0], 2, DATA(0), 512,
              VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    vdrv_post(&fx.drv[0], 0);
    kick(&fx, 0);
    for (int i = 0;
         i < WAIT_MS && !__atomic_load_n(&fx.nreports, __ATOMIC_SEQ_CST); i++)
        usleep(1000);
    assert_true(rd(&fx, VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_non_null(strstr(fx.report, "vdt: needs reset: queue 0"));
    assert_non_null(strstr(fx.report, "loop"));
    driver_setup(&fx, ALL_FEATURES, 1, true); /* resets first */
    assert_false(rd(&fx, VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_int_equal(run1(&fx, VIRTIO_BLK_T_IN, 0, 512, NULL), VIRTIO_BLK_S_OK);
    /* only readable descriptors: nowhere for a status */
    vdrv_desc(&fx.drv[0], 0, HDR(0), 16, 0, 0);
    vdrv_post(&fx.drv[0], 0);
    kick(&fx, 0);
    for (int i = 0;
         i < WAIT_MS && __atomic_load_n(&fx.nreports, __ATOMIC_SEQ_CST) < 2;
         i++)
        usleep(1000);
    assert_non_null(strstr(fx.report, "no device-writable byte"));
    assert_true(rd(&fx, VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_features),
        cmocka_unit_test(test_rw_uring),
        cmocka_unit_test(test_rw_sync),
        cmocka_unit_test(test_rw_no_event_idx_direct),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_before_driver_ok),
        cmocka_unit_test(test_two_queues),
        cmocka_unit_test(test_pause_quiesces),
        cmocka_unit_test(test_reset_drains),
        cmocka_unit_test(test_malformed),
    };

    (void)F;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
