# libraft build
# =============
#
# Two kinds of build, never mixed:
#
#   make                  the packager's build: libraft.so.X.Y.Z (+ links), libraft.a, raft.pc and
#                         the CMake package in build/.  Warnings are reported but never fatal, so a
#                         newer compiler on a distro never breaks the package.
#   make check            the developer's and CI's build: every object is compiled with -Werror.
#
# How -Werror is chosen: the variable WERROR (0 or 1).  Any goal named check, check-*, test,
# test-*, fuzz, fuzz-* or coverage (the developer's goals) forces WERROR=1; so does
# `make WERROR=1`.  Objects go to build/obj/default/ or build/obj/werror/, so switching between
# `make` and `make check` never reuses an object that was compiled under the other policy (a
# warning-carrying object cannot slip into CI).  Only the cheap link step is redone on a switch.
# Each object directory also records its full compiler command line (.flags), so
# `make CXXFLAGS=...` recompiles what it must.
#
# Sanitizers: `make check-asan` / `make check-tsan` (or SANITIZE=asan|tsan with any goal) build
# into build/asan/ and build/tsan/.
#
# Other areas plug in through the optional fragments included near the end (tests/sim/sim.mk,
# bindings/bindings.mk, bench/bench.mk, examples/kv/kv.mk, tests/fuzz/fuzz.mk).  A fragment may
# use BUILDDIR, OBJDIR, FLAVOUR, VERSION, LIB_SRCS, LIB_A, LIB_SO, LIB_SO_SONAME, FLAGS_STAMP,
# LINK_STAMP, CXX_COMPILE, C_COMPILE, WERROR_FLAGS, the generic $(OBJDIR)/%.o rules, SAN_FLAGS,
# SAN_ENV, RUN_TEST (a time limit for test programs), update-stamp and $(call banner,TITLE), and
# may append to:
#   CHECK_TARGETS            goals `make check` runs, in order, after the unit tests
#   SANITIZE_CHECK_TARGETS   goals check-asan/check-tsan run after the unit tests
#   FORMAT_DIRS              directories format-check covers
#   CLEAN_FILES              extra files `make clean` removes (outside build/)
#
# Honoured variables: CC CXX AR CFLAGS CXXFLAGS CPPFLAGS LDFLAGS DESTDIR PREFIX LIBDIR INCLUDEDIR
# PKGCONFIGDIR CMAKEDIR, plus WERROR, SANITIZE, BUILDDIR, GTEST_ARGS, FUZZ_SECONDS.
#
# Beyond `make check` (.ci/run runs these too): check-cmake, check-dist, check-asan, check-tsan,
# fuzz, tidy, cppcheck, format-check.  Not in CI: coverage.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

all: # the default goal; its prerequisites are listed in the library section

# ---------------------------------------------------------------------------------------------
# Version: include/raft.h is the single source of truth.
# ---------------------------------------------------------------------------------------------

raft_version_part = $(shell sed -n 's/^.define RAFT_VERSION_$(1)  *\([0-9][0-9]*\).*/\1/p' include/raft.h)
VERSION_MAJOR := $(call raft_version_part,MAJOR)
VERSION_MINOR := $(call raft_version_part,MINOR)
VERSION_PATCH := $(call raft_version_part,PATCH)
ifeq ($(and $(VERSION_MAJOR),$(VERSION_MINOR),$(VERSION_PATCH)),)
$(error cannot read RAFT_VERSION_MAJOR/MINOR/PATCH from include/raft.h)
endif
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME := libraft.so.$(VERSION_MAJOR)

# ---------------------------------------------------------------------------------------------
# User-facing variables (GNU conventions; all may come from the environment or command line).
# ---------------------------------------------------------------------------------------------

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/raft
DESTDIR ?=

CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
CLANG_FORMAT ?= clang-format
GTEST_ARGS ?=
# A hung test must fail the run, not stall CI: each test program gets this many seconds.
TEST_TIMEOUT ?= 300
RUN_TEST = timeout -k 10 $(TEST_TIMEOUT)

# Goals that are part of development or CI always compile with -Werror (see the top comment).
ifneq ($(filter check check-% test test-% fuzz fuzz-% coverage,$(MAKECMDGOALS)),)
override WERROR := 1
endif
WERROR ?= 0
ifeq ($(WERROR),1)
FLAVOUR := werror
WERROR_FLAGS := -Werror
else ifeq ($(WERROR),0)
FLAVOUR := default
WERROR_FLAGS :=
else
$(error WERROR must be 0 or 1, not '$(WERROR)')
endif

# SANITIZE=asan: AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer, every report
# fatal.  SANITIZE=tsan: ThreadSanitizer.  Each gets its own build tree.
SANITIZE ?=
SAN_FLAGS_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_FLAGS_tsan := -fsanitize=thread -fno-omit-frame-pointer
SAN_FLAGS := $(SAN_FLAGS_$(SANITIZE))
ifneq ($(SANITIZE),)
ifeq ($(SAN_FLAGS),)
$(error SANITIZE must be asan or tsan, not '$(SANITIZE)')
endif
endif
# Runtime options for the sanitized test runs; a fragment's recipe can prefix its command with
# $(SAN_ENV) too (and with $(RUN_TEST) to bound its run time).  halt_on_error makes TSan fail
# the run instead of only printing a report.
SAN_ENV_asan := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SAN_ENV_tsan := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
SAN_ENV := $(SAN_ENV_$(SANITIZE))

BUILDDIR ?= build$(if $(SANITIZE),/$(SANITIZE))
OBJDIR := $(BUILDDIR)/obj/$(FLAVOUR)

# ---------------------------------------------------------------------------------------------
# Compiler flags.  Ours come first so that CFLAGS/CXXFLAGS from a packager can override them
# (e.g. -O3); -Werror comes last so that nothing can switch it off in a checked build.
# ---------------------------------------------------------------------------------------------

RAFT_CPPFLAGS := -Iinclude -Isrc
RAFT_CXXFLAGS := -std=c++17 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra
# C is only used for tests, examples and fragments; they see the public header only (no -Isrc).
RAFT_CFLAGS := -std=c99 -Wall -Wextra
DEPFLAGS := -MMD -MP

CXX_COMPILE = $(CXX) $(RAFT_CPPFLAGS) $(CPPFLAGS) $(RAFT_CXXFLAGS) $(SAN_FLAGS) $(CXXFLAGS) $(WERROR_FLAGS) $(DEPFLAGS)
C_COMPILE = $(CC) -Iinclude $(EXTRA_CPPFLAGS) $(CPPFLAGS) $(RAFT_CFLAGS) $(SAN_FLAGS) $(CFLAGS) $(WERROR_FLAGS) $(DEPFLAGS)

# The shared library exports only what src/raft.map lists; libstdc++ stays a dynamic dependency.
LIB_LDFLAGS := -shared -Wl,--version-script=src/raft.map -Wl,--no-undefined -Wl,-soname,$(SONAME)
LIB_LIBS := -pthread -lm

# ---------------------------------------------------------------------------------------------
# Stamps: a file holding a flag set, rewritten (new mtime) only when the set changes, so that
# whatever depends on it is rebuilt exactly when it must be.  Written while the Makefile is read.
# ---------------------------------------------------------------------------------------------

_eq = $(and $(findstring x$(1),x$(2)),$(findstring x$(2),x$(1)))
update-stamp = $(if $(call _eq,$(strip $(2)),$(strip $(file <$(1)))),,$(shell mkdir -p $(dir $(1)))$(file >$(1),$(strip $(2))))

FLAGS_STAMP := $(OBJDIR)/.flags
LINK_STAMP := $(BUILDDIR)/.link
DIRS_STAMP := $(BUILDDIR)/.install-dirs
FLAGS_TEXT = $(CXX_COMPILE) | $(C_COMPILE)
LINK_TEXT = $(FLAVOUR) | $(CXX) $(CC) $(AR) $(LIB_LDFLAGS) $(SAN_FLAGS) $(LDFLAGS) $(LIB_LIBS)
DIRS_TEXT = $(VERSION) | $(PREFIX) | $(LIBDIR) | $(INCLUDEDIR) | $(CMAKEDIR)

# (Goals that build elsewhere or nothing leave the stamps alone, so they never cause a relink.)
ifneq ($(filter-out clean format format-check help uninstall tidy tidy-file/% cppcheck coverage \
                    dist check-dist fuzz fuzz-build,$(or $(MAKECMDGOALS),all)),)
$(call update-stamp,$(FLAGS_STAMP),$(FLAGS_TEXT))
$(call update-stamp,$(LINK_STAMP),$(LINK_TEXT))
$(call update-stamp,$(DIRS_STAMP),$(DIRS_TEXT))
endif
# If a stamp vanished after the Makefile was read (`make clean all`), an empty one will do: it
# differs from every flag set, so the next run rewrites it and rebuilds once more.
$(FLAGS_STAMP) $(LINK_STAMP) $(DIRS_STAMP):
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------------------------------------
# Generic compile rules (also available to fragments).
# ---------------------------------------------------------------------------------------------

$(OBJDIR)/%.o: %.cpp $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CXX_COMPILE) -c $< -o $@

$(OBJDIR)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(C_COMPILE) -c $< -o $@

# Header dependencies of everything compiled so far in this object directory.
-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------------------------
# The library: every src/*/*.cpp, one set of -fPIC objects for both the .so and the .a.
# ---------------------------------------------------------------------------------------------

LIB_SRCS := $(sort $(wildcard src/*/*.cpp))
LIB_OBJS := $(LIB_SRCS:%.cpp=$(OBJDIR)/%.o)

LIB_SO_REAL := $(BUILDDIR)/libraft.so.$(VERSION)
LIB_SO_SONAME := $(BUILDDIR)/$(SONAME)
LIB_SO := $(BUILDDIR)/libraft.so
LIB_A := $(BUILDDIR)/libraft.a
PC_FILE := $(BUILDDIR)/raft.pc
CMAKE_CONFIG := $(BUILDDIR)/cmake/raftConfig.cmake
CMAKE_CONFIG_VERSION := $(BUILDDIR)/cmake/raftConfigVersion.cmake

all: $(LIB_SO) $(LIB_SO_SONAME) $(LIB_SO_REAL) $(LIB_A) $(PC_FILE) $(CMAKE_CONFIG) $(CMAKE_CONFIG_VERSION)

$(LIB_SO_REAL): $(LIB_OBJS) src/raft.map $(LINK_STAMP)
	$(CXX) $(LIB_LDFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_LIBS)

$(LIB_SO_SONAME): $(LIB_SO_REAL)
	ln -sf $(notdir $<) $@

$(LIB_SO): $(LIB_SO_SONAME)
	ln -sf $(notdir $<) $@

# Start from an empty archive so members of deleted sources do not linger.
$(LIB_A): $(LIB_OBJS) $(LINK_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

# ---------------------------------------------------------------------------------------------
# pkg-config and CMake package files.  Both depend on the install directories, so they are
# regenerated when `make install PREFIX=...` differs from the earlier `make`.
# ---------------------------------------------------------------------------------------------

# raft.pc says ${prefix}/lib rather than a literal path when the directory is under PREFIX.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

$(PC_FILE): raft.pc.in $(DIRS_STAMP)
	sed -e 's|@RAFT_PC_PREFIX@|$(PREFIX)|g' \
	    -e 's|@RAFT_PC_LIBDIR@|$(call pc_dir,$(LIBDIR))|g' \
	    -e 's|@RAFT_PC_INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|g' \
	    -e 's|@RAFT_VERSION@|$(VERSION)|g' $< > $@.tmp
	mv $@.tmp $@

# The config locates the library and headers relative to its own directory, so a DESTDIR-staged
# or relocated tree works; the relative paths are computed here from the install directories.
$(CMAKE_CONFIG): cmake/raftConfig.cmake.in $(DIRS_STAMP)
	@mkdir -p $(@D)
	rel_lib=$$(realpath -m -s --relative-to='$(CMAKEDIR)' '$(LIBDIR)') && \
	rel_inc=$$(realpath -m -s --relative-to='$(CMAKEDIR)' '$(INCLUDEDIR)') && \
	sed -e "s|@RAFT_CMAKE_REL_LIBDIR@|$$rel_lib|g" \
	    -e "s|@RAFT_CMAKE_REL_INCLUDEDIR@|$$rel_inc|g" \
	    -e 's|@RAFT_VERSION@|$(VERSION)|g' \
	    -e 's|@RAFT_SONAME@|$(SONAME)|g' $< > $@.tmp
	mv $@.tmp $@

$(CMAKE_CONFIG_VERSION): cmake/raftConfigVersion.cmake.in $(DIRS_STAMP) $(LINK_STAMP)
	@mkdir -p $(@D)
	ptr=$$(echo __SIZEOF_POINTER__ | $(CXX) $(CPPFLAGS) $(CXXFLAGS) -E -P -x c++ -) && \
	sed -e 's|@RAFT_VERSION@|$(VERSION)|g' -e "s|@RAFT_SIZEOF_VOID_P@|$$ptr|g" $< > $@.tmp
	mv $@.tmp $@

# ---------------------------------------------------------------------------------------------
# install / uninstall.  uninstall removes exactly the files install writes.
# ---------------------------------------------------------------------------------------------

INSTALL ?= install
PUBLIC_HEADERS := include/raft.h $(wildcard include/raft.hpp)
D_INC := $(DESTDIR)$(INCLUDEDIR)
D_LIB := $(DESTDIR)$(LIBDIR)
D_PC := $(DESTDIR)$(PKGCONFIGDIR)
D_CMAKE := $(DESTDIR)$(CMAKEDIR)

install: all
	$(INSTALL) -d '$(D_INC)' '$(D_LIB)' '$(D_PC)' '$(D_CMAKE)'
	$(INSTALL) -m 644 $(PUBLIC_HEADERS) '$(D_INC)/'
	$(INSTALL) -m 755 $(LIB_SO_REAL) '$(D_LIB)/'
	ln -sf $(notdir $(LIB_SO_REAL)) '$(D_LIB)/$(SONAME)'
	ln -sf $(SONAME) '$(D_LIB)/libraft.so'
	$(INSTALL) -m 644 $(LIB_A) '$(D_LIB)/'
	$(INSTALL) -m 644 $(PC_FILE) '$(D_PC)/'
	$(INSTALL) -m 644 $(CMAKE_CONFIG) $(CMAKE_CONFIG_VERSION) '$(D_CMAKE)/'

uninstall:
	rm -f $(foreach h,$(notdir $(PUBLIC_HEADERS)),'$(D_INC)/$(h)')
	rm -f '$(D_LIB)/libraft.so' '$(D_LIB)/$(SONAME)' '$(D_LIB)/$(notdir $(LIB_SO_REAL))'
	rm -f '$(D_LIB)/libraft.a' '$(D_PC)/raft.pc'
	rm -f '$(D_CMAKE)/raftConfig.cmake' '$(D_CMAKE)/raftConfigVersion.cmake'
	-rmdir '$(D_CMAKE)' 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
# Unit tests.
#   GoogleTest: all of tests/cpp/ in one binary, linked statically so that internal classes
#   (src/) are tested directly.
#   cmocka: each tests/c/test_*.c is a C99 program using only the public header, linked
#   against the shared library (rpath to the build directory) like a real user.
# ---------------------------------------------------------------------------------------------

GTEST_SRCS := $(sort $(wildcard tests/cpp/*.cpp))
GTEST_OBJS := $(GTEST_SRCS:%.cpp=$(OBJDIR)/%.o)
GTEST_BIN := $(BUILDDIR)/tests/raft_gtest

$(GTEST_BIN): $(GTEST_OBJS) $(LIB_A) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(GTEST_OBJS) $(LIB_A) -lgtest_main -lgtest -pthread -lm

CTEST_SRCS := $(sort $(wildcard tests/c/test_*.c))
CTEST_SUPPORT_OBJS := $(patsubst %.c,$(OBJDIR)/%.o,$(sort $(wildcard tests/c/support/*.c)))
CTEST_BINS := $(CTEST_SRCS:tests/c/%.c=$(BUILDDIR)/tests/c/%)
EXTRA_CPPFLAGS_tests_c := -Itests/c/support
$(OBJDIR)/tests/c/%.o: EXTRA_CPPFLAGS = $(EXTRA_CPPFLAGS_tests_c)

# $ORIGIN keeps the build tree relocatable: build/tests/c/ -> build/.
$(CTEST_BINS): $(BUILDDIR)/tests/c/%: $(OBJDIR)/tests/c/%.o $(CTEST_SUPPORT_OBJS) $(LIB_SO) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< $(CTEST_SUPPORT_OBJS) \
	    -L$(BUILDDIR) -Wl,-rpath,'$$ORIGIN/../..' -lraft -lcmocka -pthread

banner = printf '\n==== %s ====\n' '$(1)'

check-gtest: $(if $(GTEST_SRCS),$(GTEST_BIN))
	@$(call banner,GoogleTest unit tests ($(words $(GTEST_SRCS)) files$(if $(SANITIZE),; $(SANITIZE))))
ifneq ($(GTEST_SRCS),)
	$(SAN_ENV) $(RUN_TEST) $(GTEST_BIN) $(GTEST_ARGS)
else
	@echo 'no tests/cpp/*.cpp yet'
endif

check-cmocka: $(CTEST_BINS)
	@$(call banner,cmocka C API tests ($(words $(CTEST_BINS)) programs$(if $(SANITIZE),; $(SANITIZE))))
	@set -e; for t in $(CTEST_BINS); do echo "--- $$t"; $(SAN_ENV) $(RUN_TEST) $$t; done

# ---------------------------------------------------------------------------------------------
# Examples.  Every examples/*.c (C99) and examples/*.cpp (C++17, raft.hpp) is one program,
# linked against the shared library like a user's program.
# ---------------------------------------------------------------------------------------------

EXAMPLE_C_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_CXX_SRCS := $(sort $(wildcard examples/*.cpp))
EXAMPLE_C_BINS := $(EXAMPLE_C_SRCS:examples/%.c=$(BUILDDIR)/examples/%)
EXAMPLE_CXX_BINS := $(EXAMPLE_CXX_SRCS:examples/%.cpp=$(BUILDDIR)/examples/%)
EXAMPLE_BINS := $(EXAMPLE_C_BINS) $(EXAMPLE_CXX_BINS)
EXAMPLE_LIBS = -L$(BUILDDIR) -Wl,-rpath,'$$ORIGIN/..' -lraft -pthread

$(EXAMPLE_C_BINS): $(BUILDDIR)/examples/%: $(OBJDIR)/examples/%.o $(LIB_SO) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< $(EXAMPLE_LIBS)

$(EXAMPLE_CXX_BINS): $(BUILDDIR)/examples/%: $(OBJDIR)/examples/%.o $(LIB_SO) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< $(EXAMPLE_LIBS)

examples: $(EXAMPLE_BINS)

check-examples: $(EXAMPLE_BINS)
	@$(call banner,examples build warning-free ($(words $(EXAMPLE_BINS)) programs))

# install-deps first: on a fresh machine the compilers may not exist yet.
# The main demo is the replicated key-value store (examples/kv, kv.mk); the in-process counter
# example stays available as demo-counter.
demo:
	@scripts/install-deps
	+@$(MAKE) --no-print-directory demo-kv

demo-counter:
	@scripts/install-deps
	+@$(MAKE) --no-print-directory examples
	@$(call banner,demo: $(BUILDDIR)/examples/counter)
	$(BUILDDIR)/examples/counter

# ---------------------------------------------------------------------------------------------
# Fragments from other areas.  They may append to CHECK_TARGETS (and the other lists described
# at the top) and add their own rules.
# ---------------------------------------------------------------------------------------------

CHECK_TARGETS :=
SANITIZE_CHECK_TARGETS :=
FORMAT_DIRS := include src tests examples
CLEAN_FILES :=

-include tests/sim/sim.mk
-include bindings/bindings.mk
-include bench/bench.mk
-include examples/kv/kv.mk
-include tests/fuzz/fuzz.mk

# ---------------------------------------------------------------------------------------------
# ABI and packaging checks (tests/abi/): exported symbols, header portability, and an install
# round trip consumed through pkg-config and through CMake.
# ---------------------------------------------------------------------------------------------

check-abi: all
	@$(call banner,ABI: exported symbols and SONAME)
	tests/abi/check-symbols.sh $(LIB_SO_SONAME) include/raft.h src/raft.map
	@$(call banner,ABI: public headers compile standalone)
	CC='$(CC)' CXX='$(CXX)' tests/abi/check-headers.sh $(LIB_SO)
	@$(call banner,ABI: install round trip (pkg-config and CMake consumers))
	+MAKE='$(MAKE)' CC='$(CC)' WERROR=$(WERROR) BUILDDIR='$(BUILDDIR)' tests/abi/check-install.sh

# The CMake build must produce the same library and install the same files.  Not part of
# `make check` (it compiles the library a second time); .ci/run runs it.
check-cmake:
	@$(call banner,CMake build: symbols and install round trip)
	+CC='$(CC)' CXX='$(CXX)' BUILDDIR='$(BUILDDIR)' tests/abi/check-install.sh cmake

# The exported ABI against the committed baseline (abidw XML): additions pass, any change or
# removal fails with a message telling how to proceed (tests/abi/check-abi-compat.sh).  The
# baseline is recorded with `make abi-baseline`, after review, whenever the ABI changes on purpose.
ABI_BASELINE := tests/abi/libraft.so.$(VERSION_MAJOR).abi

check-abi-compat: all
	@$(call banner,ABI: compatibility with $(ABI_BASELINE))
	tests/abi/check-abi-compat.sh $(ABI_BASELINE) $(LIB_SO_REAL)

abi-baseline: all
	tests/abi/check-abi-compat.sh --record $(ABI_BASELINE) $(LIB_SO_REAL)

# ---------------------------------------------------------------------------------------------
# Static analysis of src/ (not of tests): clang-tidy with the committed .clang-tidy (every
# finding is an error), and cppcheck.  A finding that is wrong is suppressed where it occurs
# (// NOLINT(check) with a reason, or // cppcheck-suppress id), never globally.  The tidy runs are
# one make target per file, so -j2 runs two at a time.
# ---------------------------------------------------------------------------------------------

CLANG_TIDY ?= clang-tidy
CPPCHECK ?= cppcheck
TIDY_GOALS := $(LIB_SRCS:%=tidy-file/%)

tidy: $(TIDY_GOALS)
	@$(call banner,clang-tidy: $(words $(LIB_SRCS)) files clean)

# clang-tidy always reports how many (suppressed) warnings system headers produced; drop that.
tidy-file/%:
	@echo 'clang-tidy $*'
	@$(CLANG_TIDY) --quiet $* -- -std=c++17 $(RAFT_CPPFLAGS) 2>&1 | \
	    { grep -v '^[0-9]* warnings\? generated\.$$' || true; }

cppcheck:
	@$(call banner,cppcheck src)
	$(CPPCHECK) --std=c++17 --enable=warning,performance,portability --inline-suppr \
	    --error-exitcode=1 -q $(RAFT_CPPFLAGS) src
	@echo 'cppcheck: clean'

# ---------------------------------------------------------------------------------------------
# Coverage: the unit tests and a short simulator run, built with gcc --coverage into
# build/coverage/ (a tree of its own), then line and branch coverage of src/ per directory
# (scripts/coverage-report, on gcovr).  Counters are reset first, so the figures are this run's.
# Branches that only exist for exception unwinding are not counted.
# ---------------------------------------------------------------------------------------------

COVERAGE_DIR := build/coverage
# The simulator's quick run (scenarios and 200 seeds) when the simulator is there.
COVERAGE_STEPS := check-gtest check-cmocka \
                  $(if $(filter check-sim,$(CHECK_TARGETS)),check-sim-quick)
COVERAGE_MAKE = $(MAKE) --no-print-directory BUILDDIR=$(COVERAGE_DIR) WERROR=1 SANITIZE= \
    CFLAGS='-O0 -g --coverage' CXXFLAGS='-O0 -g --coverage' LDFLAGS='--coverage'

coverage:
	@scripts/install-deps
	@if [ -d $(COVERAGE_DIR) ]; then find $(COVERAGE_DIR) -name '*.gcda' -delete; fi
	+@set -e; for step in $(COVERAGE_STEPS); do $(COVERAGE_MAKE) $$step; done
	@$(call banner,coverage of src/ (gcovr; details: $(COVERAGE_DIR)/coverage.txt))
	scripts/coverage-report $(COVERAGE_DIR)

# ---------------------------------------------------------------------------------------------
# Release tarball: the files git tracks (as they are in the working tree, so that a change can
# be checked before it is committed; dist warns when the tree is dirty), under libraft-VERSION/,
# with fixed owner and timestamps.  check-dist builds and tests it in a temporary directory with
# a `git` on PATH that fails, proving the release needs no repository.
# ---------------------------------------------------------------------------------------------

DIST_NAME := libraft-$(VERSION)
DIST_TARBALL := build/$(DIST_NAME).tar.gz

dist:
	@mkdir -p build
	@if [ -n "$$(git status --porcelain --untracked-files=no)" ]; then \
	    echo 'dist: warning: uncommitted changes to tracked files are included'; fi
	git ls-files -z | LC_ALL=C sort -z | \
	    tar --transform 's|^|$(DIST_NAME)/|' --owner=0 --group=0 --numeric-owner \
	        --mtime=@$$(git log -1 --format=%ct) --no-recursion --null -cf - -T - | \
	    gzip -n9 > $(DIST_TARBALL).tmp
	mv $(DIST_TARBALL).tmp $(DIST_TARBALL)
	@echo "wrote $(DIST_TARBALL) ($$(tar -tzf $(DIST_TARBALL) | wc -l) files)"

check-dist: dist
	@$(call banner,release tarball: build and test $(DIST_TARBALL) without git)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	mkdir "$$tmp/nogit" && printf '#!/bin/sh\necho "git must not be needed" >&2; exit 1\n' \
	    > "$$tmp/nogit/git" && chmod +x "$$tmp/nogit/git" && \
	tar -xzf $(DIST_TARBALL) -C "$$tmp" && cd "$$tmp/$(DIST_NAME)" && \
	env -u MAKEFLAGS -u MAKELEVEL PATH="$$tmp/nogit:$$PATH" RAFT_SKIP_INSTALL_DEPS=1 \
	    $(MAKE) -j2 CC='$(CC)' CXX='$(CXX)' check-gtest check-cmocka check-abi && \
	echo 'check-dist: the tarball builds and passes its tests without git'

# ---------------------------------------------------------------------------------------------
# check: the README's test command.  Steps run one after another (even under -j, which still
# parallelises the builds inside each step) and stop at the first failure.  Each step is a
# separate make given WERROR=1, so a fragment's target is checked whatever its name.
# ---------------------------------------------------------------------------------------------

CHECK_STEPS = check-gtest check-cmocka check-examples $(CHECK_TARGETS) check-abi check-abi-compat

check test:
	@scripts/install-deps
	+@set -e; for step in $(CHECK_STEPS); do $(MAKE) --no-print-directory WERROR=1 $$step; done
	@$(call banner,all checks passed)

# Sanitizer runs use their own build tree (build/asan, build/tsan).
SANITIZE_STEPS = check-gtest check-cmocka $(SANITIZE_CHECK_TARGETS)

check-asan check-tsan:
	@scripts/install-deps
	+@set -e; for step in $(SANITIZE_STEPS); do \
	    $(MAKE) --no-print-directory WERROR=1 SANITIZE=$(@:check-%=%) $$step; done
	@$(call banner,$@ passed)

# ---------------------------------------------------------------------------------------------
# Formatting (.clang-format at the top).  Build output, fuzz corpora and generated sources
# (*.gen.*, *_generated.*) are excluded.
# ---------------------------------------------------------------------------------------------

FORMAT_FILES = $(shell find $(wildcard $(FORMAT_DIRS)) \
    \( -path '*/corpus*' -o -name build \) -prune -o -type f \
    \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) \
    ! -name '*.gen.*' ! -name '*_generated.*' -print | sort)

# ($(or ...) guards against an empty list: clang-format would then read stdin.)
format-check:
	$(CLANG_FORMAT) --dry-run -Werror $(or $(FORMAT_FILES),/dev/null)

format:
	$(if $(FORMAT_FILES),$(CLANG_FORMAT) -i $(FORMAT_FILES))

# ---------------------------------------------------------------------------------------------

# (BUILDDIR=. or / must not wipe the tree.)
clean:
	rm -rf build $(filter-out . ./ .. ../ /,$(BUILDDIR)) $(CLEAN_FILES)

help:
	@echo 'make                 build the library into $(BUILDDIR)/ (no -Werror)'
	@echo 'make install         install (DESTDIR PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR CMAKEDIR)'
	@echo 'make uninstall       remove exactly what install wrote'
	@echo 'make check           all tests, -Werror (steps: $(strip $(CHECK_STEPS)))'
	@echo 'make check-asan      unit tests under ASan+LSan+UBSan (build/asan)'
	@echo 'make check-tsan      unit tests under TSan (build/tsan)'
	@echo 'make check-cmake     CMake build: same symbols, same installed files'
	@echo 'make demo            3-node replicated KV store: SIGKILL the leader, restart, digests'
	@echo 'make demo-counter    the in-process counter example (3 replicas, virtual clock)'
	@echo 'make format-check    clang-format --dry-run -Werror; make format fixes'
	@echo 'make fuzz            each libFuzzer target for FUZZ_SECONDS (60) from its seed corpus'
	@echo 'make tidy            clang-tidy over src/ (.clang-tidy); make cppcheck: cppcheck'
	@echo 'make coverage        line and branch coverage of src/ per directory (build/coverage)'
	@echo 'make dist            release tarball $(DIST_TARBALL); check-dist tests it without git'
	@echo 'make abi-baseline    record the ABI for check-abi-compat (after review)'
	@echo 'make clean           remove build/'

.PHONY: all install uninstall check test check-gtest check-cmocka check-examples check-abi \
        check-abi-compat check-cmake abi-baseline check-asan check-tsan examples demo demo-counter \
        format format-check tidy cppcheck coverage dist check-dist clean help
