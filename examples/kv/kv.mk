# examples/kv: a replicated key-value store over TCP (see examples/kv/README.md).
# Included by the top-level Makefile; uses its BUILDDIR, OBJDIR, LIB_SO, LINK_STAMP, CXX_COMPILE
# (through the generic $(OBJDIR)/%.o rule), SAN_FLAGS, RUN_TEST and banner.
#
#   make kv          build raft-kv, raft-kv-cli, kv-demo, kv-crashtest and kv-unit-test
#   make demo-kv     the demo: 3 nodes, 2,000 writes, a SIGKILLed leader, catch-up, digests
#   make check-kv    unit tests, then the crash test (KV_CRASH_SECONDS, default 30)

KV_DIR := examples/kv
KV_BIN := $(BUILDDIR)/examples/kv
KV_CRASH_SECONDS ?= 30

kv_objs = $(patsubst %,$(OBJDIR)/$(KV_DIR)/%.o,$(1))

KV_COMMON := net buffer log config kv_store client_protocol
KV_SERVER_OBJS := $(call kv_objs,$(KV_COMMON) event_loop peer_transport client_conn server \
                    raft_kv_main)
KV_CLI_OBJS := $(call kv_objs,$(KV_COMMON) kv_client bench cli_main)
KV_DEMO_OBJS := $(call kv_objs,$(KV_COMMON) kv_client cluster demo_main)
KV_CRASH_OBJS := $(call kv_objs,$(KV_COMMON) kv_client cluster crashtest_main)
KV_UNIT_OBJS := $(call kv_objs,$(KV_COMMON) kv_unit_test)

KV_PROGRAMS := $(KV_BIN)/raft-kv $(KV_BIN)/raft-kv-cli $(KV_BIN)/kv-demo $(KV_BIN)/kv-crashtest \
               $(KV_BIN)/kv-unit-test

# Linked against the shared library like any user program; $ORIGIN keeps the tree relocatable.
KV_LIBS = -L$(BUILDDIR) -Wl,-rpath,'$$ORIGIN/../..' -lraft -pthread

$(KV_BIN)/raft-kv: $(KV_SERVER_OBJS)
$(KV_BIN)/raft-kv-cli: $(KV_CLI_OBJS)
$(KV_BIN)/kv-demo: $(KV_DEMO_OBJS)
$(KV_BIN)/kv-crashtest: $(KV_CRASH_OBJS)
$(KV_BIN)/kv-unit-test: $(KV_UNIT_OBJS)

$(KV_PROGRAMS): $(LIB_SO) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(KV_LIBS)

kv: $(KV_PROGRAMS)

demo-kv: kv
	@$(call banner,demo: a replicated key-value store ($(KV_BIN)/kv-demo))
	$(KV_BIN)/kv-demo --bin-dir $(KV_BIN)

check-kv-unit: $(KV_BIN)/kv-unit-test
	@$(call banner,key-value store: unit tests)
	$(SAN_ENV) $(RUN_TEST) $(KV_BIN)/kv-unit-test

check-kv: check-kv-unit $(KV_PROGRAMS)
	@$(call banner,key-value store: crash test ($(KV_CRASH_SECONDS) s of SIGKILL and restart))
	$(RUN_TEST) $(KV_BIN)/kv-crashtest --bin-dir $(KV_BIN) --seconds $(KV_CRASH_SECONDS)

CHECK_TARGETS += check-kv
SANITIZE_CHECK_TARGETS += check-kv-unit

.PHONY: kv demo-kv check-kv check-kv-unit
