/* test_virtio_mmio.c: unit tests of the virtio-mmio register file, on a
 * fake device. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "error.h"
#include "kvmrun.h"
#include "le.h"
#include "mem.h"
#include "virtio/mmio.h"
#include "vring_driver.h"

#define RAM (1ULL << 20)
#define BIT64(n) (1ULL << (n))
#define DEV_FEATURES                                                           \
    (BIT64(VIRTIO_BLK_F_RO) | BIT64(VIRTIO_BLK_F_FLUSH) |                      \
     BIT64(VIRTIO_RING_F_INDIRECT_DESC) | BIT64(VIRTIO_RING_F_EVENT_IDX))
#define OFFERED (DEV_FEATURES | BIT64(VIRTIO_F_VERSION_1))
#define ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define DRV VIRTIO_CONFIG_S_DRIVER
#define FOK VIRTIO_CONFIG_S_FEATURES_OK
#define DOK VIRTIO_CONFIG_S_DRIVER_OK
#define NEEDS_RESET VIRTIO_CONFIG_S_NEEDS_RESET
#define CFG VIRTIO_MMIO_CONFIG

/* Queue 0's rings, and queue 1's. */
#define Q0 0x10000ULL
#define Q1 0x20000ULL

struct fx {
    struct guest_mem mem;
    struct vmmio t;
    /* the fake device */
    uint8_t config[12]; /* a 64-bit field at 0, a 32-bit one at 8 */
    unsigned nactivate, nreset, nnotify, nconfig_writes, last_notify;
    uint64_t act_features;
    struct vq *act_q[VIRTIO_MAX_QUEUES];
    unsigned act_nq;
    int activate_rc;
    bool unlocked_op; /* a callback ran without the transport's lock */
    /* the machine */
    unsigned nirq, nreports;
    bool locked_report; /* a report was made with the lock held */
    char report[256];
    uint32_t bound; /* queues with an ioeventfd */
    unsigned nbind, nunbind;
    int bind_rc;
};

static void check_locked(struct fx *fx)
{
    if (pthread_mutex_trylock(&fx->t.lock) == 0) {
        fx->unlocked_op = true;
        pthread_mutex_unlock(&fx->t.lock);
    }
}

static void fake_config_read(void *dev, uint32_t off, uint8_t *data,
                             unsigned size)
{
    struct fx *fx = dev;

    check_locked(fx);
    memcpy(data, fx->config + off, size);
}

static void fake_config_write(void *dev, uint32_t off, const uint8_t *data,
                              unsigned size)
{
    struct fx *fx = dev;

    check_locked(fx);
    memcpy(fx->config + off, data, size);
    fx->nconfig_writes++;
}

static int fake_activate(void *dev, uint64_t features, struct vq *const *q,
                         unsigned nq)
{
    struct fx *fx = dev;

    check_locked(fx);
    fx->nactivate++;
    fx->act_features = features;
    fx->act_nq = nq;
    memcpy(fx->act_q, q, nq * sizeof(*q));
    if (fx->activate_rc)
        return err_set(-fx->activate_rc, "cannot start: no backend");
    return 0;
}

static void fake_reset(void *dev)
{
    struct fx *fx = dev;

    check_locked(fx);
    fx->nreset++;
}

static void fake_notify(void *dev, unsigned q)
{
    struct fx *fx = dev;

    check_locked(fx);
    fx->nnotify++;
    fx->last_notify = q;
}

static const struct virtio_dev_ops fake_ops = {fake_config_read,
                                               fake_config_write, fake_activate,
                                               fake_reset, fake_notify};

static void machine_irq(void *machine)
{
    ((struct fx *)machine)->nirq++;
}

static int machine_ioeventfd(void *machine, unsigned queue, uint64_t offset,
                             bool on)
{
    struct fx *fx = machine;

    assert_int_equal(offset, VIRTIO_MMIO_QUEUE_NOTIFY);
    if (on) {
        fx->nbind++;
        if (fx->bind_rc)
            return fx->bind_rc;
        assert_false(fx->bound & 1u << queue);
        fx->bound |= 1u << queue;
    } else {
        fx->nunbind++;
        assert_true(fx->bound & 1u << queue);
        fx->bound &= ~(1u << queue);
    }
    return 0;
}

static void machine_report(void *machine, const char *line)
{
    struct fx *fx = machine;

    if (pthread_mutex_trylock(&fx->t.lock) == 0)
        pthread_mutex_unlock(&fx->t.lock);
    else
        fx->locked_report = true;
    fx->nreports++;
    snprintf(fx->report, sizeof(fx->report), "%s", line);
}

static struct virtio_dev fake_dev(struct fx *fx)
{
    return (struct virtio_dev){.name = "virtio-fake",
                               .device_id = VIRTIO_ID_BLOCK,
                               .features = DEV_FEATURES,
                               .config_size = sizeof(fx->config),
                               .nqueues = 2,
                               .queue_max = {256, 64},
                               .ops = &fake_ops,
                               .opaque = fx};
}

static struct vmmio_env fake_env(struct fx *fx)
{
    return (struct vmmio_env){machine_irq, machine_ioeventfd, machine_report,
                              fx};
}

static int group_setup(void **state)
{
    static struct fx fx;

    if (mem_init(&fx.mem, RAM))
        return -1;
    *state = &fx;
    return 0;
}

static int group_teardown(void **state)
{
    struct fx *fx = *state;

    mem_fini(&fx->mem);
    return 0;
}

static int setup(void **state)
{
    struct fx *fx = *state;
    struct guest_mem mem = fx->mem;
    struct virtio_dev dev;
    struct vmmio_env env;

    memset(fx, 0, sizeof(*fx));
    fx->mem = mem;
    memset(mem.map, 0, RAM);
    for (unsigned i = 0; i < sizeof(fx->config); i++)
        fx->config[i] = (uint8_t)(0x10 + i);
    dev = fake_dev(fx);
    env = fake_env(fx);
    return vmmio_init(&fx->t, &dev, &env, &fx->mem);
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    vmmio_fini(&fx->t);
    assert_int_equal(fx->bound, 0);
    assert_false(fx->unlocked_op);
    assert_false(fx->locked_report);
    return 0;
}

/* --- register accesses -------------------------------------------------- */

static void access_n(struct fx *fx, uint64_t off, uint8_t *data, unsigned size,
                     bool write)
{
    struct bus_access a = {off, data, size, write, 0};

    vmmio_access(&fx->t, &a);
}

static uint64_t rdn(struct fx *fx, uint64_t off, unsigned size)
{
    uint8_t d[8];

    memset(d, 0xa5, sizeof(d));
    access_n(fx, off, d, size, false);
    return le_get(d, size);
}

static void wrn(struct fx *fx, uint64_t off, unsigned size, uint64_t v)
{
    uint8_t d[8];

    le_put(d, size, v);
    access_n(fx, off, d, size, true);
}

static uint32_t rd(struct fx *fx, uint64_t off)
{
    return (uint32_t)rdn(fx, off, 4);
}

static void wr(struct fx *fx, uint64_t off, uint32_t v)
{
    wrn(fx, off, 4, v);
}

/* Asserts one new report saying what; forgets it. */
static void assert_report(struct fx *fx, const char *what)
{
    if (fx->nreports != 1)
        fail_msg("%u reports, not 1 (last: %s)", fx->nreports, fx->report);
    if (strncmp(fx->report, "virtio-fake: ", 13) || !strstr(fx->report, what))
        fail_msg("report \"%s\" does not say \"%s\"", fx->report, what);
    fx->nreports = 0;
}

static void assert_no_report(struct fx *fx)
{
    if (fx->nreports)
        fail_msg("unexpected report: %s", fx->report);
}

static void write_features(struct fx *fx, uint64_t f)
{
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* The driver's steps up to FEATURES_OK; the status read back. */
static uint32_t negotiate(struct fx *fx, uint64_t f)
{
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV);
    write_features(fx, f);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK);
    return rd(fx, VIRTIO_MMIO_STATUS);
}

static void setup_queue(struct fx *fx, unsigned q, uint32_t num, uint64_t base)
{
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, q);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(fx, VIRTIO_MMIO_QUEUE_NUM, num);
    wr(fx, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
    wr(fx, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
    wr(fx, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x4000));
    wr(fx, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
    wr(fx, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x8000));
    wr(fx, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* A device driven to DRIVER_OK with both queues, as Linux does. */
static void bring_up(struct fx *fx)
{
    unsigned n = fx->nactivate;

    assert_true(negotiate(fx, OFFERED) & FOK);
    setup_queue(fx, 0, 256, Q0);
    setup_queue(fx, 1, 64, Q1);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV | FOK | DOK);
    assert_int_equal(fx->nactivate, n + 1);
}

/* --- tests -------------------------------------------------------------- */

static void test_identity(void **state)
{
    struct fx *fx = *state;

    assert_int_equal(rd(fx, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(rd(fx, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(rd(fx, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_int_not_equal(rd(fx, VIRTIO_MMIO_VENDOR_ID), 0xa5a5a5a5);
    wr(fx, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)OFFERED);
    wr(fx, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_DEVICE_FEATURES), OFFERED >> 32);
    assert_true(rd(fx, VIRTIO_MMIO_DEVICE_FEATURES) &
                1u << (VIRTIO_F_VERSION_1 - 32));
    wr(fx, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    assert_int_equal(rd(fx, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
    /* A queue that does not exist: QueueNumMax and QueueReady 0, quietly
     * (Linux reads both when it probes). */
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 2);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);
    /* No shared memory regions: length and base all ones. */
    wr(fx, VIRTIO_MMIO_SHM_SEL, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
    assert_int_equal(rd(fx, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
    assert_int_equal(rd(fx, VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffff);
    assert_int_equal(rd(fx, VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffff);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_CONFIG_GENERATION), 0);
    assert_no_report(fx);
}

static void test_init_checks_device(void **state)
{
    struct fx *fx = *state;
    struct vmmio t;
    struct virtio_dev dev;
    struct vmmio_env env = fake_env(fx);
    struct virtio_dev_ops no_reset = fake_ops;

    dev = fake_dev(fx);
    dev.nqueues = VIRTIO_MAX_QUEUES + 1;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "virtio-fake: 17 queues"));
    dev = fake_dev(fx);
    dev.queue_max[1] = 100;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "queue 1: maximum size 100"));
    dev.queue_max[1] = 0;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    dev.queue_max[1] = 65535;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    dev = fake_dev(fx);
    dev.config_size = VMMIO_WINDOW - CFG + 1;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "do not fit"));
    dev = fake_dev(fx);
    dev.features |= BIT64(VIRTIO_F_RING_PACKED);
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "transport features 0x4"));
    dev.features = BIT64(VIRTIO_F_ANY_LAYOUT);
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    dev = fake_dev(fx);
    no_reset.reset = NULL;
    dev.ops = &no_reset;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), -EINVAL);
    /* The largest legal device. */
    dev = fake_dev(fx);
    dev.nqueues = VIRTIO_MAX_QUEUES;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        dev.queue_max[i] = VQ_MAX_SIZE;
    dev.config_size = VMMIO_WINDOW - CFG;
    assert_int_equal(vmmio_init(&t, &dev, &env, &fx->mem), 0);
    vmmio_fini(&t);
}

static void test_bring_up(void **state)
{
    struct fx *fx = *state;

    bring_up(fx);
    assert_int_equal(fx->act_features, OFFERED);
    assert_int_equal(fx->act_nq, 2);
    assert_ptr_equal(fx->act_q[0], &fx->t.vq[0]);
    assert_ptr_equal(fx->act_q[1], &fx->t.vq[1]);
    assert_true(fx->act_q[0]->ready && fx->act_q[0]->event_idx &&
                fx->act_q[0]->indirect);
    assert_int_equal(fx->act_q[0]->num, 256);
    assert_int_equal(fx->act_q[0]->desc_gpa, Q0);
    assert_int_equal(fx->act_q[0]->avail_gpa, Q0 + 0x4000);
    assert_int_equal(fx->act_q[0]->used_gpa, Q0 + 0x8000);
    assert_int_equal(fx->act_q[1]->num, 64);
    assert_int_equal(fx->bound, 3);
    assert_int_equal(fx->nirq, 0);
    assert_no_report(fx);
}

/* A driver may leave a queue unused; it is NULL to the device. */
static void test_bring_up_one_queue(void **state)
{
    struct fx *fx = *state;

    assert_true(negotiate(fx, BIT64(VIRTIO_F_VERSION_1)) & FOK);
    setup_queue(fx, 1, 16, Q1);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_int_equal(fx->nactivate, 1);
    assert_int_equal(fx->act_features, BIT64(VIRTIO_F_VERSION_1));
    assert_null(fx->act_q[0]);
    assert_ptr_equal(fx->act_q[1], &fx->t.vq[1]);
    assert_false(fx->act_q[1]->event_idx || fx->act_q[1]->indirect);
    assert_int_equal(fx->bound, 2);
}

static void test_features_ok_needs_version_1(void **state)
{
    struct fx *fx = *state;

    assert_int_equal(negotiate(fx, DEV_FEATURES), ACK | DRV);
    assert_report(fx, "did not accept VIRTIO_F_VERSION_1");
    /* DRIVER_OK cannot follow a refused FEATURES_OK. */
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV);
    assert_int_equal(fx->nactivate, 0);
    /* The same driver, told again after a reset, gets it right. */
    assert_int_equal(negotiate(fx, BIT64(VIRTIO_F_VERSION_1)), ACK | DRV | FOK);
    assert_no_report(fx);
}

static void test_features_ok_needs_subset(void **state)
{
    struct fx *fx = *state;

    assert_int_equal(negotiate(fx, OFFERED | BIT64(VIRTIO_BLK_F_DISCARD)),
                     ACK | DRV);
    assert_report(fx, "accepted features 0x2000, not offered");
    assert_int_equal(negotiate(fx, OFFERED | BIT64(VIRTIO_F_RING_PACKED)),
                     ACK | DRV);
    assert_report(fx, "accepted features 0x400000000");
    /* A bit past 63 (DriverFeaturesSel 2) is not offered either. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV);
    write_features(fx, OFFERED);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV);
    assert_report(fx, "bits past 63");
    /* Zero there is harmless. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 5);
    wr(fx, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    write_features(fx, BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_BLK_F_RO));
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV | FOK);
    assert_no_report(fx);
}

static void test_features_frozen_after_features_ok(void **state)
{
    struct fx *fx = *state;

    bring_up(fx);
    write_features(fx, BIT64(VIRTIO_F_VERSION_1));
    assert_report(fx, "DriverFeatures written after FEATURES_OK");
    /* A second reset brings the features back to zero. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV);
    write_features(fx, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV);
}

static void test_status_order(void **state)
{
    static const struct {
        uint32_t before, write;
    } bad[] = {
        {0, DRV},                     /* DRIVER before ACKNOWLEDGE */
        {ACK, ACK | DRV | DOK},       /* skipping FEATURES_OK */
        {ACK, ACK | FOK},             /* FEATURES_OK without DRIVER */
        {ACK | DRV, ACK | DRV | DOK}, /* DRIVER_OK without FEATURES_OK */
        {ACK | DRV, ACK},             /* clearing a bit */
        {ACK | DRV, DRV},             /* clearing ACKNOWLEDGE */
        {ACK, ACK | 0x10},            /* unknown bit */
        {ACK, ACK | 0x20},            /* unknown bit */
    };
    struct fx *fx = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        if (bad[i].before & ACK)
            wr(fx, VIRTIO_MMIO_STATUS, ACK);
        if (bad[i].before & DRV)
            wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV);
        wr(fx, VIRTIO_MMIO_STATUS, bad[i].write);
        assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), bad[i].before);
        assert_report(fx, "ignored");
    }
    /* FAILED may come at any point; NEEDS_RESET written back is not the
     * driver's and changes nothing. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | NEEDS_RESET);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | VIRTIO_CONFIG_S_FAILED);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | VIRTIO_CONFIG_S_FAILED);
    assert_int_equal(fx->nactivate, 0);
    assert_no_report(fx);
}

/* A guest error is reported once per kind until the next reset. */
static void test_reports_once_per_reset(void **state)
{
    struct fx *fx = *state;

    wr(fx, VIRTIO_MMIO_STATUS, DRV);
    assert_report(fx, "status 0x2 after 0 ignored");
    wr(fx, VIRTIO_MMIO_STATUS, DRV);
    wr(fx, VIRTIO_MMIO_STATUS, FOK);
    assert_no_report(fx);
    rd(fx, VIRTIO_MMIO_QUEUE_NUM); /* another kind */
    assert_report(fx, "read of write-only register QueueNum");
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_STATUS, DRV);
    assert_report(fx, "status 0x2 after 0");
}

static void test_reset(void **state)
{
    struct fx *fx = *state;

    bring_up(fx);
    vmmio_config_changed(&fx->t);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                     VIRTIO_MMIO_INT_CONFIG);
    fx->nreset = 0;
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(fx->nreset, 1);
    assert_int_equal(fx->bound, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    for (unsigned q = 0; q < 2; q++) {
        wr(fx, VIRTIO_MMIO_QUEUE_SEL, q);
        assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);
        assert_false(fx->t.vq[q].ready);
        assert_int_equal(fx->t.vq[q].num, 0);
        assert_int_equal(fx->t.vq[q].desc_gpa, 0);
    }
    assert_int_equal(fx->t.driver_features, 0);
    /* The generation keeps counting: a driver may hold an old value. */
    assert_int_equal(rd(fx, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    /* And the device comes up again. */
    bring_up(fx);
    assert_int_equal(fx->nactivate, 1 + 1);
    assert_int_equal(fx->bound, 3);
    assert_no_report(fx);
}

static void test_queue_setup_order(void **state)
{
    struct fx *fx = *state;

    /* QueueReady takes 0 or 1. */
    assert_true(negotiate(fx, OFFERED) & FOK);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 2);
    assert_report(fx, "QueueReady 0x2 of queue 1: not 0 or 1");
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);

    /* Frozen while ready. */
    assert_true(negotiate(fx, OFFERED) & FOK);
    setup_queue(fx, 0, 128, Q0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 1);
    wr(fx, VIRTIO_MMIO_QUEUE_NUM, 64);
    assert_report(fx, "QueueNum of queue 0 written while it is ready");
    wr(fx, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
    assert_no_report(fx); /* the same kind: reported once */
    assert_int_equal(fx->t.vq[0].num, 128);
    assert_int_equal(fx->t.vq[0].desc_gpa, Q0);
    /* Not ready again: writable again, and ready checks again. */
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(fx, VIRTIO_MMIO_QUEUE_NUM, 64);
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(fx->t.vq[0].num, 64);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 1);

    /* After DRIVER_OK, every queue register is frozen. */
    assert_true(negotiate(fx, OFFERED) & FOK);
    setup_queue(fx, 0, 256, Q0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_int_equal(fx->nactivate, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_NUM, 16);
    assert_report(fx, "QueueNum of queue 1 written after DRIVER_OK");
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(fx, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 1);
    assert_false(fx->t.vq[1].ready);
    assert_int_equal(fx->t.vq[1].num, 0);
    assert_no_report(fx);

    /* A queue that does not exist. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 7);
    wr(fx, VIRTIO_MMIO_QUEUE_NUM, 16);
    assert_report(fx, "QueueNum of queue 7: the device has 2 queues");
}

/* A queue that fails its checks at QueueReady puts the device in
 * NEEDS_RESET; DRIVER_OK then starts nothing. */
static void test_queue_ready_checks(void **state)
{
    static const struct {
        uint32_t num;
        uint64_t base;
        const char *msg;
    } bad[] = {
        {100, Q0, "size 100 is not a power of two"},
        {0, Q0, "size 0 is not a power of two"},
        {512, Q0, "queue 0: size 512 is above QueueNumMax 256"},
        {256, RAM - 0x4000, "not in guest RAM"},
        {256, Q0 + 8, "not 16-byte aligned"},
    };
    struct fx *fx = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(negotiate(fx, OFFERED) & FOK);
        setup_queue(fx, 0, bad[i].num, bad[i].base);
        assert_report(fx, "needs reset: ");
        if (!strstr(fx->report, bad[i].msg))
            fail_msg("\"%s\" does not say \"%s\"", fx->report, bad[i].msg);
        assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 0);
        assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS),
                         ACK | DRV | FOK | NEEDS_RESET);
        /* No interrupt before DRIVER_OK, one with it. */
        assert_int_equal(fx->nirq, i);
        wr(fx, VIRTIO_MMIO_STATUS,
           ACK | DRV | FOK | DOK | NEEDS_RESET); /* Linux ORs it back */
        assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS),
                         ACK | DRV | FOK | DOK | NEEDS_RESET);
        assert_int_equal(fx->nirq, i + 1);
        assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                         VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(fx->nactivate, 0);
        assert_int_equal(fx->bound, 0);
    }
    /* A reset clears NEEDS_RESET. */
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0);
    bring_up(fx);
}

static void test_wrong_width(void **state)
{
    static const struct {
        uint64_t off;
        unsigned size;
    } bad[] = {
        {VIRTIO_MMIO_STATUS, 1},         {VIRTIO_MMIO_STATUS, 2},
        {VIRTIO_MMIO_STATUS, 8},         {VIRTIO_MMIO_STATUS + 1, 1},
        {VIRTIO_MMIO_STATUS + 2, 2},     {VIRTIO_MMIO_MAGIC_VALUE, 8},
        {VIRTIO_MMIO_QUEUE_DESC_LOW, 8}, {VIRTIO_MMIO_CONFIG_GENERATION + 2, 2},
    };
    struct fx *fx = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        wr(fx, VIRTIO_MMIO_STATUS, ACK);
        wrn(fx, bad[i].off, bad[i].size, 0);
        assert_report(fx, "registers take aligned 4-byte accesses");
        assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK);
        assert_int_equal(rdn(fx, bad[i].off, bad[i].size), 0);
        assert_no_report(fx); /* once per kind */
    }
    /* The 64-bit queue addresses are two 32-bit halves. */
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 0);
    wrn(fx, VIRTIO_MMIO_QUEUE_DESC_LOW, 8, 0x1234567800001000ULL);
    assert_int_equal(fx->t.vq[0].desc_gpa, 0);
}

static void test_write_only_and_read_only(void **state)
{
    static const uint64_t write_only[] = {
        VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
        VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
        VIRTIO_MMIO_QUEUE_NUM,           VIRTIO_MMIO_QUEUE_NOTIFY,
        VIRTIO_MMIO_INTERRUPT_ACK,       VIRTIO_MMIO_QUEUE_DESC_LOW,
        VIRTIO_MMIO_QUEUE_DESC_HIGH,     VIRTIO_MMIO_QUEUE_AVAIL_LOW,
        VIRTIO_MMIO_QUEUE_AVAIL_HIGH,    VIRTIO_MMIO_QUEUE_USED_LOW,
        VIRTIO_MMIO_QUEUE_USED_HIGH,     VIRTIO_MMIO_SHM_SEL,
    };
    static const uint64_t read_only[] = {
        VIRTIO_MMIO_MAGIC_VALUE,      VIRTIO_MMIO_VERSION,
        VIRTIO_MMIO_DEVICE_ID,        VIRTIO_MMIO_VENDOR_ID,
        VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_QUEUE_NUM_MAX,
        VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_CONFIG_GENERATION,
        VIRTIO_MMIO_SHM_LEN_LOW,      VIRTIO_MMIO_SHM_LEN_HIGH,
        VIRTIO_MMIO_SHM_BASE_LOW,     VIRTIO_MMIO_SHM_BASE_HIGH,
    };
    /* Legacy (version 1) registers, QueueReset (no RING_RESET) and gaps. */
    static const uint64_t unknown[] = {0x018, 0x01c, 0x028, 0x03c,
                                       0x040, 0x048, 0x054, 0x068,
                                       0x074, 0x0a8, 0x0c0, 0x0f8};
    struct fx *fx = *state;
    uint32_t magic;

    for (size_t i = 0; i < sizeof(write_only) / sizeof(write_only[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        assert_int_equal(rd(fx, write_only[i]), 0);
        assert_report(fx, "read of write-only register ");
    }
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        wr(fx, read_only[i], 0x55);
        assert_report(fx, "write to read-only register ");
    }
    magic = rd(fx, VIRTIO_MMIO_MAGIC_VALUE);
    assert_int_equal(magic, 0x74726976);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        assert_int_equal(rd(fx, unknown[i]), 0);
        assert_report(fx, "read of unknown register");
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        wr(fx, unknown[i], 1);
        assert_report(fx, "write of unknown register");
    }
    assert_int_equal(fx->nactivate + fx->nnotify, 0);
}

static void test_notify(void **state)
{
    struct fx *fx = *state;

    /* Before DRIVER_OK: ignored, reported. */
    assert_true(negotiate(fx, OFFERED) & FOK);
    setup_queue(fx, 0, 256, Q0);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_report(fx, "notify of queue 0, which is not ready: ignored");
    assert_int_equal(fx->nnotify, 0);
    /* ioeventfds unavailable: notifications come as MMIO writes. */
    fx->bind_rc = -ENOSPC;
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_report(fx, "queue 0: no ioeventfd");
    assert_int_equal(fx->bound, 0);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(fx->nnotify, 1);
    assert_int_equal(fx->last_notify, 0);
    /* Queue 1 was never made ready; queue 9 does not exist (reported
     * once already). */
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 9);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
    assert_no_report(fx);
    assert_int_equal(fx->nnotify, 1);
    /* After a reset, the same mistake is reported again. */
    fx->bind_rc = 0;
    bring_up(fx);
    assert_int_equal(fx->bound, 3);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 9);
    assert_report(fx, "notify of queue 9, which is not ready");
    /* A broken device hears nothing more. */
    fx->nnotify = 0;
    vmmio_needs_reset(&fx->t, "test");
    assert_report(fx, "needs reset: test");
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(fx->nnotify, 0);
}

static void test_interrupts(void **state)
{
    struct fx *fx = *state;
    struct vdrv d = {&fx->mem, 256, Q0, Q0 + 0x4000, Q0 + 0x8000, 0};
    struct vq *q;
    struct iovec iov[4];
    struct vq_chain c = {.iov = iov, .cap = 4};

    /* Config changes before DRIVER_OK: a new generation, no interrupt. */
    vmmio_config_changed(&fx->t);
    assert_int_equal(rd(fx, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(fx->nirq, 0);
    bring_up(fx);
    q = fx->act_q[0];
    /* A used buffer: InterruptStatus bit 0 and an edge. */
    vdrv_desc(&d, 0, 0x80000, 16, VRING_DESC_F_WRITE, 0);
    vdrv_post(&d, 0);
    assert_int_equal(vq_pop(q, &c), 1);
    assert_int_equal(vq_push(q, 0, 16), 0);
    vmmio_signal_used(&fx->t, q);
    assert_int_equal(fx->nirq, 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                     VIRTIO_MMIO_INT_VRING);
    /* Nothing new used: no interrupt. */
    vmmio_signal_used(&fx->t, q);
    assert_int_equal(fx->nirq, 1);
    /* A config change on top. */
    vmmio_config_changed(&fx->t);
    assert_int_equal(fx->nirq, 2);
    assert_int_equal(rd(fx, VIRTIO_MMIO_CONFIG_GENERATION), 2);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                     VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    /* The driver acknowledges one, then the other. */
    wr(fx, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                     VIRTIO_MMIO_INT_CONFIG);
    wr(fx, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_no_report(fx);
}

/* The device's own error: NEEDS_RESET, a config interrupt after
 * DRIVER_OK, one report. */
static void test_needs_reset(void **state)
{
    struct fx *fx = *state;

    bring_up(fx);
    vmmio_needs_reset(&fx->t, "queue 0: descriptor 3: zero-length buffer");
    assert_report(
        fx, "virtio-fake: needs reset: queue 0: descriptor 3: zero-length");
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS),
                     ACK | DRV | FOK | DOK | NEEDS_RESET);
    assert_int_equal(rd(fx, VIRTIO_MMIO_INTERRUPT_STATUS),
                     VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(fx->nirq, 1);
    vmmio_needs_reset(&fx->t, "again");
    assert_no_report(fx);
    assert_int_equal(fx->nirq, 1);
    wr(fx, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0);
    bring_up(fx);
    vmmio_needs_reset(&fx->t, "again");
    assert_report(fx, "needs reset: again");
}

static void test_activate_fails(void **state)
{
    struct fx *fx = *state;

    fx->activate_rc = -EIO;
    assert_true(negotiate(fx, OFFERED) & FOK);
    setup_queue(fx, 0, 256, Q0);
    wr(fx, VIRTIO_MMIO_STATUS, ACK | DRV | FOK | DOK);
    assert_report(fx, "needs reset: cannot start: no backend");
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS),
                     ACK | DRV | FOK | DOK | NEEDS_RESET);
    assert_int_equal(fx->bound, 0);
    assert_int_equal(fx->nirq, 1);
    wr(fx, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(fx->nnotify, 0);
}

static void test_config_space(void **state)
{
    struct fx *fx = *state;

    assert_int_equal(rdn(fx, CFG, 1), 0x10);
    assert_int_equal(rdn(fx, CFG + 3, 1), 0x13);
    assert_int_equal(rdn(fx, CFG + 2, 2), 0x1312);
    assert_int_equal(rdn(fx, CFG + 8, 4), 0x1b1a1918);
    /* A 64-bit field: two 32-bit halves. */
    assert_int_equal(rdn(fx, CFG, 4), 0x13121110);
    assert_int_equal(rdn(fx, CFG + 4, 4), 0x17161514);
    assert_no_report(fx);
    wrn(fx, CFG + 8, 4, 0xdeadbeef);
    assert_int_equal(fx->nconfig_writes, 1);
    assert_int_equal(rdn(fx, CFG + 8, 4), 0xdeadbeef);
    wrn(fx, CFG + 11, 1, 0x42);
    assert_int_equal(fx->config[11], 0x42);
    assert_no_report(fx);

    static const struct {
        uint64_t off;
        unsigned size;
    } bad[] = {
        {CFG, 8},      {CFG + 1, 2},     {CFG + 2, 4}, {CFG + 12, 1},
        {CFG + 10, 4}, {CFG + 0xefc, 4}, {CFG + 3, 3},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(fx, VIRTIO_MMIO_STATUS, 0);
        assert_int_equal(rdn(fx, bad[i].off, bad[i].size), 0);
        assert_report(fx, "past its 12 bytes: ignored");
        wrn(fx, bad[i].off, bad[i].size, 0x99);
        assert_no_report(fx);
    }
    assert_int_equal(fx->nconfig_writes, 2);
}

static void test_config_read_only(void **state)
{
    struct fx *fx = *state;
    struct virtio_dev_ops ro = fake_ops;
    struct virtio_dev dev = fake_dev(fx);
    struct vmmio_env env = fake_env(fx);

    vmmio_fini(&fx->t);
    ro.config_write = NULL;
    dev.ops = &ro;
    assert_int_equal(vmmio_init(&fx->t, &dev, &env, &fx->mem), 0);
    wrn(fx, CFG, 1, 1);
    assert_report(fx, "config write at 0: read-only");
    assert_int_equal(fx->config[0], 0x10);
}

static void test_save_restore(void **state)
{
    struct fx *fx = *state;
    struct vmmio_state st, st2;
    struct virtio_dev dev = fake_dev(fx);
    struct vmmio_env env = fake_env(fx);

    bring_up(fx);
    vmmio_config_changed(&fx->t);
    wr(fx, VIRTIO_MMIO_QUEUE_SEL, 1);
    vmmio_save(&fx->t, &st);
    assert_int_equal(st.status, ACK | DRV | FOK | DOK);
    assert_int_equal(st.isr, VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.driver_features, OFFERED);
    assert_int_equal(st.nqueues, 2);
    assert_int_equal(st.queue_sel, 1);
    assert_int_equal(st.vq[0].num, 256);
    assert_int_equal(st.vq[1].ready, 1);

    /* A new transport (a new process) takes it up. */
    vmmio_fini(&fx->t);
    assert_int_equal(fx->bound, 0);
    fx->nactivate = fx->nirq = 0;
    assert_int_equal(vmmio_init(&fx->t, &dev, &env, &fx->mem), 0);
    assert_int_equal(vmmio_restore(&fx->t, &st), 0);
    assert_int_equal(fx->nactivate, 1);
    assert_int_equal(fx->act_features, OFFERED);
    assert_ptr_equal(fx->act_q[1], &fx->t.vq[1]);
    assert_int_equal(fx->bound, 3);
    assert_int_equal(fx->nirq, 1); /* the pending bit, raised again */
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), ACK | DRV | FOK | DOK);
    assert_int_equal(rd(fx, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_READY), 1);
    assert_int_equal(rd(fx, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
    vmmio_save(&fx->t, &st2);
    assert_memory_equal(&st, &st2, sizeof(st));
    assert_no_report(fx);
}

static void test_restore_refuses_bad_state(void **state)
{
    struct fx *fx = *state;
    struct vmmio_state good, st;

    bring_up(fx);
    vmmio_save(&fx->t, &good);
    st = good;
    st.nqueues = 3;
    assert_int_equal(vmmio_restore(&fx->t, &st), -EINVAL);
    assert_non_null(strstr(kvmrun_last_error(), "saved state has 3 queues"));
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0); /* left reset */
    assert_int_equal(fx->bound, 0);
    st = good;
    st.status = ACK | DOK;
    assert_int_equal(vmmio_restore(&fx->t, &st), -EINVAL);
    st = good;
    st.status |= 0x10;
    assert_int_equal(vmmio_restore(&fx->t, &st), -EINVAL);
    st = good;
    st.driver_features |= BIT64(VIRTIO_F_RING_PACKED);
    assert_int_equal(vmmio_restore(&fx->t, &st), -EINVAL);
    st = good;
    st.isr = 4;
    assert_int_equal(vmmio_restore(&fx->t, &st), -EINVAL);
    st = good;
    st.vq[1].used_gpa = RAM;
    assert_int_equal(vmmio_restore(&fx->t, &st), -EFAULT);
    assert_int_equal(rd(fx, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(vmmio_restore(&fx->t, &good), 0);
    assert_int_equal(fx->bound, 3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_identity),
        T(test_init_checks_device),
        T(test_bring_up),
        T(test_bring_up_one_queue),
        T(test_features_ok_needs_version_1),
        T(test_features_ok_needs_subset),
        T(test_features_frozen_after_features_ok),
        T(test_status_order),
        T(test_reports_once_per_reset),
        T(test_reset),
        T(test_queue_setup_order),
        T(test_queue_ready_checks),
        T(test_wrong_width),
        T(test_write_only_and_read_only),
        T(test_notify),
        T(test_interrupts),
        T(test_needs_reset),
        T(test_activate_fails),
        T(test_config_space),
        T(test_config_read_only),
        T(test_save_restore),
        T(test_restore_refuses_bad_state),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
