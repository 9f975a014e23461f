/* serial.c: a 16550A UART whose transmitter feeds an output buffer. */
#include "dev/serial.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/serial_reg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* IIR bits 6-7: the FIFOs are enabled (a 16550A's). */
#define IIR_FIFO_ENABLED 0xc0
/* Modem status with the lines a terminal would raise. */
#define MSR_IDLE (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)
/* The bits each register keeps; MCR's OUT2 gates the interrupt to the
 * PIC on PCs. */
#define IER_BITS (UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI)
#define FCR_BITS                                                               \
    (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_R_TRIG_11)
#define MCR_BITS                                                               \
    (UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2 |             \
     UART_MCR_LOOP)

void serial_init(struct serial *s, struct outbuf *out, unsigned irq,
                 const struct dev_env *env)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->out = out;
    s->irq = irq;
    s->env = *env;
    serial_reset(s);
}

void serial_fini(struct serial *s)
{
    pthread_mutex_destroy(&s->lock);
}

static void serial_rx_push(struct serial *s, uint8_t byte)
{
    if (s->rx_count == SERIAL_FIFO) {
        s->overrun = true; /* the byte is lost, as on the chip */
        return;
    }
    s->rx[(s->rx_head + s->rx_count++) % SERIAL_FIFO] = byte;
}

/*
 * The transmitter is busy while the output buffer lacks room for a FIFO's
 * worth of bytes (its reader is slow): LSR's THRE and TEMT stay clear and
 * no THR-empty interrupt comes until serial_tx_room(). A driver that
 * waits for THRE before writing up to 16 bytes, as Linux's 8250 and
 * guests/lib do, never loses one. Loopback keeps the transmitter off the
 * wire. Asking arms the buffer's call back.
 */
static bool serial_tx_busy(struct serial *s)
{
    return !(s->mcr & UART_MCR_LOOP) && s->out && !outbuf_room(s->out);
}

static void serial_write_thr(struct serial *s, uint8_t byte)
{
    /* A byte written while the buffer is full is dropped, as a real FIFO
     * loses it; the buffer counts and reports it. */
    if (s->mcr & UART_MCR_LOOP)
        serial_rx_push(s, byte);
    else if (s->out)
        outbuf_put(s->out, byte);
    /* Writing THR clears a THR-empty interrupt; the byte leaves at once
     * unless the buffer is full, and then serial_tx_room() sets it. */
    s->thr_irq_pending = !serial_tx_busy(s);
}

static uint8_t serial_iir(struct serial *s)
{
    uint8_t fifo = s->fcr & UART_FCR_ENABLE_FIFO ? IIR_FIFO_ENABLED : 0;

    if ((s->ier & UART_IER_RDI) && s->rx_count)
        return fifo | UART_IIR_RDI;
    if ((s->ier & UART_IER_THRI) && s->thr_irq_pending) {
        s->thr_irq_pending = 0; /* reading IIR acknowledges THRE */
        return fifo | UART_IIR_THRI;
    }
    return fifo | UART_IIR_NO_INT;
}

/* What IIR would say, without acknowledging anything. */
static bool serial_irq_pending(const struct serial *s)
{
    return ((s->ier & UART_IER_RDI) && s->rx_count) ||
           ((s->ier & UART_IER_THRI) && s->thr_irq_pending);
}

/* Drives the interrupt line from the current state. Under s->lock. */
static void serial_update_irq(struct serial *s)
{
    int level = serial_irq_pending(s) && (s->mcr & UART_MCR_OUT2) &&
                !(s->mcr & UART_MCR_LOOP);

    if (level == s->irq_level || !s->env.irq)
        return;
    s->irq_level = level;
    s->env.irq(s->env.machine, s->irq, level);
}

void serial_reset(struct serial *s)
{
    pthread_mutex_lock(&s->lock);
    s->ier = s->mcr = s->scr = s->dlm = s->fcr = 0;
    s->dll = 0x0c;           /* 9600 baud, what firmware leaves behind */
    s->lcr = UART_LCR_WLEN8; /* 8N1 */
    s->thr_irq_pending = 0;
    memset(s->rx, 0, sizeof(s->rx));
    s->rx_head = s->rx_count = 0;
    s->overrun = false;
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static uint8_t serial_msr(const struct serial *s)
{
    if (!(s->mcr & UART_MCR_LOOP))
        return MSR_IDLE;
    /* Loopback: each modem control line drives a status line. */
    return (s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
           (s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
           (s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
           (s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
    uint8_t v = 0;

    switch (reg) {
    case UART_RX:
        if (s->lcr & UART_LCR_DLAB)
            return s->dll;
        if (s->rx_count) {
            v = s->rx[s->rx_head];
            s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
            s->rx_count--;
        }
        return v;
    case UART_IER:
        return s->lcr & UART_LCR_DLAB ? s->dlm : s->ier;
    case UART_IIR:
        return serial_iir(s);
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        v = (serial_tx_busy(s) ? 0 : UART_LSR_THRE | UART_LSR_TEMT) |
            (s->rx_count ? UART_LSR_DR : 0) | (s->overrun ? UART_LSR_OE : 0);
        s->overrun = false; /* reading LSR clears the error bits */
        return v;
    case UART_MSR:
        return serial_msr(s);
    default:
        return s->scr;
    }
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
    switch (reg) {
    case UART_TX:
        if (s->lcr & UART_LCR_DLAB)
            s->dll = v;
        else
            serial_write_thr(s, v);
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->dlm = v;
            break;
        }
        if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI) &&
            !serial_tx_busy(s))
            s->thr_irq_pending = 1; /* enabling THRI on an empty THR */
        s->ier = v & IER_BITS;
        break;
    case UART_FCR:
        s->fcr = v & FCR_BITS;
        if (v & UART_FCR_CLEAR_RCVR)
            s->rx_count = 0;
        break;
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR:
        s->mcr = v & MCR_BITS;
        break;
    case UART_SCR:
        s->scr = v;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}

void serial_io(void *dev, const struct bus_access *a)
{
    struct serial *s = dev;

    pthread_mutex_lock(&s->lock);
    /* Wider accesses touch consecutive registers, one byte each. */
    for (unsigned i = 0; i < a->size; i++) {
        unsigned reg = (unsigned)(a->offset + i);

        if (reg >= SERIAL_NPORTS) {
            if (!a->write)
                a->data[i] = 0xff;
        } else if (a->write) {
            serial_write(s, reg, a->data[i]);
        } else {
            a->data[i] = serial_read(s, reg);
        }
    }
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

void serial_tx_room(void *dev)
{
    struct serial *s = dev;

    pthread_mutex_lock(&s->lock);
    if (!serial_tx_busy(s)) /* the guest may have filled it again */
        s->thr_irq_pending = 1;
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

void serial_start(struct serial *s)
{
    pthread_mutex_lock(&s->lock);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    pthread_mutex_lock(&s->lock);
    /* Loopback disconnects the receiver from the outside world. */
    while (n < len && s->rx_count < SERIAL_FIFO && !(s->mcr & UART_MCR_LOOP))
        serial_rx_push(s, buf[n++]);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return n;
}

int serial_describe(struct serial *s, char *buf, size_t len)
{
    unsigned long long held = s->out ? outbuf_held(s->out) : 0;
    int n;

    pthread_mutex_lock(&s->lock);
    n = snprintf(buf, len,
                 "serial: IER %#04x MCR %#04x LCR %#04x FCR %#04x, %u bytes "
                 "received and unread%s, THR-empty interrupt %s, IRQ %u %s, "
                 "%llu bytes of output not yet written, transmitter %s",
                 s->ier, s->mcr, s->lcr, s->fcr, s->rx_count,
                 s->overrun ? " (overrun)" : "",
                 s->thr_irq_pending ? "pending" : "clear", s->irq,
                 s->irq_level ? "high" : "low", held,
                 serial_tx_busy(s) ? "busy" : "ready");
    pthread_mutex_unlock(&s->lock);
    return n;
}

void serial_save(struct serial *s, struct serial_state *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&s->lock);
    st->ier = s->ier;
    st->lcr = s->lcr;
    st->mcr = s->mcr;
    st->scr = s->scr;
    st->dll = s->dll;
    st->dlm = s->dlm;
    st->fcr = s->fcr;
    st->overrun = s->overrun;
    /* The output buffer is the host's, not the guest's: a restored UART
     * starts with it empty, so a transmitter busy now is idle there, its
     * THR-empty interrupt due (serial_start() raises it). */
    st->thr_irq_pending = (uint8_t)(s->thr_irq_pending || serial_tx_busy(s));
    st->irq_level = (uint8_t) !!s->irq_level;
    st->rx_head = (uint8_t)s->rx_head;
    st->rx_count = (uint8_t)s->rx_count;
    memcpy(st->rx, s->rx, sizeof(st->rx));
    pthread_mutex_unlock(&s->lock);
}

void serial_load(struct serial *s, const struct serial_state *st)
{
    int level;

    pthread_mutex_lock(&s->lock);
    s->ier = st->ier;
    s->lcr = st->lcr;
    s->mcr = st->mcr;
    s->scr = st->scr;
    s->dll = st->dll;
    s->dlm = st->dlm;
    s->fcr = st->fcr;
    s->overrun = st->overrun != 0;
    s->thr_irq_pending = st->thr_irq_pending != 0;
    s->rx_head = st->rx_head % SERIAL_FIFO;
    s->rx_count = st->rx_count <= SERIAL_FIFO ? st->rx_count : SERIAL_FIFO;
    memcpy(s->rx, st->rx, sizeof(s->rx));
    level = st->irq_level != 0;
    s->irq_level = level;
    if (level && s->env.irq)
        s->env.irq(s->env.machine, s->irq, 1);
    pthread_mutex_unlock(&s->lock);
}

/* ---- The device: the UART, its output buffer and the buffer's thread ---- */

struct serial_dev {
    struct serial uart;
    struct outbuf out; /* the vCPU threads never write to serial_fd */
    struct dev_env env;
};

static int serial_dev_start_output(struct serial_dev *d)
{
    int r = kvmrun_thread_create(&d->out.thread, outbuf_thread, &d->out);

    if (r != 0)
        return err_set(r, "cannot start the serial output thread: %s",
                       strerror(r));
    d->out.thread_live = true;
    return 0;
}

/* The thread signal interrupts a write() that blocks at teardown. */
static int serial_dev_init(void *dev, const struct dev_ctx *ctx)
{
    struct serial_dev *d = dev;
    const struct outbuf_client client = {serial_tx_room, &d->uart,
                                         ctx->env->report, ctx->env->machine};
    int r = outbuf_init(&d->out, "serial", ctx->cfg->serial_fd, OUTBUF_SIZE,
                        SERIAL_FIFO, ctx->thread_signal, &client);

    if (r < 0)
        return r;
    d->env = *ctx->env;
    serial_init(&d->uart, &d->out, ctx->irq, ctx->env);
    if (ctx->cfg->serial_fd >= 0 && (r = serial_dev_start_output(d)) < 0) {
        outbuf_fini(&d->out);
        serial_fini(&d->uart);
    }
    return r;
}

static int serial_dev_flush(void *dev)
{
    struct serial_dev *d = dev;
    uint64_t held;

    if (outbuf_flush(&d->out, OUTBUF_FLUSH_STALL_MS, OUTBUF_FLUSH_MAX_MS,
                     &held) == 0)
        return 0;
    return err_set(ETIMEDOUT,
                   "serial: %" PRIu64 " byte%s of the guest's output not "
                   "written: the reader %s",
                   held, held == 1 ? "" : "s", outbuf_why(&d->out));
}

/*
 * The output is written first, bounded, unless a flush (the CLI's,
 * before its last words) gave up and the reader took nothing since; what
 * is left is dropped, and said once. The thread ends before the UART it
 * calls into.
 */
static void serial_dev_fini(void *dev)
{
    struct serial_dev *d = dev;
    uint64_t dropped;
    char line[160];

    if (!outbuf_stalled(&d->out))
        serial_dev_flush(d);
    dropped = outbuf_fini(&d->out);
    if (dropped) {
        snprintf(line, sizeof(line),
                 "serial: %" PRIu64 " byte%s of the guest's output dropped "
                 "at exit: the reader %s",
                 dropped, dropped == 1 ? "" : "s", outbuf_why(&d->out));
        d->env.log(d->env.machine, line);
    }
    serial_fini(&d->uart);
}

static void serial_dev_reset(void *dev)
{
    serial_reset(&((struct serial_dev *)dev)->uart);
}

static void serial_dev_start(void *dev)
{
    serial_start(&((struct serial_dev *)dev)->uart);
}

static void serial_dev_save(void *dev, void *state)
{
    serial_save(&((struct serial_dev *)dev)->uart, state);
}

static void serial_dev_load(void *dev, const void *state)
{
    serial_load(&((struct serial_dev *)dev)->uart, state);
}

static size_t serial_dev_input(void *dev, const uint8_t *buf, size_t len)
{
    return serial_receive(&((struct serial_dev *)dev)->uart, buf, len);
}

static int serial_dev_describe(void *dev, char *buf, size_t len)
{
    return serial_describe(&((struct serial_dev *)dev)->uart, buf, len);
}

static void serial_dev_io(void *dev, const struct bus_access *access)
{
    serial_io(&((struct serial_dev *)dev)->uart, access);
}

static const struct dev_io serial_dev_pio[] = {
    {0, SERIAL_NPORTS, serial_dev_io},
    {0, 0, NULL},
};

static const struct dev_console serial_dev_console = {
    serial_dev_input,
    serial_dev_flush,
    serial_dev_describe,
};

const struct dev_desc serial_dev = {
    .name = "serial",
    .size = sizeof(struct serial_dev),
    .pio = serial_dev_pio,
    .init = serial_dev_init,
    .reset = serial_dev_reset,
    .fini = serial_dev_fini,
    .start = serial_dev_start,
    .snap_version = 1,
    .snap_size = sizeof(struct serial_state),
    .save = serial_dev_save,
    .load = serial_dev_load,
    .console = &serial_dev_console,
};
