/* test_machine.c: the machine table and its devices' descriptors, without
 * KVM: names, reset against init, and the check of a snapshot's device
 * set (missing, extra, wrong version or size, a state a device refuses). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dev/rtc.h"
#include "kvmrun.h"
#include "snapfile.h"
/* Not tests/unit/machine.h, the devices' stand-in machine. */
#include "../../src/machine.h"

static void fake_end(void *machine, unsigned vcpu, enum kvmrun_end why,
                     uint64_t code, const char *message)
{
    (void)machine, (void)vcpu, (void)why, (void)code, (void)message;
}

static void fake_line(void *machine, const char *line)
{
    (void)machine, (void)line;
}

static void fake_irq(void *machine, unsigned line, int level)
{
    (void)machine, (void)line, (void)level;
}

static const struct dev_env fake_env = {
    .end = fake_end, .report = fake_line, .log = fake_line, .irq = fake_irq};

/* Every name fits, and no two devices with a section share one. */
static void test_names(void **state)
{
    (void)state;
    for (unsigned i = 0; i < machine_table_len; i++) {
        const struct dev_desc *a = machine_table[i].desc;

        assert_non_null(a->name);
        assert_true(strlen(a->name) + 4 < MACHINE_NAME_MAX);
        assert_true(MACHINE_NAME_MAX <= SNAP_DEV_NAME);
        if (a->snap_size)
            assert_non_null(a->save), assert_non_null(a->load);
        for (unsigned k = 0; k < i && a->snap_size; k++)
            if (machine_table[k].desc->snap_size)
                assert_string_not_equal(a->name, machine_table[k].desc->name);
    }
}

/* A device of desc made as the machine makes it, without output. */
static void *make(const struct dev_desc *desc, struct kvmrun_config *cfg)
{
    const struct dev_ctx ctx = {&fake_env, cfg, desc->name, 0, 0, 4, 0, NULL};
    void *dev = calloc(1, desc->size ? desc->size : 1);

    assert_non_null(dev);
    kvmrun_config_init(cfg);
    cfg->serial_fd = -1;
    if (desc->init)
        assert_int_equal(desc->init(dev, &ctx), 0);
    return dev;
}

/* reset puts back what init made: the saved states are equal, after a
 * load of arbitrary bytes in between (loads clamp them). */
static void check_reset(const struct dev_desc *desc)
{
    struct kvmrun_config cfg;
    void *dev = make(desc, &cfg);
    uint8_t *a = calloc(1, desc->snap_size), *b = calloc(1, desc->snap_size);
    uint8_t *junk = malloc(desc->snap_size);

    assert_true(a && b && junk);
    desc->save(dev, a);
    memset(junk, 0x5a, desc->snap_size);
    desc->load(dev, junk);
    desc->reset(dev);
    desc->save(dev, b);
    if (memcmp(a, b, desc->snap_size) != 0)
        fail_msg("%s: the state after reset differs from init's", desc->name);
    if (desc->fini)
        desc->fini(dev);
    free(dev), free(a), free(b), free(junk);
}

static void test_reset(void **state)
{
    unsigned n = 0;

    (void)state;
    for (unsigned i = 0; i < machine_table_len; i++)
        if (machine_table[i].desc->reset && machine_table[i].desc->snap_size) {
            check_reset(machine_table[i].desc);
            n++;
        }
    assert_true(n >= 4); /* serial, poweroff, fw_cfg, i8042 */
}

/* An image holding one section per device of the default machine, as
 * they save it from a fresh state; spoil it, then check it. */
struct image {
    struct snap_image img;
    struct snap_dev devs[64];
    uint8_t states[64][512];
};

static void build(struct image *im)
{
    struct kvmrun_config cfg;

    memset(im, 0, sizeof(*im));
    im->img.devs = im->devs;
    kvmrun_config_init(&cfg);
    for (unsigned i = 0; i < machine_table_len; i++) {
        const struct dev_desc *d = machine_table[i].desc;
        struct snap_dev *s = &im->devs[im->img.ndevs];
        void *dev;

        /* Only the default machine's: no disk, no rng. */
        if (!d->snap_size || (d->count && d->count(&cfg) == 0))
            continue;
        assert_true(d->snap_size <= sizeof(im->states[0]));
        dev = make(d, &cfg);
        d->save(dev, im->states[im->img.ndevs]);
        if (d->fini)
            d->fini(dev);
        free(dev);
        snprintf(s->name, sizeof(s->name), "%s", d->name);
        s->version = d->snap_version;
        s->state.data = im->states[im->img.ndevs++];
        s->state.len = d->snap_size;
    }
}

static struct snap_dev *find(struct image *im, const char *name)
{
    return (struct snap_dev *)snapfile_device(&im->img, name);
}

static void expect(struct image *im, const char *why)
{
    struct kvmrun_config cfg;

    kvmrun_config_init(&cfg);
    assert_int_equal(machine_check_snapshot(&cfg, &im->img, "t.snap"), -EINVAL);
    if (strncmp(kvmrun_last_error(), "t.snap: ", 8) != 0 ||
        !strstr(kvmrun_last_error(), why))
        fail_msg("'%s' does not say '%s'", kvmrun_last_error(), why);
}

static void test_snapshot_devices(void **state)
{
    static const struct rtc_state forged_rtc = {.offset = INT64_MAX};
    struct kvmrun_config cfg;
    struct image *im = malloc(sizeof(*im));

    (void)state;
    assert_non_null(im);
    kvmrun_config_init(&cfg);
    build(im);
    assert_int_equal(machine_check_snapshot(&cfg, &im->img, "t.snap"), 0);

    strcpy(find(im, "serial")->name, "uart");
    expect(im, "no section for device serial: the snapshot's machine has "
               "no such device");
    build(im);
    strcpy(im->devs[im->img.ndevs++].name, "dummy");
    expect(im, "a section for device dummy, which this machine does not "
               "have");
    build(im);
    find(im, "i8042")->version = 9;
    expect(im, "i8042 section version 9; this kvmrun reads version 1");
    build(im);
    find(im, "poweroff")->state.len--;
    expect(im, "poweroff section: 3 bytes, not 4");
    build(im);
    memcpy(im->states[find(im, "rtc") - im->devs], &forged_rtc,
           sizeof(forged_rtc));
    expect(im, "rtc section: offset 9223372036854775807 s from the host's "
               "clock is out of range");
    free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_snapshot_devices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
