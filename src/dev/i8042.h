/* i8042.h: the PC keyboard controller, a keyboard and no mouse. */
#ifndef KVMRUN_I8042_H
#define KVMRUN_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/pc.h"
#include "bus.h"
#include "dev/dev.h"

/* Two one-port ranges that share the device, from its base. */
#define I8042_DATA 0 /* the data port */
#define I8042_CMD 4  /* write: command; read: status */

/* The PC's lines for the keyboard and the AUX port (mouse). */
#define I8042_KBD_IRQ PC_KBD_IRQ
#define I8042_AUX_IRQ PC_AUX_IRQ

/* Status register. */
#define I8042_STR_OBF 0x01     /* a byte waits at the data port */
#define I8042_STR_IBF 0x02     /* never set: input is taken at once */
#define I8042_STR_SYS 0x04     /* copy of the command byte's SYS bit */
#define I8042_STR_A2 0x08      /* the last write was a command */
#define I8042_STR_UNLOCK 0x10  /* keyboard not inhibited by the keylock */
#define I8042_STR_AUXDATA 0x20 /* the waiting byte is from the AUX port */
#define I8042_STR_TIMEOUT 0x40 /* ... and is a transmit timeout's 0xfe */

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40
/* Keyboard interrupt on, SYS (self test passed), no AUX, no translation
 * (this model never translates scan codes, so it does not claim to). */
#define I8042_CTR_DEFAULT (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS)

/* Output port: bit 0 low holds the CPU in reset; bit 1 gates A20. */
#define I8042_OUT_RESET 0x01
#define I8042_OUT_A20 0x02
#define I8042_OUT_DEFAULT (I8042_OUT_RESET | I8042_OUT_A20)

#define I8042_RAM 32
#define I8042_QUEUE 16

struct i8042 {
    pthread_mutex_t lock; /* leaf lock; env.irq is called under it */
    struct dev_env env;
    uint8_t ram[I8042_RAM]; /* ram[0] is the command byte */
    uint8_t outport;
    bool a2;                    /* the last write was to the command port */
    uint8_t param_cmd;          /* controller command awaiting a data byte */
    uint8_t kbd_cmd;            /* keyboard command awaiting its parameter */
    uint8_t queue[I8042_QUEUE]; /* bytes for the guest to read */
    uint8_t flags[I8042_QUEUE]; /* their AUXDATA/TIMEOUT status bits */
    unsigned head, count;
    uint8_t last;          /* what the data port reads when empty */
    int irq_level[2];      /* keyboard, AUX: as last given to env.irq */
    bool reset;            /* the guest pulsed the reset line */
    uint8_t seen[256 / 8]; /* unsupported commands already reported */
    char report[96];       /* a line to report once the lock is dropped */
};

void i8042_init(struct i8042 *k, const struct dev_env *env);
void i8042_fini(struct i8042 *k);

/* The power-on state: command byte, output port, empty queue, lines low. */
void i8042_reset(struct i8042 *k);

/* Bus handlers: the data port (0x60) and the command/status port (0x64). */
void i8042_data_io(void *dev, const struct bus_access *access);
void i8042_cmd_io(void *dev, const struct bus_access *access);

/* The guest-visible state, for snapshots (no lock, no pointers). */
struct i8042_state {
    uint8_t ram[I8042_RAM];
    uint8_t outport, a2, param_cmd, kbd_cmd;
    uint8_t queue[I8042_QUEUE];
    uint8_t flags[I8042_QUEUE];
    uint8_t head, count, last, reset;
    uint8_t irq_level[2], pad[2];
    uint8_t seen[256 / 8];
};

/* Copies the state out; loads it back (clamped, any bytes are safe),
 * raising the IRQ lines that were raised when saved. */
void i8042_save(struct i8042 *k, struct i8042_state *st);
void i8042_load(struct i8042 *k, const struct i8042_state *st);

/* The device. */
extern const struct dev_desc i8042_dev;

#endif
