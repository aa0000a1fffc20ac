// The memory storage keeps no log: the core's in-memory log is the only
// copy, and a restart begins empty.  It does keep the current snapshot (its
// bytes and meta), because the node reads it back to send it to followers;
// so the node has one code path for snapshots whatever the storage.
#include <algorithm>
#include <cstring>
#include <new>

#include "storage/storage.hpp"

namespace raft::storage {

namespace {

struct MemorySnapshots {
  std::vector<std::uint8_t> bytes, meta;  // the current snapshot
  std::vector<std::uint8_t> writing;      // the one being written
  bool has_current = false;
  bool has_writing = false;
};

MemorySnapshots* self(void* ctx) { return static_cast<MemorySnapshots*>(ctx); }

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
int nothing_to_compact(void*, std::uint64_t) { return RAFT_OK; }
void close_memory(void* ctx) { delete self(ctx); }

int begin(void* ctx) {
  auto* s = self(ctx);
  // Release the memory of an unfinished one rather than keep its capacity.
  std::vector<std::uint8_t>().swap(s->writing);
  s->has_writing = true;
  return RAFT_OK;
}

int write(void* ctx, const void* data, std::size_t len) {
  auto* s = self(ctx);
  if (!s->has_writing || (len > 0 && data == nullptr)) return RAFT_EINVAL;
  const auto* p = static_cast<const std::uint8_t*>(data);
  if (len > 0) {
    try {
      s->writing.insert(s->writing.end(), p, p + len);
    } catch (const std::bad_alloc&) {
      return RAFT_ENOMEM;
    }
  }
  return RAFT_OK;
}

int commit(void* ctx, std::uint64_t index, const void* meta, std::size_t meta_len) {
  auto* s = self(ctx);
  if (!s->has_writing || index == 0 || meta == nullptr || meta_len == 0 ||
      meta_len > RAFT_SNAPSHOT_META_MAX)
    return RAFT_EINVAL;
  const auto* m = static_cast<const std::uint8_t*>(meta);
  try {
    s->meta.assign(m, m + meta_len);
  } catch (const std::bad_alloc&) {
    return RAFT_ENOMEM;
  }
  s->bytes.swap(s->writing);
  std::vector<std::uint8_t>().swap(s->writing);
  s->has_writing = false;
  s->has_current = true;
  return RAFT_OK;
}

int meta(void* ctx, void* buf, std::size_t cap, std::size_t* meta_len) {
  auto* s = self(ctx);
  if (buf == nullptr || meta_len == nullptr || s->meta.size() > cap) return RAFT_EINVAL;
  *meta_len = s->has_current ? s->meta.size() : 0;
  if (*meta_len > 0) std::memcpy(buf, s->meta.data(), *meta_len);
  return RAFT_OK;
}

int read(void* ctx, std::uint64_t offset, void* buf, std::size_t cap, std::size_t* got) {
  auto* s = self(ctx);
  if (got == nullptr) return RAFT_EINVAL;
  *got = 0;
  if (!s->has_current || offset > s->bytes.size() || (cap > 0 && buf == nullptr))
    return RAFT_EINVAL;
  const std::size_t n = std::min<std::size_t>(cap, s->bytes.size() - offset);
  if (n > 0) std::memcpy(buf, s->bytes.data() + offset, n);
  *got = n;
  return RAFT_OK;
}

}  // namespace

raft_storage memory_storage() {
  raft_storage s{};
  s.version = RAFT_STORAGE_VERSION;
  s.ctx = new (std::nothrow) MemorySnapshots();
  s.load = load_nothing;
  s.save_hard_state = keep_hard_state;
  s.append = keep_entries;
  s.truncate = keep_truncate;
  s.sync = nothing_to_sync;
  s.close = close_memory;
  // Without a context (out of memory) the storage simply has no snapshots.
  if (s.ctx != nullptr) {
    s.snapshot_begin = begin;
    s.snapshot_write = write;
    s.snapshot_commit = commit;
    s.snapshot_meta = meta;
    s.snapshot_read = read;
    s.compact = nothing_to_compact;
  }
  return s;
}

}  // namespace raft::storage
