# antimetal-agent: `make` builds build/antimetal-agent with every BPF object embedded.
# See README.md for the targets; ebpf/Makefile owns the kernel side.

CC      ?= cc
PKGS    := libbpf libelf zlib libdw libprotobuf-c libmicrohttpd yaml-0.1 gnutls libcrypt libcurl
BUILD   ?= build
EBPF_BUILD := ebpf/build
NPROC   := $(shell nproc 2>/dev/null || echo 2)

# CFLAGS is the user's (optimisation, debug info: `make CFLAGS=-O0` replaces it); AM_CFLAGS holds
# what the code needs and the project requires (warnings are errors), appended in every rule so
# no command-line CFLAGS can drop it.
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
AM_CFLAGS := $(WARN) -std=gnu11 -fno-omit-frame-pointer -D_GNU_SOURCE
CPPFLAGS += -Isrc -Iebpf/include -I$(EBPF_BUILD) -I$(BUILD)/gen \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libiberty (the C++/Rust demangler) ships no pkg-config file: a static archive, named directly.
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -liberty -lsnappy -lpthread -lm

# SAN=1: the ASan + UBSan build the test suite also runs, kept in its own tree.
ifeq ($(SAN),1)
BUILD   := build/asan
AM_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined
AM_LDFLAGS := -fsanitize=address,undefined
endif

PROTOS    := $(wildcard src/export/*.proto)
PROTO_C   := $(PROTOS:src/export/%.proto=$(BUILD)/gen/%.pb-c.c)
# Generated sources are kept: deleting them as intermediates relinks everything on each make.
.SECONDARY: $(PROTO_C)
LIB_SRCS  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c src/*/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(PROTO_C:%.c=%.o)
MAIN_OBJ  := $(BUILD)/obj/src/cli/main.o
LIB       := $(BUILD)/libantimetal.a
AGENT     := $(BUILD)/antimetal-agent

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
INTEG_SRCS:= $(wildcard tests/integration/test_*.c)
TEST_COMMON := $(wildcard tests/common/*.c)
TEST_COMMON_OBJS := $(TEST_COMMON:%.c=$(BUILD)/obj/%.o)
TEST_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(INTEG_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
INTEG_BINS:= $(INTEG_SRCS:tests/integration/%.c=$(BUILD)/tests/integration/%)
# Workloads are the programs integration tests trace and profile; built with frame pointers
# and symbols so user stacks and names are exact.
WORKLOAD_SRCS := $(wildcard tests/workloads/*.c)
WORKLOAD_CXX_SRCS := $(wildcard tests/workloads/*.cpp)
WORKLOADS := $(WORKLOAD_SRCS:tests/workloads/%.c=$(BUILD)/tests/workloads/%) \
	$(WORKLOAD_CXX_SRCS:tests/workloads/%.cpp=$(BUILD)/tests/workloads/%) \
	$(BUILD)/tests/workloads/nofp_chain_dwarf

.PHONY: all build-ebpf generate-ebpf-bindings generate-ebpf-types tests test run bench \
	hardware-tests deps clean fuzz test-kernels btfgen build-ebpf-builder image test-image \
	format-check golden-update
all: $(AGENT)

deps:
	scripts/install-deps.sh

# Images from Debian packages alone (packaging/image, docs/image.md).
VERSION ?= 0.1.0
IMAGE ?= antimetal-agent:$(VERSION)
BUILDER_IMAGE ?= antimetal-ebpf-builder:$(VERSION)

# IN_BUILDER=1: compile the BPF objects inside the eBPF builder image (make build-ebpf-builder).
ifeq ($(IN_BUILDER),1)
build-ebpf:
	packaging/image/run-in-image.sh $(BUILDER_IMAGE) make -C ebpf build-ebpf generate-ebpf-bindings
else
build-ebpf:
	$(MAKE) -C ebpf build-ebpf
endif

build-ebpf-builder:
	packaging/image/build-rootfs.sh builder $(BUILDER_IMAGE)

# The build stage is the eBPF builder; the agent links against the host's Debian libraries,
# the same release the runtime image is made of.
image: build-ebpf-builder
	$(MAKE) build-ebpf IN_BUILDER=1
	$(MAKE) all
	packaging/image/build-rootfs.sh runtime $(IMAGE) $(AGENT)

# Not part of `make test`: builds images (minutes), checks the builder image builds the host's
# BPF objects, and runs the agent from the image as the DaemonSet runs it.
test-image: image
	packaging/image/test-builder.sh $(BUILDER_IMAGE)
	AGENT=$(AGENT) packaging/image/test-image.sh $(IMAGE)

generate-ebpf-bindings:
	$(MAKE) -C ebpf generate-ebpf-bindings

# C needs no translated types: instead the layout of every shared struct is checked against the
# compiled objects' BTF, so kernel and user side cannot disagree silently.
generate-ebpf-types: generate-ebpf-bindings
	ebpf/scripts/gen_layout_checks.sh $(BUILD)/gen/ebpf_layout_checks.c $(EBPF_BUILD)/*.bpf.o
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AM_CFLAGS) -fsyntax-only $(BUILD)/gen/ebpf_layout_checks.c
	@echo "generate-ebpf-types: user-side layouts match the BPF objects' BTF"

$(EBPF_BUILD)/.stamp: $(wildcard ebpf/src/*.bpf.c ebpf/include/*.h) ebpf/scripts/verify_btf.sh ebpf/Makefile
	$(MAKE) -C ebpf all
	touch $@

# A skeleton is remade (only when its own object changed) by the stamp's recipe; naming the stamp
# here makes make look at the header after that recipe ran, so the objects whose .d files list a
# skeleton rebuild and no others do.
$(EBPF_BUILD)/%.skel.h: $(EBPF_BUILD)/.stamp ;

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: src/export/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=src/export --c_out=$(BUILD)/gen $<

# protoc-c's output is not ours to fix: compiled without -Werror.
# Generated files include the headers of the protos they import: all of them first.
$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c | $(PROTO_C)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(filter-out -Werror,$(AM_CFLAGS)) -MMD -MP -c $< -o $@

# The skeletons and generated protobuf headers must exist before the first compile (order-only);
# after that the -MMD dependency files say which objects include which, so one .bpf.c edit
# rebuilds only the objects that include its skeleton.
$(BUILD)/obj/%.o: %.c | $(EBPF_BUILD)/.stamp $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(if $(filter tests/%,$<),$(TEST_DEFS)) $(CFLAGS) $(AM_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(AGENT): $(MAIN_OBJ) $(LIB)
	$(CC) $(AM_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

TEST_DEFS = -Itests/common -DAM_BUILD_DIR='"$(abspath $(BUILD))"' -DAM_SRC_DIR='"$(CURDIR)"'
# Tests compile to objects of their own (with .d files) so a library change relinks them but
# recompiles none. Static pattern rules: the objects are named, so make never treats them as
# intermediates it may skip.
TEST_LINK = $(CC) $(AM_LDFLAGS) $(LDFLAGS) $< $(TEST_COMMON_OBJS) $(LIB) $(LDLIBS) -lcriterion -o $@

$(UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB) $(TEST_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(TEST_LINK)

$(INTEG_BINS): $(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(LIB) $(TEST_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(TEST_LINK)

# Built separately, as the spec asks: they only mean something on a machine with a PMU.
HW_SRCS := $(wildcard tests/hardware/*.c)
$(BUILD)/hardware-tests: $(HW_SRCS) $(LIB) $(TEST_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_DEFS) $(CFLAGS) $(AM_CFLAGS) $(AM_LDFLAGS) $(LDFLAGS) $(HW_SRCS) $(TEST_COMMON_OBJS) $(LIB) $(LDLIBS) -lcriterion -o $@

# Optimized with inlining on: the pprof test wants an inlined function in the line info.
$(BUILD)/tests/workloads/inline_hot: tests/workloads/inline_hot.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fno-omit-frame-pointer $(WARN) $< -o $@

# Without frame pointers, as most distribution packages are: only CFI unwinds it. The _dwarf
# build has its functions' CFI in .debug_frame only (no unwind tables), as some embedded and
# kernel-style builds do.
$(BUILD)/tests/workloads/nofp_chain: tests/workloads/nofp_chain.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer $(WARN) $< -o $@

$(BUILD)/tests/workloads/deep_nofp: tests/workloads/deep_nofp.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer $(WARN) $< -o $@

$(BUILD)/tests/workloads/nofp_chain_dwarf: tests/workloads/nofp_chain.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -fno-asynchronous-unwind-tables -fno-unwind-tables \
		$(WARN) $< -o $@

$(BUILD)/tests/workloads/%: tests/workloads/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -fno-omit-frame-pointer -fno-inline $(WARN) $< -o $@ -lpthread -lm

# C++ workloads give the profiler mangled names to demangle.
$(BUILD)/tests/workloads/%: tests/workloads/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) -O1 -g -fno-omit-frame-pointer -fno-inline $(WARN) $< -o $@

tests: $(AGENT) $(UNIT_BINS) $(INTEG_BINS) $(WORKLOADS)

# Every C source of ours against the checked-in .clang-format (vmlinux.h is bpftool's output).
# `make test` runs it first; FORMAT_CHECK=0 skips it for a local run only.
FORMAT_SRCS = $(shell find src tests ebpf/src ebpf/include \( -name '*.[ch]' -o -name '*.cpp' \) \
	! -name vmlinux.h | sort)
FORMAT_CHECK ?= 1
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRCS) && \
		echo "format-check: $(words $(FORMAT_SRCS)) files match .clang-format" || \
		{ echo "format-check: the files above differ from .clang-format (clang-format -i FILE)"; \
		  exit 1; }

# Rewrite the golden outputs (tests/fixtures/golden/) from the current build, e.g. after a metric
# is renamed; review the diff before committing it.
golden-update: $(AGENT) $(BUILD)/tests/integration/test_golden
	AM_GOLDEN_UPDATE=1 $(BUILD)/tests/integration/test_golden -j1

# The README's test command: format, normal build (unit + integration), then the sanitizer build.
test:
	$(if $(filter 1,$(FORMAT_CHECK)),$(MAKE) format-check)
	scripts/install-deps.sh
	$(MAKE) -j$(NPROC) tests
	$(MAKE) -j$(NPROC) SAN=1 tests
	$(MAKE) -j$(NPROC) hardware-tests
	$(MAKE) generate-ebpf-types
	scripts/run-tests.sh

run:
	scripts/install-deps.sh
	$(MAKE) all
	$(AGENT) run

# Benchmark programs (bench/*.c) link the library, their shared helpers (bench/common) and the
# tests' ptrace stack sampler.
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
BENCH_COMMON := $(wildcard bench/common/*.c)
$(BENCH_BINS): $(BUILD)/bench/%: bench/%.c $(BENCH_COMMON) $(wildcard bench/common/*.h) $(LIB) \
		$(BUILD)/obj/tests/common/ptrace_stack.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_DEFS) $(CFLAGS) $(AM_CFLAGS) $(AM_LDFLAGS) $(LDFLAGS) $< \
		$(BENCH_COMMON) $(BUILD)/obj/tests/common/ptrace_stack.o $(LIB) $(LDLIBS) -o $@

bench: $(AGENT) $(WORKLOADS) $(BENCH_BINS)
	bench/run.sh

hardware-tests: $(BUILD)/hardware-tests $(AGENT) $(WORKLOADS)

fuzz:
	$(MAKE) -C tests/fuzz

# Boot other kernels under qemu and run the smoke tests inside (slow: not part of `make test`).
test-kernels: $(AGENT)
	tests/kernels/run.sh

# Reduce full kernel BTF files to what our objects need (bpftool gen min_core_btf).
btfgen: build-ebpf
	ebpf/scripts/btfgen.sh

clean:
	rm -rf build
	$(MAKE) -C ebpf clean

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
