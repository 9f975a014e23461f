/* gdb_arch.h: what the gdb stub needs of the architecture: register
 * layouts and target descriptions, address translation, debug
 * registers (src/arch/x86/gdb_x86.c). */
#ifndef KVMRUN_GDB_ARCH_H
#define KVMRUN_GDB_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The register layout served to one gdb connection. */
enum gdb_layout { GDB_LAYOUT_64, GDB_LAYOUT_32, GDB_LAYOUT_16 };

/* The layout for a vCPU in its mode now (long, protected, real). */
enum gdb_layout gdb_arch_layout(int vcpu_fd);

/* The target description (target.xml) of a layout, NUL-terminated. */
const char *gdb_arch_xml(enum gdb_layout layout);

/* All registers ('g'): bytes written into buf, or -errno. */
int gdb_arch_read_all(int fd, enum gdb_layout l, uint8_t *buf, size_t cap);

/* One register ('p'): its size in bytes, -ENOENT for no such register,
 * or -errno. buf holds at least 16 bytes. */
int gdb_arch_read_one(int fd, enum gdb_layout l, unsigned regno, uint8_t *buf);

/* 'G' and 'P': 0, -EINVAL (wrong size, a segment selector changed:
 * kvmrun does not reload descriptors), -ENOENT or -errno. */
int gdb_arch_write_all(int fd, enum gdb_layout l, const uint8_t *buf,
                       size_t len);
int gdb_arch_write_one(int fd, enum gdb_layout l, unsigned regno,
                       const uint8_t *buf, size_t len);

/* The program counter's register number in a layout. */
unsigned gdb_arch_pc_regno(enum gdb_layout l);

/* Guest-virtual to guest-physical on a vCPU (KVM_TRANSLATE): 0, or
 * -EFAULT when not mapped, or -errno. */
int gdb_arch_translate(int fd, uint64_t gva, uint64_t *gpa);

/* A hardware breakpoint or watchpoint in a debug register. */
struct gdb_hw {
    bool used;
    int type; /* 1 exec, 2 write, 3 read (as access), 4 access */
    uint64_t addr;
    unsigned len; /* 1, 2, 4 or 8; 1 for exec */
};

#define GDB_NHW 4
#define GDB_BP_INSN 0xcc /* int3 */

/* KVM_SET_GUEST_DEBUG: off (enable false), or on with the software
 * breakpoints intercepted, the debug registers, single-step (blockirq:
 * no interrupt delivered during the step). 0 or -errno. */
int gdb_arch_set_debug(int fd, bool enable, bool sw, const struct gdb_hw *hw,
                       bool step, bool blockirq);

/* What a debug exit (kvm_run's debug.arch) was. */
enum gdb_exit_kind {
    GDB_EXIT_SW,   /* an int3 (#BP) */
    GDB_EXIT_STEP, /* a single step done */
    GDB_EXIT_HW,   /* debug register *hw_index hit */
    GDB_EXIT_OTHER,
};

enum gdb_exit_kind gdb_arch_exit_kind(uint32_t exception, uint64_t dr6,
                                      int *hw_index);

/* Re-injects a #BP the guest itself executed (not a breakpoint of gdb's)
 * with the next entry: 0 or -errno. */
int gdb_arch_inject_bp(int fd, const struct gdb_hw *hw, bool sw);

#endif
