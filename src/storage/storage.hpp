// The storage the node writes through: always a raft_storage vtable, whether
// it is the memory storage, the built-in file storage or the user's own, so
// there is one code path for all three.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "raft.h"

namespace raft::storage {

// What load() found: the hard state, the current snapshot, and the log
// entries after it.
struct Loaded {
  Term term = 0;
  NodeId vote = 0;
  SnapshotInfo snapshot;  // index 0: none (or a storage without snapshots)
  // Index of entries[0]: 1 without a snapshot, else snapshot.index + 1.
  // Entries the snapshot covers are never included.
  Index first_index = 1;
  std::vector<EntryView> entries;  // views into `bytes`
  std::vector<std::uint8_t> bytes;
  // The last index the storage holds (entries dropped here included), or
  // its first index - 1 when it holds none.
  Index stored_last = 0;
  // The stored log does not continue the snapshot: it holds the snapshot's
  // index with another term, or ends before it.  `entries` is then empty
  // and the node must truncate(snapshot.index + 1) if stored_last is beyond
  // snapshot.index, then compact(snapshot.index), then sync.
  bool log_conflicts_snapshot = false;
};

// The memory storage: nothing survives the process (little_raft's model).
// It keeps only the current snapshot, in memory; close() frees it.
raft_storage memory_storage();

// The built-in durable storage (src/storage/file_storage.cpp).  On success
// `out` owns a context that its close() frees.  Errors: RAFT_EIO,
// RAFT_ECORRUPT (with file and offset in `why`), RAFT_EBUSY (another process
// holds the directory), RAFT_EINVAL (the directory belongs to another node or
// cluster).
// segment_bytes: the size at which a new segment file is started.
inline constexpr std::uint64_t kDefaultSegmentBytes = 64ull << 20;
int open_file_storage(const char* dir, NodeId node_id, std::uint64_t cluster_id, raft_storage& out,
                      std::string& why, std::uint64_t segment_bytes = kDefaultSegmentBytes);

// The last error message of a file storage context (for raft_node_errmsg).
const char* file_storage_error(void* ctx);

// Calls storage.snapshot_meta (when the storage has the snapshot functions;
// all or none, which the node's options check) and storage.load, and
// collects the result, checking what a user storage returns: entries whole
// and in order with non-decreasing terms, none above the stored term;
// *first_index set before the first entry is reported and not changed;
// without a snapshot the log starts at 1, with one at most at its index + 1;
// the snapshot's term not above the stored term.  Violations are
// RAFT_ECORRUPT with the reason in `why`.
int load(const raft_storage& storage, Loaded& out, std::string& why);

}  // namespace raft::storage
