# Language bindings (bindings/python, bindings/rust, bindings/go), included by the top-level
# Makefile.  Each suite runs against the shared library of this build tree: the tests see
# $(BUILDDIR) through LD_LIBRARY_PATH, LIBRAFT_PATH (Python) and an uninstalled pkg-config file
# (Rust's build.rs and Go's #cgo pkg-config line), never an installed libraft.
#
#   make check-bindings          all three
#   make check-bindings-python   pytest (BINDINGS_PYTHON: an interpreter with pytest; default:
#                                the first of python3, /usr/bin/python3 that has it)
#   make check-bindings-rust     cargo test --offline (CARGO, default cargo)
#   make check-bindings-go       go test (GO, default go); no network (GOPROXY=off)
#
# Tools come from Debian: python3-pytest python3-pip python3-setuptools cargo rustc golang-go
# (scripts/install-deps).  Build output stays under $(BUILDDIR)/bindings/.

BINDINGS_OUT := $(abspath $(BUILDDIR))/bindings
BINDINGS_PC_DIR := $(BINDINGS_OUT)/pkgconfig
BINDINGS_PC := $(BINDINGS_PC_DIR)/raft-uninstalled.pc
BINDINGS_PYTHON ?=
CARGO ?= cargo
GO ?= go

# What every suite needs to find this tree's library and header.
BINDINGS_ENV = LD_LIBRARY_PATH='$(abspath $(BUILDDIR))'$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH} \
    PKG_CONFIG_PATH='$(BINDINGS_PC_DIR)'$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH} \
    RAFT_INCLUDE_DIR='$(abspath include)' CC='$(CC)'

# pkg-config prefers raft-uninstalled.pc over an installed raft.pc.  Rewritten on every run
# (it is tiny): the paths must follow the tree wherever it is.  `-lraft` needs the unversioned
# libraft.so link, or the linker would take libraft.a (without libstdc++).
bindings-pc: $(LIB_SO)
	@mkdir -p '$(BINDINGS_PC_DIR)'
	@printf '%s\n' \
	    '# libraft in its build tree, for the language bindings'"'"' tests (bindings/bindings.mk).' \
	    'libdir=$(abspath $(BUILDDIR))' 'includedir=$(abspath include)' '' \
	    'Name: raft' 'Description: libraft (uninstalled)' 'Version: $(VERSION)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lraft' > '$(BINDINGS_PC).tmp'
	@mv '$(BINDINGS_PC).tmp' '$(BINDINGS_PC)'

check-bindings-python: $(LIB_SO_SONAME)
	@$(call banner,Python binding (ctypes) against $(LIB_SO_SONAME))
	@py='$(BINDINGS_PYTHON)'; \
	if [ -z "$$py" ]; then \
	    for c in python3 /usr/bin/python3; do \
	        if "$$c" -c 'import pytest' 2> /dev/null; then py=$$c; break; fi; \
	    done; \
	fi; \
	if [ -z "$$py" ]; then \
	    echo 'check-bindings-python: no python3 with pytest (Debian: python3-pytest)' >&2; exit 1; \
	fi; \
	cd bindings/python && $(BINDINGS_ENV) LIBRAFT_PATH='$(abspath $(LIB_SO_SONAME))' \
	    PYTHONDONTWRITEBYTECODE=1 $(RUN_TEST) "$$py" -m pytest -q -p no:cacheprovider tests

check-bindings-rust: bindings-pc
	@$(call banner,Rust binding (raft-sys + raft) against $(LIB_SO_SONAME))
	cd bindings/rust && $(BINDINGS_ENV) CARGO_TARGET_DIR='$(BINDINGS_OUT)/rust-target' \
	    $(RUN_TEST) $(CARGO) test --offline --locked

# The usual GOCACHE (warm across `make clean`); without a $$HOME (go env says "off") one in the
# build tree.  GOTOOLCHAIN=local keeps a newer go from fetching another toolchain.
check-bindings-go: bindings-pc
	@$(call banner,Go binding (cgo) against $(LIB_SO_SONAME))
	cd bindings/go && gocache=$$($(GO) env GOCACHE) && gopath=$$($(GO) env GOPATH) && \
	case $$gocache in off | '') gocache='$(BINDINGS_OUT)/go-cache' ;; esac && \
	$(BINDINGS_ENV) CGO_ENABLED=1 GOPROXY=off GOTOOLCHAIN=local GOFLAGS='-mod=mod -modcacherw' \
	    GOCACHE="$$gocache" GOPATH="$${gopath:-$(BINDINGS_OUT)/go-path}" \
	    $(RUN_TEST) $(GO) test -count=1 ./...

check-bindings: check-bindings-python check-bindings-rust check-bindings-go

.PHONY: bindings-pc check-bindings check-bindings-python check-bindings-rust check-bindings-go

CHECK_TARGETS += check-bindings-python check-bindings-rust check-bindings-go
FORMAT_DIRS += bindings/go
CLEAN_FILES += bindings/python/build bindings/python/src/libraft.egg-info
