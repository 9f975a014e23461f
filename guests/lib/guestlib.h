/* guestlib.h: what freestanding test guests share: ports, serial, exit. */
#ifndef KVMRUN_GUESTLIB_H
#define KVMRUN_GUESTLIB_H

#include <stdarg.h>
#include <stdint.h>

#define SERIAL_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define POWEROFF_PORT 0x604
#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline unsigned long read_cr0(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline unsigned long read_cr4(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

/* Serial output, serialized between vCPUs by a spinlock. */
void g_lock(void);
void g_unlock(void);
void g_puts(const char *s);
/* %s %c %d %u %x %lx %llx %llu; no widths. */
void g_printf(const char *fmt, ...);

/* fw_cfg: reads len bytes of item key (little-endian values). */
void fw_cfg_read(uint16_t key, void *buf, unsigned len);

/* Ends the VM: status 0, or (code << 1) | 1 through debug-exit. */
__attribute__((noreturn)) void g_poweroff(void);
__attribute__((noreturn)) void g_exit(uint8_t code);

/* The guest's entry, called on each vCPU with its index and the count. */
int guest_main(unsigned long vcpu, unsigned long ncpus);

#endif
