// The replicated log held in memory.  All index arithmetic lives here, in
// one place, so that an offset mistake (little_raft bugs B9-B11) cannot hide
// in the protocol code: callers speak only in Raft indexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/page_memory.hpp"
#include "core/message.hpp"

namespace raft::core {

class Log {
 public:
  // Index of the entry before the first one held (0, or the point up to
  // which the log was compacted into a snapshot), and its term.
  Index base_index() const { return base_index_; }
  Term base_term() const { return base_term_; }
  Index last_index() const { return base_index_ + count_; }
  Term last_term() const { return term_at(last_index()); }
  bool empty() const { return count_ == 0; }

  // True if `i` is base_index() or an index held in the log.
  bool has(Index i) const { return i >= base_index_ && i <= last_index(); }
  // The term of entry i; base_term() at base_index(); 0 outside the log.
  Term term_at(Index i) const {
    if (i == base_index_) return base_term_;
    if (i < base_index_ || i > last_index()) return 0;
    return term_of(i);
  }
  // Entry i, which must satisfy base_index() < i <= last_index().  The view
  // is valid until the log is next modified.  Inline: the leader and the
  // apply loop call these for every entry.
  EntryView at(Index i) const {
    const Slot s = slot(i);
    const std::uint32_t end_type = s.block->end_type[s.k];
    const std::uint32_t offset = offset_of(i, s);
    EntryView v;
    v.term = term_of(i);
    v.type = (end_type & kNoopBit) != 0 ? EntryType::kNoop : EntryType::kCommand;
    v.id = s.block->id[s.k];
    v.data = chunk(s.block->chunk[s.k]).bytes.get() + offset;
    v.len = (end_type & ~kNoopBit) - offset;
    return v;
  }

  // Reads entries in index order, from a starting index up: what the leader
  // sends, the driver persists and the state machine applies.  Unlike at(),
  // it finds each entry's payload from the one before, without looking up
  // the metadata of two entries per step.  Valid until the log is modified.
  class Reader;
  // A reader positioned at entry i (base_index() < i <= last_index()).
  Reader read_from(Index i) const;
  // How many entries from `from` (base_index() < from <= last_index()) on
  // make a leader's AppendEntries batch: as many as fit max_bytes counting
  // kEntryWireOverhead each besides the payload, and always at least one.
  // Their payloads' total goes to *payload.  Reads the metadata only.
  std::size_t batch_extent(Index from, std::size_t max_bytes, std::size_t* payload) const;
  // Appends the views of entries from..from+count-1 to `out`.
  void collect(Index from, std::size_t count, std::vector<EntryView>& out) const;
  // Calls fn(id, is_noop, data, len) for entries from..to in order
  // (base_index() < from <= to <= last_index()): the apply loop's walk.  It
  // goes a metadata block at a time and never computes terms, so an entry
  // costs a few loads and the call; fn must not modify the log.
  template <typename Fn>
  void visit(Index from, Index to, Fn&& fn) const {
    walk<false>(from, to,
                [&fn](Term, std::uint64_t id, bool noop, const std::uint8_t* data,
                      std::size_t len) { fn(id, noop, data, len); });
  }
  // The same with each entry's term first: fn(term, id, is_noop, data, len)
  // (a leader encoding a batch straight from the log).
  template <typename Fn>
  void visit_with_terms(Index from, Index to, Fn&& fn) const {
    walk<true>(from, to, fn);
  }

  // Appends n entries in order, with the bookkeeping done once per batch (a
  // follower appends an AppendEntries' new entries, the leader a turn's
  // proposals).
  void append(const EntryView* entries, std::size_t n);
  void append(const EntryView& e) { append(&e, 1); }
  // Appends n commands of one term whose payloads lie in `base` (a turn's
  // proposals, straight from the driver's queue).
  void append(Term term, const std::uint8_t* base, const Proposal* items, std::size_t n);
  void append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
              std::size_t len) {
    const EntryView e{term, type, id, data, len};
    append(&e, 1);
  }
  // Remove entries i..last_index().  i must be > base_index().
  void truncate_from(Index i);
  // Drop entries up to and including i (base_index() < i <= last_index()):
  // a snapshot covers them.  Their memory is kept for reuse.
  void compact(Index i);
  // Drop every entry and restart the log after (index, term): a snapshot
  // that the log does not match replaced it.  Marks index + 1 dirty, so the
  // driver truncates whatever storage holds beyond it.
  void reset(Index index, Term term);

  // The lowest index appended or truncated since mark_persisted(), or 0 if
  // nothing changed: the driver writes from there to storage.
  Index dirty_from() const { return dirty_from_; }
  void mark_persisted() { dirty_from_ = 0; }

  // Bytes of payload held (for flow control and status).
  std::size_t payload_bytes() const { return payload_bytes_; }
  // Bytes of payload of the entries after index i: a leader's uncommitted
  // bytes after its commit index.  O(chunks spanned).
  std::size_t payload_after(Index i) const {
    if (i >= last_index()) return 0;
    return i <= base_index_ ? payload_bytes_ : payload_between(i + 1, last_index());
  }
  // Changes whenever the log does (append, truncate, compact, reset): what
  // was read from it at one generation still holds while it is unchanged.
  std::uint64_t generation() const { return generation_; }

 private:
  // Payloads live in fixed-size chunks and entry metadata in fixed-size
  // blocks: growing the log never reallocates or copies what it holds (at
  // millions of entries per second, doubling a vector means page faults
  // and copies that cost more than Raft itself).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  static constexpr std::size_t kBlockEntries = 4096;

  // Entry metadata, a structure of arrays per block of entries: 14 bytes
  // an entry instead of the 32 of a padded struct (at 1M entries per node
  // that is the difference between meeting a memory budget or not).  The
  // term is not stored per entry: terms change rarely, so `runs_` holds the
  // first index of every term present.  Nor is the payload's offset:
  // entries are packed back to back in their chunk, so an entry starts where
  // the one before it ends (or at 0 in a new chunk).
  static constexpr std::uint32_t kNoopBit = 1u << 31;  // in end_type; ends < 2^31
  struct Block {
    std::uint64_t id[kBlockEntries];
    std::uint32_t end_type[kBlockEntries];  // payload's end in its chunk | kNoopBit
    std::uint16_t chunk[kBlockEntries];     // chunk id: chunks_[chunk - first_chunk_]
  };
  struct TermRun {
    Index first;  // entries first.. (up to the next run) have this term
    Term term;
  };
  struct Slot {
    const Block* block;
    std::size_t k;
  };
  struct Chunk {
    PageMemory bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;
  };

  Slot slot(Index i) const {
    const std::size_t k = head_ + (i - base_index_ - 1);
    return Slot{blocks_[k / kBlockEntries].get(), k % kBlockEntries};
  }
  // Where entry i's payload starts in its chunk (s = slot(i)).
  std::uint32_t offset_of(Index i, Slot s) const {
    if (i == base_index_ + 1) return first_offset_;
    const Slot before = slot(i - 1);
    if (before.block->chunk[before.k] != s.block->chunk[s.k]) return 0;
    return before.block->end_type[before.k] & ~kNoopBit;
  }
  // Term of an entry held (base_index() < i <= last_index()): almost always
  // the newest run; older ones by binary search.
  Term term_of(Index i) const {
    return i >= runs_.back().first ? runs_.back().term : older_term(i);
  }
  Term older_term(Index i) const;
  // Position in runs_ of the run holding entry i.
  std::size_t run_holding(Index i) const;
  // Payload bytes of entries a..b (base_index() < a <= b <= last_index()).
  std::size_t payload_between(Index a, Index b) const;
  // Chunk ids are 16 bits and only their differences matter: the live
  // chunks (each at least 1 MiB) never number 65,536.
  Chunk& chunk(std::uint16_t id) { return chunks_[static_cast<std::uint16_t>(id - first_chunk_)]; }
  const Chunk& chunk(std::uint16_t id) const {
    return chunks_[static_cast<std::uint16_t>(id - first_chunk_)];
  }
  // Keep a freed chunk for reuse (a bounded number of them).
  void recycle(Chunk&& c);
  // A new (or recycled) chunk for an entry of `len` bytes that does not fit
  // the current one; an entry larger than a chunk gets a chunk of its own.
  void new_chunk(std::size_t len);
  // The next metadata block (a spare one if any).
  void add_block();
  // Both appends: entry_at(j) gives the j-th new entry (an EntryView); with
  // kOneTerm all of them have the same term.
  template <bool kOneTerm, typename EntryAt>
  void append_each(std::size_t n, EntryAt entry_at);
  // visit()'s loop; with kTerms it tracks the term run of each entry (a
  // count down to the next run's start, not a lookup per entry).
  template <bool kTerms, typename Fn>
  void walk(Index from, Index to, Fn&& fn) const;
  // chunks_ changed: re-point tail_.
  void refresh_tail() { tail_ = chunks_.empty() ? nullptr : &chunks_.back(); }

  Index base_index_ = 0;
  Term base_term_ = 0;
  Index dirty_from_ = 0;
  std::size_t count_ = 0;           // entries held
  std::size_t head_ = 0;            // slot of the first entry in blocks_[0]
  std::uint32_t first_offset_ = 0;  // where the first entry held starts in its chunk
  // Blocks live in page memory too (57 KiB each), hence the deleter.
  struct BlockFree {
    PageMemoryFree pages;
    void operator()(Block* b) const noexcept { pages(reinterpret_cast<std::uint8_t*>(b)); }
  };
  using BlockPtr = std::unique_ptr<Block, BlockFree>;
  std::vector<BlockPtr> blocks_;
  std::vector<BlockPtr> spare_blocks_;
  std::vector<TermRun> runs_;  // ascending; covers every entry held
  std::vector<Chunk> chunks_;
  std::uint16_t first_chunk_ = 0;    // id of chunks_[0]
  std::vector<Chunk> spare_chunks_;  // freed by truncation or compaction, reused
  Chunk* tail_ = nullptr;            // chunks_.back(): where appends go
  std::size_t payload_bytes_ = 0;
  std::uint64_t generation_ = 0;
};

class Log::Reader {
 public:
  // The next entry; the caller keeps within last_index().
  EntryView next() {
    const std::uint32_t end_type = block_->end_type[k_];
    const std::uint16_t chunk_id = block_->chunk[k_];
    if (chunk_id != chunk_id_) {
      chunk_id_ = chunk_id;
      bytes_ = log_->chunk(chunk_id).bytes.get();
      offset_ = 0;
    }
    const std::uint32_t end = end_type & ~kNoopBit;
    EntryView v;
    v.term = log_->term_of(index_);
    v.type = (end_type & kNoopBit) != 0 ? EntryType::kNoop : EntryType::kCommand;
    v.id = block_->id[k_];
    v.data = bytes_ + offset_;
    v.len = end - offset_;
    offset_ = end;
    ++index_;
    if (++k_ == kBlockEntries && index_ <= log_->last_index()) {
      const Slot s = log_->slot(index_);
      block_ = s.block;
      k_ = s.k;
    }
    return v;
  }

 private:
  friend class Log;
  const Log* log_ = nullptr;
  Index index_ = 0;  // of the entry next() returns
  const Block* block_ = nullptr;
  std::size_t k_ = 0;
  std::uint16_t chunk_id_ = 0;
  const std::uint8_t* bytes_ = nullptr;
  std::uint32_t offset_ = 0;  // where entry index_'s payload starts in its chunk
};

inline Log::Reader Log::read_from(Index i) const {
  const Slot s = slot(i);
  Reader r;
  r.log_ = this;
  r.index_ = i;
  r.block_ = s.block;
  r.k_ = s.k;
  r.chunk_id_ = s.block->chunk[s.k];
  r.bytes_ = chunk(r.chunk_id_).bytes.get();
  r.offset_ = offset_of(i, s);
  return r;
}

template <bool kTerms, typename Fn>
void Log::walk(Index from, Index to, Fn&& fn) const {
  std::size_t slot_index = head_ + (from - base_index_ - 1);
  std::size_t block_index = slot_index / kBlockEntries;
  std::size_t k = slot_index % kBlockEntries;
  const Block* block = blocks_[block_index].get();
  std::uint16_t chunk_id = block->chunk[k];
  const std::uint8_t* bytes = chunk(chunk_id).bytes.get();
  std::uint32_t offset = offset_of(from, Slot{block, k});
  std::size_t left = to - from + 1;
  // With kTerms: the run holding `from`, and how many entries until the
  // next run starts (or more than `left` for the newest run).
  std::size_t run = 0;
  std::size_t run_left = 0;
  Term term = 0;
  if constexpr (kTerms) {
    run = run_holding(from);
    term = runs_[run].term;
    run_left = run + 1 < runs_.size() ? runs_[run + 1].first - from : left + 1;
  }
  for (;;) {
    const std::size_t stop = left < kBlockEntries - k ? k + left : kBlockEntries;
    left -= stop - k;
    while (k < stop) {
      if (block->chunk[k] != chunk_id) {
        chunk_id = block->chunk[k];
        bytes = chunk(chunk_id).bytes.get();
        offset = 0;
      }
      // The entries up to `same` share this chunk: found first, so that the
      // loop over them tests nothing but its end and keeps its few values
      // in registers across the calls to fn.  Chunk ids only move forward
      // along the log (by less than 65,536 within a block), so when the
      // block's last entry here is in this chunk, all of them are.
      std::size_t same = stop;
      if (block->chunk[stop - 1] != chunk_id) {
        same = k + 1;
        while (block->chunk[same] == chunk_id) ++same;
      }
      for (; k < same; ++k) {
        if constexpr (kTerms) {
          if (run_left-- == 0) {
            ++run;
            term = runs_[run].term;
            run_left = run + 1 < runs_.size() ? runs_[run + 1].first - runs_[run].first - 1
                                              : ~std::size_t{0};
          }
        }
        const std::uint32_t end_type = block->end_type[k];
        const std::uint32_t end = end_type & ~kNoopBit;
        fn(term, block->id[k], (end_type & kNoopBit) != 0, bytes + offset,
           std::size_t{end - offset});
        offset = end;
      }
    }
    if (left == 0) return;
    block = blocks_[++block_index].get();
    k = 0;
  }
}

}  // namespace raft::core
