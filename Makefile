# Makefile: builds libkvmrun, the kvmrun command, guests, examples, tests.
#
#   make              build everything under build/
#   make demo         run the built-in demo guest (in the test VM if this
#                     host has no usable /dev/kvm)
#   make demo-linux   boot Debian's cloud kernel to a busybox shell
#   make check        unit tests on the host, KVM tests on real KVM
#   make check SANITIZE=1   the same under ASan + UBSan, in build-san/
#   make check SANDBOX=1    force the KVM tests into the test VM
#   make test         the unit tests only (no KVM, no root, seconds)
#   make install      kvmrun, libkvmrun (.a and .so), kvmrun.h, kvmrun.pc,
#                     kvmrun(1), bash completion under DESTDIR PREFIX
#                     (/usr/local); make uninstall removes them

CC ?= gcc
LD := ld
OBJCOPY := objcopy

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

WARNFLAGS := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
             -Wshadow -Wformat=2 -Wvla -Wpointer-arith -Wundef -fno-common
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARNFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
CPPFLAGS := -Iinclude -Isrc -MMD -MP
LDFLAGS := -pthread $(SANFLAGS) $(EXTRA_LDFLAGS)
# The control socket's JSON (src/control*.c); zlib's crc32 for snapshot
# files (src/snapfile.c); liburing for the disks' io_uring engine
# (src/blkio_uring.c; the calls Debian 12's liburing.so lacks go through
# the system call itself). Not libseccomp: the seccomp filters are
# compiled at build time (see SECCOMP_GEN below).
LDFLAGS += -ljansson -lz -luring
# The kvmrun command is linked statically, like Firecracker and kvmtool:
# no ld.so at start, and only the parts of libc it calls are resident
# instead of libc.so's shared pages (1.2 MiB of it, with fault-around).
# Debian ships the .a of each library above. Not with SANITIZE=1: ASan
# wants a dynamic executable. Tests, examples and benchmarks stay dynamic.
ifeq ($(SANITIZE),1)
override STATIC := 0
else
STATIC ?= 1
endif
KVMRUN_LDFLAGS := $(if $(filter 1,$(STATIC)),-static)

# src/confine_rules.c is the seccomp filters' rules: for the generator only.
LIB_SRCS := $(filter-out src/confine_rules.c,\
            $(wildcard src/*.c src/dev/*.c src/load/*.c src/arch/x86/*.c \
                       src/virtio/*.c))
CLI_SRCS := $(wildcard cli/*.c)
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,\
              $(wildcard tests/unit/test_*.c))
KVM_TESTS := $(patsubst tests/kvm/%.c,$(BUILD)/tests/kvm/%,\
             $(wildcard tests/kvm/*.c)) $(BUILD)/tests/kvm/kick_storm_broken
# Flat 16-bit guests: one .S each (*_tramp.S are parts of C guests).
GUESTS := $(patsubst %.S,$(BUILD)/guests/%.bin,\
          $(notdir $(filter-out %_tramp.S,\
                   $(wildcard guests/*.S tests/guests/*.S))))
# Freestanding C guests: NAME32.c runs in 32-bit, NAME64.c in 64-bit mode;
# each is built as an ELF (NAME.elf) and a raw image (NAME.bin) at 1 MiB.
C_GUESTS := $(patsubst tests/guests/%.c,$(BUILD)/guests/%,\
            $(wildcard tests/guests/*32.c tests/guests/*64.c))
GUESTS += $(addsuffix .bin,$(C_GUESTS)) $(addsuffix .elf,$(C_GUESTS))
# Multiboot guests: mb_NAME.c, 32-bit ELF kernels with start_mb.S's header.
GUESTS += $(patsubst tests/guests/%.c,$(BUILD)/guests/%.elf,\
          $(wildcard tests/guests/mb_*.c))
GUEST_CFLAGS := -std=c11 -ffreestanding -fno-pic -fno-pie -nostdlib \
                -fno-stack-protector -fno-asynchronous-unwind-tables \
                -mgeneral-regs-only -O2 -g -Wall -Wextra -Werror \
                -Iguests/lib -Itests/guests

# $(BUILD)/guests holds only guests that run (README there says how);
# their objects and intermediate links go to $(GOBJ).
GOBJ := $(BUILD)/obj/guests
GUESTS += $(BUILD)/guests/README

LIB := $(BUILD)/libkvmrun.a
KVMRUN := $(BUILD)/kvmrun

# The shared library: the same sources compiled position-independent
# ($(BUILD)/pic), exporting only kvmrun_* (dist/libkvmrun.map). The
# kvmrun command links the static one.
VERSION := $(shell sed -n 's/^\#define KVMRUN_VERSION "\(.*\)"/\1/p' \
             include/kvmrun.h)
SOVERSION := 0
SONAME := libkvmrun.so.$(SOVERSION)
SOLIB := $(BUILD)/libkvmrun.so.$(VERSION)
PIC_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRCS)) \
            $(BUILD)/pic/gen/confine_bpf.o

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all deps demo demo-linux check unit-tests test clean format \
        kvmrun lib install uninstall
# Keep intermediate objects (guest .o and .elf files): no rebuilds, no noise.
.SECONDARY:
all: $(KVMRUN) $(SOLIB) $(EXAMPLES) $(GUESTS) $(KVM_TESTS)
kvmrun: $(KVMRUN)
lib: $(LIB) $(SOLIB)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS)) $(BUILD)/obj/gen/confine_bpf.o
	@rm -f $@
	ar rcs $@ $^

# The seccomp filters are compiled at build time, as Firecracker's
# seccompiler does: SECCOMP_GEN (tools/seccomp-gen.c, a host program and the
# only thing linked with libseccomp) runs the rules of src/confine_rules.c
# through libseccomp and writes the BPF programs and the system call names
# (for the SIGSYS report) to $(GEN)/confine_bpf.c. At run time kvmrun only
# writes the action and its pid into a copy and installs it (src/confine.c):
# no filter building at start (10-50 ms of it in the test VM) and no
# libseccomp code, tables and heap resident in kvmrun (~200 KiB). The
# generator fails the build if the programs cannot be patched that way.
# Sanitizer builds (-fsanitize=address) get the rules that the sanitizer
# runtimes need too.
GEN := $(BUILD)/gen
SECCOMP_GEN := $(GEN)/seccomp-gen
CONFINE_SANITIZER := $(if $(findstring address,\
                     $(filter -fsanitize=%,$(CFLAGS))),1,0)
$(GEN)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DCONFINE_SANITIZER=$(CONFINE_SANITIZER) \
	    -std=c11 -D_GNU_SOURCE -O2 -g $(WARNFLAGS) -c -o $@ $<
$(SECCOMP_GEN): $(GEN)/obj/tools/seccomp-gen.o $(GEN)/obj/src/confine_rules.o
	$(CC) -o $@ $^ -lseccomp
$(GEN)/confine_bpf.c: $(SECCOMP_GEN)
	$(SECCOMP_GEN) $@
$(BUILD)/obj/gen/confine_bpf.o: $(GEN)/confine_bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/pic/gen/confine_bpf.o: $(GEN)/confine_bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<
$(SOLIB): $(PIC_OBJS) dist/libkvmrun.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
	    -Wl,--version-script=dist/libkvmrun.map -o $@ $(PIC_OBJS) $(LDFLAGS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libkvmrun.so

# 16-bit guests: preprocessed assembly, linked at 0x1000, flat binaries.
# The link (an ELF that would start in protected mode) stays in $(GOBJ).
$(GOBJ)/%.o: guests/%.S guests/guest.h
	@mkdir -p $(dir $@)
	$(CC) -m32 -c -Iguests -o $@ $<
$(GOBJ)/%.o: tests/guests/%.S guests/guest.h
	@mkdir -p $(dir $@)
	$(CC) -m32 -c -Iguests -o $@ $<
$(BUILD)/guests/%.bin: $(GOBJ)/%.o guests/raw.ld
	@mkdir -p $(dir $@)
	$(LD) -m elf_i386 -T guests/raw.ld -o $(GOBJ)/$*.elf $<
	$(OBJCOPY) -O binary $(GOBJ)/$*.elf $@

# One line per guest: what it does and how to run it. Every guest built
# must have its line.
$(BUILD)/guests/README: tests/guests/README
	@mkdir -p $(dir $@)
	@for g in $(notdir $(filter-out %/README,$(GUESTS))); do \
	    grep -q "^$$g " $< || { echo "$<: no line for $$g"; exit 1; }; \
	done
	cp $< $@

$(GOBJ)/c32/%.o: guests/lib/%.c guests/lib/guestlib.h
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -c -o $@ $<
$(GOBJ)/c32/%.o: guests/lib/%.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -c -o $@ $<
$(GOBJ)/c32/%.o: tests/guests/%.c guests/lib/guestlib.h \
		$(wildcard tests/guests/*.h)
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -c -o $@ $<
$(GOBJ)/c64/%.o: guests/lib/%.c guests/lib/guestlib.h
	@mkdir -p $(dir $@)
	$(CC) -m64 -mno-red-zone $(GUEST_CFLAGS) -c -o $@ $<
$(GOBJ)/c64/%.o: guests/lib/%.S
	@mkdir -p $(dir $@)
	$(CC) -m64 -c -o $@ $<
$(GOBJ)/c64/%.o: tests/guests/%.c guests/lib/guestlib.h \
		$(wildcard tests/guests/*.h)
	@mkdir -p $(dir $@)
	$(CC) -m64 -mno-red-zone $(GUEST_CFLAGS) -c -o $@ $<
$(BUILD)/guests/%32.elf: $(GOBJ)/c32/start32.o \
		$(GOBJ)/c32/%32.o $(GOBJ)/c32/guestlib.o \
		guests/lib/c.ld
	@mkdir -p $(dir $@)
	$(LD) -m elf_i386 --no-warn-rwx-segments -T guests/lib/c.ld -o $@ \
	    $(filter %.o,$^)
$(BUILD)/guests/%64.elf: $(GOBJ)/c64/start64.o \
		$(GOBJ)/c64/%64.o $(GOBJ)/c64/guestlib.o \
		guests/lib/c.ld
	@mkdir -p $(dir $@)
	$(LD) -m elf_x86_64 --no-warn-rwx-segments -T guests/lib/c.ld -o $@ \
	    $(filter %.o,$^)
$(GOBJ)/c32/%.o: tests/guests/%.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -c -o $@ $<
$(BUILD)/guests/mb_smp.elf: $(GOBJ)/c32/mb_smp_tramp.o
$(BUILD)/guests/mb_%.elf: $(GOBJ)/c32/start_mb.o \
		$(GOBJ)/c32/mb_%.o $(GOBJ)/c32/guestlib.o \
		guests/lib/c.ld
	@mkdir -p $(dir $@)
	$(LD) -m elf_i386 --no-warn-rwx-segments -T guests/lib/c.ld -o $@ \
	    $(filter %.o,$^)
$(BUILD)/guests/%32.bin: $(BUILD)/guests/%32.elf
	$(OBJCOPY) -O binary $< $@
$(BUILD)/guests/%64.bin: $(BUILD)/guests/%64.elf
	$(OBJCOPY) -O binary $< $@

$(BUILD)/obj/cli/demo_image.o: cli/demo_image.S $(BUILD)/guests/demo.bin
	@mkdir -p $(dir $@)
	$(CC) -c -Wa,-I$(BUILD)/guests -o $@ $<

$(KVMRUN): $(call obj,$(CLI_SRCS)) $(BUILD)/obj/cli/demo_image.o $(LIB)
	$(CC) -o $@ $^ $(LDFLAGS) $(KVMRUN_LDFLAGS)

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

$(BUILD)/tests/kvm/%: $(BUILD)/obj/tests/kvm/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

# Both ends of the vsock test: static, since the guest's initramfs runs
# it, and never sanitized (the runtimes are not there).
$(BUILD)/tests/kvm/vsock_tool: tests/kvm/vsock_tool.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -static \
	    -o $@ $<

# The kick storm linked with a kick.c that breaks the protocol on purpose
# (immediate_exit cleared after the drain): tests/kvm/kick_protocol_broken.sh
# checks that the storm catches it.
$(BUILD)/obj/kick_broken.o: src/kick.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DKICK_TEST_CLEAR_AFTER_DRAIN -c -o $@ $<
$(BUILD)/tests/kvm/kick_storm_broken: $(BUILD)/obj/tests/kvm/kick_storm.o \
		$(BUILD)/obj/kick_broken.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

# The machine with one more device: tests/devices/dummy.c, added by its
# line in the machine table alone (src/arch/x86/pc.c built with
# -DKVMRUN_TEST_DUMMY_DEVICE, which the library's own pc.o then gives way
# to). tests/kvm/dummy_device.sh checks that snapshots, restores and
# teardown pick it up.
$(BUILD)/obj/pc_dummy.o: src/arch/x86/pc.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DKVMRUN_TEST_DUMMY_DEVICE -c -o $@ $<
$(BUILD)/tests/kvm/dummy_device: $(BUILD)/obj/tests/kvm/dummy_device.o \
		$(BUILD)/obj/tests/devices/dummy.o $(BUILD)/obj/pc_dummy.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

# The seccomp test confines itself through kvmrun's own code (cli/sigsys.c).
$(BUILD)/tests/kvm/seccomp_violation: $(BUILD)/obj/cli/sigsys.o \
		$(BUILD)/obj/cli/console.o

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lcmocka

unit-tests: $(UNIT_TESTS)

# The unit tests alone: no KVM, no root, no packages installed.
test: $(UNIT_TESTS)
	@tests/run $(UNIT_TESTS)

deps:
	@scripts/deps

demo: deps all
	@SANDBOX=$(SANDBOX) tests/on-kvm $(BUILD) $(KVMRUN)

# Debian's cloud kernel (apt-get download, cached) and a busybox initramfs,
# booted to a shell on the serial console: live on a terminal, fed from
# stdin otherwise (tests/linux/demo decides, and runs it on KVM).
demo-linux: deps all
	@tests/linux/stage $(BUILD)/linux
	@SANDBOX=$(SANDBOX) tests/linux/demo $(KVMRUN) $(BUILD)/linux

check: deps all unit-tests
	@SANDBOX=$(SANDBOX) tests/check $(BUILD)

format:
	clang-format -i $(LIB_SRCS) src/confine_rules.c tools/seccomp-gen.c \
	    $(CLI_SRCS) $(wildcard src/*.h src/*/*.h \
	    src/*/*/*.h include/*.h cli/*.h examples/*.c tests/unit/*.c \
	    tests/unit/*.h)

clean:
	rm -rf build build-san

# make install [PREFIX=/usr/local] [DESTDIR=...]; the .pc file is written
# with the final paths (without DESTDIR).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
INSTALLED := $(BINDIR)/kvmrun $(LIBDIR)/libkvmrun.a \
             $(LIBDIR)/libkvmrun.so.$(VERSION) $(LIBDIR)/$(SONAME) \
             $(LIBDIR)/libkvmrun.so $(INCLUDEDIR)/kvmrun.h \
             $(PKGCONFIGDIR)/kvmrun.pc $(MANDIR)/man1/kvmrun.1 \
             $(BASHCOMPDIR)/kvmrun

install: $(KVMRUN) $(LIB) $(SOLIB)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 755 $(KVMRUN) $(DESTDIR)$(BINDIR)/kvmrun
	$(INSTALL) -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libkvmrun.a
	$(INSTALL) -m 644 $(SOLIB) $(DESTDIR)$(LIBDIR)/libkvmrun.so.$(VERSION)
	ln -sf libkvmrun.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libkvmrun.so
	$(INSTALL) -m 644 include/kvmrun.h $(DESTDIR)$(INCLUDEDIR)/kvmrun.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    dist/kvmrun.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/kvmrun.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/kvmrun.pc
	$(INSTALL) -m 644 dist/kvmrun.1 $(DESTDIR)$(MANDIR)/man1/kvmrun.1
	$(INSTALL) -m 644 dist/kvmrun.bash-completion \
	    $(DESTDIR)$(BASHCOMPDIR)/kvmrun

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Fuzzing (clang's libFuzzer with ASan + UBSan): tests/fuzz/fuzz_NAME.c
# runs on a copy of tests/fuzz/corpus/NAME/ for FUZZ_SECONDS each; crashes
# land in $(BUILD)/fuzz/NAME-crash-*.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
               -Wmissing-prototypes -Wstrict-prototypes \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# What each target links: FUZZ_SRCS_NAME and FUZZ_LIBS_NAME, else the
# loaders' FUZZ_SRCS.
FUZZ_SRCS := src/load/elf.c src/load/multiboot.c src/load/linux.c \
             src/load/region.c src/mem.c src/error.c
FUZZ_SRCS_control := src/control_req.c src/error.c
FUZZ_LIBS_control := -ljansson
FUZZ_SRCS_gdb_packet := src/gdb_packet.c
FUZZ_SRCS_snapshot := src/snapfile.c src/error.c
FUZZ_LIBS_snapshot := -lz
FUZZ_SRCS_virtqueue := src/virtio/virtqueue.c src/mem.c src/error.c
FUZZ_SRCS_virtio_blk := src/virtio/blk_req.c src/virtio/virtqueue.c \
                        src/mem.c src/error.c
FUZZ_SRCS_virtio_net := src/virtio/net_req.c src/virtio/virtqueue.c \
                        src/mem.c src/error.c
fuzz_srcs = $(or $(FUZZ_SRCS_$(1)),$(FUZZ_SRCS))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,\
           $(wildcard tests/fuzz/fuzz_*.c))

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_srcs,$$*) \
		$(wildcard include/*.h src/*.h src/*/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude -Isrc -o $@ $< \
	    $(call fuzz_srcs,$*) $(FUZZ_LIBS_$*)

.PHONY: fuzz
fuzz: deps $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	    t=$${f##*/fuzz_}; work=$$(mktemp -d); \
	    if [ -d tests/fuzz/corpus/$$t ]; then \
	        cp tests/fuzz/corpus/$$t/* $$work/; fi; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s, seeds tests/fuzz/corpus/$$t"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	            -artifact_prefix=$(BUILD)/fuzz/$$t- $$work 2>$$work.log; then \
	        tail -n 40 $$work.log; \
	        echo "fuzz_$$t failed: see $(BUILD)/fuzz/$$t-*"; \
	        rm -rf $$work $$work.log; exit 1; \
	    fi; \
	    grep -E '^stat::number_of_executed_units|^stat::new_units_added' \
	        $$work.log | sed "s/^/fuzz_$$t: /"; \
	    rm -rf $$work $$work.log; \
	done

# Benchmarks: bench/bench.mk defines `make bench`.
-include bench/bench.mk

-include $(shell find $(BUILD)/obj $(BUILD)/pic $(GEN)/obj -name '*.d' \
           2>/dev/null)
