#include "sim_storage.hpp"

#include <cstring>

#include "wire/snapshot_meta.hpp"

namespace sim {

SimStorage::SimStorage(std::uint64_t seed, int node) : node_(node), rng_(seed, "disk", node) {
  raft_storage_init(&vt_);
  vt_.ctx = this;
  vt_.load = load;
  vt_.save_hard_state = save_hard_state;
  vt_.append = append;
  vt_.truncate = truncate;
  vt_.sync = sync;
  vt_.snapshot_begin = snapshot_begin;
  vt_.snapshot_write = snapshot_write;
  vt_.snapshot_commit = snapshot_commit;
  vt_.snapshot_meta = snapshot_meta;
  vt_.snapshot_read = snapshot_read;
  vt_.compact = compact;
}

void SimStorage::Image::truncate(std::uint64_t from) {
  if (from > last()) return;
  if (from <= base) {
    metas.clear();
    bytes.clear();
    return;
  }
  bytes.resize(metas[from - base - 1].offset);
  metas.resize(from - base - 1);
}

void SimStorage::Image::append(const Meta& m, const std::uint8_t* data) {
  Meta copy = m;
  copy.offset = bytes.size();
  bytes.insert(bytes.end(), data, data + m.len);
  metas.push_back(copy);
}

void SimStorage::Image::compact(std::uint64_t index) {
  if (index <= base) return;
  if (index >= last()) {
    metas.clear();
    bytes.clear();
    base = index;
    return;
  }
  const std::size_t k = static_cast<std::size_t>(index - base);
  const std::size_t cut = metas[k].offset;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
  metas.erase(metas.begin(), metas.begin() + static_cast<std::ptrdiff_t>(k));
  for (Meta& m : metas) m.offset -= cut;
  base = index;
}

void SimStorage::apply(Image& img, const Op& op, std::size_t entries) {
  switch (op.kind) {
    case Op::kHardState:
      img.term = op.a;
      img.vote = op.b;
      break;
    case Op::kTruncate:
      img.truncate(op.b);
      break;
    case Op::kCompact:
      img.compact(op.b);
      break;
    case Op::kAppend:
      img.truncate(op.a);  // entries go directly after what precedes them
      for (std::size_t k = 0; k < entries && k < op.metas.size(); ++k)
        img.append(op.metas[k], op.bytes.data() + op.metas[k].offset);
      break;
  }
}

bool SimStorage::survive_call() {
  if (dead_) return false;
  if (fault_in_ > 0 && --fault_in_ == 0) {
    dead_ = true;
    return false;
  }
  return true;
}

void SimStorage::crash(Prng& rng) {
  // Unsynced writes reach the disk in order, up to some point, and the
  // write at that point may be torn (an append only partly there).
  const std::size_t keep = static_cast<std::size_t>(rng.below(pending_.size() + 1));
  for (std::size_t k = 0; k < keep; ++k) {
    const Op& op = pending_[k];
    std::size_t entries = op.metas.size();
    if (k + 1 == keep && op.kind == Op::kAppend) entries = rng.below(entries + 1);
    apply(durable_, op, entries);
  }
  pending_.clear();
  volatile_last_ = durable_.last();
  volatile_base_ = durable_.base;
  writing_ = false;
  next_data_.clear();
  dead_ = true;
}

int SimStorage::load(void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first_index,
                     int (*entry)(void* arg, const raft_entry* e), void* arg) {
  auto* s = static_cast<SimStorage*>(ctx);
  const Image& d = s->durable_;
  *term = d.term;
  *vote = d.vote;
  // With a snapshot, raft.h lets load skip entries the snapshot covers
  // (anything from the log's start to the snapshot's index + 1).
  std::uint64_t first = d.base + 1;
  if (s->snap_index_ > d.base && s->rng_.chance(500000)) {
    const std::uint64_t top = std::min(s->snap_index_, d.last()) + 1;
    first = s->rng_.range(first, top);
  }
  *first_index = first;
  for (std::uint64_t i = first; i <= d.last(); ++i) {
    const Meta& m = d.metas[i - d.base - 1];
    raft_entry e;
    e.term = m.term;
    e.id = m.id;
    e.type = m.type;
    e.data = d.bytes.data() + m.offset;
    e.len = m.len;
    if (entry(arg, &e) != 0) return RAFT_ECORRUPT;
  }
  s->pending_.clear();
  s->volatile_last_ = d.last();
  s->volatile_base_ = first - 1;
  return RAFT_OK;
}

int SimStorage::save_hard_state(void* ctx, std::uint64_t term, raft_id vote) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  Op op;
  op.kind = Op::kHardState;
  op.a = term;
  op.b = vote;
  s->pending_.push_back(std::move(op));
  return RAFT_OK;
}

int SimStorage::append(void* ctx, std::uint64_t first_index, const raft_entry* entries,
                       std::size_t n) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (first_index != s->volatile_last_ + 1) {
    s->misuse_ = "append not directly after the last entry";
    return RAFT_EINVAL;
  }
  Op op;
  op.kind = Op::kAppend;
  op.a = first_index;
  for (std::size_t k = 0; k < n; ++k) {
    Meta m{entries[k].term, entries[k].id, entries[k].type, op.bytes.size(), entries[k].len};
    const auto* p = static_cast<const std::uint8_t*>(entries[k].data);
    op.bytes.insert(op.bytes.end(), p, p + entries[k].len);
    op.metas.push_back(m);
  }
  s->volatile_last_ += n;
  s->pending_.push_back(std::move(op));
  if (s->observer_ != nullptr) s->observer_->on_disk_append(s->node_, first_index, entries, n);
  return RAFT_OK;
}

int SimStorage::truncate(void* ctx, std::uint64_t from_index) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (from_index == 0 || from_index > s->volatile_last_ + 1) {
    s->misuse_ = "truncate beyond the log";
    return RAFT_EINVAL;
  }
  if (from_index <= s->volatile_base_) {
    s->misuse_ = "truncate into the compacted prefix";
    return RAFT_EINVAL;
  }
  Op op;
  op.kind = Op::kTruncate;
  op.b = from_index;
  s->volatile_last_ = from_index - 1;
  s->pending_.push_back(std::move(op));
  return RAFT_OK;
}

int SimStorage::sync(void* ctx) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  for (const Op& op : s->pending_) apply(s->durable_, op, op.metas.size());
  s->pending_.clear();
  return RAFT_OK;
}

int SimStorage::snapshot_begin(void* ctx) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  s->writing_ = true;
  s->next_data_.clear();
  return RAFT_OK;
}

int SimStorage::snapshot_write(void* ctx, const void* data, std::size_t len) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (!s->writing_) {
    s->misuse_ = "snapshot_write without snapshot_begin";
    return RAFT_EINVAL;
  }
  if (len > 0 && data == nullptr) {
    s->misuse_ = "snapshot_write of NULL data";
    return RAFT_EINVAL;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  s->next_data_.insert(s->next_data_.end(), p, p + len);
  return RAFT_OK;
}

void SimStorage::install_pending_snapshot(std::uint64_t index, const void* meta, std::size_t len) {
  raft::SnapshotInfo info;
  const auto* m = static_cast<const std::uint8_t*>(meta);
  snap_term_ = raft::wire::decode_snapshot_meta(m, len, info) ? info.term : 0;
  snap_index_ = index;
  snap_meta_.assign(m, m + len);
  snap_data_.swap(next_data_);
  next_data_.clear();
  writing_ = false;
  ++commits_;
  if (observer_ != nullptr) observer_->on_disk_snapshot(node_, index, snap_meta_, snap_data_);
}

int SimStorage::snapshot_commit(void* ctx, std::uint64_t index, const void* meta, std::size_t len) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->writing_) {
    s->misuse_ = "snapshot_commit without snapshot_begin";
    return RAFT_EINVAL;
  }
  if (index == 0 || meta == nullptr || len == 0 || len > RAFT_SNAPSHOT_META_MAX) {
    s->misuse_ = "snapshot_commit with a bad index or meta";
    return RAFT_EINVAL;
  }
  if (index < s->snap_index_) {
    s->misuse_ = "snapshot_commit older than the current snapshot";
    return RAFT_EINVAL;
  }
  if (!s->survive_call()) {
    // The disk died during the commit (a rename, a directory sync): it is
    // atomic, so either the old or the new snapshot survives.
    if (s->rng_.chance(500000)) s->install_pending_snapshot(index, meta, len);
    return RAFT_EIO;
  }
  s->install_pending_snapshot(index, meta, len);
  return RAFT_OK;
}

int SimStorage::snapshot_meta(void* ctx, void* buf, std::size_t cap, std::size_t* meta_len) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (cap < s->snap_meta_.size() || (cap > 0 && buf == nullptr) || meta_len == nullptr) {
    s->misuse_ = "snapshot_meta with a buffer too small";
    return RAFT_EINVAL;
  }
  if (!s->snap_meta_.empty()) std::memcpy(buf, s->snap_meta_.data(), s->snap_meta_.size());
  *meta_len = s->snap_meta_.size();
  return RAFT_OK;
}

int SimStorage::snapshot_read(void* ctx, std::uint64_t offset, void* buf, std::size_t cap,
                              std::size_t* got) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (s->snap_meta_.empty() || offset > s->snap_data_.size() || got == nullptr ||
      (cap > 0 && buf == nullptr)) {
    s->misuse_ = "snapshot_read outside the current snapshot";
    return RAFT_EINVAL;
  }
  const std::size_t n =
      std::min<std::size_t>(cap, s->snap_data_.size() - static_cast<std::size_t>(offset));
  if (n > 0) std::memcpy(buf, s->snap_data_.data() + offset, n);
  *got = n;
  return RAFT_OK;
}

int SimStorage::compact(void* ctx, std::uint64_t index) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (index > s->snap_index_) {
    s->misuse_ = "compact beyond the current snapshot";
    return RAFT_EINVAL;
  }
  if (index <= s->volatile_base_) return RAFT_OK;  // already dropped
  Op op;
  op.kind = Op::kCompact;
  op.b = index;
  if (index > s->volatile_last_) s->volatile_last_ = index;
  s->volatile_base_ = index;
  ++s->compactions_;
  s->pending_.push_back(std::move(op));
  return RAFT_OK;
}

}  // namespace sim
