/* guestlib.c: serial printf, fw_cfg, power-off for freestanding guests. */
#include "guestlib.h"

static volatile int print_lock;

void g_lock(void)
{
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

void g_unlock(void)
{
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

void g_puts(const char *s)
{
    while (*s) {
        while (!(inb(SERIAL_PORT + 5) & 0x20))
            ; /* transmitter not empty */
        outb(SERIAL_PORT, (uint8_t)*s++);
    }
}

/* v / base by shifts: 32-bit guests have no libgcc for 64-bit division. */
static unsigned long long divmod(unsigned long long v, unsigned base,
                                 unsigned *rem)
{
    unsigned long long q = 0, r = 0;

    for (int bit = 63; bit >= 0; bit--) {
        r = r << 1 | ((v >> bit) & 1);
        if (r >= base) {
            r -= base;
            q |= 1ULL << bit;
        }
    }
    *rem = (unsigned)r;
    return q;
}

static void put_num(unsigned long long v, unsigned base, int neg)
{
    char buf[24];
    unsigned digit;
    int i = 0;

    if (neg)
        g_puts("-");
    do {
        v = divmod(v, base, &digit);
        buf[i++] = "0123456789abcdef"[digit];
    } while (v != 0);
    while (i > 0) {
        char c[2] = {buf[--i], 0};

        g_puts(c);
    }
}

static void put_arg(char conv, int longs, va_list *ap)
{
    unsigned long long u;
    char c[2] = {0, 0};

    if (conv == 's') {
        g_puts(va_arg(*ap, const char *));
        return;
    }
    if (conv == 'c') {
        c[0] = (char)va_arg(*ap, int);
        g_puts(c);
        return;
    }
    if (conv == 'd') {
        long long d = longs ? va_arg(*ap, long long) : va_arg(*ap, int);

        put_num(d < 0 ? 0ULL - (unsigned long long)d : (unsigned long long)d,
                10, d < 0);
        return;
    }
    u = longs == 2   ? va_arg(*ap, unsigned long long)
        : longs == 1 ? va_arg(*ap, unsigned long)
                     : va_arg(*ap, unsigned);
    put_num(u, conv == 'x' ? 16 : 10, 0);
}

void g_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        int longs = 0;
        char c[2] = {*fmt, 0};

        if (*fmt != '%') {
            g_puts(c);
            continue;
        }
        while (*++fmt == 'l')
            longs++;
        put_arg(*fmt, longs, &ap);
    }
    va_end(ap);
}

void fw_cfg_read(uint16_t key, void *buf, unsigned len)
{
    uint8_t *p = buf;

    outw(FW_CFG_SELECTOR, key);
    for (unsigned i = 0; i < len; i++)
        p[i] = inb(FW_CFG_DATA);
}

void g_poweroff(void)
{
    outw(POWEROFF_PORT, 0x2000);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void g_exit(uint8_t code)
{
    outb(DEBUG_EXIT_PORT, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}
