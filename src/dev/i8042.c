/* i8042.c: the PC keyboard controller, a keyboard and no mouse. */
#include "dev/i8042.h"

#include <stdio.h>
#include <string.h>

/*
 * Enough of an 8042 for firmware and Linux: the controller commands a
 * driver probes with, a keyboard that answers its commands at once (there
 * are no keystrokes), and the two classic reset paths (command 0xfe,
 * output port bit 0 cleared) ending the VM with KVMRUN_END_REBOOT.
 *
 * There is no AUX (mouse) port, and it is made to look absent the way
 * Linux's i8042_check_aux() concludes so without waiting on a timeout:
 * every byte for the AUX side (0xd3 loop, 0xd4 send) comes back as 0xfe
 * with AUXDATA|TIMEOUT (what a controller reports when nothing answers on
 * the port), so the loop test fails, and the AUX interface test (0xa9)
 * then reports 0x02, "clock line stuck high" (0 or 0xff would be taken
 * as a working port).
 */

#define KBD_ACK 0xfa
#define KBD_BAT_OK 0xaa /* basic assurance test passed */
#define KBD_ECHO 0xee
#define AUX_NO_REPLY 0xfe
#define AUX_TEST_CLOCK_HIGH 0x02

void i8042_init(struct i8042 *k, const struct dev_env *env)
{
    memset(k, 0, sizeof(*k));
    pthread_mutex_init(&k->lock, NULL);
    k->env = *env;
    i8042_reset(k);
}

void i8042_fini(struct i8042 *k)
{
    pthread_mutex_destroy(&k->lock);
}

/* Queues a byte for the data port; flags: its AUXDATA/TIMEOUT bits. */
static void i8042_push(struct i8042 *k, uint8_t byte, uint8_t flags)
{
    if (k->count == I8042_QUEUE)
        return; /* only a guest that never reads gets here: drop */
    k->queue[(k->head + k->count) % I8042_QUEUE] = byte;
    k->flags[(k->head + k->count++) % I8042_QUEUE] = flags;
}

static uint8_t i8042_status(const struct i8042 *k)
{
    uint8_t s = I8042_STR_UNLOCK | (k->ram[0] & I8042_CTR_SYS);

    if (k->a2)
        s |= I8042_STR_A2;
    if (k->count)
        s |= I8042_STR_OBF | k->flags[k->head];
    return s; /* never 0xff, which means "no controller" to Linux */
}

static void i8042_set_irq(struct i8042 *k, unsigned which, int level)
{
    static const unsigned lines[2] = {I8042_KBD_IRQ, I8042_AUX_IRQ};

    if (k->irq_level[which] == level || !k->env.irq)
        return;
    k->irq_level[which] = level;
    k->env.irq(k->env.machine, lines[which], level);
}

/*
 * The chip raises IRQ 1 (or 12) while its output buffer holds a keyboard
 * (or AUX) byte and the command byte enables that interrupt. Our queue
 * refills the buffer at once, so after a read that leaves another byte
 * the line is dropped and raised again: an edge-triggered PIC must see
 * one edge per byte. Under k->lock.
 */
static void i8042_update_irq(struct i8042 *k, bool popped)
{
    int want[2] = {0, 0};

    if (k->count) {
        bool aux = k->flags[k->head] & I8042_STR_AUXDATA;

        if (aux)
            want[1] = !!(k->ram[0] & I8042_CTR_AUXINT);
        else
            want[0] = !!(k->ram[0] & I8042_CTR_KBDINT);
    }
    for (unsigned i = 0; i < 2; i++) {
        if (popped && want[i])
            i8042_set_irq(k, i, 0);
        i8042_set_irq(k, i, want[i]);
    }
}

void i8042_reset(struct i8042 *k)
{
    pthread_mutex_lock(&k->lock);
    memset(k->ram, 0, sizeof(k->ram));
    k->ram[0] = I8042_CTR_DEFAULT;
    k->outport = I8042_OUT_DEFAULT;
    k->a2 = false;
    k->param_cmd = k->kbd_cmd = 0;
    memset(k->queue, 0, sizeof(k->queue));
    memset(k->flags, 0, sizeof(k->flags));
    k->head = k->count = 0;
    k->last = 0;
    k->reset = false;
    memset(k->seen, 0, sizeof(k->seen));
    i8042_update_irq(k, false);
    pthread_mutex_unlock(&k->lock);
}

static uint8_t i8042_read_data(struct i8042 *k)
{
    if (k->count) {
        k->last = k->queue[k->head];
        k->head = (k->head + 1) % I8042_QUEUE;
        k->count--;
    }
    return k->last; /* an empty buffer reads its last byte again */
}

/* A keyboard command or parameter, answered as a PS/2 MF2 keyboard. */
static void i8042_kbd_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->kbd_cmd;

    k->kbd_cmd = 0;
    if (cmd && v < 0x80) { /* a parameter; >= 0x80 is a new command */
        i8042_push(k, KBD_ACK, 0);
        if (cmd == 0xf0 && v == 0)
            i8042_push(k, 0x02, 0); /* current scan code set: 2 */
        return;
    }
    switch (v) {
    case 0xff: /* reset */
        i8042_push(k, KBD_ACK, 0);
        i8042_push(k, KBD_BAT_OK, 0);
        break;
    case 0xf2: /* identify: MF2 keyboard */
        i8042_push(k, KBD_ACK, 0);
        i8042_push(k, 0xab, 0);
        i8042_push(k, 0x83, 0);
        break;
    case 0xee:
        i8042_push(k, KBD_ECHO, 0);
        break;
    case 0xed: /* set LEDs */
    case 0xf0: /* get/set scan code set */
    case 0xf3: /* set typematic rate */
        k->kbd_cmd = v;
        i8042_push(k, KBD_ACK, 0);
        break;
    default: /* enable, disable, defaults, ...: nothing to do */
        i8042_push(k, KBD_ACK, 0);
        break;
    }
}

static void i8042_write_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v;
    if (!(v & I8042_OUT_RESET))
        k->reset = true;
}

/* The data byte of a controller command that takes one. */
static void i8042_cmd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    if (cmd >= 0x60 && cmd < 0x60 + I8042_RAM)
        k->ram[cmd - 0x60] = v;
    else if (cmd == 0xd1)
        i8042_write_outport(k, v);
    else if (cmd == 0xd2)
        i8042_push(k, v, 0);
    else /* 0xd3, 0xd4: nothing on the AUX port answers */
        i8042_push(k, AUX_NO_REPLY, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
}

static void i8042_write_data(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->param_cmd;

    k->a2 = false;
    k->param_cmd = 0;
    if (cmd)
        i8042_cmd_param(k, cmd, v);
    else
        i8042_kbd_write(k, v);
}

static void i8042_unsupported(struct i8042 *k, uint8_t cmd)
{
    if (k->seen[cmd / 8] & 1u << cmd % 8)
        return;
    k->seen[cmd / 8] |= (uint8_t)(1u << cmd % 8);
    snprintf(k->report, sizeof(k->report),
             "i8042: command 0x%02x is not supported; ignored", cmd);
}

/* Commands that answer with one byte, or change a bit of the CTR. */
static bool i8042_simple_cmd(struct i8042 *k, uint8_t cmd)
{
    switch (cmd) {
    case 0xa4: /* password installed? no */
        i8042_push(k, 0xf1, 0);
        return true;
    case 0xa7:
        k->ram[0] |= I8042_CTR_AUXDIS;
        return true;
    case 0xa8:
        k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
        return true;
    case 0xa9: /* AUX interface test: see the top of this file */
        i8042_push(k, AUX_TEST_CLOCK_HIGH, 0);
        return true;
    case 0xaa: /* self test: passed, which also sets SYS */
        k->ram[0] |= I8042_CTR_SYS;
        i8042_push(k, 0x55, 0);
        return true;
    case 0xab: /* keyboard interface test: lines ok */
        i8042_push(k, 0x00, 0);
        return true;
    case 0xad:
        k->ram[0] |= I8042_CTR_KBDDIS;
        return true;
    case 0xae:
        k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
        return true;
    case 0xd0:
        i8042_push(k, k->outport, 0);
        return true;
    default:
        return false;
    }
}

/* Pulses the output port bits 0-3 that are 0 in a command 0xf0-0xff. */
static void i8042_pulse(struct i8042 *k, uint8_t cmd)
{
    if (!(cmd & I8042_OUT_RESET))
        k->reset = true;
}

static void i8042_write_cmd(struct i8042 *k, uint8_t cmd)
{
    k->a2 = true;
    k->param_cmd = 0; /* a command cancels one waiting for its byte */
    if (cmd >= 0x20 && cmd < 0x20 + I8042_RAM)
        i8042_push(k, k->ram[cmd - 0x20], 0);
    else if ((cmd >= 0x60 && cmd < 0x60 + I8042_RAM) ||
             (cmd >= 0xd1 && cmd <= 0xd4))
        k->param_cmd = cmd;
    else if (cmd >= 0xf0)
        i8042_pulse(k, cmd);
    else if (!i8042_simple_cmd(k, cmd))
        i8042_unsupported(k, cmd);
}

/* Ends the access: IRQs, then the report or reset, without the lock. */
static void i8042_finish(struct i8042 *k, unsigned vcpu, bool popped)
{
    char report[sizeof(k->report)];
    bool reset = k->reset;

    i8042_update_irq(k, popped);
    memcpy(report, k->report, sizeof(report));
    k->report[0] = 0;
    k->reset = false;
    pthread_mutex_unlock(&k->lock);
    if (report[0])
        k->env.report(k->env.machine, report);
    if (reset)
        k->env.end(k->env.machine, vcpu, KVMRUN_END_REBOOT, 0,
                   "guest requested a reset (i8042)");
}

void i8042_data_io(void *dev, const struct bus_access *a)
{
    struct i8042 *k = dev;
    bool popped = false;

    pthread_mutex_lock(&k->lock);
    for (unsigned i = 0; i < a->size; i++) {
        if (a->offset + i != 0) {
            if (!a->write)
                a->data[i] = 0xff; /* past the one port */
        } else if (a->write) {
            i8042_write_data(k, a->data[i]);
        } else {
            popped = k->count > 0;
            a->data[i] = i8042_read_data(k);
        }
    }
    i8042_finish(k, a->vcpu, popped);
}

void i8042_cmd_io(void *dev, const struct bus_access *a)
{
    struct i8042 *k = dev;

    pthread_mutex_lock(&k->lock);
    for (unsigned i = 0; i < a->size; i++) {
        if (a->offset + i != 0) {
            if (!a->write)
                a->data[i] = 0xff;
        } else if (a->write) {
            i8042_write_cmd(k, a->data[i]);
        } else {
            a->data[i] = i8042_status(k);
        }
    }
    i8042_finish(k, a->vcpu, false);
}

void i8042_save(struct i8042 *k, struct i8042_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&k->lock);
    memcpy(st->ram, k->ram, sizeof(st->ram));
    st->outport = k->outport;
    st->a2 = k->a2;
    st->param_cmd = k->param_cmd;
    st->kbd_cmd = k->kbd_cmd;
    memcpy(st->queue, k->queue, sizeof(st->queue));
    memcpy(st->flags, k->flags, sizeof(st->flags));
    st->head = (uint8_t)k->head;
    st->count = (uint8_t)k->count;
    st->last = k->last;
    st->reset = k->reset;
    st->irq_level[0] = (uint8_t) !!k->irq_level[0];
    st->irq_level[1] = (uint8_t) !!k->irq_level[1];
    memcpy(st->seen, k->seen, sizeof(st->seen));
    pthread_mutex_unlock(&k->lock);
}

void i8042_load(struct i8042 *k, const struct i8042_state *st)
{
    pthread_mutex_lock(&k->lock);
    memcpy(k->ram, st->ram, sizeof(k->ram));
    k->outport = st->outport;
    k->a2 = st->a2 != 0;
    k->param_cmd = st->param_cmd;
    k->kbd_cmd = st->kbd_cmd;
    memcpy(k->queue, st->queue, sizeof(k->queue));
    memcpy(k->flags, st->flags, sizeof(k->flags));
    k->head = st->head % I8042_QUEUE;
    k->count = st->count <= I8042_QUEUE ? st->count : I8042_QUEUE;
    k->last = st->last;
    k->reset = st->reset != 0;
    memcpy(k->seen, st->seen, sizeof(k->seen));
    for (unsigned i = 0; i < 2; i++)
        i8042_set_irq(k, i, st->irq_level[i] != 0);
    pthread_mutex_unlock(&k->lock);
}

static int i8042_dev_init(void *dev, const struct dev_ctx *ctx)
{
    i8042_init(dev, ctx->env);
    return 0;
}

static void i8042_dev_reset(void *dev)
{
    i8042_reset(dev);
}

static void i8042_dev_fini(void *dev)
{
    i8042_fini(dev);
}

static void i8042_dev_save(void *dev, void *state)
{
    i8042_save(dev, state);
}

static void i8042_dev_load(void *dev, const void *state)
{
    i8042_load(dev, state);
}

static const struct dev_io i8042_dev_pio[] = {
    {I8042_DATA, 1, i8042_data_io},
    {I8042_CMD, 1, i8042_cmd_io},
    {0, 0, NULL},
};

const struct dev_desc i8042_dev = {
    .name = "i8042",
    .size = sizeof(struct i8042),
    .pio = i8042_dev_pio,
    .init = i8042_dev_init,
    .reset = i8042_dev_reset,
    .fini = i8042_dev_fini,
    .snap_version = 1,
    .snap_size = sizeof(struct i8042_state),
    .save = i8042_dev_save,
    .load = i8042_dev_load,
};
