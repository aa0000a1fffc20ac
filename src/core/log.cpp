#include "core/log.hpp"

#include <cstring>

namespace raft::core {

namespace {
// Freed chunks kept for reuse: enough for a snapshot interval's worth of
// churn at typical sizes without holding on to a burst's peak forever.
constexpr std::size_t kMaxSpareChunks = 64;
constexpr std::size_t kMaxSpareBlocks = 64;
}  // namespace

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
  v.data = chunk(m.chunk).bytes.get() + m.offset;
  v.len = m.len;
  return v;
}

void Log::recycle(Chunk&& c) {
  if (c.capacity == kChunkBytes && spare_chunks_.size() < kMaxSpareChunks)
    spare_chunks_.push_back(std::move(c));
}

std::uint32_t Log::chunk_for(std::size_t len) {
  if (!chunks_.empty()) {
    const Chunk& last = chunks_.back();
    if (last.capacity - last.used >= len)
      return static_cast<std::uint32_t>(first_chunk_ + chunks_.size() - 1);
  }
  Chunk c;
  if (len <= kChunkBytes && !spare_chunks_.empty()) {
    c = std::move(spare_chunks_.back());
    spare_chunks_.pop_back();
  } else {
    c.capacity = len > kChunkBytes ? len : kChunkBytes;
    c.bytes.reset(new std::uint8_t[c.capacity]);  // not zero-filled: always written first
  }
  c.used = 0;
  chunks_.push_back(std::move(c));
  return static_cast<std::uint32_t>(first_chunk_ + chunks_.size() - 1);
}

void Log::append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
                 std::size_t len) {
  if (dirty_from_ == 0) dirty_from_ = last_index() + 1;
  const std::uint32_t id_of_chunk = chunk_for(len);
  Chunk& c = chunk(id_of_chunk);
  const auto offset = static_cast<std::uint32_t>(c.used);
  if (len > 0) std::memcpy(c.bytes.get() + offset, data, len);
  c.used += len;
  payload_bytes_ += len;
  const std::size_t slot = head_ + count_;
  if (slot / kBlockEntries == blocks_.size()) {
    if (!spare_blocks_.empty()) {
      blocks_.push_back(std::move(spare_blocks_.back()));
      spare_blocks_.pop_back();
    } else {
      blocks_.emplace_back(new Meta[kBlockEntries]);
    }
  }
  blocks_[slot / kBlockEntries][slot % kBlockEntries] =
      Meta{term, id, id_of_chunk, offset, static_cast<std::uint32_t>(len), type};
  ++count_;
}

void Log::truncate_from(Index i) {
  if (i <= base_index_ || i > last_index()) return;
  if (dirty_from_ == 0 || i < dirty_from_) dirty_from_ = i;
  const Meta first_gone = meta(i);
  for (Index k = i; k <= last_index(); ++k) payload_bytes_ -= meta(k).len;
  // Chunks after the first removed entry's chunk hold only removed entries.
  const std::size_t keep = static_cast<std::uint32_t>(first_gone.chunk - first_chunk_) + 1u;
  while (chunks_.size() > keep) {
    recycle(std::move(chunks_.back()));
    chunks_.pop_back();
  }
  chunks_.back().used = first_gone.offset;
  count_ = i - base_index_ - 1;
  // Metadata blocks stay allocated: they are small and refilled next.
}

void Log::compact(Index i) {
  if (i <= base_index_) return;
  if (i >= last_index()) {
    const bool dirty = dirty_from_ != 0;
    reset(last_index(), last_term());
    // Storage may still hold a stale suffix that an unwritten truncation
    // removed: if so, it stays marked for truncation after the new base.
    if (!dirty) dirty_from_ = 0;
    return;
  }
  const Term new_base_term = term_at(i);
  for (Index k = base_index_ + 1; k <= i; ++k) payload_bytes_ -= meta(k).len;
  // Chunks before the first kept entry's chunk hold only dropped entries.
  const std::uint32_t first_kept_chunk = meta(i + 1).chunk;
  while (first_chunk_ != first_kept_chunk) {
    recycle(std::move(chunks_.front()));
    chunks_.erase(chunks_.begin());
    ++first_chunk_;
  }
  const std::size_t dropped = i - base_index_;
  head_ += dropped;
  count_ -= dropped;
  while (head_ >= kBlockEntries) {
    if (spare_blocks_.size() < kMaxSpareBlocks) spare_blocks_.push_back(std::move(blocks_.front()));
    blocks_.erase(blocks_.begin());
    head_ -= kBlockEntries;
  }
  base_index_ = i;
  base_term_ = new_base_term;
  // Unwritten changes below the new base need no writing: the snapshot
  // covers them.
  if (dirty_from_ != 0 && dirty_from_ <= base_index_) dirty_from_ = base_index_ + 1;
}

void Log::reset(Index index, Term term) {
  for (Chunk& c : chunks_) recycle(std::move(c));
  chunks_.clear();
  first_chunk_ = 0;
  for (auto& b : blocks_) {
    if (spare_blocks_.size() < kMaxSpareBlocks) spare_blocks_.push_back(std::move(b));
  }
  blocks_.clear();
  head_ = 0;
  count_ = 0;
  payload_bytes_ = 0;
  base_index_ = index;
  base_term_ = term;
  // Whatever storage holds after `index` is not this log's: truncate it.
  dirty_from_ = index + 1;
}

}  // namespace raft::core
