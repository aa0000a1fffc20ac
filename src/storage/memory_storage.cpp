// The memory storage keeps nothing: the core's in-memory log is the only
// copy, and a restart begins empty.  It exists so that the node always talks
// to a raft_storage, whichever storage is configured.
#include "storage/storage.hpp"

namespace raft::storage {

namespace {

int load_nothing(void*, std::uint64_t* term, raft_id* vote, std::uint64_t* first_index,
                 int (*)(void*, const raft_entry*), void*) {
  *term = 0;
  *vote = RAFT_NO_ID;
  *first_index = 1;
  return RAFT_OK;
}
int keep_hard_state(void*, std::uint64_t, raft_id) { return RAFT_OK; }
int keep_entries(void*, std::uint64_t, const raft_entry*, std::size_t) { return RAFT_OK; }
int keep_truncate(void*, std::uint64_t) { return RAFT_OK; }
int nothing_to_sync(void*) { return RAFT_OK; }

}  // namespace

raft_storage memory_storage() {
  raft_storage s{};
  s.version = RAFT_STORAGE_VERSION;
  s.load = load_nothing;
  s.save_hard_state = keep_hard_state;
  s.append = keep_entries;
  s.truncate = keep_truncate;
  s.sync = nothing_to_sync;
  return s;
}

}  // namespace raft::storage
