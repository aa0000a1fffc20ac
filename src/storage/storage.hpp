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

// What load() found.
struct Loaded {
  Term term = 0;
  NodeId vote = 0;
  Index first_index = 1;
  std::vector<EntryView> entries;  // views into `bytes`
  std::vector<std::uint8_t> bytes;
};

// The memory storage: nothing survives the process (little_raft's model).
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

// Calls storage.load and collects the result, checking what a user storage
// returns (entries must be whole and in order).
int load(const raft_storage& storage, Loaded& out, std::string& why);

}  // namespace raft::storage
