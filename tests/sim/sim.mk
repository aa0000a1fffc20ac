# tests/sim/sim.mk: the deterministic simulator (docs/simulator.md).
# Included by the top-level Makefile; uses its CXX_COMPILE, FLAGS_STAMP,
# LINK_STAMP, BUILDDIR, FLAVOUR, LIB_SRCS, SAN_FLAGS and SAN_ENV.
#
# The simulator compiles the library sources itself, with -DRAFT_MUTANTS
# (the deliberate bugs of the mutation self-test), into its own object
# directory: the shipped library never contains mutants.
#
#   make sim          build $(SIM_BIN)
#   make check-sim    what `make check` runs: every scripted scenario, the
#                     determinism self-test, the mutation self-test and
#                     SIM_SEEDS random seeds of SIM_EVENTS events (2 jobs)
#   make sim-long     100,000 seeds (not in CI)
#
# SIM_SEED picks the first seed (CI uses a fixed range so that a red build
# reproduces); raft-sim --help lists everything else.

SIM_BIN := $(BUILDDIR)/sim/raft-sim
SIM_OBJDIR := $(BUILDDIR)/sim/obj/$(FLAVOUR)
SIM_SRCS := $(sort $(wildcard tests/sim/*.cpp))
SIM_OBJS := $(patsubst %.cpp,$(SIM_OBJDIR)/%.o,$(SIM_SRCS) $(LIB_SRCS))
SIM_SCENARIOS := $(sort $(wildcard tests/sim/scenarios/*.sim))

SIM_SEED ?= 1
SIM_SEEDS ?= 8000
SIM_EVENTS ?= 10000
SIM_JOBS ?= 2
SIM_MUTANT_BUDGET ?= 2000
SIM_DETERMINISM_SEEDS ?= 20
SIM_LONG_SEEDS ?= 100000

$(SIM_OBJDIR)/%.o: %.cpp $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CXX_COMPILE) -DRAFT_MUTANTS -Itests/sim -c $< -o $@

-include $(shell find $(SIM_OBJDIR) -name '*.d' 2>/dev/null)

$(SIM_BIN): $(SIM_OBJS) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(SIM_OBJS) -pthread -lm

sim: $(SIM_BIN)

check-sim: $(SIM_BIN)
	@$(call banner,simulator: $(words $(SIM_SCENARIOS)) scripted scenarios)
	$(SAN_ENV) $(SIM_BIN) --quiet --scenario $(SIM_SCENARIOS)
	@$(call banner,simulator: determinism self-test)
	$(SAN_ENV) $(SIM_BIN) --quiet --determinism --seed $(SIM_SEED) --seeds $(SIM_DETERMINISM_SEEDS)
	@$(call banner,simulator: mutation self-test)
	$(SAN_ENV) $(SIM_BIN) --mutation-test --budget $(SIM_MUTANT_BUDGET) --jobs $(SIM_JOBS)
	@$(call banner,simulator: $(SIM_SEEDS) random seeds x $(SIM_EVENTS) events)
	$(SAN_ENV) $(SIM_BIN) --seed $(SIM_SEED) --seeds $(SIM_SEEDS) --events $(SIM_EVENTS) --jobs $(SIM_JOBS)

# Under a sanitizer the simulator is slower; a short run still exercises
# every code path the long one does.
check-sim-quick: $(SIM_BIN)
	@$(call banner,simulator (quick$(if $(SANITIZE),; $(SANITIZE))))
	$(SAN_ENV) $(SIM_BIN) --quiet --scenario $(SIM_SCENARIOS)
	$(SAN_ENV) $(SIM_BIN) --seed $(SIM_SEED) --seeds 200 --events $(SIM_EVENTS) --jobs $(SIM_JOBS)

sim-long: $(SIM_BIN)
	$(SIM_BIN) --seed $(SIM_SEED) --seeds $(SIM_LONG_SEEDS) --events $(SIM_EVENTS) --jobs $(SIM_JOBS)

CHECK_TARGETS += check-sim
SANITIZE_CHECK_TARGETS += check-sim-quick

.PHONY: sim check-sim check-sim-quick sim-long
