/* mb_smp.c: a multiboot SMP guest: the BSP checks fw_cfg's CPU count and
 * RAM size against multiboot's, wakes every AP with INIT/SIPI through its
 * local APIC, each AP prints its APIC ID, and the BSP exits through the
 * debug-exit port with 0x20 | the CPU count once all are up. */
#include "guestlib.h"

#define TRAMPOLINE 0x8000 /* SIPI vector 8 */
#define LAPIC 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_ALL_BUT_SELF 0xc0000
#define ICR_BUSY 0x1000

struct mb_info {
    uint32_t flags, mem_lower, mem_upper;
};

extern const char tramp_start[], tramp_end[], tramp_gdtr[];
static volatile unsigned aps_up;

int mb_main(uint32_t magic, const struct mb_info *mb);
void ap_main(void);

static uint32_t lapic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(LAPIC + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(LAPIC + reg) = v;
}

static unsigned cpuid_apic_id(void)
{
    uint32_t r[4];

    cpuid(1, 0, r);
    return r[1] >> 24;
}

void ap_main(void)
{
    unsigned id = lapic_read(LAPIC_ID) >> 24;

    g_lock();
    g_printf("AP: apic id %u%s\n", id,
             cpuid_apic_id() == id ? "" : " (CPUID disagrees)");
    g_unlock();
    __atomic_add_fetch(&aps_up, 1, __ATOMIC_SEQ_CST);
}

static void send_ipi(uint32_t icr)
{
    lapic_write(LAPIC_ICR_HI, 0);
    lapic_write(LAPIC_ICR_LO, icr);
    while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
        __asm__ volatile("pause");
}

/* INIT, then two STARTUPs, to every AP at once (the MP spec's dance). */
static void start_aps(void)
{
    char *t = (char *)TRAMPOLINE;

    for (const char *p = tramp_start; p < tramp_end; p++)
        *t++ = *p;
    __asm__ volatile(
        "sgdt %0"
        : "=m"(*(char(*)[6])(TRAMPOLINE + (tramp_gdtr - tramp_start))));
    lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100);
    send_ipi(ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | ICR_INIT);
    for (int i = 0; i < 2; i++)
        send_ipi(ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | ICR_STARTUP |
                 (TRAMPOLINE >> 12));
}

/* Waits (boundedly) until n APs reported. */
static int wait_aps(unsigned n)
{
    for (unsigned long long spins = 0; spins < 4000000000ULL; spins++) {
        if (__atomic_load_n(&aps_up, __ATOMIC_SEQ_CST) == n)
            return 0;
        __asm__ volatile("pause");
    }
    return -1;
}

int mb_main(uint32_t magic, const struct mb_info *mb)
{
    uint64_t ram = 0;
    uint16_t cpus = 0;

    fw_cfg_read(0x03, &ram, 8);
    fw_cfg_read(0x05, &cpus, 2);
    g_printf("BSP: apic id %u, fw_cfg %u cpus, %llu MiB, multiboot %s\n",
             lapic_read(LAPIC_ID) >> 24, cpus, (unsigned long long)(ram >> 20),
             magic == 0x2badb002 &&
                     (uint64_t)mb->mem_upper + 1024 == (ram >> 10)
                 ? "agrees"
                 : "DISAGREES");
    if (cpus > 1) {
        start_aps();
        if (wait_aps(cpus - 1u) < 0) {
            g_printf("BSP: only %u of %u APs came up\n", aps_up, cpus - 1u);
            return 1;
        }
    }
    g_lock();
    g_printf("BSP: %u CPUs up\n", cpus);
    g_unlock();
    g_exit((uint8_t)(0x20 | cpus));
}
