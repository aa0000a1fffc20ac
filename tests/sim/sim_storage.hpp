// A simulated disk behind libraft's raft_storage vtable.  It keeps two
// images: what the node has written (volatile) and what survived a sync
// (durable).  A crash keeps the durable image plus an in-order prefix of the
// unsynced writes -- possibly tearing an append in the middle -- which is
// exactly the contract raft.h gives storage implementations.  A storage
// fault makes a chosen call fail with RAFT_EIO and the disk "die" there: the
// node must stop, and the simulator restarts it from what survived.
//
// Snapshots follow raft.h as adversarially as it allows: a snapshot being
// written (snapshot_begin/snapshot_write) is volatile and vanishes in a
// crash; snapshot_commit makes it the current one durably and atomically at
// once, but does NOT make earlier unsynced log writes durable (nothing in
// the contract says it does); compact is an unsynced write like the others,
// so a crash may keep or lose it (in order).  load reports any first index
// the contract allows (between the durable log's start and the snapshot's
// index + 1), drawn from the disk's own stream.
#pragma once

#include <cstdint>
#include <vector>

#include "prng.hpp"
#include "raft.h"

namespace sim {

// Told about what a node writes, for the checker.
class StorageObserver {
 public:
  virtual ~StorageObserver() = default;
  virtual void on_disk_append(int node, std::uint64_t first_index, const raft_entry* entries,
                              std::size_t n) = 0;
  // A snapshot became the current, durable one.
  virtual void on_disk_snapshot(int node, std::uint64_t index,
                                const std::vector<std::uint8_t>& meta,
                                const std::vector<std::uint8_t>& data) = 0;
};

class SimStorage {
 public:
  SimStorage(std::uint64_t seed, int node);
  SimStorage(const SimStorage&) = delete;
  SimStorage& operator=(const SimStorage&) = delete;

  // The vtable to put in raft_options.storage (ctx is this object).
  const raft_storage* vtable() const { return &vt_; }
  void set_observer(StorageObserver* o) { observer_ = o; }

  // The durable image.  Entries at or below durable_base() were compacted;
  // durable_term_at() is 0 for them (durable_covered() says whether the
  // durable snapshot covers an index).
  std::uint64_t durable_term() const { return durable_.term; }
  std::uint64_t durable_vote() const { return durable_.vote; }
  std::uint64_t durable_last() const { return durable_.last(); }
  std::uint64_t durable_base() const { return durable_.base; }
  std::uint64_t durable_term_at(std::uint64_t i) const {
    return i <= durable_.base || i > durable_.last() ? 0
                                                     : durable_.metas[i - durable_.base - 1].term;
  }
  std::uint64_t snapshot_index() const { return snap_index_; }
  std::uint64_t snapshot_term() const { return snap_term_; }
  bool durable_covered(std::uint64_t i) const { return i <= snap_index_; }
  const std::vector<std::uint8_t>& snapshot_data() const { return snap_data_; }
  bool has_unsynced() const { return !pending_.empty(); }
  std::uint64_t snapshot_commits() const { return commits_; }
  std::uint64_t compactions() const { return compactions_; }

  // The process died: keep an in-order prefix of the unsynced writes (the
  // last one kept may be torn), drop the rest and any unfinished snapshot.
  void crash(Prng& rng);
  // The `calls`-th storage call from now fails and the disk dies there.
  void arm_fault(std::uint32_t calls) { fault_in_ = calls; }
  bool dead() const { return dead_; }
  // A new incarnation of the node opens the disk again.
  void reopen() {
    dead_ = false;
    fault_in_ = 0;
  }
  // Set when the node broke the storage contract (e.g. a gap in appends).
  const char* misuse() const { return misuse_; }

 private:
  struct Meta {
    std::uint64_t term, id;
    std::uint32_t type;
    std::size_t offset, len;
  };
  struct Image {
    std::uint64_t term = 0, vote = 0;
    std::uint64_t base = 0;   // entries up to here were compacted
    std::vector<Meta> metas;  // metas[0] is index base + 1
    std::vector<std::uint8_t> bytes;
    std::uint64_t last() const { return base + metas.size(); }
    void truncate(std::uint64_t from);
    void append(const Meta& m, const std::uint8_t* data);
    void compact(std::uint64_t index);
  };
  struct Op {
    enum Kind { kHardState, kAppend, kTruncate, kCompact } kind;
    std::uint64_t a = 0, b = 0;  // term/vote, or first index, or from/compact index
    std::vector<Meta> metas;     // kAppend: offsets into `bytes`
    std::vector<std::uint8_t> bytes;
  };

  static int load(void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first_index,
                  int (*entry)(void* arg, const raft_entry* e), void* arg);
  static int save_hard_state(void* ctx, std::uint64_t term, raft_id vote);
  static int append(void* ctx, std::uint64_t first_index, const raft_entry* entries, std::size_t n);
  static int truncate(void* ctx, std::uint64_t from_index);
  static int sync(void* ctx);
  static int snapshot_begin(void* ctx);
  static int snapshot_write(void* ctx, const void* data, std::size_t len);
  static int snapshot_commit(void* ctx, std::uint64_t index, const void* meta, std::size_t len);
  static int snapshot_meta(void* ctx, void* buf, std::size_t cap, std::size_t* meta_len);
  static int snapshot_read(void* ctx, std::uint64_t offset, void* buf, std::size_t cap,
                           std::size_t* got);
  static int compact(void* ctx, std::uint64_t index);
  // Counts a call against an armed fault; false if this call must fail.
  bool survive_call();
  void install_pending_snapshot(std::uint64_t index, const void* meta, std::size_t len);
  static void apply(Image& img, const Op& op, std::size_t entries);

  raft_storage vt_;
  int node_;
  Prng rng_;  // load's choice of first index; a failed commit's outcome
  Image durable_;
  std::vector<Op> pending_;
  std::uint64_t volatile_last_ = 0;  // last index as the node sees it
  std::uint64_t volatile_base_ = 0;
  // The current snapshot (durable as soon as committed) and the one being
  // written (volatile).
  std::uint64_t snap_index_ = 0, snap_term_ = 0;
  std::vector<std::uint8_t> snap_meta_, snap_data_;
  bool writing_ = false;
  std::vector<std::uint8_t> next_data_;
  std::uint64_t commits_ = 0, compactions_ = 0;
  std::uint32_t fault_in_ = 0;
  bool dead_ = false;
  const char* misuse_ = nullptr;
  StorageObserver* observer_ = nullptr;
};

}  // namespace sim
