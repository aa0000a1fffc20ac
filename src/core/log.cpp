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

Term Log::older_term(Index i) const { return runs_[run_holding(i)].term; }

std::size_t Log::run_holding(Index i) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                             [](Index index, const TermRun& r) { return index < r.first; });
  return static_cast<std::size_t>(std::prev(it) - runs_.begin());
}

std::size_t Log::payload_between(Index a, Index b) const {
  const Slot sa = slot(a);
  const Slot sb = slot(b);
  const std::uint16_t ca = sa.block->chunk[sa.k];
  const std::uint16_t cb = sb.block->chunk[sb.k];
  const std::uint32_t start = offset_of(a, sa);
  const std::uint32_t end = sb.block->end_type[sb.k] & ~kNoopBit;
  if (ca == cb) return end - start;
  // Packed: a chunk's entries fill [0, used).
  std::size_t total = chunk(ca).used - start;
  for (std::uint16_t c = static_cast<std::uint16_t>(ca + 1); c != cb; ++c) total += chunk(c).used;
  return total + end;
}

std::size_t Log::batch_extent(Index from, std::size_t max_bytes, std::size_t* payload) const {
  // The cost of from..b grows with b: binary search for the last b that
  // fits, each probe O(1) from the metadata (entries are packed, so a
  // range's payload is a difference of offsets) instead of a walk over the
  // entries.
  const auto cost = [&](Index b) {
    return payload_between(from, b) + (b - from + 1) * kEntryWireOverhead;
  };
  Index lo = from;  // fits, or is the one entry sent however large
  Index hi = last_index();
  if (cost(hi) <= max_bytes) {
    lo = hi;
  } else {
    while (lo + 1 < hi) {  // invariant: lo fits (or is from), hi does not
      const Index mid = lo + (hi - lo) / 2;
      if (cost(mid) <= max_bytes) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }
  *payload = payload_between(from, lo);
  return static_cast<std::size_t>(lo - from + 1);
}

void Log::collect(Index from, std::size_t count, std::vector<EntryView>& out) const {
  if (count == 0) return;
  visit_with_terms(
      from, from + count - 1,
      [&out](Term term, std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t len) {
        out.push_back(
            EntryView{term, noop ? EntryType::kNoop : EntryType::kCommand, id, data, len});
      });
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

template <bool kOneTerm, typename EntryAt>
void Log::append_each(std::size_t n, EntryAt entry_at) {
  if (n == 0) return;
  ++generation_;
  if (dirty_from_ == 0) dirty_from_ = last_index() + 1;
  const bool was_empty = count_ == 0;
  // The newest term run and a tail chunk exist before the loop, so it tests
  // neither for absence (hostile input can carry term 0: no term value can
  // stand for "none").  With kOneTerm (a turn's proposals) the run is
  // settled here once.
  if (runs_.empty() || (kOneTerm && runs_.back().term != entry_at(0).term))
    runs_.push_back(TermRun{last_index() + 1, entry_at(0).term});
  if (tail_ == nullptr) new_chunk(entry_at(0).len);
  // The loop's state lives in locals (the compiler cannot keep members in
  // registers across a copy that may alias them), and as little of it as
  // possible, so that it stays in registers: the payload bytes added are
  // counted per chunk, not per entry.  The inner loop runs to the end of the
  // current metadata block, so an entry costs its copy, three stores and a
  // predictable test or two (room; term).
  std::uint8_t* bytes = tail_->bytes.get();
  std::size_t used = tail_->used;
  std::size_t capacity = tail_->capacity;
  std::size_t added = 0;
  std::size_t used_before = used;  // in the current chunk, when the batch reached it
  auto chunk_id = static_cast<std::uint16_t>(first_chunk_ + chunks_.size() - 1);
  Term term = runs_.back().term;
  std::size_t j = 0;
  while (j < n) {
    const std::size_t slot = head_ + count_ + j;
    if (slot % kBlockEntries == 0 && slot / kBlockEntries == blocks_.size()) add_block();
    Block* const block = blocks_[slot / kBlockEntries].get();
    std::size_t k = slot % kBlockEntries;
    const std::size_t stop = n - j < kBlockEntries - k ? n : j + (kBlockEntries - k);
    for (; j < stop; ++j, ++k) {
      const auto& e = entry_at(j);  // a reference for stored views, no copy
      // Read before the copy, which the compiler must assume may alias e.
      const std::size_t len = e.len;
      const std::uint64_t id = e.id;
      const std::uint32_t noop = e.type == EntryType::kNoop ? kNoopBit : 0;
      if (!kOneTerm && e.term != term) {
        term = e.term;
        runs_.push_back(TermRun{base_index_ + count_ + j + 1, term});
      }
      if (capacity - used < len) {
        added += used - used_before;
        tail_->used = used;
        new_chunk(len);
        bytes = tail_->bytes.get();
        used = used_before = 0;
        capacity = tail_->capacity;
        chunk_id = static_cast<std::uint16_t>(first_chunk_ + chunks_.size() - 1);
      }
      copy_bytes(bytes + used, e.data, len);
      used += len;
      block->id[k] = id;
      block->end_type[k] = static_cast<std::uint32_t>(used) | noop;
      block->chunk[k] = chunk_id;
    }
  }
  tail_->used = used;
  if (was_empty) {
    // Where the first entry starts: its end less its length.
    const Slot s = slot(base_index_ + 1);
    first_offset_ =
        (s.block->end_type[s.k] & ~kNoopBit) - static_cast<std::uint32_t>(entry_at(0).len);
  }
  count_ += n;
  payload_bytes_ += added + (used - used_before);
}

void Log::append(const EntryView* entries, std::size_t n) {
  append_each<false>(n, [entries](std::size_t j) -> const EntryView& { return entries[j]; });
}

void Log::append(Term term, const std::uint8_t* base, const Proposal* items, std::size_t n) {
  append_each<true>(n, [term, base, items](std::size_t j) {
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
  payload_bytes_ -= payload_between(i, last_index());
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
  payload_bytes_ -= payload_between(base_index_ + 1, i);  // per chunk, not per entry
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
