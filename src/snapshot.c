/*
 * snapshot.c: saving a VM to a file and rebuilding it from one.
 *
 * Saving pauses every vCPU through the kick protocol: a vCPU takes the
 * pause request only after KVM_RUN returned -EINTR, and KVM completes a
 * pending port or MMIO access before it looks at immediate_exit, so no
 * access is half done (DESIGN rule 3). The state is then read through
 * the vCPU and VM fds, the devices under their locks, and guest memory
 * page by page, skipping pages never touched (mincore, pagemap) or zero.
 * The file is written under a temporary name, synced, then renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "kvm_ioctl.h"
#include "log.h"
#include "machine.h"
#include "runstate.h"
#include "snapfile.h"
#include "vm.h"

#define SNAP_PAUSE_MS 5000
#define SNAP_CHUNK_PAGES 16384u /* 64 MiB per mincore() call */
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

/* One snapshot at a time per process: they share nothing else. */
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- saving ---- */

static int snap_cap(const struct kvmrun_vm *vm, int cap)
{
    return kvm_cap(vm->vm_fd, cap);
}

/* Reads one fixed-size vCPU state with req and writes it as a section. */
#define SNAP_GET(w, v, type, req) snap_get((w), (v), (type), (req), #req)

static int snap_get(struct snap_writer *w, struct kvmrun_vcpu *v, uint32_t type,
                    unsigned long req, const char *name)
{
    uint8_t buf[sizeof(struct kvm_lapic_state)];
    uint64_t len = snapfile_type_size(type);
    int r;

    _Static_assert(sizeof(struct kvm_lapic_state) >= sizeof(struct kvm_sregs),
                   "buffer big enough for every fixed-size vCPU state");
    memset(buf, 0, sizeof(buf));
    if ((r = kvm_vcpu_ioctl(v->fd, v->index, req, (unsigned long)buf, name)) <
        0)
        return r;
    return snapw_section(w, type, v->index, buf, len);
}

static int snap_msr_list(struct kvmrun_vm *vm, struct kvm_msr_list **out)
{
    struct kvm_msr_list probe = {0}, *list;
    int r;

    /* Raw: E2BIG is the answer, with the count in probe. */
    if (KVM_IOCTL_RAW(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 &&
        errno != E2BIG)
        return err_errno(errno, "KVM_GET_MSR_INDEX_LIST");
    list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
    if (!list)
        return err_set(ENOMEM, "out of memory");
    list->nmsrs = probe.nmsrs;
    if ((r = KVM_IOCTL(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list)) < 0) {
        free(list);
        return r;
    }
    *out = list;
    return 0;
}

/*
 * Every MSR of the list the vCPU lets us read, into out (room for all):
 * KVM_GET_MSRS stops at the first it refuses, which is then skipped.
 * Returns how many, or -errno.
 */
static int snap_read_msrs(struct kvmrun_vcpu *v,
                          const struct kvm_msr_list *list,
                          struct kvm_msr_entry *out)
{
    struct kvm_msrs *req;
    uint32_t done = 0, kept = 0;

    req = calloc(1, sizeof(*req) + list->nmsrs * sizeof(*out));
    if (!req)
        return err_set(ENOMEM, "out of memory");
    while (done < list->nmsrs) {
        int n;

        req->nmsrs = list->nmsrs - done;
        for (uint32_t i = 0; i < req->nmsrs; i++)
            req->entries[i] =
                (struct kvm_msr_entry){.index = list->indices[done + i]};
        n = KVM_VCPU_IOCTL(v->fd, v->index, KVM_GET_MSRS, req);
        if (n < 0) {
            free(req);
            return n;
        }
        memcpy(out + kept, req->entries, (size_t)n * sizeof(*out));
        kept += (uint32_t)n;
        done += (uint32_t)n + 1; /* entry n (if any) is unreadable */
    }
    free(req);
    return (int)kept;
}

static int snap_save_msrs(struct snap_writer *w, struct kvmrun_vcpu *v,
                          const struct kvm_msr_list *list)
{
    struct kvm_msr_entry *e = calloc(list->nmsrs + 1, sizeof(*e));
    int n, r;

    if (!e)
        return err_set(ENOMEM, "out of memory");
    n = snap_read_msrs(v, list, e);
    r = n < 0 ? n
              : snapw_section(w, SNAP_VCPU_MSRS, v->index, e,
                              (uint64_t)n * sizeof(*e));
    free(e);
    return r;
}

/* XSAVE state in KVM_CAP_XSAVE2's size where the host has it (AMX and
 * other large state), else struct kvm_xsave, else the legacy FPU. */
static int snap_save_fpu(struct snap_writer *w, struct kvmrun_vcpu *v)
{
    int xsave2 = snap_cap(v->vm, KVM_CAP_XSAVE2);
    bool big = xsave2 >= (int)sizeof(struct kvm_xsave);
    size_t size = big ? (size_t)xsave2 : sizeof(struct kvm_xsave);
    uint8_t *buf;
    int r;

    if (!snap_cap(v->vm, KVM_CAP_XSAVE))
        return SNAP_GET(w, v, SNAP_VCPU_FPU, KVM_GET_FPU);
    if (!(buf = calloc(1, size)))
        return err_set(ENOMEM, "out of memory");
    r = big ? KVM_VCPU_IOCTL(v->fd, v->index, KVM_GET_XSAVE2, buf)
            : KVM_VCPU_IOCTL(v->fd, v->index, KVM_GET_XSAVE, buf);
    r = r < 0 ? r : 0;
    if (r == 0)
        r = snapw_section(w, SNAP_VCPU_XSAVE, v->index, buf, size);
    free(buf);
    return r;
}

static int snap_save_vcpu(struct snap_writer *w, struct kvmrun_vcpu *v,
                          const struct kvm_msr_list *msrs)
{
    struct kvmrun_vm *vm = v->vm;
    int r;

    if ((r = SNAP_GET(w, v, SNAP_VCPU_REGS, KVM_GET_REGS)) ||
        (r = SNAP_GET(w, v, SNAP_VCPU_SREGS, KVM_GET_SREGS)) ||
        (r = snap_save_fpu(w, v)) || (r = snap_save_msrs(w, v, msrs)))
        return r;
    if (snap_cap(vm, KVM_CAP_XCRS) &&
        (r = SNAP_GET(w, v, SNAP_VCPU_XCRS, KVM_GET_XCRS)))
        return r;
    if (vm->cfg.irqchip && (r = SNAP_GET(w, v, SNAP_VCPU_LAPIC, KVM_GET_LAPIC)))
        return r;
    if ((r = SNAP_GET(w, v, SNAP_VCPU_EVENTS, KVM_GET_VCPU_EVENTS)) ||
        (r = SNAP_GET(w, v, SNAP_VCPU_MP_STATE, KVM_GET_MP_STATE)))
        return r;
    if (snap_cap(vm, KVM_CAP_DEBUGREGS))
        return SNAP_GET(w, v, SNAP_VCPU_DEBUGREGS, KVM_GET_DEBUGREGS);
    return 0;
}

/* The in-kernel PIC master, slave and IOAPIC, the PIT, kvmclock. */
static int snap_save_platform(struct snap_writer *w, struct kvmrun_vm *vm)
{
    struct kvm_clock_data clock;
    struct kvm_pit_state2 pit;
    int r;

    for (uint32_t c = 0; vm->cfg.irqchip && c < SNAP_NIRQCHIPS; c++) {
        struct kvm_irqchip chip = {.chip_id = c};

        if ((r = KVM_IOCTL(vm->vm_fd, KVM_GET_IRQCHIP, &chip)) < 0 ||
            (r = snapw_section(w, SNAP_VM_IRQCHIP, c, &chip, sizeof(chip))))
            return r;
    }
    if (vm->cfg.irqchip) {
        memset(&pit, 0, sizeof(pit));
        if ((r = KVM_IOCTL(vm->vm_fd, KVM_GET_PIT2, &pit)) < 0 ||
            (r = snapw_section(w, SNAP_VM_PIT2, 0, &pit, sizeof(pit))))
            return r;
    }
    memset(&clock, 0, sizeof(clock));
    if ((r = KVM_IOCTL(vm->vm_fd, KVM_GET_CLOCK, &clock)) < 0)
        return r;
    return snapw_section(w, SNAP_VM_CLOCK, 0, &clock, sizeof(clock));
}

static bool snap_page_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)(const void *)p;

    for (unsigned i = 0; i < SNAP_PAGE / 8; i += 4)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3])
            return false;
    return true;
}

/* Which pages of [p, p + n pages) may hold data: resident (mincore), or
 * present or swapped out (pagemap, where readable); the rest were never
 * touched. Without either source every page is looked at. */
static void snap_touched(const uint8_t *p, unsigned n, int pagemap,
                         unsigned char *vec, uint64_t *pm)
{
    size_t pmlen = (size_t)n * sizeof(*pm);
    off_t at = (off_t)((uintptr_t)p / SNAP_PAGE * sizeof(*pm));

    if (mincore((void *)(uintptr_t)p, (size_t)n * SNAP_PAGE, vec) < 0)
        memset(vec, 1, n);
    for (unsigned i = 0; i < n; i++)
        if (!(vec[i] & 1)) {
            if (pagemap < 0 || pread(pagemap, pm, pmlen, at) != (ssize_t)pmlen)
                memset(vec, 1, n);
            else
                for (unsigned k = 0; k < n; k++)
                    vec[k] |= !!(pm[k] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED));
            return;
        }
}

/* Guest-physical address of a RAM offset (low RAM, then RAM at 4 GiB). */
static uint64_t snap_gpa(const struct guest_mem *mem, uint64_t off)
{
    uint64_t low = mem_low_size(mem);

    return off < low ? off : MEM_HIGH_START + (off - low);
}

/* Saves the non-zero pages among n touched ones at p (RAM offset off) as
 * runs of consecutive pages. */
static int snap_save_chunk(struct snap_writer *w, const uint8_t *p,
                           uint64_t off, unsigned n, const unsigned char *vec)
{
    unsigned start = 0, len = 0;
    int r = 0;

    for (unsigned i = 0; r == 0 && i <= n; i++) {
        if (i < n && (vec[i] & 1) && !snap_page_zero(p + i * SNAP_PAGE)) {
            start = len ? start : i;
            len++;
            continue;
        }
        if (len)
            r = snapw_extent(w, off + (uint64_t)start * SNAP_PAGE,
                             p + (size_t)start * SNAP_PAGE,
                             (uint64_t)len * SNAP_PAGE);
        len = 0;
    }
    return r;
}

/*
 * Guest RAM in chunks of up to SNAP_CHUNK_PAGES, each inside one memory
 * slot (the low slot ends on a chunk boundary), reached through mem_ptr():
 * an extent never crosses from low RAM to RAM at 4 GiB.
 */
static int snap_save_memory(struct snap_writer *w, struct kvmrun_vm *vm)
{
    unsigned char *vec = malloc(SNAP_CHUNK_PAGES);
    uint64_t *pm = malloc(SNAP_CHUNK_PAGES * sizeof(*pm));
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t low = mem_low_size(&vm->mem);
    int r = 0;

    if (!vec || !pm)
        r = err_set(ENOMEM, "out of memory");
    for (uint64_t off = 0; r == 0 && off < vm->mem.size;) {
        uint64_t end = off < low ? low : vm->mem.size;
        uint64_t left = (end - off) / SNAP_PAGE;
        unsigned n =
            left < SNAP_CHUNK_PAGES ? (unsigned)left : SNAP_CHUNK_PAGES;
        const uint8_t *p =
            mem_ptr(&vm->mem, snap_gpa(&vm->mem, off), (uint64_t)n * SNAP_PAGE);

        if (!p) {
            r = err_set(EFAULT, "RAM offset %#" PRIx64 " is not guest memory",
                        off);
            break;
        }
        snap_touched(p, n, pagemap, vec, pm);
        r = snap_save_chunk(w, p, off, n, vec);
        off += (uint64_t)n * SNAP_PAGE;
    }
    if (pagemap >= 0)
        close(pagemap);
    free(pm);
    free(vec);
    return r;
}

static int snap_write(struct snap_writer *w, struct kvmrun_vm *vm)
{
    struct snap_header h;
    struct kvm_msr_list *msrs = NULL;
    int r;

    /* kvmrun_vm_create() refuses such a VM; never write a file that no
     * restore would read. */
    if (vm->mem.size > KVMRUN_MAX_MEM)
        return err_set(EFBIG,
                       "%" PRIu64 " MiB of guest memory is more than a "
                       "snapshot holds (%llu MiB)",
                       vm->mem.size >> 20, KVMRUN_MAX_MEM >> 20);
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
    h.version = SNAP_VERSION;
    h.header_size = sizeof(h);
    snprintf(h.kvmrun_version, sizeof(h.kvmrun_version), "%s", KVMRUN_VERSION);
    h.ncpus = vm->ncpus;
    h.flags = vm->cfg.irqchip ? SNAP_FLAG_IRQCHIP : 0;
    h.mem_size = vm->mem.size;
    h.page_size = SNAP_PAGE;
    if ((r = snap_msr_list(vm, &msrs)) < 0)
        return r;
    r = snapw_header(w, &h);
    for (unsigned i = 0; r == 0 && i < vm->ncpus; i++)
        r = snap_save_vcpu(w, &vm->vcpus[i], msrs);
    free(msrs);
    if (r == 0)
        r = snap_save_platform(w, vm);
    if (r == 0)
        r = machine_save(vm, w);
    if (r == 0)
        r = snap_save_memory(w, vm);
    return r ? r : snapw_finish(w);
}

/* Makes the rename durable: fsync of the directory holding path. */
static void snap_sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: the file itself is synced */
        close(fd);
    }
}

/* The whole file under a temporary name in the same directory, synced,
 * then renamed: path never names a partial file. */
static int snap_write_file(struct kvmrun_vm *vm, const char *path)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    struct snap_writer *w = malloc(sizeof(*w));
    int fd, r;

    if (!tmp || !w) {
        free(tmp);
        free(w);
        return err_set(ENOMEM, "out of memory");
    }
    /* rename() would replace a device, a FIFO or a socket as readily as
     * an old snapshot. */
    if ((r = kvmrun_file_replaceable(path)) < 0)
        goto out;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = err_errno(errno, "cannot create %s", tmp);
        goto out;
    }
    snapw_init(w, fd, path);
    r = snap_write(w, vm);
    if (r == 0 && fsync(fd) < 0)
        r = err_errno(errno, "fsync");
    if (close(fd) < 0 && r == 0)
        r = err_errno(errno, "close");
    if (r == 0 && rename(tmp, path) < 0)
        r = err_errno(errno, "rename from %s", tmp);
    if (r < 0)
        unlink(tmp);
    else
        snap_sync_dir(path);
out:
    free(w);
    free(tmp);
    return r;
}

/*
 * Takes the snapshot's own hold and waits until every vCPU paused. The
 * user's pause and resume meanwhile change only the user's hold: a resume
 * succeeds and takes effect when the snapshot releases its hold, a pause
 * keeps the VM paused after it.
 */
static int snap_pause(struct kvmrun_vm *vm)
{
    bool ended;
    int laggard;

    pthread_mutex_lock(&vm->lock);
    ended = vm->outcome.end != KVMRUN_END_NONE;
    pthread_mutex_unlock(&vm->lock);
    if (vm->started && ended)
        return err_set(EINVAL, "the VM is not running");
    runstate_hold(vm, KVMRUN_HOLD_SNAPSHOT);
    if (!vm->started)
        return 0; /* no vCPU thread yet: nothing moves */
    /* Only this snapshot clears its hold: never superseded. */
    if (runstate_wait_target(vm, KVMRUN_HOLD_SNAPSHOT, SNAP_PAUSE_MS, &laggard,
                             NULL) == RUNSTATE_TIMED_OUT)
        return err_set(ETIMEDOUT, "vcpu%d did not pause within %u ms", laggard,
                       SNAP_PAUSE_MS);
    return 0;
}

/* Releases the snapshot's hold; unless another hold is left, waits until
 * the vCPUs run again, as they did before the snapshot. */
static int snap_unpause(struct kvmrun_vm *vm)
{
    int laggard;

    runstate_release(vm, KVMRUN_HOLD_SNAPSHOT);
    if (!vm->started)
        return 0;
    if (runstate_wait_target(vm, 0, SNAP_PAUSE_MS, &laggard, NULL) ==
        RUNSTATE_TIMED_OUT)
        return err_set(ETIMEDOUT, "vcpu%d did not resume within %u ms", laggard,
                       SNAP_PAUSE_MS);
    return 0;
}

/* Puts "op path: " before the last error's message. */
static int snap_blame(int r, const char *op, const char *path)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "%s", kvmrun_last_error());
    return err_set(-r, "%s %s: %s", op, path, msg);
}

int kvmrun_vm_snapshot(struct kvmrun_vm *vm, const char *path)
{
    int r, r2;

    pthread_mutex_lock(&snap_lock);
    r = snap_pause(vm);
    if (r == 0)
        r = snap_write_file(vm, path);
    r2 = snap_unpause(vm);
    pthread_mutex_unlock(&snap_lock);
    return r || r2 ? snap_blame(r ? r : r2, "snapshot", path) : 0;
}

/* ---- restoring ---- */

/* Sets a fixed-size vCPU state from its (possibly unaligned) blob. */
#define REST_SET(v, b, req) rest_set((v), (b), (req), #req)

static int rest_set(struct kvmrun_vcpu *v, const struct snap_blob *b,
                    unsigned long req, const char *name)
{
    uint8_t buf[sizeof(struct kvm_lapic_state)] __attribute__((aligned(8)));
    int r;

    if (!b->data)
        return 0;
    memcpy(buf, b->data, (size_t)b->len);
    r = kvm_vcpu_ioctl(v->fd, v->index, req, (unsigned long)buf, name);
    return r < 0 ? r : 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: skip that one (this
 * host's KVM cannot take it) and go on; say how many were left out. */
static int rest_msrs(struct kvmrun_vcpu *v, const struct snap_blob *b)
{
    uint32_t n = (uint32_t)(b->len / sizeof(struct kvm_msr_entry));
    uint32_t done = 0, skipped = 0, first = 0;
    struct kvm_msrs *req = calloc(1, sizeof(*req) + b->len);

    if (!req)
        return err_set(ENOMEM, "out of memory");
    while (done < n) {
        int set;

        req->nmsrs = n - done;
        memcpy(req->entries, b->data + done * sizeof(struct kvm_msr_entry),
               req->nmsrs * sizeof(struct kvm_msr_entry));
        set = KVM_VCPU_IOCTL(v->fd, v->index, KVM_SET_MSRS, req);
        if (set < 0) {
            free(req);
            return set;
        }
        done += (uint32_t)set;
        if (done < n) {
            if (!skipped++)
                first = req->entries[set].index;
            done++;
        }
    }
    free(req);
    if (skipped)
        log_line(v->vm, KVMRUN_LOG_DEBUG,
                 "restore: vcpu%u: KVM refused %u MSRs (the first: %#x)",
                 v->index, skipped, first);
    return 0;
}

static int rest_fpu(struct kvmrun_vcpu *v, const struct snap_blob *xsave,
                    const struct snap_blob *fpu)
{
    int size = snap_cap(v->vm, KVM_CAP_XSAVE2);
    uint8_t *buf;
    int r;

    if (!xsave->data)
        return REST_SET(v, fpu, KVM_SET_FPU);
    if (size < (int)sizeof(struct kvm_xsave))
        size = sizeof(struct kvm_xsave);
    if (xsave->len > (uint64_t)size)
        return err_set(EINVAL,
                       "the snapshot's XSAVE state is %" PRIu64
                       " bytes, this host's %d: saved on another CPU",
                       xsave->len, size);
    if (!(buf = calloc(1, (size_t)size)))
        return err_set(ENOMEM, "out of memory");
    memcpy(buf, xsave->data, (size_t)xsave->len);
    r = KVM_VCPU_IOCTL(v->fd, v->index, KVM_SET_XSAVE, buf);
    free(buf);
    return r < 0 ? r : 0;
}

static int rest_events(struct kvmrun_vcpu *v, const struct snap_blob *b)
{
    struct kvm_vcpu_events ev;

    memcpy(&ev, b->data, sizeof(ev));
    ev.flags |=
        KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    int r = KVM_VCPU_IOCTL(v->fd, v->index, KVM_SET_VCPU_EVENTS, &ev);

    return r < 0 ? r : 0;
}

/* IA32_TSC_DEADLINE (Intel SDM vol. 4); the uapi headers do not name
 * MSRs. */
#define SNAP_MSR_TSC_DEADLINE 0x6e0

/*
 * The TSC-deadline timer again, once the LAPIC is set: KVM ignores a
 * deadline written while the LVT timer is not in TSC-deadline mode,
 * which it is not before KVM_SET_LAPIC, so the deadline set with the
 * other MSRs is lost and a tickless guest waits for a timer that never
 * fires (seen: a restored Linux's `sleep 1` never returned). QEMU writes
 * it last for the same reason.
 */
static int rest_tsc_deadline(struct kvmrun_vcpu *v, const struct snap_blob *b)
{
    uint32_t n = (uint32_t)(b->len / sizeof(struct kvm_msr_entry));
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } req = {{.nmsrs = 1}, {0}};

    for (uint32_t i = 0; i < n; i++) {
        memcpy(&req.e, b->data + i * sizeof(req.e), sizeof(req.e));
        if (req.e.index != SNAP_MSR_TSC_DEADLINE)
            continue;
        /* 0: this KVM refused it with the others already (logged). */
        int r = KVM_VCPU_IOCTL(v->fd, v->index, KVM_SET_MSRS, &req);

        return r < 0 ? r : 0;
    }
    return 0;
}

/* In the order KVM needs: special registers (APIC base, modes) before the
 * rest; the LAPIC after its base; the TSC deadline after the LAPIC;
 * events and run state last. */
static int rest_vcpu(struct kvmrun_vcpu *v, const struct snap_blob *s)
{
    int r;

    if ((r = REST_SET(v, &s[SNAP_VCPU_SREGS], KVM_SET_SREGS)) ||
        (r = REST_SET(v, &s[SNAP_VCPU_REGS], KVM_SET_REGS)) ||
        (r = rest_msrs(v, &s[SNAP_VCPU_MSRS])) ||
        (r = rest_fpu(v, &s[SNAP_VCPU_XSAVE], &s[SNAP_VCPU_FPU])) ||
        (r = REST_SET(v, &s[SNAP_VCPU_XCRS], KVM_SET_XCRS)) ||
        (r = REST_SET(v, &s[SNAP_VCPU_LAPIC], KVM_SET_LAPIC)) ||
        (r = rest_tsc_deadline(v, &s[SNAP_VCPU_MSRS])) ||
        (r = rest_events(v, &s[SNAP_VCPU_EVENTS])) ||
        (r = REST_SET(v, &s[SNAP_VCPU_MP_STATE], KVM_SET_MP_STATE)))
        return r;
    return REST_SET(v, &s[SNAP_VCPU_DEBUGREGS], KVM_SET_DEBUGREGS);
}

/* PIC and IOAPIC after the devices raised their lines again (so KVM
 * knows the lines' levels), then the PIT. */
static int rest_platform(struct kvmrun_vm *vm, const struct snap_image *img)
{
    struct kvm_pit_state2 pit;
    int r;

    for (unsigned c = 0; vm->cfg.irqchip && c < SNAP_NIRQCHIPS; c++) {
        struct kvm_irqchip chip;

        memcpy(&chip, img->irqchip[c].data, sizeof(chip));
        chip.chip_id = c;
        if ((r = KVM_IOCTL(vm->vm_fd, KVM_SET_IRQCHIP, &chip)) < 0)
            return r;
    }
    if (!vm->cfg.irqchip)
        return 0;
    memcpy(&pit, img->pit.data, sizeof(pit));
    r = KVM_IOCTL(vm->vm_fd, KVM_SET_PIT2, &pit);
    return r < 0 ? r : 0;
}

/* kvmclock continues from the saved value, not from the time since. */
static int rest_clock(struct kvmrun_vm *vm, const struct snap_image *img)
{
    struct kvm_clock_data saved, clock;

    memcpy(&saved, img->clock.data, sizeof(saved));
    memset(&clock, 0, sizeof(clock));
    clock.clock = saved.clock;
    int r = KVM_IOCTL(vm->vm_fd, KVM_SET_CLOCK, &clock);

    return r < 0 ? r : 0;
}

/* Where the pages at a RAM offset go (snapfile_load_memory). */
static void *rest_ram(void *opaque, uint64_t off, uint64_t len)
{
    struct kvmrun_vm *vm = opaque;

    return mem_ptr(&vm->mem, snap_gpa(&vm->mem, off), len);
}

/* Everything but memory, which is in place already. */
static int rest_all(struct kvmrun_vm *vm, const struct snap_image *img)
{
    int r;

    machine_load(vm, img);
    if ((r = rest_platform(vm, img)) < 0)
        return r;
    for (unsigned i = 0; i < vm->ncpus; i++)
        if ((r = rest_vcpu(&vm->vcpus[i], img->vcpu[i])) < 0)
            return r;
    return rest_clock(vm, img);
}

/*
 * Opens the file to read it with pread(), never a mapping: a file that
 * shrinks while it is read (truncated by someone else) is then a short
 * read and an error, not a SIGBUS. Its size is taken once, here.
 */
static int rest_open(const char *path, struct snap_src *src)
{
    uint64_t size;
    int fd = file_open_regular(path, &size);

    if (fd < 0)
        return fd;
    *src = (struct snap_src){NULL, fd, size};
    return 0;
}

int kvmrun_vm_restore(const struct kvmrun_config *cfg, const char *path,
                      struct kvmrun_vm **vmp)
{
    struct kvmrun_config c = *cfg;
    struct snap_image img;
    struct snap_src src;
    int r;

    *vmp = NULL;
    if ((r = rest_open(path, &src)) < 0)
        return r;
    if ((r = snapfile_read(&src, path, &img)) < 0)
        goto out_close;
    c.mem_size = img.hdr.mem_size;
    c.ncpus = img.hdr.ncpus;
    c.irqchip = !!(img.hdr.flags & SNAP_FLAG_IRQCHIP);
    if ((r = machine_check_snapshot(&c, &img, path)) < 0)
        goto out_free;
    if ((r = kvmrun_vm_create(&c, vmp)) < 0)
        goto out_free;
    /* Memory first: KVM writes some MSRs' guest pages (kvmclock). The
     * pages go from the file straight into guest RAM, and the file's
     * checksum is checked over them before any other state is set (its
     * errors name the file already). */
    r = snapfile_load_memory(&img, &src, path, rest_ram, *vmp);
    if (r == 0 && (r = rest_all(*vmp, &img)) < 0)
        r = snap_blame(r, "restore", path);
    if (r == 0)
        (*vmp)->booted = true; /* the vCPUs go on where they were */
    if (r < 0) {
        kvmrun_vm_destroy(*vmp);
        *vmp = NULL;
    }
out_free:
    snapfile_free(&img);
out_close:
    close(src.fd);
    return r;
}
