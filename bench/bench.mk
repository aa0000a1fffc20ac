# bench/bench.mk: `make bench` builds the libraft benchmark and its peer, a
# benchmark of canonical raft (Debian's libraft-dev, unpacked into
# $(BUILDDIR)/peer, never installed), runs both and prints one table.
# Benchmarks are not tests: nothing here is part of `make check`.
#
#   make bench            everything (about 3-5 minutes on 2 cores)
#   make bench-build      only the programs: $(BUILDDIR)/bench/{raft_bench,canonical_bench}
#   make bench REPEAT=1   one round instead of three (see bench/report.sh for more knobs)
#   make bench-snapshot   snapshots: 10 M entries with compaction (flat RSS and disk?), the
#                         same without snapshots for 1 M, a wiped follower restored from a
#                         1 GiB snapshot (about 1.5 minutes here; ~3.5 GiB of disk for a
#                         minute under SNAPSHOT_DATA_DIR); SNAPSHOT_ARGS="--entries 300000
#                         --snapshot-mib 64" for a quick run (see bench/snapshot_bench.cpp)

BENCH_OUT := $(BUILDDIR)/bench
PEER_DIR := $(BUILDDIR)/peer
PEER_STAMP := $(PEER_DIR)/.unpacked

RAFT_BENCH := $(BENCH_OUT)/raft_bench
RAFT_BENCH_SHARED := $(BENCH_OUT)/raft_bench_shared
CANONICAL_BENCH := $(BENCH_OUT)/canonical_bench

# Our side: the public header only, compiled by the generic rules.
RAFT_BENCH_OBJS := $(OBJDIR)/bench/raft_bench.o $(OBJDIR)/bench/raft_cluster.o
BENCH_FSYNC_OBJ := $(OBJDIR)/bench/fsync_count.o

$(RAFT_BENCH): $(RAFT_BENCH_OBJS) $(BENCH_FSYNC_OBJ) $(LIB_A) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(RAFT_BENCH_OBJS) $(BENCH_FSYNC_OBJ) $(LIB_A) -pthread -ldl

# The same program against the shared library (checks that the fdatasync
# counter also sees the calls made inside libraft.so).
$(RAFT_BENCH_SHARED): $(RAFT_BENCH_OBJS) $(BENCH_FSYNC_OBJ) $(LIB_SO) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(RAFT_BENCH_OBJS) $(BENCH_FSYNC_OBJ) \
	    -L$(BUILDDIR) -Wl,-rpath,'$$ORIGIN/..' -lraft -pthread -ldl

# The peer: canonical raft's own headers come first on the include path (its
# raft.h, not ours), and it links canonical's libraft.a, never ours.
PEER_CFLAGS := -std=c11 -Wall -Wextra
PEER_COMPILE = $(CC) -I$(PEER_DIR)/usr/include -Ibench $(CPPFLAGS) $(PEER_CFLAGS) $(CFLAGS) \
               $(WERROR_FLAGS) -MMD -MP
PEER_OBJS := $(BENCH_OUT)/peer-obj/canonical_bench.o $(BENCH_OUT)/peer-obj/canonical_memio.o

$(PEER_STAMP): bench/fetch-peer.sh
	bench/fetch-peer.sh $(PEER_DIR)
	@touch $@

$(BENCH_OUT)/peer-obj/%.o: bench/%.c $(PEER_STAMP)
	@mkdir -p $(@D)
	$(PEER_COMPILE) -c $< -o $@

-include $(wildcard $(BENCH_OUT)/peer-obj/*.d)

# The multiarch directory (usr/lib/x86_64-linux-gnu) is found when linking.
$(CANONICAL_BENCH): $(PEER_OBJS) $(BENCH_FSYNC_OBJ) $(PEER_STAMP)
	@mkdir -p $(@D)
	peer_a=$$(ls $(PEER_DIR)/usr/lib/*/libraft.a | head -n1) && \
	$(CC) $(LDFLAGS) -o $@ $(PEER_OBJS) $(BENCH_FSYNC_OBJ) "$$peer_a" -luv -llz4 -ldl -pthread

bench-build: $(RAFT_BENCH) $(RAFT_BENCH_SHARED) $(CANONICAL_BENCH)

bench: bench-build
	OURS=$(RAFT_BENCH) PEER=$(CANONICAL_BENCH) OUT=$(BENCH_OUT) bench/report.sh

# Snapshots and compaction: our library only, no peer.
SNAPSHOT_BENCH := $(BENCH_OUT)/snapshot_bench
SNAPSHOT_DATA_DIR ?= $(BENCH_OUT)/snapshot-data
SNAPSHOT_ARGS ?=

$(SNAPSHOT_BENCH): $(OBJDIR)/bench/snapshot_bench.o $(LIB_A) $(LINK_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(OBJDIR)/bench/snapshot_bench.o $(LIB_A) -pthread

bench-snapshot-build: $(SNAPSHOT_BENCH)

bench-snapshot: $(SNAPSHOT_BENCH)
	@mkdir -p $(SNAPSHOT_DATA_DIR)
	$(SNAPSHOT_BENCH) --data-dir $(SNAPSHOT_DATA_DIR) $(SNAPSHOT_ARGS)

FORMAT_DIRS += bench

.PHONY: bench bench-build bench-snapshot bench-snapshot-build
