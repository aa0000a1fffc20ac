#include "sim_storage.hpp"

namespace sim {

SimStorage::SimStorage() {
  raft_storage_init(&vt_);
  vt_.ctx = this;
  vt_.load = load;
  vt_.save_hard_state = save_hard_state;
  vt_.append = append;
  vt_.truncate = truncate;
  vt_.sync = sync;
}

void SimStorage::Image::truncate(std::uint64_t from) {
  if (from == 0 || from > metas.size()) return;
  bytes.resize(metas[from - 1].offset);
  metas.resize(from - 1);
}

void SimStorage::Image::append(const Meta& m, const std::uint8_t* data) {
  Meta copy = m;
  copy.offset = bytes.size();
  bytes.insert(bytes.end(), data, data + m.len);
  metas.push_back(copy);
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
  volatile_last_ = durable_.metas.size();
  dead_ = true;
}

int SimStorage::load(void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first_index,
                     int (*entry)(void* arg, const raft_entry* e), void* arg) {
  auto* s = static_cast<SimStorage*>(ctx);
  *term = s->durable_.term;
  *vote = s->durable_.vote;
  *first_index = 1;
  for (const Meta& m : s->durable_.metas) {
    raft_entry e;
    e.term = m.term;
    e.id = m.id;
    e.type = m.type;
    e.data = s->durable_.bytes.data() + m.offset;
    e.len = m.len;
    if (entry(arg, &e) != 0) return RAFT_ECORRUPT;
  }
  s->pending_.clear();
  s->volatile_last_ = s->durable_.metas.size();
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
  return RAFT_OK;
}

int SimStorage::truncate(void* ctx, std::uint64_t from_index) {
  auto* s = static_cast<SimStorage*>(ctx);
  if (!s->survive_call()) return RAFT_EIO;
  if (from_index == 0 || from_index > s->volatile_last_ + 1) {
    s->misuse_ = "truncate beyond the log";
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

}  // namespace sim
