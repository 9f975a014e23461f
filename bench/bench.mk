# bench/bench.mk: the benchmarks (included by the Makefile).
#
#   make bench              build, then run every benchmark on real KVM:
#                           here, or in the test VM without /dev/kvm
#   make bench SANDBOX=1    force the test VM
#
# See bench/README.md; the programs take options when run by hand.

BENCH_PROGS := $(BUILD)/bench/exit-cost $(BUILD)/bench/kick-latency \
               $(BUILD)/bench/snapshot
BENCH_COMMON := $(call obj,bench/bench.c bench/rawvm.c)

$(BUILD)/bench/exit-cost: $(call obj,bench/exit-cost.c) $(BENCH_COMMON) \
		$(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

$(BUILD)/bench/kick-latency: $(call obj,bench/kick-latency.c \
		bench/rawkick.c) $(BENCH_COMMON) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

$(BUILD)/bench/snapshot: $(call obj,bench/snapshot.c) $(BENCH_COMMON) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) -lm

.PHONY: bench bench-progs
bench-progs: $(BENCH_PROGS)

bench: all bench-progs
	@SANDBOX=$(SANDBOX) tests/on-kvm $(BUILD) bench/run $(BUILD)
