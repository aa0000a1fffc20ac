# tests/fuzz/fuzz.mk: libFuzzer targets (clang only).  Included by the top-level Makefile; uses
# its BUILDDIR, LIB_SRCS, WERROR_FLAGS, RUN_TEST, update-stamp and banner.
#
#   make fuzz-build     build $(FUZZ_DIR)/fuzz_{wire,node,storage}
#   make fuzz           build, then run each target for FUZZ_SECONDS against a fresh copy of its
#                       committed seed corpus (tests/fuzz/corpus/<target>; the committed
#                       directory is never written).  Any crash, leak, UB report or timeout fails
#                       the run; the input is left in $(FUZZ_DIR)/artifacts/<target>/.
#   make fuzz FUZZ_TARGETS=wire FUZZ_SECONDS=600      one target, longer
#
# A crash found here becomes a regression test by copying the artifact to
# tests/fuzz/corpus/<target>/regress-<what>: every later run replays the whole corpus first.

FUZZ_CXX ?= clang++
FUZZ_SECONDS ?= 60
# Per-input limit: a slow input is a bug (a hang) as much as a crash.
FUZZ_INPUT_TIMEOUT ?= 10
FUZZ_TARGETS ?= wire node storage
FUZZ_ARGS ?=
# Scratch space for fuzz_storage's directory.  tmpfs makes its fsyncs free: forty times the
# executions of a disk-backed directory.
FUZZ_SHM := $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm)
FUZZ_SCRATCH ?= $(or $(FUZZ_SHM),$(abspath $(FUZZ_DIR))/tmp)

FUZZ_DIR ?= $(BUILDDIR)/fuzz
FUZZ_OBJDIR := $(FUZZ_DIR)/obj
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_COMPILE = $(FUZZ_CXX) -std=c++17 -Iinclude -Isrc -g -O1 -Wall -Wextra $(FUZZ_SAN) \
    -fsanitize=fuzzer-no-link $(WERROR_FLAGS) -MMD -MP
FUZZ_LINK = $(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer

FUZZ_STAMP := $(FUZZ_OBJDIR)/.flags
ifneq ($(filter fuzz fuzz-%,$(MAKECMDGOALS)),)
$(call update-stamp,$(FUZZ_STAMP),$(FUZZ_COMPILE) | $(FUZZ_LINK))
endif
$(FUZZ_STAMP):
	@mkdir -p $(@D) && touch $@

# What each target links: as little of the library as its subject needs.
FUZZ_SRCS_wire := $(sort $(wildcard src/wire/*.cpp))
FUZZ_SRCS_node := $(LIB_SRCS)
FUZZ_SRCS_storage := $(sort $(wildcard src/storage/*.cpp src/common/*.cpp)) src/wire/crc32c.cpp \
    src/wire/snapshot_meta.cpp

fuzz_objs = $(patsubst %.cpp,$(FUZZ_OBJDIR)/%.o,tests/fuzz/fuzz_$(1).cpp $(FUZZ_SRCS_$(1)))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_OBJDIR)/%.o: %.cpp $(FUZZ_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_COMPILE) -c $< -o $@

-include $(shell find $(FUZZ_OBJDIR) -name '*.d' 2>/dev/null)

define fuzz_link_rule
$(FUZZ_DIR)/fuzz_$(1): $(call fuzz_objs,$(1)) $(FUZZ_STAMP)
	$$(FUZZ_LINK) -o $$@ $(call fuzz_objs,$(1)) -pthread -lm
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_link_rule,$(t))))

fuzz-build: $(FUZZ_BINS)

# One target after another (the machine has two cores; libFuzzer would use one each anyway).
# The corpus copy starts fresh every run so that a result depends only on the committed seeds.
# TMPDIR gives fuzz_storage a fresh scratch directory, removed afterwards.  The summary line is
# taken from -print_final_stats; the wall-clock limit guards against libFuzzer itself hanging.
fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    printf '\n==== %s ====\n' "fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    rm -rf $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t $(FUZZ_SCRATCH); \
	    cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/; \
	    log=$(FUZZ_DIR)/fuzz_$$t.log; rc=0; \
	    scratch=$$(mktemp -d $(FUZZ_SCRATCH)/raft-fuzz-$$t.XXXXXX); \
	    TMPDIR=$$scratch \
	    timeout -k 10 $$(( $(FUZZ_SECONDS) + 120 )) $(FUZZ_DIR)/fuzz_$$t \
	        -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_INPUT_TIMEOUT) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_ARGS) \
	        $(FUZZ_DIR)/corpus/$$t > $$log 2>&1 || rc=$$?; \
	    rm -rf "$$scratch"; \
	    if [ $$rc -ne 0 ]; then \
	        tail -n 60 $$log; \
	        echo "FAIL: fuzz_$$t exited with status $$rc; input(s):" $(FUZZ_DIR)/artifacts/$$t/*; \
	        echo "  reproduce: $(FUZZ_DIR)/fuzz_$$t <input>; keep it as" \
	             "tests/fuzz/corpus/$$t/regress-<what> once fixed"; \
	        exit 1; fi; \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	    cov=$$(grep -o 'cov: [0-9]*' $$log | tail -n 1); \
	    corp=$$(ls $(FUZZ_DIR)/corpus/$$t | wc -l); \
	    echo "fuzz_$$t: $$execs executions in $(FUZZ_SECONDS) s, $$cov edges," \
	         "corpus $$(ls tests/fuzz/corpus/$$t | wc -l) -> $$corp inputs, no crash"; \
	done

.PHONY: fuzz fuzz-build
