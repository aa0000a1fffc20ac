#include "core/log.hpp"

#include <cstring>

namespace raft::core {

Term Log::term_at(Index i) const {
  if (i == base_index_) return base_term_;
  if (i < base_index_ || i > last_index()) return 0;
  return meta(i).term;
}

EntryView Log::at(Index i) const {
  const Meta& m = meta(i);
  EntryView v;
  v.term = m.term;
  v.type = m.type;
  v.id = m.id;
  v.data = chunks_[m.chunk].bytes.get() + m.offset;
  v.len = m.len;
  return v;
}

std::uint32_t Log::chunk_for(std::size_t len) {
  if (!chunks_.empty()) {
    const Chunk& last = chunks_.back();
    if (last.capacity - last.used >= len) return static_cast<std::uint32_t>(chunks_.size() - 1);
  }
  Chunk c;
  if (len <= kChunkBytes && spare_.capacity == kChunkBytes) {
    c = std::move(spare_);
    spare_ = Chunk{};
  } else {
    c.capacity = len > kChunkBytes ? len : kChunkBytes;
    c.bytes.reset(new std::uint8_t[c.capacity]);  // not zero-filled: always written first
  }
  c.used = 0;
  chunks_.push_back(std::move(c));
  return static_cast<std::uint32_t>(chunks_.size() - 1);
}

void Log::append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
                 std::size_t len) {
  if (dirty_from_ == 0) dirty_from_ = last_index() + 1;
  const std::uint32_t chunk = chunk_for(len);
  Chunk& c = chunks_[chunk];
  const auto offset = static_cast<std::uint32_t>(c.used);
  if (len > 0) std::memcpy(c.bytes.get() + offset, data, len);
  c.used += len;
  payload_bytes_ += len;
  if (count_ / kBlockEntries == blocks_.size()) blocks_.emplace_back(new Meta[kBlockEntries]);
  blocks_[count_ / kBlockEntries][count_ % kBlockEntries] =
      Meta{term, id, chunk, offset, static_cast<std::uint32_t>(len), type};
  ++count_;
}

void Log::truncate_from(Index i) {
  if (i <= base_index_ || i > last_index()) return;
  if (dirty_from_ == 0 || i < dirty_from_) dirty_from_ = i;
  const Meta first_gone = meta(i);
  for (Index k = i; k <= last_index(); ++k) payload_bytes_ -= meta(k).len;
  // Chunks after the first removed entry's chunk hold only removed entries.
  while (chunks_.size() > first_gone.chunk + 1u) {
    if (chunks_.back().capacity == kChunkBytes) spare_ = std::move(chunks_.back());
    chunks_.pop_back();
  }
  chunks_.back().used = first_gone.offset;
  count_ = i - base_index_ - 1;
  // Metadata blocks stay allocated: they are small and refilled next.
}

}  // namespace raft::core
