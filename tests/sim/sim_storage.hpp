// A simulated disk behind libraft's raft_storage vtable.  It keeps two
// images: what the node has written (volatile) and what survived a sync
// (durable).  A crash keeps the durable image plus an in-order prefix of the
// unsynced writes -- possibly tearing an append in the middle -- which is
// exactly the contract raft.h gives storage implementations.  A storage
// fault makes a chosen call fail with RAFT_EIO and the disk "die" there: the
// node must stop, and the simulator restarts it from what survived.
#pragma once

#include <cstdint>
#include <vector>

#include "prng.hpp"
#include "raft.h"

namespace sim {

class SimStorage {
 public:
  SimStorage();
  SimStorage(const SimStorage&) = delete;
  SimStorage& operator=(const SimStorage&) = delete;

  // The vtable to put in raft_options.storage (ctx is this object).
  const raft_storage* vtable() const { return &vt_; }

  // The durable image.
  std::uint64_t durable_term() const { return durable_.term; }
  std::uint64_t durable_vote() const { return durable_.vote; }
  std::uint64_t durable_last() const { return durable_.metas.size(); }
  std::uint64_t durable_term_at(std::uint64_t i) const {
    return i == 0 || i > durable_.metas.size() ? 0 : durable_.metas[i - 1].term;
  }
  bool has_unsynced() const { return !pending_.empty(); }

  // The process died: keep an in-order prefix of the unsynced writes (the
  // last one kept may be torn), drop the rest.
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
    std::vector<Meta> metas;
    std::vector<std::uint8_t> bytes;
    void truncate(std::uint64_t from);
    void append(const Meta& m, const std::uint8_t* data);
  };
  struct Op {
    enum Kind { kHardState, kAppend, kTruncate } kind;
    std::uint64_t a = 0, b = 0;  // term/vote, or first index, or from index
    std::vector<Meta> metas;     // kAppend: offsets into `bytes`
    std::vector<std::uint8_t> bytes;
  };

  static int load(void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first_index,
                  int (*entry)(void* arg, const raft_entry* e), void* arg);
  static int save_hard_state(void* ctx, std::uint64_t term, raft_id vote);
  static int append(void* ctx, std::uint64_t first_index, const raft_entry* entries, std::size_t n);
  static int truncate(void* ctx, std::uint64_t from_index);
  static int sync(void* ctx);
  // Counts a call against an armed fault; false if this call must fail.
  bool survive_call();
  static void apply(Image& img, const Op& op, std::size_t entries);

  raft_storage vt_;
  Image durable_;
  std::vector<Op> pending_;
  std::uint64_t volatile_last_ = 0;  // last index as the node sees it
  std::uint32_t fault_in_ = 0;
  bool dead_ = false;
  const char* misuse_ = nullptr;
};

}  // namespace sim
