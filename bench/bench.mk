# bench/bench.mk: the benchmarks (included by the Makefile).
#
#   make bench              build, then run every benchmark on real KVM:
#                           here, or in the test VM without /dev/kvm
#   make bench SANDBOX=1    force the test VM
#
# See bench/README.md; the programs take options when run by hand.

BENCH_PROGS := $(BUILD)/bench/exit-cost $(BUILD)/bench/kick-latency \
               $(BUILD)/bench/boot $(BUILD)/bench/snapshot \
               $(BUILD)/bench/control $(BUILD)/bench/chaos \
               $(BUILD)/bench/vsock-tool
BENCH_COMMON := $(call obj,bench/bench.c bench/rawvm.c)

$(BUILD)/bench/exit-cost: $(call obj,bench/exit-cost.c) $(BENCH_COMMON) \
		$(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

$(BUILD)/bench/kick-latency: $(call obj,bench/kick-latency.c \
		bench/rawkick.c) $(BENCH_COMMON) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

$(BUILD)/bench/control: $(call obj,bench/control.c bench/bench.c) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

$(BUILD)/bench/chaos: $(call obj,bench/chaos.c bench/bench.c) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)

$(BUILD)/bench/boot: $(call obj,bench/boot.c bench/bench.c) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS)
$(BUILD)/bench/snapshot: $(call obj,bench/snapshot.c) $(BENCH_COMMON) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

# bench/vsock's two ends: static (the guest's initramfs runs it too) and
# never sanitized, as tests/kvm/vsock_tool.
$(BUILD)/bench/vsock-tool: bench/vsock-tool.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	    -Wmissing-prototypes -Wstrict-prototypes -static -o $@ $<

.PHONY: bench bench-progs
bench-progs: $(BENCH_PROGS)

bench: all bench-progs
	@tests/linux/stage $(BUILD)/linux
	@bench/blk --stage $(BUILD)
	@bench/net --stage $(BUILD)
	@bench/vsock --stage $(BUILD)
	@SANDBOX=$(SANDBOX) \
	    SANDBOX_COPY="$$(bench/qemu-files; command -v fio iperf3)" \
	    tests/on-kvm $(BUILD) bench/run $(BUILD)

# bench/boot-soak: 100 Linux boots in a row with 1 and 2 vCPUs, each under
# a timeout: no hang, no lost output (not part of make bench: ~25 min in
# the test VM). SOAK_BOOTS=N for fewer.
SOAK_BOOTS ?= 100
.PHONY: boot-soak
boot-soak: all
	@tests/linux/stage $(BUILD)/linux
	@if [ "$(SANDBOX)" != 1 ] && tests/linux/probe $(BUILD); then \
	    bench/boot-soak -n $(SOAK_BOOTS) $(BUILD); \
	else \
	    tests/sandbox/run --timeout 7200 -- \
	        bench/boot-soak -n $(SOAK_BOOTS) $(BUILD); \
	fi

# bench/chaos: minutes of concurrent pause/resume/snapshot/stats clients,
# SIGUSR2 and a stalling output reader against one VM, with invariants
# (see bench/chaos.c). Not part of make bench or CI. SOAK_SECONDS=N.
SOAK_SECONDS ?= 300
.PHONY: soak
soak: all $(BUILD)/bench/chaos
	@SANDBOX=$(SANDBOX) SANDBOX_TIMEOUT=$$(($(SOAK_SECONDS) * 3 + 600)) \
	    tests/on-kvm $(BUILD) $(BUILD)/bench/chaos -t $(SOAK_SECONDS) \
	    $(BUILD)
