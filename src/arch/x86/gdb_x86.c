/* gdb_x86.c: x86 for the gdb stub: the register layouts gdb's i386 and
 * amd64 target descriptions name, KVM_TRANSLATE, the debug registers. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "gdb_arch.h"
#include "kvm_ioctl.h"

/* Where a register's value lives in KVM's structures. */
enum gdb_kind { R_GPR, R_SEG, R_ST, R_FPU, R_XMM, R_MXCSR, R_BASE, R_CR };

struct gdb_reg {
    const char *name;
    unsigned char bits, kind, idx, feature;
    const char *type;
};

/* The features of a description, in order. */
static const char *const gdb_features[] = {
    "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
    "org.gnu.gdb.i386.segments", "org.kvmrun.x86.control"};

/* kvm_regs as an array of u64: rax rbx rcx rdx rsi rdi rsp rbp r8..r15
 * rip rflags. */
enum { K_RAX, K_RBX, K_RCX, K_RDX, K_RSI, K_RDI, K_RSP, K_RBP, K_RIP = 16 };

#define GPR(n, bits, k, t)                                                     \
    {                                                                          \
        n, bits, R_GPR, k, 0, t                                                \
    }
#define SEG(n, i)                                                              \
    {                                                                          \
        n, 32, R_SEG, i, 0, "int32"                                            \
    }
#define ST(i)                                                                  \
    {                                                                          \
        "st" #i, 80, R_ST, i, 0, "i387_ext"                                    \
    }
#define FPU(n, i)                                                              \
    {                                                                          \
        n, 32, R_FPU, i, 0, "int"                                              \
    }
#define XMM(i)                                                                 \
    {                                                                          \
        "xmm" #i, 128, R_XMM, i, 1, "vec128"                                   \
    }
#define FPU_REGS                                                               \
    ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), FPU("fctrl", 0),   \
        FPU("fstat", 1), FPU("ftag", 2), FPU("fiseg", 3), FPU("fioff", 4),     \
        FPU("foseg", 5), FPU("fooff", 6), FPU("fop", 7)
#define SEG_REGS                                                               \
    SEG("cs", 0), SEG("ss", 1), SEG("ds", 2), SEG("es", 3), SEG("fs", 4),      \
        SEG("gs", 5)

static const struct gdb_reg gdb_regs64[] = {
    GPR("rax", 64, K_RAX, "int64"),
    GPR("rbx", 64, K_RBX, "int64"),
    GPR("rcx", 64, K_RCX, "int64"),
    GPR("rdx", 64, K_RDX, "int64"),
    GPR("rsi", 64, K_RSI, "int64"),
    GPR("rdi", 64, K_RDI, "int64"),
    GPR("rbp", 64, K_RBP, "data_ptr"),
    GPR("rsp", 64, K_RSP, "data_ptr"),
    GPR("r8", 64, 8, "int64"),
    GPR("r9", 64, 9, "int64"),
    GPR("r10", 64, 10, "int64"),
    GPR("r11", 64, 11, "int64"),
    GPR("r12", 64, 12, "int64"),
    GPR("r13", 64, 13, "int64"),
    GPR("r14", 64, 14, "int64"),
    GPR("r15", 64, 15, "int64"),
    GPR("rip", 64, K_RIP, "code_ptr"),
    GPR("eflags", 32, K_RIP + 1, "int32"),
    SEG_REGS,
    FPU_REGS,
    XMM(0),
    XMM(1),
    XMM(2),
    XMM(3),
    XMM(4),
    XMM(5),
    XMM(6),
    XMM(7),
    XMM(8),
    XMM(9),
    XMM(10),
    XMM(11),
    XMM(12),
    XMM(13),
    XMM(14),
    XMM(15),
    {"mxcsr", 32, R_MXCSR, 0, 1, "int"},
    {"fs_base", 64, R_BASE, 0, 2, "int64"},
    {"gs_base", 64, R_BASE, 1, 2, "int64"},
    {"cr0", 64, R_CR, 0, 3, "int64"},
    {"cr2", 64, R_CR, 2, 3, "int64"},
    {"cr3", 64, R_CR, 3, 3, "int64"},
    {"cr4", 64, R_CR, 4, 3, "int64"},
    {"cr8", 64, R_CR, 8, 3, "int64"},
    {"efer", 64, R_CR, 9, 3, "int64"},
};

static const struct gdb_reg gdb_regs32[] = {
    GPR("eax", 32, K_RAX, "int32"),
    GPR("ecx", 32, K_RCX, "int32"),
    GPR("edx", 32, K_RDX, "int32"),
    GPR("ebx", 32, K_RBX, "int32"),
    GPR("esp", 32, K_RSP, "data_ptr"),
    GPR("ebp", 32, K_RBP, "data_ptr"),
    GPR("esi", 32, K_RSI, "int32"),
    GPR("edi", 32, K_RDI, "int32"),
    GPR("eip", 32, K_RIP, "code_ptr"),
    GPR("eflags", 32, K_RIP + 1, "int32"),
    SEG_REGS,
    FPU_REGS,
    XMM(0),
    XMM(1),
    XMM(2),
    XMM(3),
    XMM(4),
    XMM(5),
    XMM(6),
    XMM(7),
    {"mxcsr", 32, R_MXCSR, 0, 1, "int"},
    /* gdb 13's i386 (not amd64) asserts on the segments feature: the
     * bases go with the control registers. */
    {"fs_base", 32, R_BASE, 0, 3, "int32"},
    {"gs_base", 32, R_BASE, 1, 3, "int32"},
    {"cr0", 32, R_CR, 0, 3, "int32"},
    {"cr2", 32, R_CR, 2, 3, "int32"},
    {"cr3", 32, R_CR, 3, 3, "int32"},
    {"cr4", 32, R_CR, 4, 3, "int32"},
    {"efer", 64, R_CR, 9, 3, "int64"},
};

#define GDB_COUNT(a) (sizeof(a) / sizeof(*(a)))

static const struct gdb_reg *gdb_table(enum gdb_layout l, unsigned *n)
{
    if (l == GDB_LAYOUT_64) {
        *n = GDB_COUNT(gdb_regs64);
        return gdb_regs64;
    }
    *n = GDB_COUNT(gdb_regs32);
    return gdb_regs32;
}

enum gdb_layout gdb_arch_layout(int fd)
{
    struct kvm_sregs s;

    if (KVM_IOCTL(fd, KVM_GET_SREGS, &s) < 0 || (s.efer & (1u << 10)))
        return GDB_LAYOUT_64; /* EFER.LMA */
    return (s.cr0 & 1) ? GDB_LAYOUT_32 : GDB_LAYOUT_16;
}

/* vec128 as gdb's own descriptions define it. */
static const char gdb_vec128[] =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/>"
    "<field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>";

static void gdb_xml_build(char *buf, size_t cap, enum gdb_layout l)
{
    static const char *const arch[] = {"i386:x86-64", "i386", "i8086"};
    unsigned n, feature = ~0u;
    const struct gdb_reg *t = gdb_table(l, &n);
    size_t o = 0;

    o += (size_t)snprintf(buf + o, cap - o,
                          "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM "
                          "\"gdb-target.dtd\"><target><architecture>%s"
                          "</architecture>",
                          arch[l]);
    for (unsigned i = 0; i < n && o < cap; i++) {
        if (t[i].feature != feature) {
            if (feature != ~0u)
                o += (size_t)snprintf(buf + o, cap - o, "</feature>");
            feature = t[i].feature;
            o += (size_t)snprintf(buf + o, cap - o, "<feature name=\"%s\">%s",
                                  gdb_features[feature],
                                  feature == 1 ? gdb_vec128 : "");
        }
        if (o < cap)
            o += (size_t)snprintf(buf + o, cap - o,
                                  "<reg name=\"%s\" bitsize=\"%u\" "
                                  "type=\"%s\"/>",
                                  t[i].name, t[i].bits, t[i].type);
    }
    if (o < cap)
        snprintf(buf + o, cap - o, "</feature></target>");
}

const char *gdb_arch_xml(enum gdb_layout l)
{
    static char xml[3][8192];

    /* Built on first use, from the stub thread only. */
    if (!xml[l][0])
        gdb_xml_build(xml[l], sizeof(xml[l]), l);
    return xml[l];
}

unsigned gdb_arch_pc_regno(enum gdb_layout l)
{
    return l == GDB_LAYOUT_64 ? 16 : 8;
}

/* A vCPU's state as the registers come from it. */
struct gdb_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
};

static int gdb_state_get(int fd, struct gdb_state *st)
{
    int r;

    if ((r = KVM_IOCTL(fd, KVM_GET_REGS, &st->regs)) < 0 ||
        (r = KVM_IOCTL(fd, KVM_GET_SREGS, &st->sregs)) < 0 ||
        (r = KVM_IOCTL(fd, KVM_GET_FPU, &st->fpu)) < 0)
        return r;
    return 0;
}

static int gdb_state_set(int fd, struct gdb_state *st)
{
    int r;

    if ((r = KVM_IOCTL(fd, KVM_SET_REGS, &st->regs)) < 0 ||
        (r = KVM_IOCTL(fd, KVM_SET_SREGS, &st->sregs)) < 0 ||
        (r = KVM_IOCTL(fd, KVM_SET_FPU, &st->fpu)) < 0)
        return r;
    return 0;
}

static struct kvm_segment *gdb_seg(struct kvm_sregs *s, unsigned i)
{
    struct kvm_segment *segs[] = {&s->cs, &s->ss, &s->ds,
                                  &s->es, &s->fs, &s->gs};

    return segs[i];
}

static uint64_t *gdb_cr(struct kvm_sregs *s, unsigned i)
{
    switch (i) {
    case 0:
        return (uint64_t *)&s->cr0;
    case 2:
        return (uint64_t *)&s->cr2;
    case 3:
        return (uint64_t *)&s->cr3;
    case 4:
        return (uint64_t *)&s->cr4;
    case 8:
        return (uint64_t *)&s->cr8;
    default:
        return (uint64_t *)&s->efer;
    }
}

/* The full tag word from FXSAVE's abridged one: 0 valid, 3 empty (the
 * zero and special classes are not told apart). */
static uint64_t gdb_ftag(uint8_t abridged)
{
    uint64_t tag = 0;

    for (unsigned i = 0; i < 8; i++)
        if (!(abridged & (1u << i)))
            tag |= 3ull << (2 * i);
    return tag;
}

static uint64_t gdb_fpu_get(const struct kvm_fpu *f, unsigned i)
{
    switch (i) {
    case 0:
        return f->fcw;
    case 1:
        return f->fsw;
    case 2:
        return gdb_ftag(f->ftwx);
    case 4:
        return f->last_ip;
    case 6:
        return f->last_dp;
    case 7:
        return f->last_opcode;
    default:
        return 0;
    }
}

static void gdb_fpu_set(struct kvm_fpu *f, unsigned i, uint64_t v)
{
    uint8_t abridged = 0;

    switch (i) {
    case 0:
        f->fcw = (uint16_t)v;
        break;
    case 1:
        f->fsw = (uint16_t)v;
        break;
    case 2:
        for (unsigned k = 0; k < 8; k++)
            if (((v >> (2 * k)) & 3) != 3)
                abridged |= (uint8_t)(1u << k);
        f->ftwx = abridged;
        break;
    case 4:
        f->last_ip = v;
        break;
    case 6:
        f->last_dp = v;
        break;
    case 7:
        f->last_opcode = (uint16_t)v;
        break;
    default:
        break;
    }
}

/* Where reg's bytes are (little-endian, as gdb wants them): a pointer
 * into st, or into tmp for values that are converted. */
static uint8_t *gdb_reg_ptr(struct gdb_state *st, const struct gdb_reg *g,
                            uint64_t *tmp)
{
    switch (g->kind) {
    case R_GPR:
        return (uint8_t *)&((uint64_t *)&st->regs)[g->idx];
    case R_SEG:
        *tmp = gdb_seg(&st->sregs, g->idx)->selector;
        return (uint8_t *)tmp;
    case R_ST:
        return st->fpu.fpr[g->idx];
    case R_FPU:
        *tmp = gdb_fpu_get(&st->fpu, g->idx);
        return (uint8_t *)tmp;
    case R_XMM:
        return st->fpu.xmm[g->idx];
    case R_MXCSR:
        return (uint8_t *)&st->fpu.mxcsr;
    case R_BASE:
        return (uint8_t *)&gdb_seg(&st->sregs, 4 + g->idx)->base;
    default:
        return (uint8_t *)gdb_cr(&st->sregs, g->idx);
    }
}

/* Writes value (g->bits / 8 bytes) into st: -EINVAL for a selector
 * change (a descriptor would have to be loaded with it). */
static int gdb_reg_put(struct gdb_state *st, const struct gdb_reg *g,
                       const uint8_t *value)
{
    uint64_t tmp = 0, v = 0;
    uint8_t *p = gdb_reg_ptr(st, g, &tmp);
    unsigned bytes = g->bits / 8;

    memcpy(&v, value, bytes < 8 ? bytes : 8);
    if (g->kind == R_SEG)
        return v == tmp ? 0 : -EINVAL;
    if (g->kind == R_FPU) {
        gdb_fpu_set(&st->fpu, g->idx, v);
        return 0;
    }
    memcpy(p, value, bytes);
    return 0;
}

int gdb_arch_read_all(int fd, enum gdb_layout l, uint8_t *buf, size_t cap)
{
    struct gdb_state st;
    unsigned n;
    const struct gdb_reg *t = gdb_table(l, &n);
    size_t o = 0;
    uint64_t tmp;
    int r;

    if ((r = gdb_state_get(fd, &st)) < 0)
        return r;
    for (unsigned i = 0; i < n; i++) {
        unsigned bytes = t[i].bits / 8;

        if (o + bytes > cap)
            return -ENOSPC;
        memcpy(buf + o, gdb_reg_ptr(&st, &t[i], &tmp), bytes);
        o += bytes;
    }
    return (int)o;
}

int gdb_arch_read_one(int fd, enum gdb_layout l, unsigned regno, uint8_t *buf)
{
    struct gdb_state st;
    unsigned n;
    const struct gdb_reg *t = gdb_table(l, &n);
    uint64_t tmp;
    int r;

    if (regno >= n)
        return -ENOENT;
    if ((r = gdb_state_get(fd, &st)) < 0)
        return r;
    memcpy(buf, gdb_reg_ptr(&st, &t[regno], &tmp), t[regno].bits / 8);
    return t[regno].bits / 8;
}

int gdb_arch_write_all(int fd, enum gdb_layout l, const uint8_t *buf,
                       size_t len)
{
    struct gdb_state st;
    unsigned n;
    const struct gdb_reg *t = gdb_table(l, &n);
    size_t o = 0;
    int r;

    if ((r = gdb_state_get(fd, &st)) < 0)
        return r;
    for (unsigned i = 0; i < n; i++) {
        if (o + t[i].bits / 8 > len)
            return -EINVAL;
        if ((r = gdb_reg_put(&st, &t[i], buf + o)) < 0)
            return r;
        o += t[i].bits / 8;
    }
    return o == len ? gdb_state_set(fd, &st) : -EINVAL;
}

int gdb_arch_write_one(int fd, enum gdb_layout l, unsigned regno,
                       const uint8_t *buf, size_t len)
{
    struct gdb_state st;
    unsigned n;
    const struct gdb_reg *t = gdb_table(l, &n);
    int r;

    if (regno >= n)
        return -ENOENT;
    if (len != t[regno].bits / 8)
        return -EINVAL;
    if ((r = gdb_state_get(fd, &st)) < 0 ||
        (r = gdb_reg_put(&st, &t[regno], buf)) < 0)
        return r;
    return gdb_state_set(fd, &st);
}

int gdb_arch_translate(int fd, uint64_t gva, uint64_t *gpa)
{
    struct kvm_translation tr;
    int r;

    memset(&tr, 0, sizeof(tr));
    tr.linear_address = gva;
    if ((r = KVM_IOCTL(fd, KVM_TRANSLATE, &tr)) < 0)
        return r;
    if (!tr.valid)
        return -EFAULT;
    *gpa = tr.physical_address;
    return 0;
}

/* DR7's bits for debug register i: enable (local and global), the
 * condition (RW) and the length (LEN). */
static uint64_t gdb_dr7(unsigned i, const struct gdb_hw *h)
{
    static const unsigned rw[] = {0, 0, 1, 3, 3}; /* by Z type */
    unsigned len = h->len == 8 ? 2 : h->len == 4 ? 3 : h->len == 2 ? 1 : 0;

    if (h->type == 1)
        len = 0;
    return (3ull << (2 * i)) | ((uint64_t)rw[h->type] << (16 + 4 * i)) |
           ((uint64_t)len << (18 + 4 * i));
}

static int gdb_debug(int fd, uint32_t control, const struct gdb_hw *hw)
{
    struct kvm_guest_debug dbg;
    bool any = false;

    memset(&dbg, 0, sizeof(dbg));
    for (unsigned i = 0; hw && i < GDB_NHW; i++) {
        if (!hw[i].used)
            continue;
        dbg.arch.debugreg[i] = hw[i].addr;
        dbg.arch.debugreg[7] |= gdb_dr7(i, &hw[i]);
        any = true;
    }
    if (any) {
        control |= KVM_GUESTDBG_USE_HW_BP;
        dbg.arch.debugreg[7] |= 1u << 9; /* GE: exact data breakpoints */
    }
    dbg.control = control;
    return KVM_IOCTL(fd, KVM_SET_GUEST_DEBUG, &dbg);
}

int gdb_arch_set_debug(int fd, bool enable, bool sw, const struct gdb_hw *hw,
                       bool step, bool blockirq)
{
    uint32_t control = 0;

    if (enable) {
        control = KVM_GUESTDBG_ENABLE;
        if (sw)
            control |= KVM_GUESTDBG_USE_SW_BP;
        if (step)
            control |= KVM_GUESTDBG_SINGLESTEP |
                       (blockirq ? KVM_GUESTDBG_BLOCKIRQ : 0);
    }
    return gdb_debug(fd, control, enable ? hw : NULL);
}

int gdb_arch_inject_bp(int fd, const struct gdb_hw *hw, bool sw)
{
    uint32_t control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_INJECT_BP |
                       (sw ? KVM_GUESTDBG_USE_SW_BP : 0);

    return gdb_debug(fd, control, hw);
}

enum gdb_exit_kind gdb_arch_exit_kind(uint32_t exception, uint64_t dr6,
                                      int *hw_index)
{
    if (exception == 3)
        return GDB_EXIT_SW;
    if (exception != 1)
        return GDB_EXIT_OTHER;
    for (int i = 0; i < GDB_NHW; i++)
        if (dr6 & (1u << i)) {
            *hw_index = i;
            return GDB_EXIT_HW;
        }
    return (dr6 & (1u << 14)) ? GDB_EXIT_STEP : GDB_EXIT_OTHER;
}
