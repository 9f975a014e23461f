/*
 * seccomp-gen.c: compiles kvmrun's seccomp filters at build time.
 *
 *   seccomp-gen OUTPUT.c
 *
 * A host program, linked with libseccomp: it runs the rules of
 * src/confine_rules.c through libseccomp and writes OUTPUT.c (the Makefile's
 * $(BUILD)/gen/confine_bpf.c) with the process filter and the vCPU filter
 * as struct sock_filter arrays, and the x86_64 system call names for the
 * SIGSYS report; see src/confine_bpf.h. kvmrun then only copies a program,
 * writes two run-time values into it and installs it: no libseccomp, no
 * filter building, in the VMM.
 *
 * The two run-time values are the action (also the one for other ABIs)
 * and kvmrun's pid (tgkill's tgid). Each filter is built twice, with two
 * different placeholder actions and pids. The two programs must have the
 * same length and differ only in the k field of some instructions; each
 * such k must be the action, or the low or the high half of the pid, in
 * both builds: those instructions are the patch sites. Anything else
 * fails the build. Then, as a check of the whole scheme, the programs
 * patched for each real action and two pids must equal what libseccomp
 * builds for those values directly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine_bpf.h"
#include "confine_rules.h"

#ifndef CONFINE_SANITIZER
#error "CONFINE_SANITIZER: 1 for the sanitizer builds' rules, else 0"
#endif

/* Highest system call number looked up for the name table, plus one. */
#define GEN_SCAN_SYSCALLS 1024

struct prog {
    struct sock_filter *insns;
    unsigned len;
};

/* One filter: its name, its rules, and what the generator found. */
struct filter {
    const char *name; /* "process", "vcpu" */
    unsigned rules;   /* CONFINE_PROCESS or CONFINE_VCPU */
    struct prog prog; /* built with the first placeholders */
    struct confine_patch sites[BPF_MAXINSNS];
    unsigned nsites;
    unsigned counts[CONFINE_PATCH_PID_HI + 1]; /* sites by kind */
};

/*
 * The placeholders: two of each value, such that every value differs from
 * the other five and from the actions the rules use themselves (ALLOW,
 * ERRNO(ENOSYS)). Their being unique in a program is not relied upon:
 * only where the two builds differ is.
 */
static const uint32_t gen_action[2] = {SCMP_ACT_ERRNO(0xa1),
                                       SCMP_ACT_TRACE(0xb2)};
static const uint64_t gen_pid[2] = {0x000000a3000000a5ull,
                                    0x000000b4000000b6ull};

static const char *const gen_kind_name[] = {
    [CONFINE_PATCH_ACTION] = "action",
    [CONFINE_PATCH_PID_LO] = "pid, low half",
    [CONFINE_PATCH_PID_HI] = "pid, high half",
};

static const char *const gen_kind_enum[] = {
    [CONFINE_PATCH_ACTION] = "CONFINE_PATCH_ACTION",
    [CONFINE_PATCH_PID_LO] = "CONFINE_PATCH_PID_LO",
    [CONFINE_PATCH_PID_HI] = "CONFINE_PATCH_PID_HI",
};

static const char *gen_out; /* the output file, for messages */
static const char *gen_tmp; /* the file being written, removed on failure */

static void gen_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void gen_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "seccomp-gen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (gen_tmp)
        unlink(gen_tmp);
    fprintf(stderr, "\nseccomp-gen: %s not written\n",
            gen_out ? gen_out : "nothing");
    exit(1);
}

/* libseccomp's BPF for ctx (2.5 exports only to a file descriptor). */
static struct prog gen_export(scmp_filter_ctx ctx, const char *what)
{
    struct prog p = {NULL, 0};
    int fd = memfd_create("seccomp-gen", MFD_CLOEXEC);
    struct stat st;
    int r;

    if (fd < 0)
        gen_fail("memfd_create: %s", strerror(errno));
    if ((r = seccomp_export_bpf(ctx, fd)) < 0)
        gen_fail("%s filter: seccomp_export_bpf: %s", what, strerror(-r));
    if (fstat(fd, &st) < 0)
        gen_fail("fstat: %s", strerror(errno));
    if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
        st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        gen_fail("%s filter: libseccomp exported %lld bytes, not a program "
                 "of 1 to %d instructions",
                 what, (long long)st.st_size, BPF_MAXINSNS);
    p.len = (unsigned)(st.st_size / (off_t)sizeof(struct sock_filter));
    p.insns = calloc(p.len, sizeof(*p.insns));
    if (!p.insns)
        gen_fail("out of memory");
    if (pread(fd, p.insns, (size_t)st.st_size, 0) != st.st_size)
        gen_fail("reading the %s filter back: %s", what, strerror(errno));
    close(fd);
    return p;
}

static struct prog gen_build(const struct filter *f, uint32_t action,
                             uint64_t pid)
{
    scmp_filter_ctx ctx = confine_rules_build(f->rules, action, pid);
    struct prog p;

    if (!ctx)
        gen_fail("%s filter: the rules could not be built (action %#x, "
                 "pid %#llx)",
                 f->name, action, (unsigned long long)pid);
    p = gen_export(ctx, f->name);
    seccomp_release(ctx);
    return p;
}

/* Which run-time value an instruction whose k is k0 in the first build
 * and k1 in the second holds, or 0 if none. */
static unsigned gen_kind(uint32_t k0, uint32_t k1)
{
    if (k0 == gen_action[0] && k1 == gen_action[1])
        return CONFINE_PATCH_ACTION;
    if (k0 == (uint32_t)gen_pid[0] && k1 == (uint32_t)gen_pid[1])
        return CONFINE_PATCH_PID_LO;
    if (k0 == (uint32_t)(gen_pid[0] >> 32) &&
        k1 == (uint32_t)(gen_pid[1] >> 32))
        return CONFINE_PATCH_PID_HI;
    return 0;
}

/* Builds f twice and finds its patch sites, or fails. */
static void gen_sites(struct filter *f)
{
    struct prog b = gen_build(f, gen_action[1], gen_pid[1]);

    f->prog = gen_build(f, gen_action[0], gen_pid[0]);
    if (f->prog.len != b.len)
        gen_fail("%s filter: %u instructions with the first placeholders, "
                 "%u with the second: the program's shape depends on the "
                 "action or the pid, so it cannot be patched at run time",
                 f->name, f->prog.len, b.len);
    for (unsigned i = 0; i < b.len; i++) {
        const struct sock_filter *x = &f->prog.insns[i], *y = &b.insns[i];
        unsigned kind;

        if (x->code != y->code || x->jt != y->jt || x->jf != y->jf)
            gen_fail("%s filter, instruction %u: {%#x, %u, %u} with the "
                     "first placeholders, {%#x, %u, %u} with the second: "
                     "only k fields may differ",
                     f->name, i, x->code, x->jt, x->jf, y->code, y->jt, y->jf);
        if (x->k == y->k)
            continue;
        kind = gen_kind(x->k, y->k);
        if (!kind)
            gen_fail("%s filter, instruction %u: k is %#x with the first "
                     "placeholders, %#x with the second: neither the "
                     "action nor a half of the pid",
                     f->name, i, x->k, y->k);
        f->sites[f->nsites].insn = (uint16_t)i;
        f->sites[f->nsites].kind = (uint16_t)kind;
        f->nsites++;
        f->counts[kind]++;
    }
    if (!f->counts[CONFINE_PATCH_ACTION])
        gen_fail("%s filter: the action is nowhere in the program", f->name);
    free(b.insns);
}

/* The patched programs must be what libseccomp builds for real values. */
static void gen_check(const struct filter *f)
{
    static const struct {
        enum kvmrun_seccomp_action action;
        uint32_t scmp;
    } real[] = {
        {KVMRUN_SECCOMP_TRAP, SCMP_ACT_TRAP},
        {KVMRUN_SECCOMP_KILL, SCMP_ACT_KILL_PROCESS},
        {KVMRUN_SECCOMP_EPERM, SCMP_ACT_ERRNO(EPERM)},
    };
    /*
     * The highest pid Linux gives (PID_MAX_LIMIT - 1), and one past 16
     * bits. Not pids that equal another constant the program compares the
     * same argument with, such as 1 (AF_UNIX for socket, kvmrun's pid as
     * the init of a PID namespace): libseccomp then shares the identical
     * blocks and builds a shorter program. The patched one is equivalent,
     * as each patched k sits where libseccomp put the value; its blocks
     * are just not shared.
     */
    const uint64_t pids[] = {4194303, 65537};
    struct confine_bpf bpf = {f->prog.insns, f->sites, (uint16_t)f->prog.len,
                              (uint16_t)f->nsites};
    struct sock_filter *patched = calloc(f->prog.len, sizeof(*patched));

    if (!patched)
        gen_fail("out of memory");
    for (size_t a = 0; a < sizeof(real) / sizeof(*real); a++) {
        for (size_t p = 0; p < sizeof(pids) / sizeof(*pids); p++) {
            struct prog want = gen_build(f, real[a].scmp, pids[p]);
            uint32_t ret;
            unsigned i = 0;

            if (confine_bpf_action(real[a].action, &ret) < 0)
                gen_fail("no return value for action %d", real[a].action);
            confine_bpf_patch(&bpf, patched, ret, pids[p]);
            if (want.len == f->prog.len)
                while (i < want.len &&
                       !memcmp(&want.insns[i], &patched[i], sizeof(*patched)))
                    i++;
            if (want.len != f->prog.len || i < want.len)
                gen_fail("%s filter: patched for action %#x and pid %llu, it "
                         "differs from libseccomp's own build (%u "
                         "instructions, first difference at %u)",
                         f->name, ret, (unsigned long long)pids[p], want.len,
                         i);
            free(want.insns);
        }
    }
    free(patched);
}

static const char *gen_site_kind(const struct filter *f, unsigned i)
{
    for (unsigned s = 0; s < f->nsites; s++)
        if (f->sites[s].insn == i)
            return gen_kind_name[f->sites[s].kind];
    return NULL;
}

static void gen_emit_filter(FILE *out, const struct filter *f)
{
    fprintf(out, "\n/* The %s filter: %u instructions. */\n", f->name,
            f->prog.len);
    fprintf(out,
            "static const struct sock_filter confine_bpf_%s_insns[%u] = "
            "{\n",
            f->name, f->prog.len);
    for (unsigned i = 0; i < f->prog.len; i++) {
        const struct sock_filter *x = &f->prog.insns[i];
        const char *kind = gen_site_kind(f, i);

        fprintf(out, "    {0x%02x, %3u, %3u, 0x%08x}, /* %u%s%s */\n", x->code,
                x->jt, x->jf, x->k, i, kind ? ": patched, " : "",
                kind ? kind : "");
    }
    fprintf(out, "};\n");
    fprintf(out,
            "static const struct confine_patch confine_bpf_%s_sites[%u] "
            "= {\n",
            f->name, f->nsites);
    for (unsigned s = 0; s < f->nsites; s++)
        fprintf(out, "    {%u, %s},\n", f->sites[s].insn,
                gen_kind_enum[f->sites[s].kind]);
    fprintf(out, "};\n");
    fprintf(out, "const struct confine_bpf confine_bpf_%s = {\n", f->name);
    fprintf(out, "    confine_bpf_%s_insns, confine_bpf_%s_sites, %u, %u,\n",
            f->name, f->name, f->prog.len, f->nsites);
    fprintf(out, "};\n");
}

/* The x86_64 system call names, as one string of NUL-ended names and the
 * offset of each number's; returns how many numbers. */
static unsigned gen_emit_names(FILE *out)
{
    static uint16_t at[GEN_SCAN_SYSCALLS];
    unsigned count = 0, size = 0;

    fprintf(out, "\n/* x86_64 system call names, for the SIGSYS report. */\n");
    fprintf(out, "const char confine_syscall_names[] =");
    for (unsigned nr = 0; nr < GEN_SCAN_SYSCALLS; nr++) {
        char *name =
            seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);
        size_t len = name ? strlen(name) : 0;

        at[nr] = CONFINE_NO_NAME;
        if (!name)
            continue;
        if (!len ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
            gen_fail("libseccomp names system call %u '%s'", nr, name);
        if (size + len + 1 >= CONFINE_NO_NAME)
            gen_fail("the system call names do not fit in 64 KiB");
        fprintf(out, "\n    \"%s\\0\"", name);
        at[nr] = (uint16_t)size;
        size += (unsigned)len + 1;
        count = nr + 1;
        free(name);
    }
    if (!count)
        gen_fail("libseccomp knows no x86_64 system call names");
    fprintf(out, ";\n");
    fprintf(out, "const uint16_t confine_syscall_name_at[%u] = {", count);
    for (unsigned nr = 0; nr < count; nr++)
        fprintf(out, "%s%u,", nr % 10 ? " " : "\n    ", at[nr]);
    fprintf(out, "\n};\n");
    fprintf(out, "const unsigned confine_syscall_count = %u;\n", count);
    return count;
}

int main(int argc, char **argv)
{
    static struct filter filters[] = {
        {.name = "process", .rules = CONFINE_PROCESS},
        {.name = "vcpu", .rules = CONFINE_VCPU},
    };
    const struct scmp_version *v = seccomp_version();
    char tmp[4096];
    unsigned names;
    FILE *out;

    if (argc != 2) {
        fprintf(stderr, "usage: seccomp-gen OUTPUT.c\n");
        return 2;
    }
    gen_out = argv[1];
    if (seccomp_arch_native() != SCMP_ARCH_X86_64)
        gen_fail("kvmrun's filters are for x86_64, and this host is not");
    for (size_t i = 0; i < sizeof(filters) / sizeof(*filters); i++) {
        gen_sites(&filters[i]);
        gen_check(&filters[i]);
    }

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", gen_out) >= sizeof(tmp))
        gen_fail("output path too long");
    if (!(out = fopen(tmp, "w")))
        gen_fail("%s: %s", tmp, strerror(errno));
    gen_tmp = tmp;
    fprintf(out,
            "/* Generated by tools/seccomp-gen from src/confine_rules.c with "
            "libseccomp\n * %u.%u.%u%s: do not edit. See src/confine_bpf.h. "
            "*/\n",
            v->major, v->minor, v->micro,
            CONFINE_SANITIZER ? ", sanitizer builds' rules" : "");
    fprintf(out, "#include \"confine_bpf.h\"\n\n");
    /* The rules for sanitizer builds allow more: never in a plain one. */
    fprintf(out, "#%s __SANITIZE_ADDRESS__\n",
            CONFINE_SANITIZER ? "ifndef" : "ifdef");
    fprintf(out,
            "#error \"generated with CONFINE_SANITIZER=%d, compiled %s "
            "AddressSanitizer\"\n#endif\n",
            CONFINE_SANITIZER, CONFINE_SANITIZER ? "without" : "with");
    for (size_t i = 0; i < sizeof(filters) / sizeof(*filters); i++)
        gen_emit_filter(out, &filters[i]);
    names = gen_emit_names(out);
    if (fflush(out) != 0 || ferror(out) || fclose(out) != 0)
        gen_fail("writing %s: %s", tmp, strerror(errno));
    if (rename(tmp, gen_out) < 0)
        gen_fail("rename %s: %s", tmp, strerror(errno));

    for (size_t i = 0; i < sizeof(filters) / sizeof(*filters); i++) {
        const struct filter *f = &filters[i];

        printf("seccomp-gen: %s filter: %u instructions, patch sites: %u "
               "action, %u+%u pid\n",
               f->name, f->prog.len, f->counts[CONFINE_PATCH_ACTION],
               f->counts[CONFINE_PATCH_PID_LO],
               f->counts[CONFINE_PATCH_PID_HI]);
        free(f->prog.insns);
    }
    printf("seccomp-gen: %u system call names -> %s\n", names, gen_out);
    return 0;
}
