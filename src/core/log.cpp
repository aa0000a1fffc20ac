#include "core/log.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "common/copy_bytes.hpp"
#include "common/page_memory.hpp"

namespace raft::core {

namespace {
// Freed chunks kept for reuse: enough for a snapshot interval's worth of
// churn at typical sizes without holding on to a burst's peak forever.
constexpr std::size_t kMaxSpareChunks = 64;
constexpr std::size_t kMaxSpareBlocks = 64;
}  // namespace

Term Log::older_term(Index i) const {
  // The last run starting at or before i.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                             [](Index index, const TermRun& r) { return index < r.first; });
  return std::prev(it)->term;
}

void Log::recycle(Chunk&& c) {
  if (c.capacity == kChunkBytes && spare_chunks_.size() < kMaxSpareChunks)
    spare_chunks_.push_back(std::move(c));
}

void Log::new_chunk(std::size_t len) {
  Chunk c;
  if (len <= kChunkBytes && !spare_chunks_.empty()) {
    c = std::move(spare_chunks_.back());
    spare_chunks_.pop_back();
  } else {
    c.capacity = len > kChunkBytes ? len : kChunkBytes;
    // A log that filled a chunk is taking entries in volume: map the next
    // one's pages up front (see page_memory.hpp).
    c.bytes = allocate_pages(c.capacity, !chunks_.empty());
  }
  c.used = 0;
  chunks_.push_back(std::move(c));
  refresh_tail();
}

template <typename EntryAt>
void Log::append_each(std::size_t n, EntryAt entry_at) {
  if (n == 0) return;
  ++generation_;
  if (dirty_from_ == 0) dirty_from_ = last_index() + 1;
  // The tail chunk, its fill level, the metadata block and the count live in
  // locals for the whole batch (the compiler cannot keep members in
  // registers across memcpy); members are written back when a new chunk or
  // block is needed, and at the end.
  std::uint8_t* bytes = tail_ != nullptr ? tail_->bytes.get() : nullptr;
  std::size_t used = tail_ != nullptr ? tail_->used : 0;
  std::size_t room = tail_ != nullptr ? tail_->capacity - used : 0;
  auto chunk_id = static_cast<std::uint16_t>(first_chunk_ + chunks_.size() - 1);
  // Whether the newest run is known (hostile input can carry term 0, so no
  // term value can stand for "none").
  bool have_run = !runs_.empty();
  Term term = have_run ? runs_.back().term : 0;
  Block* block = nullptr;
  std::size_t k = kBlockEntries;
  std::size_t count = count_;
  std::size_t added = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const EntryView e = entry_at(j);
    if (!have_run || e.term != term) {
      term = e.term;
      have_run = true;
      runs_.push_back(TermRun{base_index_ + count + 1, term});
    }
    if (bytes == nullptr || room < e.len) {
      if (tail_ != nullptr) tail_->used = used;
      new_chunk(e.len);
      bytes = tail_->bytes.get();
      used = 0;
      room = tail_->capacity;
      chunk_id = static_cast<std::uint16_t>(first_chunk_ + chunks_.size() - 1);
    }
    if (k == kBlockEntries) {
      const std::size_t slot = head_ + count;
      if (slot % kBlockEntries == 0 && slot / kBlockEntries == blocks_.size()) add_block();
      block = blocks_[slot / kBlockEntries].get();
      k = slot % kBlockEntries;
    }
    if (count == 0) first_offset_ = static_cast<std::uint32_t>(used);
    copy_bytes(bytes + used, e.data, e.len);
    used += e.len;
    room -= e.len;
    added += e.len;
    block->id[k] = e.id;
    block->end_type[k] =
        static_cast<std::uint32_t>(used) | (e.type == EntryType::kNoop ? kNoopBit : 0);
    block->chunk[k] = chunk_id;
    ++k;
    ++count;
  }
  tail_->used = used;
  count_ = count;
  payload_bytes_ += added;
}

void Log::append(const EntryView* entries, std::size_t n) {
  append_each(n, [entries](std::size_t j) { return entries[j]; });
}

void Log::append(Term term, const std::uint8_t* base, const Proposal* items, std::size_t n) {
  append_each(n, [term, base, items](std::size_t j) {
    return EntryView{term, EntryType::kCommand, items[j].id, base + items[j].offset, items[j].len};
  });
}

void Log::add_block() {
  if (!spare_blocks_.empty()) {
    blocks_.push_back(std::move(spare_blocks_.back()));
    spare_blocks_.pop_back();
  } else {
    PageMemory pages = allocate_pages(sizeof(Block), !blocks_.empty());
    // Not zero-filled (default-initialised arrays): always written first.
    Block* block = new (pages.get()) Block;
    BlockPtr owned(block, BlockFree{pages.get_deleter()});
    pages.release();
    blocks_.push_back(std::move(owned));  // if this throws, owned frees the block
  }
}

void Log::truncate_from(Index i) {
  if (i <= base_index_ || i > last_index()) return;
  ++generation_;
  if (dirty_from_ == 0 || i < dirty_from_) dirty_from_ = i;
  const Slot first_gone = slot(i);
  const std::uint16_t gone_chunk = first_gone.block->chunk[first_gone.k];
  const std::uint32_t gone_offset = offset_of(i, first_gone);
  for (Index k = i; k <= last_index(); ++k) payload_bytes_ -= len_of(k);
  // Chunks after the first removed entry's chunk hold only removed entries.
  const std::size_t keep = static_cast<std::uint16_t>(gone_chunk - first_chunk_) + 1u;
  while (chunks_.size() > keep) {
    recycle(std::move(chunks_.back()));
    chunks_.pop_back();
  }
  chunks_.back().used = gone_offset;  // keep >= 1: the first removed entry's chunk stays
  count_ = i - base_index_ - 1;
  if (count_ == 0) {
    // Nothing is held: the bytes before first_offset_ belonged to compacted
    // entries.  Left counted in `used`, a later compaction would subtract
    // them from payload_bytes_ a second time.
    chunks_.back().used = 0;
    first_offset_ = 0;
  }
  refresh_tail();
  while (!runs_.empty() && runs_.back().first >= i) runs_.pop_back();
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
  ++generation_;
  const Term new_base_term = term_of(i);
  // Chunks before the first kept entry's chunk hold only dropped entries.
  const Slot first_kept = slot(i + 1);
  const std::uint16_t first_kept_chunk = first_kept.block->chunk[first_kept.k];
  const std::uint32_t first_kept_offset = offset_of(i + 1, first_kept);
  // Entries are packed: a chunk's [0, used) is its entries' payloads, so the
  // dropped bytes run from first_offset_ in the first chunk to
  // first_kept_offset in the first kept one (no walk over the entries).
  std::size_t dropped_bytes = first_kept_offset;
  dropped_bytes -= first_offset_;
  for (std::uint16_t c = first_chunk_; c != first_kept_chunk; ++c) dropped_bytes += chunk(c).used;
  payload_bytes_ -= dropped_bytes;
  while (first_chunk_ != first_kept_chunk) {
    recycle(std::move(chunks_.front()));
    chunks_.erase(chunks_.begin());
    ++first_chunk_;
  }
  refresh_tail();
  const std::size_t dropped = i - base_index_;
  head_ += dropped;
  count_ -= dropped;
  while (head_ >= kBlockEntries) {
    if (spare_blocks_.size() < kMaxSpareBlocks) spare_blocks_.push_back(std::move(blocks_.front()));
    blocks_.erase(blocks_.begin());
    head_ -= kBlockEntries;
  }
  // Runs that end before the first kept entry are no longer needed.
  std::size_t unneeded = 0;
  while (unneeded + 1 < runs_.size() && runs_[unneeded + 1].first <= i + 1) ++unneeded;
  runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(unneeded));
  base_index_ = i;
  base_term_ = new_base_term;
  first_offset_ = first_kept_offset;
  // Unwritten changes below the new base need no writing: the snapshot
  // covers them.
  if (dirty_from_ != 0 && dirty_from_ <= base_index_) dirty_from_ = base_index_ + 1;
}

void Log::reset(Index index, Term term) {
  ++generation_;
  for (Chunk& c : chunks_) recycle(std::move(c));
  chunks_.clear();
  refresh_tail();
  first_chunk_ = 0;
  for (auto& b : blocks_) {
    if (spare_blocks_.size() < kMaxSpareBlocks) spare_blocks_.push_back(std::move(b));
  }
  blocks_.clear();
  runs_.clear();
  head_ = 0;
  count_ = 0;
  payload_bytes_ = 0;
  base_index_ = index;
  base_term_ = term;
  // Whatever storage holds after `index` is not this log's: truncate it.
  dirty_from_ = index + 1;
}

}  // namespace raft::core
